#!/usr/bin/env bash
# Python clients against the broker-sim binary: kafka-python, aiokafka and confluent-kafka
# (librdkafka) create topics, produce, share partitions in consumer groups, resume from
# commits (also after the group's coordinator restarts) and use their admin clients (one
# test file per client, run by pytest); confluent-kafka's schema registry client and
# serializers use the embedded registry (test_schema_registry.py).
#
# PYTHON_CLIENTS picks the client versions: "latest" (default: requirements.txt, every
# test file) or "legacy" (requirements-legacy.txt: the kafka-python 2.0.2 and aiokafka
# 0.8.1 that services still pin, and their two test files). Each set has its own venv,
# since one replaces the other's packages, and its own cluster.
#
# Installs what it needs: python3-venv from Debian if `python3 -m venv` cannot work (CI
# machines start without it), then the pinned versions into a venv under the cargo target
# directory (cached, git-ignored; reinstalled when the requirements file changes), and
# the broker-sim Python package from its wheel (python/build.sh) for the waits.
# PYTHON_PORT moves the cluster (default 19200-19202, legacy 19210-19212);
# BROKER_SIM_LOG_LEVEL sets its log (default info), written to /tmp/broker-sim-python.log
# (-legacy.log) and shown when a test fails. COMPAT_RESULTS, if set, collects one row per
# test for client-tests/compat.sh (see conftest.py).
# Prints "python: N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

suite=client-tests/python
target=${CARGO_TARGET_DIR:-target}
case "${PYTHON_CLIENTS:-latest}" in
  latest)
    requirements=$suite/requirements.txt venv=$target/python-venv log=/tmp/broker-sim-python.log
    port=${PYTHON_PORT:-19200}
    tests=("$suite/test_kafka_python.py" "$suite/test_aiokafka.py" "$suite/test_confluent_kafka.py"
           "$suite/test_schema_registry.py") ;;
  legacy)
    requirements=$suite/requirements-legacy.txt venv=$target/python-venv-legacy
    log=/tmp/broker-sim-python-legacy.log port=${PYTHON_PORT:-19210}
    tests=("$suite/test_kafka_python.py" "$suite/test_aiokafka.py") ;;
  *) echo "python: PYTHON_CLIENTS must be latest or legacy"; exit 2 ;;
esac
fail() { echo "python: $1"; echo "python: 0 passed, 1 failed"; exit 1; }

. python/ensure-venv.sh
if [ ! -x "$venv/bin/python" ]; then
  ensure_venv || fail "cannot install python3-venv"
fi

if ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "installing $requirements into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || fail "cannot create $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements" \
    || fail "pip install failed"
  cp "$requirements" "$venv/requirements.txt"
fi

# The broker-sim Python package (python/), for the suites' waits: the wheel python/run.sh
# built, or one built now.
wheel=$(ls "$target"/wheels/broker_sim-*.whl 2>/dev/null | head -n 1)
if [ -z "$wheel" ]; then
  wheel=$(python/build.sh | tail -n 1) || fail "cannot build the broker-sim wheel"
fi
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel" \
  || fail "cannot install $wheel"

. client-tests/broker.sh
trap 'stop_broker; rm -f "${junit:-}"' EXIT
# Kafka's own group.initial.rebalance.delay.ms (3 s) rather than broker-sim's 0: a first
# join that completes at once makes kafka-python 3.0.12 rejoin straight away (its metadata
# arrives after the join), and after that second join it never re-enables its heartbeat
# thread, so it is timed out of the group. Against Kafka's default the race cannot occur.
# KIP-848 members heartbeat every 500 ms rather than Kafka's 5 s, so the consumer
# protocol's rebalances take a second.
start_broker "$port" "$log" --no-auto-create --group-initial-rebalance-delay-ms 3000 \
  --group-consumer-heartbeat-interval-ms 500 \
  --log-level "${BROKER_SIM_LOG_LEVEL:-info}" || fail "no cluster to test"

# Every wait in the tests has its own deadline; the outer timeout only guards against a
# client call that never returns.
junit=$(mktemp)
PYTHONDONTWRITEBYTECODE=1 timeout 600 "$venv/bin/python" -m pytest -p no:cacheprovider -v \
  --junitxml="$junit" --rootdir="$suite" "${tests[@]}"
status=$?

# Counts from pytest's JUnit report, and the names the failing tests gave their topics and
# groups (conftest.py's `unique`), to pick their lines out of the broker's log.
summary=$("$venv/bin/python" - "$junit" <<'PY'
import re, sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1)
    sys.exit()
passed = failed = 0
slugs = []
for case in root.iter("testcase"):
    if case.find("skipped") is not None:
        continue
    if case.find("failure") is None and case.find("error") is None:
        passed += 1
        continue
    failed += 1
    client = case.get("classname", "").split(".")[-1].removeprefix("test_")
    test = case.get("name", "").removeprefix("test_")
    slugs.append(".".join(re.sub(r"[^A-Za-z0-9-]+", "-", t)[:80] for t in (client, test)))
print(passed, failed)
for slug in slugs:
    print(slug)
PY
)
rm -f "$junit"
read -r passed failed <<<"$(head -n 1 <<<"$summary")"
# pytest's own exit status counts too: a crash, a timeout or no test collected is a failure.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$failed" -ne 0 ]; then
  echo "--- broker-sim log lines of the failing tests (the whole log: $log)"
  tail -n +2 <<<"$summary" | while read -r slug; do
    grep -F -- "$slug." "$log" | tail -n 30
  done
  echo "--- last lines of the broker-sim log"
  tail -n 10 "$log"
fi

echo "python: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
