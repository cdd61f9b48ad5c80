//! The cluster's flusher: one thread that fsyncs what the segment files hand it, so no
//! request handler and no tokio worker ever waits in `fsync` while holding anything.
//!
//! A segment that must be on disk before an acknowledgement (its `flush.messages` or
//! `flush.ms` came due) is queued with a *request*: the queue counts them, and an answer
//! waits until the flusher has published a count at least as high as the one it saw after
//! its append ([`Queue::target`], [`Queue::wait`]). The flusher takes everything queued
//! and the count together, fsyncs each file and directory once, and publishes the count:
//! the appends of many connections share one fsync (group commit). Files queued without a
//! request (a closed segment, a new directory entry) ride along with the next pass.
//!
//! The flusher also deletes the directories of deleted partitions ([`Queue::remove`]):
//! a topic of 10,000 partitions took a second to delete in place, under the state lock,
//! while every other client's request waited. As Kafka does, the directory is first
//! renamed aside (`~delete-<n>`), then deleted after the pass's answers are released; a
//! directory left by a killed process is deleted at the next start, as one no partition
//! owns.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// Something to fsync.
#[derive(Debug)]
pub enum Item {
    File(Arc<File>),
    /// A directory whose entries changed (a file created, renamed or deleted).
    Dir(PathBuf),
    /// A deleted partition's directory to delete, unless its removal was taken back
    /// ([`Queue::remove`]).
    Remove(PathBuf),
}

#[derive(Debug, Default)]
struct Pending {
    items: Vec<Item>,
    requested: u64,
    stop: bool,
}

/// What the segment files and the flusher share.
#[derive(Debug)]
pub struct Queue {
    pending: Mutex<Pending>,
    wake: Condvar,
    synced: tokio::sync::watch::Sender<u64>,
    /// Set when a write or an fsync failed: the data may not be on disk.
    pub(super) failed: AtomicBool,
    /// Directories queued for removal and not yet renamed aside; a partition created
    /// under the same name takes its directory back from here ([`Queue::take_back`]).
    removing: Mutex<BTreeSet<PathBuf>>,
    /// Numbers the renamed-aside directories.
    set_aside: AtomicU64,
}

impl Queue {
    pub(super) fn new() -> Arc<Queue> {
        Arc::new(Queue {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            synced: tokio::sync::watch::Sender::new(0),
            failed: AtomicBool::new(false),
            removing: Mutex::new(BTreeSet::new()),
            set_aside: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `item`; with `request`, an acknowledgement will wait for it.
    pub fn request(&self, item: Item, request: bool) {
        let mut pending = self.lock();
        pending.items.push(item);
        if request {
            pending.requested += 1;
        }
        drop(pending);
        self.wake.notify_one();
    }

    /// Queues `dir`, a deleted partition's directory, for deletion by the flusher: the
    /// caller (holding the state lock) spends one set insertion, not the file system's
    /// time.
    pub fn remove(&self, dir: PathBuf) {
        self.removing().insert(dir.clone());
        self.request(Item::Remove(dir), false);
    }

    /// Takes back the queued removal of `dir`, if it has not begun: a partition is being
    /// created under that name, and its caller deletes what is there itself. Once this
    /// returns, the flusher leaves the path alone.
    pub fn take_back(&self, dir: &Path) {
        self.removing().remove(dir);
    }

    fn removing(&self) -> std::sync::MutexGuard<'_, BTreeSet<PathBuf>> {
        self.removing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Renames `dir` aside if its removal is still queued, while `removing` is held (so a
    /// partition created under the name meanwhile is never touched); the name it now has,
    /// for [`delete_aside`] after the pass's answers are released. The name is short and
    /// holds a `~`, which no topic name does, so it fits any file system's limit and is
    /// never a partition's. If the rename fails, the directory is left where it is: a
    /// partition created under its name deletes it first, and a start deletes it as one no
    /// partition owns.
    fn set_aside(&self, dir: &Path) -> Option<PathBuf> {
        let mut removing = self.removing();
        if !removing.remove(dir) {
            return None;
        }
        let n = self.set_aside.fetch_add(1, Ordering::Relaxed);
        let aside = dir.with_file_name(format!("~delete-{n}"));
        match std::fs::rename(dir, &aside) {
            Ok(()) => Some(aside),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot rename a deleted partition's files aside: left for the next start");
                None
            }
        }
    }

    /// The count an answer sent now must wait for.
    pub(super) fn target(&self) -> u64 {
        self.lock().requested
    }

    /// Resolves once every request up to `target` is fsynced.
    pub(super) async fn wait(&self, target: u64) {
        let mut synced = self.synced.subscribe();
        // The sender lives as long as the queue, which the caller holds.
        let _ = synced.wait_for(|s| *s >= target).await;
    }

    /// The flusher's loop: until stopped, and then once more for what is left.
    fn run(&self) {
        loop {
            let (items, requested, stop) = {
                let mut pending = self.lock();
                while pending.items.is_empty() && !pending.stop {
                    pending = self.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
                }
                (
                    std::mem::take(&mut pending.items),
                    pending.requested,
                    pending.stop,
                )
            };
            let aside = self.sync(items);
            self.synced.send_replace(requested);
            // After the answers waiting on this pass are released: a large topic's files
            // take a while to delete.
            aside.iter().for_each(|d| delete_aside(d));
            if stop {
                return;
            }
        }
    }

    /// Fsyncs `items` and renames aside the directories queued for removal; returns those,
    /// to delete.
    fn sync(&self, items: Vec<Item>) -> Vec<PathBuf> {
        let mut files: Vec<Arc<File>> = Vec::new();
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut aside = Vec::new();
        for item in items {
            match item {
                Item::File(f) if !files.iter().any(|g| Arc::ptr_eq(g, &f)) => files.push(f),
                Item::Dir(d) if !dirs.contains(&d) => dirs.push(d),
                // Before the directories' fsyncs, which then cover the rename.
                Item::Remove(d) => aside.extend(self.set_aside(&d)),
                _ => {}
            }
        }
        for f in files {
            if let Err(e) = f.sync_data() {
                tracing::error!(error = %e, "fsync of a segment failed");
                self.failed.store(true, Ordering::Release);
            }
        }
        for d in dirs {
            // A directory deleted since (a deleted topic) has nothing left to sync.
            if let Ok(dir) = File::open(&d)
                && let Err(e) = dir.sync_all()
            {
                tracing::error!(dir = %d.display(), error = %e, "fsync of a directory failed");
                self.failed.store(true, Ordering::Release);
            }
        }
        aside
    }
}

/// Deletes a directory [`Queue::set_aside`] renamed.
fn delete_aside(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::error!(dir = %dir.display(), error = %e, "cannot delete a deleted partition's files");
    }
}

/// The flusher thread; stopping it (on drop) fsyncs what is still queued.
#[derive(Debug)]
pub(super) struct Flusher {
    pub(super) queue: Arc<Queue>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    pub(super) fn start() -> std::io::Result<Flusher> {
        let queue = Queue::new();
        let q = queue.clone();
        let thread = std::thread::Builder::new()
            .name("broker-sim-flush".into())
            .spawn(move || q.run())?;
        Ok(Flusher {
            queue,
            thread: Some(thread),
        })
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.queue.lock().stop = true;
        self.queue.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
