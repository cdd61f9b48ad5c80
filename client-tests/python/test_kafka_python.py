"""kafka-python (pure Python, its own protocol code) against broker-sim.

The compatibility steps (admin create, keyed acks=all produce, a group of two reading each
record once and committing, resuming after the coordinator restarts), then a group of
three sharing six partitions, resuming from committed offsets, the group admin calls of
KafkaAdminClient, a topic config changed through alter_configs that takes effect, and
(kafka-python 3) describe_log_dirs and elect_leaders. Runs in both venvs: the latest kafka-python and the pinned 2.0.2.
"""

from concurrent.futures import ThreadPoolExecutor

import kafka
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import (GroupIdNotFoundError, MessageSizeTooLargeError, NonEmptyGroupError, NoError,
                          TopicAlreadyExistsError)

from support import (check_topology_writes, topology_cluster, DEADLINE_S, RECORD_COUNT, check_group_committed_everything, check_keyed_records_stored,
                     check_topic_created, control, evenly_split, restart_coordinator, wait_until, secured_cluster)

CLIENT = ("kafka-python", kafka.__version__)


def create_topic(bootstrap, topic, partitions):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-python-admin")
    try:
        admin.create_topics([NewTopic(topic, partitions, 3)])
    finally:
        admin.close()


def produce(bootstrap, topic, records):
    """Sends (key, value, partition or None) with acks=all; returns each record's metadata."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", client_id="kafka-python-producer")
    try:
        futures = [producer.send(topic, key=k, value=v, partition=p) for k, v, p in records]
        return [f.get(timeout=DEADLINE_S) for f in futures]
    finally:
        producer.close()


def group_consumer(bootstrap, topic, group, name, **config):
    return KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id=name,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        heartbeat_interval_ms=500,
        session_timeout_ms=10000,
        **config,
    )


def poll_into(consumer, read):
    for records in consumer.poll(timeout_ms=100).values():
        read.extend(records)


def poll_each(consumers, reads):
    """Polls every member at once, each on its own thread, as separate service instances
    would. kafka-python 3 blocks in poll() while its member is joining, until the join
    completes, which needs the other members to poll too."""
    with ThreadPoolExecutor(len(consumers)) as pool:
        list(pool.map(poll_into, consumers, reads))


def test_admin_creates_topic(bootstrap, unique):
    topic = unique("topic")
    create_topic(bootstrap, topic, 4)
    check_topic_created(topic, 4)


def test_keyed_produce_with_acks_all_lands_by_murmur2(bootstrap, unique):
    topic = unique("topic")
    create_topic(bootstrap, topic, 4)
    sent = [(f"key-{i % 9}", f"value-{i}") for i in range(40)]
    acked = produce(bootstrap, topic, [(k.encode(), v.encode(), None) for k, v in sent])
    assert len(acked) == len(sent)
    check_keyed_records_stored(topic, 4, sent)


def test_group_of_two_reads_each_record_once_and_commits(bootstrap, unique):
    topic, group = unique("topic"), unique("group")
    create_topic(bootstrap, topic, 4)
    consumers = [group_consumer(bootstrap, topic, group, f"{group}-{i}") for i in range(2)]
    try:
        read = [[] for _ in consumers]

        def poll_all():
            poll_each(consumers, read)

        def assignments():
            return [{tp.partition for tp in c.assignment()} for c in consumers]

        wait_until(poll_all, lambda: evenly_split(assignments(), range(4)), "two partitions each", assignments)
        produce(bootstrap, topic, [(f"key-{i % 9}".encode(), f"value-{i}".encode(), None) for i in range(40)])
        wait_until(poll_all, lambda: sum(map(len, read)) >= 40, "40 records", lambda: [len(r) for r in read])
        for c in consumers:
            c.commit()
        final = assignments()
    finally:
        for c in consumers:
            c.close()
    values = sorted(r.value for rs in read for r in rs)
    assert values == sorted(f"value-{i}".encode() for i in range(40)), "each record exactly once"
    for rs, owned in zip(read, final):
        assert rs and {r.partition for r in rs} <= owned
    check_group_committed_everything(group, topic, 4)


def test_resumes_from_commit_after_the_coordinator_restarts(bootstrap, unique):
    topic, group = unique("topic"), unique("group")
    create_topic(bootstrap, topic, 2)
    produce(bootstrap, topic, [(None, f"old-{i}".encode(), i % 2) for i in range(10)])
    first = group_consumer(bootstrap, topic, group, "first")
    try:
        read = []
        wait_until(lambda: poll_into(first, read), lambda: len(read) >= 10, "10 records", lambda: len(read))
        first.commit()
    finally:
        first.close()
    check_group_committed_everything(group, topic, 2)

    restart_coordinator(group)
    produce(bootstrap, topic, [(None, f"new-{i}".encode(), i % 2) for i in range(4)])
    second = group_consumer(bootstrap, topic, group, "second")
    try:
        read = []
        wait_until(lambda: poll_into(second, read), lambda: len(read) >= 4, "the 4 new records", lambda: len(read))
        # One more poll: anything committed coming again would show up now.
        poll_into(second, read)
    finally:
        second.close()
    assert sorted(r.value for r in read) == sorted(f"new-{i}".encode() for i in range(4))


def test_keyed_records_sent_with_acks_all_are_read_back(bootstrap, unique):
    topic = unique("topic")
    create_topic(bootstrap, topic, 3)
    sent = [(f"key-{i % 7}".encode(), f"value-{i}".encode(), None) for i in range(RECORD_COUNT)]
    acked = produce(bootstrap, topic, sent)

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
    )
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(3)])
        read = []
        wait_until(
            lambda: [read.extend(rs) for rs in consumer.poll(timeout_ms=200).values()],
            lambda: len(read) >= len(sent),
            f"{len(sent)} records",
            lambda: f"{len(read)} records",
        )
    finally:
        consumer.close()

    # Every record is read back where its acknowledgement said it was written.
    assert sorted((r.partition, r.offset, r.key, r.value) for r in read) == sorted(
        (m.partition, m.offset, k, v) for (k, v, _), m in zip(sent, acked)
    )
    # Per partition, offsets run from 0 with no gap.
    for p in range(3):
        offsets = sorted(r.offset for r in read if r.partition == p)
        assert offsets == list(range(len(offsets)))
    # The producer's murmur2 partitioner put each key in one partition.
    partitions_of_key = {}
    for r in read:
        partitions_of_key.setdefault(r.key, set()).add(r.partition)
    assert all(len(ps) == 1 for ps in partitions_of_key.values()), partitions_of_key


def test_group_of_three_splits_six_partitions_and_reads_each_record_once(bootstrap, unique):
    topic, group = unique("topic"), unique("group")
    create_topic(bootstrap, topic, 6)
    consumers = [group_consumer(bootstrap, topic, group, f"{group}-{i}") for i in range(3)]
    try:
        read = [[] for _ in consumers]

        def poll_all():
            poll_each(consumers, read)

        def assignments():
            return [{tp.partition for tp in c.assignment()} for c in consumers]

        wait_until(poll_all, lambda: evenly_split(assignments(), range(6)),
                   "two partitions per member", assignments)

        # Records are written only once the group has settled, so no rebalance can hand
        # one to two members.
        produce(bootstrap, topic, [(b"k", f"value-{i}".encode(), i % 6) for i in range(RECORD_COUNT)])
        wait_until(poll_all, lambda: sum(map(len, read)) >= RECORD_COUNT, f"{RECORD_COUNT} records",
                   lambda: [len(r) for r in read])
        final = assignments()
    finally:
        for c in consumers:
            c.close()

    values = [r.value for rs in read for r in rs]
    assert sorted(values) == sorted(f"value-{i}".encode() for i in range(RECORD_COUNT))
    for rs, owned in zip(read, final):
        assert {r.partition for r in rs} == owned
        assert len(rs) == RECORD_COUNT // 3


def test_new_consumer_in_group_resumes_from_committed_offset(bootstrap, unique):
    topic, group = unique("topic"), unique("group")
    create_topic(bootstrap, topic, 1)
    produce(bootstrap, topic, [(None, f"value-{i}".encode(), 0) for i in range(10)])
    tp = TopicPartition(topic, 0)

    first = group_consumer(bootstrap, topic, group, "first", max_poll_records=1)
    try:
        read = []
        wait_until(lambda: [read.extend(rs) for rs in first.poll(timeout_ms=200).values()],
                   lambda: len(read) >= 4, "4 records", lambda: len(read))
        assert [r.offset for r in read] == [0, 1, 2, 3]
        first.commit()
        assert first.committed(tp) == 4
    finally:
        first.close()

    second = group_consumer(bootstrap, topic, group, "second")
    try:
        read = []
        wait_until(lambda: [read.extend(rs) for rs in second.poll(timeout_ms=200).values()],
                   lambda: len(read) >= 6, "the 6 uncommitted records", lambda: len(read))
    finally:
        second.close()
    assert [(r.offset, r.value) for r in read] == [(i, f"value-{i}".encode()) for i in range(4, 10)]


def test_admin_creates_topics_and_lists_describes_and_deletes_groups(bootstrap, unique):
    topic, group = unique("topic"), unique("group")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-python-admin")
    try:
        admin.create_topics([NewTopic(topic, 4, 3)])
        assert topic in admin.list_topics()
        [described] = admin.describe_topics([topic])
        assert described["error_code"] == 0
        # kafka-python 3 names the field as the protocol does (partition_index), 2.x `partition`.
        index = "partition_index" if "partition_index" in described["partitions"][0] else "partition"
        assert sorted(p[index] for p in described["partitions"]) == [0, 1, 2, 3]
        try:
            admin.create_topics([NewTopic(topic, 4, 3)])
            raise AssertionError("creating an existing topic succeeded")
        except TopicAlreadyExistsError:
            pass

        produce(bootstrap, topic, [(None, f"value-{i}".encode(), i % 4) for i in range(8)])
        consumer = group_consumer(bootstrap, topic, group, "admin-member")
        try:
            read = []
            wait_until(lambda: [read.extend(rs) for rs in consumer.poll(timeout_ms=200).values()],
                       lambda: len(read) >= 8, "8 records", lambda: len(read))
            consumer.commit()

            if hasattr(admin, "list_consumer_groups"):
                check_group_admin_v2(admin, group, topic)
            else:
                check_group_admin_v3(admin, group, topic)
        finally:
            consumer.close()
        # The member left on close, so the group is empty and can go.
        if hasattr(admin, "list_consumer_groups"):
            check_deleted_group_v2(admin, group)
        else:
            check_deleted_group_v3(admin, group)
    finally:
        admin.close()


# kafka-python 2 and 3 name the group admin calls differently (3 follows the Java admin
# client: list_groups, describe_groups, list_group_offsets, delete_groups) and answer in
# different shapes; the checks are the same.

def check_group_admin_v2(admin, group, topic):
    assert (group, "consumer") in admin.list_consumer_groups()
    [info] = admin.describe_consumer_groups([group])
    assert (info.group, info.state, info.protocol_type, info.protocol) == (group, "Stable", "consumer", "range")
    [member] = info.members
    assert member.client_id == "admin-member"
    assert sorted(p for t, ps in member.member_assignment.assignment if t == topic for p in ps) == [0, 1, 2, 3]
    offsets = admin.list_consumer_group_offsets(group)
    assert {tp.partition: o.offset for tp, o in offsets.items() if tp.topic == topic} == {0: 2, 1: 2, 2: 2, 3: 2}
    [(deleted, error)] = admin.delete_consumer_groups([group])
    assert deleted == group and error is NonEmptyGroupError, error


def check_deleted_group_v2(admin, group):
    [(deleted, error)] = admin.delete_consumer_groups([group])
    assert deleted == group and error is NoError, error
    assert group not in [g for g, _ in admin.list_consumer_groups()]
    assert admin.list_consumer_group_offsets(group) == {}
    [(_, error)] = admin.delete_consumer_groups([group])
    assert error is GroupIdNotFoundError, error


def check_group_admin_v3(admin, group, topic):
    listed = [g for g in admin.list_groups() if g["group_id"] == group]
    assert [(g["protocol_type"], g["group_state"]) for g in listed] == [("consumer", "Stable")], listed
    info = admin.describe_groups([group])[group]
    assert (info["group_state"], info["protocol_type"], info["protocol_data"]) == ("Stable", "consumer", "range")
    [member] = info["members"]
    assert member["client_id"] == "admin-member"
    assigned = member["member_assignment"]["assigned_partitions"]
    assert sorted(p for a in assigned if a["topic"] == topic for p in a["partitions"]) == [0, 1, 2, 3]
    offsets = admin.list_group_offsets({group: None})[group]
    assert {tp.partition: o.offset for tp, o in offsets.items() if tp.topic == topic} == {0: 2, 1: 2, 2: 2, 3: 2}
    assert admin.delete_groups([group]) == {group: "NonEmptyGroupError"}


def check_deleted_group_v3(admin, group):
    assert admin.delete_groups([group]) == {group: "OK"}
    assert group not in [g["group_id"] for g in admin.list_groups()]
    assert admin.list_group_offsets({group: None}) == {group: {}}
    assert admin.delete_groups([group]) == {group: "GroupIdNotFoundError"}


def test_admin_alter_configs_changes_a_topic_config_that_takes_effect(bootstrap, unique):
    topic = unique("topic")
    create_topic(bootstrap, topic, 1)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-python-admin")
    try:
        result = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                     configs={"max.message.bytes": "2000"})])
        # kafka-python 3 uses IncrementalAlterConfigs and answers {"topic": {name: "OK"}};
        # 2.0.2 sends AlterConfigs and hands back the response.
        if isinstance(result, dict):
            assert result == {"topic": {topic: "OK"}}, result
        else:
            assert [r[0] for r in result.resources] == [0], result
    finally:
        admin.close()
    assert control("GET", f"/v1/topics/{topic}")["configs"] == {"max.message.bytes": "2000"}

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=0, client_id="kafka-python-producer")
    try:
        producer.send(topic, b"small").get(timeout=DEADLINE_S)
        try:
            producer.send(topic, b"x" * 3000).get(timeout=DEADLINE_S)
            raise AssertionError("a 3000-byte record passed max.message.bytes=2000")
        except MessageSizeTooLargeError:
            pass
    finally:
        producer.close()


def test_admin_describes_log_dirs_and_elects_leaders(bootstrap, unique):
    """kafka-python 3's describe_log_dirs and elect_leaders (2.0.2 has neither call)."""
    topic = unique("topic")
    create_topic(bootstrap, topic, 2)
    produce(bootstrap, topic, [(None, b"value", 0)])
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-python-admin")
    try:
        if not hasattr(admin, "describe_log_dirs"):
            pytest.skip(f"kafka-python {kafka.__version__} has no describe_log_dirs")
        by_broker = admin.describe_log_dirs({topic: [0, 1]})
        sizes = {}
        for broker in by_broker:
            [log_dir] = broker["log_dirs"]
            assert log_dir["error_code"] == 0 and log_dir["log_dir"], log_dir
            for t in log_dir["topics"]:
                for p in t["partitions"]:
                    sizes.setdefault(p["partition_index"], []).append(p["partition_size"])
        # Replication factor 3: every broker holds both partitions; only partition 0 has data.
        assert len(sizes[0]) == 3 and min(sizes[0]) > 0 and sizes[1] == [0, 0, 0], sizes

        answer = admin.elect_leaders(0, {topic: [0]}, raise_errors=False)
        [result] = answer.replica_election_results
        election_not_needed = 84
        assert [(p.partition_id, p.error_code) for p in result.partition_result] == [(0, election_not_needed)]
    finally:
        admin.close()


