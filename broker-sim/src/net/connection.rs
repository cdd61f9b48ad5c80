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
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::Instrument;

use super::{NetMode, down};
use crate::error::CloseReason;
use crate::pipeline::{self, Origin, Outcome};
use crate::sasl::{Answer, Session};
use crate::security::SecurityProtocol;
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
fn reset<S: Transport>(stream: &BufReader<S>) {
    #[allow(deprecated)] // `set_linger` is the only portable way to ask for a reset.
    let _ = stream
        .get_ref()
        .tcp()
        .set_linger(Some(std::time::Duration::ZERO));
    tracing::debug!("connection reset: broker stopped");
}

/// A connection's byte stream: plain TCP or TLS over it. Requests are read and answers
/// written one at a time, so one owned stream serves both directions.
pub(super) trait Transport: AsyncRead + AsyncWrite + Unpin + Send {
    /// The socket underneath, to reset it.
    fn tcp(&self) -> &TcpStream;
}

impl Transport for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

#[cfg(feature = "tls")]
impl Transport for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// Each connection's read buffer. Small requests (and pipelined ones) are read through it
/// in one call; a frame larger than it is read straight into its own buffer, so its size
/// does not limit throughput, while every open connection holds it even when idle (at
/// 64 KiB, 10,000 idle connections allocated 640 MB for nothing).
const READ_BUFFER: usize = 8 * 1024;

/// How long a client has to complete the TLS handshake.
#[cfg(feature = "tls")]
const TLS_HANDSHAKE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// What the accept loop knows of a new connection.
pub(super) struct Accepted {
    pub stream: TcpStream,
    /// The listener's index and security protocol.
    pub listener: usize,
    pub protocol: SecurityProtocol,
    /// The TLS acceptor, for SSL and SASL_SSL listeners.
    pub tls: Option<crate::tls::Acceptor>,
    /// Counted against the connection limits until the connection ends.
    pub ticket: super::limits::Ticket,
}

pub(super) async fn serve(
    shared: Arc<Shared>,
    broker_id: i32,
    accepted: Accepted,
    shutdown: watch::Receiver<bool>,
    mode: watch::Receiver<NetMode>,
) {
    let Accepted {
        stream,
        listener,
        protocol,
        tls,
        ticket,
    } = accepted;
    let _ = stream.set_nodelay(true);
    // Kafka reports a member's host as Java's `InetAddress.toString()`: "/127.0.0.1".
    let client_host = stream
        .peer_addr()
        .map(|a| format!("/{}", a.ip()))
        .unwrap_or_default();
    tracing::debug!("connection opened");
    let link = Link {
        connection: shared.requests.next_connection(),
        shared,
        broker_id,
        client_host,
        ticket: &ticket,
    };
    match (protocol.tls(), tls) {
        (true, Some(acceptor)) => {
            serve_tls(link, stream, acceptor, (protocol, listener), shutdown, mode).await
        }
        _ => {
            let session = Session::new(protocol, listener, None);
            run(link, stream, session, shutdown, mode).await
        }
    }
}

/// The TLS handshake, then the connection over it; `(protocol, listener)` as in
/// [`Accepted`].
#[cfg(feature = "tls")]
async fn serve_tls(
    link: Link<'_>,
    stream: TcpStream,
    acceptor: crate::tls::Acceptor,
    (protocol, listener): (SecurityProtocol, usize),
    mut shutdown: watch::Receiver<bool>,
    mut mode: watch::Receiver<NetMode>,
) {
    let handshake = tokio::time::timeout(TLS_HANDSHAKE_DEADLINE, acceptor.accept(stream));
    let stream = tokio::select! {
        done = handshake => match done {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "closing connection: TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::warn!(deadline = ?TLS_HANDSHAKE_DEADLINE, "closing connection: TLS handshake not completed in time");
                return;
            }
        },
        _ = shutdown.wait_for(|stop| *stop) => return,
        _ = down(&mut mode) => return,
    };
    // A client certificate names the connection's principal (until SASL, if any).
    let principal = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .and_then(|cert| crate::tls::principal_of(cert));
    tracing::debug!(?principal, "TLS handshake completed");
    let session = Session::new(protocol, listener, principal);
    run(link, stream, session, shutdown, mode).await
}

