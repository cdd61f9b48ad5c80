package dev.brokersim.compat;

import static dev.brokersim.compat.Cluster.unique;
import static dev.brokersim.compat.ClientsTest.consumer;
import static dev.brokersim.compat.ClientsTest.createTopic;
import static dev.brokersim.compat.ClientsTest.producer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * kafka-clients' transactional producer on transaction version 2 (KIP-890: broker-sim
 * finalizes transaction.version 2, as Kafka 4.1 does, so the client bumps its epoch per
 * transaction and lets the broker add partitions): commit and abort as read_committed and
 * read_uncommitted consumers see them, consume-transform-produce with
 * sendOffsetsToTransaction, and a zombie fenced by a new instance.
 */
@ExtendWith(CompatRows.class)
@CompatRows.Client(value = "kafka-clients (Java)", versionOf = AppInfoParser.class)
class TransactionsTest {

    static KafkaProducer<String, String> transactional(String id) {
        KafkaProducer<String, String> p = producer(Map.of("transactional.id", id, "transaction.timeout.ms", "60000"));
        p.initTransactions();
        return p;
    }

    static KafkaConsumer<String, String> reader(String topic, String isolation) {
        KafkaConsumer<String, String> c = consumer(null, Map.of("isolation.level", isolation));
        List<TopicPartition> partitions = new ArrayList<>();
        for (var info : c.partitionsFor(topic)) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        c.assign(partitions);
        c.seekToBeginning(partitions);
        return c;
    }

    /** Values read until `last` is seen, in partition order (one partition). */
    static List<String> readUntil(KafkaConsumer<String, String> c, String last) {
        List<String> out = new ArrayList<>();
        Cluster.waitUntil("the record " + last, () -> {
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                out.add(r.value());
            }
            return out.contains(last);
        });
        return out;
    }

    @Test
    void transactional_producer_commits_and_aborts_for_read_committed_consumers() throws Exception {
        String topic = unique("txn");
        createTopic(topic, 1);
        try (KafkaProducer<String, String> p = transactional(unique("txn-id"))) {
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "k", "aborted-1"));
            p.send(new ProducerRecord<>(topic, "k", "aborted-2"));
            p.flush();
            p.abortTransaction();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "k", "committed"));
            p.commitTransaction();
        }
        try (KafkaConsumer<String, String> committed = reader(topic, "read_committed");
                KafkaConsumer<String, String> uncommitted = reader(topic, "read_uncommitted")) {
            assertEquals(List.of("committed"), readUntil(committed, "committed"));
            assertEquals(List.of("aborted-1", "aborted-2", "committed"), readUntil(uncommitted, "committed"));
        }
    }

    @Test
    void consume_transform_produce_commits_offsets_only_with_the_transaction() throws Exception {
        String in = unique("ctp-in");
        String out = unique("ctp-out");
        String group = unique("ctp-group");
        createTopic(in, 1);
        createTopic(out, 1);
        try (KafkaProducer<String, String> plain = producer(Map.of())) {
            for (int i = 0; i < 4; i++) {
                plain.send(new ProducerRecord<>(in, "k" + i, "v" + i)).get();
            }
        }
        TopicPartition tp = new TopicPartition(in, 0);
        try (KafkaConsumer<String, String> c = consumer(group, Map.of("isolation.level", "read_committed"));
                KafkaProducer<String, String> p = transactional(unique("ctp-id"))) {
            c.subscribe(List.of(in));
            List<ConsumerRecord<String, String>> batch = ClientsTest.read(c, 4);
            p.beginTransaction();
            for (ConsumerRecord<String, String> r : batch) {
                p.send(new ProducerRecord<>(out, r.key(), r.value().toUpperCase()));
            }
            p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(2)), c.groupMetadata());
            p.abortTransaction();
            try (Admin admin = Admin.create(Cluster.props())) {
                var offsets = admin.listConsumerGroupOffsets(group, new ListConsumerGroupOffsetsOptions().requireStable(true))
                        .partitionsToOffsetAndMetadata().get();
                assertTrue(offsets.get(tp) == null, "aborted offsets are not committed: " + offsets);
            }
            p.beginTransaction();
            for (ConsumerRecord<String, String> r : batch) {
                p.send(new ProducerRecord<>(out, r.key(), r.value().toUpperCase()));
            }
            p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(4)), c.groupMetadata());
            p.commitTransaction();
            try (Admin admin = Admin.create(Cluster.props())) {
                var offsets = admin.listConsumerGroupOffsets(group, new ListConsumerGroupOffsetsOptions().requireStable(true))
                        .partitionsToOffsetAndMetadata().get();
                assertEquals(4L, offsets.get(tp).offset());
            }
        }
        try (KafkaConsumer<String, String> committed = reader(out, "read_committed")) {
            assertEquals(List.of("V0", "V1", "V2", "V3"), readUntil(committed, "V3"));
        }
    }

    @Test
    void a_second_instance_with_the_same_transactional_id_fences_the_first() throws Exception {
        String topic = unique("zombie");
        String id = unique("zombie-id");
        createTopic(topic, 1);
        try (KafkaProducer<String, String> zombie = transactional(id)) {
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>(topic, "k", "from-the-zombie")).get();
            try (KafkaProducer<String, String> successor = transactional(id)) {
                successor.beginTransaction();
                successor.send(new ProducerRecord<>(topic, "k", "from-the-successor"));
                successor.commitTransaction();
            }
            KafkaException e = assertThrows(KafkaException.class, zombie::commitTransaction);
            assertTrue(e instanceof ProducerFencedException || e instanceof InvalidProducerEpochException
                            || e.getCause() instanceof ProducerFencedException,
                    "fenced, not " + e);
        }
        try (KafkaConsumer<String, String> committed = reader(topic, "read_committed")) {
            assertEquals(List.of("from-the-successor"), readUntil(committed, "from-the-successor"));
        }
    }
}