def test_admin_features_config_resources_scram_and_acls(bootstrap, unique):
    """kafka-python 3's describe_features and a validate-only update_features, its
    list_config_resources, SCRAM credentials stored and described, the metadata quorum,
    and describe_acls told SECURITY_DISABLED (2.0.2 has none of these calls but
    describe_acls)."""
    from kafka.admin import ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePatternFilter
    from kafka.admin import ResourceType
    from kafka.errors import SecurityDisabledError
    topic = unique("topic")
    create_topic(bootstrap, topic, 1)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-python-admin")
    try:
        acl_filter = ACLFilter(principal=None, host="*", operation=ACLOperation.ANY,
                               permission_type=ACLPermissionType.ANY,
                               resource_pattern=ResourcePatternFilter(ResourceType.ANY, None,
                                                                      ACLResourcePatternType.ANY))
        with pytest.raises(SecurityDisabledError):
            admin.describe_acls(acl_filter)
        if not hasattr(admin, "describe_features"):
            pytest.skip(f"kafka-python {kafka.__version__} has no describe_features")

        features = admin.describe_features()
        assert features["transaction.version"]["finalized"] == (2, 2), features
        admin.update_features({"transaction.version": ("SAFE_DOWNGRADE", 1)}, validate_only=True)
        assert admin.describe_features()["transaction.version"]["finalized"] == (2, 2)

        resources = admin.list_config_resources(["TOPIC"])
        assert topic in resources["topic"], resources

        from kafka.admin import ScramMechanism, UserScramCredentialUpsertion
        user = unique("scram-user")
        errors = admin.alter_user_scram_credentials(
            [UserScramCredentialUpsertion(user, ScramMechanism.SCRAM_SHA_512, "secret", iterations=8192)])
        assert errors == {user: None}, errors
        described = admin.describe_user_scram_credentials([user])
        assert described[user]["error"] is None, described

        # Every broker is a combined broker and controller, all voters of the quorum.
        quorum = admin.describe_metadata_quorum()
        [partition] = quorum["topics"][0]["partitions"]
        assert partition["error"] is None and len(partition["current_voters"]) == 3, quorum
        assert [(i["mechanism"], i["iterations"]) for i in described[user]["credential_infos"]] == [
            (ScramMechanism.SCRAM_SHA_512, 8192)], described
    finally:
        admin.close()


