//! The KRaft controller quorum as DescribeQuorum shows it. broker-sim runs every broker
//! as a combined broker and controller, like the reference Kafka of the differential
//! suite, with a static quorum of all of them: the quorum leader is the controller (the
//! first live broker), its epoch grows each time the controller changes, and the
//! "metadata log" is a count of the metadata changes made (topics created and deleted,
//! brokers fenced and unfenced), not Kafka's record offsets. A running voter is caught
//! up; a stopped one stays where the log was when it stopped.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;

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

/// An AddRaftVoter or RemoveRaftVoter request, as the quorum checks it.
pub struct VoterChange<'a> {
    /// "add" or "remove".
    pub verb: &'static str,
    pub cluster_id: Option<&'a str>,
    pub voter_id: i32,
    pub has_directory_id: bool,
    /// AddRaftVoter only: whether the voter's endpoints include the CONTROLLER listener.
    pub controller_endpoint: Option<bool>,
}

impl State {
    /// Kafka's answer to a voter change on a static quorum (`kraft.version` 0): its checks
    /// in its order, then UNSUPPORTED_VERSION — the quorum never changes.
    pub fn refuse_voter_change(&self, change: &VoterChange<'_>) -> (ResponseError, String) {
        let capitalized = |v: &str| {
            let mut c = v.chars();
            c.next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        };
        if let Some(asked) = change.cluster_id.filter(|id| *id != self.cluster_id) {
            return (
                ResponseError::InconsistentClusterId,
                format!(
                    "The given id \"{asked}\" doesn't match the cluster id \"{}\"",
                    self.cluster_id
                ),
            );
        }
        if change.voter_id < 0 || !change.has_directory_id {
            return (
                ResponseError::InvalidRequest,
                format!(
                    "{} voter request didn't include a valid voter",
                    capitalized(change.verb)
                ),
            );
        }
        if change.controller_endpoint == Some(false) {
            return (
                ResponseError::InvalidRequest,
                "Add voter request didn't include the endpoint for the default listener CONTROLLER"
                    .to_string(),
            );
        }
        let ing = if change.verb == "add" {
            "adding"
        } else {
            "removing"
        };
        (
            ResponseError::UnsupportedVersion,
            format!("Cluster doesn't support {ing} voter because the kraft.version feature is 0"),
        )
    }
}
