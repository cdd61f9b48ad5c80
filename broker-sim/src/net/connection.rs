//! One connection: its requests are handled one at a time, in arrival order, as Kafka
//! does. A client may pipeline requests, and answers come back in the same order because
//! the next request is read only after the previous one is answered (a long-polling Fetch
//! therefore holds back later requests on its connection, exactly like Kafka's muted
//! channels). Anything that cannot be answered (bad framing, unknown API, undecodable
//! body) closes the connection with a log line saying why (`CloseReason`); the broker
//! itself never stops for a client.

use std::sync::Arc;

use broker_sim_protocol::frame::read_frame;
use broker_sim_protocol::header::decode_request;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::Instrument;

use super::{NetMode, down};
use crate::error::CloseReason;
use crate::pipeline::{self, Origin, Outcome};
use crate::shared::Shared;

/// Waits while the broker is isolated. False once it is stopped or the cluster shuts
/// down: the connection must end.
async fn reachable(
    mode: &mut watch::Receiver<NetMode>,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    loop {
        match *mode.borrow_and_update() {
            NetMode::Up => return true,
            NetMode::Down => return false,
            NetMode::Isolated => {}
        }
        tokio::select! {
            changed = mode.changed() => if changed.is_err() { return false },
            _ = shutdown.wait_for(|stop| *stop) => return false,
        }
    }
}

/// Ends a connection the way a crashed broker's does: with a reset, not a clean close.
fn reset(writer: &tokio::net::tcp::OwnedWriteHalf) {
    #[allow(deprecated)] // `set_linger` is the only portable way to ask for a reset.
    let _ = writer.as_ref().set_linger(Some(std::time::Duration::ZERO));
    tracing::debug!("connection reset: broker stopped");
}

pub(super) async fn serve(
    shared: Arc<Shared>,
    broker_id: i32,
    stream: TcpStream,
    mut shutdown: watch::Receiver<bool>,
    mut mode: watch::Receiver<NetMode>,
) {
    let _ = stream.set_nodelay(true);
    // Kafka reports a member's host as Java's `InetAddress.toString()`: "/127.0.0.1".
    let client_host = stream
        .peer_addr()
        .map(|a| format!("/{}", a.ip()))
        .unwrap_or_default();
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let max_request_size = shared.lock().config.max_request_size;
    tracing::debug!("connection opened");
    loop {
        if !reachable(&mut mode, &mut shutdown).await {
            return reset(&writer);
        }
        let frame = tokio::select! {
            frame = read_frame(&mut reader, max_request_size) => frame,
            _ = shutdown.wait_for(|stop| *stop) => return,
            _ = down(&mut mode) => return reset(&writer),
        };
        let frame = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                tracing::debug!("connection closed by client");
                return;
            }
            Err(e) => {
                tracing::warn!(reason = %CloseReason::from(e), "closing connection");
                return;
            }
        };
        let request_bytes = frame.len();
        let request = match decode_request(frame.freeze()) {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(reason = %CloseReason::from(e), "closing connection");
                return;
            }
        };
        let span = tracing::debug_span!(
            "request",
            api = ?request.api_key,
            version = request.version(),
            correlation_id = request.correlation_id(),
            client_id = request.client_id(),
        );
        // A request sent to an isolated broker is held "in the network" until it heals.
        if !reachable(&mut mode, &mut shutdown).await {
            return reset(&writer);
        }
        let reply = tokio::select! {
            reply = pipeline::process(&shared, origin(broker_id, &client_host, request_bytes), request).instrument(span.clone()) => reply,
            _ = shutdown.wait_for(|stop| *stop) => return,
            _ = down(&mut mode) => return reset(&writer),
        };
        if !reachable(&mut mode, &mut shutdown).await {
            return reset(&writer);
        }
        let _enter = span.enter();
        let (bytes, pause) = match reply {
            Outcome::Send(bytes) => (bytes, None),
            Outcome::SendThenPause(bytes, pause) => (bytes, Some(pause)),
            Outcome::Silent => continue,
            Outcome::Close(why) => {
                tracing::warn!(reason = %why, "closing connection");
                return;
            }
            Outcome::Hang => {
                tracing::info!("not answering: this connection hangs until the client closes it");
                drop(_enter);
                hang(&mut reader, &mut shutdown).await;
                return;
            }
        };
        // A client that stops reading must not keep the cluster from shutting down.
        let written = tokio::select! {
            written = writer.write_all(&bytes) => written,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        if let Err(e) = written {
            tracing::debug!(error = %e, "connection lost while writing response");
            return;
        }
        if let Some(pause) = pause {
            // A throttled client's channel is muted for the throttle time (KIP-219).
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }
}

/// Holds a connection open without answering, discarding whatever the client still sends,
/// until the client closes it or the cluster shuts down.
async fn hang(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    shutdown: &mut watch::Receiver<bool>,
) {
    let mut sink = [0u8; 4096];
    loop {
        tokio::select! {
            read = tokio::io::AsyncReadExt::read(reader, &mut sink) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

fn origin(broker_id: i32, client_host: &str, request_bytes: usize) -> Origin<'_> {
    Origin {
        broker_id,
        client_host,
        request_bytes,
        // PLAINTEXT listeners do not authenticate: Kafka's principal for them.
        principal: crate::state::acls::ANONYMOUS,
    }
}
