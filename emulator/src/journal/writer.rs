//! The writer thread (group commit, preallocated segments) and the replica that writes the
//! checkpoints.

use super::*;

/// A segment grows by this many zero bytes at a time, written and synced ahead of the records
/// (as etcd's WAL does): a record then overwrites allocated blocks, and its `fdatasync` has no
/// file size to flush, only the data (on ext4 here: 0.08 ms instead of 0.16 ms per sync).
pub const PREALLOCATE: u64 = 1 << 20;

enum Msg {
    Record {
        seq: u64,
        bytes: Vec<u8>,
    },
    /// Start a new segment at this record, and write a checkpoint of the records before it.
    Rotate(u64),
}

/// What the writer hands the replica.
enum ToReplica {
    /// Synced records: their bytes, in the segment `path` at `offset`.
    Batch { path: Arc<Path>, offset: u64, bytes: Vec<u8> },
    /// Write the snapshot at record `seq` (every record up to it is synced, none after it is
    /// in the replica yet); with `delete`, then delete the segments it covers.
    Checkpoint { seq: u64, delete: bool },
}

/// What is on disk.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The last record synced.
    pub durable: u64,
    /// The first record of the segment being written.
    pub segment: u64,
    /// Set when a write failed: no record is written after it (until a restart).
    pub failed: Option<Arc<str>>,
    /// The last record the snapshot holds.
    pub checkpointed: u64,
    /// The last checkpoint that failed (the record it was for, the cause); the journal goes on.
    pub checkpoint_failed: Option<(u64, Arc<str>)>,
}

/// The journal: a writer thread that writes the records handed to it in order, one
/// `fdatasync` for all the records that arrived while the previous batch was syncing (group
/// commit), and reports what is durable; and a replica thread that keeps a second copy of the
/// state, made of the synced records only, and writes the checkpoints from it.
///
/// The replica applies each synced batch through [`scan_records`] and the replay a recovery
/// does, so a checkpoint needs no lock on the live state (requests never wait for one), and
/// every record is decoded and replayed once as the next start would: a record that cannot be
/// stops the checkpoints with an error (logged) instead of surfacing at the next start. The
/// cost is a second copy of the state in memory.
pub struct Journal {
    base: PathBuf,
    tx: Mutex<Option<mpsc::Sender<Msg>>>,
    status: watch::Sender<Status>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("base", &self.base).finish_non_exhaustive()
    }
}

/// Writes `len` zero bytes at `at`.
fn zero_fill(file: &mut File, at: u64, len: u64) -> io::Result<()> {
    static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
    file.seek(SeekFrom::Start(at))?;
    let mut left = len;
    while left > 0 {
        let n = left.min(ZEROS.len() as u64);
        file.write_all(ZEROS.get(..n as usize).unwrap_or_default())?;
        left = left.saturating_sub(n);
    }
    Ok(())
}

/// Creates a segment with its first [`PREALLOCATE`] bytes allocated, and syncs it and its
/// directory. Returns it and its allocated length.
fn create_segment(base: &Path, first: u64) -> Result<(PathBuf, File, u64), String> {
    let path = segment_path(base, first);
    let fail =
        |what: &str, e: io::Error| format!("cannot {what} the journal segment {}: {e}", path.display());
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| fail("create", e))?;
    f.write_all(&MAGIC).map_err(|e| fail("write", e))?;
    let allocated = PREALLOCATE.max(MAGIC.len() as u64);
    zero_fill(&mut f, MAGIC.len() as u64, allocated.saturating_sub(MAGIC.len() as u64))
        .map_err(|e| fail("write", e))?;
    f.sync_all().map_err(|e| fail("sync", e))?;
    // The writer writes at the file's position: the first record goes after the header.
    f.seek(SeekFrom::Start(MAGIC.len() as u64)).map_err(|e| fail("seek in", e))?;
    persist::sync_dir(base)?;
    Ok((path, f, allocated))
}

