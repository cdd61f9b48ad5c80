//! Durable mode: a cluster's data in a directory (`--data-dir`,
//! `ClusterBuilder::data_dir`), so that it survives a restart of the process.
//!
//! broker-sim serves from memory either way; a data directory is a mirror the state
//! writes through and reads once at start. It holds:
//!
//! ```text
//! DIR/.lock                          held (flock) while a process serves DIR
//! DIR/metadata.json                  the snapshot document without batches or groups (below)
//! DIR/groups.json                    the groups' committed offsets
//! DIR/logs/<topic>-<partition>/     made by the partition's first write
//!     <base offset, 20 digits>.log   segments: stored batches back to back
//!     log-start-offset               after DeleteRecords or retention moved it
//! DIR/logs/~delete-<n>/              a deleted partition's, until the flusher deletes it
//!                                    (`flush.rs`)
//! ```
//!
//! Logs (`segments.rs`) are the partition leader's log: broker-sim keeps one log per
//! partition, a follower's copy being a prefix of it, so what acks=all acknowledged is in
//! it. The rest of the state — topics and their ids, configs, committed offsets, the
//! transaction coordinator's transactional ids, producer ids handed out, users, ACLs — is
//! the snapshot document of `crate::state::snapshot` with its batches and producer state
//! left out, rewritten whole (temporary file, rename) after each request that may have
//! changed it, in two documents: the groups' (committed offsets), which a group request
//! rewrites under the groups lock alone, and the rest, written with it by every other
//! change ([`Document`]). A directory written before the split keeps its groups in the
//! metadata document, which recovery reads when there is no groups' document. Idempotent producers' sequences and open or aborted transactions are
//! rebuilt from the batches' producer fields and markers at start, as Kafka does.
//!
//! The layer sits below `state`: it knows files and batch bytes, not topics. The state
//! calls it (`crate::state::durable`) and the pipeline waits for its flusher (`flush.rs`).

mod flush;
mod segments;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use segments::{FlushPolicy, PartitionFiles, Scanned, ScannedBatch};

const METADATA_FILE: &str = "metadata.json";
const GROUPS_FILE: &str = "groups.json";

/// The two documents beside the logs: the metadata document (the snapshot without batches
/// or groups) and the groups' (committed offsets), which group requests rewrite under the
/// groups lock alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Metadata,
    Groups,
}

impl Document {
    fn file(self) -> &'static str {
        match self {
            Document::Metadata => METADATA_FILE,
            Document::Groups => GROUPS_FILE,
        }
    }
}

/// One document's order: each capture is numbered when taken (under the lock of what it
/// captures), and a document older than the last one written is not written.
#[derive(Debug, Default)]
struct Written {
    captured: AtomicU64,
    last: Mutex<(u64, Vec<u8>)>,
}
const LOGS_DIR: &str = "logs";

/// A cluster's data directory, shared by the state (which writes through it) and the
/// pipeline (which waits for its fsyncs). Cloning shares it.
#[derive(Debug, Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    /// Held for the process's life: a second process on the same directory is refused.
    _lock: File,
    flusher: flush::Flusher,
    /// The metadata document's order and the groups'.
    documents: [Written; 2],
    /// Whether documents are fsynced (the cluster-wide `flush.messages` is 1), as the
    /// last metadata capture read it: the groups' capture has no state lock to read it.
    sync_documents: std::sync::atomic::AtomicBool,
}

