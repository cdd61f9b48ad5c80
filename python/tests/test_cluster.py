"""The Python API of broker-sim against the binary the wheel installed: lifecycle,
records, brokers, faults, groups, waits, the request log, snapshots, topology files, the
clock, asyncio, and the pytest plugin's fixture and marker."""

import asyncio
import pathlib

import pytest
from aiokafka import AIOKafkaConsumer
from kafka import KafkaProducer

from broker_sim import BrokerSimError, Cluster, Fault, KafkaError, WaitTimeout
from broker_sim.pytest_plugin import default_rebalance_delay_ms

TOPOLOGY = pathlib.Path(__file__).parents[2] / "examples" / "topology.toml"


def test_a_cluster_serves_until_stopped():
    with Cluster(brokers=2, topics={"orders": 3}) as cluster:
        assert len(cluster.bootstrap_servers.split(",")) == 2
        assert cluster.topics() == ["orders"]
        assert [b.id for b in cluster.brokers()] == [1, 2]
    with pytest.raises(BrokerSimError):
        cluster.topics()


@pytest.mark.broker_sim(brokers=1, topics={"a": 2}, no_auto_create=True)
def test_the_marker_sets_up_the_fixture_cluster(kafka_cluster):
    assert len(kafka_cluster.brokers()) == 1
    assert len(kafka_cluster.partitions("a")) == 2
    with pytest.raises(BrokerSimError) as refused:
        kafka_cluster.records("absent")
    assert refused.value.status == 404


def test_records_keep_their_bytes_keys_and_headers(kafka_cluster):
    kafka_cluster.create_topic("t", partitions=2)
    kafka_cluster.produce("t", b"\x00\x01binary", key="k", headers={"trace": b"\xff"}, partition=1)
    kafka_cluster.produce("t", None, key=b"tombstone", partition=1)
    first, second = kafka_cluster.records("t", partition=1)
    assert (first.key, first.value, first.header("trace")) == (b"k", b"\x00\x01binary", b"\xff")
    assert (second.key, second.value, second.offset) == (b"tombstone", None, 1)


def test_a_fault_fails_one_produce_and_the_request_log_shows_the_retry(kafka_cluster):
    kafka_cluster.create_topic("orders", partitions=1)
    rule = kafka_cluster.inject(Fault.on("Produce").topic("orders").error("NOT_LEADER_OR_FOLLOWER").once())
    producer = KafkaProducer(bootstrap_servers=kafka_cluster.bootstrap_servers, client_id="svc",
                             acks="all", retries=5, retry_backoff_ms=10)
    producer.send("orders", b"v").get(timeout=30)
    producer.close()
    assert kafka_cluster.fault_hits(rule) == 1
    produces = kafka_cluster.requests(api="Produce", client_id="svc")
    assert [e.errors for e in produces] == [["NOT_LEADER_OR_FOLLOWER"], []]
    assert produces[0].partitions() == [("orders", 0)]
    assert kafka_cluster.requests(error="NOT_LEADER_OR_FOLLOWER", limit=5) == produces[:1]


def test_broker_lifecycle_and_kafka_errors(kafka_cluster):
    assert kafka_cluster.stop_broker(2).up is False
    assert kafka_cluster.start_broker(2).up is True
    with pytest.raises(BrokerSimError) as unknown:
        kafka_cluster.stop_broker(9)
    assert unknown.value.status == 404
    with pytest.raises(KafkaError) as refused:
        kafka_cluster.create_topic("bad", partitions=1, replication_factor=9)
    assert refused.value.code == "INVALID_REPLICATION_FACTOR"


def test_waits_time_out_with_the_state_they_saw(kafka_cluster):
    kafka_cluster.create_topic("t", partitions=1)
    kafka_cluster.produce("t", "one")
    with pytest.raises(WaitTimeout) as timed_out:
        kafka_cluster.wait_for_records("t", 2, timeout=0.1)
    assert timed_out.value.state["seen"] == "it holds 1"
    with pytest.raises(WaitTimeout) as absent:
        kafka_cluster.wait_for_group("nobody", members=1, timeout=0.1)
    assert absent.value.state is None


@pytest.mark.broker_sim(topics={"events": 4})
def test_asyncio_code_waits_for_its_consumers_group(kafka_cluster):
    async def run():
        consumers = [AIOKafkaConsumer("events", bootstrap_servers=kafka_cluster.bootstrap_servers,
                                      group_id="g", auto_offset_reset="earliest") for _ in range(2)]
        for consumer in consumers:
            await consumer.start()
        try:
            group = await kafka_cluster.aio.wait_for_group("g", members=2)
            assert sorted(p for m in group.members for p in m.assignment["events"]) == [0, 1, 2, 3]
            kafka_cluster.produce("events", "x", partition=0)
            records = await kafka_cluster.aio.wait_for_records("events", 1)
            assert records[0].value == b"x"
        finally:
            for consumer in consumers:
                await consumer.stop()
        await kafka_cluster.aio.wait_for_group("g", state="Empty")

    asyncio.run(run())


