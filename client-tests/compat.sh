#!/usr/bin/env bash
# The cross-language compatibility run: every non-Rust client against the broker-sim
# binary (3 brokers), and the table of what passed. .ci/run calls it.
#
# Runs, one after the other, each suite with its own cluster and its own dependencies
# (each script installs what a fresh machine lacks):
#   kcat/smoke.sh                       kcat from Debian
#   python/run.sh (PYTHON_CLIENTS=latest) kafka-python, aiokafka, confluent-kafka, latest
#   python/run.sh (PYTHON_CLIENTS=legacy) kafka-python 2.0.2 and aiokafka 0.8.1
#   node/run.sh                         kafkajs, @kafkajs/confluent-schema-registry (npm lock file)
#   java/run.sh                         kafka-clients, Spring Kafka, Kafka Streams (Maven)
#   go/run.sh                           franz-go, sarama, kafka-go (Go module proxy)
# Each appends one row per test to $COMPAT_RESULTS: client, version (as the client reports
# it at run time), test, pass | fail | skipped. A suite that exits non-zero without a
# failing row, or writes no row at all, gets a failing row of its own, so a client that
# cannot even install fails the table too.
#
# Writes the table to target/compat/results.md and into README.md between the
# compat-table markers, so the README shows the last run. Exits non-zero if any row failed.
set -uo pipefail
cd "$(dirname "$0")/.."

out=$(pwd)/${CARGO_TARGET_DIR:-target}/compat
mkdir -p "$out"
export COMPAT_RESULTS=$out/results.tsv
: >"$COMPAT_RESULTS"
status=0

run_suite() { # client name for a suite-level row, command...
  local client=$1; shift
  local before after
  before=$(wc -l <"$COMPAT_RESULTS")
  "$@"
  local rc=$?
  after=$(wc -l <"$COMPAT_RESULTS")
  if [ "$after" -eq "$before" ]; then
    printf '%s\t-\tsuite ran and reported its tests\tfail\n' "$client" >>"$COMPAT_RESULTS"
  elif [ "$rc" -ne 0 ] && ! tail -n +$((before + 1)) "$COMPAT_RESULTS" | grep -q $'\tfail$'; then
    printf '%s\t-\tsuite exited cleanly\tfail\n' "$client" >>"$COMPAT_RESULTS"
  fi
  [ "$rc" -eq 0 ] || status=1
}

run_suite kcat client-tests/kcat/smoke.sh
run_suite "python clients (latest)" env PYTHON_CLIENTS=latest client-tests/python/run.sh
run_suite "python clients (legacy)" env PYTHON_CLIENTS=legacy client-tests/python/run.sh
run_suite kafkajs client-tests/node/run.sh
run_suite "java clients" client-tests/java/run.sh
run_suite "go clients" client-tests/go/run.sh

table=$out/results.md
{
  echo "| client | version | test | result |"
  echo "|---|---|---|---|"
  awk -F'\t' -v OFS=' | ' '{
    result = $4 == "fail" ? "**FAIL**" : $4
    print "| " $1, $2, $3, result " |"
  }' "$COMPAT_RESULTS"
} >"$table"

# The README's table is this run's: everything between the markers is replaced.
readme=README.md
if grep -q '^<!-- compat-table:start -->$' "$readme" && grep -q '^<!-- compat-table:end -->$' "$readme"; then
  awk -v table="$table" '
    /^<!-- compat-table:start -->$/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
    /^<!-- compat-table:end -->$/   { skip = 0 }
    !skip
  ' "$readme" >"$out/README.md" && cp "$out/README.md" "$readme"
else
  echo "compat: README.md has no compat-table markers; the table is only in $table"
  status=1
fi

fails=$(grep -c $'\tfail$' "$COMPAT_RESULTS")
echo "compat: $(wc -l <"$COMPAT_RESULTS") rows, $fails failed; table in $table and README.md"
[ "$status" -eq 0 ] && [ "$fails" -eq 0 ]