def test_sasl_plain_and_scram_and_ssl_write_and_read_back(unique, tmp_path, caplog):
    with secured_cluster() as cluster:
        ca = tmp_path / "ca.pem"
        ca.write_text(cluster["ca_pem"])
        logins = [dict(security_protocol="SASL_PLAINTEXT", sasl_mechanism=m, sasl_plain_username="alice",
                       sasl_plain_password="alice-secret", bootstrap_servers=cluster["SASL"])
                  for m in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")]
        logins.append(dict(security_protocol="SSL", ssl_cafile=str(ca), bootstrap_servers=cluster["TLS"]))
        for settings in logins:
            topic = unique(settings.get("sasl_mechanism", "ssl").lower())
            producer = KafkaProducer(acks="all", **settings)
            producer.send(topic, b"secured").get(timeout=DEADLINE_S)
            producer.close()
            consumer = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=DEADLINE_S * 1000,
                                     **settings)
            assert next(iter(consumer)).value == b"secured"
            consumer.close()
        # A wrong password: kafka-python cannot bootstrap, and logs Kafka's refusal. (2.x
        # has no bootstrap timeout to shorten: its refusal is left to 3.x.)
        if int(kafka.__version__.split(".")[0]) < 3:
            return
        with pytest.raises(kafka.errors.KafkaTimeoutError):
            KafkaProducer(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_plain_username="alice",
                          sasl_plain_password="wrong", bootstrap_servers=cluster["SASL"], bootstrap_timeout_ms=3000)
        assert "SaslAuthenticationFailedError: Authentication failed: Invalid username or password" in caplog.text


def test_the_example_topology_takes_acks_all_writes_on_its_topics_and_dlq():
    with topology_cluster() as cluster:
        sent = [("request-events", f"req-{i}".encode(), b'{"n": %d}' % i) for i in range(12)] + [
        ("request-events.dlq", b"req-x", b"not json")]
        producer = KafkaProducer(bootstrap_servers=cluster.bootstrap_servers, acks="all")
        try:
            for f in [producer.send(t, key=k, value=v) for t, k, v in sent]:
                f.get(timeout=DEADLINE_S)
        finally:
            producer.close()
        check_topology_writes(cluster, sent)
