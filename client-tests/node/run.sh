#!/usr/bin/env bash
# kafkajs against the broker-sim binary: a produce/consume round trip, a consumer group of
# two reading every record once, and the admin group calls, in kafkajs.test.js (node:test,
# no other dependency).
#
# Installs what it needs: Node.js and npm from Debian when they are missing, then the
# kafkajs pinned in package-lock.json with `npm ci` (node_modules is git-ignored).
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
trap 'stop_broker; rm -f "${tap:-}"' EXIT
start_broker "${NODE_PORT:-19250}" "$log" --no-auto-create \
  --log-level "${BROKER_SIM_LOG_LEVEL:-info}" || fail "no cluster to test"

# Readable results on stdout, TAP in a file for the counts. Every wait in the tests has
# its own deadline; the outer timeout only guards against a call that never returns.
tap=$(mktemp)
(cd "$suite" && timeout 600 node --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  kafkajs.test.js)
status=$?

# One row per top-level test for client-tests/compat.sh (see its header), with the kafkajs
# version npm actually installed.
if [ -n "${COMPAT_RESULTS:-}" ]; then
  version=$(node -p "require('./$suite/node_modules/kafkajs/package.json').version" 2>/dev/null || echo unknown)
  awk -v version="$version" -v OFS='\t' '
    /^ok [0-9]+ - /     { sub(/^ok [0-9]+ - /, "");     print "kafkajs", version, $0, "pass" }
    /^not ok [0-9]+ - / { sub(/^not ok [0-9]+ - /, ""); print "kafkajs", version, $0, "fail" }
  ' "$tap" >>"$COMPAT_RESULTS"
fi

passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
passed=${passed:-0}; failed=${failed:-0}
# node's own exit status counts too: a crash, a timeout or no test run is a failure.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$failed" -ne 0 ]; then echo "--- broker-sim log (last 40 lines of $log)"; tail -n 40 "$log"; fi

echo "node: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
