//! Decoding of a PushTelemetry payload (the `otlp` feature): an OTLP `MetricsData`
//! protobuf message, possibly compressed with a record-batch codec.
//!
//! Only the parts a test reads are declared — resources, scopes, metrics with their
//! gauge or sum data points, and attributes — as `prost` messages with the tags of
//! opentelemetry-proto's `metrics.proto`, `common.proto` and `resource.proto`; `prost`
//! skips every other field (histograms, exemplars), so any valid payload decodes.

use bytes::Bytes;

use super::MetricPoint;
use crate::batch::{BatchError, Codec};

/// `opentelemetry.proto.metrics.v1.MetricsData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricsData {
    #[prost(message, repeated, tag = "1")]
    pub resource_metrics: Vec<ResourceMetrics>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceMetrics {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    pub scope_metrics: Vec<ScopeMetrics>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Resource {
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ScopeMetrics {
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub unit: String,
    #[prost(oneof = "metric::Data", tags = "5, 7")]
    pub data: Option<metric::Data>,
}

pub mod metric {
    /// The kinds of metric data broker-sim reads: a gauge or a sum.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Data {
        #[prost(message, tag = "5")]
        Gauge(super::Gauge),
        #[prost(message, tag = "7")]
        Sum(super::Sum),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Gauge {
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sum {
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
    /// 1 delta, 2 cumulative.
    #[prost(int32, tag = "2")]
    pub aggregation_temporality: i32,
    #[prost(bool, tag = "3")]
    pub is_monotonic: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct NumberDataPoint {
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    #[prost(oneof = "number_data_point::Value", tags = "4, 6")]
    pub value: Option<number_data_point::Value>,
}

pub mod number_data_point {
    #[derive(Clone, Copy, PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(double, tag = "4")]
        AsDouble(f64),
        #[prost(sfixed64, tag = "6")]
        AsInt(i64),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct AnyValue {
    #[prost(oneof = "any_value::Value", tags = "1, 2, 3, 4")]
    pub value: Option<any_value::Value>,
}

pub mod any_value {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(string, tag = "1")]
        StringValue(String),
        #[prost(bool, tag = "2")]
        BoolValue(bool),
        #[prost(int64, tag = "3")]
        IntValue(i64),
        #[prost(double, tag = "4")]
        DoubleValue(f64),
    }
}

impl AnyValue {
    /// The value as text, as a label shows it.
    pub fn text(&self) -> String {
        match &self.value {
            Some(any_value::Value::StringValue(s)) => s.clone(),
            Some(any_value::Value::BoolValue(b)) => b.to_string(),
            Some(any_value::Value::IntValue(i)) => i.to_string(),
            Some(any_value::Value::DoubleValue(d)) => d.to_string(),
            None => String::new(),
        }
    }
}

/// Why a pushed payload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error(transparent)]
    Decompress(#[from] BatchError),
    #[error("not an OTLP MetricsData message: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("the data points' names and attributes exceed {0} bytes")]
    TooLarge(usize),
}

/// Decompresses (with `compression_type`, a record-batch codec id, decompressing at
/// most `limit` bytes) and decodes a PushTelemetry payload into its data points.
///
/// Flattening repeats a resource's attributes and a metric's name in each of its points,
/// so a small payload of many points under many attributes would expand without bound:
/// the points' names and attributes together may take at most `budget` bytes.
pub fn decode_metrics(
    compression_type: i8,
    payload: &Bytes,
    limit: u64,
    budget: usize,
) -> Result<Vec<MetricPoint>, TelemetryError> {
    use prost::Message;
    let codec = Codec::from_id(compression_type as u8)?;
    let raw = match codec {
        Codec::None => payload.clone(),
        other => crate::batch::decompress_limited(other, payload, limit)?,
    };
    let data = MetricsData::decode(raw)?;
    let text = |kv: &KeyValue| {
        (
            kv.key.clone(),
            kv.value.as_ref().map(AnyValue::text).unwrap_or_default(),
        )
    };
    let size = |attributes: &[(String, String)]| -> usize {
        attributes.iter().map(|(k, v)| k.len() + v.len()).sum()
    };
    let mut points = Vec::new();
    let mut spent = 0usize;
    for rm in &data.resource_metrics {
        let resource: Vec<(String, String)> = rm
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .map(text)
            .collect();
        let resource_size = size(&resource);
        for metric in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
            let data_points = match &metric.data {
                Some(metric::Data::Gauge(g)) => &g.data_points,
                Some(metric::Data::Sum(s)) => &s.data_points,
                None => continue,
            };
            for p in data_points {
                let value = match p.value {
                    Some(number_data_point::Value::AsDouble(d)) => d,
                    Some(number_data_point::Value::AsInt(i)) => i as f64,
                    None => continue,
                };
                // Counted before anything is copied: the point's own attributes are in
                // the decoded message already; the copies are what the budget bounds.
                let own: usize = p
                    .attributes
                    .iter()
                    .map(|kv| kv.key.len() + kv.value.as_ref().map_or(0, |v| v.encoded_len()))
                    .sum();
                spent = spent.saturating_add(metric.name.len() + resource_size + own + 1);
                if spent > budget {
                    return Err(TelemetryError::TooLarge(budget));
                }
                let mut attributes = resource.clone();
                attributes.extend(p.attributes.iter().map(text));
                points.push(MetricPoint {
                    name: metric.name.clone(),
                    attributes,
                    value,
                    time_unix_nano: p.time_unix_nano,
                });
            }
        }
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn a_gauge_and_a_sum_decode_to_points_with_their_attributes() {
        let kv = |k: &str, v: &str| KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
        };
        let point = |value, attrs: Vec<KeyValue>| NumberDataPoint {
            attributes: attrs,
            time_unix_nano: 7,
            value: Some(value),
        };
        let data = MetricsData {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![kv("client_id", "app")],
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![
                        Metric {
                            name: "org.apache.kafka.producer.record.queue.time.avg".into(),
                            unit: String::new(),
                            data: Some(metric::Data::Gauge(Gauge {
                                data_points: vec![point(
                                    number_data_point::Value::AsDouble(1.5),
                                    vec![],
                                )],
                            })),
                        },
                        Metric {
                            name: "org.apache.kafka.producer.connection.creation.total".into(),
                            unit: String::new(),
                            data: Some(metric::Data::Sum(Sum {
                                data_points: vec![point(
                                    number_data_point::Value::AsInt(3),
                                    vec![kv("node.id", "1")],
                                )],
                                aggregation_temporality: 2,
                                is_monotonic: true,
                            })),
                        },
                    ],
                }],
            }],
        };
        let bytes = Bytes::from(data.encode_to_vec());
        let points = decode_metrics(0, &bytes, 1 << 20, 1 << 20).unwrap();
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].value, 1.5);
        assert_eq!(
            points[0].attributes,
            vec![("client_id".to_string(), "app".to_string())]
        );
        assert_eq!(points[1].value, 3.0);
        assert_eq!(
            points[1].attributes[1],
            ("node.id".to_string(), "1".to_string())
        );
        assert!(decode_metrics(0, &Bytes::from_static(b"\xff\xff\xff"), 1 << 20, 1 << 20).is_err());
        assert!(decode_metrics(9, &bytes, 1 << 20, 1 << 20).is_err());
        // The two points' names and attributes are about 110 bytes.
        assert!(matches!(
            decode_metrics(0, &bytes, 1 << 20, 100),
            Err(TelemetryError::TooLarge(100))
        ));
    }
}
