"""`Cluster`: a broker-sim cluster in a child process, driven through its control API.

The cluster is the `broker-sim` binary this package installs (or `BROKER_SIM_BINARY`),
started on free ports; its first two stdout lines are the bootstrap list and the control
API's address, its log goes to a temporary file (`log_path`, `log_tail()`), and it is
stopped when the `with` block (or `stop()`) ends. Every method is one HTTP call to the
control API with the name the Rust embedding API gives the same call, so the Rust docs
describe them too. Waits (`wait_for_group`, `wait_for_lag`, `wait_for_records`) are
long-polls the cluster answers the moment their condition holds.

From asyncio code, `cluster.aio.<method>(...)` runs the same call on a worker thread, so
a wait never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import functools
import json
import os
import queue
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterable, Mapping, Optional, Union

from ._faults import Fault, FaultStatus
from .schedules import CheckReport, ScheduleStatus
from ._types import (
    BrokerSimError,
    BrokerStatus,
    GroupInfo,
    KafkaError,
    PartitionInfo,
    PartitionLag,
    Record,
    RequestLogEntry,
    SchemaViolation,
    WaitTimeout,
)

# How long the binary may take to print its addresses, and the default of every wait.
START_TIMEOUT_S = 60.0
DEFAULT_TIMEOUT_S = 30.0

Seconds = Union[float, int, datetime.timedelta]


def _seconds(t: Seconds) -> float:
    return t.total_seconds() if isinstance(t, datetime.timedelta) else float(t)


def binary_path() -> str:
    """The broker-sim executable: `BROKER_SIM_BINARY`, else the one this package's wheel
    installed beside the Python interpreter's scripts, else `broker-sim` on PATH."""
    explicit = os.environ.get("BROKER_SIM_BINARY")
    if explicit:
        return explicit
    name = "broker-sim.exe" if sys.platform == "win32" else "broker-sim"
    for scripts in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(scripts, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(
        "no broker-sim binary: install the broker-sim wheel, or set BROKER_SIM_BINARY"
    )


def _flags(settings: Mapping[str, Any]) -> list[str]:
    """Keyword settings as the binary's flags: `group_initial_rebalance_delay_ms=3000` is
    `--group-initial-rebalance-delay-ms 3000`, True a bare flag, False or None nothing, a
    list the flag repeated."""
    args: list[str] = []
    for name, value in settings.items():
        flag = "--" + name.replace("_", "-")
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if v is True:
                args.append(flag)
            elif v is False or v is None:
                continue
            else:
                args += [flag, str(v)]
    return args


class Cluster:
    """A broker-sim cluster for one test (or one session).

    `Cluster(brokers=3, topics={"orders": 6})` starts it; use it as a context manager, or
    call `stop()`. `settings` are the binary's flags by their Python names
    (`group_initial_rebalance_delay_ms=3000`, `no_auto_create=True`,
    `min_insync_replicas=2`; `broker-sim --help` lists them). `config` starts from a
    topology file (TOML), `snapshot` from a snapshot file. `manual_clock=True` (or a start
    time in ms) makes time move only through `advance`.
    """

    def __init__(
        self,
        brokers: Optional[int] = None,
        topics: Optional[Mapping[str, int]] = None,
        manual_clock: Union[bool, int] = False,
        config: Optional[Union[str, os.PathLike]] = None,
        snapshot: Optional[Union[str, os.PathLike]] = None,
        log_level: str = "info",
        binary: Optional[str] = None,
        control_token: Optional[str] = None,
        start: bool = True,
        **settings: Any,
    ):
        args = ["--port", "0", "--control-port", "0", "--log-level", log_level]
        if brokers is not None:
            args += ["--brokers", str(brokers)]
        for name, partitions in (topics or {}).items():
            args += ["--topic", f"{name}:{partitions}"]
        if manual_clock is True:
            args.append("--manual-clock")
        elif manual_clock is not False:
            args += ["--manual-clock", str(int(manual_clock))]
        if config is not None:
            args += ["--config", os.fspath(config)]
        if snapshot is not None:
            args += ["--snapshot", os.fspath(snapshot)]
        args += _flags(settings)
        self.args = args
        self.binary = binary or binary_path()
        self._token = control_token
        self._process: Optional[subprocess.Popen] = None
        self._log = None
        self.bootstrap_servers = ""
        self.control_url = ""
        self.aio = _Async(self)
        if start:
            self.start()

    @classmethod
    def connect(cls, control_url: Optional[str] = None, control_token: Optional[str] = None) -> "Cluster":
        """A handle on a cluster that is already running (started by `broker-sim` at a
        terminal, a script or another process): `control_url` defaults to
        `BROKER_SIM_CONTROL`. `stop()` on it does not stop that cluster."""
        url = control_url or os.environ.get("BROKER_SIM_CONTROL")
        if not url:
            raise BrokerSimError(0, "no control API address: pass control_url or set BROKER_SIM_CONTROL")
        cluster = cls.__new__(cls)
        cluster.args = []
        cluster.binary = ""
        cluster._token = control_token or os.environ.get("BROKER_SIM_CONTROL_TOKEN")
        cluster._process = None
        cluster._log = None
        cluster.control_url = url.rstrip("/")
        cluster.aio = _Async(cluster)
        cluster.bootstrap_servers = cluster.control("GET", "/v1/cluster")["bootstrap_servers"]
        return cluster

    # Lifecycle.

    def start(self) -> "Cluster":
        """Starts the binary and waits (bounded) until it serves."""
        if self._process is not None or not self.binary:
            return self
        self._log = tempfile.NamedTemporaryFile(prefix="broker-sim-", suffix=".log", delete=False)
        env = dict(os.environ)
        if self._token:
            env["BROKER_SIM_CONTROL_TOKEN"] = self._token
        self._process = subprocess.Popen(
            [self.binary, *self.args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        lines: queue.Queue = queue.Queue()

        def read() -> None:
            assert self._process is not None and self._process.stdout is not None
            for line in self._process.stdout:
                lines.put(line.strip())
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        try:
            bootstrap = lines.get(timeout=START_TIMEOUT_S)
            control = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            bootstrap = control = None
        if not bootstrap or not control or not control.startswith("control="):
            self.stop()
            raise BrokerSimError(0, f"broker-sim did not start ({' '.join(self.args)}):\n{self.log_tail()}")
        self.bootstrap_servers = bootstrap
        self.control_url = control.removeprefix("control=")
        return self

    def stop(self) -> None:
        """Stops the cluster and frees its ports (the log file stays for `log_tail`)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()

    close = stop

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    async def __aenter__(self) -> "Cluster":
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def log_path(self) -> Optional[str]:
        return None if self._log is None else self._log.name

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the cluster's log."""
        if self._log is None:
            return ""
        with open(self._log.name, errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def __repr__(self) -> str:
        return f"Cluster(bootstrap_servers={self.bootstrap_servers!r}, control_url={self.control_url!r})"

    # The control API.

    def control(self, method: str, path: str, body: Any = None, timeout: float = DEFAULT_TIMEOUT_S) -> Any:
        """One control API call (the escape hatch for endpoints without a method here):
        the parsed JSON answer, or `BrokerSimError`/`KafkaError`/`WaitTimeout`."""
        if not self.control_url:
            raise BrokerSimError(0, "the cluster is not running")
        data = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"}
        if self._token:
            headers["authorization"] = "Bearer " + self._token
        request = urllib.request.Request(self.control_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read()
                kind = response.headers.get("content-type", "")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                answer = json.loads(raw)
            except ValueError:
                answer = {"error": raw.decode(errors="replace")}
            # The schema registry's endpoints answer as Confluent's do: `error_code` and
            # `message` (a number such as 40401 for code).
            code = answer.get("code") or answer.get("error_code")
            message = answer.get("error", answer.get("message", ""))
            error = WaitTimeout if e.code == 408 else KafkaError if answer.get("code") else BrokerSimError
            raise error(e.code, message, code, answer.get("state")) from None
        except urllib.error.URLError as e:
            raise BrokerSimError(0, f"no control API at {self.control_url}: {e.reason}") from None
        if "json" not in kind:
            return text.decode()
        return json.loads(text) if text else None

    @staticmethod
    def _q(route: str, **params: Any) -> str:
        query = {k: v for k, v in params.items() if v is not None}
        return route + ("?" + urllib.parse.urlencode(query) if query else "")

    @staticmethod
    def _p(name: str) -> str:
        return urllib.parse.quote(name, safe="")

    # Topics and records.

    def topics(self) -> list[str]:
        return self.control("GET", "/v1/topics")["topics"]

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        replication_factor: Optional[int] = None,
        configs: Optional[Mapping[str, str]] = None,
    ) -> None:
        body: dict = {"name": name, "partitions": partitions}
        if replication_factor is not None:
            body["replication_factor"] = replication_factor
        if configs:
            body["configs"] = dict(configs)
        self.control("POST", "/v1/topics", body)

    def partitions(self, topic: str) -> list[PartitionInfo]:
        """Each partition's leader, replicas, ISR and offsets."""
        described = self.control("GET", f"/v1/topics/{self._p(topic)}")
        return [
            PartitionInfo(
                partition=p["partition"],
                leader=p.get("leader"),
                replicas=p["replicas"],
                isr=p["isr"],
                high_watermark=p["high_watermark"],
                log_start_offset=p["log_start_offset"],
                raw=p,
            )
            for p in described["partitions"]
        ]

    def topic_configs(self, topic: str) -> dict[str, str]:
        return self.control("GET", f"/v1/topics/{self._p(topic)}")["configs"]

    def records(
        self, topic: str, partition: Optional[int] = None, isolation: Optional[str] = None
    ) -> list[Record]:
        """Every record of the topic (or one partition), by partition then offset;
        `isolation="read_committed"` for what a read_committed consumer reads."""
        partitions = [partition] if partition is not None else range(len(self.partitions(topic)))
        records: list[Record] = []
        for p in partitions:
            offset = 0
            while True:
                page = self.control(
                    "GET",
                    self._q(f"/v1/topics/{self._p(topic)}/records", partition=p, offset=offset,
                            limit=10_000, isolation=isolation),
                )
                records += [Record.from_json(topic, r) for r in page["records"]]
                if not page["records"]:
                    break
                offset = page["next_offset"]
        return records

    def produce(
        self,
        topic: str,
        value: Union[bytes, str, None],
        key: Union[bytes, str, None] = None,
        partition: Optional[int] = None,
        headers: Optional[Union[Mapping[str, Union[bytes, str]], Iterable[tuple[str, Union[bytes, str]]]]] = None,
        timestamp: Optional[int] = None,
    ) -> tuple[int, int]:
        """Writes one record as a producer would (to `partition`, else by key as the Java
        partitioner, else round robin); returns (partition, offset)."""
        return self.produce_records(topic, [dict(value=value, key=key, partition=partition,
                                                 headers=headers, timestamp=timestamp)])[0]

    def produce_records(self, topic: str, records: Iterable[Mapping[str, Any]]) -> list[tuple[int, int]]:
        """Writes several records (each a dict of `produce`'s arguments) in order."""
        body = {"records": [_record_json(r) for r in records]}
        written = self.control("POST", f"/v1/topics/{self._p(topic)}/records", body)["records"]
        return [(w["partition"], w["offset"]) for w in written]

    # Brokers.

    def brokers(self) -> list[BrokerStatus]:
        return [_pick(BrokerStatus, b) for b in self.control("GET", "/v1/cluster")["brokers"]]

    def cluster_id(self) -> str:
        return self.control("GET", "/v1/cluster")["cluster_id"]

    def controller_id(self) -> int:
        return self.control("GET", "/v1/cluster")["controller"]

    def _broker(self, broker: int, action: str) -> BrokerStatus:
        return _pick(BrokerStatus, self.control("POST", f"/v1/brokers/{int(broker)}/{action}"))

    def stop_broker(self, broker: int) -> BrokerStatus:
        return self._broker(broker, "stop")

    def start_broker(self, broker: int) -> BrokerStatus:
        return self._broker(broker, "start")

    def restart_broker(self, broker: int) -> BrokerStatus:
        return self._broker(broker, "restart")

    def isolate_broker(self, broker: int) -> BrokerStatus:
        return self._broker(broker, "isolate")

    def heal_broker(self, broker: int) -> BrokerStatus:
        return self._broker(broker, "heal")

    def move_leader(self, topic: str, partition: int, broker: int) -> None:
        self.control("POST", f"/v1/topics/{self._p(topic)}/partitions/{partition}/leader", {"broker": broker})

    # Faults.

    def inject(self, fault: Union[Fault, Mapping[str, Any]]) -> int:
        """Adds a fault rule; returns its id."""
        rule = fault.to_json() if isinstance(fault, Fault) else dict(fault)
        return self.control("POST", "/v1/faults", rule)["id"]

    def faults(self) -> list[FaultStatus]:
        return [FaultStatus(id=f["id"], hits=f["hits"], raw=f) for f in self.control("GET", "/v1/faults")["faults"]]

    def fault_hits(self, fault_id: int) -> int:
        return self.control("GET", f"/v1/faults/{int(fault_id)}")["hits"]

    def remove_fault(self, fault_id: int) -> None:
        self.control("DELETE", f"/v1/faults/{int(fault_id)}")

    def clear_faults(self) -> None:
        self.control("DELETE", "/v1/faults")

    # Groups.

    def groups(self) -> list[str]:
        return self.control("GET", "/v1/groups")["groups"]

    def group(self, group_id: str) -> Optional[GroupInfo]:
        """The group, or None if the cluster has no such group."""
        try:
            return GroupInfo.from_json(self.control("GET", f"/v1/groups/{self._p(group_id)}"))
        except BrokerSimError as e:
            if e.status == 404:
                return None
            raise

    def expire_member(self, group_id: str, member_id: str) -> GroupInfo:
        """Removes a member now, as if its session timed out (a consumer "crash")."""
        path = f"/v1/groups/{self._p(group_id)}/members/{self._p(member_id)}/expire"
        return GroupInfo.from_json(self.control("POST", path))

    def reset_group_offsets(
        self,
        group_id: str,
        topic: str,
        to: Optional[str] = None,
        offset: Optional[int] = None,
        timestamp: Optional[int] = None,
    ) -> GroupInfo:
        """Sets the group's committed offsets on every partition of `topic`: `to=
        "earliest"`/`"latest"`, an `offset`, or the first at `timestamp` (ms)."""
        body = {k: v for k, v in dict(topic=topic, to=to, offset=offset, timestamp=timestamp).items() if v is not None}
        return GroupInfo.from_json(self.control("POST", f"/v1/groups/{self._p(group_id)}/reset-offsets", body))

    def group_lag(self, group_id: str, topic: Optional[str] = None) -> list[PartitionLag]:
        """The group's lag per partition: what it committed to or owns, or every
        partition of `topic`."""
        answer = self.control("GET", self._q(f"/v1/groups/{self._p(group_id)}/lag", topic=topic))
        return [_pick(PartitionLag, p) for p in answer["partitions"]]

    # Waits.

    def wait_for_group(
        self,
        group_id: str,
        members: Optional[int] = None,
        state: str = "Stable",
        timeout: Seconds = DEFAULT_TIMEOUT_S,
    ) -> GroupInfo:
        """Blocks until the group is in `state` (Stable: every member assigned, no
        rebalance pending) with `members` members (any number if None); returns it, or
        raises `WaitTimeout` with the group as it was."""
        t = _seconds(timeout)
        path = self._q(f"/v1/groups/{self._p(group_id)}", wait=state, members=members, timeout_ms=int(t * 1000))
        return GroupInfo.from_json(self.control("GET", path, timeout=t + DEFAULT_TIMEOUT_S))

    def wait_for_lag(
        self, group_id: str, max_lag: int = 0, topic: Optional[str] = None, timeout: Seconds = DEFAULT_TIMEOUT_S
    ) -> list[PartitionLag]:
        """Blocks until the group's total lag (see `group_lag`) is at most `max_lag` — 0:
        it has committed everything there is."""
        t = _seconds(timeout)
        path = self._q(f"/v1/groups/{self._p(group_id)}/lag", topic=topic, wait=max_lag, timeout_ms=int(t * 1000))
        return [_pick(PartitionLag, p) for p in self.control("GET", path, timeout=t + DEFAULT_TIMEOUT_S)["partitions"]]

    def wait_for_records(
        self, topic: str, n: int, partition: Optional[int] = None, timeout: Seconds = DEFAULT_TIMEOUT_S
    ) -> list[Record]:
        """Blocks until the topic (or partition) holds at least `n` records; returns them
        all (what `records` returns)."""
        t = _seconds(timeout)
        path = self._q(f"/v1/topics/{self._p(topic)}/records", partition=partition, wait=n,
                       timeout_ms=int(t * 1000), limit=0)
        self.control("GET", path, timeout=t + DEFAULT_TIMEOUT_S)
        return self.records(topic, partition)

    # The request log.

    def requests(
        self,
        api: Optional[str] = None,
        client_id: Optional[str] = None,
        broker: Optional[int] = None,
        topic: Optional[str] = None,
        group: Optional[str] = None,
        error: Optional[str] = None,
        since: Optional[int] = None,
        limit: Optional[int] = None,
    ) -> list[RequestLogEntry]:
        """The requests the brokers answered, oldest first, filtered: `api` by Kafka's
        name ("Produce"), `error` an error name in the answer, `since` a `seq`."""
        path = self._q("/v1/requests", api=api, client_id=client_id, broker=broker, topic=topic,
                       group=group, error=error, since=since, limit=limit)
        return [RequestLogEntry.from_json(r) for r in self.control("GET", path)["requests"]]

    def clear_requests(self) -> None:
        self.control("DELETE", "/v1/requests")

    # Snapshots.

    def snapshot(self, path: Optional[Union[str, os.PathLike]] = None) -> Union[dict, str]:
        """The cluster's topics, records, group offsets and configs: with `path`, written
        to that file (returns the path), else returned as the snapshot document. Start a
        copy with `Cluster(snapshot=path)`."""
        if path is None:
            return self.control("POST", "/v1/snapshot", timeout=120)
        full = os.path.abspath(os.fspath(path))
        self.control("POST", self._q("/v1/snapshot", path=full), timeout=120)
        return full

    # Fault schedules and the history checks.

    def run_schedule(self, schedule: Any) -> int:
        """Runs a fault schedule (`broker_sim.schedules.Schedule`, or its JSON) on the
        cluster, each step when its moment comes; returns its id."""
        body = schedule.to_json() if hasattr(schedule, "to_json") else schedule
        return self.control("POST", "/v1/schedules", body)["id"]

    def schedule_status(self, schedule_id: int) -> ScheduleStatus:
        j = self.control("GET", f"/v1/schedules/{int(schedule_id)}")
        return ScheduleStatus(id=j["id"], done=j["done"], applied=j["applied"], pending=j["pending"])

    def stop_schedule(self, schedule_id: int) -> None:
        self.control("DELETE", f"/v1/schedules/{int(schedule_id)}")

    def wait_for_schedule(self, schedule_id: int, timeout: Seconds = DEFAULT_TIMEOUT_S) -> ScheduleStatus:
        """Blocks until every step of the schedule was applied (looking every 10 ms, up
        to `timeout`); a schedule whose moments need a manual clock moved waits for that."""
        deadline = time.monotonic() + _seconds(timeout)
        while True:
            status = self.schedule_status(schedule_id)
            if status.done:
                return status
            if time.monotonic() > deadline:
                raise WaitTimeout(408, f"schedule {schedule_id} still has {len(status.pending)} steps pending",
                                  state=status.pending)
            time.sleep(0.01)

    def checks(self, name: Optional[str] = None, schedule: Optional[int] = None) -> CheckReport:
        """Runs the history checks that need nothing from the application (all, or one:
        lost_acks, duplicates, log_order, delivery, coverage, commits); with `schedule`,
        each violation lists that schedule's steps around it."""
        path = "/v1/checks" + (f"/{name}" if name else "")
        return CheckReport.from_json(self.control("GET", self._q(path, schedule=schedule)))

    def check(self, name: str, body: Mapping[str, Any], schedule: Optional[int] = None) -> CheckReport:
        """A check that needs the application's part: `exactly_once`, `handled` or
        `sent_order`, with its JSON body (see the README)."""
        path = self._q(f"/v1/checks/{name}", schedule=schedule)
        return CheckReport.from_json(self.control("POST", path, dict(body)))

    # Time and metrics.

    def now_ms(self) -> int:
        return self.control("GET", "/v1/clock")["now_ms"]

    def has_manual_clock(self) -> bool:
        return self.control("GET", "/v1/clock")["manual"]

    def advance(self, by: Union[Seconds, None] = None, ms: Optional[int] = None) -> int:
        """Moves a manual clock on (`by` seconds or a timedelta, or `ms`), firing every
        deadline it passes; returns the new time in ms."""
        step = ms if ms is not None else int(_seconds(by or 0) * 1000)
        return self.control("POST", "/v1/clock/advance", {"ms": step})["now_ms"]

    def metrics(self) -> str:
        """Prometheus's text format, as `GET /metrics` serves it."""
        return self.control("GET", "/metrics")

    # The schema registry: Confluent's REST API on the control port, so a
    # `SchemaRegistryClient({"url": cluster.schema_registry_url})` talks to it.

    @property
    def schema_registry_url(self) -> Optional[str]:
        """The schema registry's URL (the control API's): the `url` for Confluent's
        `SchemaRegistryClient` and serializers."""
        return self.control_url

    def register_schema(
        self,
        subject: str,
        schema: str,
        schema_type: str = "AVRO",
        references: Optional[Iterable[Mapping[str, Any]]] = None,
    ) -> int:
        """Registers `schema` under `subject` (compatibility rules apply) and returns its
        id; `references` are `{"name", "subject", "version"}` entries."""
        body: dict = {"schema": schema, "schemaType": schema_type}
        if references:
            body["references"] = [dict(r) for r in references]
        return self.control("POST", f"/subjects/{self._p(subject)}/versions", body)["id"]

    def subjects(self) -> list[str]:
        return self.control("GET", "/subjects")

    def schema_versions(self, subject: str) -> list[int]:
        return self.control("GET", f"/subjects/{self._p(subject)}/versions")

    def schema_version(self, subject: str, version: Union[int, str] = "latest") -> dict:
        """`{"subject", "version", "id", "schemaType", "schema", "references"}` as the
        registry answers it."""
        return self.control("GET", f"/subjects/{self._p(subject)}/versions/{version}")

    def schema_by_id(self, schema_id: int) -> dict:
        return self.control("GET", f"/schemas/ids/{schema_id}")

    def schema_violations(self, topic: str) -> list[SchemaViolation]:
        """Every record of `topic` whose value (and key, when `<topic>-key` has schemas) is
        not a valid message of a schema registered under its TopicNameStrategy subject:
        `assert cluster.schema_violations("orders") == []`."""
        answer = self.control("GET", f"/v1/topics/{self._p(topic)}/schema-violations")
        return [SchemaViolation.from_json(topic, v) for v in answer["violations"]]

    def transaction(self, transactional_id: str) -> Optional[dict]:
        try:
            return self.control("GET", f"/v1/transactions/{self._p(transactional_id)}")
        except BrokerSimError as e:
            if e.status == 404:
                return None
            raise


def _pick(cls: Any, j: Mapping[str, Any]) -> Any:
    """A dataclass from the JSON fields it names; fields a newer cluster adds are
    ignored."""
    return cls(**{k: j[k] for k in cls.__dataclass_fields__ if k in j})


def _encoded(data: Union[bytes, str, None], name: str) -> dict:
    if data is None:
        return {name: None}
    if isinstance(data, str):
        return {name: data, f"{name}_encoding": "utf8"}
    return {name: base64.b64encode(data).decode(), f"{name}_encoding": "base64"}


def _record_json(r: Mapping[str, Any]) -> dict:
    out: dict = {}
    out.update(_encoded(r.get("value"), "value"))
    if r.get("key") is not None:
        out.update(_encoded(r["key"], "key"))
    for name in ("partition", "timestamp"):
        if r.get(name) is not None:
            out[name] = r[name]
    headers = r.get("headers") or []
    if isinstance(headers, Mapping):
        headers = list(headers.items())
    if headers:
        out["headers"] = [{"key": k, **_encoded(v, "value")} for k, v in headers]
    return out


class _Async:
    """`cluster.aio`: every method of the cluster as a coroutine run on a worker thread."""

    def __init__(self, cluster: Cluster):
        self._cluster = cluster

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._cluster, name)
        if not callable(method):
            raise AttributeError(name)

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(method, *args, **kwargs)

        return call
