"""confluent-kafka (librdkafka, bundled in the wheel) against broker-sim.

The compatibility steps (admin create, keyed acks=all produce, a group of two reading each
record once and committing, resuming after the coordinator restarts), then produce with
acks=all and read back, a consumer group of three sharing six partitions,
resuming from committed offsets, a cooperative-sticky group that a third member joins,
and the AdminClient's group calls; transactions: commit and abort as read_committed and
read_uncommitted consumers see them, send_offsets_to_transaction, a fenced zombie, and the
transaction coordinator's broker restarting mid-transaction, and a transaction timed out
on a manual clock (a cluster of its own); incremental config changes and a retention
change deleting old records on a manual clock; and the history checkers over HTTP judging a
group and the application's account of what it handled (a cluster of its own).
"""

import confluent_kafka
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    ConsumerGroupState,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic,
                                   ResourceType)

from support import (check_topology_writes, topology_cluster, DEADLINE_S, RECORD_COUNT, check_group_committed_everything, check_keyed_records_stored,
                     check_topic_created, control, evenly_split, own_cluster, restart_coordinator, secured_cluster,
                     settled_split, wait_until)

CLIENT = ("confluent-kafka", f"{confluent_kafka.__version__} (librdkafka {confluent_kafka.libversion()[0]})")


def create_topic(bootstrap, topic, partitions, replication_factor=3):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                             replication_factor=replication_factor)]).values()
    future.result(timeout=DEADLINE_S)


