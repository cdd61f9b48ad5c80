package dev.brokersim.compat;

import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The Kafka Streams application StreamsEosTest runs as a child JVM, to kill it with
 * SIGKILL: counts records by key with exactly_once_v2 and writes every count update.
 * Arguments: bootstrap, application id, input, output, state dir. Each record costs it a
 * few milliseconds of "work", so a run lasts long enough to be killed in the middle.
 * Prints RUNNING once the topology runs.
 */
public final class EosApp {
    private EosApp() {}

    public static void main(String[] args) throws Exception {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(args[2], Consumed.with(Serdes.String(), Serdes.String()))
                .peek((k, v) -> work())
                .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                .count(Materialized.as("counts"))
                .toStream()
                .to(args[3], Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        p.put("application.id", args[1]);
        p.put("state.dir", args[4]);
        p.put("processing.guarantee", "exactly_once_v2");
        p.put("commit.interval.ms", "100");
        p.put("statestore.cache.max.bytes", "0");
        // A restarted instance takes its predecessor's place at once (static membership).
        p.put("group.instance.id", args[1] + "-instance");
        p.put("session.timeout.ms", "30000");
        KafkaStreams streams = new KafkaStreams(builder.build(), p);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) {
                System.out.println("RUNNING");
                System.out.flush();
            }
        });
        streams.start();
        Thread.currentThread().join();
    }

    private static void work() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
