package dev.brokersim.compat;

import static dev.brokersim.compat.Cluster.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A Kafka Streams topology with a repartition (group by value) and a state store (a
 * count), at least once: its internal topics, group and changelog all on broker-sim.
 */
@ExtendWith(CompatRows.class)
@CompatRows.Client(value = "kafka-streams", versionOf = AppInfoParser.class)
class StreamsTest {

    @Test
    void streams_counts_by_a_repartitioned_key_into_a_state_store() throws Exception {
        String input = unique("streams-in");
        String output = unique("streams-out");
        ClientsTest.createTopic(input, 2);
        ClientsTest.createTopic(output, 1);
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .groupBy((key, value) -> value, Grouped.with(Serdes.String(), Serdes.String()))
                .count(Materialized.as("counts"))
                .toStream()
                .to(output, Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = Cluster.props();
        p.put("application.id", unique("streams-app"));
        p.put("state.dir", Files.createTempDirectory("streams").toString());
        p.put("commit.interval.ms", "100");
        p.put("statestore.cache.max.bytes", "0");
        try (KafkaStreams streams = new KafkaStreams(builder.build(), p)) {
            streams.start();
            Cluster.waitUntil("the topology runs", () -> streams.state() == KafkaStreams.State.RUNNING);
            try (KafkaProducer<String, String> producer = ClientsTest.producer(Map.of())) {
                int i = 0;
                for (String colour : List.of("red", "blue", "red", "green", "red", "blue")) {
                    producer.send(new ProducerRecord<>(input, "k" + i++, colour)).get();
                }
            }
            Map<String, Long> latest = new HashMap<>();
            Properties cp = Cluster.props();
            cp.put("key.deserializer", StringDeserializer.class.getName());
            cp.put("value.deserializer", LongDeserializer.class.getName());
            cp.put("auto.offset.reset", "earliest");
            cp.put("group.id", unique("streams-reader"));
            try (KafkaConsumer<String, Long> reader = new KafkaConsumer<>(cp)) {
                reader.subscribe(List.of(output));
                Cluster.waitUntil("the counts reach red 3, blue 2, green 1", () -> {
                    for (ConsumerRecord<String, Long> r : reader.poll(Duration.ofMillis(100))) {
                        latest.put(r.key(), r.value());
                    }
                    return Map.of("red", 3L, "blue", 2L, "green", 1L).equals(latest);
                });
            }
            ReadOnlyKeyValueStore<String, Long> store = streams.store(
                    StoreQueryParameters.fromNameAndType("counts", QueryableStoreTypes.keyValueStore()));
            assertEquals(3L, store.get("red"));
        }
    }

    /**
     * The count's changelog is a compacted topic: compacted on demand, it still restores
     * the same table into an instance with an empty state directory.
     */
    @Test
    void streams_restores_the_same_table_from_its_compacted_changelog() throws Exception {
        String input = unique("streams-table-in");
        ClientsTest.createTopic(input, 1);
        String app = unique("streams-table-app");
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .groupBy((key, value) -> value, Grouped.with(Serdes.String(), Serdes.String()))
                .count(Materialized.as("counts"));
        var topology = builder.build();
        Map<String, Long> expected = Map.of("red", 3L, "blue", 2L, "green", 1L);
        try (KafkaStreams first = new KafkaStreams(topology, streamsProps(app))) {
            first.start();
            Cluster.waitUntil("the topology runs", () -> first.state() == KafkaStreams.State.RUNNING);
            try (KafkaProducer<String, String> producer = ClientsTest.producer(Map.of())) {
                int i = 0;
                for (String colour : List.of("red", "blue", "red", "green", "red", "blue")) {
                    producer.send(new ProducerRecord<>(input, "k" + i++, colour)).get();
                }
            }
            Cluster.waitUntil("the table counts red 3, blue 2, green 1", () -> expected.equals(counts(first)));
        }
        String changelog = app + "-counts-changelog";
        String described = Cluster.control("/v1/topics/" + changelog);
        org.junit.jupiter.api.Assertions.assertTrue(described.contains("\"cleanup.policy\":\"compact\""), described);
        String compacted = Cluster.controlPost("/v1/topics/" + changelog + "/compact", "{}");
        org.junit.jupiter.api.Assertions.assertTrue(compacted.contains("\"records_removed\":3"), compacted);

        try (KafkaStreams second = new KafkaStreams(topology, streamsProps(app))) {
            second.start();
            Cluster.waitUntil("the restored table counts red 3, blue 2, green 1", () ->
                    second.state() == KafkaStreams.State.RUNNING && expected.equals(counts(second)));
        }
    }

    /** An instance of `app` with a state directory of its own, so it restores from Kafka. */
    private static Properties streamsProps(String app) throws java.io.IOException {
        Properties p = Cluster.props();
        p.put("application.id", app);
        p.put("state.dir", Files.createTempDirectory("streams").toString());
        p.put("commit.interval.ms", "100");
        p.put("statestore.cache.max.bytes", "0");
        return p;
    }

    /** The "counts" store's contents, or an empty map while it cannot be queried. */
    private static Map<String, Long> counts(KafkaStreams streams) {
        Map<String, Long> out = new HashMap<>();
        try {
            ReadOnlyKeyValueStore<String, Long> store = streams.store(
                    StoreQueryParameters.fromNameAndType("counts", QueryableStoreTypes.keyValueStore()));
            try (var all = store.all()) {
                all.forEachRemaining(kv -> out.put(kv.key, kv.value));
            }
        } catch (org.apache.kafka.streams.errors.InvalidStateStoreException e) {
            // Rebalancing or restoring: not queryable yet.
        }
        return out;
    }
}
