//! A minimal blocking Kafka client connection: one request at a time, any API, as
//! `kafka-protocol`'s `RequestKind`/`ResponseKind`. The raw response bytes are kept too,
//! for the byte-for-byte determinism check.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

pub const CLIENT_ID: &str = "broker-sim-fidelity";

/// How long one answer may take. A long poll asks for less; only a hung broker gets near it.
const READ_DEADLINE: Duration = Duration::from_secs(30);

/// What a request got.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The decoded answer and its body's bytes (without size, header or correlation id).
    Answer(Box<ResponseKind>, Bytes),
    /// The broker closed the connection instead of answering.
    Closed,
    /// Something else went wrong: a timeout, an answer that does not decode.
    Failed(String),
}

pub struct Conn {
    stream: TcpStream,
    next_correlation_id: i32,
}

impl Conn {
    pub fn connect(addr: &str) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(READ_DEADLINE))?;
        Ok(Conn {
            stream,
            next_correlation_id: 1,
        })
    }

    /// Sends `request` as `key` v`version` and reads its answer.
    pub fn exchange(&mut self, key: ApiKey, version: i16, request: &RequestKind) -> Outcome {
        self.exchange_announcing(key, version, version, request)
    }

    /// Sends `request` encoded in `version` under a header that announces `announced`: how
    /// a request in a version `kafka-protocol` no longer encodes (one Kafka removed) is
    /// sent, since a broker refuses it on the header alone.
    pub fn exchange_announcing(
        &mut self,
        key: ApiKey,
        version: i16,
        announced: i16,
        request: &RequestKind,
    ) -> Outcome {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let mut payload = BytesMut::new();
        let header = RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(announced)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)));
        if let Err(e) = header.encode(&mut payload, key.request_header_version(announced)) {
            return Outcome::Failed(format!("request header: {e}"));
        }
        if let Err(e) = request.encode(&mut payload, version) {
            return Outcome::Failed(format!("{key:?} v{version} does not encode: {e}"));
        }
        let mut frame = BytesMut::with_capacity(payload.len() + 4);
        frame.put_i32(payload.len() as i32);
        frame.put_slice(&payload);
        if let Err(e) = self.stream.write_all(&frame) {
            return Outcome::Failed(format!("write: {e}"));
        }
        let mut size = [0u8; 4];
        match self.stream.read_exact(&mut size) {
            Ok(()) => {}
            Err(e) if is_closed(&e) => return Outcome::Closed,
            Err(e) => return Outcome::Failed(format!("read: {e}")),
        }
        let mut body = vec![0u8; i32::from_be_bytes(size).max(0) as usize];
        if let Err(e) = self.stream.read_exact(&mut body) {
            return if is_closed(&e) {
                Outcome::Closed
            } else {
                Outcome::Failed(format!("read: {e}"))
            };
        }
        let mut body = Bytes::from(body);
        // ApiVersions answers always carry a v0 header, so an old client can read them.
        let header_version = if key == ApiKey::ApiVersions {
            0
        } else {
            key.response_header_version(version)
        };
        let header = match ResponseHeader::decode(&mut body, header_version) {
            Ok(h) => h,
            Err(e) => return Outcome::Failed(format!("response header: {e}")),
        };
        if header.correlation_id != correlation_id {
            return Outcome::Failed(format!(
                "answer to correlation id {} instead of {correlation_id}",
                header.correlation_id
            ));
        }
        let raw = body.clone();
        match ResponseKind::decode(key, &mut body, version) {
            Ok(answer) if !body.has_remaining() => Outcome::Answer(Box::new(answer), raw),
            Ok(_) => Outcome::Failed(format!("{} bytes after the answer", body.remaining())),
            // An ApiVersions answer to a version the broker does not know is in v0.
            Err(_) if key == ApiKey::ApiVersions && version > 0 => {
                let mut v0 = raw.clone();
                match ResponseKind::decode(key, &mut v0, 0) {
                    Ok(answer) => Outcome::Answer(Box::new(answer), raw),
                    Err(e) => Outcome::Failed(format!("answer does not decode: {e}")),
                }
            }
            Err(e) => Outcome::Failed(format!("answer does not decode: {e}")),
        }
    }
}

fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}
