//! `--state-file`: the registry's snapshot (the core's format) and the emulator's payloads in
//! one JSON file, written atomically: a temporary sibling `.{name}.{pid}.tmp` (a name that can
//! never be the state file's own), fsync, rename over the file, fsync of the directory.
//!
//! Every error names the file and the cause. A write that fails poisons the [`Saver`]: it
//! refuses every later write until the state in memory has been rolled back to the last state
//! written ([`Saver::last_written`], [`restore_into`]), so a change whose request got an error
//! answer is never written by a later save.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use iot_jobs_core::Policy;
use iot_jobs_core::registry::{Registry, Snapshot};
use serde::de::IgnoredAny;
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

/// The sizes of a saved registry, to compare with the caps before restoring it.
#[derive(Deserialize)]
struct Counted {
    things: Vec<IgnoredAny>,
    jobs: Vec<CountedJob>,
}

#[derive(Deserialize)]
struct CountedJob {
    pairs: Vec<IgnoredAny>,
    executions: Vec<CountedExecution>,
}

#[derive(Deserialize)]
struct CountedExecution {
    #[serde(rename = "statusDetails")]
    status_details: Vec<IgnoredAny>,
}

/// The whole state as the bytes of a state file.
pub fn encode(st: &State) -> Result<Vec<u8>, String> {
    let saved =
        Saved { format: FORMAT, clock: st.clock.saved(), meta: &st.meta, registry: st.registry.snapshot() };
    serde_json::to_vec(&saved).map_err(|e| format!("cannot encode the state: {e}"))
}

/// The temporary file a save writes before renaming it over `path`: a hidden sibling in the
/// same directory (so the rename is atomic) whose name differs from `path`'s in every case
/// (it starts with a dot and ends with `.{pid}.tmp`, which `path`'s own name cannot both do
/// and equal it).
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

fn directory(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
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
        Err(e) => return Err(format!("cannot read the state file {}: {e}", path.display())),
    };
    let mut st = State::new(caps, Clock::new(mode, None), arns, deletion_delay);
    decode_into(&bytes, &mut st, mode)
        .map_err(|e| format!("cannot load the state file {}: {e}", path.display()))?;
    Ok(Some(st))
}

/// Replaces the registry, the payloads and the manual clock's time of `st` with those of a
/// state file's bytes (the event counters and anything else stay).
pub fn restore_into(bytes: &[u8], st: &mut State) -> Result<(), String> {
    let mode = if matches!(st.clock, Clock::System) { ClockMode::System } else { ClockMode::Manual };
    decode_into(bytes, st, mode)
}

fn decode_into(bytes: &[u8], st: &mut State, mode: ClockMode) -> Result<(), String> {
    let loaded: Loaded =
        serde_json::from_slice(bytes).map_err(|e| format!("it is not a state file of this emulator: {e}"))?;
    if loaded.format != FORMAT {
        return Err(format!(
            "it is not a state file of this emulator: format {} (expected {FORMAT})",
            loaded.format
        ));
    }
    let counted: Counted = serde_json::from_str(loaded.registry.get())
        .map_err(|e| format!("it is not a state file of this emulator: {e}"))?;
    check_caps(&counted, st.caps)?;
    let mut de = serde_json::Deserializer::from_str(loaded.registry.get());
    let mut registry = Registry::restore(st.caps.storage(), Policy::DEFAULT, &mut de)
        .map_err(|e| format!("it is not a state file of this emulator: {e}"))?;
    registry.set_deletion_delay(st.deletion_delay);
    st.registry = registry;
    st.meta = loaded.meta;
    st.clock = Clock::new(mode, loaded.clock);
    Ok(())
}

/// Refuses a saved registry larger than the caps, naming the cap, the saved count and the flag.
fn check_caps(c: &Counted, caps: Caps) -> Result<(), String> {
    let executions: usize = c.jobs.iter().map(|j| j.executions.len()).sum();
    let pairs: usize = c.jobs.iter().map(|j| j.pairs.len()).sum();
    let details: usize =
        c.jobs.iter().flat_map(|j| &j.executions).filter(|e| !e.status_details.is_empty()).count();
    let checks = [
        ("jobs", c.jobs.len(), caps.jobs, "--max-jobs"),
        ("things", c.things.len(), caps.things, "--max-things"),
        ("executions", executions, caps.executions, "--max-executions"),
        ("(job, thing) pairs", pairs, caps.executions, "--max-executions"),
        ("executions with statusDetails", details, caps.status_details, "--max-status-details"),
    ];
    for (what, saved, cap, flag) in checks {
        if saved > cap {
            return Err(format!(
                "it holds {saved} {what}, more than the cap of {cap}: start with {flag} {saved} or more"
            ));
        }
    }
    Ok(())
}

