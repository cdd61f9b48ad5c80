//! Request and response headers.
//!
//! A request header's own version (v1, or v2 with tagged fields) depends on the API key and
//! version it announces, so the first four bytes are read before the header is decoded.
//! Responses get the header version Kafka prescribes for that API and version; ApiVersions
//! responses always use v0 so that a client that sent a version we do not know can still
//! read the answer.

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable};

use crate::frame::{begin_frame, finish_frame};

/// A request whose header is decoded and whose body is still bytes.
#[derive(Debug)]
pub struct RequestFrame {
    pub api_key: ApiKey,
    pub header: RequestHeader,
    pub body: Bytes,
}

impl RequestFrame {
    pub fn version(&self) -> i16 {
        self.header.request_api_version
    }

    pub fn correlation_id(&self) -> i32 {
        self.header.correlation_id
    }

    pub fn client_id(&self) -> &str {
        self.header.client_id.as_deref().unwrap_or("")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error("request of {0} bytes is too short for a header")]
    TooShort(usize),
    #[error("unknown API key {key} (correlation id {correlation_id})")]
    UnknownApiKey { key: i16, correlation_id: i32 },
    #[error("malformed request header: {0}")]
    Malformed(String),
}

/// Decodes the header at the start of `frame`; the rest is the body.
pub fn decode_request(mut frame: Bytes) -> Result<RequestFrame, HeaderError> {
    if frame.len() < 8 {
        return Err(HeaderError::TooShort(frame.len()));
    }
    let key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let api_key = ApiKey::try_from(key).map_err(|_| HeaderError::UnknownApiKey {
        key,
        correlation_id,
    })?;
    let header = RequestHeader::decode(&mut frame, api_key.request_header_version(version))
        .map_err(|e| HeaderError::Malformed(e.to_string()))?;
    Ok(RequestFrame {
        api_key,
        header,
        body: frame,
    })
}

/// Encodes a whole response frame: size prefix, header, body.
pub fn encode_response<R: Encodable>(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &R,
) -> Result<BytesMut, String> {
    let mut buf = BytesMut::new();
    let start = begin_frame(&mut buf);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut buf, api_key.response_header_version(version))
        .map_err(|e| e.to_string())?;
    body.encode(&mut buf, version).map_err(|e| e.to_string())?;
    finish_frame(&mut buf, start);
    Ok(buf)
}

/// The correlation id of a response frame (after its size prefix); used by tests that talk
/// to the broker over raw sockets.
pub fn response_correlation_id(mut response: &[u8]) -> Option<i32> {
    (response.len() >= 4).then(|| response.get_i32())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{ApiVersionsResponse, MetadataRequest};
    use kafka_protocol::protocol::StrBytes;

    fn encode_request(key: ApiKey, version: i16, header_version: i16) -> Bytes {
        let mut buf = BytesMut::new();
        RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(42)
            .with_client_id(Some(StrBytes::from_static_str("tester")))
            .encode(&mut buf, header_version)
            .unwrap();
        MetadataRequest::default()
            .encode(&mut buf, version)
            .unwrap();
        buf.freeze()
    }

    #[test]
    fn flexible_and_classic_headers_decode_with_the_right_version() {
        for (version, header_version) in [(4, 1), (12, 2)] {
            let frame =
                decode_request(encode_request(ApiKey::Metadata, version, header_version)).unwrap();
            assert_eq!(frame.api_key, ApiKey::Metadata);
            assert_eq!(frame.version(), version);
            assert_eq!(frame.correlation_id(), 42);
            assert_eq!(frame.client_id(), "tester");
            MetadataRequest::decode(&mut frame.body.clone(), version).unwrap();
        }
    }

    #[test]
    fn unknown_key_and_short_frames_are_errors() {
        let mut raw = BytesMut::new();
        raw.extend_from_slice(&[0x7f, 0x00, 0, 0, 0, 0, 0, 9]);
        assert!(matches!(
            decode_request(raw.freeze()),
            Err(HeaderError::UnknownApiKey {
                correlation_id: 9,
                ..
            })
        ));
        assert!(matches!(
            decode_request(Bytes::from_static(&[0, 3])),
            Err(HeaderError::TooShort(2))
        ));
    }

    #[test]
    fn api_versions_response_uses_header_v0_even_when_flexible() {
        let body = ApiVersionsResponse::default();
        let frame = encode_response(ApiKey::ApiVersions, 3, 7, &body).unwrap();
        // size, correlation id, then straight into the body's error code: no tagged-field byte.
        assert_eq!(response_correlation_id(&frame[4..]), Some(7));
        assert_eq!(&frame[8..10], &[0, 0]);
    }
}
