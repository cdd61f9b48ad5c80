#!/usr/bin/env bash
# kafkajs against the broker-sim binary: a produce/consume round trip, a consumer group of
# two reading every record once, and the admin group calls, in kafkajs.test.js; and
# @kafkajs/confluent-schema-registry against its embedded schema registry (Avro, JSON
# Schema and Protobuf round trips, subject calls, a 409) in schema-registry.test.js
# (node:test, no other test dependency).
#
# Installs what it needs: Node.js and npm from Debian when they are missing, then the
# packages pinned in package-lock.json with `npm ci` (node_modules is git-ignored).
# NODE_PORT moves the cluster (default 19250-19252); BROKER_SIM_LOG_LEVEL sets its log
# (default info), written to /tmp/broker-sim-node.log and shown when a test fails.
# COMPAT_RESULTS, if set, collects one row per test for client-tests/compat.sh.
# Prints "node: N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

suite=client-tests/node
log=/tmp/broker-sim-node.log
fail() { echo "node: $1"; echo "node: 0 passed, 1 failed"; exit 1; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing nodejs and npm"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm) >/dev/null 2>&1 \
    || fail "cannot install nodejs and npm"
fi

(cd "$suite" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"

. client-tests/broker.sh
taps=()
trap 'stop_broker; rm -f "${taps[@]}"' EXIT
start_broker "${NODE_PORT:-19250}" "$log" --no-auto-create \
  --log-level "${BROKER_SIM_LOG_LEVEL:-info}" || fail "no cluster to test"

# Each test file runs on its own (one `node --test` each), so its TAP counts and its compat
# rows carry that file's client: readable results on stdout, TAP in a file for the counts.
# Every wait in the tests has its own deadline; the outer timeout only guards against a
# call that never returns.
passed=0; failed=0
run_file() { # test file, client name for its rows, npm package whose version they carry
  local file=$1 client=$2 package=$3 tap
  tap=$(mktemp); taps+=("$tap")
  (cd "$suite" && timeout 600 node --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    "$file")
  local rc=$?
  local p f
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
  p=${p:-0}; f=${f:-0}
  # node's own exit status counts too: a crash, a timeout or no test run is a failure.
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))

  # One row per top-level test for client-tests/compat.sh (see its header), with the
  # version of the package npm actually installed.
  if [ -n "${COMPAT_RESULTS:-}" ]; then
    local version
    version=$(node -p "require('./$suite/node_modules/$package/package.json').version" 2>/dev/null || echo unknown)
    awk -v client="$client" -v version="$version" -v OFS='\t' '
      /^ok [0-9]+ - /     { sub(/^ok [0-9]+ - /, "");     print client, version, $0, "pass" }
      /^not ok [0-9]+ - / { sub(/^not ok [0-9]+ - /, ""); print client, version, $0, "fail" }
    ' "$tap" >>"$COMPAT_RESULTS"
  fi
}
run_file kafkajs.test.js kafkajs kafkajs
run_file schema-registry.test.js @kafkajs/confluent-schema-registry @kafkajs/confluent-schema-registry

if [ "$failed" -ne 0 ]; then echo "--- broker-sim log (last 40 lines of $log)"; tail -n 40 "$log"; fi

echo "node: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
