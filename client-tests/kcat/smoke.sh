#!/usr/bin/env bash
# kcat against the broker-sim binary: list metadata, produce keyed records, consume them
# back, by partition and as a consumer group. Installs kcat from Debian when it is missing (CI machines start without it).
# Prints "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

if ! command -v kcat >/dev/null; then
  echo "installing kcat"
  (apt-get update -qq && apt-get install -y -qq kcat) >/dev/null 2>&1 || {
    echo "kcat: cannot install"; echo "0 passed, 1 failed"; exit 1; }
fi

. client-tests/broker.sh
trap stop_broker EXIT
start_broker "${KCAT_PORT:-19092}" /tmp/broker-sim-kcat.log --topic orders:3 --log-level warn \
  || { echo "kcat: 0 passed, 1 failed"; exit 1; }
bootstrap=$BROKER_SIM_BOOTSTRAP

passed=0; failed=0
check() { # name, command...
  local name=$1; shift
  if "$@"; then passed=$((passed+1)); echo "ok   $name"
  else failed=$((failed+1)); echo "FAIL $name"; fi
}

metadata=$(kcat -b "$bootstrap" -L -m 5 2>&1)
check "metadata lists 3 brokers" grep -q "^ 3 brokers:" <<<"$metadata"
check "metadata lists orders with 3 partitions" grep -q 'topic "orders" with 3 partitions' <<<"$metadata"

printf 'k1:v1\nk2:v2\nk3:v3\nk1:v4\n' | kcat -b "$bootstrap" -P -t orders -K: -m 10
consumed=$(kcat -b "$bootstrap" -C -t orders -e -q -m 10 -f '%k=%s\n' | sort)
check "consume returns every produced record" \
  test "$consumed" = "$(printf 'k1=v1\nk1=v4\nk2=v2\nk3=v3')"
same_key=$(kcat -b "$bootstrap" -C -t orders -e -q -m 10 -f '%k %p\n' | awk '$1=="k1"{print $2}' | sort -u | wc -l)
check "records with one key share a partition" test "$same_key" = 1

echo hello | kcat -b "$bootstrap" -P -t auto-created -m 10
check "producing to a new topic auto-creates it" \
  test "$(kcat -b "$bootstrap" -C -t auto-created -e -q -m 10)" = hello

# Balanced consumer (-G): the group commits on exit, so a second run of the same group
# starts after what the first consumed and sees only newer records.
group_consume() {
  kcat -b "$bootstrap" -G kcat-group -X auto.offset.reset=earliest -e -q -f '%k=%s\n' orders | sort
}
check "a consumer group reads every record" \
  test "$(group_consume)" = "$(printf 'k1=v1\nk1=v4\nk2=v2\nk3=v3')"
echo k4:v5 | kcat -b "$bootstrap" -P -t orders -K:
check "the group resumes from its committed offsets" test "$(group_consume)" = "k4=v5"

echo "kcat: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
