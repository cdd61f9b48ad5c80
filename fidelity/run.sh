#!/usr/bin/env bash
# The differential suite: starts a reference Apache Kafka 4.1 (fidelity/kafka/start.sh,
# jars from Maven Central), sends every scenario to it and to broker-sim, runs the
# client-level Java program (fidelity/java) against both, writes
# target/fidelity/report.md (every difference, readable) and the summary in README.md,
# stops Kafka. Exits non-zero if any difference is not listed as intended
# (fidelity/src/intended.rs). Called by .ci/run.
#
# Kafka runs an authorizer (StandardAuthorizer, allow.everyone.if.no.acl.found=true) and
# the suite configures broker-sim the same way: every request is allowed until an ACL
# names its resource, as without one, and the ACL scenarios (corpus/acls.rs) can run. The
# few scenarios of a Kafka without an authorizer (SECURITY_DISABLED) are then skipped;
# start Kafka without --authorizer and pass --kafka to run them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/fidelity
mkdir -p "$out"
cargo build -q -p fidelity
# The client-level program: kafka-clients 4.1 from Maven Central.
mvn -q -B -Dstyle.color=never -f fidelity/java/pom.xml compile dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt >&2
classpath="fidelity/java/target/classes:$(cat fidelity/java/target/classpath.txt)"
fidelity/kafka/start.sh --port "${FIDELITY_KAFKA_PORT:-29092}" --authorizer >"$out/kafka.out" 2>"$out/kafka.err" &
kafka=$!
trap 'kill "$kafka" 2>/dev/null || true; wait "$kafka" 2>/dev/null || true' EXIT
until grep -q '^BOOTSTRAP=' "$out/kafka.out"; do
  if ! kill -0 "$kafka" 2>/dev/null; then
    echo "fidelity: the reference Kafka did not start:" >&2
    cat "$out/kafka.err" >&2
    exit 1
  fi
  sleep 0.2
done
cat "$out/kafka.err" >&2
bootstrap="$(sed -n 's/^BOOTSTRAP=//p' "$out/kafka.out")"
target/debug/fidelity --kafka "$bootstrap" --out "$out" --readme README.md --java-classpath "$classpath"
