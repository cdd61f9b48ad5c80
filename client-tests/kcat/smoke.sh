#!/usr/bin/env bash
# kcat against the broker-sim binary: list metadata, produce keyed records from stdin,
# consume them back with a format showing partition, offset and key (checked against what
# the control API says is stored), and as a consumer group. Installs kcat from Debian when
# it is missing (CI machines start without it). COMPAT_RESULTS, if set, collects one row
# per check for client-tests/compat.sh.
# Prints "kcat: N passed, N failed" and exits non-zero on any failure.
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

# "Version 1.7.1 (JSON, ..., librdkafka 2.0.2 builtin.features=...)"
version=$(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\) .*/\1/p' | head -n 1)
librdkafka=$(kcat -V 2>&1 | sed -n 's/.*librdkafka \([0-9][^ ]*\).*/\1/p' | head -n 1)
passed=0; failed=0
check() { # name, command...
  local name=$1 result; shift
  if "$@"; then passed=$((passed+1)); echo "ok   $name"; result=pass
  else failed=$((failed+1)); echo "FAIL $name"; result=fail; fi
  if [ -n "${COMPAT_RESULTS:-}" ]; then
    printf 'kcat\t%s (librdkafka %s)\t%s\t%s\n' "${version:-unknown}" "${librdkafka:-unknown}" "$name" "$result" \
      >>"$COMPAT_RESULTS"
  fi
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

# -f with partition, offset and key: the same triples the cluster says it stores, offsets
# running from 0 in each partition.
shown=$(kcat -b "$bootstrap" -C -t orders -e -q -m 10 -f '%p %o %k\n' | sort)
stored=$(python3 -c '
import json, sys, urllib.request
records = json.load(urllib.request.urlopen(sys.argv[1] + "/v1/topics/orders/records?limit=1000"))["records"]
print("\n".join(sorted(f"{r['"'"'partition'"'"']} {r['"'"'offset'"'"']} {r['"'"'key'"'"']}" for r in records)))
' "$BROKER_SIM_CONTROL" | sort)
check "consume -f shows each record's partition, offset and key as stored" test "$shown" = "$stored"
contiguous=$(sort -k1,1n -k2,2n <<<"$shown" \
  | awk '{ if ($2 != next_offset[$1]++) bad = 1 } END { print bad ? "gap" : "ok" }')
check "offsets run from 0 without a gap in each partition" test "$contiguous" = ok

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
