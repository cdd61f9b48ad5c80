//! The KRaft controller quorum as DescribeQuorum shows it. broker-sim runs every broker
//! as a combined broker and controller, like the reference Kafka of the differential
//! suite, with a static quorum of all of them: the quorum leader is the controller (the
//! first live broker), its epoch grows each time the controller changes, and the
//! "metadata log" is a count of the metadata changes made (topics created and deleted,
//! brokers fenced and unfenced), not Kafka's record offsets. A running voter is caught
//! up; a stopped one stays where the log was when it stopped.

use std::collections::BTreeMap;

use super::State;

#[derive(Debug)]
pub struct Quorum {
    /// The quorum leader's epoch.
    pub epoch: i32,
    /// The metadata changes made so far: the log end offset and high watermark shown.
    pub offset: i64,
    /// Where each stopped voter's log ended, and when it stopped.
    stopped: BTreeMap<i32, (i64, i64)>,
}

impl Default for Quorum {
    fn default() -> Self {
        Quorum {
            epoch: 1,
            offset: 0,
            stopped: BTreeMap::new(),
        }
    }
}

/// One voter as DescribeQuorum shows it.
pub struct Voter {
    pub id: i32,
    pub log_end_offset: i64,
    pub last_fetch_timestamp: i64,
    pub last_caught_up_timestamp: i64,
}

impl State {
    /// A metadata change was made (one more record in the metadata log).
    pub(super) fn metadata_changed(&mut self) {
        self.quorum.offset += 1;
    }

    /// Broker `broker` stopped (`true`) or started, at `now`; `old_controller` was the
    /// controller before: a new one starts a new epoch.
    pub(super) fn quorum_member_changed(
        &mut self,
        broker: i32,
        stopped: bool,
        old_controller: i32,
        now: i64,
    ) {
        self.metadata_changed();
        if stopped {
            self.quorum
                .stopped
                .insert(broker, (self.quorum.offset, now));
        } else {
            self.quorum.stopped.remove(&broker);
        }
        if self.controller_id != old_controller {
            self.quorum.epoch += 1;
        }
    }

    /// The quorum leader (-1 with every broker stopped), its epoch, the high watermark
    /// and every voter, in id order.
    pub fn describe_quorum(&self, now: i64) -> (i32, i32, i64, Vec<Voter>) {
        let voters = self
            .brokers
            .iter()
            .map(|b| match self.quorum.stopped.get(&b.id) {
                Some(&(offset, at)) => Voter {
                    id: b.id,
                    log_end_offset: offset,
                    last_fetch_timestamp: at,
                    last_caught_up_timestamp: at,
                },
                None => Voter {
                    id: b.id,
                    log_end_offset: self.quorum.offset,
                    last_fetch_timestamp: now,
                    last_caught_up_timestamp: now,
                },
            })
            .collect();
        (
            self.controller_id,
            self.quorum.epoch,
            self.quorum.offset,
            voters,
        )
    }
}
