//! The state's side of durable mode (`crate::storage`): giving every partition log its
//! segment files, capturing the metadata document, and rebuilding a state from a data
//! directory at start.
//!
//! Recovery reads the metadata document (a snapshot without batches, checked as any
//! snapshot is), scans each partition's segments (cutting a torn or corrupt tail), and
//! fills the snapshot's partitions from them: log start (the larger of the document's and
//! the partition's `log-start-offset` file), log end, leader epochs (from the batches'
//! headers, merged with the document's), and idempotent producers and transactions,
//! rebuilt by replaying every batch's producer fields and every marker, as Kafka rebuilds
//! its producer state from the log. The result restores like any snapshot: every broker
//! up, every replica in sync, so the high watermark is the log end offset — the segments
//! hold only what the leader appended, which a restart keeps.

use std::collections::BTreeMap;

use broker_sim_protocol::batch::{BatchView, ControlType, control_type};

use super::State;
use super::groups::Groups;
use super::producers::{ProducerBatch, ProducerStates};
use super::snapshot::{Snapshot, SnapshotBatch, SnapshotGroup, SnapshotPartition, groups_snapshot};
use super::topic::{Partition, Topic};
use crate::storage::{Document, PartitionFiles, ScannedBatch, Storage};

/// A data directory read back: the state's snapshot, and the files each partition found.
pub struct Recovered {
    pub snapshot: Snapshot,
    pub files: BTreeMap<(String, i32), PartitionFiles>,
}

/// The groups' document: every group's committed offsets (and type), which a group
/// request rewrites under the groups lock alone, without the state lock or the topics.
#[derive(serde::Serialize, serde::Deserialize)]
struct GroupsDocument {
    groups: Vec<SnapshotGroup>,
}

/// The documents to write, captured under the locks of what they hold and written after
/// them: the metadata document (state lock), the groups' (groups lock), or both.
pub struct MetadataCapture {
    storage: Storage,
    metadata: Option<(u64, Snapshot)>,
    groups: Option<(u64, Vec<SnapshotGroup>)>,
    /// Whether to fsync them: the cluster-wide `log.flush.interval.messages` is 1.
    sync: bool,
}

impl MetadataCapture {
    /// The groups' document alone, as `groups` stand (call it holding their lock). A group
    /// request's change (a commit, a join) is in no other document, so it needs no
    /// state lock: at 10,000 partitions the whole metadata capture held the state lock for
    /// milliseconds on every commit.
    pub fn groups(storage: &Storage, groups: &Groups) -> MetadataCapture {
        MetadataCapture {
            storage: storage.clone(),
            metadata: None,
            groups: Some((
                storage.next_capture(Document::Groups),
                groups_snapshot(groups),
            )),
            sync: storage.sync_documents(),
        }
    }

    /// Writes the documents (blocking file I/O: call it off the async workers), the
    /// groups' first: a process stopped between the two then leaves groups at least as new
    /// as the metadata (a directory from before the groups' document never loses the
    /// groups its metadata document held, and offsets of a topic deleted meanwhile are
    /// dropped at recovery).
    pub fn write(self) -> std::io::Result<()> {
        if let Some((capture, groups)) = self.groups {
            let text =
                serde_json::to_vec(&GroupsDocument { groups }).map_err(std::io::Error::other)?;
            self.storage
                .write_document(Document::Groups, capture, text, self.sync)?;
        }
        if let Some((capture, snapshot)) = self.metadata {
            let text = snapshot.to_json().into_bytes();
            self.storage
                .write_document(Document::Metadata, capture, text, self.sync)?;
        }
        Ok(())
    }
}

