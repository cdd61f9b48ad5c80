"""Publishes order events: JSON values keyed by order id, so every event of one order
lands on one partition, in order. acks=all with idempotence: a send that returned was
written to every in-sync replica, and a retried send is not written twice."""

import json

from kafka import KafkaProducer

TOPIC = "orders"


class OrderPublisher:
    def __init__(self, bootstrap_servers: str, topic: str = TOPIC):
        self.topic = topic
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            retries=10,
            key_serializer=str.encode,
            value_serializer=lambda v: json.dumps(v).encode(),
        )

    def publish(self, order: dict, timeout: float = 30) -> None:
        """Sends one order event and waits until the cluster acknowledged it."""
        self.producer.send(self.topic, key=order["id"], value=order).get(timeout=timeout)

    def close(self) -> None:
        self.producer.close()
