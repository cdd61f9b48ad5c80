//! The brokers' network side: one accept loop per broker and one task per connection.
//!
//! A connection handles its requests one at a time, in arrival order, as Kafka does: a
//! client may pipeline requests, and answers come back in the same order because the next
//! request is read only after the previous one is answered (a long-polling Fetch therefore
//! holds back later requests on its connection, exactly like Kafka's muted channels).
//! Anything that cannot be answered (bad framing, unknown API, undecodable body) closes
//! the connection with a log line saying why; the broker itself never stops for a client.

use std::sync::Arc;

use broker_sim_protocol::frame::read_frame;
use broker_sim_protocol::header::{RequestFrame, decode_request, encode_response};
use broker_sim_protocol::versions;
use kafka_protocol::messages::{ApiKey, RequestKind};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::Instrument;

use crate::cluster::Shared;
use crate::handlers::{self, Reply, RequestContext};

/// Whether a broker can be reached: what `Cluster::stop_broker`, `start_broker`,
/// `isolate_broker` and `heal_broker` switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NetMode {
    Up,
    /// Stopped: the port refuses connections and existing ones are reset.
    Down,
    /// Unreachable: connections stay open but nothing is read or answered until healed.
    Isolated,
}

/// One broker's network switch, shared by the embedding API and the broker's task.
pub(crate) struct BrokerNet {
    pub id: i32,
    pub mode: watch::Sender<NetMode>,
    /// A listener bound by whoever brings the broker up, for its task to serve. Binding
    /// happens on the caller's thread so the port is accepting when the call returns.
    pub listener: std::sync::Mutex<Option<std::net::TcpListener>>,
    /// Whether the broker's task holds an open listener, so that stopping a broker can
    /// wait until its port is really closed (and free to bind again).
    listening: std::sync::Mutex<bool>,
    listening_changed: std::sync::Condvar,
}

impl BrokerNet {
    pub fn new(id: i32, listener: std::net::TcpListener) -> Self {
        BrokerNet {
            id,
            mode: watch::channel(NetMode::Up).0,
            listener: std::sync::Mutex::new(Some(listener)),
            listening: std::sync::Mutex::new(false),
            listening_changed: std::sync::Condvar::new(),
        }
    }

    fn set_listening(&self, listening: bool) {
        *self.listening.lock().unwrap_or_else(|e| e.into_inner()) = listening;
        self.listening_changed.notify_all();
    }

    /// Closes the broker's port: drops a listener its task has not taken up yet, then
    /// blocks until the task has closed the one it serves (bounded, in case the runtime
    /// is shutting down). Call after switching the mode to `Down`.
    pub fn wait_until_closed(&self) {
        drop(
            self.listener
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let guard = self.listening.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.listening_changed.wait_timeout_while(
            guard,
            std::time::Duration::from_secs(5),
            |open| *open,
        );
    }

    pub fn mode(&self) -> NetMode {
        *self.mode.borrow()
    }
}

/// Serves every broker until `shutdown` turns true, then waits for their connections to end.
pub(crate) async fn run_cluster(shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let mut brokers = tokio::task::JoinSet::new();
    brokers.spawn(run_timers(shared.clone(), shutdown.clone()));
    for index in 0..shared.net.len() {
        brokers.spawn(run_broker(shared.clone(), index, shutdown.clone()));
    }
    while brokers.join_next().await.is_some() {}
}

/// Fires the cluster's deadlines (session and rebalance timeouts, the initial rebalance
/// delay, lagging followers' copies) as they come due. It sleeps until the earliest one,
/// and wakes early whenever a request may have moved it (`Shared::groups_changed`). On a
/// manual clock it only waits for those wake-ups: `Cluster::advance` fires deadlines itself.
async fn run_timers(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let wait = {
            let now = shared.clock.now_ms();
            let mut state = shared.lock();
            if state.tick(now) {
                shared.logs_changed.notify_waiters();
            }
            state.next_deadline().map(|d| (d - now).max(0))
        };
        // With nothing due, an hour is as good as forever: any change notifies.
        let wait = match wait {
            Some(ms) if !shared.clock.is_manual() => ms as u64,
            _ => 3_600_000,
        };
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(wait)) => {}
            _ = shared.groups_changed.notified() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

/// One broker: accepts connections while it is up (or isolated), closes its port while it
/// is stopped, and takes up the listener it is given when it starts again.
async fn run_broker(shared: Arc<Shared>, index: usize, mut shutdown: watch::Receiver<bool>) {
    let for_connections = shutdown.clone();
    let broker_id = shared.net[index].id;
    let mut mode = shared.net[index].mode.subscribe();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let listener = loop {
            if *mode.borrow_and_update() != NetMode::Down {
                let bound = {
                    let mut slot = shared.net[index]
                        .listener
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    // Marked under the slot's lock, so a stop that finds the slot empty
                    // knows to wait for this task to close the listener.
                    let bound = slot.take();
                    if bound.is_some() {
                        shared.net[index].set_listening(true);
                    }
                    bound
                };
                if let Some(bound) = bound {
                    match TcpListener::from_std(bound) {
                        Ok(listener) => break listener,
                        Err(e) => {
                            shared.net[index].set_listening(false);
                            tracing::error!(broker_id, error = %e, "cannot register listener");
                        }
                    }
                }
            }
            tokio::select! {
                changed = mode.changed() => if changed.is_err() { return },
                _ = stopped(&mut shutdown) => {
                    while connections.join_next().await.is_some() {}
                    return;
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        };
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let span = tracing::info_span!("connection", broker_id, %peer);
                        connections.spawn(
                            serve_connection(
                                shared.clone(),
                                broker_id,
                                stream,
                                for_connections.clone(),
                                shared.net[index].mode.subscribe(),
                            )
                            .instrument(span),
                        );
                    }
                    Err(e) => tracing::warn!(broker_id, error = %e, "accept failed"),
                },
                _ = down(&mut mode) => break,
                _ = stopped(&mut shutdown) => {
                    drop(listener);
                    shared.net[index].set_listening(false);
                    while connections.join_next().await.is_some() {}
                    return;
                }
                // Reap finished connections so a long-lived broker does not accumulate them.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        // Stopped: closing the listener makes the port refuse; connections reset themselves.
        drop(listener);
        shared.net[index].set_listening(false);
        tracing::info!(broker_id, "broker stopped: port closed");
    }
}