impl Journal {
    /// Opens a new segment for the records from `replica.generation + 1` on and starts the
    /// writer, with `replica`, a copy of the state just recovered, for the checkpoints;
    /// `checkpointed` is the last record the snapshot holds.
    ///
    /// # Errors
    /// The segment cannot be created (the message names it and the cause).
    pub fn open(base: &Path, checkpointed: u64, replica: State) -> Result<Self, String> {
        let next = replica.generation.saturating_add(1);
        let (path, file, allocated) = create_segment(base, next)?;
        let (tx, rx) = mpsc::channel();
        let (replica_tx, replica_rx) = mpsc::channel();
        let last = next.saturating_sub(1);
        let status = watch::Sender::new(Status {
            durable: last,
            segment: next,
            failed: None,
            checkpointed,
            checkpoint_failed: None,
        });
        let writer = Writer {
            base: base.to_owned(),
            path: path.into(),
            file,
            synced: MAGIC.len() as u64,
            allocated,
            status: status.clone(),
            replica: replica_tx,
        };
        let replica = Replica { base: base.to_owned(), state: replica, broken: None, status: status.clone() };
        let spawn = |name: &str| std::thread::Builder::new().name(name.into());
        let replica = spawn("journal-replica")
            .spawn(move || replica.run(&replica_rx))
            .map_err(|e| format!("cannot start the journal's replica: {e}"))?;
        let writer = spawn("journal")
            .spawn(move || writer.run(&rx))
            .map_err(|e| format!("cannot start the journal writer: {e}"))?;
        Ok(Journal {
            base: base.to_owned(),
            tx: Mutex::new(Some(tx)),
            status,
            threads: Mutex::new(vec![writer, replica]),
        })
    }

    /// The snapshot's path (`--state-file`).
    pub fn base(&self) -> &Path {
        &self.base
    }

    fn send(&self, msg: Msg) {
        let tx = self.tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let sent = tx.as_ref().is_some_and(|tx| tx.send(msg).is_ok());
        if !sent {
            self.fail(format!("the journal of {} is closed", self.base.display()));
        }
    }

    /// Hands a record over to be written (call with the state lock held, in record order).
    pub fn append(&self, seq: u64, bytes: Vec<u8>) {
        self.send(Msg::Record { seq, bytes });
    }

    /// The records from `first` on go to a new segment, and the replica writes a checkpoint
    /// of those before it (call with the state lock held, `first` the next record's number).
    pub fn rotate(&self, first: u64) {
        self.send(Msg::Rotate(first));
    }

    /// Refuses every later record, with this cause.
    pub fn fail(&self, cause: String) {
        self.status.send_modify(|s| {
            if s.failed.is_none() {
                s.failed = Some(cause.into());
            }
        });
    }

    /// What is on disk.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Returns once record `seq` is durable.
    ///
    /// # Errors
    /// A write failed before it was (the message names the segment and the cause).
    pub async fn durable(&self, seq: u64) -> Result<(), String> {
        let mut rx = self.status.subscribe();
        let s = rx.wait_for(|s| s.durable >= seq || s.failed.is_some()).await.map(|s| s.clone());
        match s {
            Ok(s) if s.durable >= seq => Ok(()),
            Ok(s) => Err(s.failed.map_or_else(String::new, |m| m.to_string())),
            Err(_) => Err(format!("the journal of {} is closed", self.base.display())),
        }
    }

    /// Returns once the snapshot holds record `seq` (after [`Journal::rotate`] at `seq + 1`).
    ///
    /// # Errors
    /// The checkpoint failed, or a write failed before it could be taken.
    pub async fn checkpointed(&self, seq: u64) -> Result<(), String> {
        let mut rx = self.status.subscribe();
        let failed = |s: &Status| s.checkpoint_failed.as_ref().is_some_and(|(at, _)| *at >= seq);
        let done = |s: &Status| s.checkpointed >= seq || failed(s) || s.failed.is_some();
        let s = rx.wait_for(done).await.map(|s| s.clone());
        match s {
            Ok(s) if s.checkpointed >= seq => Ok(()),
            Ok(s) if failed(&s) => Err(s.checkpoint_failed.map_or_else(String::new, |(_, m)| m.to_string())),
            Ok(s) => Err(s.failed.map_or_else(String::new, |m| m.to_string())),
            Err(_) => Err(format!("the journal of {} is closed", self.base.display())),
        }
    }

