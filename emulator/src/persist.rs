//! `--state-file`: the registry's snapshot (the core's format) and the emulator's payloads in
//! one JSON file, written atomically: a temporary sibling `.{name}.{pid}.tmp` (a name that can
//! never be the state file's own), fsync, rename over the file, fsync of the directory.
//!
//! The file is the snapshot (checkpoint) of the write-ahead journal ([`crate::journal`]); its
//! `seq` is the last journal record it holds (0, or absent, in a file written before the
//! journal existed). `GET /_emulator/state` answers this format and `POST /_emulator/state`
//! loads it. Every error names the file and the cause.

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use iot_jobs_core::Policy;
use iot_jobs_core::registry::{Registry, Snapshot};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::clock::{Clock, ClockMode, MAX_TIME};
use crate::handlers::imported::Sources;
use crate::state::{Caps, Heap, Meta, State};
use crate::wire::Arns;

/// The file format version of the emulator's wrapper: 2 keeps job templates (`meta.templates`)
/// and the template members of jobs, 3 the policy (`--policy`) its changes were made under, 4
/// the S3 objects (`meta.objects`) and, beside a job's or template's `documentSource`, the
/// document read from it; a version-1 file is read as one without templates, a version-1 or 2
/// file as one of the default policy, a version-1 to 3 file as one without objects whose
/// `documentSource` jobs and templates have no document (the emulator did not read them).
const FORMAT: u32 = 4;

/// The first format whose `documentSource` jobs and templates keep the document read from it.
const READ_SOURCES: u32 = 4;

/// The oldest format this emulator reads.
const OLDEST_FORMAT: u32 = 1;

#[derive(Serialize)]
struct Saved<'a> {
    format: u32,
    /// The last journal record the snapshot holds.
    seq: u64,
    clock: Option<u64>,
    /// Every knob, as `--policy` names it ([`crate::config::knob_values`]).
    policy: serde_json::Map<String, serde_json::Value>,
    meta: &'a Meta,
    registry: Snapshot<'a, Heap>,
}

#[derive(Deserialize)]
struct Loaded {
    format: u32,
    /// 0 in a file written before the journal.
    #[serde(default)]
    seq: u64,
    clock: Option<u64>,
    /// Absent before format 3: the default policy.
    #[serde(default)]
    policy: Option<serde_json::Map<String, serde_json::Value>>,
    meta: Meta,
    registry: Box<RawValue>,
}

/// The sizes of a saved registry, to compare with the caps before restoring it, and the times
/// it holds, to compare with a manual clock's.
#[derive(Deserialize)]
struct Counted<'a> {
    things: Vec<IgnoredAny>,
    #[serde(borrow)]
    jobs: Vec<CountedJob<'a>>,
}

#[derive(Deserialize)]
struct CountedJob<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(rename = "createdAt")]
    created_at: u64,
    #[serde(rename = "lastUpdatedAt")]
    last_updated_at: u64,
    #[serde(rename = "completedAt")]
    completed_at: Option<u64>,
    pairs: Vec<IgnoredAny>,
    #[serde(borrow)]
    executions: Vec<CountedExecution<'a>>,
}

#[derive(Deserialize)]
struct CountedExecution<'a> {
    #[serde(borrow)]
    thing: Cow<'a, str>,
    number: u64,
    #[serde(rename = "queuedAt")]
    queued_at: u64,
    #[serde(rename = "startedAt")]
    started_at: Option<u64>,
    #[serde(rename = "lastUpdatedAt")]
    last_updated_at: u64,
    #[serde(rename = "statusDetails")]
    status_details: Vec<IgnoredAny>,
}

impl Counted<'_> {
    /// The latest time a job or an execution was created, started, changed or completed at, and
    /// which time of which item it is.
    fn newest(&self) -> Option<(u64, String)> {
        let jobs = self.jobs.iter().flat_map(|j| {
            [
                ("createdAt", Some(j.created_at)),
                ("lastUpdatedAt", Some(j.last_updated_at)),
                ("completedAt", j.completed_at),
            ]
            .into_iter()
            .filter_map(move |(field, t)| Some((t?, field, j, None)))
        });
        let executions = self.jobs.iter().flat_map(|j| {
            j.executions.iter().flat_map(move |e| {
                [
                    ("queuedAt", Some(e.queued_at)),
                    ("startedAt", e.started_at),
                    ("lastUpdatedAt", Some(e.last_updated_at)),
                ]
                .into_iter()
                .filter_map(move |(field, t)| Some((t?, field, j, Some(e))))
            })
        });
        let (t, field, j, e) = jobs.chain(executions).max_by_key(|(t, ..)| *t)?;
        let what = match e {
            Some(e) => format!("the {field} of execution {} of job {} on thing {}", e.number, j.id, e.thing),
            None => format!("the {field} of job {}", j.id),
        };
        Some((t, what))
    }
}

