"""Helpers for the Python client suites: bounded waits and checks of a group's split.

Nothing here sleeps to synchronise. A wait calls a step that blocks on the client for a
short, bounded time (a consumer's poll, which is also what drives its group membership)
and checks its condition after every step, until a deadline; on timeout it fails with
what it was waiting for and the state it saw.
"""

import contextlib
import json
import os
import subprocess
import time
import urllib.request

# Long enough for any rebalance these tests cause (heartbeats are every 500 ms), short
# enough that a broken broker fails the run quickly.
DEADLINE_S = 30.0

RECORD_COUNT = 60


def wait_until(step, done, what, state=lambda: "", timeout=DEADLINE_S):
    deadline = time.monotonic() + timeout
    while True:
        step()
        if done():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; saw {state()}")


async def wait_until_async(step, done, what, state=lambda: "", timeout=DEADLINE_S):
    deadline = time.monotonic() + timeout
    while True:
        await step()
        if done():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; saw {state()}")


def evenly_split(assignments, partitions):
    """True when the members' partition sets are disjoint, cover `partitions` and are of
    equal size: what range, round-robin and sticky assignors all give for a group whose
    size divides the partition count."""
    share = len(partitions) // len(assignments)
    return (
        all(len(a) == share for a in assignments)
        and set().union(*assignments) == set(partitions)
    )


# The cluster's control API (the binary's HTTP/JSON API; run.sh exports its address): what
# the tests read to check the broker's side of each step, and how they restart brokers.

def control(method, path, body=None, base=None):
    base = base or os.environ["BROKER_SIM_CONTROL"]
    data = None if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if os.environ.get("BROKER_SIM_CONTROL_TOKEN"):
        headers["authorization"] = "Bearer " + os.environ["BROKER_SIM_CONTROL_TOKEN"]
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=DEADLINE_S) as response:
        text = response.read()
    return json.loads(text) if text else None


_CLUSTER = None


def cluster():
    """The suite's cluster as a `broker_sim.Cluster` (the Python package run.sh installs),
    for its waits: `cluster().wait_for_group(group, members=2)` answers the moment the
    broker has the group settled, where a client-side check would poll."""
    global _CLUSTER
    if _CLUSTER is None:
        import broker_sim
        _CLUSTER = broker_sim.Cluster.connect()
    return _CLUSTER


def settled_split(group, topic, members, partitions):
    """Waits until `group` is Stable with `members` members (the broker's view, so no
    rebalance is pending) and checks they split `partitions` of `topic` evenly."""
    settled = cluster().wait_for_group(group, members=members, timeout=DEADLINE_S)
    split = [set(m.assignment.get(topic, [])) for m in settled.members]
    assert evenly_split(split, range(partitions)), settled


async def settled_split_async(group, topic, members, partitions):
    """`settled_split` from asyncio code: the wait runs on a worker thread, so the
    consumers' own tasks (heartbeats, joins) keep running on the event loop."""
    settled = await cluster().aio.wait_for_group(group, members=members, timeout=DEADLINE_S)
    split = [set(m.assignment.get(topic, [])) for m in settled.members]
    assert evenly_split(split, range(partitions)), settled


TOPOLOGY = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "topology.toml")


@contextlib.contextmanager
def topology_cluster():
    """The example service layout (examples/topology.toml: 3 brokers, six event topics
    with replication 3, min.insync.replicas 2 and a .dlq each), started by the broker-sim
    package from its wheel's binary."""
    import broker_sim
    with broker_sim.Cluster(config=TOPOLOGY, log_level="warn") as started:
        yield started


def check_topology_writes(cluster, sent):
    """What `sent` ((topic, key, value) each, produced with acks=all) left in the topology
    cluster: every record once, and both topics of the example's layout replicated."""
    for topic in {t for t, _, _ in sent}:
        expected = sorted((k, v) for t, k, v in sent if t == topic)
        stored = cluster.wait_for_records(topic, len(expected), timeout=DEADLINE_S)
        assert sorted((r.key, r.value) for r in stored) == expected, topic
        assert all(len(p.isr) == 3 for p in cluster.partitions(topic)), topic


