//! Failures and time: brokers stopped, started, isolated and healed, leadership and
//! replication moved by hand, and the manual clock.

use std::time::Duration;

use kafka_protocol::ResponseError;

use super::{BrokerStatus, Cluster};
use crate::error::KafkaError;
use crate::net::{BrokerNet, NetMode};

impl Cluster {
    /// Every broker with its address and whether clients can reach it now.
    pub fn broker_status(&self) -> Vec<BrokerStatus> {
        self.brokers
            .iter()
            .zip(&self.runtime.nets)
            .map(|(b, net)| BrokerStatus {
                id: b.id,
                host: b.host.clone(),
                port: b.port,
                rack: b.rack.clone(),
                up: net.mode() != NetMode::Down,
                isolated: net.mode() == NetMode::Isolated,
            })
            .collect()
    }

    /// The broker Metadata names as controller: the lowest-numbered broker that is up.
    pub fn controller_id(&self) -> i32 {
        self.shared().lock().controller_id
    }

    fn net(&self, id: i32) -> Result<&BrokerNet, KafkaError> {
        self.runtime
            .nets
            .iter()
            .map(|n| &**n)
            .find(|n| n.id == id)
            .ok_or_else(|| {
                KafkaError::new(
                    ResponseError::BrokerNotAvailable,
                    format!("there is no broker {id}"),
                )
            })
    }

    /// Wakes everything that waits on cluster state after a lifecycle change: long polls
    /// and acks=all produces look again, group timers recompute.
    fn changed(&self) {
        self.shared().wake_all();
        self.shared().wake_timers();
    }

    /// Crashes broker `id`: its connections are reset and its port refuses new ones. Its
    /// log is kept. Partitions it led elect a new leader from the ISR (or, with
    /// `unclean.leader.election.enable`, any live replica); groups it coordinated move.
    pub fn stop_broker(&self, id: i32) -> Result<(), KafkaError> {
        let net = self.net(id)?;
        match net.mode() {
            NetMode::Down => {
                return Err(KafkaError::new(
                    ResponseError::BrokerNotAvailable,
                    format!("broker {id} is already stopped"),
                ));
            }
            // Isolated brokers are fenced already.
            NetMode::Isolated => {}
            NetMode::Up => self.shared().lock().fence_broker(id, self.now_ms())?,
        }
        net.mode.send_replace(NetMode::Down);
        net.wait_until_closed();
        self.changed();
        tracing::info!(broker = id, "broker stopped");
        Ok(())
    }