/// The latest time a thing group or a job template was created at, and which it is.
fn newest_meta(meta: &Meta) -> Option<(u64, String)> {
    let groups = meta.groups.iter().map(|(n, g)| (g.created_at, "thing group", n));
    let templates = meta.templates.iter().map(|(n, t)| (t.created_at, "job template", n));
    let (t, kind, name) = groups.chain(templates).max_by_key(|(t, ..)| *t)?;
    Some((t, format!("the creation of {kind} {name}")))
}

/// The highest journal record number a snapshot may hold: far more changes than any emulator
/// makes, with room to count on (a `seq` past it is a hand-edited file).
const MAX_SEQ: u64 = 1 << 62;

/// The whole state as the bytes of a state file.
pub fn encode(st: &State) -> Result<Vec<u8>, String> {
    encode_parts(st.generation, st.clock.saved(), &st.meta, &st.registry)
}

fn encode_parts(
    seq: u64,
    clock: Option<u64>,
    meta: &Meta,
    registry: &Registry<Heap>,
) -> Result<Vec<u8>, String> {
    let policy = crate::config::knob_values(registry.policy());
    let saved = Saved { format: FORMAT, seq, clock, policy, meta, registry: registry.snapshot() };
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

/// The directory `path` is in.
pub fn directory(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// The flags a state file was written under that shape the outcome of the journal records
/// after it: a replay under other values would answer them otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// `--clock` (a saved time is the manual clock's).
    pub clock: ClockMode,
    /// `--deletion-delay` (the registry's snapshot keeps it).
    pub deletion_delay: u64,
    /// `--policy` (the file's `policy` member).
    pub policy: Policy,
}

/// Loads a state file, if it exists: the state (under `mode`, `deletion_delay` and `policy`),
/// and the flags it was written under.
pub fn load(
    path: &Path,
    caps: Caps,
    mode: ClockMode,
    arns: Arns,
    deletion_delay: u64,
    policy: Policy,
) -> Result<Option<(State, Written)>, String> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read the state file {}: {e}", path.display())),
    };
    if bytes.is_empty() {
        // A save writes a whole file or leaves the old one: an empty one was made by another
        // program (touch, mktemp).
        return Err(format!(
            "cannot load the state file {}: it is empty; the emulator never writes an empty state \
             file: remove it to start with no state",
            path.display()
        ));
    }
    let mut st = State::with_policy(caps, Clock::new(mode, None), arns, deletion_delay, policy);
    let (seq, written) = decode_into(&bytes, &mut st, mode, Import::File)
        .map_err(|e| format!("cannot load the state file {}: {e}", path.display()))?;
    st.generation = seq;
    Ok(Some((st, written)))
}

/// Replaces the registry, the payloads and the manual clock's time of `st` with those of a
/// state file's bytes (the event counters, the journal position and anything else stay).
/// Nothing changes when the bytes are refused: among them a manual clock's time past
/// [`MAX_TIME`], which `POST /_emulator/clock` refuses too (a state file of an older build may
/// hold one: a start takes it as that last time).
pub fn restore_into(bytes: &[u8], st: &mut State) -> Result<(), String> {
    let mode = if matches!(st.clock, Clock::System) { ClockMode::System } else { ClockMode::Manual };
    decode_into(bytes, st, mode, Import::Admin).map(|_| ())
}

/// Where a state comes from: a start's file, or `POST /_emulator/state`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Import {
    File,
    Admin,
}

/// Returns the snapshot's `seq` and the flags it was written under.
fn decode_into(
    bytes: &[u8],
    st: &mut State,
    mode: ClockMode,
    from: Import,
) -> Result<(u64, Written), String> {
    let loaded: Loaded =
        serde_json::from_slice(bytes).map_err(|e| format!("it is not a state file of this emulator: {e}"))?;
    if !(OLDEST_FORMAT..=FORMAT).contains(&loaded.format) {
        return Err(format!(
            "it is not a state file of this emulator: format {} (expected {OLDEST_FORMAT} to {FORMAT})",
            loaded.format
        ));
    }
    let counted: Counted = serde_json::from_str(loaded.registry.get())
        .map_err(|e| format!("it is not a state file of this emulator: {e}"))?;
    check_caps(&counted, loaded.meta.groups.len(), st.caps)?;
    if loaded.seq > MAX_SEQ {
        return Err(format!(
            "its seq {} is past {MAX_SEQ}, more journal records than an emulator writes: it was edited",
            loaded.seq
        ));
    }
    if let Some(t) = loaded.clock {
        if from == Import::Admin && t > MAX_TIME {
            return Err(format!(
                "its clock {t} is past 2106-01-01T00:00:00Z ({MAX_TIME}, the last time the registry stores)"
            ));
        }
        // A manual clock never goes back: the state's changes were all made by its time.
        let newest =
            [counted.newest(), newest_meta(&loaded.meta)].into_iter().flatten().max_by_key(|(n, _)| *n);
        if let Some((newest, what)) = newest
            && mode == ClockMode::Manual
            && t < newest
        {
            return Err(format!(
                "its clock {t} is earlier than the last change it holds ({newest}, {what}): a manual clock never goes back"
            ));
        }
    }
    crate::state::check_hierarchy(&loaded.meta)
        .map_err(|e| format!("its thing groups do not form a hierarchy: {e}"))?;
    let mut written_policy = Policy::DEFAULT;
    for (knob, value) in loaded.policy.iter().flatten() {
        let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        crate::config::set_knob(&mut written_policy, &format!("{knob}={value}"))
            .map_err(|e| format!("it is not a state file of this emulator: its policy: {e}"))?;
    }
    let mut de = serde_json::Deserializer::from_str(loaded.registry.get());
    let mut registry = Registry::restore(st.caps.storage(), *st.registry.policy(), &mut de)
        .map_err(|e| format!("it is not a state file of this emulator: {e}"))?;
    let sources = if loaded.format >= READ_SOURCES { Sources::Read } else { Sources::Unread };
    crate::handlers::imported::check(&loaded.meta, &registry, &st.arns, sources)?;
    let written = Written {
        clock: if loaded.clock.is_some() { ClockMode::Manual } else { ClockMode::System },
        deletion_delay: registry.deletion_delay(),
        policy: written_policy,
    };
    registry.set_deletion_delay(st.deletion_delay);
    st.replace(registry, loaded.meta);
    st.clock = Clock::new(mode, loaded.clock);
    Ok((loaded.seq, written))
}

