"""aiokafka (asyncio, its own protocol code) against broker-sim.

The compatibility steps (admin create, keyed acks=all produce, a group of two reading each
record once and committing, resuming after the coordinator restarts), then produce and
read back, a group of three sharing six partitions, and resuming from committed offsets.
Each test is a plain function running one event loop, so the suite needs no pytest
plugin. Runs in both venvs: the latest aiokafka and the pinned 0.8.1.
"""

import asyncio

import aiokafka

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from support import (check_topology_writes, topology_cluster, RECORD_COUNT, check_group_committed_everything, check_keyed_records_stored, check_topic_created,
                     restart_coordinator, settled_split_async, wait_until_async)

CLIENT = ("aiokafka", aiokafka.__version__)


async def create_topic(bootstrap, topic, partitions):
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="aiokafka-admin")
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(topic, partitions, 3)])
        assert [(name, code) for name, code, *_ in response.topic_errors] == [(topic, 0)]
    finally:
        await admin.close()


async def produce(bootstrap, topic, records):
    """Sends (key, value, partition or None) with acks=all; returns each record's metadata."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", client_id="aiokafka-producer")
    await producer.start()
    try:
        futures = [await producer.send(topic, key=k, value=v, partition=p) for k, v, p in records]
        return await asyncio.gather(*futures)
    finally:
        await producer.stop()


def group_consumer(bootstrap, topic, group, name, **config):
    return AIOKafkaConsumer(
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


async def read_into(consumer, read):
    for records in (await consumer.getmany(timeout_ms=200)).values():
        read.extend(records)


def test_admin_creates_topic(bootstrap, unique):
    topic = unique("topic")
    asyncio.run(create_topic(bootstrap, topic, 4))
    check_topic_created(topic, 4)


def test_keyed_produce_with_acks_all_lands_by_murmur2(bootstrap, unique):
    async def run():
        topic = unique("topic")
        await create_topic(bootstrap, topic, 4)
        sent = [(f"key-{i % 9}", f"value-{i}") for i in range(40)]
        acked = await produce(bootstrap, topic, [(k.encode(), v.encode(), None) for k, v in sent])
        assert len(acked) == len(sent)
        check_keyed_records_stored(topic, 4, sent)

    asyncio.run(run())


def test_group_of_two_reads_each_record_once_and_commits(bootstrap, unique):
    async def run():
        topic, group = unique("topic"), unique("group")
        await create_topic(bootstrap, topic, 4)
        consumers = [group_consumer(bootstrap, topic, group, f"{group}-{i}") for i in range(2)]
        for c in consumers:
            await c.start()
        try:
            read = [[] for _ in consumers]

            async def poll_all():
                await asyncio.gather(*(read_into(c, r) for c, r in zip(consumers, read)))

            def assignments():
                return [{tp.partition for tp in c.assignment()} for c in consumers]

            await settled_split_async(group, topic, 2, 4)
            await produce(bootstrap, topic, [(f"key-{i % 9}".encode(), f"value-{i}".encode(), None) for i in range(40)])
            await wait_until_async(poll_all, lambda: sum(map(len, read)) >= 40, "40 records",
                                   lambda: [len(r) for r in read])
            for c in consumers:
                await c.commit()
            final = assignments()
        finally:
            for c in consumers:
                await c.stop()
        values = sorted(r.value for rs in read for r in rs)
        assert values == sorted(f"value-{i}".encode() for i in range(40)), "each record exactly once"
        for rs, owned in zip(read, final):
            assert rs and {r.partition for r in rs} <= owned
        check_group_committed_everything(group, topic, 4)

    asyncio.run(run())


def test_resumes_from_commit_after_the_coordinator_restarts(bootstrap, unique):
    async def run():
        topic, group = unique("topic"), unique("group")
        await create_topic(bootstrap, topic, 2)
        await produce(bootstrap, topic, [(None, f"old-{i}".encode(), i % 2) for i in range(10)])
        first = group_consumer(bootstrap, topic, group, "first")
        await first.start()
        try:
            read = []
            await wait_until_async(lambda: read_into(first, read), lambda: len(read) >= 10, "10 records",
                                   lambda: len(read))
            await first.commit()
        finally:
            await first.stop()
        check_group_committed_everything(group, topic, 2)

        restart_coordinator(group)
        await produce(bootstrap, topic, [(None, f"new-{i}".encode(), i % 2) for i in range(4)])
        second = group_consumer(bootstrap, topic, group, "second")
        await second.start()
        try:
            read = []
            await wait_until_async(lambda: read_into(second, read), lambda: len(read) >= 4, "the 4 new records",
                                   lambda: len(read))
            # One more poll: anything committed coming again would show up now.
            await read_into(second, read)
        finally:
            await second.stop()
        assert sorted(r.value for r in read) == sorted(f"new-{i}".encode() for i in range(4))

    asyncio.run(run())


def test_keyed_records_sent_with_acks_all_are_read_back(bootstrap, unique):
    async def run():
        topic = unique("topic")
        await create_topic(bootstrap, topic, 3)
        sent = [(f"key-{i % 7}".encode(), f"value-{i}".encode(), None) for i in range(RECORD_COUNT)]
        acked = await produce(bootstrap, topic, sent)

        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                    enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, p) for p in range(3)])
            read = []
            await wait_until_async(lambda: read_into(consumer, read), lambda: len(read) >= len(sent),
                                   f"{len(sent)} records", lambda: f"{len(read)} records")
        finally:
            await consumer.stop()

        assert sorted((r.partition, r.offset, r.key, r.value) for r in read) == sorted(
            (m.partition, m.offset, k, v) for (k, v, _), m in zip(sent, acked)
        )
        for p in range(3):
            offsets = sorted(r.offset for r in read if r.partition == p)
            assert offsets == list(range(len(offsets)))
        partitions_of_key = {}
        for r in read:
            partitions_of_key.setdefault(r.key, set()).add(r.partition)
        assert all(len(ps) == 1 for ps in partitions_of_key.values()), partitions_of_key

    asyncio.run(run())


def test_group_of_three_splits_six_partitions_and_reads_each_record_once(bootstrap, unique):
    async def run():
        topic, group = unique("topic"), unique("group")
        await create_topic(bootstrap, topic, 6)
        consumers = [group_consumer(bootstrap, topic, group, f"{group}-{i}") for i in range(3)]
        for c in consumers:
            await c.start()
        try:
            read = [[] for _ in consumers]

            async def poll_all():
                await asyncio.gather(*(read_into(c, r) for c, r in zip(consumers, read)))

            def assignments():
                return [{tp.partition for tp in c.assignment()} for c in consumers]

            await settled_split_async(group, topic, 3, 6)

            # Records are written only once the group has settled, so no rebalance can
            # hand one to two members.
            await produce(bootstrap, topic, [(b"k", f"value-{i}".encode(), i % 6) for i in range(RECORD_COUNT)])
            await wait_until_async(poll_all, lambda: sum(map(len, read)) >= RECORD_COUNT,
                                   f"{RECORD_COUNT} records", lambda: [len(r) for r in read])
            final = assignments()
        finally:
            for c in consumers:
                await c.stop()

        values = [r.value for rs in read for r in rs]
        assert sorted(values) == sorted(f"value-{i}".encode() for i in range(RECORD_COUNT))
        for rs, owned in zip(read, final):
            assert {r.partition for r in rs} == owned
            assert len(rs) == RECORD_COUNT // 3

    asyncio.run(run())


def test_new_consumer_in_group_resumes_from_committed_offset(bootstrap, unique):
    async def run():
        topic, group = unique("topic"), unique("group")
        await create_topic(bootstrap, topic, 1)
        await produce(bootstrap, topic, [(None, f"value-{i}".encode(), 0) for i in range(10)])
        tp = TopicPartition(topic, 0)

        first = group_consumer(bootstrap, topic, group, "first", max_poll_records=1)
        await first.start()
        try:
            read = []
            await wait_until_async(lambda: read_into(first, read), lambda: len(read) >= 4, "4 records",
                                   lambda: len(read))
            assert [r.offset for r in read] == [0, 1, 2, 3]
            await first.commit()
            assert await first.committed(tp) == 4
        finally:
            await first.stop()

        second = group_consumer(bootstrap, topic, group, "second")
        await second.start()
        try:
            read = []
            await wait_until_async(lambda: read_into(second, read), lambda: len(read) >= 6,
                                   "the 6 uncommitted records", lambda: len(read))
        finally:
            await second.stop()
        assert [(r.offset, r.value) for r in read] == [(i, f"value-{i}".encode()) for i in range(4, 10)]

    asyncio.run(run())


def test_the_example_topology_takes_acks_all_writes_on_its_topics_and_dlq():
    with topology_cluster() as cluster:
        sent = [("request-events", f"req-{i}".encode(), b'{"n": %d}' % i) for i in range(12)] + [
        ("request-events.dlq", b"req-x", b"not json")]

        async def run():
            for topic in {t for t, _, _ in sent}:
                await produce(cluster.bootstrap_servers, topic, [(k, v, None) for t, k, v in sent if t == topic])

        asyncio.run(run())
        check_topology_writes(cluster, sent)
