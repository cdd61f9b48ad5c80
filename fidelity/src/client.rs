//! The client-level half: one Java program (`fidelity/java`, kafka-clients 4.1) makes the
//! ordinary calls of a service (admin, idempotent producer, consumers by assignment and in
//! a group, offsets, errors) and prints one line per thing the client observes: records,
//! offsets, assignments, configs, exception classes and messages. It runs against the
//! reference Kafka and against a fresh one-broker broker-sim, and the two outputs are
//! compared line by line. The program prints no ids, ports or clock times, so nothing is
//! normalised.

use std::process::Command;

use broker_sim::Cluster;

use crate::compare::{Change, Line, diff};

/// What one run of the program printed, or why it failed.
fn observe(classpath: &str, bootstrap: &str, prefix: &str) -> Result<Vec<String>, String> {
    let out = Command::new("java")
        .args([
            "-cp",
            classpath,
            "dev.brokersim.fidelity.Observe",
            bootstrap,
            prefix,
        ])
        .output()
        .map_err(|e| format!("cannot run java: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        return Err(format!(
            "the program failed against {bootstrap}:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(text.lines().map(str::to_string).collect())
}

/// The comparison: (observations, identical, differences as text).
pub struct Outcome {
    pub observations: usize,
    pub different: Vec<String>,
}

pub fn run(classpath: &str, kafka: &str, prefix: &str) -> Result<Outcome, String> {
    let kafka_lines = observe(classpath, kafka, prefix)?;
    let cluster = Cluster::builder()
        .brokers(1)
        .seed(crate::SEED)
        // Configured as the reference Kafka is (see `crate::sim`).
        .authorizer(crate::AUTHORIZER.load(std::sync::atomic::Ordering::Relaxed))
        .allow_everyone_if_no_acl_found(true)
        .start()
        .map_err(|e| format!("broker-sim does not start: {e}"))?;
    let sim_lines = observe(classpath, &cluster.bootstrap_servers(), prefix)?;
    let as_lines = |lines: &[String]| -> Vec<Line> {
        lines
            .iter()
            .map(|l| Line {
                path: l.split(": ").next().unwrap_or_default().to_string(),
                text: l.clone(),
            })
            .collect()
    };
    let different = diff(&as_lines(&kafka_lines), &as_lines(&sim_lines))
        .into_iter()
        .map(|c| match c {
            Change::Kafka(l) => format!("kafka {}", l.text),
            Change::Sim(l) => format!("sim   {}", l.text),
        })
        .collect();
    Ok(Outcome {
        observations: kafka_lines.len(),
        different,
    })
}
