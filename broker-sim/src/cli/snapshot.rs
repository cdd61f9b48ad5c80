//! `broker-sim snapshot FILE`: `POST /v1/snapshot`, the cluster's topics, records, group
//! offsets and configs as one JSON document, written where the command runs (the
//! cluster may be on another machine), to start copies with `broker-sim --snapshot FILE`.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::Connection;
use super::http::Error;
use super::output::{emit, emit_json};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the snapshot (`-`: stdout).
    file: PathBuf,
    #[command(flatten)]
    connection: Connection,
}

pub fn run(args: Args) -> Result<(), Error> {
    let snapshot = args.connection.api().post("/v1/snapshot", None)?;
    let text = serde_json::to_string(&snapshot).map_err(|e| Error::Other(e.to_string()))?;
    if args.file.as_os_str() == "-" {
        return emit(&text);
    }
    std::fs::write(&args.file, &text)
        .map_err(|e| Error::Other(format!("cannot write {}: {e}", args.file.display())))?;
    let summary = json!({
        "path": args.file.display().to_string(),
        "bytes": text.len(),
        "topics": snapshot["topics"].as_array().map_or(0, Vec::len),
    });
    if args.connection.json {
        return emit_json(&summary);
    }
    emit(&render(&summary))
}

fn render(summary: &Value) -> String {
    format!(
        "wrote {} ({} bytes, {} topics); start a copy with `broker-sim --snapshot {}`",
        summary["path"].as_str().unwrap_or_default(),
        summary["bytes"],
        summary["topics"],
        summary["path"].as_str().unwrap_or_default(),
    )
}