/// Refuses a saved state larger than the caps, naming the cap, the saved count and the flag.
fn check_caps(c: &Counted, groups: usize, caps: Caps) -> Result<(), String> {
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
        ("thing groups", groups, caps.thing_groups, "--max-thing-groups"),
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

/// The state file `path` names: the file a symbolic link leads to (so that its lock, its
/// temporary file and its journal are the target's, and a checkpoint's rename replaces the
/// target, not the link), or `path` itself.
///
/// # Errors
/// A link that leads nowhere, or a file with more than one name (a hard link): a checkpoint
/// replaces the file by a rename, which would leave its other names with an old state, and a
/// second emulator could lock another name of it.
pub fn resolve(path: &Path) -> Result<PathBuf, String> {
    let path = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path).map_err(|e| {
            format!("the state file {} is a symbolic link that cannot be followed: {e}", path.display())
        })?,
        _ => path.to_owned(),
    };
    if fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
        return Err(format!("the state file {} is not a regular file", path.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = fs::metadata(&path)
            && m.is_file()
            && m.nlink() > 1
        {
            return Err(format!(
                "the state file {} has {} names (hard links): a checkpoint replaces it by a rename, \
                 which would leave the others with an old state; give the emulator a file of one name",
                path.display(),
                m.nlink()
            ));
        }
    }
    Ok(path)
}

/// The lock file of the state file `path`: `PATH.lock`, beside it.
pub fn lock_path(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!("{name}.lock"))
}

/// Takes the exclusive lock of the state file `path` (an advisory lock on [`lock_path`], held
/// while the returned file is open), so that a second emulator cannot write the same files.
///
/// # Errors
/// Another process holds it (naming the state file and the lock), or the lock file cannot be
/// opened.
pub fn lock(path: &Path) -> Result<File, String> {
    let at = lock_path(path);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&at)
        .map_err(|e| format!("cannot open the lock file {} of the state file: {e}", at.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(format!(
            "the state file {} is in use: another emulator holds its lock {}",
            path.display(),
            at.display()
        )),
        Err(fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", at.display())),
    }
}

/// Writes `bytes` to the temporary sibling of `path`, syncs it, renames it over `path` and
/// syncs the directory: `path` holds either its old bytes or the new ones, whatever happens.
///
/// # Errors
/// A message naming `path`, the file that failed and the cause.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = temp_path(path);
    let fail = |what: &str, p: &Path, e: io::Error| {
        format!("cannot save the state file {}: {what} {}: {e}", path.display(), p.display())
    };
    let written = File::create(&tmp)
        .map_err(|e| fail("cannot create", &tmp, e))
        .and_then(|mut f| {
            f.write_all(bytes).map_err(|e| fail("cannot write", &tmp, e))?;
            f.sync_all().map_err(|e| fail("cannot sync", &tmp, e))
        })
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| fail("cannot rename onto it", &tmp, e)));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path)
}

/// Deletes the temporary siblings `.{name}.{pid}.tmp` of `path` that earlier processes left
/// when they were killed during a save (one emulator at a time writes a state file).
pub fn remove_stale_temps(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
    let Ok(entries) = fs::read_dir(directory(path)) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let stale = file
            .strip_prefix('.')
            .and_then(|r| r.strip_prefix(name.as_str()))
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|r| r.strip_suffix(".tmp"))
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if stale {
            let _ = fs::remove_file(entry.path());
            tracing::info!("deleted {}, left by a save that did not finish", entry.path().display());
        }
    }
}

/// Syncs the directory of `path` (after a file in it was created, renamed or removed).
pub fn sync_dir(path: &Path) -> Result<(), String> {
    let dir = directory(path);
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| {
        format!("cannot sync the directory {} of the state file {}: {e}", dir.display(), path.display())
    })
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