def test_group_offsets_and_lag(kafka_cluster):
    kafka_cluster.create_topic("t", partitions=2)
    for value in "abc":
        kafka_cluster.produce("t", value, partition=0)
    group = kafka_cluster.reset_group_offsets("g", "t", offset=1)
    assert group.offset("t", 0) == 1
    lags = kafka_cluster.group_lag("g", topic="t")
    # An offset past a partition's end is clamped to it, as kafka-consumer-groups does.
    assert [(l.partition, l.committed, l.lag) for l in lags] == [(0, 1, 2), (1, 0, 0)]
    with pytest.raises(WaitTimeout):
        kafka_cluster.wait_for_lag("g", 0, topic="t", timeout=0.1)
    kafka_cluster.reset_group_offsets("g", "t", to="latest")
    assert kafka_cluster.wait_for_lag("g", 0, topic="t")[0].committed == 3


@pytest.mark.broker_sim(manual_clock=1_000_000)
def test_a_manual_clock_moves_only_when_advanced(kafka_cluster):
    assert kafka_cluster.has_manual_clock()
    assert kafka_cluster.now_ms() == 1_000_000
    assert kafka_cluster.advance(1.5) == 1_001_500
    assert kafka_cluster.advance(ms=500) == 1_002_000


def test_a_snapshot_starts_a_copy(kafka_cluster, tmp_path):
    kafka_cluster.create_topic("t", partitions=2)
    kafka_cluster.produce("t", "kept", key="k", partition=1)
    kafka_cluster.reset_group_offsets("g", "t", to="latest")
    path = kafka_cluster.snapshot(tmp_path / "snap.json")
    with Cluster(snapshot=path) as copy:
        [record] = copy.records("t")
        assert (record.partition, record.key, record.value) == (1, b"k", b"kept")
        assert copy.group("g").offset("t", 1) == 1
        copy.produce("t", "only in the copy", partition=1)
    assert len(kafka_cluster.records("t")) == 1
    assert kafka_cluster.snapshot()["format"] == "broker-sim-snapshot"


def test_a_topology_file_starts_its_cluster():
    with Cluster(config=TOPOLOGY) as cluster:
        assert len(cluster.brokers()) == 3
        assert len(cluster.partitions("request-events")) == 6
        assert "request-events.dlq" in cluster.topics()
        assert cluster.topic_configs("audit-events")["min.insync.replicas"] == "2"


def test_connect_attaches_to_a_running_cluster(kafka_cluster):
    attached = Cluster.connect(kafka_cluster.control_url)
    assert attached.bootstrap_servers == kafka_cluster.bootstrap_servers
    attached.stop()
    assert kafka_cluster.topics() is not None


def test_the_fixture_waits_kafka_s_initial_rebalance_delay_for_kafka_python(request):
    # This module imports kafka-python, whose consumer needs it (see the plugin).
    assert default_rebalance_delay_ms(request.config) == 3000


def test_the_session_cluster_serves_every_test_of_the_session(kafka_cluster_session, kafka_cluster):
    assert kafka_cluster_session.bootstrap_servers != kafka_cluster.bootstrap_servers
    if "shared" not in kafka_cluster_session.topics():  # another test may have made it
        kafka_cluster_session.create_topic("shared")
    assert "shared" in kafka_cluster_session.topics() and "shared" not in kafka_cluster.topics()


def test_a_failing_test_reports_the_clusters_requests_groups_and_log(pytester):
    pytester.makepyfile(
        """
        from kafka import KafkaProducer

        def test_fails(kafka_cluster):
            kafka_cluster.create_topic("orders")
            producer = KafkaProducer(bootstrap_servers=kafka_cluster.bootstrap_servers, client_id="svc")
            producer.send("orders", b"v").get(timeout=30)
            producer.close()
            kafka_cluster.reset_group_offsets("billing", "orders", to="latest")
            assert False, "the service did not do it"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*broker-sim requests*",
        "*svc Produce v*orders-0*",
        "*broker-sim groups*",
        "billing: Empty generation 0, lag 0",
        "*broker-sim log*",
    ])


def test_the_schema_registry_decodes_and_audits_a_topic(kafka_cluster):
    schema = '{"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}'
    schema_id = kafka_cluster.register_schema("orders-value", schema, schema_type="JSON")
    assert kafka_cluster.register_schema("orders-value", schema, schema_type="JSON") == schema_id
    assert kafka_cluster.subjects() == ["orders-value"]
    assert kafka_cluster.schema_version("orders-value")["id"] == schema_id
    kafka_cluster.create_topic("orders")
    framed = b"\x00" + schema_id.to_bytes(4, "big")
    kafka_cluster.produce("orders", framed + b'{"id": "o-1"}')
    kafka_cluster.produce("orders", framed + b'{"total": 3}')
    good, bad = kafka_cluster.records("orders")
    assert good.value_decoded == {"schema_id": schema_id, "subject": "orders-value",
                                  "schema_type": "JSON", "value": {"id": "o-1"}}
    assert "error" in bad.value_decoded
    [violation] = kafka_cluster.schema_violations("orders")
    assert (violation.offset, violation.reason, violation.schema_id) == (1, "does_not_decode", schema_id)
    with pytest.raises(BrokerSimError) as refused:
        kafka_cluster.schema_version("absent")
    assert (refused.value.status, refused.value.code) == (404, 40401)
