//! The write-ahead journal behind `--state-file PATH`: every accepted change is appended to a
//! journal segment as one record, and the change is answered only once the record is on disk
//! (`fdatasync`); every so many records or seconds a checkpoint writes the whole state to
//! `PATH` (the snapshot), after which the segments it covers are deleted. A start loads the
//! snapshot and replays the records after it through [`apply`], the function the live requests
//! go through, with the clock's `now` of the record.
//!
//! The checkpoints are written from a replica: a second copy of the state, kept by a thread of
//! its own, to which every synced record is applied by the replay a start does. A checkpoint
//! therefore takes no lock and copies nothing while requests run; the price is a second copy of
//! the state in memory.
//!
//! # Files
//! - `PATH`: the snapshot ([`crate::persist`]'s format; `seq` is the last record it holds). A
//!   state file written before the journal existed is such a snapshot with `seq` 0.
//! - `PATH.{first:020}.wal`: a segment, holding the records from sequence number `first` on.
//!
//! # Segment format (version 1)
//! An 8-byte header `IOTJWAL` followed by the format version (`0x01`), then records, then
//! zeros: a segment grows by [`PREALLOCATE`] zero bytes at a time, ahead of its records.
//!
//! | bytes | content |
//! |---|---|
//! | 4 | `len`: payload length, little-endian (at most 1 GiB) |
//! | 4 | CRC32 (IEEE) of the 4 length bytes |
//! | 4 | CRC32 (IEEE) of the payload |
//! | `len` | payload |
//!
//! The payload is `seq` (u64 LE, one more than the previous record's), `now` (u64 LE, seconds
//! since the epoch: the time the change was applied at), the length of a JSON header (u32 LE),
//! the JSON header ([`Entry`]: the operation, and `accepted`: whether it was accepted, as
//! opposed to refused with only the due transitions it made to keep), and the operation's raw
//! input (an HTTP request's body, an MQTT publish's payload). The operation's name is [`Op`]'s serialized name: renaming
//! a variant changes the format.
//!
//! # Recovery
//! The records end where only zeros follow. A final record cut short (a write interrupted by a
//! crash: fewer bytes than its header or length says, or a CRC failure with only zeros after
//! it) is cut off the file and logged. Any other bad record (CRC mismatch, bad length, a
//! sequence number out of order, a segment torn before the last one) stops the start with an
//! error naming the file and the offset; no file is changed then. Records are replayed under
//! the clock they were made with (the snapshot's): a start with another `--clock` is refused
//! while records are to be replayed; with none, the snapshot is rewritten for the new clock.
//! A record whose operation does not come out as it did (accepted then and refused now, say
//! because a start's `--max-things` is lower than the things it made, or its `--account-id`
//! names other ARNs) stops the start with an error naming the file, the offset and the
//! operation, and nothing is changed: replaying on would lose the acknowledged changes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::clock::{Clock, ClockMode};
use crate::handlers::{self, Reply};
use crate::persist::Written;
use crate::routing::Op;
use crate::state::{Caps, State};
use crate::wire::{ApiError, Arns};
use crate::{mqtt, persist};
use iot_jobs_core::Policy;

/// A segment's first 8 bytes: the magic and the format version.
pub const MAGIC: [u8; 8] = *b"IOTJWAL\x01";

/// Bytes before a record's payload.
const RECORD_HEADER: usize = 12;

/// The longest payload a record may have (an imported state is one record).
pub const MAX_RECORD: usize = 1 << 30;

/// An operation as journalled: what the emulator did under its lock, with its raw input in the
/// record's data. Due transitions (`tick`) are part of every operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Entry {
    /// An HTTP operation (control plane, data plane or admin) with its query; data: the body.
    Http { op: Op, query: Vec<(String, String)> },
    /// An MQTT jobs request; data: the payload.
    Mqtt { topic: String },
    /// Due transitions applied by the system clock's task.
    Tick,
}

impl Entry {
    /// The operation, for messages: `CreateJob`, `MQTT $aws/things/t/jobs/start-next`, `tick`.
    pub fn describe(&self) -> String {
        match self {
            Entry::Http { op, .. } => op.name().to_owned(),
            Entry::Mqtt { topic } => format!("MQTT {topic}"),
            Entry::Tick => "tick".to_owned(),
        }
    }
}

