"""Hypothesis strategies for fault schedules (needs `hypothesis`: `pip install
hypothesis`, or the package's `hypothesis` extra).

    from hypothesis import given, settings
    from broker_sim.hypothesis import fault_schedules

    @settings(max_examples=20, deadline=None)
    @given(schedule=fault_schedules(brokers=3, topics={"orders": 3}))
    def test_no_order_is_lost(schedule):
        with Cluster(brokers=3, topics={"orders": 3}, min_insync_replicas=2) as cluster:
            run = cluster.run_schedule(schedule)
            ...                                   # the service works meanwhile
            cluster.wait_for_schedule(run)
            cluster.checks("lost_acks").assert_ok()

The draws mirror the Rust strategies (`broker_sim::schedule::strategy`): broker crashes,
restarts and partitions, stalled replication, leader moves, fault rules on the APIs
services depend on (refused, late, answered after the write, connection closed), group
members expiring — never more than `max_down` brokers down at once (an event that would
take one more down becomes a restart of it). Hypothesis shrinks a failing schedule to
fewer, earlier and simpler steps, and prints it.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from hypothesis import strategies as st

from . import schedules as s
from ._faults import Fault

_FAULT_APIS = ["Produce", "Fetch", "OffsetCommit", "Heartbeat", "JoinGroup", "Metadata"]
_GROUP_APIS = {"OffsetCommit", "Heartbeat", "JoinGroup"}


@st.composite
def _fault(draw, topics: Sequence[str]) -> dict:
    api = draw(st.sampled_from(_FAULT_APIS))
    selector = Fault.on(api)
    if topics and api in ("Produce", "Fetch"):
        topic = draw(st.one_of(st.none(), st.sampled_from(list(topics))))
        if topic is not None:
            selector = selector.topic(topic)
    code = "COORDINATOR_NOT_AVAILABLE" if api in _GROUP_APIS else "NOT_LEADER_OR_FOLLOWER"
    action = draw(st.sampled_from(["error", "apply_then_error", "latency", "close_connection"]))
    if action == "error":
        fault = selector.error(code)
    elif action == "apply_then_error":
        fault = selector.apply_then_error("REQUEST_TIMED_OUT")
    elif action == "latency":
        fault = selector.latency(draw(st.integers(10, 500)))
    else:
        fault = selector.close_connection()
    return s.inject_fault(fault.times(draw(st.integers(1, 3))))


def events(brokers: int = 3, topics: Optional[Mapping[str, int]] = None,
           groups: Sequence[str] = ()) -> st.SearchStrategy[dict]:
    """Single events for a cluster of this shape (no bound on brokers down)."""
    broker = st.integers(1, max(brokers, 1))
    choices = [
        broker.map(s.restart_broker),
        broker.map(s.stop_broker),
        broker.map(s.start_broker),
        broker.map(s.isolate_broker),
        broker.map(s.heal_broker),
        broker.map(s.pause_replication),
        broker.map(s.resume_replication),
        st.just(s.elect_preferred_leaders()),
        _fault(list(topics or {})),
        st.just(s.clear_faults()),
    ]
    if topics:
        choices.append(st.builds(
            lambda t, p, b: s.move_leader(t, p % max(topics[t], 1), b),
            st.sampled_from(sorted(topics)), st.integers(0, 1 << 20), broker))
    if groups:
        choices.append(st.sampled_from(list(groups)).map(s.expire_members))
    return st.one_of(choices)


class _DownBrokers:
    """Keeps a sequence of events within `max_down` brokers down at once, as the Rust
    strategies do: an event that would take one too many down becomes its restart."""

    def __init__(self, max_down: int):
        self.max_down = max_down
        self.stopped: set = set()
        self.isolated: set = set()

    def admit(self, event: dict) -> dict:
        kind, broker = event["type"], event.get("broker")
        down = self.stopped | self.isolated
        if kind in ("stop_broker", "isolate_broker") and broker not in down and len(down) >= self.max_down:
            return s.restart_broker(broker)
        if kind == "stop_broker":
            self.stopped.add(broker)
        elif kind == "start_broker":
            self.stopped.discard(broker)
            self.isolated.discard(broker)
        elif kind == "restart_broker":
            self.stopped.discard(broker)
        elif kind == "isolate_broker" and broker not in self.stopped:
            self.isolated.add(broker)
        elif kind == "heal_broker":
            self.isolated.discard(broker)
        return event


def fault_schedules(brokers: int = 3, topics: Optional[Mapping[str, int]] = None,
                    groups: Sequence[str] = (), max_steps: int = 6, span_ms: int = 5_000,
                    max_down: int = 1) -> st.SearchStrategy[s.Schedule]:
    """Schedules of up to `max_steps` events at increasing moments within `span_ms`
    cluster milliseconds, never more than `max_down` brokers down at once."""

    def build(drawn: list) -> s.Schedule:
        down = _DownBrokers(max_down)
        steps = [s.Step(s.at_ms(at), down.admit(event)) for at, event in sorted(drawn, key=lambda d: d[0])]
        return s.Schedule(steps)

    step = st.tuples(st.integers(0, max(span_ms, 1) - 1), events(brokers, topics, groups))
    return st.lists(step, max_size=max_steps).map(build)
