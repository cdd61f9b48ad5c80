"""The values the control API answers, as dataclasses, and the errors it raises.

Each dataclass is built from the control API's JSON by its `from_json`; fields keep the
Rust API's names (`broker_sim::GroupInfo`, `Record`, ...). Keys, values and header values
arrive as text with an encoding beside them (`utf8` or `base64`) and are turned back into
bytes here, so a test compares what its client wrote byte for byte.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Optional


class BrokerSimError(Exception):
    """The control API refused a call: `status` is the HTTP status, `code` Kafka's name of
    the error the cluster returned (`NOT_LEADER_OR_FOLLOWER`, `NON_EMPTY_GROUP`...) when
    there is one, `message` the cluster's explanation."""

    def __init__(self, status: int, message: str, code: Optional[str] = None, state: Any = None):
        super().__init__(f"{code}: {message}" if code else message)
        self.status = status
        self.message = message
        self.code = code
        self.state = state


class KafkaError(BrokerSimError):
    """A refusal carrying a Kafka error code (`code`)."""


class WaitTimeout(BrokerSimError, TimeoutError):
    """A `wait_for_*` call ended before its condition held; `state` is what the cluster
    showed then (the group, the lag, the record count)."""


def _bytes(text: Optional[str], encoding: Optional[str]) -> Optional[bytes]:
    if text is None:
        return None
    if encoding == "base64":
        return base64.b64decode(text)
    return text.encode()