/// What [`apply`] returns for each kind of entry.
pub enum Outcome {
    Http(Result<Reply, ApiError>),
    Mqtt(Option<mqtt::jobs::Outcome>),
    Tick,
}

impl Outcome {
    /// Whether the operation was accepted ([`Outcome::refusal`] is `None`), without rendering why.
    pub fn accepted(&self) -> bool {
        match self {
            Outcome::Http(r) => r.is_ok(),
            Outcome::Mqtt(o) => o.as_ref().is_some_and(|o| !o.refused()),
            Outcome::Tick => true,
        }
    }

    /// Why the operation was refused (its error answer), or `None` if it was accepted. A
    /// refused operation changes nothing; its record, if any, holds the due transitions it made.
    pub fn refusal(&self) -> Option<String> {
        match self {
            Outcome::Http(Ok(_)) | Outcome::Tick => None,
            Outcome::Http(Err(e)) => Some(format!("{}: {}", e.name, e.message)),
            Outcome::Mqtt(None) => Some("the topic names no jobs request".to_owned()),
            Outcome::Mqtt(Some(o)) => o.refusal(),
        }
    }
}

/// A record's JSON header: the operation and whether it was accepted (`None` in the records of
/// versions before this field: then only that the record changes the state is checked).
#[derive(Serialize)]
struct HeaderOut<'a> {
    #[serde(flatten)]
    entry: &'a Entry,
    accepted: bool,
}

#[derive(Deserialize)]
struct HeaderIn {
    #[serde(flatten)]
    entry: Entry,
    #[serde(default)]
    accepted: Option<bool>,
}

/// Applies an operation: due transitions first (so that the operation sees them), then the
/// operation. Returns its outcome and whether the state changed. Deterministic given the state
/// and the clock's time ([`State::pin`]): the live request and the replay both come here.
pub fn apply(st: &mut State, entry: &Entry, data: &[u8]) -> (Outcome, bool) {
    let ticked = st.tick();
    match entry {
        Entry::Http { op, query } => {
            let result = handlers::handle(st, op, query, data);
            let changed = ticked || result.as_ref().is_ok_and(|r| r.changed);
            (Outcome::Http(result), changed)
        }
        Entry::Mqtt { topic } => {
            let outcome = mqtt::jobs::answer(st, topic, data);
            let changed = ticked || outcome.as_ref().is_some_and(|o| o.changed);
            (Outcome::Mqtt(outcome), changed)
        }
        Entry::Tick => (Outcome::Tick, ticked),
    }
}

/// One decoded record.
#[derive(Debug)]
pub struct Record {
    pub seq: u64,
    pub now: u64,
    pub entry: Entry,
    /// Whether the operation was accepted when it was made (`None`: not recorded).
    pub accepted: Option<bool>,
    pub data: Vec<u8>,
    /// Where the record starts in its segment.
    pub offset: u64,
}

/// A record's bytes as written to a segment.
pub fn encode(seq: u64, now: u64, entry: &Entry, accepted: bool, data: &[u8]) -> Result<Vec<u8>, String> {
    let header = serde_json::to_vec(&HeaderOut { entry, accepted })
        .map_err(|e| format!("cannot encode a journal record: {e}"))?;
    let header_len =
        u32::try_from(header.len()).map_err(|_| "a journal record header is too long".to_owned())?;
    let len = 20usize.saturating_add(header.len()).saturating_add(data.len());
    if len > MAX_RECORD {
        return Err(format!("a journal record of {len} bytes is longer than the limit of {MAX_RECORD}"));
    }
    let len32 = u32::try_from(len).map_err(|_| "a journal record is too long".to_owned())?;
    let mut out = Vec::with_capacity(RECORD_HEADER.saturating_add(len));
    out.extend_from_slice(&len32.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&len32.to_le_bytes()).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&now.to_le_bytes());
    out.extend_from_slice(&header_len.to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(out.get(RECORD_HEADER..).unwrap_or_default());
    if let Some(slot) = out.get_mut(8..12) {
        slot.copy_from_slice(&crc.to_le_bytes());
    }
    Ok(out)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?)?.try_into().ok().map(u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at.checked_add(8)?)?.try_into().ok().map(u64::from_le_bytes)
}

