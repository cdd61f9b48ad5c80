#!/usr/bin/env bash
# The web console (GET / of the control API) in a real browser: Debian's Chromium driven by
# playwright-core, with kafkajs as the Kafka client, in console.test.js (node:test). It
# opens the pages, clicks and fills them as a user would, and checks what they show:
# topics and records from kafkajs, a record produced from the form and consumed back, a
# broker stopped by its button, a fault's hit count, a group's members and lag.
#
# Installs what it needs: Chromium, Node.js and npm from Debian when they are missing
# (Playwright's own browser download is not used), then the playwright-core and kafkajs
# pinned in package-lock.json with `npm ci` (node_modules is git-ignored).
# CONSOLE_PORT moves the cluster (default 19260-19262); BROKER_SIM_LOG_LEVEL sets its log
# (default info), written to /tmp/broker-sim-console.log and shown when a test fails.
# CONSOLE_SCREENSHOTS=DIR saves PNGs of the main pages (1280x800) into DIR (the README's
# pictures: CONSOLE_SCREENSHOTS=docs/console).
# Prints "console: N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

suite=client-tests/console
log=/tmp/broker-sim-console.log
fail() { echo "console: $1"; echo "console: 0 passed, 1 failed"; exit 1; }

missing=()
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -ne 0 ]; then
  echo "installing ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1 \
    || fail "cannot install ${missing[*]}"
fi

(cd "$suite" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"

# A relative screenshot directory is the caller's, not the suite's.
if [ -n "${CONSOLE_SCREENSHOTS:-}" ]; then
  mkdir -p "$CONSOLE_SCREENSHOTS" && CONSOLE_SCREENSHOTS=$(cd "$CONSOLE_SCREENSHOTS" && pwd)
  export CONSOLE_SCREENSHOTS
fi

. client-tests/broker.sh
trap 'stop_broker; rm -f "${tap:-}"' EXIT
start_broker "${CONSOLE_PORT:-19260}" "$log" \
  --log-level "${BROKER_SIM_LOG_LEVEL:-info}" || fail "no cluster to test"

# Readable results on stdout, TAP in a file for the counts. Every wait in the tests has
# its own deadline; the outer timeout only guards against a call that never returns.
tap=$(mktemp)
(cd "$suite" && timeout 300 node --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  console.test.js)
status=$?

passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
passed=${passed:-0}; failed=${failed:-0}
# node's own exit status counts too: a crash, a timeout or no test run is a failure.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$failed" -ne 0 ]; then echo "--- broker-sim log (last 40 lines of $log)"; tail -n 40 "$log"; fi

echo "console: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
