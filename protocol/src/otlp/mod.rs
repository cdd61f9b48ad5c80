//! The OpenTelemetry metrics a client pushes with PushTelemetry (KIP-714), as the data
//! points a test reads.
//!
//! Decoding them (`decode`, prost messages) is the `otlp` feature: a crate that embeds
//! broker-sim without the `telemetry` feature leaves prost's derive, and the syn 2 it
//! needs, out of its build, and its clusters take pushes without reading their metrics.

#[cfg(feature = "otlp")]
mod decode;
#[cfg(feature = "otlp")]
pub use decode::*;

/// One data point of a pushed metric, flattened: metric name, point attributes (the
/// resource's first, then the point's), value.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub value: f64,
    pub time_unix_nano: u64,
}