@dataclass(frozen=True)
class Record:
    """A stored record (`Cluster.records`)."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: Optional[bytes]
    value: Optional[bytes]
    headers: list[tuple[str, Optional[bytes]]] = field(default_factory=list)
    # none, committed, aborted or open.
    transaction: str = "none"
    # For a value (key) in the Confluent wire format: what the schema registry decoded,
    # `{"schema_id", "subject", "schema_type", "value"}`, or `{"schema_id", "error"}`.
    value_decoded: Optional[dict] = None
    key_decoded: Optional[dict] = None

    @classmethod
    def from_json(cls, topic: str, j: dict) -> "Record":
        return cls(
            topic=topic,
            partition=j["partition"],
            offset=j["offset"],
            timestamp=j["timestamp"],
            key=_bytes(j.get("key"), j.get("key_encoding")),
            value=_bytes(j.get("value"), j.get("value_encoding")),
            headers=[(h["key"], _bytes(h.get("value"), h.get("value_encoding"))) for h in j.get("headers", [])],
            transaction=j.get("transaction", "none"),
            value_decoded=j.get("value_decoded"),
            key_decoded=j.get("key_decoded"),
        )

    def key_str(self) -> Optional[str]:
        return None if self.key is None else self.key.decode()

    def value_str(self) -> Optional[str]:
        return None if self.value is None else self.value.decode()

    def value_json(self) -> Any:
        """The value parsed as JSON (None for a null value)."""
        return None if self.value is None else json.loads(self.value)

    def header(self, name: str) -> Optional[bytes]:
        """The last header called `name`, or None."""
        found = None
        for key, value in self.headers:
            if key == name:
                found = value
        return found


@dataclass(frozen=True)
class MemberInfo:
    member_id: str
    group_instance_id: Optional[str]
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    # topic -> sorted partitions the member owns.
    assignment: dict[str, list[int]]
    # New protocol (KIP-848) only.
    member_epoch: Optional[int] = None
    member_state: Optional[str] = None
    target_assignment: dict[str, list[int]] = field(default_factory=dict)

    def partitions(self) -> list[tuple[str, int]]:
        return [(t, p) for t, ps in sorted(self.assignment.items()) for p in ps]


@dataclass(frozen=True)
class GroupOffset:
    topic: str
    partition: int
    offset: int
    metadata: Optional[str]
    leader_epoch: int
    high_watermark: int
    lag: int


@dataclass(frozen=True)
class GroupInfo:
    """A consumer group (`Cluster.group`)."""

    group_id: str
    # classic or consumer (KIP-848).
    type: str
    # Empty, PreparingRebalance, CompletingRebalance, Stable, Dead (classic); Empty,
    # Assigning, Reconciling, Stable (consumer).
    state: str
    protocol_type: str
    protocol: Optional[str]
    generation: int
    leader: Optional[str]
    coordinator: Optional[int]
    members: list[MemberInfo]
    offsets: list[GroupOffset]
    total_lag: int

    @classmethod
    def from_json(cls, j: dict) -> "GroupInfo":
        members = [
            MemberInfo(**{k: m.get(k) for k in MemberInfo.__dataclass_fields__ if k in m})
            for m in j["members"]
        ]
        return cls(
            group_id=j["group_id"],
            type=j["type"],
            state=j["state"],
            protocol_type=j["protocol_type"],
            protocol=j.get("protocol"),
            generation=j["generation"],
            leader=j.get("leader"),
            coordinator=j.get("coordinator"),
            members=members,
            offsets=[GroupOffset(**{k: o[k] for k in GroupOffset.__dataclass_fields__}) for o in j["offsets"]],
            total_lag=j["total_lag"],
        )

    def offset(self, topic: str, partition: int) -> Optional[int]:
        """The committed offset of one partition, or None."""
        for o in self.offsets:
            if o.topic == topic and o.partition == partition:
                return o.offset
        return None

    def member(self, member_id: str) -> Optional[MemberInfo]:
        return next((m for m in self.members if m.member_id == member_id), None)


@dataclass(frozen=True)
class PartitionLag:
    """How far a group is behind on one partition (`Cluster.group_lag`)."""

    topic: str
    partition: int
    committed: Optional[int]
    end_offset: int
    lag: int


@dataclass(frozen=True)
class BrokerStatus:
    id: int
    host: str
    port: int
    rack: Optional[str]
    up: bool
    isolated: bool


@dataclass(frozen=True)
class PartitionInfo:
    partition: int
    leader: Optional[int]
    replicas: list[int]
    isr: list[int]
    high_watermark: int
    log_start_offset: int
    raw: dict = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class RequestLogEntry:
    """One request a broker answered (`Cluster.requests`). `raw` has every field the
    control API gave, including ones this version of the package does not name."""

    seq: int
    time_ms: int
    broker: int
    client_id: Optional[str]
    api: str
    api_version: int
    topics: list[dict]
    group: Optional[str]
    errors: list[str]
    raw: dict = field(repr=False, default_factory=dict)

    @classmethod
    def from_json(cls, j: dict) -> "RequestLogEntry":
        return cls(
            seq=j["seq"],
            time_ms=j["time_ms"],
            broker=j["broker"],
            client_id=j.get("client_id"),
            api=j["api"],
            api_version=j["api_version"],
            topics=j.get("topics", []),
            group=j.get("group"),
            errors=j.get("errors", []),
            raw=j,
        )

    def partitions(self) -> list[tuple[str, int]]:
        """The (topic, partition) pairs the request named."""
        return [(t["topic"], p) for t in self.topics for p in t.get("partitions", [])]


@dataclass(frozen=True)
class SchemaViolation:
    """A record the schema audit rejects (`Cluster.schema_violations`): its value (or key,
    `part`) is not in the Confluent wire format (`not_wire_format`), names an id the
    registry does not know (`unknown_schema_id`), does not decode with that schema
    (`does_not_decode`), or names a schema its TopicNameStrategy subject never had
    (`not_in_subject`)."""

    topic: str
    partition: int
    offset: int
    part: str
    schema_id: Optional[int]
    reason: str
    message: str

    @classmethod
    def from_json(cls, topic: str, j: dict) -> "SchemaViolation":
        return cls(
            topic=topic,
            partition=j["partition"],
            offset=j["offset"],
            part=j["part"],
            schema_id=j.get("schema_id"),
            reason=j["reason"],
            message=j.get("message", ""),
        )
