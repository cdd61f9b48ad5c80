"""Fault schedules from Python: what happens to the cluster while the code under test
runs, as a value that prints, stores as JSON and replays.

A `Schedule` is a list of steps, each an event (`stop_broker(2)`, `inject_fault(Fault...)`,
`expire_members("billing")`...) and its moment: `at_ms` cluster milliseconds after the
schedule starts, or `at_records` records appended since. The JSON is the Rust
`broker_sim::schedule::Schedule`'s, which `POST /v1/schedules` runs server-side:

    schedule = Schedule([Step(at_ms(200), stop_broker(2)), Step(at_ms(900), start_broker(2))])
    run = cluster.run_schedule(schedule)      # applied by the cluster, each step when due
    ...                                       # the code under test runs meanwhile
    cluster.wait_for_schedule(run)            # every step applied
    cluster.checks().assert_ok()              # nothing acknowledged was lost...

`broker_sim.hypothesis.fault_schedules` generates them, with Hypothesis's shrinking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from ._faults import Fault

Event = dict


def at_ms(ms: int) -> dict:
    """Cluster milliseconds after the schedule starts."""
    return {"ms": int(ms)}


def at_records(n: int) -> dict:
    """Once `n` records were appended to the cluster since the schedule started."""
    return {"records": int(n)}


def stop_broker(broker: int) -> Event:
    return {"type": "stop_broker", "broker": broker}


def start_broker(broker: int) -> Event:
    return {"type": "start_broker", "broker": broker}


def restart_broker(broker: int) -> Event:
    return {"type": "restart_broker", "broker": broker}


def isolate_broker(broker: int) -> Event:
    return {"type": "isolate_broker", "broker": broker}


def heal_broker(broker: int) -> Event:
    return {"type": "heal_broker", "broker": broker}


def pause_replication(broker: int) -> Event:
    return {"type": "pause_replication", "broker": broker}


def resume_replication(broker: int) -> Event:
    return {"type": "resume_replication", "broker": broker}


def move_leader(topic: str, partition: int, broker: int) -> Event:
    return {"type": "move_leader", "topic": topic, "partition": partition, "broker": broker}


def elect_preferred_leaders() -> Event:
    return {"type": "elect_preferred_leaders"}


def inject_fault(fault: Union[Fault, dict]) -> Event:
    return {"type": "inject_fault", "fault": fault.to_json() if isinstance(fault, Fault) else fault}


def clear_faults() -> Event:
    return {"type": "clear_faults"}


def expire_members(group: str) -> Event:
    """Every member of the group "crashes" (as if its session timed out)."""
    return {"type": "expire_members", "group": group}


def advance(ms: int) -> Event:
    """The manual clock moves forward."""
    return {"type": "advance", "ms": int(ms)}


def abort_transaction(transactional_id: str) -> Event:
    return {"type": "abort_transaction", "transactional_id": transactional_id}


@dataclass(frozen=True)
class Step:
    at: dict
    event: Event

    def to_json(self) -> dict:
        return {"at": self.at, **self.event}


@dataclass(frozen=True)
class Schedule:
    steps: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"steps": [s.to_json() for s in self.steps]}

    def __str__(self) -> str:
        lines = []
        for s in self.steps:
            when = f"{s.at['ms']} ms" if "ms" in s.at else f"{s.at['records']} records"
            args = ", ".join(f"{k}={v}" for k, v in s.event.items() if k != "type")
            lines.append(f"at {when}: {s.event['type']}({args})")
        return "\n".join(lines) or "(no steps)"


@dataclass(frozen=True)
class ScheduleStatus:
    """What a running schedule applied so far (`Cluster.schedule_status`)."""

    id: int
    done: bool
    applied: list
    pending: list

    def refused(self) -> list:
        """The applied steps the cluster refused (a broker already down...)."""
        return [a for a in self.applied if a.get("outcome") != "ok"]


@dataclass(frozen=True)
class CheckReport:
    """The history checks' answer (`Cluster.checks`): `ok`, and each violation with the
    check, partition, offsets, records and, with a schedule, the steps around it."""

    ok: bool
    checks: list
    violations: list
    truncated: bool
    raw: Any = field(repr=False, default=None)

    @classmethod
    def from_json(cls, j: dict) -> "CheckReport":
        return cls(ok=j["ok"], checks=j.get("checks", []), violations=j.get("violations", []),
                   truncated=j.get("truncated", False), raw=j)

    def assert_ok(self) -> None:
        if not self.ok:
            lines = [f"{v.get('check')}: {v.get('message')}" for v in self.violations]
            if self.truncated:
                lines.append("the history was truncated")
            raise AssertionError("history checks failed:\n" + "\n".join(lines))
