#!/usr/bin/env bash
# Builds the fuzz targets (cargo-fuzz, libFuzzer) and runs each for a bounded time under a
# memory limit, printing executions and coverage per target; fails if any target found a
# crash (its input is then in fuzz/artifacts/<target>/). See fuzz/README.md.
#
#   FUZZ_SECONDS   seconds per target (default 45)
#   FUZZ_RSS_MB    libFuzzer's -rss_limit_mb (default 2048)
#   FUZZ_TARGETS   the targets to run (default: all)
#   FUZZ_JOBS      parallel fuzzing processes per target (default 1)
#   FUZZ_CODEGEN_UNITS  16 by default: the build takes about half as long on CI's two cores,
#                  the runs are somewhat slower; 1 (cargo-fuzz's default) for long runs
#   BROKER_SIM_FUZZ_LOCK_MS  longest state-lock hold allowed per request (default 500)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-45}
rss_mb=${FUZZ_RSS_MB:-2048}
jobs=${FUZZ_JOBS:-1}
targets=${FUZZ_TARGETS:-"dispatch request client_ops batch control_json registry"}
export CARGO_INCREMENTAL=0

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# libFuzzer's instrumentation needs nightly rustc flags.
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
# -s none: the code under test is safe Rust, where AddressSanitizer finds nothing that a
# panic does not, at a third of the speed; -a keeps debug assertions and overflow checks,
# as in the debug builds that run broker-sim in tests.
flags=(-s none -a --codegen-units "${FUZZ_CODEGEN_UNITS:-16}")
start=$(date +%s)
cargo +nightly fuzz build "${flags[@]}"
echo "fuzz: built in $(( $(date +%s) - start )) s"

failed=()
summary=()
for target in $targets; do
    # seeds/<target> may not exist: the registry target starts from nothing.
    mkdir -p "corpus/$target" "artifacts/$target" "seeds/$target" logs
    # Not under artifacts/: cargo-fuzz reports any new file there as the failing input.
    log="logs/$target.log"
    echo "fuzz: $target for ${seconds}s"
    # corpus/<target> (first) receives what the run discovers; seeds/<target> is read only.
    # With several jobs libFuzzer runs them as processes logging to fuzz-<n>.log.
    parallel=()
    if ((jobs > 1)); then parallel=(-jobs="$jobs" -workers="$jobs"); fi
    if cargo +nightly fuzz run "${flags[@]}" "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout=20 "${parallel[@]}" \
        -print_final_stats=1 >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$target")
        grep -E "panicked|ERROR: libFuzzer|SUMMARY|Test unit written" "$log" | head -20 || true
    fi
    logs=("$log")
    if ((jobs > 1)); then logs+=(fuzz-*.log); fi
    execs=$(cat "${logs[@]}" | awk '/stat::number_of_executed_units/ {s+=$2} END {print s+0}')
    last=$(cat "${logs[@]}" | grep -E '^#[0-9]+.*(cov|ft):' | tail -1 || true)
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
    rm -f fuzz-*.log
    summary+=("$(printf '%-13s %-6s execs %-10s cov %-6s ft %-6s corpus %s' \
        "$target" "$status" "$execs" "${cov:-?}" "${ft:-?}" "$(ls "corpus/$target" | wc -l)")")
done
echo "fuzz: summary (${seconds}s per target, -rss_limit_mb=$rss_mb), total $(( $(date +%s) - start )) s"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
    echo "fuzz: crashes in ${failed[*]}: inputs in fuzz/artifacts/<target>/, logs in fuzz/logs/<target>.log"
    exit 1
fi
