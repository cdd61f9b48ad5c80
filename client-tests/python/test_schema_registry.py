"""confluent-kafka's schema registry client and its serializers against broker-sim's
embedded registry (Confluent's REST API on the control port).

Round trips through real producers and consumers for Avro, Protobuf and JSON Schema (the
serializers register the schema, write the Confluent wire format; the deserializers fetch
the writer's schema by id), the broker's side of each (the records answer decodes the
values, the audit finds nothing wrong), an incompatible schema refused with 409, a bad
payload and an unknown id caught by the audit, and the registry calls a test suite makes:
subjects, versions, lookups, references, deletes, compatibility and mode settings.
"""

import json
import struct

import confluent_kafka
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from support import DEADLINE_S, cluster, control, wait_until

CLIENT = ("confluent-kafka schema registry", confluent_kafka.__version__)

ORDER_AVRO = json.dumps({
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "total", "type": "double"},
        {"name": "items", "type": {"type": "array", "items": "string"}},
    ],
})

ORDER_JSON_SCHEMA = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Order",
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "total": {"type": "number"},
    },
    "required": ["id", "total"],
})


@pytest.fixture
def registry():
    return SchemaRegistryClient({"url": cluster().schema_registry_url})


def create_topic(bootstrap, topic, partitions=1):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=3)]).values()
    future.result(timeout=DEADLINE_S)


def produce_values(bootstrap, topic, values):
    """Sends each value (bytes) with acks=all, failing on any delivery error."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    errors = []
    for value in values:
        producer.produce(topic, value=value, on_delivery=lambda err, _msg: err and errors.append(err))
    assert producer.flush(DEADLINE_S) == 0, "records left undelivered"
    assert errors == []


def consume_values(bootstrap, topic, group, count, deserialize):
    """Reads `count` values from the start of `topic`, each through `deserialize`."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    seen = []

    def poll():
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            ctx = SerializationContext(topic, MessageField.VALUE)
            seen.append(deserialize(message.value(), ctx))

    try:
        wait_until(poll, lambda: len(seen) >= count, f"{count} values on {topic}", lambda: seen)
    finally:
        consumer.close()
    return seen


def serialize_all(serializer, topic, values):
    ctx = SerializationContext(topic, MessageField.VALUE)
    return [serializer(v, ctx) for v in values]


def decoded_values(topic):
    """What the broker's records answer decodes each value to."""
    return [r.value_decoded for r in cluster().records(topic)]


def test_avro_values_round_trip_through_the_registry(bootstrap, unique, registry):
    topic = unique("orders")
    create_topic(bootstrap, topic)
    orders = [{"id": f"o-{i}", "total": 10.5 * i, "items": ["a"] * i} for i in range(3)]
    produce_values(bootstrap, topic, serialize_all(AvroSerializer(registry, ORDER_AVRO), topic, orders))

    got = consume_values(bootstrap, topic, unique("group"), 3, AvroDeserializer(registry))
    assert got == orders
    registered = registry.get_latest_version(f"{topic}-value")
    assert registered.version == 1 and registered.schema.schema_type == "AVRO"
    decoded = decoded_values(topic)
    assert [d["value"] for d in decoded] == orders
    assert {(d["schema_id"], d["subject"]) for d in decoded} == {(registered.schema_id, f"{topic}-value")}
    assert cluster().schema_violations(topic) == []