impl Storage {
    /// Opens (creating it if need be) the data directory `root`, refusing one another
    /// process serves.
    pub fn open(root: impl AsRef<Path>) -> std::io::Result<Storage> {
        let root = root.as_ref().to_path_buf();
        fs::create_dir_all(root.join(LOGS_DIR))?;
        let lock = File::create(root.join(".lock"))?;
        lock.try_lock().map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!(
                    "data directory {} is in use by another broker-sim ({e})",
                    root.display()
                ),
            )
        })?;
        Ok(Storage {
            inner: Arc::new(Inner {
                root,
                _lock: lock,
                flusher: flush::Flusher::start()?,
                documents: Default::default(),
                sync_documents: Default::default(),
            }),
        })
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    fn queue(&self) -> &Arc<flush::Queue> {
        &self.inner.flusher.queue
    }

    /// The directory of `topic`-`partition` (Kafka's `<topic>-<partition>`: topic names
    /// are `[a-zA-Z0-9._-]`, so the name is a path component as it is).
    fn partition_dir(&self, topic: &str, partition: i32) -> PathBuf {
        self.inner
            .root
            .join(LOGS_DIR)
            .join(format!("{topic}-{partition}"))
    }

    /// New, empty files for `topic`-`partition`, replacing any left over.
    pub fn create_partition(&self, topic: &str, partition: i32) -> std::io::Result<PartitionFiles> {
        let dir = self.partition_dir(topic, partition);
        self.queue().take_back(&dir);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        Ok(PartitionFiles::create(dir, self.queue().clone()))
    }

    /// Reads `topic`-`partition` back (see [`PartitionFiles`]); empty if it has no
    /// directory.
    pub fn scan_partition(&self, topic: &str, partition: i32) -> std::io::Result<Scanned> {
        let dir = self.partition_dir(topic, partition);
        PartitionFiles::scan(dir, self.queue().clone())
    }

    /// Deletes `topic`-`partition`'s files (the topic was deleted), on the flusher's
    /// thread (`flush.rs`): the caller holds the state lock.
    pub fn remove_partition(&self, topic: &str, partition: i32) {
        self.queue().remove(self.partition_dir(topic, partition));
        self.queue()
            .request(flush::Item::Dir(self.inner.root.join(LOGS_DIR)), false);
    }

    /// The partition directories present, as `<topic>-<partition>` names.
    pub fn partition_dirs(&self) -> std::io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(self.inner.root.join(LOGS_DIR))? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Deletes a partition directory by name (one no topic owns).
    pub fn remove_dir(&self, name: &str) -> std::io::Result<()> {
        fs::remove_dir_all(self.inner.root.join(LOGS_DIR).join(name))
    }

    /// The metadata document, if one was written.
    pub fn read_metadata(&self) -> std::io::Result<Option<String>> {
        self.read(Document::Metadata)
    }

    /// `document`'s text, if one was written.
    pub fn read(&self, document: Document) -> std::io::Result<Option<String>> {
        match fs::read_to_string(self.inner.root.join(document.file())) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes `document` (one left beside no metadata document: a cluster that never
    /// wrote its first one starts afresh).
    pub fn remove(&self, document: Document) -> std::io::Result<()> {
        match fs::remove_file(self.inner.root.join(document.file())) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn written(&self, document: Document) -> &Written {
        &self.inner.documents[document as usize]
    }

    /// A number for `document` captured now (call it under the lock of what it holds).
    pub fn next_capture(&self, document: Document) -> u64 {
        self.written(document)
            .captured
            .fetch_add(1, Ordering::AcqRel)
            + 1
    }

    /// Whether documents are fsynced; the metadata capture sets it.
    pub fn sync_documents(&self) -> bool {
        self.inner.sync_documents.load(Ordering::Acquire)
    }

    pub fn set_sync_documents(&self, sync: bool) {
        self.inner.sync_documents.store(sync, Ordering::Release);
    }

    /// Writes `document`'s capture number `capture`, unless a later one was written or it
    /// is unchanged; with `sync`, fsynced (file and directory) before it returns.
    pub fn write_document(
        &self,
        document: Document,
        capture: u64,
        text: Vec<u8>,
        sync: bool,
    ) -> std::io::Result<()> {
        let mut last = self
            .written(document)
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if capture <= last.0 {
            return Ok(());
        }
        if last.1 != text {
            segments::write_atomically(&self.inner.root.join(document.file()), &text, sync)?;
            last.1 = text;
        }
        last.0 = capture;
        Ok(())
    }

    /// The flusher count an answer sent now waits for (see `flush.rs`).
    pub fn sync_target(&self) -> u64 {
        self.queue().target()
    }

    /// Resolves once the flusher has fsynced every request up to `target`.
    pub async fn synced(&self, target: u64) {
        self.queue().wait(target).await;
    }

    /// Whether a write or fsync failed since start: what was acknowledged since may not
    /// be on disk, so nothing more is.
    pub fn failed(&self) -> bool {
        self.queue().failed.load(Ordering::Acquire)
    }

    /// Notes a failed write (the state could not mirror a change).
    pub fn fail(&self, what: &str, error: &std::io::Error) {
        tracing::error!(%error, "durable storage: {what} failed; produce answers now close the connection");
        self.queue().failed.store(true, Ordering::Release);
    }
}