    /// Writes what was handed over, lets the replica finish, and stops both threads.
    pub fn close(&self) {
        self.tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        for t in threads {
            let _ = t.join();
        }
    }
}

struct Writer {
    base: PathBuf,
    path: Arc<Path>,
    file: File,
    /// The length of the segment's synced part.
    synced: u64,
    /// The length of the segment's allocated (zero-filled and synced) part.
    allocated: u64,
    status: watch::Sender<Status>,
    replica: mpsc::Sender<ToReplica>,
}

impl Writer {
    fn run(mut self, rx: &mpsc::Receiver<Msg>) {
        let mut buf = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut last = None;
            let mut next = Some(first);
            // Everything that arrived meanwhile goes into this batch.
            while let Some(msg) = next.take().or_else(|| rx.try_recv().ok()) {
                if self.status.borrow().failed.is_some() {
                    // After a failure nothing more is written: the records are dropped (their
                    // requests get the failure).
                    continue;
                }
                match msg {
                    Msg::Record { seq, bytes } => {
                        buf.extend_from_slice(&bytes);
                        last = Some(seq);
                        if buf.len() >= 8 << 20 {
                            break;
                        }
                    }
                    Msg::Rotate(first) => {
                        if let Err(e) = self.flush(&mut buf, last.take()) {
                            self.failed(e);
                            continue;
                        }
                        // The records before `first` are synced: the checkpoint can hold them
                        // (the segments it covers are deleted only once the next one exists). A
                        // retried checkpoint with no record since the last one keeps the segment.
                        let seq = first.saturating_sub(1);
                        let fresh = self.status.borrow().segment == first;
                        let created =
                            if fresh { Ok(None) } else { create_segment(&self.base, first).map(Some) };
                        let delete = created.is_ok();
                        let _ = self.replica.send(ToReplica::Checkpoint { seq, delete });
                        match created {
                            Ok(None) => {}
                            Ok(Some((path, file, allocated))) => {
                                self.path = path.into();
                                self.file = file;
                                self.synced = MAGIC.len() as u64;
                                self.allocated = allocated;
                                self.status.send_modify(|s| s.segment = first);
                            }
                            Err(e) => self.failed(e),
                        }
                    }
                }
            }
            if let Err(e) = self.flush(&mut buf, last) {
                self.failed(e);
            }
        }
    }

    /// Writes and syncs `buf`; reports `last` durable and hands the batch to the replica.
    fn flush(&mut self, buf: &mut Vec<u8>, last: Option<u64>) -> Result<(), String> {
        let Some(last) = last else { return Ok(()) };
        let fail = |what: &str, e: io::Error| {
            format!("cannot {what} the journal segment {}: {e}", self.path.display())
        };
        let written = buf.len() as u64;
        let end = self.synced.saturating_add(written);
        // Past the allocated part, the segment grows by whole chunks of zeros first, synced
        // with this batch (the only syncs that flush a new file size).
        let grow = if end > self.allocated {
            end.div_ceil(PREALLOCATE).saturating_mul(PREALLOCATE).saturating_sub(self.allocated)
        } else {
            0
        };
        // The file's position is at `synced` unless the segment grows first.
        let grown = if grow > 0 {
            zero_fill(&mut self.file, self.allocated, grow)
                .and_then(|()| self.file.seek(SeekFrom::Start(self.synced)).map(|_| ()))
        } else {
            Ok(())
        };
        let r = grown
            .and_then(|()| self.file.write_all(buf))
            .map_err(|e| fail("write", e))
            .and_then(|()| self.file.sync_data().map_err(|e| fail("sync", e)));
        if let Err(e) = r {
            buf.clear();
            // What was written without a sync is taken back, so that no later start replays a
            // change whose request got the failure (best effort: the failure is reported anyway).
            let _ = self.file.set_len(self.synced).and_then(|()| self.file.sync_all());
            return Err(e);
        }
        let offset = self.synced;
        self.synced = end;
        self.allocated = self.allocated.saturating_add(grow);
        self.status.send_modify(|s| s.durable = last);
        let bytes = std::mem::take(buf);
        let _ = self.replica.send(ToReplica::Batch { path: Arc::clone(&self.path), offset, bytes });
        Ok(())
    }

    fn failed(&self, e: String) {
        tracing::error!("{e}; changes are refused until a restart");
        self.status.send_modify(|s| {
            if s.failed.is_none() {
                s.failed = Some(format!("{e}; changes are refused until a restart").into());
            }
        });
    }
}

