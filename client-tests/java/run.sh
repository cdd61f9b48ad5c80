#!/usr/bin/env bash
# The Java clients against the broker-sim binary: kafka-clients 4.1 (producer, consumer,
# admin), Spring Kafka and Kafka Streams, as JUnit tests run by Maven (`mvn -q -B test`;
# every dependency is resolved from Maven Central into the local repository). Each test
# writes a row of the compatibility table when COMPAT_RESULTS is set (CompatRows.java); a
# call that needs an API broker-sim does not serve yet is an "expected failure" row that
# names it. JAVA_PORT moves the cluster (default 19300-19302); its log is
# /tmp/broker-sim-java.log. Prints "java: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "java: $1"; echo "java: 0 passed, 1 failed"; exit 1; }
for tool in java mvn; do
  command -v "$tool" >/dev/null || fail "$tool is missing (the polyglot machine has Java 17 and Maven)"
done

. client-tests/broker.sh
trap stop_broker EXIT
log=/tmp/broker-sim-java.log
# The librdkafka consumer a Java test shares a KIP-848 group with (and kills).
cargo build -q -p client-tests --bin crash-consumer || fail "crash-consumer does not build"
CRASH_CONSUMER="$(pwd)/${CARGO_TARGET_DIR:-target}/debug/crash-consumer"
export CRASH_CONSUMER
# KIP-848 members heartbeat every 500 ms and are timed out after 3 s (Kafka: 5 s and
# 45 s), so a rebalance of the new protocol takes a second rather than ten.
# Besides the PLAINTEXT listener, SASL_PLAINTEXT (port + 10) and SSL (port + 20) ones for
# SecurityTest, with user alice.
port="${JAVA_PORT:-19300}"
start_broker "$port" "$log" --log-level "${BROKER_SIM_LOG_LEVEL:-info}" \
  --group-consumer-heartbeat-interval-ms 500 --group-consumer-session-timeout-ms 3000 \
  --listener PLAINTEXT --listener "SASL:SASL_PLAINTEXT:$((port + 10))" \
  --listener "TLS:SSL:$((port + 20))" --sasl-user alice:alice-secret \
  || fail "no cluster to test"
brokers() { echo "127.0.0.1:$1,127.0.0.1:$(($1 + 1)),127.0.0.1:$(($1 + 2))"; }
BROKER_SIM_SASL_BOOTSTRAP=$(brokers $((port + 10)))
BROKER_SIM_SSL_BOOTSTRAP=$(brokers $((port + 20)))
export BROKER_SIM_SASL_BOOTSTRAP BROKER_SIM_SSL_BOOTSTRAP

reports=client-tests/java/target/surefire-reports
rm -rf "$reports"
timeout 900 mvn -q -B -Dstyle.color=never -f client-tests/java/pom.xml test
status=$?
read -r passed failed <<<"$(python3 - "$reports" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = 0
for f in glob.glob(sys.argv[1] + "/TEST-*.xml"):
    for case in ET.parse(f).getroot().iter("testcase"):
        if case.find("skipped") is not None:
            continue
        if case.find("failure") is None and case.find("error") is None:
            passed += 1
        else:
            failed += 1
print(passed, failed)
PY
)"
if [ "$status" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi
if [ "${failed:-0}" -ne 0 ]; then
  echo "--- last lines of the broker-sim log ($log)"
  tail -n 20 "$log"
fi
echo "java: ${passed:-0} passed, ${failed:-0} failed"
[ "${failed:-0}" -eq 0 ]
