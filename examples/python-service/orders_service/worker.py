"""Processes order events in a consumer group: each record is handled, then its offset is
committed (at-least-once), and a record that cannot be processed (not JSON, no id) is
sent to the dead-letter topic `<topic>.dlq` with the reason in a header, so one poison
record does not stop the partition. `stop()` shuts down gracefully: the current record
finishes, offsets are committed, the consumer leaves its group.

The worker runs on its own thread with its own event loop (`start()`), as services embed
a consumer beside a web server."""

import asyncio
import json
import threading
from typing import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

GROUP = "order-workers"


class Poison(Exception):
    """A record no retry can process."""


def parse(value: bytes) -> dict:
    try:
        order = json.loads(value)
    except ValueError as e:
        raise Poison(f"not JSON: {e}") from None
    if not isinstance(order, dict) or "id" not in order:
        raise Poison("no order id")
    return order


class OrderWorker:
    def __init__(self, bootstrap_servers: str, handle: Callable[[dict], None],
                 topic: str = "orders", group: str = GROUP, client_id: str = "order-worker"):
        self.bootstrap_servers = bootstrap_servers
        self.handle = handle
        self.topic = topic
        self.group = group
        self.client_id = client_id
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._task = None
        self._stopping = asyncio.Event()

    def start(self) -> "OrderWorker":
        self._thread.start()
        self._task = asyncio.run_coroutine_threadsafe(self._run(), self._loop)
        return self

    def stop(self, timeout: float = 30) -> None:
        """Graceful shutdown: finish, commit, leave the group."""
        if not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._task.result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    async def _run(self) -> None:
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.group,
            client_id=self.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        dead_letters = AIOKafkaProducer(bootstrap_servers=self.bootstrap_servers, acks="all")
        await consumer.start()
        await dead_letters.start()
        try:
            while not self._stopping.is_set():
                batches = await consumer.getmany(timeout_ms=100)
                for partition, records in batches.items():
                    for record in records:
                        await self._process(record, dead_letters)
                        await consumer.commit({partition: record.offset + 1})
        finally:
            await dead_letters.stop()
            await consumer.stop()

    async def _process(self, record, dead_letters: AIOKafkaProducer) -> None:
        try:
            order = parse(record.value)
        except Poison as e:
            await dead_letters.send_and_wait(
                f"{self.topic}.dlq", record.value, key=record.key,
                headers=[("error", str(e).encode()), ("source.offset", str(record.offset).encode())],
            )
            return
        self.handle(order)


__all__ = ["GROUP", "OrderWorker", "Poison", "parse"]
