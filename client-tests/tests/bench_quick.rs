//! The benchmark (`src/bin/bench`) still works: its quick mode runs every phase against
//! broker-sim, librdkafka's mock cluster and the null broker, and prints the whole table.
//! The figures of a quick run in a debug build mean nothing, so nothing here looks at them;
//! speed is the full benchmark's business (see the README's Performance section).

use std::process::Command;

#[test]
fn the_benchmark_runs_every_phase_in_quick_mode() {
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("--quick")
        .output()
        .expect("bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench --quick failed:\n{stdout}\n{stderr}"
    );
    for figure in [
        "produce, broker-sim / null broker",
        "produce, broker-sim / mock",
        "consume (librdkafka defaults), broker-sim / mock",
        "longest gap between consumed records",
        "3-broker cluster start",
        "broker RSS holding",
        "produce→consume latency",
    ] {
        assert!(stdout.contains(figure), "no {figure:?} row in:\n{stdout}");
    }
    assert!(!stdout.contains("NaN"), "a figure is missing:\n{stdout}");
}
