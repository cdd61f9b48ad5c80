//! `broker-sim clock` and `broker-sim clock advance DURATION`: `GET /v1/clock` and
//! `POST /v1/clock/advance`.
//!
//! Only a cluster started with `--manual-clock` can be advanced; the API refuses the
//! others with 409, and that refusal is what the command prints.

use std::time::Duration;

use clap::Subcommand;
use serde_json::{Value, json};

use super::Connection;
use super::http::Error;
use super::output::{cell, emit, emit_json, time};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Show the cluster's time and whether its clock is manual (the default).
    Show,
    /// Move a manual clock forward; timers that come due fire (sessions, retention...).
    Advance {
        /// How far: 500ms, 3s, 5m, 1h, or a plain number of milliseconds.
        #[arg(value_parser = parse_duration)]
        duration: Duration,
    },
}

pub fn run(args: Args) -> Result<(), Error> {
    let api = args.connection.api();
    let clock = match args.action.unwrap_or(Action::Show) {
        Action::Show => api.get("/v1/clock", &[])?,
        Action::Advance { duration } => api.post(
            "/v1/clock/advance",
            Some(&json!({ "ms": duration.as_millis() as u64 })),
        )?,
    };
    if args.connection.json {
        return emit_json(&clock);
    }
    emit(&render(&clock))
}

fn render(clock: &Value) -> String {
    let kind = if clock["manual"] == true {
        "manual clock"
    } else {
        "system clock"
    };
    format!(
        "{} ({} ms), {kind}",
        time(&clock["now_ms"]),
        cell(&clock["now_ms"])
    )
}

/// A plain number is milliseconds; anything else as humantime reads it ("3s", "5m").
fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(ms) = text.parse::<u64>() {
        return Ok(Duration::from_millis(ms));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("{e} (expected e.g. 500ms, 3s, 5m or a number of milliseconds)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_units_or_as_plain_milliseconds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").unwrap_err().contains("500ms"));
    }
}
