//! The fuzz targets' way in (`fuzz/`, cargo-fuzz): a cluster's state and request pipeline
//! driven in process, one frame at a time, with no socket and no real waiting. Compiled
//! only with the `fuzzing` feature and hidden from the docs: it is not part of the API.
//!
//! Why it is built this way:
//! - **A fresh cluster per input** ([`Harness::reset`]): three brokers and three topics
//!   (plain, compacted, LogAppendTime), about a hundred microseconds to build. A crash then
//!   reproduces from its input alone, which libFuzzer needs, and state never piles up over
//!   millions of inputs.
//! - **Requests run as tasks, several at once**, on a current-thread runtime that this
//!   thread drives: a JoinGroup that waits for a second member, or a long-polling Fetch that
//!   waits for a Produce, completes when a later frame of the same input supplies it, as
//!   with concurrent clients.
//! - **Time moves only when told**: the cluster's clock is manual and tokio's is paused, so
//!   [`Harness::advance`] moves both, fires the cluster's deadlines (as
//!   `Cluster::advance` does) and wakes the waiting requests; no input waits real time.
//!   [`Harness::finish`] moves time past any wait a client could ask for, then drops what
//!   is still waiting, as clients that disconnect.
//! - **The state lock is timed** (`crate::shared::held`): [`Harness::longest_lock_hold`]
//!   says how long one request kept every other client waiting.
//! - [`control_router`] is the control API's router, to drive with `tower::ServiceExt`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use broker_sim_protocol::frame::read_frame;
use broker_sim_protocol::header::decode_request;
use bytes::Bytes;

use crate::clock::Clock;
use crate::config::BrokerConfig;
use crate::pipeline::{self, Origin, Outcome};
use crate::shared::Shared;
use crate::state::{BrokerInfo, State, TopicSpec};

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A whole response frame: size prefix, header, body.
    Response(Bytes),
    /// Nothing to send (acks=0).
    Silent,
    /// The connection would be closed, and why.
    Closed(String),
    /// The broker would never answer on this connection (a fault).
    Hang,
}

/// The cluster's clock at the start of every input: 2030-01-01T00:00:00Z, after the
/// timestamps of the captured client traffic in the seeds, which a clock before them would
/// refuse as too far in the future (`message.timestamp.after.max.ms`).
pub const START_MS: i64 = 1_893_456_000_000;
/// The cluster's brokers: ids 1, 2 and 3.
pub const BROKERS: i32 = 3;
/// The topics every input starts with: (name, partitions).
pub const TOPICS: &[(&str, i32)] = &[("t", 3), ("compacted", 1), ("appendtime", 1)];
/// How long [`Harness::finish`] lets waiting requests wait: past Kafka's largest default
/// timeouts (a 5-minute rebalance, a 60-second transaction). A client may ask for longer
/// waits, which is why whatever still waits is then dropped.
const FINISH: Duration = Duration::from_secs(600);
/// How often the harness yields to the requests' tasks in a step: enough for a chain of
/// wake-ups (a Produce waking a Fetch waking nothing more) to settle.
const YIELDS_PER_STEP: usize = 64;