fn decode_payload(p: &[u8], offset: u64) -> Result<Record, String> {
    let bad = |why: &str| format!("the record cannot be decoded: {why}");
    let seq = u64_at(p, 0).ok_or_else(|| bad("too short"))?;
    let now = u64_at(p, 8).ok_or_else(|| bad("too short"))?;
    let header_len = u32_at(p, 16).ok_or_else(|| bad("too short"))? as usize;
    let end = 20usize.checked_add(header_len).ok_or_else(|| bad("header length"))?;
    let header = p.get(20..end).ok_or_else(|| bad("the header is longer than the record"))?;
    let HeaderIn { entry, accepted } = serde_json::from_slice(header).map_err(|e| bad(&e.to_string()))?;
    let data = p.get(end..).unwrap_or_default().to_vec();
    Ok(Record { seq, now, entry, accepted, data, offset })
}

/// What a segment holds.
#[derive(Debug)]
pub struct Scanned {
    pub records: Vec<Record>,
    /// The offset of a torn final record (to cut there) and what was wrong with it.
    pub torn: Option<(u64, String)>,
    /// Where the records end: the zero-filled space after them (see [`PREALLOCATE`]) or the
    /// torn record starts there.
    pub end: u64,
}

/// Decodes a segment's bytes. `first` is the sequence number its name says it starts at.
///
/// # Errors
/// A bad record before the tail, a bad header or a sequence number out of order, naming the
/// file (`name`) and the offset.
pub fn scan(name: &Path, bytes: &[u8], first: u64) -> Result<Scanned, String> {
    let at = |why: String| format!("the journal segment {} is corrupt at offset 0: {why}", name.display());
    let Some(magic) = bytes.get(..MAGIC.len()) else {
        if MAGIC.starts_with(bytes) {
            let torn = Some((0, "the segment header is cut short".to_owned()));
            return Ok(Scanned { records: Vec::new(), torn, end: 0 });
        }
        return Err(at("it is not a journal segment of this emulator".into()));
    };
    if magic != MAGIC {
        let why = if magic.get(..7) == MAGIC.get(..7) {
            format!(
                "journal format {} (this emulator reads {})",
                magic.get(7).copied().unwrap_or(0),
                MAGIC[7]
            )
        } else {
            "it is not a journal segment of this emulator".into()
        };
        return Err(at(why));
    }
    scan_records(name, bytes.get(MAGIC.len()..).unwrap_or_default(), MAGIC.len() as u64, first)
}

/// Decodes records: `bytes` is the part of the segment `name` from offset `start` on, and its
/// first record is `first`. Recovery reads whole segments through [`scan`]; the checkpoint's
/// replica reads each synced batch here.
///
/// Where the records end, the rest is zeros (space the writer allocated ahead) or nothing. A
/// record that is cut short, or that fails a CRC with nothing but zeros after it, is the torn
/// final record of a write interrupted by a crash; a bad record followed by anything else is
/// corruption.
///
/// # Errors
/// A bad record before the tail or a sequence number out of order, naming the file and the
/// offset.
pub fn scan_records(name: &Path, bytes: &[u8], start: u64, first: u64) -> Result<Scanned, String> {
    let offset = |off: usize| start.saturating_add(off as u64);
    let at = |off: usize, why: String| {
        format!("the journal segment {} is corrupt at offset {}: {why}", name.display(), offset(off))
    };
    let zeros_after = |from: usize| bytes.get(from..).unwrap_or_default().iter().all(|b| *b == 0);
    let mut out = Scanned { records: Vec::new(), torn: None, end: start };
    let mut off = 0usize;
    let mut expected = first;
    while off < bytes.len() {
        let rest = bytes.get(off..).unwrap_or_default();
        let tail = |why: &str| Some((offset(off), why.to_owned()));
        if zeros_after(off) {
            break;
        }
        let (Some(len), Some(len_crc), Some(crc)) = (u32_at(rest, 0), u32_at(rest, 4), u32_at(rest, 8))
        else {
            out.torn = tail("the record header is cut short");
            break;
        };
        if crc32fast::hash(&len.to_le_bytes()) != len_crc {
            if zeros_after(off.saturating_add(RECORD_HEADER)) {
                out.torn = tail("the final record's header is torn");
                break;
            }
            return Err(at(off, "the record length fails its CRC".into()));
        }
        let len = len as usize;
        if len > MAX_RECORD {
            return Err(at(off, format!("a record length of {len} bytes, more than {MAX_RECORD}")));
        }
        let end = RECORD_HEADER.saturating_add(len);
        let Some(payload) = rest.get(RECORD_HEADER..end) else {
            out.torn = tail("the record is cut short");
            break;
        };
        if crc32fast::hash(payload) != crc {
            if zeros_after(off.saturating_add(end)) {
                out.torn = tail("the final record fails its CRC");
                break;
            }
            return Err(at(off, "the record fails its CRC".into()));
        }
        let record = decode_payload(payload, offset(off)).map_err(|e| at(off, e))?;
        if record.seq != expected {
            return Err(at(off, format!("record {} where record {expected} belongs", record.seq)));
        }
        expected = expected.saturating_add(1);
        out.records.push(record);
        off = off.saturating_add(end);
    }
    out.end = offset(off);
    Ok(out)
}