    /// Starts a stopped broker on its old port (or heals an isolated one): it catches up
    /// and rejoins the ISR of its partitions.
    pub fn start_broker(&self, id: i32) -> Result<(), KafkaError> {
        let net = self.net(id)?;
        match net.mode() {
            NetMode::Up => {
                return Err(KafkaError::new(
                    ResponseError::InvalidRequest,
                    format!("broker {id} is already running"),
                ));
            }
            NetMode::Isolated => return self.heal_broker(id),
            NetMode::Down => {}
        }
        let b = self
            .brokers
            .iter()
            .find(|b| b.id == id)
            .expect("net and brokers agree");
        let listeners = b
            .listener_ports
            .iter()
            .map(|port| {
                super::builder::bind(&b.host, *port as u16).map_err(|e| {
                    KafkaError::new(
                        ResponseError::BrokerNotAvailable,
                        format!("broker {id} cannot listen on {}:{port} again: {e}", b.host),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        *net.listener.lock().unwrap_or_else(|e| e.into_inner()) = Some(listeners);
        net.mode.send_replace(NetMode::Up);
        self.shared().lock().unfence_broker(id, self.now_ms())?;
        self.changed();
        tracing::info!(broker = id, "broker started");
        Ok(())
    }

    /// `stop_broker` then `start_broker`.
    pub fn restart_broker(&self, id: i32) -> Result<(), KafkaError> {
        self.stop_broker(id)?;
        self.start_broker(id)
    }

    /// Cuts broker `id` off the network: clients' requests to it go unanswered (they time
    /// out rather than being refused) and the cluster fences it as it would a crashed
    /// broker, but it keeps its state and connections until [`Cluster::heal_broker`].
    pub fn isolate_broker(&self, id: i32) -> Result<(), KafkaError> {
        let net = self.net(id)?;
        if net.mode() != NetMode::Up {
            return Err(KafkaError::new(
                ResponseError::BrokerNotAvailable,
                format!("broker {id} is not running"),
            ));
        }
        self.shared().lock().fence_broker(id, self.now_ms())?;
        net.mode.send_replace(NetMode::Isolated);
        self.changed();
        tracing::info!(broker = id, "broker isolated");
        Ok(())
    }

    /// Reconnects an isolated broker; it then rejoins like a started one, and requests
    /// held while it was cut off are answered (if their clients are still waiting).
    pub fn heal_broker(&self, id: i32) -> Result<(), KafkaError> {
        let net = self.net(id)?;
        if net.mode() != NetMode::Isolated {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                format!("broker {id} is not isolated"),
            ));
        }
        self.shared().lock().unfence_broker(id, self.now_ms())?;
        net.mode.send_replace(NetMode::Up);
        self.changed();
        tracing::info!(broker = id, "broker healed");
        Ok(())
    }

    /// Makes `broker` the leader of `topic`-`partition` (it must be an in-sync replica that
    /// is up), with a new leader epoch.
    pub fn move_leader(&self, topic: &str, partition: i32, broker: i32) -> Result<(), KafkaError> {
        let now = self.now_ms();
        self.shared()
            .lock()
            .move_leader(topic, partition, broker, now)?;
        self.changed();
        Ok(())
    }

    /// Preferred leader election: every partition whose first replica is up and in sync
    /// but not leading gets it back as leader. Returns the partitions that moved.
    pub fn elect_preferred_leaders(&self) -> Vec<(String, i32)> {
        let now = self.now_ms();
        let moved = self.shared().lock().elect_preferred_leaders(now);
        self.changed();
        moved
    }

    /// Sets how long after an append followers copy it (see
    /// [`ClusterBuilder::replication_lag`]).
    pub fn set_replication_lag(&self, lag: Duration) {
        let now = self.now_ms();
        self.shared()
            .lock()
            .set_replication_lag(lag.as_millis() as i64, now);
        self.changed();
    }

    /// Freezes the follower copies on `broker`: it falls behind, and after
    /// `replica.lag.time.max.ms` leaves the ISR of every partition it follows (it still
    /// leads its own). Undo with [`Cluster::resume_replication`].
    pub fn pause_replication(&self, broker: i32) -> Result<(), KafkaError> {
        let now = self.now_ms();
        self.shared().lock().pause_replication(broker, true, now)?;
        self.changed();
        Ok(())
    }

    /// Lets `broker`'s follower copies catch up again.
    pub fn resume_replication(&self, broker: i32) -> Result<(), KafkaError> {
        let now = self.now_ms();
        self.shared().lock().pause_replication(broker, false, now)?;
        self.changed();
        Ok(())
    }

    /// Whether the cluster runs on a manual clock (see [`ClusterBuilder::manual_clock`]),
    /// which [`Cluster::advance`] moves.
    ///
    /// [`ClusterBuilder::manual_clock`]: crate::ClusterBuilder::manual_clock
    pub fn has_manual_clock(&self) -> bool {
        self.shared().clock.is_manual()
    }

    /// The cluster clock, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.shared().clock.now_ms()
    }

    /// Moves a manual clock (see [`ClusterBuilder::manual_clock`]) forward and fires
    /// everything that came due — session and rebalance timeouts, replication lag and
    /// ISR changes, long-poll fetch waits, offset expiration and the removal of empty
    /// groups when their check is due — before returning. Panics on a system clock,
    /// which a test cannot move.
    pub fn advance(&self, by: Duration) {
        let now = self
            .shared()
            .clock
            .advance(by.as_millis() as i64)
            .expect("Cluster::advance needs a manual clock: ClusterBuilder::manual_clock");
        {
            let mut state = self.shared().lock();
            state.tick(now);
            state.apply_retention(now);
        }
        self.changed();
    }
}