def produce(bootstrap, topic, records, **config):
    """Sends (key, value, partition or None) with acks=all; returns the delivered messages
    in the order sent, failing on any delivery error."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "client.id": "confluent-producer", **config})
    delivered = [None] * len(records)

    def on_delivery(i):
        def report(err, msg):
            assert err is None, err
            delivered[i] = msg
        return report

    for i, (k, v, p) in enumerate(records):
        extra = {} if p is None else {"partition": p}
        producer.produce(topic, key=k, value=v, on_delivery=on_delivery(i), **extra)
    assert producer.flush(DEADLINE_S) == 0, "records left undelivered"
    assert all(m is not None for m in delivered)
    return delivered


def group_consumer(bootstrap, group, name, **config):
    # On the consumer protocol (KIP-848) the broker sets the session and heartbeat.
    timing = {} if config.get("group.protocol") == "consumer" else {
        "heartbeat.interval.ms": 500,
        "session.timeout.ms": 10000,
    }
    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": name,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        **timing,
        **config,
    })


def poll_into(consumer, read, timeout=0.1):
    msg = consumer.poll(timeout)
    if msg is None:
        return
    if msg.error():
        raise KafkaException(msg.error())
    read.append(msg)


def test_admin_creates_topic(bootstrap, unique):
    topic = unique("topic")
    create_topic(bootstrap, topic, 4)
    check_topic_created(topic, 4)


def test_keyed_produce_with_acks_all_lands_by_murmur2(bootstrap, unique):
    topic = unique("topic")
    create_topic(bootstrap, topic, 4)
    sent = [(f"key-{i % 9}", f"value-{i}") for i in range(40)]
    # librdkafka hashes keys with CRC32 by default; murmur2_random is the Java client's
    # partitioner, which services mixing clients set.
    acked = produce(bootstrap, topic, [(k.encode(), v.encode(), None) for k, v in sent],
                    partitioner="murmur2_random")
    assert len(acked) == len(sent)
    check_keyed_records_stored(topic, 4, sent)


def test_group_of_two_reads_each_record_once_and_commits(bootstrap, unique):
    topic, group = unique("topic"), unique("group")
    create_topic(bootstrap, topic, 4)
    consumers = [group_consumer(bootstrap, group, f"{group}-{i}") for i in range(2)]
    try:
        for c in consumers:
            c.subscribe([topic])
        read = [[] for _ in consumers]

        def poll_all():
            for c, r in zip(consumers, read):
                poll_into(c, r)

        def assignments():
            return [{tp.partition for tp in c.assignment()} for c in consumers]

        # librdkafka joins on its own thread: the broker can tell when the group settled.
        settled_split(group, topic, 2, 4)
        produce(bootstrap, topic, [(f"key-{i % 9}".encode(), f"value-{i}".encode(), None) for i in range(40)])
        wait_until(poll_all, lambda: sum(map(len, read)) >= 40, "40 records", lambda: [len(r) for r in read])
        for c in consumers:
            c.commit(asynchronous=False)
        final = assignments()
    finally:
        for c in consumers:
            c.close()
    values = sorted(m.value() for ms in read for m in ms)
    assert values == sorted(f"value-{i}".encode() for i in range(40)), "each record exactly once"
    for ms, owned in zip(read, final):
        assert ms and {m.partition() for m in ms} <= owned
    check_group_committed_everything(group, topic, 4)


def test_resumes_from_commit_after_the_coordinator_restarts(bootstrap, unique):
    topic, group = unique("topic"), unique("group")
    create_topic(bootstrap, topic, 2)
    produce(bootstrap, topic, [(None, f"old-{i}".encode(), i % 2) for i in range(10)])
    first = group_consumer(bootstrap, group, "first")
    try:
        first.subscribe([topic])
        read = []
        wait_until(lambda: poll_into(first, read), lambda: len(read) >= 10, "10 records", lambda: len(read))
        first.commit(asynchronous=False)
    finally:
        first.close()
    check_group_committed_everything(group, topic, 2)

    restart_coordinator(group)
    produce(bootstrap, topic, [(None, f"new-{i}".encode(), i % 2) for i in range(4)])
    second = group_consumer(bootstrap, group, "second")
    try:
        second.subscribe([topic])
        read = []
        wait_until(lambda: poll_into(second, read), lambda: len(read) >= 4, "the 4 new records", lambda: len(read))
        # One more poll: anything committed coming again would show up now.
        poll_into(second, read, timeout=0.3)
    finally:
        second.close()
    assert sorted(m.value() for m in read) == sorted(f"new-{i}".encode() for i in range(4))


def test_keyed_records_sent_with_acks_all_are_read_back(bootstrap, unique):
    topic = unique("topic")
    create_topic(bootstrap, topic, 3)
    sent = [(f"key-{i % 7}".encode(), f"value-{i}".encode(), None) for i in range(RECORD_COUNT)]
    acked = produce(bootstrap, topic, sent)

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("unused-group"),
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(3)])
        read = []
        wait_until(lambda: poll_into(consumer, read), lambda: len(read) >= len(sent),
                   f"{len(sent)} records", lambda: f"{len(read)} records")
    finally:
        consumer.close()

    assert sorted((m.partition(), m.offset(), m.key(), m.value()) for m in read) == sorted(
        (m.partition(), m.offset(), k, v) for (k, v, _), m in zip(sent, acked)
    )
    for p in range(3):
        offsets = sorted(m.offset() for m in read if m.partition() == p)
        assert offsets == list(range(len(offsets)))
    partitions_of_key = {}
    for m in read:
        partitions_of_key.setdefault(m.key(), set()).add(m.partition())
    assert all(len(ps) == 1 for ps in partitions_of_key.values()), partitions_of_key


def share_and_read(bootstrap, topic, group, members, partitions, commit=False, settled=None, **config):
    """`members` consumers of `group` (with `config`) split `partitions` partitions of
    `topic` evenly (then `settled()` runs, if given); only then are RECORD_COUNT records
    written, so no rebalance can hand one to two members, and all are read (and committed
    if `commit`). Returns what each member read and the partitions each ended with."""
    consumers = [group_consumer(bootstrap, group, f"{group}-{i}", **config) for i in range(members)]
    try:
        for c in consumers:
            c.subscribe([topic])
        read = [[] for _ in consumers]

        def poll_all():
            for c, r in zip(consumers, read):
                poll_into(c, r)

        def assignments():
            return [{tp.partition for tp in c.assignment()} for c in consumers]

        if config.get("group.protocol") == "consumer":
            # A KIP-848 member acknowledges its assignment in the heartbeat after poll()
            # handed it to the application: that group settles only while polled.
            wait_until(poll_all, lambda: evenly_split(assignments(), range(partitions)),
                       f"{partitions // members} partitions per member", assignments)
        else:
            # A classic group's joins run on librdkafka's own thread: the broker can tell
            # when the group settled.
            settled_split(group, topic, members, partitions)
        if settled:
            settled()
        produce(bootstrap, topic,
                [(b"k", f"value-{i}".encode(), i % partitions) for i in range(RECORD_COUNT)])
        wait_until(poll_all, lambda: sum(map(len, read)) >= RECORD_COUNT, f"{RECORD_COUNT} records",
                   lambda: [len(r) for r in read])
        if commit:
            for c in consumers:
                c.commit(asynchronous=False)
        final = assignments()
    finally:
        for c in consumers:
            c.close()
    values = [m.value() for ms in read for m in ms]
    assert sorted(values) == sorted(f"value-{i}".encode() for i in range(RECORD_COUNT))
    return read, final


def test_group_of_three_splits_six_partitions_and_reads_each_record_once(bootstrap, unique):
    topic = unique("topic")
    create_topic(bootstrap, topic, 6)
    read, final = share_and_read(bootstrap, topic, unique("group"), members=3, partitions=6)
    for ms, owned in zip(read, final):
        assert {m.partition() for m in ms} == owned
        assert len(ms) == RECORD_COUNT // 3


def test_consumer_protocol_group_splits_partitions_reads_each_record_once_and_commits(bootstrap, unique):
    """KIP-848 (group.protocol=consumer): the broker assigns, members reconcile by
    heartbeat, commits carry the member epoch."""
    topic, group = unique("topic"), unique("group")
    create_topic(bootstrap, topic, 4)
    def assigned_by_the_broker():
        described = control("GET", f"/v1/groups/{group}")
        assert described["type"] == "consumer" and described["assignor"] == "uniform", described

    share_and_read(bootstrap, topic, group, members=2, partitions=4, commit=True,
                   settled=assigned_by_the_broker, **{"group.protocol": "consumer"})
    check_group_committed_everything(group, topic, 4)


def test_new_consumer_in_group_resumes_from_committed_offset(bootstrap, unique):
    topic, group = unique("topic"), unique("group")
    create_topic(bootstrap, topic, 1)
    produce(bootstrap, topic, [(None, f"value-{i}".encode(), 0) for i in range(10)])

    first = group_consumer(bootstrap, group, "first")
    try:
        first.subscribe([topic])
        read = []
        wait_until(lambda: poll_into(first, read), lambda: len(read) >= 4, "4 records", lambda: len(read))
        # Commit what was processed: everything before the fourth record's successor.
        fourth = read[3]
        assert fourth.offset() == 3
        first.commit(message=fourth, asynchronous=False)
        [committed] = first.committed([TopicPartition(topic, 0)], timeout=DEADLINE_S)
        assert committed.offset == 4
    finally:
        first.close()

    second = group_consumer(bootstrap, group, "second")
    try:
        second.subscribe([topic])
        read = []
        wait_until(lambda: poll_into(second, read), lambda: len(read) >= 6, "the 6 uncommitted records",
                   lambda: len(read))
    finally:
        second.close()
    assert [(m.offset(), m.value()) for m in read] == [(i, f"value-{i}".encode()) for i in range(4, 10)]


def test_cooperative_sticky_third_member_takes_partitions_without_moving_the_rest(bootstrap, unique):
    topic, group = unique("topic"), unique("group")
    create_topic(bootstrap, topic, 6)
    cooperative = {"partition.assignment.strategy": "cooperative-sticky"}
    consumers = [group_consumer(bootstrap, group, f"{group}-{i}", **cooperative) for i in range(2)]
    try:
        for c in consumers:
            c.subscribe([topic])
        sink = []

        def poll_all():
            for c in consumers:
                poll_into(c, sink)

        def assignments():
            return [{tp.partition for tp in c.assignment()} for c in consumers]

        wait_until(poll_all, lambda: evenly_split(assignments(), range(6)),
                   "three partitions for each of two members", assignments)
        before = assignments()

        third = group_consumer(bootstrap, group, f"{group}-2", **cooperative)
        consumers.append(third)
        third.subscribe([topic])
        wait_until(poll_all, lambda: evenly_split(assignments(), range(6)),
                   "two partitions for each of three members", assignments)
        after = assignments()

        # Sticky: the first two members only gave partitions up, one each, to the third.
        assert after[0] < before[0] and after[1] < before[1], (before, after)
        assert after[2] == (before[0] - after[0]) | (before[1] - after[1])
        assert sink == []

        admin = AdminClient({"bootstrap.servers": bootstrap})
        [future] = admin.describe_consumer_groups([group], request_timeout=DEADLINE_S).values()
        described = future.result()
        assert described.partition_assignor == "cooperative-sticky"
        assert described.state == ConsumerGroupState.STABLE
        assert sorted(m.client_id for m in described.members) == sorted(f"{group}-{i}" for i in range(3))
        assert sorted(tp.partition for m in described.members for tp in m.assignment.topic_partitions) == list(
            range(6))
    finally:
        for c in consumers:
            c.close()


def test_admin_lists_group_offsets_and_deletes_only_empty_groups(bootstrap, unique):
    topic, group = unique("topic"), unique("group")
    create_topic(bootstrap, topic, 2)
    produce(bootstrap, topic, [(None, f"value-{i}".encode(), i % 2) for i in range(6)])
    admin = AdminClient({"bootstrap.servers": bootstrap})

    consumer = group_consumer(bootstrap, group, "offsets-member")
    try:
        consumer.subscribe([topic])
        read = []
        wait_until(lambda: poll_into(consumer, read), lambda: len(read) >= 6, "6 records", lambda: len(read))
        consumer.commit(asynchronous=False)

        listed = admin.list_consumer_groups(request_timeout=DEADLINE_S).result()
        assert group in [g.group_id for g in listed.valid]

        [future] = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)]).values()
        offsets = future.result()
        assert sorted((tp.topic, tp.partition, tp.offset) for tp in offsets.topic_partitions) == [
            (topic, 0, 3), (topic, 1, 3)]

        [future] = admin.delete_consumer_groups([group], request_timeout=DEADLINE_S).values()
        try:
            future.result()
            raise AssertionError("deleting a group with a member succeeded")
        except KafkaException as e:
            assert e.args[0].code() == KafkaError.NON_EMPTY_GROUP, e
    finally:
        consumer.close()

    [future] = admin.delete_consumer_groups([group], request_timeout=DEADLINE_S).values()
    future.result()
    listed = admin.list_consumer_groups(request_timeout=DEADLINE_S).result()
    assert group not in [g.group_id for g in listed.valid]


# Transactions (librdkafka's transactional producer, transaction version 1).

def transactional_producer(bootstrap, transactional_id):
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                         "transaction.timeout.ms": 60000, "client.id": "confluent-txn"})
    producer.init_transactions(DEADLINE_S)
    return producer


def read_values(bootstrap, topic, isolation, until):
    """The values of partition 0 of `topic` up to and including `until`, as a consumer with
    `isolation` reads them."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "never-commits",
                         "enable.auto.commit": False, "isolation.level": isolation})
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        read = []
        wait_until(lambda: poll_into(consumer, read), lambda: until in [m.value() for m in read],
                   f"{until!r} read {isolation}")
        return [m.value() for m in read]
    finally:
        consumer.close()