/// The segment of `base` that starts at record `first`.
pub fn segment_path(base: &Path, first: u64) -> PathBuf {
    let name = base.file_name().map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
    base.with_file_name(format!("{name}.{first:020}.wal"))
}

/// The segments of `base`, by first record.
pub fn segments(base: &Path) -> Result<Vec<(u64, PathBuf)>, String> {
    let name = base.file_name().map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
    let dir = persist::directory(base);
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot list the directory {} of the state file: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list the directory {}: {e}", dir.display()))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let first = file
            .strip_prefix(&name)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|r| r.strip_suffix(".wal"))
            .filter(|n| n.len() == 20)
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(first) = first {
            out.push((first, segment_path(base, first)));
        }
    }
    out.sort();
    Ok(out)
}

/// How a recovery treats the files.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// At start: replay everything, cut a torn final record off its file.
    Start,
    /// After a failed write: replay the records up to this one (those known to be on disk),
    /// change no file.
    UpTo(u64),
}

/// Loads the snapshot of `base` and replays the journal after it. `None`: neither exists.
///
/// # Errors
/// A message naming the file (and the offset, for a bad record) and the cause; no file is
/// changed then.
pub fn recover(
    base: &Path,
    caps: Caps,
    clock: ClockMode,
    arns: Arns,
    deletion_delay: u64,
    policy: Policy,
    mode: Mode,
) -> Result<Option<State>, String> {
    Ok(recover_from(base, caps, clock, arns, deletion_delay, policy, mode)?.map(|(st, _)| st))
}

/// [`recover`], with the last record the snapshot holds (the records after it, replayed, are
/// not in any snapshot yet: their segments must stay until a checkpoint holds them).
///
/// # Errors
/// As [`recover`].
pub fn recover_from(
    base: &Path,
    caps: Caps,
    clock: ClockMode,
    arns: Arns,
    deletion_delay: u64,
    policy: Policy,
    mode: Mode,
) -> Result<Option<(State, u64)>, String> {
    let snapshot = persist::load(base, caps, clock, arns.clone(), deletion_delay, policy)?;
    let segs = segments(base)?;
    if snapshot.is_none() && segs.is_empty() {
        return Ok(None);
    }
    let here = Written { clock, deletion_delay, policy };
    let written = snapshot.as_ref().map_or(here, |(_, written)| *written);
    let mut st = snapshot
        .map(|(st, _)| st)
        .unwrap_or_else(|| State::with_policy(caps, Clock::new(clock, None), arns, deletion_delay, policy));
    // Every segment is checked before anything is replayed or cut.
    let mut scanned = Vec::new();
    let last = segs.len().saturating_sub(1);
    for (i, (first, path)) in segs.into_iter().enumerate() {
        let meta = fs::metadata(&path)
            .map_err(|e| format!("cannot read the journal segment {}: {e}", path.display()))?;
        if !meta.is_file() {
            return Err(format!("the journal segment {} is not a regular file", path.display()));
        }
        let bytes = fs::read(&path)
            .map_err(|e| format!("cannot read the journal segment {}: {e}", path.display()))?;
        let s = scan(&path, &bytes, first)?;
        if let (Some((off, why)), true) = (&s.torn, i != last) {
            return Err(format!(
                "the journal segment {} is corrupt at offset {off}: {why}, and later segments follow",
                path.display()
            ));
        }
        scanned.push((path, s));
    }
    let limit = match mode {
        Mode::Start => u64::MAX,
        Mode::UpTo(n) => n,
    };
    let snapshot_seq = st.generation;
    let mut plan = Vec::new();
    let mut next = st.generation.saturating_add(1);
    for (path, s) in &scanned {
        for r in &s.records {
            if r.seq < next || r.seq > limit {
                continue;
            }
            if r.seq != next {
                return Err(format!(
                    "the journal segment {} starts at record {} but the state so far ends at record {}: records are missing",
                    path.display(),
                    r.seq,
                    next.saturating_sub(1)
                ));
            }
            plan.push((path, r));
            next = next.saturating_add(1);
        }
    }
    if written != here && !plan.is_empty() {
        let flags = flags(written, here);
        return Err(format!(
            "the journal of the state file {} holds {} changes made with {flags}, which replay only under it: start with {flags} (a clean stop writes a checkpoint; after it, the flags may change)",
            base.display(),
            plan.len(),
        ));
    }
    if matches!(mode, Mode::Start) {
        for (path, s) in &scanned {
            if let Some((off, why)) = &s.torn {
                cut(path, *off)?;
                tracing::warn!(
                    "cut a torn final record off the journal segment {} at offset {off}: {why}",
                    path.display()
                );
            }
        }
    }
    let replayed = plan.len();
    for (path, r) in plan {
        replay(&mut st, r).map_err(|why| replay_error(path, r, &why))?;
    }
    if written != here && matches!(mode, Mode::Start) {
        // The snapshot says which flags the records after it are made under.
        persist::write_atomically(base, &persist::encode(&st)?)?;
        tracing::info!(
            "the state file {} was written with {}: rewritten for {}",
            base.display(),
            flags(written, here),
            flags(here, written)
        );
    }
    if replayed > 0 {
        tracing::info!(records = replayed, last = st.generation, "journal replayed from {}", base.display());
    }
    Ok(Some((st, snapshot_seq)))
}

