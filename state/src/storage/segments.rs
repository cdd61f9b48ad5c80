//! One partition's log on disk: segment files of stored batches, and the recovery scan
//! that reads them back.
//!
//! A segment is `<base offset, 20 digits>.log` holding the log's stored batches (the bytes
//! producers sent, base offset and leader epoch patched) back to back, as Kafka lays them
//! out. A new segment starts when the in-memory log rolls its active segment
//! (`segment.bytes`, `segment.ms`), so retention can drop whole files. There is no offset
//! index file: broker-sim serves every read from memory and reads a segment from end to
//! end only at start, so the positions truncation needs are kept in memory.
//!
//! Every change the log makes is mirrored here under the state lock, as a `write` to the
//! page cache (an append), a `set_len` (truncation), a file deletion (retention,
//! DeleteRecords) or a rewrite (compaction): a process killed after the log changed finds
//! the change on disk. `fsync` is never called here; files that need one are handed to the
//! cluster's flusher (`flush.rs`), whose work the acknowledgement waits for.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use broker_sim_protocol::batch::BatchView;
use bytes::Bytes;

use super::flush::{Item, Queue};

/// The file naming the log start offset, when DeleteRecords or retention moved it past the
/// first batch still in the segments.
const LOG_START_FILE: &str = "log-start-offset";

/// When a partition's appends are fsynced: Kafka's `flush.messages` and `flush.ms`
/// (`None`: never, Kafka's default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushPolicy {
    pub messages: Option<u64>,
    pub ms: Option<i64>,
}

impl FlushPolicy {
    /// The policy of topic configs `flush.messages` and `flush.ms` (Kafka's default,
    /// `Long.MAX_VALUE`, means never).
    pub fn of(messages: Option<i64>, ms: Option<i64>) -> Self {
        FlushPolicy {
            messages: messages.filter(|m| *m < i64::MAX).map(|m| m.max(1) as u64),
            ms: ms.filter(|m| *m < i64::MAX).map(|m| m.max(0)),
        }
    }
}

#[derive(Debug)]
struct Segment {
    base: i64,
    file: Arc<File>,
    path: PathBuf,
    len: u64,
    /// (base offset, last offset, position) of each batch, in offset order.
    batches: Vec<(i64, i64, u64)>,
}

/// A partition's segment files, as the in-memory log holds them.
#[derive(Debug)]
pub struct PartitionFiles {
    dir: PathBuf,
    segments: Vec<Segment>,
    queue: Arc<Queue>,
    pub(super) policy: FlushPolicy,
    unflushed: u64,
    last_flush_ms: i64,
    /// Whether `dir` exists: it is made by the first write, not when the partition is
    /// created, so a CreateTopics of 10,000 partitions makes no directory under the state
    /// lock (it took 17 µs a partition); recovery reads a partition without one as empty.
    made: bool,
}

/// A segment to write: its base offset and its batches (base, last offset, bytes).
type SegmentContent<'a> = (i64, Vec<(i64, i64, &'a Bytes)>);

/// A batch the recovery scan kept, with its header's offsets.
#[derive(Debug, Clone)]
pub struct ScannedBatch {
    pub base_offset: i64,
    pub last_offset: i64,
    pub bytes: Bytes,
}

/// What the recovery scan found in a partition's directory.
#[derive(Debug)]
pub struct Scanned {
    pub batches: Vec<ScannedBatch>,
    /// The log start offset DeleteRecords or retention left, if they moved it.
    pub log_start: Option<i64>,
    pub files: PartitionFiles,
}