/// Writes state files in generation order, with group commit: a writer that finds a newer
/// state waiting writes that one, so one fsync covers every change made meanwhile, and a write
/// older than the last one written is skipped (the file already holds its change).
#[derive(Debug)]
pub struct Saver {
    path: PathBuf,
    /// The newest state not yet written.
    latest: Mutex<Option<(u64, Arc<Vec<u8>>)>>,
    /// What the file holds, and which writes are refused.
    file: Mutex<Written>,
}

#[derive(Debug)]
struct Written {
    /// The generation in the file.
    generation: u64,
    /// The bytes in the file (to roll back to).
    bytes: Arc<Vec<u8>>,
    /// Writes of an older generation are refused: they hold changes rolled back after a failed
    /// write. `u64::MAX` after a failure, until [`Saver::rolled_back`].
    floor: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Saver {
    /// A saver for `path`.
    pub fn new(path: PathBuf) -> Self {
        let file = Written { generation: 0, bytes: Arc::new(Vec::new()), floor: 0 };
        Saver { path, latest: Mutex::new(None), file: Mutex::new(file) }
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns once the state at `generation` (1 or more), or a newer one, is in the file.
    ///
    /// # Errors
    /// A message naming the file and the cause. After an error, every write is refused until
    /// [`Saver::rolled_back`].
    pub fn write(&self, generation: u64, bytes: Vec<u8>) -> Result<(), String> {
        let refused = || {
            format!(
                "the change was not saved to the state file {}: an earlier save failed and the \
                 state was rolled back",
                self.path.display()
            )
        };
        {
            let file = lock(&self.file);
            if file.generation >= generation {
                return Ok(());
            }
            if generation < file.floor {
                return Err(refused());
            }
        }
        {
            let mut latest = lock(&self.latest);
            if latest.as_ref().is_none_or(|(g, _)| *g < generation) {
                *latest = Some((generation, Arc::new(bytes)));
            }
        }
        let mut file = lock(&self.file);
        if file.generation >= generation {
            return Ok(());
        }
        if generation < file.floor {
            return Err(refused());
        }
        let Some((newest, bytes)) = lock(&self.latest).take() else {
            return Err(refused());
        };
        if let Err(e) = self.replace(&bytes) {
            file.floor = u64::MAX;
            return Err(e);
        }
        file.generation = newest;
        file.bytes = bytes;
        Ok(())
    }

    /// The generation and bytes of the file's state.
    pub fn last_written(&self) -> (u64, Arc<Vec<u8>>) {
        let file = lock(&self.file);
        (file.generation, Arc::clone(&file.bytes))
    }

    /// Whether a write failed and the state has not been rolled back since.
    pub fn failed(&self) -> bool {
        lock(&self.file).floor == u64::MAX
    }

    /// Refuses every write until [`Saver::rolled_back`] (a change could not be encoded, or a
    /// save did not finish).
    pub fn poison(&self) {
        lock(&self.file).floor = u64::MAX;
    }

    /// After the state was rolled back to [`Saver::last_written`] and its generation set to
    /// `generation`: writes from `generation` on are accepted again, older ones refused.
    pub fn rolled_back(&self, generation: u64) {
        lock(&self.file).floor = generation;
        lock(&self.latest).take();
    }

    /// Writes `bytes` to the temporary sibling, syncs it, renames it over the file and syncs
    /// the directory.
    fn replace(&self, bytes: &[u8]) -> Result<(), String> {
        let tmp = temp_path(&self.path);
        let fail = |what: &str, p: &Path, e: io::Error| {
            format!("cannot save the state file {}: {what} {}: {e}", self.path.display(), p.display())
        };
        let written = File::create(&tmp)
            .map_err(|e| fail("cannot create", &tmp, e))
            .and_then(|mut f| {
                f.write_all(bytes).map_err(|e| fail("cannot write", &tmp, e))?;
                f.sync_all().map_err(|e| fail("cannot sync", &tmp, e))
            })
            .and_then(|()| fs::rename(&tmp, &self.path).map_err(|e| fail("cannot rename onto it", &tmp, e)));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let dir = directory(&self.path);
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| fail("cannot sync the directory", dir, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temporary_file_is_never_the_state_file() {
        for name in ["x.tmp", "state.json", ".x.1.tmp", "tmp", ".tmp", "a.b.tmp"] {
            let p = Path::new("/d").join(name);
            let t = temp_path(&p);
            assert_ne!(t, p, "{name}");
            assert_eq!(t.parent(), p.parent(), "{name}: a sibling");
        }
        // Even a file named like this process's temporary file of another name.
        let p = Path::new("/d").join(format!(".x.{}.tmp", std::process::id()));
        assert_ne!(temp_path(&p), p);
    }
}
