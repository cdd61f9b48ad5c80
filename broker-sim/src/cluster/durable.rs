//! Durable mode in the embedding API ([`ClusterBuilder::data_dir`](super::ClusterBuilder::data_dir)):
//! opening a data directory at start, reading back the cluster it holds, and keeping
//! everything on a clean stop. What is kept, and how, is in `crate::storage`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::shared::Shared;
use crate::state::State;
use crate::state::durable::{Recovered, recover};
use crate::state::snapshot::Snapshot;
use crate::storage::{PartitionFiles, Storage};

/// An open data directory and the files recovery found, until the state takes them.
pub(super) struct Opened {
    storage: Storage,
    files: BTreeMap<(String, i32), PartitionFiles>,
}

/// Opens `dir`. If it holds a cluster, that cluster becomes the `snapshot` the builder
/// starts from (a snapshot given to the builder only seeds an empty directory).
pub(super) fn open(dir: &Path, snapshot: &mut Option<Snapshot>) -> std::io::Result<Opened> {
    let storage = Storage::open(dir)?;
    // Recovered batches count as appended at time 0: long before any clock's now, so
    // lagging followers have copied them all.
    let recovered = recover(&storage, 0)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let files = match recovered {
        Some(Recovered {
            snapshot: kept,
            files,
        }) => {
            if snapshot.is_some() {
                tracing::warn!(dir = %dir.display(), "the data directory holds a cluster: the snapshot given is not used");
            }
            *snapshot = Some(kept);
            files
        }
        None => BTreeMap::new(),
    };
    Ok(Opened { storage, files })
}

/// Makes the new state write through the directory, writes its first metadata document,
/// and hands the directory to the runtime.
pub(super) fn attach(
    opened: Opened,
    state: &mut State,
    now: i64,
    manual: bool,
) -> std::io::Result<Storage> {
    state.attach_storage(opened.storage.clone(), opened.files)?;
    if let Some(capture) = state.capture_metadata(now, manual) {
        capture.write()?;
    }
    Ok(opened.storage)
}

/// After the brokers stopped: the last metadata document, and every segment fsynced (the
/// flusher finishes its queue when the storage is dropped).
pub(super) fn stopped(shared: &Shared) {
    if shared.storage.get().is_none() {
        return;
    }
    let capture = {
        let state = shared.lock();
        state.flush_logs();
        state.capture_metadata(shared.clock.now_ms(), shared.clock.is_manual())
    };
    if let Some(Err(e)) = capture.map(|c| c.write()) {
        tracing::error!(error = %e, "cannot write the metadata document at stop");
    }
}