/// The flags of `of` that differ from `other`'s, as they are written on the command line.
fn flags(of: Written, other: Written) -> String {
    let clock = (of.clock != other.clock).then(|| match of.clock {
        ClockMode::System => "--clock system".to_owned(),
        ClockMode::Manual => "--clock manual".to_owned(),
    });
    let delay = (of.deletion_delay != other.deletion_delay)
        .then(|| format!("--deletion-delay {}", of.deletion_delay));
    let (ours, theirs) = (crate::config::knob_values(&of.policy), crate::config::knob_values(&other.policy));
    let knobs = ours.into_iter().filter(|(k, v)| theirs.get(k) != Some(v)).map(|(k, v)| {
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        format!("--policy {k}={v}")
    });
    clock.into_iter().chain(delay).chain(knobs).collect::<Vec<_>>().join(" ")
}

/// Replays a record: its operation must come out as it did when it was made (accepted or
/// refused, and changing the state), else the state after it would not be the one that was
/// answered; the error says how it differs, and nothing after it is replayed.
fn replay(st: &mut State, r: &Record) -> Result<(), String> {
    st.pin(Some(r.now));
    let (outcome, changed) = apply(st, &r.entry, &r.data);
    st.pin(None);
    // Nothing is published for a replayed change: it was published when it was made.
    if let Some(out) = &mut st.outbox {
        out.clear();
    }
    match (r.accepted, outcome.refusal()) {
        (Some(true), Some(why)) => {
            return Err(format!("it was accepted when it was made and is refused now ({why})"));
        }
        (Some(false), None) => return Err("it was refused when it was made and is accepted now".to_owned()),
        (Some(true), None) | (Some(false) | None, Some(_)) | (None, None) => {}
    }
    if !changed {
        return Err("it changed the state when it was made and changes nothing now".to_owned());
    }
    st.generation = r.seq;
    Ok(())
}

/// The error of a record that does not replay as it was made.
pub fn replay_error(path: &Path, r: &Record, why: &str) -> String {
    format!(
        "the journal segment {} holds at offset {} record {} ({}), which does not replay: {why}; \
         the acknowledged changes from it on would be lost, so the start is refused: start with the \
         flags it was written with (--account-id, --region, --deletion-delay, --policy, the --max-* caps)",
        path.display(),
        r.offset,
        r.seq,
        r.entry.describe(),
    )
}

fn cut(path: &Path, off: u64) -> Result<(), String> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| {
            f.set_len(off)?;
            f.sync_all()
        })
        .map_err(|e| {
            format!("cannot cut the torn final record off the journal segment {}: {e}", path.display())
        })
}

mod writer;
pub use writer::*;

#[cfg(test)]
mod tests;