def order_message_class():
    """A protobuf message class built at run time from a descriptor (as protoc's output
    would define it), so the suite needs no protoc; in a pool of its own."""
    file = descriptor_pb2.FileDescriptorProto(name="shop/order.proto", package="shop", syntax="proto3")
    order = file.message_type.add(name="Order")
    order.field.add(name="id", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                    label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    order.field.add(name="quantity", number=2, type=descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
                    label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    order.field.add(name="tags", number=3, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                    label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("shop.Order"))


def test_protobuf_values_round_trip_through_the_registry(bootstrap, unique, registry):
    topic = unique("shipments")
    create_topic(bootstrap, topic)
    Order = order_message_class()
    orders = [Order(id=f"o-{i}", quantity=i + 1, tags=["x"] * i) for i in range(3)]
    serializer = ProtobufSerializer(Order, registry, {"use.deprecated.format": False})
    produce_values(bootstrap, topic, serialize_all(serializer, topic, orders))

    deserializer = ProtobufDeserializer(Order, {"use.deprecated.format": False})
    got = consume_values(bootstrap, topic, unique("group"), 3, deserializer)
    assert got == orders
    assert registry.get_latest_version(f"{topic}-value").schema.schema_type == "PROTOBUF"
    decoded = decoded_values(topic)
    assert all("error" not in d for d in decoded), decoded
    assert [d["value"]["id"] for d in decoded] == ["o-0", "o-1", "o-2"]
    assert cluster().schema_violations(topic) == []


def test_json_schema_values_round_trip_through_the_registry(bootstrap, unique, registry):
    topic = unique("invoices")
    create_topic(bootstrap, topic)
    orders = [{"id": f"o-{i}", "total": i + 0.25} for i in range(3)]
    serializer = JSONSerializer(ORDER_JSON_SCHEMA, registry)
    produce_values(bootstrap, topic, serialize_all(serializer, topic, orders))

    got = consume_values(bootstrap, topic, unique("group"), 3, JSONDeserializer(ORDER_JSON_SCHEMA))
    assert got == orders
    assert registry.get_latest_version(f"{topic}-value").schema.schema_type == "JSON"
    assert [d["value"] for d in decoded_values(topic)] == orders
    assert cluster().schema_violations(topic) == []


def evolved_order(extra_field):
    schema = json.loads(ORDER_AVRO)
    schema["fields"].append(extra_field)
    return Schema(json.dumps(schema), "AVRO")


def test_an_incompatible_schema_is_refused_with_409(unique, registry):
    subject = unique("orders") + "-value"
    registry.register_schema(subject, Schema(ORDER_AVRO, "AVRO"))
    registry.set_compatibility(subject, level="BACKWARD")

    # A new required field: a reader with it cannot read the old records.
    breaking = evolved_order({"name": "currency", "type": "string"})
    assert not registry.test_compatibility(subject, breaking)
    with pytest.raises(SchemaRegistryError) as refused:
        registry.register_schema(subject, breaking)
    assert refused.value.http_status_code == 409

    # With a default it can.
    compatible = evolved_order({"name": "currency", "type": "string", "default": "EUR"})
    assert registry.test_compatibility(subject, compatible)
    registry.register_schema(subject, compatible)
    assert registry.get_versions(subject) == [1, 2]


def test_the_audit_catches_bad_payloads_and_unknown_ids(bootstrap, unique, registry):
    topic = unique("audited")
    create_topic(bootstrap, topic)
    good = serialize_all(AvroSerializer(registry, ORDER_AVRO), topic, [{"id": "o", "total": 1.0, "items": []}])[0]
    schema_id = struct.unpack(">I", good[1:5])[0]
    truncated = good[:6]
    unknown_id = b"\x00" + struct.pack(">I", 999_999) + good[5:]
    produce_values(bootstrap, topic, [good, truncated, unknown_id, b'{"id": "plain json"}'])

    violations = cluster().schema_violations(topic)
    assert [(v.offset, v.reason, v.schema_id) for v in violations] == [
        (1, "does_not_decode", schema_id),
        (2, "unknown_schema_id", 999_999),
        (3, "not_wire_format", None),
    ], violations


def test_registry_calls_a_suite_makes(unique, registry):
    customer = Schema(json.dumps({"type": "record", "name": "Customer", "namespace": "shop",
                                  "fields": [{"name": "name", "type": "string"}]}), "AVRO")
    customer_subject = unique("customer")
    customer_id = registry.register_schema(customer_subject, customer)
    # Registering the same schema again answers the same id, under any subject.
    assert registry.register_schema(customer_subject, customer) == customer_id
    other = unique("other")
    assert registry.register_schema(other, customer) == customer_id
    assert registry.lookup_schema(customer_subject, customer).version == 1
    assert registry.get_schema(customer_id).schema_str

    # A schema referring to another subject's.
    order = Schema(json.dumps({"type": "record", "name": "Order", "namespace": "shop",
                               "fields": [{"name": "customer", "type": "shop.Customer"}]}), "AVRO",
                   [SchemaReference("shop.Customer", customer_subject, 1)])
    order_subject = unique("order")
    order_id = registry.register_schema(order_subject, order)
    fetched = registry.get_version(order_subject, 1)
    assert fetched.schema_id == order_id
    assert [(r.name, r.subject, r.version) for r in fetched.schema.references] == [
        ("shop.Customer", customer_subject, 1)]
    # A referenced schema cannot be deleted.
    with pytest.raises(SchemaRegistryError) as refused:
        registry.delete_version(customer_subject, 1)
    assert refused.value.error_code == 42206

    # Soft delete hides a subject; a permanent delete follows it.
    assert registry.delete_subject(other) == [1]
    assert other not in registry.get_subjects()
    assert registry.delete_subject(other, permanent=True) == [1]
    with pytest.raises(SchemaRegistryError) as gone:
        registry.get_latest_version(other)
    assert gone.value.http_status_code == 404 and gone.value.error_code == 40401

    # Per-subject compatibility and mode.
    registry.set_compatibility(order_subject, level="FULL")
    assert registry.get_compatibility(order_subject) == "FULL"
    registry.update_mode(order_subject, "READONLY")
    with pytest.raises(SchemaRegistryError) as read_only:
        registry.register_schema(order_subject, Schema(ORDER_AVRO, "AVRO"))
    assert read_only.value.error_code == 42205
    registry.update_mode(order_subject, "READWRITE")

    # The control API's view of the same registry.
    assert customer_subject in control("GET", "/subjects")
    assert cluster().schema_by_id(customer_id)["schema"] == registry.get_schema(customer_id).schema_str
