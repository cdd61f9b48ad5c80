"""aiokafka (asyncio, its own protocol code) against broker-sim.

Produce with acks=all and read back, a consumer group of three sharing six partitions,
and resuming from committed offsets. Each test is a plain function running one event
loop, so the suite needs no pytest plugin.
"""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from support import RECORD_COUNT, evenly_split, wait_until_async


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

            await wait_until_async(poll_all, lambda: evenly_split(assignments(), range(6)),
                                   "two partitions per member", assignments)

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
