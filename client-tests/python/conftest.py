"""Fixtures shared by the Python client suites.

run.sh starts one broker-sim cluster (the binary, 3 brokers) and exports its bootstrap
list as BROKER_SIM_BOOTSTRAP and its control API as BROKER_SIM_CONTROL; every test talks
to that cluster over real sockets. Tests share it, so each one makes its own topics and
groups through `unique` and none depends on what another wrote or on the order they run
in.

With COMPAT_RESULTS set (client-tests/compat.sh sets it), every test's outcome is appended
to that file as a row of the compatibility table: the client and version its module
declares in `CLIENT` (read from the imported package, so the row names what really ran),
the test, and pass, fail or skipped.
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    results = os.environ.get("COMPAT_RESULTS")
    # One row per test: its call, or its setup when that already failed or skipped it.
    if not results or not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return
    client, version = getattr(item.module, "CLIENT", (item.module.__name__, "unknown"))
    result = "pass" if report.passed else "fail"
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        result = f"skipped: {reason.removeprefix('Skipped: ')}"
    test = item.name.removeprefix("test_").replace("_", " ")
    with open(results, "a") as out:
        out.write(f"{client}\t{version}\t{test}\t{result}\n")
