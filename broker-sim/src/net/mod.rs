//! The brokers' network side: one accept loop per broker (this file), over every listener
//! the broker has (`crate::security`), and one task per connection (`connection`), which
//! knows its listener's security protocol.
//!
//! A broker accepts while it is up or isolated and closes its port while it is stopped.
//! With Kafka's `max.connections` set, a broker at the limit stops accepting, as Kafka's
//! acceptor does: new connections wait in the listen backlog until one closes. An accept
//! error (out of file descriptors, say) is retried after a growing back-off rather than at
//! once, so it cannot spin a core.

mod connection;
pub(crate) mod limits;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::Instrument;

use crate::security::SecurityProtocol;
use crate::shared::Shared;

/// The first and the longest pause after a failed accept.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(1));

/// Accept failures are logged at most once per interval, with how many there were.
const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// How often a broker at a connection limit looks again, besides being told a connection
/// closed (a wake-up between its check and its wait would otherwise go unnoticed).
const LIMIT_RECHECK: Duration = Duration::from_millis(100);

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
    /// The listeners bound by whoever brings the broker up, one per configured listener
    /// in order, for its task to serve. Binding happens on the caller's thread so the
    /// ports are accepting when the call returns.
    pub listener: std::sync::Mutex<Option<Vec<std::net::TcpListener>>>,
    /// Each listener's security protocol, in the same order.
    protocols: Vec<SecurityProtocol>,
    /// What SSL and SASL_SSL listeners serve TLS with.
    tls: Option<crate::tls::Acceptor>,
    /// The cluster's connection accounting (`limits`), shared by every broker.
    admission: Arc<limits::Admission>,
    /// Whether the broker's task holds an open listener, so that stopping a broker can
    /// wait until its port is really closed (and free to bind again).
    listening: std::sync::Mutex<bool>,
    listening_changed: std::sync::Condvar,
}