fn segment_path(dir: &Path, base: i64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl PartitionFiles {
    /// A partition without files yet, nor a directory until its first write
    /// ([`PartitionFiles::make_dir`]).
    pub(super) fn create(dir: PathBuf, queue: Arc<Queue>) -> Self {
        PartitionFiles {
            dir,
            segments: Vec::new(),
            queue,
            policy: FlushPolicy::default(),
            unflushed: 0,
            last_flush_ms: 0,
            made: false,
        }
    }

    /// Makes the directory before the first file goes in it (and, like every new
    /// directory entry, hands its parent to the flusher, ahead of the file it will hold).
    fn make_dir(&mut self) -> std::io::Result<()> {
        if !self.made {
            fs::create_dir_all(&self.dir)?;
            if let Some(parent) = self.dir.parent() {
                self.queue.request(Item::Dir(parent.to_path_buf()), false);
            }
            self.made = true;
        }
        Ok(())
    }

    /// The base offset of the last segment, where appends go.
    pub fn active_base(&self) -> Option<i64> {
        self.segments.last().map(|s| s.base)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Logs a failed change and marks the storage failed (see `Storage::failed`).
    pub fn check(&self, what: &str, result: std::io::Result<()>) {
        if let Err(error) = result {
            tracing::error!(dir = %self.dir.display(), %error, "durable storage: {what} failed; produce answers now close the connection");
            self.queue
                .failed
                .store(true, std::sync::atomic::Ordering::Release);
        }
    }

    pub fn set_policy(&mut self, policy: FlushPolicy) {
        self.policy = policy;
    }

    /// Appends one stored batch (`bytes`, offsets `base..=last`) to the segment starting
    /// at `segment_base`, the in-memory log's active segment: a new file when the log
    /// rolled. `now` is the cluster time, for `flush.ms`.
    pub fn append(
        &mut self,
        segment_base: i64,
        (base, last): (i64, i64),
        bytes: &[u8],
        now: i64,
    ) -> std::io::Result<()> {
        if self.segments.last().is_none_or(|s| segment_base > s.base) {
            self.roll(segment_base.min(base))?;
        }
        let Some(segment) = self.segments.last_mut() else {
            return Err(std::io::Error::other("no active segment"));
        };
        (&*segment.file).write_all(bytes)?;
        segment.batches.push((base, last, segment.len));
        segment.len += bytes.len() as u64;
        self.unflushed += (last - base + 1) as u64;
        let by_count = self.policy.messages.is_some_and(|m| self.unflushed >= m);
        let by_age = self
            .policy
            .ms
            .is_some_and(|ms| now.saturating_sub(self.last_flush_ms) >= ms);
        if by_count || by_age {
            self.queue.request(Item::File(segment.file.clone()), true);
            self.unflushed = 0;
            self.last_flush_ms = now;
        }
        Ok(())
    }

    /// Starts a new segment at `base`. The one it closes is handed to the flusher, as
    /// Kafka flushes a segment when it rolls.
    fn roll(&mut self, base: i64) -> std::io::Result<()> {
        if let Some(old) = self.segments.last() {
            self.queue.request(Item::File(old.file.clone()), false);
        }
        self.make_dir()?;
        let path = segment_path(&self.dir, base);
        let file = open_append(&path)?;
        file.set_len(0)?;
        self.queue.request(Item::Dir(self.dir.clone()), false);
        self.segments.push(Segment {
            base,
            file: Arc::new(file),
            path,
            len: 0,
            batches: Vec::new(),
        });
        Ok(())
    }

    /// Drops every batch from `offset` on (the log truncated there).
    pub fn truncate_to(&mut self, offset: i64) -> std::io::Result<()> {
        while self.segments.last().is_some_and(|s| s.base >= offset) {
            if let Some(s) = self.segments.pop() {
                fs::remove_file(&s.path)?;
            }
        }
        if let Some(s) = self.segments.last_mut() {
            let keep = s.batches.partition_point(|b| b.0 < offset);
            if keep < s.batches.len() {
                let at = s.batches[keep].2;
                s.batches.truncate(keep);
                s.file.set_len(at)?;
                s.len = at;
            }
            self.queue.request(Item::File(s.file.clone()), false);
        }
        self.queue.request(Item::Dir(self.dir.clone()), false);
        Ok(())
    }

    /// The log start moved to `offset` (DeleteRecords, retention): segments wholly below
    /// it are deleted, and the new start is written beside them.
    pub fn delete_before(&mut self, offset: i64) -> std::io::Result<()> {
        while self.segments.len() > 1
            && self.segments[0].batches.last().is_none_or(|b| b.1 < offset)
        {
            let s = self.segments.remove(0);
            fs::remove_file(&s.path)?;
        }
        self.make_dir()?;
        write_atomically(
            &self.dir.join(LOG_START_FILE),
            offset.to_string().as_bytes(),
            false,
        )?;
        self.queue.request(Item::Dir(self.dir.clone()), false);
        Ok(())
    }

    /// Replaces the segments with `batches` (after compaction): the ones below
    /// `active_base` in one segment, the rest in the active one. New files are written
    /// beside the old ones and renamed over them, so a crash leaves either the old or
    /// the new content of each file, and the recovery scan reads any mix of them in
    /// offset order.
    pub fn rewrite<'a>(
        &mut self,
        batches: impl Iterator<Item = (i64, i64, &'a Bytes)>,
        active_base: i64,
    ) -> std::io::Result<()> {
        let mut groups: Vec<SegmentContent<'a>> = Vec::new();
        for (base, last, bytes) in batches {
            let active = base >= active_base;
            match groups.last_mut() {
                Some((gbase, g)) if (*gbase >= active_base) == active => {
                    g.push((base, last, bytes))
                }
                _ => groups.push((
                    if active { active_base.min(base) } else { base },
                    vec![(base, last, bytes)],
                )),
            }
        }
        self.make_dir()?;
        let mut written = Vec::with_capacity(groups.len());
        for (base, group) in &groups {
            let path = segment_path(&self.dir, *base);
            let cleaned = path.with_extension("log.cleaned");
            let mut file = File::create(&cleaned)?;
            let mut positions = Vec::with_capacity(group.len());
            let mut len = 0u64;
            for (b, l, bytes) in group {
                file.write_all(bytes)?;
                positions.push((*b, *l, len));
                len += bytes.len() as u64;
            }
            written.push((cleaned, path, *base, len, positions));
        }
        let mut segments = Vec::with_capacity(written.len());
        for (cleaned, path, base, len, batches) in written {
            fs::rename(&cleaned, &path)?;
            let file = Arc::new(open_append(&path)?);
            self.queue.request(Item::File(file.clone()), false);
            segments.push(Segment {
                base,
                file,
                path,
                len,
                batches,
            });
        }
        for old in &self.segments {
            if !segments.iter().any(|s| s.path == old.path) {
                fs::remove_file(&old.path)?;
            }
        }
        self.segments = segments;
        self.queue.request(Item::Dir(self.dir.clone()), false);
        Ok(())
    }

    /// Hands every segment to the flusher (a clean stop).
    pub fn flush_all(&self) {
        for s in &self.segments {
            self.queue.request(Item::File(s.file.clone()), true);
        }
    }

    /// Reads a partition's directory back: every segment in base-offset order, each batch
    /// checked (framing, CRC, offsets ascending). The first bad batch and everything after
    /// it is cut, with a warning saying what; a batch a rewrite left twice (its offsets
    /// already read) is skipped.
    pub(super) fn scan(dir: PathBuf, queue: Arc<Queue>) -> std::io::Result<Scanned> {
        let entries = match fs::read_dir(&dir) {
            // Never written (see `made`): an empty log.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Scanned {
                    batches: Vec::new(),
                    log_start: None,
                    files: PartitionFiles::create(dir, queue),
                });
            }
            entries => entries?,
        };
        let mut bases = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.ends_with(".cleaned") || name.ends_with(".tmp") {
                // An unfinished rewrite or checkpoint: the files it would replace are whole.
                fs::remove_file(&path)?;
            } else if let Some(base) = name.strip_suffix(".log").and_then(|b| b.parse().ok()) {
                bases.push((base, path));
            }
        }
        bases.sort();
        let log_start = fs::read_to_string(dir.join(LOG_START_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok());
        let mut files = PartitionFiles::create(dir, queue);
        files.made = true;
        let mut batches = Vec::new();
        let mut end = i64::MIN;
        let mut cut = false;
        for (base, path) in bases {
            if cut {
                tracing::warn!(segment = %path.display(), "recovery deleted a segment after a corrupt one");
                fs::remove_file(&path)?;
                continue;
            }
            let data = Bytes::from(fs::read(&path)?);
            let mut segment = Segment {
                base,
                file: Arc::new(open_append(&path)?),
                path,
                len: 0,
                batches: Vec::new(),
            };
            let mut pos = 0usize;
            while pos < data.len() {
                let checked = check_batch(&data[pos..], end);
                let (view_len, base_offset, last_offset) = match checked {
                    Ok(found) => found,
                    Err(why) => {
                        tracing::warn!(
                            segment = %segment.path.display(),
                            position = pos,
                            bytes_cut = data.len() - pos,
                            reason = %why,
                            "recovery cut a torn or corrupt log tail"
                        );
                        segment.file.set_len(pos as u64)?;
                        cut = true;
                        break;
                    }
                };
                if last_offset >= end {
                    segment.batches.push((base_offset, last_offset, pos as u64));
                    batches.push(ScannedBatch {
                        base_offset,
                        last_offset,
                        bytes: data.slice(pos..pos + view_len),
                    });
                    end = last_offset + 1;
                }
                pos += view_len;
            }
            segment.len = pos as u64;
            files.segments.push(segment);
        }
        Ok(Scanned {
            batches,
            log_start,
            files,
        })
    }
}

/// The length and offsets of the batch at the start of `buf`, if it is whole, intact and
/// not before `end` unless wholly before it (a duplicate a rewrite left, skipped).
fn check_batch(buf: &[u8], end: i64) -> Result<(usize, i64, i64), String> {
    let view = BatchView::parse(buf).map_err(|e| e.to_string())?;
    view.verify_crc().map_err(|e| e.to_string())?;
    let (base, last) = (view.base_offset(), view.last_offset());
    if base < 0 || last < base {
        return Err(format!("batch offsets {base}..={last} are not valid"));
    }
    if base < end && last >= end {
        return Err(format!(
            "batch {base}..={last} overlaps the offsets before {end}"
        ));
    }
    Ok((view.total_len(), base, last))
}

/// Writes `bytes` to `path` through a temporary file renamed over it, so a reader finds
/// the old content or the new one, never a part. With `sync`, the file is fsynced before
/// the rename and the directory after it, so the new content also survives a machine
/// crash.
pub(super) fn write_atomically(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    if sync {
        file.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if sync && let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}