def test_transactional_producer_commits_and_aborts_for_read_committed(bootstrap, unique):
    topic = unique("topic")
    create_topic(bootstrap, topic, 1)
    producer = transactional_producer(bootstrap, unique("txn"))
    producer.begin_transaction()
    producer.produce(topic, value=b"rolled-back", partition=0)
    # Delivered before the abort (which would otherwise purge it unsent).
    assert producer.flush(DEADLINE_S) == 0
    producer.abort_transaction(DEADLINE_S)
    producer.begin_transaction()
    producer.produce(topic, value=b"kept", partition=0)
    producer.commit_transaction(DEADLINE_S)
    assert read_values(bootstrap, topic, "read_committed", b"kept") == [b"kept"]
    assert read_values(bootstrap, topic, "read_uncommitted", b"kept") == [b"rolled-back", b"kept"]
    statuses = [r["transaction"] for r in control("GET", f"/v1/topics/{topic}/records")["records"]]
    assert statuses == ["aborted", "committed"], statuses


def test_send_offsets_to_transaction_commits_them_with_the_output(bootstrap, unique):
    source, sink, group = unique("in"), unique("out"), unique("group")
    create_topic(bootstrap, source, 1)
    create_topic(bootstrap, sink, 1)
    produce(bootstrap, source, [(None, f"v{i}".encode(), 0) for i in range(3)])
    consumer = group_consumer(bootstrap, group, f"{group}-0", **{"isolation.level": "read_committed"})
    producer = transactional_producer(bootstrap, unique("txn"))
    try:
        consumer.subscribe([source])
        read = []
        wait_until(lambda: poll_into(consumer, read), lambda: len(read) == 3, "three records")
        producer.begin_transaction()
        for m in read:
            producer.produce(sink, value=m.value().upper(), partition=0)
        producer.send_offsets_to_transaction([TopicPartition(source, 0, 3)],
                                             consumer.consumer_group_metadata(), DEADLINE_S)
        producer.commit_transaction(DEADLINE_S)
        committed = consumer.committed([TopicPartition(source, 0)], timeout=DEADLINE_S)
        assert committed[0].offset == 3
    finally:
        consumer.close()
    assert read_values(bootstrap, sink, "read_committed", b"V2") == [b"V0", b"V1", b"V2"]


