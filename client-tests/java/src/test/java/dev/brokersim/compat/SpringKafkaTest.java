package dev.brokersim.compat;

import static dev.brokersim.compat.Cluster.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.MessageListenerContainer;

/**
 * A Spring Kafka application as a service has it (@EnableKafka, a @KafkaListener bean, a
 * KafkaTemplate), tested against broker-sim where tests would otherwise use
 * {@code @EmbeddedKafka}.
 */
@ExtendWith(CompatRows.class)
@CompatRows.Client(value = "spring-kafka", versionOf = KafkaTemplate.class)
class SpringKafkaTest {

    /** The application's listener: stores what it receives. */
    static class OrderListener {
        final List<String> received = new CopyOnWriteArrayList<>();

        @KafkaListener(topics = "${orders.topic}", groupId = "${orders.group}")
        void onOrder(ConsumerRecord<String, String> record) {
            received.add(record.key() + "=" + record.value());
        }
    }

    @Configuration
    @EnableKafka
    static class App {
        @Bean
        ConcurrentKafkaListenerContainerFactory<String, String> kafkaListenerContainerFactory() {
            ConcurrentKafkaListenerContainerFactory<String, String> factory = new ConcurrentKafkaListenerContainerFactory<>();
            factory.setConsumerFactory(new DefaultKafkaConsumerFactory<>(Map.of(
                    "bootstrap.servers", Cluster.bootstrap(),
                    "auto.offset.reset", "earliest",
                    "key.deserializer", StringDeserializer.class,
                    "value.deserializer", StringDeserializer.class)));
            factory.setConcurrency(2);
            return factory;
        }

        @Bean
        KafkaTemplate<String, String> kafkaTemplate() {
            return new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(Map.of(
                    "bootstrap.servers", Cluster.bootstrap(),
                    "key.serializer", StringSerializer.class,
                    "value.serializer", StringSerializer.class)));
        }

        @Bean
        OrderListener orderListener() {
            return new OrderListener();
        }
    }

    @Test
    void spring_kafka_listener_receives_what_the_template_sends() throws Exception {
        String topic = unique("spring-orders");
        ClientsTest.createTopic(topic, 2);
        System.setProperty("orders.topic", topic);
        System.setProperty("orders.group", unique("spring-group"));
        try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext(App.class)) {
            KafkaListenerEndpointRegistry registry = context.getBean(KafkaListenerEndpointRegistry.class);
            Cluster.waitUntil("the listener's two consumers hold a partition each", () -> {
                MessageListenerContainer container = registry.getListenerContainers().iterator().next();
                var assigned = container.getAssignedPartitions();
                return assigned != null && assigned.size() == 2;
            });
            @SuppressWarnings("unchecked")
            KafkaTemplate<String, String> template = context.getBean(KafkaTemplate.class);
            for (int i = 0; i < 10; i++) {
                template.send(topic, "order-" + i, "created").get();
            }
            OrderListener listener = context.getBean(OrderListener.class);
            Cluster.waitUntil("the listener got all ten", () -> listener.received.size() >= 10);
            assertEquals(10, listener.received.size());
            assertEquals(10, listener.received.stream().distinct().count());
        }
    }
}
