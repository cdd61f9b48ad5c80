//! Durable mode: a cluster's data in a directory (`--data-dir`,
//! `ClusterBuilder::data_dir`), so that it survives a restart of the process.
//!
//! broker-sim serves from memory either way; a data directory is a mirror the state
//! writes through and reads once at start. It holds:
//!
//! ```text
//! DIR/.lock                          held (flock) while a process serves DIR
//! DIR/metadata.json                  the snapshot document without batches (below)
//! DIR/logs/<topic>-<partition>/     made by the partition's first write
//!     <base offset, 20 digits>.log   segments: stored batches back to back
//!     log-start-offset               after DeleteRecords or retention moved it
//! DIR/logs/<topic>-<partition>.<n>-delete/   a deleted partition's, until the flusher
//!                                    deletes it (`flush.rs`)
//! ```
//!
//! Logs (`segments.rs`) are the partition leader's log: broker-sim keeps one log per
//! partition, a follower's copy being a prefix of it, so what acks=all acknowledged is in
//! it. The rest of the state — topics and their ids, configs, committed offsets, the
//! transaction coordinator's transactional ids, producer ids handed out, users, ACLs — is
//! the snapshot document of `crate::state::snapshot` with its batches and producer state
//! left out, rewritten whole (temporary file, rename) after each request that may have
//! changed it. Idempotent producers' sequences and open or aborted transactions are
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
    /// Orders metadata documents: each is numbered under the state lock when captured,
    /// and a document older than the last one written is not written.
    captured: AtomicU64,
    written: Mutex<(u64, Vec<u8>)>,
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
                captured: AtomicU64::new(0),
                written: Mutex::new((0, Vec::new())),
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
        match fs::read_to_string(self.inner.root.join(METADATA_FILE)) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A number for a metadata document captured now (call it under the state lock).
    pub fn next_capture(&self) -> u64 {
        self.inner.captured.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Writes metadata document number `capture`, unless a later one was written or it
    /// is unchanged; with `sync`, fsynced (file and directory) before it returns.
    pub fn write_metadata(
        &self,
        capture: u64,
        document: Vec<u8>,
        sync: bool,
    ) -> std::io::Result<()> {
        let mut written = self.inner.written.lock().unwrap_or_else(|e| e.into_inner());
        if capture <= written.0 {
            return Ok(());
        }
        if written.1 != document {
            segments::write_atomically(&self.inner.root.join(METADATA_FILE), &document, sync)?;
            written.1 = document;
        }
        written.0 = capture;
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