/// Without the `tls` feature a cluster with a TLS listener does not start, so there is
/// never an acceptor to serve with.
#[cfg(not(feature = "tls"))]
async fn serve_tls(
    _: Link<'_>,
    _: TcpStream,
    acceptor: crate::tls::Acceptor,
    _: (SecurityProtocol, usize),
    _: watch::Receiver<bool>,
    _: watch::Receiver<NetMode>,
) {
    match acceptor {}
}

/// What a connection's requests are served with, whatever its stream.
struct Link<'a> {
    shared: Arc<Shared>,
    broker_id: i32,
    /// The peer's address as Kafka prints it ("/127.0.0.1").
    client_host: String,
    ticket: &'a super::limits::Ticket,
    /// The connection's number in the request log.
    connection: u64,
}

/// Serves requests on an established stream until either side ends it.
async fn run<S: Transport>(
    link: Link<'_>,
    stream: S,
    session: Session,
    mut shutdown: watch::Receiver<bool>,
    mut mode: watch::Receiver<NetMode>,
) {
    let Link {
        shared,
        broker_id,
        client_host,
        ticket,
        connection,
    } = link;
    let mut reader = BufReader::with_capacity(READ_BUFFER, stream);
    let (max_request_size, limits) = {
        let state = shared.read();
        (state.config.max_request_size, state.config.security.limits)
    };
    let idle = Duration::from_millis(limits.max_idle_ms);
    loop {
        if !reachable(&mut mode, &mut shutdown).await {
            return reset(&reader);
        }
        let frame = tokio::select! {
            frame = next_frame(&mut reader, max_request_size, &limits) => frame,
            _ = shutdown.wait_for(|stop| *stop) => return,
            _ = down(&mut mode) => return reset(&reader),
        };
        let frame = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                tracing::debug!("connection closed by client");
                return;
            }
            Err(why @ CloseReason::Idle(_)) => {
                tracing::info!(reason = %why, "closing connection");
                return;
            }
            Err(why) => {
                tracing::warn!(reason = %why, "closing connection");
                return;
            }
        };
        let request_bytes = frame.len();
        // Large requests wait for their share of the memory decoding them may take.
        let reserved = tokio::select! {
            reserved = ticket.admission().reserve_decoding(request_bytes) => reserved,
            _ = shutdown.wait_for(|stop| *stop) => return,
            _ = down(&mut mode) => return reset(&reader),
        };
        let _decoding = match reserved {
            Ok(permit) => permit,
            Err(why) => {
                tracing::warn!(reason = %why, "closing connection");
                return;
            }
        };
        if session.expects_raw_token() {
            // After SaslHandshake v0 the frame is a bare SASL token, answered bare.
            match raw_token(&shared, &session, &frame) {
                Ok(reply) => {
                    if let Err(e) = write(&mut reader, &reply).await {
                        tracing::debug!(error = %e, "connection lost while writing a SASL token");
                        return;
                    }
                    continue;
                }
                Err(why) => {
                    tracing::warn!(reason = %why, "closing connection");
                    return;
                }
            }
        }
        let request = match decode_request(frame.freeze()) {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(reason = %CloseReason::from(e), "closing connection");
                return;
            }
        };
        if let Err(why) = session.admit(request.api_key, shared.clock.now_ms()) {
            tracing::warn!(reason = %CloseReason::Authentication(why), "closing connection");
            return;
        }
        let principal = session.principal();
        let span = tracing::debug_span!(
            "request",
            api = ?request.api_key,
            version = request.version(),
            correlation_id = request.correlation_id(),
            client_id = request.client_id(),
            %principal,
        );
        // A request sent to an isolated broker is held "in the network" until it heals.
        if !reachable(&mut mode, &mut shutdown).await {
            return reset(&reader);
        }
        let origin = Origin {
            broker_id,
            client_host: &client_host,
            request_bytes,
            session: &session,
            principal: &principal,
            connection,
        };
        let reply = tokio::select! {
            reply = pipeline::process(&shared, origin, request).instrument(span.clone()) => reply,
            _ = shutdown.wait_for(|stop| *stop) => return,
            _ = down(&mut mode) => return reset(&reader),
            // A client that gives up on a long-polling request closes its socket: the
            // connection ends now rather than holding the socket (CLOSE-WAIT) until the
            // poll would have returned.
            _ = peer_closed(reader.get_ref().tcp()) => {
                tracing::debug!("client closed the connection while its request waited");
                return;
            }
        };
        shared.note_change();
        if !reachable(&mut mode, &mut shutdown).await {
            return reset(&reader);
        }
        let _enter = span.enter();
        let (mut frame, pause) = match reply {
            Outcome::Send(frame) => (frame, None),
            Outcome::SendThenPause(frame, pause) => (frame, Some(pause)),
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
            written = tokio::time::timeout(idle, write_frame(&mut reader, &mut frame)) => written,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "connection lost while writing response");
                return;
            }
            Err(_) => {
                tracing::warn!(reason = %CloseReason::UnreadAnswer(idle), "closing connection");
                return;
            }
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

