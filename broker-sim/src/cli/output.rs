//! What the subcommands print: tables for people, the API's JSON for scripts, and the
//! text of keys and values.
//!
//! Tables are plain aligned columns with an upper-case header (comfy-table without
//! borders), so `grep` and `awk` work on them too. Everything goes through [`emit`], which
//! turns a closed stdout (`| head`) into [`Error::StdoutClosed`] instead of a panic.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use comfy_table::{Table, presets};
use serde_json::Value;

use super::http::Error;

/// Writes `text` to stdout, with a newline unless it ends with one.
pub fn emit(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    write!(out, "{text}{newline}")
        .and_then(|()| out.flush())
        .map_err(|_| Error::StdoutClosed)
}

/// An answer as one indented JSON document.
pub fn emit_json(value: &Value) -> Result<(), Error> {
    emit(&serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()))
}

/// Rows under a header, in aligned columns.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table.set_header(header.iter().map(|h| h.to_uppercase()));
    for row in rows {
        table.add_row(row);
    }
    // Each cell is padded by a space on both sides; the first column's and the line ends'
    // are noise in a terminal and in a diff.
    table
        .lines()
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A JSON number or string as a cell; `-` for null or absent.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A list of numbers as `1,2,3`.
pub fn list(value: &Value) -> String {
    match value.as_array() {
        Some(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        None => cell(value),
    }
}

/// A cluster-clock time (ms since the epoch) as RFC 3339 UTC, with the milliseconds.
pub fn time(ms: &Value) -> String {
    match ms.as_i64().and_then(|ms| u64::try_from(ms).ok()) {
        Some(ms) => {
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
            humantime::format_rfc3339_millis(at).to_string()
        }
        None => cell(ms),
    }
}

/// How records' keys and values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Decode {
    /// Text; control characters and bytes that are not UTF-8 escaped (`\n`, `\xff`).
    Utf8,
    /// JSON on one line; anything that is not JSON shown as utf8.
    Json,
    /// Lower-case hexadecimal bytes.
    Hex,
    /// A value or key in the Confluent wire format as the schema registry decodes it
    /// (`#ID {json}`, or `#ID <error>`); anything else shown as json.
    Schema,
}

/// The bytes of a key, value or header value from the API's text and encoding
/// (`utf8` or `base64`); `None` for null.
pub fn bytes(text: &Value, encoding: &Value) -> Option<Vec<u8>> {
    let text = text.as_str()?;
    match encoding.as_str() {
        Some("base64") => BASE64.decode(text).ok(),
        _ => Some(text.as_bytes().to_vec()),
    }
}

/// Bytes as `decode` shows them; `<null>` for null.
pub fn decoded(bytes: Option<&[u8]>, decode: Decode) -> String {
    let Some(bytes) = bytes else {
        return "<null>".to_string();
    };
    match decode {
        Decode::Hex => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Decode::Json | Decode::Schema => match serde_json::from_slice::<Value>(bytes) {
            Ok(json) => json.to_string(),
            Err(_) => decoded(Some(bytes), Decode::Utf8),
        },
        Decode::Utf8 => match std::str::from_utf8(bytes) {
            // One record, one line: control characters are escaped, the rest kept.
            Ok(text) => text
                .chars()
                .flat_map(|c| {
                    let escaped: Vec<char> = if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        vec![c]
                    };
                    escaped
                })
                .collect(),
            Err(_) => bytes.escape_ascii().to_string(),
        },
    }
}

/// A key or value as `--decode schema` shows it: what the registry decoded (the records
/// answer's `value_decoded`/`key_decoded`), else the bytes as json.
pub fn schema_decoded(decoded_field: &Value, bytes: Option<&[u8]>) -> String {
    match (&decoded_field["schema_id"], &decoded_field["error"]) {
        (Value::Null, _) => decoded(bytes, Decode::Json),
        (id, Value::String(error)) => format!("#{id} <{error}>"),
        (id, _) => format!("#{id} {}", decoded_field["value"]),
    }
}

/// `KEY=VALUE` from the command line.
pub fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_decode_as_escaped_text_compact_json_or_hex() {
        assert_eq!(decoded(Some(b"a\nb"), Decode::Utf8), "a\\nb");
        assert_eq!(decoded(Some(b"caf\xc3\xa9"), Decode::Utf8), "café");
        assert_eq!(decoded(Some(b"\xff!"), Decode::Utf8), "\\xff!");
        assert_eq!(decoded(Some(b"{ \"a\": 1 }"), Decode::Json), "{\"a\":1}");
        assert_eq!(decoded(Some(b"plain"), Decode::Json), "plain");
        assert_eq!(decoded(Some(b"\x00\xab"), Decode::Hex), "00ab");
        assert_eq!(decoded(None, Decode::Hex), "<null>");
    }

    #[test]
    fn tables_align_columns_without_borders() {
        let text = table(
            &["id", "status"],
            vec![
                vec!["1".into(), "up".into()],
                vec!["10".into(), "down".into()],
            ],
        );
        assert_eq!(text, "ID  STATUS\n1   up\n10  down");
    }
}
