package dev.brokersim.fidelity;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One script of ordinary client calls (admin, idempotent producer, consumer by assignment
 * and in a group, offsets, errors), printing one line per thing the client observes.
 * Run against a one-broker cluster: `Observe BOOTSTRAP PREFIX`. The lines hold no ids,
 * ports or times, so the same script against Apache Kafka and broker-sim must print the
 * same lines; every name starts with PREFIX.
 */
public final class Observe {
    private static final long TIMESTAMP = 1_700_000_000_000L;
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String prefix = args[1];
        Properties base = new Properties();
        base.put("bootstrap.servers", bootstrap);
        String orders = prefix + "orders";
        String group = prefix + "group";
        try (Admin admin = Admin.create(base)) {
            admin.createTopics(List.of(new NewTopic(orders, 3, (short) 1).configs(Map.of("retention.ms", "86400000")))).all().get();
            see("create topic", "ok");
            see("create topic again", error(() -> admin.createTopics(List.of(new NewTopic(orders, 3, (short) 1))).all().get()));
            see("create topic with a bad name", error(() -> admin.createTopics(List.of(new NewTopic(prefix + "bad name", 1, (short) 1))).all().get()));
            see("create topic with too many replicas", error(() -> admin.createTopics(List.of(new NewTopic(prefix + "rf", 1, (short) 3))).all().get()));
            waitFor("leaders of " + orders, () -> admin.describeTopics(List.of(orders)).allTopicNames().get().get(orders)
                    .partitions().stream().allMatch(p -> p.leader() != null && p.leader().id() >= 0));
            TopicDescription d = admin.describeTopics(List.of(orders)).allTopicNames().get().get(orders);
            see("describe topic", "internal=" + d.isInternal() + " partitions=" + d.partitions().stream()
                    .map(p -> p.partition() + ":leader=" + p.leader().id() + ",replicas=" + p.replicas().size() + ",isr=" + p.isr().size())
                    .collect(Collectors.joining(" ")));
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, orders);
            Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            for (String name : List.of("retention.ms", "cleanup.policy", "min.insync.replicas", "max.message.bytes", "compression.type", "message.timestamp.type")) {
                var e = config.get(name);
                see("config " + name, e.value() + " source=" + e.source() + " readOnly=" + e.isReadOnly() + " sensitive=" + e.isSensitive());
            }
            see("describe cluster", "nodes=" + admin.describeCluster().nodes().get().size()
                    + " controller=" + admin.describeCluster().controller().get().id());

            Properties pp = new Properties();
            pp.putAll(base);
            pp.put("key.serializer", StringSerializer.class.getName());
            pp.put("value.serializer", StringSerializer.class.getName());
            pp.put("enable.idempotence", "true");
            pp.put("acks", "all");
            pp.put("compression.type", "lz4");
            // How long a send to a partition the topic lacks waits for metadata to name it.
            pp.put("max.block.ms", "2000");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
                List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    ProducerRecord<String, String> r = new ProducerRecord<>(orders, null, TIMESTAMP + i, "order-" + (i % 6), "v" + i);
                    r.headers().add(new RecordHeader("n", Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
                    sent.add(producer.send(r));
                }
                for (int i = 0; i < sent.size(); i++) {
                    RecordMetadata m = sent.get(i).get();
                    see("produce v" + i, "partition=" + m.partition() + " offset=" + m.offset() + " timestamp=" + m.timestamp());
                }
                see("produce to an unknown partition", error(() ->
                        producer.send(new ProducerRecord<>(orders, 7, "k", "v")).get()));
            }

