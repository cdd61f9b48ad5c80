"""Fault rules, built as in Rust: `Fault.on("Produce").topic("orders").error(
"NOT_LEADER_OR_FOLLOWER").times(2)`.

A rule is a selector (which requests: API, broker, topic, partition, group, client id,
principal, transactional id; unset fields match anything), an action and how often. Its
JSON is exactly what `POST /v1/faults` takes, the serde form of the Rust `Fault`, so the
cluster checks names (APIs, error codes) and says what it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class Selector:
    """Which requests a rule matches; finish it with an action to get a `Fault`."""

    match: dict = field(default_factory=dict)

    def _with(self, key: str, value: Any) -> "Selector":
        return Selector({**self.match, key: value})

    def broker(self, broker: int) -> "Selector":
        return self._with("broker", broker)

    def topic(self, topic: str) -> "Selector":
        return self._with("topic", topic)

    def partition(self, partition: int) -> "Selector":
        return self._with("partition", partition)

    def group(self, group: str) -> "Selector":
        return self._with("group", group)

    def client_id(self, client_id: str) -> "Selector":
        return self._with("client_id", client_id)

    def principal(self, principal: str) -> "Selector":
        return self._with("principal", principal)

    def transactional_id(self, transactional_id: str) -> "Selector":
        return self._with("transactional_id", transactional_id)

    # Actions.

    def error(self, code: str) -> "Fault":
        """Answer with Kafka error `code` (its name, e.g. "NOT_LEADER_OR_FOLLOWER")
        instead of processing."""
        return Fault(self.match, {"type": "error", "code": code})

    def latency(self, ms: int) -> "Fault":
        """Process, but answer `ms` milliseconds later."""
        return Fault(self.match, {"type": "latency", "ms": ms})

    def close_connection(self) -> "Fault":
        """Close the connection instead of answering."""
        return Fault(self.match, {"type": "close_connection"})

    def no_response(self) -> "Fault":
        """Never answer: the client's request times out."""
        return Fault(self.match, {"type": "no_response"})

    def throttle(self, ms: int) -> "Fault":
        """Process, and report a throttle of `ms` (KIP-219)."""
        return Fault(self.match, {"type": "throttle", "ms": ms})

    def apply_then_error(self, code: str) -> "Fault":
        """Process for real, then answer with `code` (producers send duplicates)."""
        return Fault(self.match, {"type": "apply_then_error", "code": code})

    def apply_then_no_response(self) -> "Fault":
        return Fault(self.match, {"type": "apply_then_no_response"})

    def apply_then_close(self) -> "Fault":
        return Fault(self.match, {"type": "apply_then_close"})


@dataclass
class Fault:
    """A fault rule for `Cluster.inject`."""

    match: dict
    action: dict
    times_: Optional[int] = None
    probability_: Optional[float] = None

    @staticmethod
    def on(api: str) -> Selector:
        """Requests of one API, by Kafka's name ("Produce", "Fetch", "JoinGroup"...)."""
        return Selector({"api": api})

    @staticmethod
    def any() -> Selector:
        """Requests of every API."""
        return Selector({})

    def times(self, n: int) -> "Fault":
        """Fire at most `n` times, then retire."""
        self.times_ = n
        return self

    def once(self) -> "Fault":
        return self.times(1)

    def probability(self, p: float) -> "Fault":
        """Fire on this share of matching requests (drawn from the cluster's seed)."""
        self.probability_ = p
        return self

    def to_json(self) -> dict:
        rule: dict = {"match": self.match, "action": self.action}
        if self.times_ is not None:
            rule["times"] = self.times_
        if self.probability_ is not None:
            rule["probability"] = self.probability_
        return rule


@dataclass(frozen=True)
class FaultStatus:
    """A rule as the cluster lists it, with how often it fired."""

    id: int
    hits: int
    raw: dict = field(repr=False, default_factory=dict)