@contextlib.contextmanager
def own_cluster(*args):
    """A cluster of the test's own: the broker-sim binary run.sh built, on free ports,
    with `args` (`--manual-clock`, say); yields (bootstrap, control API base URL) and
    stops it afterwards."""
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "broker-sim")
    process = subprocess.Popen([binary, "--port", "0", "--control-port", "0", "--log-level", "warn", *args],
                               stdout=subprocess.PIPE, text=True)
    try:
        bootstrap = process.stdout.readline().strip()
        base = process.stdout.readline().strip().removeprefix("control=")
        assert bootstrap and base.startswith("http"), (bootstrap, base)
        yield bootstrap, base
    finally:
        process.kill()
        process.wait()


@contextlib.contextmanager
def secured_cluster():
    """A cluster of the test's own with SASL_PLAINTEXT and SSL listeners besides PLAINTEXT,
    user alice (password alice-secret) for PLAIN and SCRAM, and the CA the cluster generated;
    yields {"SASL": bootstrap, "TLS": bootstrap, "ca_pem": PEM text}."""
    with own_cluster("--listener", "PLAINTEXT", "--listener", "SASL:SASL_PLAINTEXT",
                     "--listener", "TLS:SSL", "--sasl-user", "alice:alice-secret") as (_, base):
        listeners = {l["name"]: l["bootstrap"] for l in control("GET", "/v1/listeners", base=base)["listeners"]}
        headers = {}
        if os.environ.get("BROKER_SIM_CONTROL_TOKEN"):
            headers["authorization"] = "Bearer " + os.environ["BROKER_SIM_CONTROL_TOKEN"]
        request = urllib.request.Request(base + "/v1/tls/ca.pem", headers=headers)
        with urllib.request.urlopen(request, timeout=DEADLINE_S) as response:
            listeners["ca_pem"] = response.read().decode()
        yield listeners


def check_topic_created(topic, partitions, replicas=3):
    """The cluster has `topic` with `partitions` partitions of `replicas` replicas, all in sync."""
    described = control("GET", f"/v1/topics/{topic}")
    assert [p["partition"] for p in described["partitions"]] == list(range(partitions)), described
    for p in described["partitions"]:
        assert len(p["replicas"]) == replicas and sorted(p["isr"]) == sorted(p["replicas"]), p


def stored_records(topic):
    """Every record of `topic` as the cluster stores it: (partition, offset, key, value) as text."""
    answer = control("GET", f"/v1/topics/{topic}/records?limit=100000")
    return [(r["partition"], r["offset"], r["key"], r["value"]) for r in answer["records"]]


def check_keyed_records_stored(topic, partitions, sent):
    """Each (key, value) of `sent` is stored exactly once, in the partition Java's murmur2
    partitioner gives its key, and each partition's offsets run from 0 without a gap."""
    stored = stored_records(topic)
    assert sorted((k, v) for _, _, k, v in stored) == sorted(sent)
    for p, _, key, _ in stored:
        assert p == java_partition(key.encode(), partitions), (key, p)
    for p in range(partitions):
        offsets = [o for q, o, _, _ in stored if q == p]
        assert offsets == list(range(len(offsets))), (p, offsets)


def check_group_committed_everything(group, topic, partitions):
    """The group has committed the high watermark of every partition of `topic`: lag 0."""
    described = control("GET", f"/v1/groups/{group}")
    offsets = [o for o in described["offsets"] if o["topic"] == topic]
    assert [o["partition"] for o in offsets] == list(range(partitions)), described
    for o in offsets:
        assert o["offset"] == o["high_watermark"] and o["lag"] == 0, o


def restart_coordinator(group):
    """Restarts the broker coordinating `group` (it drops every connection, comes back on
    its port, and the group's coordinator moves away and back); returns its id."""
    coordinator = control("GET", f"/v1/groups/{group}")["coordinator"]
    control("POST", f"/v1/brokers/{coordinator}/restart")
    return coordinator


def java_partition(key, partitions):
    """The partition the Java client's default partitioner gives `key`."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def murmur2(data):
    """Kafka's murmur2 (seed 0x9747b28c), on 32-bit signed arithmetic as in Java."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(length // 4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = length % 4
    base = length - tail
    if tail == 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h