/// The next request frame: waits at most `connections.max.idle.ms` for its first byte and
/// the request read deadline for the rest. `Ok(None)`: the client closed between frames.
async fn next_frame<S: Transport>(
    reader: &mut BufReader<S>,
    max_request_size: usize,
    limits: &crate::security::ConnectionLimits,
) -> Result<Option<bytes::BytesMut>, CloseReason> {
    let idle = Duration::from_millis(limits.max_idle_ms);
    match tokio::time::timeout(idle, reader.fill_buf()).await {
        Err(_) => return Err(CloseReason::Idle(idle)),
        Ok(Err(e)) => return Err(broker_sim_protocol::frame::FrameError::Io(e).into()),
        Ok(Ok([])) => return Ok(None),
        Ok(Ok(_)) => {}
    }
    let deadline = Duration::from_millis(limits.request_read_deadline_ms);
    match tokio::time::timeout(deadline, read_frame(reader, max_request_size)).await {
        Err(_) => Err(CloseReason::SlowRequest(deadline)),
        Ok(frame) => frame.map_err(CloseReason::from),
    }
}

/// Resolves once the client has closed its side of the connection, judged without
/// consuming anything: while bytes are waiting (a pipelined request, a TLS record) there
/// is nothing to judge, and it never resolves.
async fn peer_closed(socket: &TcpStream) {
    let mut byte = [0u8; 1];
    match socket.peek(&mut byte).await {
        Ok(0) | Err(_) => {}
        Ok(_) => std::future::pending().await,
    }
}

/// Writes an answer through (a TLS stream holds written bytes until flushed).
async fn write<S: Transport>(stream: &mut BufReader<S>, bytes: &[u8]) -> std::io::Result<()> {
    let stream = stream.get_mut();
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// Writes an answer, its pieces gathered by vectored writes: the record batches of a Fetch
/// answer go out from where they are stored (`broker_sim_protocol::splice`).
async fn write_frame<S: Transport>(
    stream: &mut BufReader<S>,
    frame: &mut broker_sim_protocol::splice::Frame,
) -> std::io::Result<()> {
    let stream = stream.get_mut();
    stream.write_all_buf(frame).await?;
    stream.flush().await
}

/// Holds a connection open without answering, discarding whatever the client still sends,
/// until the client closes it or the cluster shuts down.
async fn hang<S: Transport>(reader: &mut BufReader<S>, shutdown: &mut watch::Receiver<bool>) {
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

/// A bare SASL token (after SaslHandshake v0): the mechanism's answer, size-prefixed, or
/// why the connection must close.
fn raw_token(shared: &Shared, session: &Session, token: &[u8]) -> Result<Vec<u8>, CloseReason> {
    let now = shared.clock.now_ms();
    let answer = {
        let mut state = shared.lock();
        let max_reauth_ms = state.config.security.max_reauth_ms;
        session.authenticate(&mut state, token, now, max_reauth_ms)
    };
    let bytes = match answer {
        Answer::Challenge(bytes) => bytes,
        Answer::Authenticated { response, .. } => response,
        Answer::Failed(_, message) => return Err(CloseReason::Authentication(message)),
    };
    let mut framed = Vec::with_capacity(4 + bytes.len());
    framed.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    framed.extend_from_slice(&bytes);
    Ok(framed)
}
