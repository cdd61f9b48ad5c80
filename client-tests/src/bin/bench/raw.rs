//! Requests written by hand to a raw socket, for the figures that need precise control of
//! what is on the wire (`isolation.rs`, `scale.rs`): one frame out, one frame back.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use broker_sim_protocol::kafka_protocol::messages::RequestHeader;
use broker_sim_protocol::kafka_protocol::protocol::{Encodable, Request, StrBytes};
use bytes::{BufMut, BytesMut};

/// Reads one size-prefixed frame and drops it.
pub fn read_frame(conn: &mut TcpStream) -> Result<(), String> {
    let mut size = [0u8; 4];
    conn.read_exact(&mut size).map_err(|e| e.to_string())?;
    let mut body = vec![0u8; u32::from_be_bytes(size) as usize];
    conn.read_exact(&mut body).map_err(|e| e.to_string())
}

/// Sends `frame` and reads its answer: how long that took.
pub fn round_trip(conn: &mut TcpStream, frame: &[u8]) -> Result<Duration, String> {
    let begun = Instant::now();
    conn.write_all(frame).map_err(|e| e.to_string())?;
    read_frame(conn)?;
    Ok(begun.elapsed())
}

/// `request` at `version` as a size-prefixed frame, client id "bench".
pub fn encode<R: Request + Encodable>(version: i16, request: &R) -> Vec<u8> {
    let mut payload = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("bench")))
        .encode(&mut payload, R::header_version(version))
        .expect("request header encodes");
    request
        .encode(&mut payload, version)
        .expect("request encodes");
    let mut frame = Vec::with_capacity(payload.len() + 4);
    frame.put_u32(payload.len() as u32);
    frame.extend_from_slice(&payload);
    frame
}