            Properties cp = new Properties();
            cp.putAll(base);
            cp.put("key.deserializer", StringDeserializer.class.getName());
            cp.put("value.deserializer", StringDeserializer.class.getName());
            cp.put("auto.offset.reset", "earliest");
            cp.put("enable.auto.commit", "false");
            List<TopicPartition> parts = List.of(new TopicPartition(orders, 0), new TopicPartition(orders, 1), new TopicPartition(orders, 2));
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
                consumer.assign(parts);
                consumer.seekToBeginning(parts);
                for (ConsumerRecord<String, String> r : sorted(read(consumer, 24))) {
                    see("consume " + r.partition() + "/" + r.offset(), r.key() + "=" + r.value() + " ts=" + r.timestamp()
                            + " " + r.timestampType() + " n=" + new String(r.headers().lastHeader("n").value(), StandardCharsets.UTF_8)
                            + " leaderEpoch=" + r.leaderEpoch().orElse(-1));
                }
                see("beginning offsets", byName(consumer.beginningOffsets(parts)));
                see("end offsets", byName(consumer.endOffsets(parts)));
                var byTime = consumer.offsetsForTimes(Map.of(parts.get(0), TIMESTAMP + 12, parts.get(1), TIMESTAMP + 99));
                see("offsets for times", new TreeMap<>(byTime.entrySet().stream().collect(Collectors.toMap(
                        e -> e.getKey().toString(), e -> String.valueOf(e.getValue())))).toString());
            }

            cp.put("group.id", group);
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
                consumer.subscribe(List.of(orders));
                see("group consumed", Integer.toString(read(consumer, 24).size()));
                see("group assignment", consumer.assignment().stream().map(TopicPartition::toString).sorted().toList().toString());
                consumer.commitSync();
                see("committed", new TreeMap<>(consumer.committed(new java.util.HashSet<>(parts)).entrySet().stream().collect(Collectors.toMap(
                        e -> e.getKey().toString(), e -> e.getValue().offset() + "/" + e.getValue().metadata()))).toString());
                ConsumerGroupDescription g = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                see("describe group", "state=" + g.groupState() + " assignor=" + g.partitionAssignor() + " members=" + g.members().size()
                        + " simple=" + g.isSimpleConsumerGroup() + " type=" + g.type());
            }
            ConsumerGroupDescription g = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
            see("describe group after close", "state=" + g.groupState() + " members=" + g.members().size());
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            see("group offsets", new TreeMap<>(offsets.entrySet().stream().collect(Collectors.toMap(
                    e -> e.getKey().toString(), e -> Long.toString(e.getValue().offset())))).toString());
            see("delete records beyond the end", error(() -> admin.deleteRecords(Map.of(parts.get(0), RecordsToDelete.beforeOffset(999))).all().get()));
            admin.deleteRecords(Map.of(parts.get(0), RecordsToDelete.beforeOffset(2))).all().get();
            see("earliest after delete", Long.toString(admin.listOffsets(Map.of(parts.get(0), OffsetSpec.earliest())).all().get().get(parts.get(0)).offset()));
            see("max timestamp", admin.listOffsets(Map.of(parts.get(1), OffsetSpec.maxTimestamp())).all().get().get(parts.get(1)).toString()
                    .replaceAll("leaderEpoch=Optional\\[\\d+\\]", "leaderEpoch=<epoch>"));
            see("shrink partitions", error(() -> admin.createPartitions(Map.of(orders, NewPartitions.increaseTo(2))).all().get()));
            admin.createPartitions(Map.of(orders, NewPartitions.increaseTo(5))).all().get();
            see("grow partitions", Integer.toString(admin.describeTopics(List.of(orders)).allTopicNames().get().get(orders).partitions().size()));
            try (KafkaConsumer<String, String> member = new KafkaConsumer<>(cp)) {
                member.subscribe(List.of(orders));
                waitFor("a member with partitions", () -> {
                    member.poll(Duration.ofMillis(50));
                    return !member.assignment().isEmpty();
                });
                see("delete a group with a member", error(() -> admin.deleteConsumerGroups(List.of(group)).all().get()));
            }
            admin.deleteConsumerGroups(List.of(group)).all().get();
            see("delete group", "ok");
            admin.deleteTopics(List.of(orders)).all().get();
            see("delete topic", "ok");
            see("delete it again", error(() -> admin.deleteTopics(List.of(orders)).all().get()));
        }
    }

    /** A map keyed by partition, in partition order. */
    private static String byName(Map<TopicPartition, ?> map) {
        return new TreeMap<>(map.entrySet().stream().collect(Collectors.toMap(
                e -> e.getKey().toString(), e -> String.valueOf(e.getValue())))).toString();
    }

    private static void see(String what, String observed) {
        System.out.println(what + ": " + observed);
    }

    interface Call {
        Object call() throws Exception;
    }

    /** The exception a call ends in, as the client reports it: its class and message. */
    private static String error(Call call) {
        try {
            call.call();
            return "no error";
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            return c.getClass().getSimpleName() + ": " + c.getMessage();
        } catch (Exception e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static List<ConsumerRecord<String, String>> read(KafkaConsumer<String, String> consumer, int count) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        Instant end = Instant.now().plus(DEADLINE);
        while (out.size() < count) {
            if (Instant.now().isAfter(end)) {
                throw new AssertionError("read " + out.size() + " of " + count + " records");
            }
            consumer.poll(Duration.ofMillis(100)).forEach(out::add);
        }
        return out;
    }

    private static List<ConsumerRecord<String, String>> sorted(List<ConsumerRecord<String, String>> records) {
        records.sort(Comparator.comparingInt((ConsumerRecord<String, String> r) -> r.partition()).thenComparingLong(ConsumerRecord::offset));
        return records;
    }

    interface Check {
        boolean holds() throws Exception;
    }

    private static void waitFor(String what, Check check) throws Exception {
        Instant end = Instant.now().plus(DEADLINE);
        while (!check.holds()) {
            if (Instant.now().isAfter(end)) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
