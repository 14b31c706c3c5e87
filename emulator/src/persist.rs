//! `--state-file`: the registry's snapshot (the core's format) and the emulator's payloads in
//! one JSON file, written atomically (temporary file, fsync, rename, fsync of the directory).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use iot_jobs_core::Policy;
use iot_jobs_core::registry::{Registry, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::clock::{Clock, ClockMode};
use crate::state::{Caps, Heap, Meta, State};
use crate::wire::Arns;

/// The file format version of the emulator's wrapper.
const FORMAT: u32 = 1;

#[derive(Serialize)]
struct Saved<'a> {
    format: u32,
    clock: Option<u64>,
    meta: &'a Meta,
    registry: Snapshot<'a, Heap>,
}

#[derive(Deserialize)]
struct Loaded {
    format: u32,
    clock: Option<u64>,
    meta: Meta,
    registry: Box<RawValue>,
}

/// The whole state as the bytes of a state file.
pub fn encode(st: &State) -> Result<Vec<u8>, String> {
    let saved =
        Saved { format: FORMAT, clock: st.clock.saved(), meta: &st.meta, registry: st.registry.snapshot() };
    serde_json::to_vec(&saved).map_err(|e| format!("cannot encode the state: {e}"))
}

/// Loads a state file, if it exists.
pub fn load(
    path: &Path,
    caps: Caps,
    mode: ClockMode,
    arns: Arns,
    deletion_delay: u64,
) -> Result<Option<State>, String> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let bad =
        |e: &dyn std::fmt::Display| format!("{} is not a state file of this emulator: {e}", path.display());
    let loaded: Loaded = serde_json::from_slice(&bytes).map_err(|e| bad(&e))?;
    if loaded.format != FORMAT {
        return Err(bad(&format!("format {} (expected {FORMAT})", loaded.format)));
    }
    let mut de = serde_json::Deserializer::from_str(loaded.registry.get());
    let mut registry = Registry::restore(Heap(caps), Policy::DEFAULT, &mut de).map_err(|e| bad(&e))?;
    registry.set_deletion_delay(deletion_delay);
    let mut st = State::new(caps, Clock::new(mode, loaded.clock), arns, deletion_delay);
    st.registry = registry;
    st.meta = loaded.meta;
    Ok(Some(st))
}

/// Writes state files in generation order, with group commit: a writer that finds a newer
/// state waiting writes that one, so one fsync covers every change made meanwhile, and a write
/// older than the last one written is skipped (the file already holds its change).
#[derive(Debug)]
pub struct Saver {
    path: PathBuf,
    /// The newest state not yet written.
    latest: Mutex<Option<(u64, Vec<u8>)>>,
    /// The generation in the file.
    written: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Saver {
    /// A saver for `path`.
    pub fn new(path: PathBuf) -> Self {
        Saver { path, latest: Mutex::new(None), written: Mutex::new(0) }
    }

    /// Returns once the state at `generation` (1 or more), or a newer one, is in the file.
    pub fn write(&self, generation: u64, bytes: Vec<u8>) -> io::Result<()> {
        {
            let mut latest = lock(&self.latest);
            if latest.as_ref().is_none_or(|(g, _)| *g < generation) {
                *latest = Some((generation, bytes));
            }
        }
        let mut written = lock(&self.written);
        if *written >= generation {
            return Ok(());
        }
        let Some((newest, bytes)) = lock(&self.latest).take() else {
            return Err(io::Error::other("an earlier write that held this change failed"));
        };
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        File::open(dir)?.sync_all()?;
        *written = newest;
        Ok(())
    }
}