def test_a_second_instance_fences_the_first(bootstrap, unique):
    topic, transactional_id = unique("topic"), unique("txn")
    create_topic(bootstrap, topic, 1)
    zombie = transactional_producer(bootstrap, transactional_id)
    zombie.begin_transaction()
    zombie.produce(topic, value=b"zombie", partition=0)
    zombie.flush(DEADLINE_S)
    successor = transactional_producer(bootstrap, transactional_id)
    successor.begin_transaction()
    successor.produce(topic, value=b"successor", partition=0)
    successor.commit_transaction(DEADLINE_S)
    try:
        zombie.commit_transaction(DEADLINE_S)
        raise AssertionError("the zombie committed")
    except KafkaException as e:
        assert e.args[0].fatal() or "fenced" in str(e).lower(), e
    assert read_values(bootstrap, topic, "read_committed", b"successor") == [b"successor"]


def test_the_coordinators_broker_restarting_mid_transaction(bootstrap, unique):
    topic, transactional_id = unique("topic"), unique("txn")
    create_topic(bootstrap, topic, 3)
    producer = transactional_producer(bootstrap, transactional_id)
    producer.begin_transaction()
    for p in range(3):
        producer.produce(topic, value=f"v{p}".encode(), partition=p)
    producer.flush(DEADLINE_S)
    coordinator = control("GET", f"/v1/transactions/{transactional_id}")["coordinator"]
    control("POST", f"/v1/brokers/{coordinator}/restart")
    producer.commit_transaction(DEADLINE_S)
    assert control("GET", f"/v1/transactions/{transactional_id}")["state"] == "CompleteCommit"
    statuses = sorted(r["transaction"] for r in control("GET", f"/v1/topics/{topic}/records")["records"])
    assert statuses == ["committed"] * 3, statuses