/// An in-process cluster and the runtime its requests run on.
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    tasks: tokio::task::LocalSet,
    shared: Arc<Shared>,
    /// (ticket, answer) of every request answered since the last `take_answers`.
    answers: Rc<RefCell<Vec<(u64, Answer)>>>,
    /// Requests spawned and not answered yet.
    running: Rc<Cell<usize>>,
    next_ticket: u64,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Harness {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime builds");
        Harness {
            runtime,
            tasks: tokio::task::LocalSet::new(),
            shared: fresh_shared(),
            answers: Rc::default(),
            running: Rc::default(),
            next_ticket: 0,
        }
    }

    /// Drops every request still running and starts over with a fresh cluster.
    pub fn reset(&mut self) {
        let _entered = self.runtime.enter();
        self.tasks = tokio::task::LocalSet::new();
        self.shared = fresh_shared();
        self.answers.borrow_mut().clear();
        self.running.set(0);
        self.next_ticket = 0;
        crate::shared::held::take_longest();
    }

    /// Sends one request frame (header and body, without the size prefix) to `broker_id`
    /// and lets it run until it answers or waits; returns its ticket. A header that does
    /// not decode is answered at once with `Closed`, as the connection would be.
    pub fn send(&mut self, frame: &[u8], broker_id: i32) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let request_bytes = frame.len();
        match decode_request(Bytes::copy_from_slice(frame)) {
            Err(e) => self
                .answers
                .borrow_mut()
                .push((ticket, Answer::Closed(e.to_string()))),
            Ok(request) => {
                let (shared, answers) = (self.shared.clone(), self.answers.clone());
                let running = self.running.clone();
                running.set(running.get() + 1);
                self.tasks.spawn_local(async move {
                    // A PLAINTEXT connection's session: every request as its own connection.
                    let session = crate::sasl::Session::new(
                        crate::security::SecurityProtocol::Plaintext,
                        0,
                        None,
                    );
                    let origin = Origin {
                        broker_id,
                        client_host: "/127.0.0.1",
                        request_bytes,
                        session: &session,
                        principal: crate::security::ANONYMOUS,
                        connection: 1,
                    };
                    let answer = match pipeline::process(&shared, origin, request).await {
                        Outcome::Send(frame) | Outcome::SendThenPause(frame, _) => {
                            Answer::Response(frame.to_bytes())
                        }
                        Outcome::Silent => Answer::Silent,
                        Outcome::Close(why) => Answer::Closed(why.to_string()),
                        Outcome::Hang => Answer::Hang,
                    };
                    answers.borrow_mut().push((ticket, answer));
                    running.set(running.get() - 1);
                });
            }
        }
        self.step();
        ticket
    }

    /// Reads `stream` as a client's bytes on one connection to `broker_id`: frames as the
    /// connection reads them (size prefix, the broker's `max.request.size`), each sent as
    /// [`Harness::send`] does, until the bytes end or the connection would close (a bad
    /// frame, a refused request, a hang). Unlike a connection, a request that waits does
    /// not hold back the next frame: they run side by side, as on separate connections.
    /// Returns the tickets of the requests sent.
    pub fn connection(&mut self, stream: &[u8], broker_id: i32) -> Vec<u64> {
        let max_request_size = self.shared.lock().config.max_request_size;
        let mut reader = stream;
        let mut tickets = Vec::new();
        loop {
            let frame = self
                .runtime
                .block_on(read_frame(&mut reader, max_request_size));
            let Ok(Some(frame)) = frame else {
                return tickets;
            };
            let ticket = self.send(&frame, broker_id);
            tickets.push(ticket);
            let answers = self.answers.borrow();
            let ended = answers
                .iter()
                .any(|(t, a)| *t == ticket && matches!(a, Answer::Closed(_) | Answer::Hang));
            if ended {
                return tickets;
            }
        }
    }

    /// Sends a request and returns its answer if it came without waiting for time to move.
    pub fn call(&mut self, frame: &[u8], broker_id: i32) -> Option<Answer> {
        let ticket = self.send(frame, broker_id);
        self.take_answer(ticket)
    }

    /// Moves the cluster's clock and tokio's by `ms`, fires what came due and lets the
    /// waiting requests run.
    pub fn advance(&mut self, ms: u32) {
        let now = self
            .shared
            .clock
            .advance(i64::from(ms))
            .expect("the harness's clock is manual");
        {
            let mut state = self.shared.lock();
            state.tick(now);
            state.apply_retention(now);
        }
        self.shared.wake_all();
        self.tasks.block_on(
            &self.runtime,
            tokio::time::advance(Duration::from_millis(u64::from(ms))),
        );
        self.step();
    }

    /// Lets time run past every wait (see `FINISH`), then drops the requests still
    /// running, as clients that disconnect. Returns how many were dropped.
    pub fn finish(&mut self) -> usize {
        // Most inputs leave nothing waiting: then there is nothing to move time for.
        for _ in 0..10 {
            if self.running.get() == 0 {
                break;
            }
            self.advance((FINISH.as_millis() / 10) as u32);
        }
        let still_running = self.running.replace(0);
        let _entered = self.runtime.enter();
        self.tasks = tokio::task::LocalSet::new();
        still_running
    }

    /// The answers that arrived since the last call, by ticket.
    pub fn take_answers(&mut self) -> Vec<(u64, Answer)> {
        std::mem::take(&mut self.answers.borrow_mut())
    }

    /// The answer to `ticket`, if it has arrived (removed from the list).
    pub fn take_answer(&mut self, ticket: u64) -> Option<Answer> {
        let mut answers = self.answers.borrow_mut();
        let at = answers.iter().position(|(t, _)| *t == ticket)?;
        Some(answers.remove(at).1)
    }

    /// The longest any request held the state lock since the last call.
    pub fn longest_lock_hold() -> Duration {
        crate::shared::held::take_longest()
    }

    /// The cluster's clock now (milliseconds since the epoch).
    pub fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// Runs the requests' tasks until they have all answered or wait, without moving
    /// time; a deadline that is already due fires, as the timer task would fire it.
    fn step(&mut self) {
        let now = self.shared.clock.now_ms();
        if self.shared.lock().tick(now) {
            self.shared.wake_all();
        }
        self.tasks.block_on(&self.runtime, async {
            for _ in 0..YIELDS_PER_STEP {
                tokio::task::yield_now().await;
            }
        });
    }
}

/// Three brokers (ids 1–3) and the `TOPICS`, every partition on every broker, on a manual
/// clock at `START_MS`.
fn fresh_shared() -> Arc<Shared> {
    const SEED: u64 = 7;
    let brokers = (1..=BROKERS)
        .map(|id| BrokerInfo {
            id,
            host: "127.0.0.1".into(),
            port: 9091 + id,
            rack: None,
            listener_ports: vec![9091 + id],
        })
        .collect();
    let config = BrokerConfig {
        default_replication_factor: BROKERS as i16,
        ..BrokerConfig::default()
    };
    let clock = Clock::manual(START_MS);
    let mut state = State::new(SEED, brokers, config);
    state.set_replication_lag(0, START_MS);
    state.start_retention(START_MS);
    for &(name, partitions) in TOPICS {
        let mut spec = TopicSpec::new(name, partitions);
        match name {
            "compacted" => spec
                .configs
                .insert("cleanup.policy".into(), "compact".into()),
            "appendtime" => spec
                .configs
                .insert("message.timestamp.type".into(), "LogAppendTime".into()),
            _ => None,
        };
        state
            .create_topic(&spec)
            .expect("the harness's topics are valid");
    }
    Arc::new(Shared::new(state, clock, SEED))
}

/// The control API's router for `cluster`, with the default options (no token), to drive
/// in process with `tower::ServiceExt::oneshot`.
pub fn control_router(cluster: Arc<crate::Cluster>) -> axum::Router {
    crate::control::router(cluster, crate::control::ControlOptions::default())
}
