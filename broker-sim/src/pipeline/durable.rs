//! Durable mode's last layer: nothing is answered before it is on disk as the flush
//! policy says (`crate::storage`).
//!
//! The handler's changes to the logs are already in the segment files (written under the
//! partition's lock, so a killed process keeps them); here the answer waits for the fsyncs the
//! topics' `flush.messages` / `flush.ms` asked for, and, after a request that may have
//! changed topics, configs, committed offsets, producer ids, transactions, users or ACLs,
//! for the documents to be rewritten: a group request's change (a commit, a join) only
//! the groups' document, captured under the groups lock alone, so a commit never holds
//! the state lock for a capture of every topic. Both happen off the async workers (the
//! flusher thread, `spawn_blocking`), so other connections never wait for a disk. If the
//! storage failed, the connection is closed instead of answered: a client retries
//! rather than believing a write is kept.

use kafka_protocol::messages::ApiKey;

use crate::api::{Api, Ctx};
use crate::error::CloseReason;
use crate::shared::Shared;
use crate::state::durable::MetadataCapture;

/// What a request needs before its answer, decided before the handler consumes it.
pub(super) struct Durable {
    documents: Option<Documents>,
}

/// Which documents a request may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Documents {
    /// The groups' alone (group requests).
    Groups,
    /// The metadata document and the groups'.
    All,
}

impl Durable {
    /// In durable mode, what the request `A` needs; `None` in memory.
    pub(super) fn of<A: Api>(ctx: &Ctx<'_>, request: &A::Request) -> Option<Durable> {
        ctx.shared.storage.get()?;
        // A transactional produce may add its partitions to the transaction (KIP-890).
        let documents = match A::KEY {
            ApiKey::Produce => {
                (!A::names(ctx, request).transactional_ids.is_empty()).then_some(Documents::All)
            }
            key => documents_changed(key),
        };
        Some(Durable { documents })
    }

    /// Waits until what the request changed is kept.
    pub(super) async fn kept(self, shared: &Shared) -> Result<(), CloseReason> {
        let Some(storage) = shared.storage.get() else {
            return Ok(());
        };
        let target = storage.sync_target();
        if let Some(documents) = self.documents
            && let Err(e) = persist_metadata(shared, documents).await
        {
            storage.fail("writing the metadata document", &e);
        }
        storage.synced(target).await;
        if storage.failed() {
            return Err(CloseReason::Storage(format!(
                "the data directory {} cannot be written",
                storage.root().display()
            )));
        }
        Ok(())
    }
}

/// Which documents a request of `key` may change: only the groups' for group requests;
/// both for every other API but the reads, the hot paths that change only logs, and
/// group liveness.
fn documents_changed(key: ApiKey) -> Option<Documents> {
    use ApiKey::*;
    if matches!(
        key,
        JoinGroup | SyncGroup | LeaveGroup | OffsetCommit | OffsetDelete | DeleteGroups
    ) {
        return Some(Documents::Groups);
    }
    (!matches!(
        key,
        Fetch
            | ListOffsets
            | Metadata
            | ApiVersions
            | Heartbeat
            | ConsumerGroupHeartbeat
            | FindCoordinator
            | OffsetFetch
            | OffsetForLeaderEpoch
            | SaslHandshake
            | SaslAuthenticate
            | DescribeGroups
            | ListGroups
            | DescribeAcls
            | DescribeConfigs
            | DescribeLogDirs
            | DescribeCluster
            | DescribeProducers
            | DescribeTransactions
            | ListTransactions
            | DescribeTopicPartitions
            | DescribeUserScramCredentials
            | DescribeClientQuotas
            | ConsumerGroupDescribe
            | DescribeQuorum
            | ListPartitionReassignments
            | GetTelemetrySubscriptions
            | PushTelemetry
            | DescribeDelegationToken
    ))
    .then_some(Documents::All)
}

/// Captures `documents` (the groups' under the groups lock alone, all of them under the
/// state lock) and writes them on a blocking thread; a no-op in memory.
pub(crate) async fn persist_metadata(shared: &Shared, documents: Documents) -> std::io::Result<()> {
    let Some(storage) = shared.storage.get() else {
        return Ok(());
    };
    let capture = match documents {
        Documents::Groups => Some(MetadataCapture::groups(storage, &shared.groups())),
        Documents::All => {
            let state = shared.lock();
            state.capture_metadata(shared.clock.now_ms(), shared.clock.is_manual())
        }
    };
    let Some(capture) = capture else {
        return Ok(());
    };
    tokio::task::spawn_blocking(move || capture.write())
        .await
        .map_err(std::io::Error::other)?
}
