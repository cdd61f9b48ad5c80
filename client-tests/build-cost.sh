#!/usr/bin/env bash
# What it costs a test crate to depend on broker-sim: builds, cold and in debug, a scratch
# crate whose one test starts a cluster through the embedding API, seeds a record and
# reads it back, and prints the seconds the build took.
#
#   client-tests/build-cost.sh [default|embed|FEATURES...]
#
#   default  broker-sim with its default features (what the binary and the repo's tests use)
#   embed    `default-features = false`: what a crate that only embeds a cluster picks
#   lean     embed, with the dev profile the README suggests (less debug info for
#            broker-sim's crates and kafka-protocol)
#   other    `default-features = false, features = [those given, comma-separated]`
# With no argument it measures `default` then `embed`.
#
# Each measurement uses a fresh scratch crate and a fresh CARGO_TARGET_DIR, so nothing is
# reused between them (registry sources are fetched first, outside the timed build). The
# build runs with -j2 under `nice -n 10`, as every build on the shared 2-core machine
# does, so the wall-clock figure includes whatever else the machine is doing: the CPU
# seconds (user + system, all compiler processes) and the load average are printed beside
# it; on an idle machine the wall time is about half the CPU time plus the stalls of the
# dependency chain. The embedding build also runs with CC=/bin/false CXX=/bin/false and
# fails if `cargo tree` finds `cc` among its normal or build dependencies: it must need no
# C toolchain. With BUILD_COST_TIMINGS=1 the build also writes cargo's --timings report,
# copied to target/build-cost/LABEL.html, and the ten longest units are printed (under
# load every unit takes longer: compare their shares, not their seconds). A shell script rather than a `bench`
# subcommand: it times cargo itself, and a subcommand would first have to build the bench
# binary and its C-based clients.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_INCREMENTAL=0

measure() { # label, dependency line
  local label=$1 dep=$2
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/broker-sim-build-cost.XXXXXX")
  trap 'rm -rf "$dir"' RETURN
  mkdir -p "$dir/src" "$dir/tests"
  cat >"$dir/Cargo.toml" <<EOF
[package]
name = "embeds-broker-sim"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dev-dependencies]
$dep
EOF
  # `lean`: the embedding build with the profile the README suggests for a test crate,
  # line tables only (backtraces keep file:line) for broker-sim's own crates and none
  # for kafka-protocol's generated code.
  if [[ $label == lean ]]; then
    cat >>"$dir/Cargo.toml" <<'EOF'

[profile.dev.package.broker-sim]
debug = "line-tables-only"
[profile.dev.package.broker-sim-state]
debug = "line-tables-only"
[profile.dev.package.broker-sim-protocol]
debug = "line-tables-only"
[profile.dev.package.kafka-protocol]
debug = false
EOF
  fi
  echo '//! Nothing: the test is the point.' >"$dir/src/lib.rs"
  cat >"$dir/tests/embed.rs" <<'EOF'
#[test]
fn a_seeded_record_reads_back() {
    let cluster = broker_sim::Cluster::builder()
        .brokers(1)
        .topic("orders", 1)
        .start()
        .expect("cluster starts");
    let (partition, offset) = cluster
        .produce("orders", Some(b"k"), b"hello")
        .expect("record is appended");
    let records = cluster.records("orders");
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].partition, records[0].offset), (partition, offset));
    assert_eq!(records[0].value_str(), Some("hello"));
}
EOF
  # The repository's lock file, so the scratch crate builds the versions the repo tests.
  cp "$repo/Cargo.lock" "$dir/Cargo.lock"
  local -a env=(CARGO_TARGET_DIR="$dir/target")
  if [[ $label != default ]]; then
    if (cd "$dir" && cargo tree -q -e normal,build --target all 2>/dev/null) | grep -Eq '(^|[ ─])cc v'; then
      echo "$label: cc is among the dependencies:" >&2
      (cd "$dir" && cargo tree -q -e normal,build -i cc --target all) >&2
      return 1
    fi
    env+=(CC=/bin/false CXX=/bin/false)
  fi
  (cd "$dir" && cargo fetch -q)
  local -a timings=()
  [[ -z ${BUILD_COST_TIMINGS:-} ]] || timings=(--timings)
  local TIMEFORMAT='%R %U %S' wall user sys
  { time (cd "$dir" && env "${env[@]}" nice -n 10 cargo test -q --no-run -j 2 "${timings[@]}" 2>"$dir/build.log"); } 2>"$dir/time" || {
    cat "$dir/build.log" >&2
    return 1
  }
  read -r wall user sys <"$dir/time"
  local load
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  (cd "$dir" && env "${env[@]}" cargo test -q -j 2 >"$dir/test.log" 2>&1) || {
    cat "$dir/test.log" >&2
    return 1
  }
  if [[ -n ${BUILD_COST_TIMINGS:-} ]]; then
    mkdir -p "$repo/target/build-cost"
    cp "$dir/target/cargo-timings/cargo-timing.html" "$repo/target/build-cost/$label.html"
    top_units "$repo/target/build-cost/$label.html"
  fi
  printf '%-8s %6.1f s wall, %6.1f s CPU (cold debug build, -j2; load average after: %s)\n' \
    "$label" "$wall" "$(echo "$user + $sys" | bc)" "$load"
}

top_units() { # timings report: the ten longest units, and the unit-seconds they add to
  python3 - "$1" <<'PY'
import json, re, sys
page = open(sys.argv[1]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", page, re.S).group(1))
total = sum(u["duration"] for u in units)
print(f"  {len(units)} units, {total:.1f} unit-seconds; the longest (seconds, started at):")
for u in sorted(units, key=lambda u: -u["duration"])[:10]:
    print(f"  {u['duration']:6.1f} {u['start']:6.1f}  {u['name']} {u['version']} {u['target'].strip()}")
PY
}

dep_line() { # label -> the dev-dependency line
  case $1 in
    default) echo "broker-sim = { path = \"$repo/broker-sim\" }" ;;
    embed | lean) echo "broker-sim = { path = \"$repo/broker-sim\", default-features = false }" ;;
    *)
      local features
      features=$(echo "$1" | tr ',' '\n' | sed 's/.*/"&"/' | paste -sd, -)
      echo "broker-sim = { path = \"$repo/broker-sim\", default-features = false, features = [$features] }"
      ;;
  esac
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
labels=("$@")
[[ ${#labels[@]} -gt 0 ]] || labels=(default embed)
for label in "${labels[@]}"; do
  measure "$label" "$(dep_line "$label")"
done
