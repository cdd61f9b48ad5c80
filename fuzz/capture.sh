#!/usr/bin/env bash
# Captures real clients' requests as seeds: runs `capture` (tools/src/bin/capture.rs), which
# serves the fuzz harness's cluster on 127.0.0.1:9092-9094, drives it with kcat (librdkafka:
# metadata, produce with every codec, consume, a consumer group, committed offsets), and
# writes seeds/dispatch/capture-* and seeds/request/capture-*. Needs kcat and free ports
# 9092-9094. The seeds in the repository came from this script; rerun it after a client
# upgrade or to add flows.
set -euo pipefail
cd "$(dirname "$0")"
command -v kcat >/dev/null || { echo "capture.sh needs kcat" >&2; exit 1; }
rm -f seeds/dispatch/capture-* seeds/request/capture-*
cargo build -p broker-sim-fuzz-tools --bin capture
target/debug/capture 40 seeds &
capture=$!
trap 'kill "$capture" 2>/dev/null || true' EXIT
sleep 1 # the listeners bind at start; kcat retries anyway
bootstrap=127.0.0.1:9092
kcat -b "$bootstrap" -L >/dev/null
for codec in none gzip snappy lz4 zstd; do
    printf 'k1:v1\nk2:v2\nk3:v3\n' | kcat -b "$bootstrap" -P -t t -K: -z "$codec" -X acks=all
done
printf 'x:idempotent\n' | kcat -b "$bootstrap" -P -t t -K: -X enable.idempotence=true
printf 'acks0\n' | kcat -b "$bootstrap" -P -t t -X acks=0
kcat -b "$bootstrap" -C -t t -o beginning -e -q >/dev/null
kcat -b "$bootstrap" -C -t t -o -2 -e -q >/dev/null
# A consumer group: joins, syncs, fetches, commits; stopped after a few seconds.
timeout 12 kcat -b "$bootstrap" -G capture-group -X auto.offset.reset=earliest \
    -X enable.auto.commit=true -X auto.commit.interval.ms=500 -q t >/dev/null || true
kcat -b "$bootstrap" -Q -t t:0:0 >/dev/null || true
wait "$capture"
trap - EXIT
ls seeds/dispatch | grep -c capture- | xargs echo "dispatch captures:"
ls seeds/request | grep -c capture- | xargs echo "request captures:"