def test_a_transaction_left_open_past_its_timeout_is_aborted_when_the_manual_clock_passes_it(unique):
    # Its own cluster on a manual clock (the shared one runs on the system clock).
    with own_cluster("--brokers", "1", "--manual-clock") as (bootstrap, base):
        topic, transactional_id = unique("topic"), unique("txn")
        create_topic(bootstrap, topic, 1, replication_factor=1)
        producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                             "transaction.timeout.ms": 60000})
        producer.init_transactions(DEADLINE_S)
        producer.begin_transaction()
        producer.produce(topic, value=b"abandoned", partition=0)
        assert producer.flush(DEADLINE_S) == 0
        control("POST", "/v1/clock/advance", {"ms": 60001}, base=base)
        txn = control("GET", f"/v1/transactions/{transactional_id}", base=base)
        assert txn["state"] == "CompleteAbort", txn
        records = control("GET", f"/v1/topics/{topic}/records", base=base)["records"]
        assert [r["transaction"] for r in records] == ["aborted"]
        try:
            producer.commit_transaction(DEADLINE_S)
            raise AssertionError("a timed-out transaction committed")
        except KafkaException as e:
            assert e.args[0].fatal() or e.args[0].txn_requires_abort(), e


def test_the_history_checks_pass_a_group_that_commits_what_it_handled_and_catch_a_lost_record(unique):
    """The history checkers over HTTP (a cluster of its own, so no other test's group is
    judged): a group that handles every record and then commits passes every check and its
    account; the same account missing a committed record is caught, naming the record."""
    with own_cluster("--topic", "orders:2") as (bootstrap, base):
        sent = [(f"order-{i % 3}".encode(), f"v{i}".encode(), None) for i in range(12)]
        produce(bootstrap, "orders", sent, **{"enable.idempotence": True})
        consumer = group_consumer(bootstrap, "store", "store-1")
        read = []
        try:
            consumer.subscribe(["orders"])
            wait_until(lambda: poll_into(consumer, read), lambda: len(read) >= len(sent), "every record",
                       lambda: len(read))
            consumer.commit(asynchronous=False)
        finally:
            consumer.close()
        handled = [[m.partition(), m.offset()] for m in read]

        report = control("GET", "/v1/checks", base=base)
        assert report["ok"], report
        account = {"topic": "orders", "group": "store", "records": handled}
        report = control("POST", "/v1/checks/handled", account, base=base)
        assert report["ok"], report

        missing = read[0]
        report = control("POST", "/v1/checks/handled", {**account, "records": handled[1:]}, base=base)
        assert not report["ok"]
        [violation] = report["violations"]
        assert (violation["check"], violation["partition"], violation["offsets"]) == (
            "handled", missing.partition(), [missing.offset()]), violation
        assert violation["records"][0]["value"] == missing.value().decode()


