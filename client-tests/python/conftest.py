"""Fixtures shared by the Python client suites.

run.sh starts one broker-sim cluster (the binary, 3 brokers) and exports its bootstrap
list as BROKER_SIM_BOOTSTRAP; every test talks to that cluster over real sockets. Tests
share it, so each one makes its own topics and groups through `unique` and none depends
on what another wrote or on the order they run in.
"""

import itertools
import os
import re
import uuid

import pytest

# One run's names never collide with an earlier run's, should a cluster be reused.
_RUN = uuid.uuid4().hex[:6]
_COUNTER = itertools.count()


@pytest.fixture(scope="session")
def bootstrap():
    servers = os.environ.get("BROKER_SIM_BOOTSTRAP")
    if not servers:
        pytest.fail("BROKER_SIM_BOOTSTRAP is not set: run client-tests/python/run.sh")
    return servers


def slug(text):
    return re.sub(r"[^A-Za-z0-9-]+", "-", text)[:80]


@pytest.fixture
def unique(request):
    """`unique("topic")` -> a topic or group name no other test uses, readable in the
    broker's log: the client (test file), the test, the kind of thing, this run and a
    counter. run.sh greps the broker's log for the "client.test." prefix of a failing
    test."""
    client = slug(request.node.module.__name__.removeprefix("test_"))
    test = slug(request.node.name.removeprefix("test_"))

    def name(kind):
        return f"{client}.{test}.{kind}.{_RUN}.{next(_COUNTER)}"

    return name
