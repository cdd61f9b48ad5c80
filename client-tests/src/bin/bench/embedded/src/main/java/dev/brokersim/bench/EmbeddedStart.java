package dev.brokersim.bench;

import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * Starts spring-kafka-test's embedded KRaft cluster (3 brokers, topic "bench" with 6
 * partitions: what {@code @EmbeddedKafka} gives a test) N times in this JVM and prints
 * {@code START_MS=…} for each start, from the constructor to a cluster that serves.
 */
public final class EmbeddedStart {
    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        for (int i = 0; i < runs; i++) {
            long began = System.nanoTime();
            EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(3, 6, "bench");
            broker.afterPropertiesSet();
            System.out.println("START_MS=" + (System.nanoTime() - began) / 1e6);
            broker.destroy();
        }
    }
}