/// The checkpoints' copy of the state: the synced records, applied in order.
struct Replica {
    base: PathBuf,
    state: State,
    /// Why the replica stopped following the journal (a record it could not read back).
    broken: Option<String>,
    status: watch::Sender<Status>,
}

impl Replica {
    fn run(mut self, rx: &mpsc::Receiver<ToReplica>) {
        while let Ok(msg) = rx.recv() {
            match msg {
                ToReplica::Batch { path, offset, bytes } => self.apply(&path, offset, &bytes),
                ToReplica::Checkpoint { seq, delete } => {
                    // A failure goes to the checkpoint's caller, which logs it.
                    let r = self.checkpoint(seq, delete);
                    self.status.send_modify(|s| match r {
                        Ok(()) => s.checkpointed = s.checkpointed.max(seq),
                        Err(e) => s.checkpoint_failed = Some((seq, e.into())),
                    });
                }
            }
        }
    }

    /// Replays a synced batch as a recovery would.
    fn apply(&mut self, path: &Path, offset: u64, bytes: &[u8]) {
        if self.broken.is_some() {
            return;
        }
        match scan_records(path, bytes, offset, self.state.generation.saturating_add(1)) {
            Ok(Scanned { records, torn: None, .. }) => {
                for r in &records {
                    replay(&mut self.state, r);
                }
            }
            Ok(Scanned { torn: Some((off, why)), .. }) => {
                let e = format!(
                    "the journal segment {} cannot be read back at offset {off}: {why}",
                    path.display()
                );
                tracing::error!("{e}; no more checkpoints until a restart");
                self.broken = Some(e);
            }
            Err(e) => {
                tracing::error!("{e}; no more checkpoints until a restart");
                self.broken = Some(e);
            }
        }
    }

    /// Writes the snapshot at record `seq`, then (with `delete`) deletes the segments it covers.
    fn checkpoint(&mut self, seq: u64, delete: bool) -> Result<(), String> {
        let fail = |why: &str| format!("no checkpoint of {} at record {seq}: {why}", self.base.display());
        if let Some(e) = &self.broken {
            return Err(fail(e));
        }
        if self.state.generation != seq {
            return Err(fail(&format!("the replica holds the records up to {}", self.state.generation)));
        }
        let started = std::time::Instant::now();
        let bytes = persist::encode(&self.state)?;
        persist::write_atomically(&self.base, &bytes)?;
        tracing::debug!(
            seq,
            "checkpoint: {} bytes encoded and written in {:?}",
            bytes.len(),
            started.elapsed()
        );
        if !delete {
            return Ok(());
        }
        for (first, path) in segments(&self.base)? {
            if first <= seq {
                remove_segment(&path)?;
            }
        }
        persist::sync_dir(&self.base)
    }
}

/// Deletes a segment (one already gone is fine).
///
/// # Errors
/// A message naming it and the cause.
pub fn remove_segment(path: &Path) -> Result<(), String> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(format!("cannot delete the journal segment {}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}