def test_incremental_alter_configs_sets_appends_and_deletes_and_retention_applies(unique):
    """On a manual clock (a cluster of its own): incremental_alter_configs sets, appends to
    and deletes topic configs, describe_configs reads them back, and a lowered retention.ms
    deletes an old record at the next retention check."""
    with own_cluster("--manual-clock", "--topic", "events:1") as (bootstrap, base):
        now = control("GET", "/v1/clock", base=base)["now_ms"]
        control("POST", "/v1/topics/events/records", {"records": [
            {"partition": 0, "value": "old", "timestamp": now - 3_600_000},
            {"partition": 0, "value": "new", "timestamp": now}]}, base=base)
        admin = AdminClient({"bootstrap.servers": bootstrap})
        resource = ConfigResource(ResourceType.TOPIC, "events", incremental_configs=[
            ConfigEntry("retention.ms", "1800000", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND),
        ])
        [future] = admin.incremental_alter_configs([resource]).values()
        future.result(timeout=DEADLINE_S)
        [described] = admin.describe_configs([ConfigResource(ResourceType.TOPIC, "events")]).values()
        configs = described.result(timeout=DEADLINE_S)
        assert configs["retention.ms"].value == "1800000" and not configs["retention.ms"].is_default
        assert configs["cleanup.policy"].value == "delete,compact"

        # The next retention check (every 5 minutes) deletes the hour-old record only.
        control("POST", "/v1/clock/advance", {"ms": 300_001}, base=base)
        records = control("GET", "/v1/topics/events/records", base=base)["records"]
        assert [r["value"] for r in records] == ["new"], records

        resource = ConfigResource(ResourceType.TOPIC, "events", incremental_configs=[
            ConfigEntry("cleanup.policy", None, incremental_operation=AlterConfigOpType.DELETE),
        ])
        [future] = admin.incremental_alter_configs([resource]).values()
        future.result(timeout=DEADLINE_S)
        assert control("GET", "/v1/topics/events", base=base)["configs"] == {"retention.ms": "1800000"}


def test_admin_stores_describes_and_deletes_scram_credentials(bootstrap, unique):
    """alter_user_scram_credentials stores a user's SCRAM-SHA-256 credential,
    describe_user_scram_credentials lists its mechanism and iterations, and a deletion
    leaves the user unknown (RESOURCE_NOT_FOUND)."""
    from confluent_kafka.admin import (ScramCredentialInfo, ScramMechanism, UserScramCredentialDeletion,
                                       UserScramCredentialUpsertion)
    user = unique("scram-user")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096)
    for future in admin.alter_user_scram_credentials(
            [UserScramCredentialUpsertion(user, info, b"secret", b"salt-salt")]).values():
        future.result(timeout=DEADLINE_S)
    [described] = admin.describe_user_scram_credentials([user]).values()
    infos = described.result(timeout=DEADLINE_S).scram_credential_infos
    assert [(i.mechanism, i.iterations) for i in infos] == [(ScramMechanism.SCRAM_SHA_256, 4096)]

    for future in admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion(user, ScramMechanism.SCRAM_SHA_256)]).values():
        future.result(timeout=DEADLINE_S)
    [described] = admin.describe_user_scram_credentials([user]).values()
    try:
        described.result(timeout=DEADLINE_S)
        raise AssertionError("a deleted user is still described")
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.RESOURCE_NOT_FOUND, e


