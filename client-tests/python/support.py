"""Helpers for the Python client suites: bounded waits and checks of a group's split.

Nothing here sleeps to synchronise. A wait calls a step that blocks on the client for a
short, bounded time (a consumer's poll, which is also what drives its group membership)
and checks its condition after every step, until a deadline; on timeout it fails with
what it was waiting for and the state it saw.
"""

import time

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