impl State {
    /// Makes the state write through `storage`: each partition takes the files recovery
    /// found for it, or new ones holding what its log already has (a snapshot's batches).
    /// Directories no partition owns are deleted: they belong to a topic whose creation or
    /// deletion was not acknowledged before the process stopped, or were set aside by a
    /// deletion the flusher had not finished (`storage/flush.rs`).
    pub fn attach_storage(
        &mut self,
        storage: Storage,
        mut found: BTreeMap<(String, i32), PartitionFiles>,
    ) -> std::io::Result<()> {
        let mut owned = std::collections::BTreeSet::new();
        for t in self.topics.values_mut() {
            let name = t.name.clone();
            for p in t.partitions_mut() {
                let files = match found.remove(&(name.clone(), p.index)) {
                    Some(files) => files,
                    None => fresh_files(&storage, &name, p)?,
                };
                owned.insert(
                    files
                        .dir()
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned()),
                );
                p.log.files = Some(files);
            }
        }
        for name in storage.partition_dirs()? {
            if !owned.contains(&Some(name.clone())) {
                tracing::warn!(dir = %name, "data directory: deleting the files of a partition no topic has");
                storage.remove_dir(&name)?;
            }
        }
        self.storage = Some(storage);
        Ok(())
    }

    /// Gives `topic`'s new partitions their files (CreateTopics, CreatePartitions).
    pub(super) fn attach_files(&self, topic: &str, partitions: &mut [Partition]) {
        let Some(storage) = &self.storage else {
            return;
        };
        for p in partitions.iter_mut().filter(|p| p.log.files.is_none()) {
            match fresh_files(storage, topic, p) {
                Ok(files) => p.log.files = Some(files),
                Err(e) => storage.fail("creating a partition's files", &e),
            }
        }
    }

    /// Deletes a deleted topic's files.
    pub(super) fn remove_topic_files(&self, t: &Topic) {
        if let Some(storage) = &self.storage {
            for index in 0..t.partition_count() {
                storage.remove_partition(&t.name, index as i32);
            }
        }
    }

    /// The metadata document as the state stands, numbered now (see
    /// `Storage::next_capture`), in durable mode.
    pub fn capture_metadata(&self, now: i64, manual: bool) -> Option<MetadataCapture> {
        let storage = self.storage.clone()?;
        let sync = self
            .broker_configs
            .topic_defaults()
            .get("flush.messages")
            .is_some_and(|v| v.trim() == "1");
        storage.set_sync_documents(sync);
        // A system clock's time is not kept (a restart runs on the system clock): the
        // document then changes only when the data does, and is rewritten only then.
        let snapshot = self.metadata_snapshot(if manual { now } else { 0 }, manual);
        let metadata = Some((storage.next_capture(Document::Metadata), snapshot));
        let groups = MetadataCapture::groups(&storage, &self.groups()).groups;
        Some(MetadataCapture {
            storage,
            metadata,
            groups,
            sync,
        })
    }

    /// Hands every segment to the flusher (a clean stop keeps everything, even from a
    /// machine crash).
    pub fn flush_logs(&self) {
        for p in self.topics.values().flat_map(Topic::partitions) {
            if let Some(files) = &p.log.files {
                files.flush_all();
            }
        }
    }
}

/// New files for partition `p` of `topic`, holding the batches its log has.
fn fresh_files(storage: &Storage, topic: &str, p: &Partition) -> std::io::Result<PartitionFiles> {
    let mut files = storage.create_partition(topic, p.index)?;
    let batches = p.log.batches_from(0);
    if let Some(first) = batches.first() {
        for b in batches {
            files.append(
                first.base_offset,
                (b.base_offset, b.last_offset),
                &b.bytes,
                0,
            )?;
        }
    }
    if p.log.log_start_offset() > 0 {
        files.delete_before(p.log.log_start_offset())?;
    }
    Ok(files)
}

/// Reads `storage`'s data directory back, if it holds a cluster (see the module doc).
pub fn recover(storage: &Storage, now: i64) -> Result<Option<Recovered>, String> {
    let at = storage.root().display().to_string();
    let Some(text) = storage
        .read_metadata()
        .map_err(|e| format!("cannot read {at}/metadata.json: {e}"))?
    else {
        // A groups' document without a metadata document belongs to no cluster.
        storage
            .remove(Document::Groups)
            .map_err(|e| format!("cannot delete {at}/groups.json: {e}"))?;
        return Ok(None);
    };
    let mut snapshot =
        Snapshot::from_json(&text).map_err(|e| format!("{at}/metadata.json: {e}"))?;
    // The groups' own document, where there is one (a directory written before it existed
    // keeps its groups in the metadata document).
    if let Some(text) = storage
        .read(Document::Groups)
        .map_err(|e| format!("cannot read {at}/groups.json: {e}"))?
    {
        let document: GroupsDocument =
            serde_json::from_str(&text).map_err(|e| format!("{at}/groups.json: {e}"))?;
        snapshot.groups = document.groups;
        snapshot
            .validate()
            .map_err(|e| format!("{at}/groups.json: {e}"))?;
    }
    // Offsets of topics the metadata does not have: a process stopped between writing a
    // topic's deletion to one document and to the other. Kafka drops a deleted topic's
    // offsets; so does recovery.
    let topics: std::collections::BTreeSet<String> =
        snapshot.topics.iter().map(|t| t.name.clone()).collect();
    for g in &mut snapshot.groups {
        g.offsets.retain(|o| topics.contains(&o.topic));
    }
    let mut files = BTreeMap::new();
    for t in &mut snapshot.topics {
        for p in &mut t.partitions {
            let scanned = storage
                .scan_partition(&t.name, p.index)
                .map_err(|e| format!("cannot read the log of {}-{}: {e}", t.name, p.index))?;
            fill(p, scanned.batches, scanned.log_start, now);
            if let Some(base) = scanned.files.active_base() {
                p.active_segment_base = base;
            }
            files.insert((t.name.clone(), p.index), scanned.files);
        }
    }
    tracing::info!(
        dir = %at,
        topics = snapshot.topics.len(),
        records = snapshot.record_count(),
        "recovered the data directory"
    );
    Ok(Some(Recovered { snapshot, files }))
}

