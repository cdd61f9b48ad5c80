"""A small order service in the style Kafka users write: a kafka-python publisher and an
aiokafka worker. It knows nothing of broker-sim; its tests (`tests/`) run it against the
`kafka_cluster` fixture."""