impl BrokerNet {
    pub fn new(
        id: i32,
        listeners: Vec<std::net::TcpListener>,
        protocols: Vec<SecurityProtocol>,
        tls: Option<crate::tls::Acceptor>,
        admission: Arc<limits::Admission>,
    ) -> Self {
        BrokerNet {
            id,
            mode: watch::channel(NetMode::Up).0,
            listener: std::sync::Mutex::new(Some(listeners)),
            protocols,
            tls,
            admission,
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

/// One broker: accepts connections while it is up (or isolated), closes its port while it
/// is stopped, and takes up the listener it is given when it starts again.
pub(crate) async fn run_broker(
    shared: Arc<Shared>,
    net: Arc<BrokerNet>,
    mut shutdown: watch::Receiver<bool>,
) {
    let for_connections = shutdown.clone();
    let broker_id = net.id;
    let max_connections = shared.lock().config.max_connections;
    let mut mode = net.mode.subscribe();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let listener = loop {
            if *mode.borrow_and_update() != NetMode::Down {
                let bound = {
                    let mut slot = net.listener.lock().unwrap_or_else(|e| e.into_inner());
                    // Marked under the slot's lock, so a stop that finds the slot empty
                    // knows to wait for this task to close the listener.
                    let bound = slot.take();
                    if bound.is_some() {
                        net.set_listening(true);
                    }
                    bound
                };
                if let Some(bound) = bound {
                    match bound
                        .into_iter()
                        .map(TcpListener::from_std)
                        .collect::<std::io::Result<Vec<_>>>()
                    {
                        Ok(listeners) => break listeners,
                        Err(e) => {
                            net.set_listening(false);
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
        let mut backoff = ACCEPT_BACKOFF.0;
        let mut first = 0;
        let mut at_limit_logged = false;
        let mut accept_failures = AcceptFailures::default();
        loop {
            let at_broker_limit = max_connections.is_some_and(|max| connections.len() >= max);
            let at_limit = at_broker_limit || net.admission.full();
            if at_limit && !at_limit_logged {
                if at_broker_limit {
                    tracing::warn!(
                        broker_id,
                        max_connections,
                        "max.connections reached: new connections wait until one closes"
                    );
                } else {
                    tracing::warn!(
                        broker_id,
                        budget = net.admission.budget(),
                        reserved = limits::RESERVED_DESCRIPTORS,
                        "the cluster holds as many connections as its file descriptors allow: new connections wait until one closes"
                    );
                }
            }
            at_limit_logged = at_limit;
            tokio::select! {
                (index, accepted) = accept_any(&listener, &mut first), if !at_limit => match accepted {
                    Ok((stream, peer)) => {
                        backoff = ACCEPT_BACKOFF.0;
                        let ticket = match net.admission.admit(peer.ip()) {
                            Ok(ticket) => ticket,
                            Err(why) => {
                                tracing::warn!(broker_id, %peer, reason = %why, "closing connection");
                                continue;
                            }
                        };
                        let protocol = net.protocols.get(index).copied().unwrap_or(SecurityProtocol::Plaintext);
                        let span = tracing::info_span!("connection", broker_id, %peer, %protocol);
                        connections.spawn(
                            connection::serve(
                                shared.clone(),
                                broker_id,
                                connection::Accepted {
                                    stream,
                                    listener: index,
                                    protocol,
                                    tls: net.tls.clone(),
                                    ticket,
                                },
                                for_connections.clone(),
                                net.mode.subscribe(),
                            )
                            .instrument(span),
                        );
                    }
                    Err(e) => {
                        accept_failures.failed(broker_id, &e, backoff);
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = down(&mut mode) => break,
                            _ = stopped(&mut shutdown) => {}
                        }
                        backoff = (backoff * 2).min(ACCEPT_BACKOFF.1);
                    }
                },
                _ = net.admission.freed(), if at_limit => {}
                _ = tokio::time::sleep(LIMIT_RECHECK), if at_limit => {}
                _ = down(&mut mode) => break,
                _ = stopped(&mut shutdown) => {
                    drop(listener);
                    net.set_listening(false);
                    while connections.join_next().await.is_some() {}
                    return;
                }
                // Reap finished connections so a long-lived broker does not accumulate them.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        // Stopped: closing the listener makes the port refuse; connections reset themselves.
        drop(listener);
        net.set_listening(false);
        tracing::info!(broker_id, "broker stopped: port closed");
    }
}

/// Accept failures (out of descriptors, say) counted between log lines, so a broker that
/// cannot accept writes one line per interval rather than one per attempt.
#[derive(Default)]
struct AcceptFailures {
    last_logged: Option<std::time::Instant>,
    since: u64,
}

impl AcceptFailures {
    fn failed(&mut self, broker_id: i32, error: &std::io::Error, backoff: Duration) {
        self.since += 1;
        if self
            .last_logged
            .is_some_and(|at| at.elapsed() < ACCEPT_LOG_INTERVAL)
        {
            return;
        }
        tracing::warn!(broker_id, %error, failures = self.since, ?backoff, "accept failed; retrying after a pause (logged once per 10 s)");
        self.last_logged = Some(std::time::Instant::now());
        self.since = 0;
    }
}

/// The next connection on any of `listeners`, with the listener's index. The listener
/// looked at first rotates, so a busy one cannot starve the others.
async fn accept_any(
    listeners: &[TcpListener],
    first: &mut usize,
) -> (
    usize,
    std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)>,
) {
    std::future::poll_fn(|cx| {
        let n = listeners.len();
        for k in 0..n {
            let index = (*first + k) % n;
            if let std::task::Poll::Ready(accepted) = listeners[index].poll_accept(cx) {
                *first = (index + 1) % n;
                return std::task::Poll::Ready((index, accepted));
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Resolves once the cluster shuts down.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Resolves once the broker is stopped.
pub(crate) async fn down(mode: &mut watch::Receiver<NetMode>) {
    let _ = mode.wait_for(|m| *m == NetMode::Down).await;
}
