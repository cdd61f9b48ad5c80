package dev.brokersim.compat;

import static dev.brokersim.compat.Cluster.DEADLINE;
import static dev.brokersim.compat.Cluster.props;
import static dev.brokersim.compat.Cluster.unique;
import static dev.brokersim.compat.Cluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** kafka-clients' producer and consumer, as a JVM service uses them. */
@ExtendWith(CompatRows.class)
@CompatRows.Client(value = "kafka-clients (Java)", versionOf = AppInfoParser.class)
class ClientsTest {

    static void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(props())) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 3))).all().get();
        }
    }

    static KafkaProducer<String, String> producer(Map<String, Object> extra) {
        Properties p = props();
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("acks", "all");
        p.putAll(extra);
        return new KafkaProducer<>(p);
    }

    static KafkaConsumer<String, String> consumer(String group, Map<String, Object> extra) {
        Properties p = props();
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        if (group != null) {
            p.put("group.id", group);
        }
        p.putAll(extra);
        return new KafkaConsumer<>(p);
    }

    /** Polls `consumer` until `count` records came, at most until the deadline. */
    static List<ConsumerRecord<String, String>> read(KafkaConsumer<String, String> consumer, int count) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        waitUntil(count + " records", () -> {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                out.add(r);
            }
            return out.size() >= count;
        });
        return out;
    }

    static void send(KafkaProducer<String, String> producer, String topic, int from, int to) throws Exception {
        List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
        for (int i = from; i < to; i++) {
            sent.add(producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i)));
        }
        for (var f : sent) {
            f.get();
        }
    }

    @Test
    void idempotent_acks_all_producer_with_every_codec_and_headers_writes_each_record_once() throws Exception {
        for (String codec : List.of("none", "gzip", "snappy", "lz4", "zstd")) {
            String topic = unique("codec-" + codec);
            createTopic(topic, 3);
            try (KafkaProducer<String, String> producer = producer(Map.of(
                    "enable.idempotence", "true", "compression.type", codec, "linger.ms", "5"))) {
                List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
                for (int i = 0; i < 60; i++) {
                    ProducerRecord<String, String> r = new ProducerRecord<>(topic, "key-" + (i % 7), "value-" + i);
                    r.headers().add(new RecordHeader("trace", ("t-" + i).getBytes(StandardCharsets.UTF_8)));
                    sent.add(producer.send(r));
                }
                for (var f : sent) {
                    f.get();
                }
            }
            try (KafkaConsumer<String, String> consumer = consumer(null, Map.of())) {
                List<TopicPartition> parts = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1), new TopicPartition(topic, 2));
                consumer.assign(parts);
                consumer.seekToBeginning(parts);
                List<ConsumerRecord<String, String>> got = read(consumer, 60);
                assertEquals(60, got.size(), codec);
                Set<String> values = new HashSet<>();
                Map<String, Integer> partitionOfKey = new HashMap<>();
                for (ConsumerRecord<String, String> r : got) {
                    values.add(r.value());
                    String trace = new String(r.headers().lastHeader("trace").value(), StandardCharsets.UTF_8);
                    assertEquals("t-" + r.value().substring("value-".length()), trace, codec);
                    Integer before = partitionOfKey.put(r.key(), r.partition());
                    assertTrue(before == null || before == r.partition(), "a key in one partition, " + codec);
                }
                assertEquals(60, values.size(), "each record once, " + codec);
            }
        }
    }

    @Test
    void consumer_group_of_two_splits_partitions_and_reads_each_record_once() throws Exception {
        String topic = unique("group-of-two");
        String group = unique("group");
        createTopic(topic, 4);
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            send(producer, topic, 0, 80);
        }
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        Map<Integer, Set<TopicPartition>> assigned = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> members = new ArrayList<>();
        for (int m = 0; m < 2; m++) {
            int member = m;
            members.add(pool.submit(() -> {
                try (KafkaConsumer<String, String> c = consumer(group, Map.of())) {
                    c.subscribe(List.of(topic));
                    while (!stop.get()) {
                        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                            seen.merge(r.value(), 1, Integer::sum);
                        }
                        assigned.put(member, new HashSet<>(c.assignment()));
                        c.commitSync();
                    }
                }
                return null;
            }));
        }
        waitUntil("both members hold two partitions and every record is read", () ->
                assigned.size() == 2
                        && assigned.values().stream().allMatch(a -> a.size() == 2)
                        && seen.size() == 80);
        stop.set(true);
        for (Future<?> f : members) {
            f.get();
        }
        pool.shutdown();
        assertTrue(seen.values().stream().allMatch(n -> n == 1), "each record once: " + seen);
    }

    @Test
    void cooperative_sticky_group_shares_partitions_when_a_second_member_joins() throws Exception {
        String topic = unique("cooperative");
        String group = unique("group");
        createTopic(topic, 4);
        Map<String, Object> cooperative = Map.of(
                "partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
        try (KafkaConsumer<String, String> first = consumer(group, cooperative);
                KafkaConsumer<String, String> second = consumer(group, cooperative)) {
            first.subscribe(List.of(topic));
            waitUntil("the first member holds every partition", () -> {
                first.poll(Duration.ofMillis(50));
                return first.assignment().size() == 4;
            });
            second.subscribe(List.of(topic));
            waitUntil("the partitions are shared two and two", () -> {
                first.poll(Duration.ofMillis(20));
                second.poll(Duration.ofMillis(20));
                return first.assignment().size() == 2 && second.assignment().size() == 2;
            });
            Set<TopicPartition> union = new HashSet<>(first.assignment());
            union.addAll(second.assignment());
            assertEquals(4, union.size());
        }
    }

    @Test
    void static_member_restarting_within_its_session_gets_its_partitions_back() throws Exception {
        String topic = unique("static");
        String group = unique("group");
        createTopic(topic, 2);
        Map<String, Object> staticMember = Map.of("group.instance.id", "instance-1", "session.timeout.ms", "30000");
        Set<TopicPartition> before;
        try (KafkaConsumer<String, String> c = consumer(group, staticMember)) {
            c.subscribe(List.of(topic));
            waitUntil("assigned", () -> {
                c.poll(Duration.ofMillis(50));
                return c.assignment().size() == 2;
            });
            before = new HashSet<>(c.assignment());
        }
        String generation = Cluster.control("/v1/groups/" + group);
        try (KafkaConsumer<String, String> c = consumer(group, staticMember)) {
            c.subscribe(List.of(topic));
            waitUntil("assigned again", () -> {
                c.poll(Duration.ofMillis(50));
                return c.assignment().size() == 2;
            });
            assertEquals(before, c.assignment());
        }
        assertTrue(generation.contains("instance-1"), "the static member stayed in the group: " + generation);
    }

    @Test
    void committed_offsets_resume_a_new_consumer_of_the_group() throws Exception {
        String topic = unique("resume");
        String group = unique("group");
        createTopic(topic, 1);
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            send(producer, topic, 0, 20);
        }
        try (KafkaConsumer<String, String> c = consumer(group, Map.of("max.poll.records", "5"))) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> got = read(c, 5);
            ConsumerRecord<String, String> last = got.get(4);
            c.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(last.offset() + 1)));
        }
        try (KafkaConsumer<String, String> c = consumer(group, Map.of())) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> got = read(c, 15);
            assertEquals(5, got.get(0).offset(), "resumes after the commit");
            assertEquals("value-5", got.get(0).value());
        }
    }

    @Test
    void seek_pause_and_resume_move_an_assigned_consumer() throws Exception {
        String topic = unique("seek");
        createTopic(topic, 1);
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            send(producer, topic, 0, 10);
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> c = consumer(null, Map.of())) {
            c.assign(List.of(tp));
            c.seek(tp, 7);
            List<ConsumerRecord<String, String>> got = read(c, 3);
            assertEquals(List.of(7L, 8L, 9L), got.stream().map(ConsumerRecord::offset).toList());
            c.seekToBeginning(List.of(tp));
            c.pause(List.of(tp));
            ConsumerRecords<String, String> paused = c.poll(Duration.ofMillis(300));
            assertTrue(paused.isEmpty(), "a paused partition returns nothing");
            c.resume(List.of(tp));
            assertEquals(0, read(c, 1).get(0).offset(), "resumed from the beginning");
        }
    }

    /**
     * KIP-848: two consumers on the new group protocol (group.protocol=consumer) share the
     * partitions by the broker's range assignor, commit with their member epochs, and the
     * AdminClient describes the group with ConsumerGroupDescribe. A third consumer
     * subscribes by pattern (server-side RE2J) and is given a topic created afterwards.
     */
    @Test
    void consumer_protocol_group_shares_partitions_commits_and_is_described() throws Exception {
        String topic = unique("kip848");
        String group = unique("group");
        createTopic(topic, 4);
        Map<String, Object> protocol = Map.of("group.protocol", "consumer", "group.remote.assignor", "range");
        Map<String, Integer> seen = new HashMap<>();
        try (KafkaConsumer<String, String> first = consumer(group, protocol);
                KafkaConsumer<String, String> second = consumer(group, protocol);
                KafkaProducer<String, String> producer = producer(Map.of())) {
            first.subscribe(List.of(topic));
            second.subscribe(List.of(topic));
            waitUntil("the partitions are shared two and two", () -> {
                first.poll(Duration.ofMillis(20));
                second.poll(Duration.ofMillis(20));
                return first.assignment().size() == 2 && second.assignment().size() == 2;
            });
            // Written once the group has settled, so no partition changes hands while
            // its records are read (a revoked partition's uncommitted records would be
            // read again by its next owner: at-least-once).
            send(producer, topic, 0, 40);
            waitUntil("every record read", () -> {
                for (KafkaConsumer<String, String> c : List.of(first, second)) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(20))) {
                        seen.merge(r.value(), 1, Integer::sum);
                    }
                }
                return seen.size() == 40;
            });
            first.commitSync();
            second.commitSync();
            assertTrue(seen.values().stream().allMatch(n -> n == 1), "each record once: " + seen);
            try (Admin admin = Admin.create(props())) {
                var described = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                assertEquals(org.apache.kafka.common.GroupType.CONSUMER, described.type());
                assertEquals(org.apache.kafka.common.GroupState.STABLE, described.groupState());
                assertEquals("range", described.partitionAssignor());
                assertEquals(2, described.members().size());
                var offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                long committed = offsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
                assertEquals(40, committed, "every partition committed at its end: " + offsets);
            }
        }
        String orders = unique("kip848-orders");
        try (KafkaConsumer<String, String> byPattern = consumer(unique("group"), Map.of("group.protocol", "consumer"))) {
            byPattern.subscribe(new org.apache.kafka.clients.consumer.SubscriptionPattern(orders + "-.*"));
            createTopic(orders + "-eu", 2);
            waitUntil("the pattern's new topic is assigned", () -> {
                byPattern.poll(Duration.ofMillis(50));
                return byPattern.assignment().size() == 2;
            });
        }
    }

    /**
     * KIP-848 across clients: a Java consumer and a librdkafka consumer (the crash-consumer
     * binary of client-tests, in its own process) share one group of the new protocol.
     * The librdkafka process commits the first records of its partitions and is killed;
     * once its session ends, the Java consumer owns every partition and reads the dead
     * member's from its commits on.
     */
    @Test
    void java_and_librdkafka_share_a_consumer_protocol_group_and_a_killed_member_is_replaced() throws Exception {
        String topic = unique("kip848-mixed");
        String group = unique("group");
        int commitsBelow = 4;
        createTopic(topic, 4);
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            for (int p = 0; p < 4; p++) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(topic, p, "k", p + "-" + i)).get();
                }
            }
        }
        Process child = new ProcessBuilder(System.getenv("CRASH_CONSUMER"), Cluster.bootstrap(), group, topic,
                "rdkafka-member", "consumer", Integer.toString(commitsBelow))
                .redirectErrorStream(true).start();
        var childOut = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        AtomicBoolean childCommitted = new AtomicBoolean();
        Thread reader = new Thread(() -> {
            try {
                for (String line; (line = childOut.readLine()) != null; ) {
                    if (line.contains("CRASH-CONSUMER-COMMITTED")) {
                        childCommitted.set(true);
                    }
                }
            } catch (java.io.IOException e) {
                // the child died: nothing more to read
            }
        });
        reader.setDaemon(true);
        reader.start();
        Map<TopicPartition, List<Long>> read = new HashMap<>();
        try (KafkaConsumer<String, String> java = consumer(group, Map.of("group.protocol", "consumer"))) {
            java.subscribe(List.of(topic));
            waitUntil("both members hold two partitions, the librdkafka one has committed", () -> {
                for (ConsumerRecord<String, String> r : java.poll(Duration.ofMillis(50))) {
                    read.computeIfAbsent(new TopicPartition(topic, r.partition()), k -> new ArrayList<>()).add(r.offset());
                }
                return java.assignment().size() == 2 && childCommitted.get();
            });
            Set<TopicPartition> mine = new HashSet<>(java.assignment());
            java.commitSync();
            child.destroyForcibly().waitFor();
            // What the Java consumer reads of the dead member's partitions once it owns
            // them. It may have read one of them before, from 0, had it held it before the
            // librdkafka member joined: those earlier reads say nothing about the resume.
            Map<TopicPartition, List<Long>> taken = new HashMap<>();
            waitUntil("the Java consumer owns all four partitions and has read them to the end", () -> {
                for (ConsumerRecord<String, String> r : java.poll(Duration.ofMillis(50))) {
                    TopicPartition tp = new TopicPartition(topic, r.partition());
                    read.computeIfAbsent(tp, k -> new ArrayList<>()).add(r.offset());
                    if (!mine.contains(tp)) {
                        taken.computeIfAbsent(tp, k -> new ArrayList<>()).add(r.offset());
                    }
                }
                return java.assignment().size() == 4
                        && mine.stream().allMatch(tp -> read.containsKey(tp) && read.get(tp).get(read.get(tp).size() - 1) == 9)
                        && taken.size() == 4 - mine.size()
                        && taken.values().stream().allMatch(offsets -> offsets.get(offsets.size() - 1) == 9);
            });
            // The dead member's partitions resume at its commits. The Java consumer's own
            // start at 0, or at the librdkafka member's commits if it held them first.
            for (var e : taken.entrySet()) {
                assertEquals((long) commitsBelow, e.getValue().get(0).longValue(), e.getKey() + " resumed at its commit");
            }
            for (TopicPartition tp : mine) {
                long first = read.get(tp).get(0);
                assertTrue(first == commitsBelow || first == 0, tp + " first read at " + first);
            }
        } finally {
            child.destroyForcibly();
        }
    }

    /**
     * KIP-848 online upgrade: a classic Java consumer holds every partition of a group when
     * a consumer of the new protocol joins; the group becomes a consumer group with both
     * in it and the partitions are shared. When the new one leaves, the group is classic
     * again and the classic consumer takes everything back.
     */
    @Test
    void live_classic_group_is_upgraded_to_a_consumer_group_and_back() throws Exception {
        String topic = unique("kip848-upgrade");
        String group = unique("group");
        createTopic(topic, 4);
        try (KafkaConsumer<String, String> classic = consumer(group, Map.of())) {
            classic.subscribe(List.of(topic));
            waitUntil("the classic consumer holds every partition", () -> {
                classic.poll(Duration.ofMillis(50));
                return classic.assignment().size() == 4;
            });
            try (KafkaConsumer<String, String> modern = consumer(group, Map.of("group.protocol", "consumer"))) {
                modern.subscribe(List.of(topic));
                waitUntil("the partitions are shared two and two", () -> {
                    classic.poll(Duration.ofMillis(20));
                    modern.poll(Duration.ofMillis(20));
                    return classic.assignment().size() == 2 && modern.assignment().size() == 2;
                });
                try (Admin admin = Admin.create(props())) {
                    var described = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                    assertEquals(org.apache.kafka.common.GroupType.CONSUMER, described.type());
                    assertEquals(2, described.members().size());
                }
            }
            waitUntil("the classic consumer holds every partition again", () -> {
                classic.poll(Duration.ofMillis(50));
                return classic.assignment().size() == 4;
            });
            try (Admin admin = Admin.create(props())) {
                var described = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                assertEquals(org.apache.kafka.common.GroupType.CLASSIC, described.type());
            }
        }
    }

    /** KIP-714: subscribed, a Java producer pushes its own metrics, which broker-sim shows. */
    @Test
    void producer_pushes_its_metrics_when_subscribed() throws Exception {
        String client = unique("telemetry-producer");
        String subscription = unique("java-telemetry");
        Cluster.controlPost("/v1/telemetry/subscriptions", "{\"name\": \"" + subscription
                + "\", \"metrics\": [\"org.apache.kafka.producer.\"], \"interval_ms\": 500}");
        try (KafkaProducer<String, String> producer = producer(Map.of("client.id", client))) {
            String topic = unique("telemetry-topic");
            createTopic(topic, 1);
            producer.send(new ProducerRecord<>(topic, "k", "v")).get();
            Cluster.waitUntil("the producer pushes org.apache.kafka.producer. metrics", () -> {
                String telemetry = Cluster.control("/v1/telemetry");
                int at = telemetry.indexOf("\"client_id\":\"" + client + "\"");
                return at >= 0 && telemetry.indexOf("\"name\":\"org.apache.kafka.producer.", at) >= 0;
            });
        } finally {
            Cluster.controlDelete("/v1/telemetry/subscriptions/" + subscription);
        }
    }
}
