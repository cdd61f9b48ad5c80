"""The order service against a broker-sim cluster per test (the `kafka_cluster` fixture
of the broker-sim package): each test is the service's own code, the real Kafka clients,
and a few lines asking the cluster what happened."""

import pytest
from broker_sim import Fault

from orders_service.publisher import OrderPublisher
from orders_service.worker import GROUP, OrderWorker

# Three brokers, as production: acks=all needs two in-sync replicas.
pytestmark = pytest.mark.broker_sim(
    brokers=3, topics={"orders": 6, "orders.dlq": 1}, no_auto_create=True, min_insync_replicas=2
)


@pytest.fixture
def publisher(kafka_cluster):
    publisher = OrderPublisher(kafka_cluster.bootstrap_servers)
    yield publisher
    publisher.close()


@pytest.fixture
def processed():
    """The orders the workers handled, in order (list.append is thread-safe)."""
    return []


@pytest.fixture
def start_worker(kafka_cluster, processed):
    workers = []

    def start(client_id="order-worker"):
        workers.append(OrderWorker(kafka_cluster.bootstrap_servers, processed.append, client_id=client_id).start())
        return workers[-1]

    yield start
    for worker in workers:
        worker.stop()


def test_an_order_is_processed_then_committed(kafka_cluster, publisher, start_worker, processed):
    start_worker()
    publisher.publish({"id": "o-1", "total": 12})
    kafka_cluster.wait_for_lag(GROUP, 0, topic="orders")
    assert processed == [{"id": "o-1", "total": 12}]


def test_a_poison_record_goes_to_the_dead_letter_topic(kafka_cluster, publisher, start_worker, processed):
    start_worker()
    kafka_cluster.produce("orders", "not json", key="o-2")
    publisher.publish({"id": "o-2"})
    [dead] = kafka_cluster.wait_for_records("orders.dlq", 1)
    assert dead.value == b"not json" and dead.header("error").startswith(b"not JSON")
    kafka_cluster.wait_for_lag(GROUP, 0, topic="orders")
    assert processed == [{"id": "o-2"}]


def test_a_crashed_worker_s_partitions_are_taken_over(kafka_cluster, publisher, start_worker, processed):
    crashing, _ = start_worker("worker-a"), start_worker("worker-b")
    group = kafka_cluster.wait_for_group(GROUP, members=2)
    # A crash: worker-a's LeaveGroup never arrives, and its session ends now.
    kafka_cluster.inject(Fault.on("LeaveGroup").client_id("worker-a").close_connection())
    crashing.stop()
    [gone] = [m for m in group.members if m.client_id == "worker-a"]
    kafka_cluster.expire_member(GROUP, gone.member_id)
    [survivor] = kafka_cluster.wait_for_group(GROUP, members=1).members
    assert survivor.assignment == {"orders": [0, 1, 2, 3, 4, 5]}
    for i in range(12):
        publisher.publish({"id": f"o-{i}"})
    kafka_cluster.wait_for_lag(GROUP, 0, topic="orders")
    assert sorted(o["id"] for o in processed) == sorted(f"o-{i}" for i in range(12))


def test_no_acknowledged_order_is_lost_when_a_broker_restarts(kafka_cluster, publisher):
    orders = [{"id": f"o-{i}"} for i in range(30)]
    leader = kafka_cluster.partitions("orders")[0].leader
    for order in orders[:10]:
        publisher.publish(order)
    kafka_cluster.stop_broker(leader)
    for order in orders[10:20]:
        publisher.publish(order)
    kafka_cluster.start_broker(leader)
    for order in orders[20:]:
        publisher.publish(order)
    written = sorted((r.value_json() for r in kafka_cluster.records("orders")), key=lambda o: int(o["id"][2:]))
    assert written == orders


def test_lag_counts_the_orders_not_processed_yet(kafka_cluster, publisher, start_worker):
    start_worker().stop()
    for i in range(5):
        publisher.publish({"id": f"o-{i}"})
    assert sum(p.lag for p in kafka_cluster.group_lag(GROUP, topic="orders")) == 5
    start_worker()
    assert kafka_cluster.wait_for_lag(GROUP, 0, topic="orders")