/// Resolves once the cluster shuts down.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Resolves once the broker is stopped.
async fn down(mode: &mut watch::Receiver<NetMode>) {
    let _ = mode.wait_for(|m| *m == NetMode::Down).await;
}

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

async fn serve_connection(
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
                tracing::warn!(error = %e, "closing connection: cannot read request frame");
                return;
            }
        };
        let request = match decode_request(frame.freeze()) {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(error = %e, "closing connection: bad request header");
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
            reply = process(&shared, broker_id, &client_host, request).instrument(span.clone()) => reply,
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

enum Outcome {
    Send(bytes::BytesMut),
    /// Send, then read nothing more from the connection for a while (throttling).
    SendThenPause(bytes::BytesMut, std::time::Duration),
    /// Nothing to send (acks=0 produce).
    Silent,
    Close(String),
    /// Never answer, and answer nothing more on this connection, like a hung broker: the
    /// client's request times out and it closes the connection.
    Hang,
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

/// Checks the version against the supported table, decodes the body, runs the handler and
/// encodes its answer.
async fn process(
    shared: &Shared,
    broker_id: i32,
    client_host: &str,
    request: RequestFrame,
) -> Outcome {
    let RequestFrame {
        api_key,
        header,
        mut body,
    } = request;
    let version = header.request_api_version;
    let supported = versions::supported(api_key);
    let ctx = RequestContext {
        shared,
        broker_id,
        version,
        client_id: header.client_id.as_deref().unwrap_or_default(),
        client_host,
    };
    let reply = match supported {
        None => return Outcome::Close(format!("API {api_key:?} is not supported")),
        Some(s) if !s.contains(version) => {
            if api_key != ApiKey::ApiVersions {
                return Outcome::Close(format!(
                    "unsupported version {version} of {api_key:?} (supported {}-{})",
                    s.min, s.max
                ));
            }
            // Kafka answers an ApiVersions it cannot parse in v0 with the supported list, so
            // the client can pick a version both sides know.
            tracing::debug!("ApiVersions v{version} unsupported: answering in v0");
            return encode(
                api_key,
                0,
                header.correlation_id,
                Reply::Response(Box::new(handlers::api_versions::unsupported_version())),
            );
        }
        Some(_) => match RequestKind::decode(api_key, &mut body, version) {
            Ok(decoded) if shared.faults.is_empty() => handlers::dispatch(&ctx, decoded).await,
            Ok(decoded) => return with_faults(&ctx, api_key, header.correlation_id, decoded).await,
            Err(e) => {
                return Outcome::Close(format!("malformed {api_key:?} v{version} request: {e}"));
            }
        },
    };
    encode(api_key, version, header.correlation_id, reply)
}

fn encode(api_key: ApiKey, version: i16, correlation_id: i32, reply: Reply) -> Outcome {
    match reply {
        Reply::Response(body) => match encode_response(api_key, version, correlation_id, &body) {
            Ok(bytes) => Outcome::Send(bytes),
            Err(e) => Outcome::Close(format!(
                "cannot encode {api_key:?} v{version} response: {e}"
            )),
        },
        Reply::NoResponse => Outcome::Silent,
        Reply::Close(why) => Outcome::Close(why),
    }
}

/// Serves a request while fault rules exist: the rule that fires for it, if any, decides
/// what becomes of it (`faults::apply`); otherwise it is served as usual.
async fn with_faults(
    ctx: &RequestContext<'_>,
    api: ApiKey,
    correlation_id: i32,
    request: RequestKind,
) -> Outcome {
    use crate::faults::apply::{self, Served};
    match apply::serve(ctx, api, request).await {
        Served::Reply(reply) => encode(api, ctx.version, correlation_id, reply),
        Served::ReplyThenPause(reply, pause) => {
            match encode(api, ctx.version, correlation_id, reply) {
                Outcome::Send(bytes) => Outcome::SendThenPause(bytes, pause),
                other => other,
            }
        }
        Served::Close(why) => Outcome::Close(why),
        Served::Hang => Outcome::Hang,
    }
}
