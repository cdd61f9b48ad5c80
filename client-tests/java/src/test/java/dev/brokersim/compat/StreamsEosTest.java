package dev.brokersim.compat;

import static dev.brokersim.compat.Cluster.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Kafka Streams with processing.guarantee=exactly_once_v2 (transactions, read_committed,
 * offsets committed in the transaction): the application is killed with SIGKILL in the
 * middle of its work and started again, and the output, read read_committed, holds every
 * count update exactly once — for each key 1, 2, … n, no repeat and no gap.
 */
@ExtendWith(CompatRows.class)
@CompatRows.Client(value = "kafka-streams", versionOf = AppInfoParser.class)
class StreamsEosTest {
    private static final int KEYS = 8;
    private static final int PER_KEY = 40;

    @Test
    void exactly_once_v2_survives_a_sigkill_mid_transaction() throws Exception {
        String input = unique("eos-in");
        String output = unique("eos-out");
        String app = unique("eos-app");
        ClientsTest.createTopic(input, 2);
        ClientsTest.createTopic(output, 2);
        try (KafkaProducer<String, String> producer = ClientsTest.producer(Map.of())) {
            for (int i = 0; i < KEYS * PER_KEY; i++) {
                producer.send(new ProducerRecord<>(input, "key-" + (i % KEYS), "v" + i));
            }
            producer.flush();
        }
        String stateDir = Files.createTempDirectory("eos").toString();
        Properties cp = Cluster.props();
        cp.put("key.deserializer", StringDeserializer.class.getName());
        cp.put("value.deserializer", LongDeserializer.class.getName());
        cp.put("isolation.level", "read_uncommitted");
        try (KafkaConsumer<String, Long> progress = new KafkaConsumer<>(cp)) {
            List<TopicPartition> partitions = List.of(new TopicPartition(output, 0), new TopicPartition(output, 1));
            progress.assign(partitions);
            progress.seekToBeginning(partitions);
            Process first = start(app, input, output, stateDir);
            // Killed once some output exists but the work is far from done: a transaction
            // is open (every 100 ms one commits, and each record takes 5 ms).
            int[] seen = {0};
            Cluster.waitUntil("the first instance writes output", () -> {
                seen[0] += progress.poll(Duration.ofMillis(100)).count();
                return seen[0] >= KEYS * PER_KEY / 4;
            });
            first.destroyForcibly().waitFor();
        }
        Process second = start(app, input, output, stateDir);
        try {
            Map<String, List<Long>> counts = readCommitted(output);
            for (int k = 0; k < KEYS; k++) {
                List<Long> expected = new ArrayList<>();
                for (long n = 1; n <= PER_KEY; n++) {
                    expected.add(n);
                }
                assertEquals(expected, counts.get("key-" + k), "the updates of key-" + k);
            }
        } finally {
            second.destroyForcibly().waitFor();
        }
    }

    /** Every count update of the output, read_committed, once each key reached PER_KEY. */
    private static Map<String, List<Long>> readCommitted(String output) {
        Properties cp = Cluster.props();
        cp.put("key.deserializer", StringDeserializer.class.getName());
        cp.put("value.deserializer", LongDeserializer.class.getName());
        cp.put("isolation.level", "read_committed");
        Map<String, List<Long>> counts = new HashMap<>();
        try (KafkaConsumer<String, Long> reader = new KafkaConsumer<>(cp)) {
            List<TopicPartition> partitions = List.of(new TopicPartition(output, 0), new TopicPartition(output, 1));
            reader.assign(partitions);
            reader.seekToBeginning(partitions);
            Cluster.waitUntil("every key counted to " + PER_KEY, () -> {
                for (ConsumerRecord<String, Long> r : reader.poll(Duration.ofMillis(100))) {
                    counts.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
                }
                return counts.size() == KEYS
                        && counts.values().stream().allMatch(l -> l.get(l.size() - 1) >= PER_KEY);
            });
        }
        return counts;
    }

    /** The application in a child JVM, once it says it runs. */
    private static Process start(String app, String input, String output, String stateDir) throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                        EosApp.class.getName(), Cluster.bootstrap(), app, input, output, stateDir)
                .redirectErrorStream(true)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        AtomicBoolean running = new AtomicBoolean();
        Thread pump = new Thread(() -> {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.equals("RUNNING")) {
                        running.set(true);
                    } else {
                        System.err.println("[eos-app] " + line);
                    }
                }
            } catch (java.io.IOException e) {
                // The process died.
            }
        });
        pump.setDaemon(true);
        pump.start();
        Cluster.waitUntil("the Streams application runs", () -> running.get() || !p.isAlive());
        if (!p.isAlive()) {
            throw new AssertionError("the Streams application exited with " + p.exitValue());
        }
        return p;
    }
}
