"""The pytest plugin (enabled by installing the package, through the `pytest11` entry
point): the `kafka_cluster` and `kafka_cluster_session` fixtures, the `broker_sim` marker,
and a report of the cluster's side of a failing test.

Fixtures:
- `kafka_cluster`: a fresh cluster for each test (it starts in milliseconds). The marker
  `@pytest.mark.broker_sim(brokers=1, topics={"orders": 6}, ...)` passes its keywords to
  `Cluster`; without it the cluster has 3 brokers and creates topics on first use.
- `kafka_cluster_session`: one cluster for the whole session, from the ini options
  `broker_sim_config` (a topology file) or `broker_sim_session_args` (`Cluster` keywords
  as `name=value` lines).

The initial rebalance delay. broker-sim assigns a group's first consumer at once
(`group.initial.rebalance.delay.ms` 0; Kafka waits 3 s). kafka-python's consumer
(checked with 3.0.12 and 2.0.2) loses its heartbeat when the immediate join is followed
by a second one, and is then timed out of its group, so a cluster started while
kafka-python is imported gets Kafka's 3000 ms; other clients keep 0. A marker keyword
`group_initial_rebalance_delay_ms`, or the ini option of that name, decides instead; a
cluster from a topology file (`config=`) takes the file's setting.

When a test that used a cluster fails, its report gets three sections: the last requests
the brokers answered (the request log), every group's state and members, and the tail of
the cluster's log.
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

import pytest

from ._cluster import Cluster

KAFKA_DEFAULT_DELAY_MS = 3000


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "broker_sim_group_initial_rebalance_delay_ms",
        "group.initial.rebalance.delay.ms of fixture clusters (default: 3000 when "
        "kafka-python is imported, else 0)",
        default=None,
    )
    parser.addini("broker_sim_config", "a topology file for kafka_cluster_session", default=None)
    parser.addini(
        "broker_sim_session_args",
        "Cluster keywords for kafka_cluster_session, one name=value per line",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "broker_sim(**settings): the kafka_cluster fixture's Cluster keywords "
        "(brokers, topics, manual_clock, config, snapshot, or any broker-sim flag)",
    )


def default_rebalance_delay_ms(config: pytest.Config) -> int:
    """The initial rebalance delay a fixture cluster gets unless told otherwise."""
    configured = config.getini("broker_sim_group_initial_rebalance_delay_ms")
    if configured not in (None, ""):
        return int(configured)
    return KAFKA_DEFAULT_DELAY_MS if _kafka_python_imported() else 0


def _kafka_python_imported() -> bool:
    module = sys.modules.get("kafka")
    return module is not None and hasattr(module, "KafkaConsumer")


def _settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    # Markers closest to the test last, so a test's own marker wins over its class's.
    for marker in reversed(list(request.node.iter_markers("broker_sim"))):
        settings.update(marker.kwargs)
    # A topology file says its own group.initial.rebalance.delay.ms, or takes broker-sim's.
    if "config" not in settings:
        settings.setdefault("group_initial_rebalance_delay_ms", default_rebalance_delay_ms(request.config))
    return settings


def _remember(request: pytest.FixtureRequest, cluster: Cluster) -> None:
    clusters = getattr(request.node, "_broker_sim_clusters", [])
    clusters.append(cluster)
    request.node._broker_sim_clusters = clusters


@pytest.fixture
def kafka_cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """A broker-sim cluster of the test's own (`@pytest.mark.broker_sim(...)` sets it up)."""
    with Cluster(**_settings(request)) as cluster:
        _remember(request, cluster)
        yield cluster


@pytest.fixture(scope="session")
def kafka_cluster_session(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """One broker-sim cluster for the session (ini: `broker_sim_config`,
    `broker_sim_session_args`)."""
    settings: dict[str, Any] = {}
    for line in request.config.getini("broker_sim_session_args"):
        name, _, value = line.partition("=")
        settings[name.strip()] = value.strip()
    config = request.config.getini("broker_sim_config")
    if config:
        settings["config"] = request.config.rootpath / config
    if "config" not in settings:
        settings.setdefault("group_initial_rebalance_delay_ms", default_rebalance_delay_ms(request.config))
    with Cluster(**settings) as cluster:
        yield cluster


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    clusters = list(getattr(item, "_broker_sim_clusters", []))
    session = getattr(item, "funcargs", {}).get("kafka_cluster_session")
    if session is not None and session not in clusters:
        clusters.append(session)
    for cluster in clusters:
        for title, text in failure_sections(cluster):
            report.sections.append((f"broker-sim {title} ({cluster.bootstrap_servers})", text))


def failure_sections(cluster: Cluster, requests: int = 30) -> list[tuple[str, str]]:
    """What a failing test's report shows of `cluster`: the last requests, the groups and
    the log's tail (each best effort: the cluster may be what failed)."""
    sections = []
    try:
        entries = cluster.requests(limit=requests)
        lines = [
            f"#{e.seq} t={e.time_ms} broker {e.broker} {e.client_id or '-'} {e.api} v{e.api_version}"
            + (f" group={e.group}" if e.group else "")
            + (" " + ",".join(f"{t}-{p}" for t, p in e.partitions()) if e.topics else "")
            + (f" errors={','.join(e.errors)}" if e.errors else "")
            for e in entries
        ]
        sections.append(("requests", "\n".join(lines) or "(none)"))
    except Exception as e:  # the report must not hide the test's own failure
        sections.append(("requests", f"(unavailable: {e})"))
    try:
        lines = []
        for group_id in cluster.groups():
            g = cluster.group(group_id)
            if g is None:
                continue
            lines.append(f"{g.group_id}: {g.state} generation {g.generation}, lag {g.total_lag}")
            for m in g.members:
                lines.append(f"  {m.member_id} ({m.client_id}): {m.assignment}")
        sections.append(("groups", "\n".join(lines) or "(none)"))
    except Exception as e:
        sections.append(("groups", f"(unavailable: {e})"))
    sections.append(("log", cluster.log_tail() or "(empty)"))
    return sections