/// Fills a metadata partition from the batches its segments hold.
fn fill(p: &mut SnapshotPartition, scanned: Vec<ScannedBatch>, log_start: Option<i64>, now: i64) {
    let start = p.log_start_offset.max(log_start.unwrap_or(0));
    let mut epochs: BTreeMap<i32, i64> = p.epochs.iter().copied().collect();
    let mut batches = Vec::with_capacity(scanned.len());
    for b in scanned.into_iter().filter(|b| b.last_offset >= start) {
        // The scan checked every header.
        let Ok(view) = BatchView::parse(&b.bytes) else {
            continue;
        };
        let epoch = view.partition_leader_epoch();
        if epoch >= 0 {
            let first = epochs.entry(epoch).or_insert(b.base_offset);
            *first = (*first).min(b.base_offset);
            p.leader_epoch = p.leader_epoch.max(epoch);
        }
        batches.push(SnapshotBatch {
            base_offset: b.base_offset,
            last_offset: b.last_offset,
            max_timestamp: view.max_timestamp(),
            appended_at: now,
            delete_horizon: None,
            bytes: b.bytes,
        });
    }
    // A log left without batches (all deleted or compacted away) keeps the end the
    // document last saw, so its offsets are not handed out again.
    let end = batches
        .last()
        .map_or(p.log_end_offset, |b| b.last_offset + 1)
        .max(start);
    // Starts never go back as epochs go up; an epoch that began past the end began at it.
    let mut floor = 0;
    p.epochs = epochs
        .into_iter()
        .map(|(epoch, first)| {
            floor = first.min(end).max(floor);
            (epoch, floor)
        })
        .collect();
    p.log_start_offset = start;
    p.log_end_offset = end;
    p.high_watermark = end;
    p.cleaned_to = p.cleaned_to.clamp(0, end);
    p.producers = rebuild_producers(&batches, start, end);
    p.batches = batches;
}

/// Idempotent producers and transactions, replayed from the log: each batch's producer
/// fields as its append recorded them, each marker as it closed its transaction.
fn rebuild_producers(batches: &[SnapshotBatch], start: i64, high_watermark: i64) -> ProducerStates {
    let mut producers = ProducerStates::default();
    for b in batches {
        let Ok(view) = BatchView::parse(&b.bytes) else {
            continue;
        };
        if !view.is_control() {
            let batch = ProducerBatch::of(&view);
            producers.record(&batch, b.base_offset, b.last_offset, b.max_timestamp);
            continue;
        }
        let Some(marker) = view.records().ok().and_then(|r| r.into_iter().next()) else {
            continue;
        };
        let Some(kind) = marker.key.as_deref().and_then(control_type) else {
            continue;
        };
        let coordinator_epoch = marker
            .value
            .as_deref()
            .and_then(|v| v.get(2..6))
            .and_then(|v| <[u8; 4]>::try_from(v).ok())
            .map_or(-1, i32::from_be_bytes);
        producers.record_marker(
            view.producer_id(),
            view.producer_epoch(),
            coordinator_epoch,
            b.base_offset,
            kind == ControlType::Abort,
            b.max_timestamp,
        );
    }
    producers.replicated_to(high_watermark);
    producers.log_start_moved(start);
    producers
}