def test_admin_without_an_authorizer_is_told_security_is_disabled(bootstrap, unique):
    """broker-sim runs without an authorizer, as a Kafka broker with no
    authorizer.class.name: create_acls fails with SECURITY_DISABLED. (describe_acls gets
    the same code, which librdkafka 2.12 reports as an empty list, against Kafka too.)"""
    from confluent_kafka.admin import AclBinding, AclOperation, AclPermissionType, ResourcePatternType
    admin = AdminClient({"bootstrap.servers": bootstrap})
    binding = AclBinding(ResourceType.TOPIC, unique("acl-topic"), ResourcePatternType.LITERAL, "User:alice", "*",
                         AclOperation.READ, AclPermissionType.ALLOW)
    [future] = admin.create_acls([binding]).values()
    try:
        future.result(timeout=DEADLINE_S)
        raise AssertionError("create_acls succeeded without an authorizer")
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.SECURITY_DISABLED, e


def test_a_subscribed_producer_pushes_its_metrics(bootstrap, unique):
    """KIP-714: with a metrics subscription in place, a confluent-kafka (librdkafka)
    producer pushes its own metrics, which GET /v1/telemetry shows for its client id."""
    client_id = unique("telemetry-producer")
    subscription = unique("py-telemetry")
    control("POST", "/v1/telemetry/subscriptions",
            {"name": subscription, "metrics": ["org.apache.kafka.producer."], "interval_ms": 500})
    try:
        topic = unique("telemetry-topic")
        create_topic(bootstrap, topic, 1)
        producer = Producer({"bootstrap.servers": bootstrap, "client.id": client_id})
        producer.produce(topic, value=b"v")
        assert producer.flush(DEADLINE_S) == 0

        def pushed():
            clients = control("GET", "/v1/telemetry")["clients"]
            return [m["name"] for c in clients if c["client_id"] == client_id for m in c["metrics"]]

        wait_until(lambda: None, lambda: bool(pushed()), f"{client_id} pushes its metrics")
        assert all(name.startswith("org.apache.kafka.producer.") for name in pushed())
    finally:
        control("DELETE", f"/v1/telemetry/subscriptions/{subscription}")


def _round_trip(settings, topic):
    """Writes one record with `settings` (bootstrap and security) and reads it back."""
    producer = Producer({**settings, "acks": "all"})
    producer.produce(topic, b"secured")
    assert producer.flush(DEADLINE_S) == 0
    consumer = Consumer({**settings, "group.id": topic, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = []
    wait_until(lambda: got.extend(m.value() for m in consumer.consume(10, 0.1) if not m.error()),
               lambda: got, "the record read back")
    consumer.close()
    assert got == [b"secured"]


def test_sasl_mechanisms_tls_and_a_wrong_password(unique):
    with secured_cluster() as cluster:
        for mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"):
            settings = {"bootstrap.servers": cluster["SASL"], "security.protocol": "SASL_PLAINTEXT",
                        "sasl.mechanism": mechanism}
            if mechanism == "OAUTHBEARER":
                settings.update({"enable.sasl.oauthbearer.unsecure.jwt": True,
                                 "sasl.oauthbearer.config": "principal=alice"})
            else:
                settings.update({"sasl.username": "alice", "sasl.password": "alice-secret"})
            _round_trip(settings, unique(mechanism.lower()))
        _round_trip({"bootstrap.servers": cluster["TLS"], "security.protocol": "SSL",
                     "ssl.ca.pem": cluster["ca_pem"]}, unique("ssl"))
        errors = []
        admin = AdminClient({"bootstrap.servers": cluster["SASL"], "security.protocol": "SASL_PLAINTEXT",
                             "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "alice",
                             "sasl.password": "wrong", "error_cb": errors.append})
        wait_until(lambda: admin.poll(0.1), lambda: any(e.code() == KafkaError._AUTHENTICATION for e in errors),
                   "an authentication error", state=lambda: errors)


def test_the_example_topology_takes_acks_all_writes_on_its_topics_and_dlq():
    with topology_cluster() as cluster:
        sent = [("request-events", f"req-{i}".encode(), b'{"n": %d}' % i) for i in range(12)] + [
        ("request-events.dlq", b"req-x", b"not json")]
        for topic in {t for t, _, _ in sent}:
            produce(cluster.bootstrap_servers, topic, [(k, v, None) for t, k, v in sent if t == topic])
        check_topology_writes(cluster, sent)
