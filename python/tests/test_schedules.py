"""Fault schedules, the history checks and the Hypothesis strategies from Python: a
schedule built by hand runs server-side step by step; generated ones never take more
brokers down than allowed; and a property test writes with a real producer while a
generated schedule runs, then asks the checks whether an acknowledged record was lost.

BROKER_SIM_HYPOTHESIS_EXAMPLES sizes the property test (default 5)."""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from kafka import KafkaProducer

from broker_sim import Cluster, Fault
from broker_sim import schedules as s
from broker_sim.hypothesis import fault_schedules

EXAMPLES = int(os.environ.get("BROKER_SIM_HYPOTHESIS_EXAMPLES", "5"))


@pytest.mark.broker_sim(brokers=3, topics={"orders": 3})
def test_a_schedule_runs_step_by_step_and_reports_refusals(kafka_cluster):
    schedule = s.Schedule([
        s.Step(s.at_ms(0), s.stop_broker(2)),
        s.Step(s.at_ms(0), s.stop_broker(2)),          # refused: already down
        s.Step(s.at_ms(10), s.inject_fault(Fault.on("Produce").error("NOT_LEADER_OR_FOLLOWER").once())),
        s.Step(s.at_ms(20), s.start_broker(2)),
    ])
    assert "at 0 ms: stop_broker(broker=2)" in str(schedule)
    run = kafka_cluster.run_schedule(schedule)
    status = kafka_cluster.wait_for_schedule(run)
    assert [a["type"] for a in status.applied] == ["stop_broker", "stop_broker", "inject_fault", "start_broker"]
    [refused] = status.refused()
    assert refused["outcome"]["code"] == "BROKER_NOT_AVAILABLE"
    assert all(b.up for b in kafka_cluster.brokers())
    kafka_cluster.checks().assert_ok()


@settings(max_examples=50, deadline=None)
@given(schedule=fault_schedules(brokers=3, topics={"orders": 3}, groups=["g"], max_steps=12, max_down=1))
def test_generated_schedules_keep_at_most_max_down_brokers_down(schedule):
    stopped, isolated = set(), set()
    for step in schedule.steps:
        kind, broker = step.event["type"], step.event.get("broker")
        if kind == "stop_broker":
            stopped.add(broker)
        elif kind == "isolate_broker" and broker not in stopped:
            isolated.add(broker)
        elif kind == "start_broker":
            stopped.discard(broker)
            isolated.discard(broker)
        elif kind == "restart_broker":
            stopped.discard(broker)
        elif kind == "heal_broker":
            isolated.discard(broker)
        assert len(stopped | isolated) <= 1, schedule
    assert [st.at["ms"] for st in schedule.steps] == sorted(st.at["ms"] for st in schedule.steps)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=fault_schedules(brokers=3, topics={"orders": 3}, max_steps=4, span_ms=1_000))
def test_no_acknowledged_record_is_lost_whatever_the_schedule(schedule):
    with Cluster(brokers=3, topics={"orders": 3}, min_insync_replicas=2, log_level="warn") as cluster:
        run = cluster.run_schedule(schedule)
        producer = KafkaProducer(bootstrap_servers=cluster.bootstrap_servers, acks="all",
                                 enable_idempotence=True, retries=100, retry_backoff_ms=20,
                                 request_timeout_ms=3_000, delivery_timeout_ms=60_000)
        try:
            for i in range(20):
                producer.send("orders", key=f"k{i}".encode(), value=f"v{i}".encode()).get(timeout=90)
        finally:
            producer.close()
        cluster.wait_for_schedule(run)
        cluster.checks("lost_acks", schedule=run).assert_ok()
        cluster.checks("duplicates", schedule=run).assert_ok()
        assert len(cluster.records("orders")) == 20, str(schedule)
