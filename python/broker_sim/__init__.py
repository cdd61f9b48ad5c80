"""broker-sim for Python: a real-protocol Kafka cluster for tests, in one `pip install`.

    from broker_sim import Cluster

    with Cluster(brokers=3, topics={"orders": 6}) as cluster:
        producer = KafkaProducer(bootstrap_servers=cluster.bootstrap_servers)
        ...
        cluster.wait_for_records("orders", 1)

With pytest the plugin is enabled by installing the package: use the `kafka_cluster`
fixture (a cluster per test; `@pytest.mark.broker_sim(brokers=1, topics={...})` sets it
up) or `kafka_cluster_session` (one for the session). Fault schedules and the history
checks are in `broker_sim.schedules` (`cluster.run_schedule`, `cluster.checks`), their
Hypothesis strategies in `broker_sim.hypothesis`. See the README for the rest.
"""

from ._cluster import DEFAULT_TIMEOUT_S, Cluster, binary_path
from . import schedules
from ._faults import Fault, FaultStatus, Selector
from ._types import (
    BrokerSimError,
    BrokerStatus,
    GroupInfo,
    GroupOffset,
    KafkaError,
    MemberInfo,
    PartitionInfo,
    PartitionLag,
    Record,
    RequestLogEntry,
    SchemaViolation,
    WaitTimeout,
)

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "BrokerSimError",
    "BrokerStatus",
    "Cluster",
    "Fault",
    "FaultStatus",
    "GroupInfo",
    "GroupOffset",
    "KafkaError",
    "MemberInfo",
    "PartitionInfo",
    "PartitionLag",
    "Record",
    "RequestLogEntry",
    "SchemaViolation",
    "Selector",
    "WaitTimeout",
    "binary_path",
    "schedules",
]
