package dev.brokersim.compat;

import static dev.brokersim.compat.Cluster.DEADLINE;
import static dev.brokersim.compat.Cluster.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * kafka-clients over the binary's SASL_PLAINTEXT and SSL listeners (run.sh starts them and
 * exports their bootstrap lists): each SASL mechanism logs in and writes and reads back, a
 * wrong password is a SaslAuthenticationException as against Kafka, and an SSL client
 * trusting the CA the cluster generated (PEM, fetched from the control API) writes and reads.
 */
@ExtendWith(CompatRows.class)
@CompatRows.Client(value = "kafka-clients (Java)", versionOf = AppInfoParser.class)
class SecurityTest {
    private static String env(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException(name + " is not set: run client-tests/java/run.sh");
        }
        return value;
    }

    private static Properties sasl(String mechanism, String password) {
        Properties p = new Properties();
        p.put("bootstrap.servers", env("BROKER_SIM_SASL_BOOTSTRAP"));
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", mechanism);
        String module = switch (mechanism) {
            case "PLAIN" -> "org.apache.kafka.common.security.plain.PlainLoginModule required"
                    + " username=\"alice\" password=\"" + password + "\";";
            case "OAUTHBEARER" -> "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required"
                    + " unsecuredLoginStringClaim_sub=\"alice\";";
            default -> "org.apache.kafka.common.security.scram.ScramLoginModule required"
                    + " username=\"alice\" password=\"" + password + "\";";
        };
        p.put("sasl.jaas.config", module);
        return p;
    }

    private static Properties ssl() {
        Properties p = new Properties();
        p.put("bootstrap.servers", env("BROKER_SIM_SSL_BOOTSTRAP"));
        p.put("security.protocol", "SSL");
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.certificates", Cluster.control("/v1/tls/ca.pem"));
        return p;
    }

    /** Creates a topic, writes one record and reads it back, all over `security`. */
    private static void roundTrip(Properties security, String what) throws Exception {
        String topic = unique(what);
        try (Admin admin = Admin.create(security)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get();
        }
        Properties producerProps = (Properties) security.clone();
        producerProps.putAll(Map.of("key.serializer", StringSerializer.class.getName(),
                "value.serializer", StringSerializer.class.getName()));
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps)) {
            producer.send(new ProducerRecord<>(topic, "k", what)).get();
        }
        Properties consumerProps = (Properties) security.clone();
        consumerProps.putAll(Map.of("key.deserializer", StringDeserializer.class.getName(),
                "value.deserializer", StringDeserializer.class.getName(), "auto.offset.reset", "earliest"));
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps)) {
            TopicPartition p0 = new TopicPartition(topic, 0);
            consumer.assign(List.of(p0));
            consumer.seekToBeginning(List.of(p0));
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (System.nanoTime() < deadline) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
                if (!records.isEmpty()) {
                    assertEquals(what, records.iterator().next().value());
                    return;
                }
            }
            throw new AssertionError(what + ": nothing read back");
        }
    }

    @Test
    void each_sasl_mechanism_logs_in_and_writes_and_reads() throws Exception {
        for (String mechanism : List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")) {
            roundTrip(sasl(mechanism, "alice-secret"), "sasl-" + mechanism.toLowerCase());
        }
    }

    @Test
    void a_wrong_password_is_a_sasl_authentication_exception() {
        for (String mechanism : List.of("PLAIN", "SCRAM-SHA-512")) {
            Properties props = sasl(mechanism, "wrong");
            try (Admin admin = Admin.create(props)) {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> admin.listTopics().names().get());
                assertTrue(e.getCause() instanceof SaslAuthenticationException, mechanism + ": " + e.getCause());
            }
        }
    }

    @Test
    void an_ssl_client_trusting_the_generated_ca_writes_and_reads() throws Exception {
        roundTrip(ssl(), "ssl");
    }
}
