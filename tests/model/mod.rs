//! The reference model: SPEC §2–§8 and the §R readings, restated over plain collections.
//!
//! Written from `shared/spec/SPEC.md`, not from the registry or `iot_jobs_core::rules`: only the
//! vocabulary enums of the crate are used here. Every operation first decides (returning the AWS
//! exception name when it refuses, with nothing changed) and then applies. Notifications are not
//! computed operation by operation: [`Model::apply`] compares every thing's pending list before
//! and after the operation (R15: `notify` when the membership changed, `notify-next` when the head
//! changed). Job completion (SPEC §2) is likewise checked after every operation for every job.
//!
//! Where SPEC is silent and the registry made a choice, the choice is written down in
//! [`Readings`] or as a `// READING:` comment; each one is listed in `tests/model/README.md`.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

pub mod harness;

use std::collections::{BTreeMap, BTreeSet};

use iot_jobs_core::{
    ExecutionStatus as XS, FailureType, JobEndBehavior, JobStatus as JS, RetryableFailureType,
    TargetSelection,
};

/// What the model answers when it refuses: the AWS exception name on the operation's plane and,
/// for `InvalidStateTransition`/`VersionMismatch`, the `executionState` (SPEC §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub name: &'static str,
    pub state: Option<(XS, u64)>,
    /// Refused for the host's room (a full table or event sink), not for the request: the
    /// registry's `CapacityExhausted` and `Throttled`. The model never sets it.
    pub capacity: bool,
}

pub const INVALID_REQUEST: &str = "InvalidRequestException";
pub const NOT_FOUND: &str = "ResourceNotFoundException";
pub const ALREADY_EXISTS: &str = "ResourceAlreadyExistsException";
pub const TRANSITION: &str = "InvalidStateTransitionException";
pub const VERSION_CONFLICT: &str = "VersionConflictException";
pub const LIMIT: &str = "LimitExceededException";
pub const TERMINAL: &str = "TerminalStateException";

fn refuse<T>(name: &'static str) -> Result<T, Refusal> {
    Err(Refusal { name, state: None, capacity: false })
}

fn refuse_with<T>(name: &'static str, e: &Exec) -> Result<T, Refusal> {
    Err(Refusal { name, state: Some((e.status, e.version)), capacity: false })
}

/// A notification or lifecycle event (SPEC 7.2, 7.4).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ev {
    Notify(String),
    NotifyNext(String),
    /// `notify-namespace-NS` of (thing, NS) (SPEC R20).
    NotifyNs(String, String),
    /// `notify-next-namespace-NS` of (thing, NS) (SPEC R20).
    NotifyNextNs(String, String),
    Job(String, &'static str),
    Exec(String, String, u64, &'static str),
    /// An event kind the model does not know (never produced by the model, so it fails the
    /// comparison).
    Unknown(String),
}

/// Points SPEC leaves open that the model must still decide.
#[derive(Debug, Clone, Copy)]
pub struct Readings {
    /// D3. Order of IN_PROGRESS executions among themselves in the pending list. SPEC 7.2 says
    /// "IN_PROGRESS first, then by queue time"; T2 only says IN_PROGRESS before QUEUED.
    pub in_progress_order: InProgressOrder,
    /// D1. CreateJob with a used `jobId` and a bad request (no targets, end before start):
    /// `false` answers for the request first (InvalidRequestException), as `rules`' module docs
    /// order the checks; `true` answers ResourceAlreadyExistsException first.
    pub create_checks_id_first: bool,
    /// D2. When a job's completion (SPEC §2) is noticed. `false`: whenever its conditions hold,
    /// so a CONTINUOUS job whose `endTime` passes with every execution terminal completes at the
    /// next call, `advance` included. `true`: only when one of the job's executions changes
    /// status or is deleted.
    pub complete_only_on_change: bool,
    /// D4. What counts toward a job's targets (`targets()`, the 100 of AssociateTargetsWithJob).
    /// `false`: every distinct thing ever targeted by CreateJob or AssociateTargetsWithJob.
    /// `true`: a thing counts again each time it is associated while it has no execution of the
    /// job, and not at all if it got one as a group member first.
    pub targets_counted_by_executions: bool,
}

/// See [`Readings::in_progress_order`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InProgressOrder {
    /// By queue (creation) order, like the QUEUED ones (SPEC 7.2's reading).
    Queue,
    /// By the moment each entered IN_PROGRESS.
    FirstStart,
    /// By the last accepted write of IN_PROGRESS, so that a repeated IN_PROGRESS update moves
    /// an execution to the back (what the registry does).
    LastWrite,
}

impl Readings {
    pub const SPEC: Self = Self {
        in_progress_order: InProgressOrder::Queue,
        create_checks_id_first: false,
        // Time passes only through `advance` (the core never reads a clock): a CONTINUOUS job's
        // end is noticed there, or when one of its executions changes.
        complete_only_on_change: true,
        targets_counted_by_executions: false,
    };
    /// The registry's behaviour where it differs from [`Readings::SPEC`] (see README.md).
    pub const REGISTRY: Self = Self {
        in_progress_order: InProgressOrder::LastWrite,
        create_checks_id_first: true,
        complete_only_on_change: true,
        targets_counted_by_executions: true,
    };
}

/// SPEC §5, R17: identifiers are full matches of their patterns.
pub fn valid_job_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn valid_thing_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b':')
}

pub fn valid_reason_code(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// SPEC R14: ≤ 10 pairs, unique keys `[a-zA-Z0-9:_-]{1,128}`, values of 1–1024 UTF-16 units
/// without control characters.
pub fn valid_details(pairs: &[(String, String)]) -> bool {
    let keys: BTreeSet<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    pairs.len() <= 10
        && keys.len() == pairs.len()
        && pairs.iter().all(|(k, v)| {
            (1..=128).contains(&k.len())
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b':')
                && (1..=1024).contains(&v.encode_utf16().count())
                && !v.chars().any(char::is_control)
        })
}

/// SPEC §3 timer facts: 1–10080 minutes, or -1 (cancel) on UpdateJobExecution only.
pub fn valid_step(n: i64, allow_cancel: bool) -> bool {
    (1..=10080).contains(&n) || (allow_cancel && n == -1)
}

/// SPEC §3 timer facts, §6 Timeouts: `inProgressTimeoutInMinutes` is 1–10080.
pub fn valid_in_progress_timeout(n: u64) -> bool {
    (1..=10080).contains(&n)
}

/// SPEC §6 Rollout: `maximumPerMinute` is at least 1.
pub fn valid_rate(n: u32) -> bool {
    n >= 1
}

/// SPEC §6 Rollout: one batch of at most `maximumPerMinute` executions a minute.
pub const MINUTE: u64 = 60;

/// The maintenance windows a generated CreateJob may have (an index into this list): one window
/// each, never longer than its period, so that its starts and ends are the instants at which
/// it may open or close (SPEC §2, AMBIG-26, AMBIG-28).
pub const WINDOW_SETS: [(&str, u16); 4] = [
    ("cron(0/2 * * * ? *)", 1),
    ("cron(0/5 * * * ? *)", 2),
    ("cron(0/3 * * * ? *)", 3),
    ("cron(* * * * ? *)", 1),
];

/// A job's maintenance window: its start expression and duration in seconds.
#[derive(Debug, Clone)]
pub struct Windows {
    pub cron: iot_jobs_core::cron::Cron,
    pub secs: u64,
    /// When the windows are looked at next (AMBIG-28): the job's `startTime` while it is to
    /// come, then the next start or end of an occurrence.
    pub due: u64,
}

impl Windows {
    fn new(set: u8) -> Self {
        let (cron, minutes) = WINDOW_SETS[usize::from(set) % WINDOW_SETS.len()];
        let cron = iot_jobs_core::cron::Cron::parse(cron).unwrap();
        Windows { cron, secs: u64::from(minutes) * MINUTE, due: 0 }
    }

    /// AMBIG-26: open at `t` when an occurrence started in the last `secs` (by scanning the
    /// minutes, with the cron calendar only).
    fn open(&self, t: u64) -> bool {
        let last = t - t % MINUTE;
        (0..self.secs / MINUTE)
            .filter_map(|k| last.checked_sub(k * MINUTE))
            .any(|m| self.cron.matches(iot_jobs_core::Timestamp(m)))
    }

    /// The first minute after `t` at which an occurrence starts or ends.
    fn next_boundary(&self, t: u64) -> u64 {
        let mut m = t - t % MINUTE + MINUTE;
        loop {
            if self.cron.matches(iot_jobs_core::Timestamp(m))
                || self.cron.matches(iot_jobs_core::Timestamp(m - self.secs))
            {
                return m;
            }
            m += MINUTE;
        }
    }
}

/// SPEC §5: `long` values are 0..=i64::MAX.
pub fn valid_long(n: u64) -> bool {
    i64::try_from(n).is_ok()
}

fn is_pending(s: XS) -> bool {
    matches!(s, XS::Queued | XS::InProgress)
}

fn is_terminal(s: XS) -> bool {
    !is_pending(s)
}

/// SPEC 7.4 execution event names; none for the pending statuses.
fn exec_event(s: XS) -> Option<&'static str> {
    Some(match s {
        XS::Queued | XS::InProgress => return None,
        XS::Succeeded => "succeeded",
        XS::Failed => "failed",
        XS::Rejected => "rejected",
        XS::Canceled => "canceled",
        XS::TimedOut => "timed_out",
        XS::Removed => "removed",
    })
}

#[derive(Debug, Clone)]
pub struct Job {
    pub status: JS,
    pub selection: TargetSelection,
    pub force_canceled: bool,
    pub reason: Option<String>,
    /// Every thing ever targeted (AssociateTargetsWithJob counts distinct targets, SPEC §2).
    pub targets: BTreeSet<String>,
    /// The count under [`Readings::targets_counted_by_executions`].
    pub counted: usize,
    /// Creation order among jobs.
    pub seq: u64,
    /// Scheduling `startTime`, if any.
    pub start: Option<u64>,
    /// Scheduling `endTime`, if any.
    pub end: Option<u64>,
    /// Its `endBehavior` (AMBIG-12).
    pub end_behavior: JobEndBehavior,
    /// `timeoutConfig.inProgressTimeoutInMinutes`, if any.
    pub timeout: Option<u64>,
    /// `jobExecutionsRolloutConfig.maximumPerMinute`, if any.
    pub rate: Option<u32>,
    /// The CreateJob targets the rollout has not reached yet, in target order (SPEC §6 Rollout).
    pub waiting: Vec<String>,
    /// When the next batch may go out; 0 before the first one (it goes out when the job starts).
    pub rollout_at: u64,
    /// Every thing that ever had an execution of this job (the rollout reaches a target once).
    pub reached: BTreeSet<String>,
    /// The targets the rollout passed over because they were not registered things then.
    pub passed: BTreeSet<String>,
    /// It went IN_PROGRESS; the end was applied.
    pub started: bool,
    pub ended: bool,
    pub completed_at: Option<u64>,
    /// `jobExecutionsRetryConfig`: (failure type, numberOfRetries) per criterion.
    pub retry: Vec<(RetryableFailureType, u8)>,
    /// `abortConfig`: (failure type, threshold in hundredths of a percent, min executed).
    pub abort: Vec<(FailureType, u16, u32)>,
    /// Retries used per thing: (after FAILED, after TIMED_OUT).
    pub retries: BTreeMap<String, (u8, u8)>,
    /// `schedulingConfig.maintenanceWindows`, if any.
    pub windows: Option<Windows>,
    /// `exponentialRate`, if any: base, factor in tenths, the two criteria.
    pub exponential: Option<Exponential>,
    /// Its ramp: rate in thousandths (0 before the first batch), things notified by the rollout,
    /// and the two counts at the last increase.
    pub ramp: (u64, u32, u32, u32),
    /// `namespaceId` (SPEC R20).
    pub namespace: Option<String>,
}

/// `exponentialRate` as the model keeps it: `baseRatePerMinute`, `incrementFactor` in tenths,
/// `numberOfNotifiedThings`, `numberOfSucceededThings`.
pub type Exponential = (u16, u8, Option<u32>, Option<u32>);

impl Job {
    /// Live: it may still start, roll out or end (SPEC §2).
    fn live(&self) -> bool {
        matches!(self.status, JS::InProgress | JS::Scheduled)
    }

    /// When its schedule next does something (SPEC §2, §6 Scheduling, §6 Rollout): its start
    /// (SCHEDULED, never started, not ended), its next batch (IN_PROGRESS with targets waiting),
    /// its end (live, not applied yet).
    /// With maintenance windows, their next look replaces the start (AMBIG-28).
    fn next_event(&self) -> Option<u64> {
        let start = self.start.filter(|_| self.status == JS::Scheduled && !self.started && !self.ended);
        let start = if self.windows.is_some() { None } else { start };
        let look = self.windows.as_ref().map(|w| w.due).filter(|_| self.live() && !self.ended);
        let batch =
            Some(self.rollout_at).filter(|_| self.status == JS::InProgress && !self.waiting.is_empty());
        let end = self.end.filter(|_| self.live() && !self.ended);
        [start, look, batch, end].into_iter().flatten().min()
    }
}

#[derive(Debug, Clone)]
pub struct Exec {
    /// Creation order, over all executions ever created.
    pub seq: u64,
    pub job: String,
    pub thing: String,
    pub number: u64,
    pub version: u64,
    pub status: XS,
    pub force_canceled: bool,
    pub details: Vec<(String, String)>,
    /// When it times out (SPEC T7): the step timer's end, never after `timeout_at`.
    pub deadline: Option<u64>,
    /// The in-progress timer's end, set when it entered IN_PROGRESS (SPEC T7, AMBIG-15).
    pub timeout_at: Option<u64>,
    pub queued_at: u64,
    pub started_at: Option<u64>,
    pub last_updated: u64,
    /// When (in operations) it entered IN_PROGRESS, for [`Readings::in_progress_by_start`].
    pub started_seq: Option<u64>,
}

/// The state notifications are judged against (R15, R20): every thing's pending list and
/// every execution's [`Mark`], before an operation or a transition.
pub struct Before {
    lists: BTreeMap<String, Vec<u64>>,
    marks: BTreeMap<u64, Mark>,
}

/// What of an execution a change shows in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    thing: String,
    status: XS,
    version: u64,
    /// On its thing's pending list.
    pending: bool,
    /// Its job's `namespaceId`.
    namespace: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub readings: Readings,
    /// Registered things.
    pub things: BTreeSet<String>,
    pub jobs: BTreeMap<String, Job>,
    /// Every existing execution, in creation order.
    pub execs: Vec<Exec>,
    /// Jobs in DELETION_IN_PROGRESS with the time their deletion is due, in acceptance order.
    pub deleting: Vec<(String, u64)>,
    pub deletion_delay: u64,
    next_seq: u64,
    ops: u64,
    /// Jobs whose executions changed in the current operation.
    touched: BTreeSet<String>,
}

/// SPEC §6: at most 10 jobs DELETION_IN_PROGRESS.
pub const MAX_DELETING: usize = 10;
/// SPEC R12 default cap.
pub const PENDING_CAP: usize = 10;

/// A request to the model; ids are already validated by the caller (see [`harness`]).
#[derive(Debug, Clone)]
pub enum Req<'a> {
    AddThing(&'a str),
    RemoveThing(&'a str),
    CreateJob {
        job: &'a str,
        continuous: bool,
        start: Option<u64>,
        end: Option<u64>,
        end_behavior: JobEndBehavior,
        timeout: Option<u64>,
        rate: Option<u32>,
        namespace: Option<&'a str>,
        targets: &'a [String],
        retry: &'a [(RetryableFailureType, u8)],
        abort: &'a [(FailureType, u16, u32)],
        /// An index into [`WINDOW_SETS`].
        windows: Option<u8>,
        exponential: Option<Exponential>,
    },
    AddTargets {
        job: &'a str,
        things: &'a [String],
        counted: bool,
    },
    RemoveTarget {
        job: &'a str,
        thing: &'a str,
    },
    CancelJob {
        job: &'a str,
        force: bool,
        reason: Option<&'a str>,
    },
    DeleteJob {
        job: &'a str,
        force: bool,
    },
    CancelExecution {
        job: &'a str,
        thing: &'a str,
        force: bool,
        expected: Option<u64>,
        details: Option<&'a [(String, String)]>,
    },
    DeleteExecution {
        job: &'a str,
        thing: &'a str,
        number: u64,
        force: bool,
    },
    Update {
        job: &'a str,
        thing: &'a str,
        status: XS,
        expected: Option<u64>,
        number: Option<u64>,
        details: Option<&'a [(String, String)]>,
        step: Option<i64>,
    },
    StartNext {
        thing: &'a str,
        details: Option<&'a [(String, String)]>,
        step: Option<u16>,
    },
    Describe {
        job: &'a str,
        thing: &'a str,
        number: Option<u64>,
        data_plane: bool,
    },
    Advance {
        budget: usize,
    },
    SetDeletionDelay(u64),
    /// A maintenance window of the job opens / closes (SPEC §2 SCHEDULED ⇄ IN_PROGRESS).
    OpenWindow(&'a str),
    CloseWindow(&'a str),
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Done,
    Count(usize),
    State(XS, u64),
    /// StartNext: the (job, number, status, version) it returns, if any.
    Next(Option<(String, u64, XS, u64)>),
    Exec(ExecView),
    Advanced {
        work: usize,
        more: bool,
    },
}

/// The observable fields of one execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecView {
    pub job: String,
    pub thing: String,
    pub number: u64,
    pub status: XS,
    pub version: u64,
    pub force_canceled: bool,
    pub details: Vec<(String, String)>,
    /// When it times out (SPEC T7), while IN_PROGRESS.
    pub deadline: Option<u64>,
    pub queued_at: u64,
    pub started_at: Option<u64>,
    pub last_updated: u64,
}

impl Exec {
    pub fn view(&self) -> ExecView {
        ExecView {
            job: self.job.clone(),
            thing: self.thing.clone(),
            number: self.number,
            status: self.status,
            version: self.version,
            force_canceled: self.force_canceled,
            details: self.details.clone(),
            deadline: self.deadline.filter(|_| self.status == XS::InProgress),
            queued_at: self.queued_at,
            started_at: self.started_at,
            last_updated: self.last_updated,
        }
    }
}

impl Model {
    pub fn new(readings: Readings) -> Self {
        Self {
            readings,
            things: BTreeSet::new(),
            jobs: BTreeMap::new(),
            execs: Vec::new(),
            deleting: Vec::new(),
            deletion_delay: 0,
            next_seq: 0,
            ops: 0,
            touched: BTreeSet::new(),
        }
    }

    // ---- queries ------------------------------------------------------------------------------

    /// Devices do not see the executions of a job being deleted (SEED-CLI).
    fn visible(&self, e: &Exec) -> bool {
        self.jobs.get(&e.job).is_some_and(|j| j.status != JS::DeletionInProgress)
    }

    /// On a device's pending list: pending, of a job devices see; while a job is SCHEDULED
    /// (between maintenance windows) only its running executions (AMBIG-13).
    fn listed(&self, e: &Exec) -> bool {
        match self.jobs.get(&e.job).map(|j| j.status) {
            Some(JS::Scheduled) => e.status == XS::InProgress,
            Some(JS::InProgress | JS::Canceled | JS::Completed) => is_pending(e.status),
            Some(JS::DeletionInProgress) | None => false,
        }
    }

    /// A thing's pending list, uncapped: IN_PROGRESS first, then QUEUED in creation order
    /// (SPEC T2, 7.2). Returns indices into `execs`.
    pub fn pending_all(&self, thing: &str) -> Vec<usize> {
        let mine = |s: XS| {
            self.execs
                .iter()
                .enumerate()
                .filter(move |(_, e)| e.thing == thing && e.status == s && self.listed(e))
                .map(|(i, _)| i)
        };
        let mut running: Vec<usize> = mine(XS::InProgress).collect();
        if self.readings.in_progress_order != InProgressOrder::Queue {
            running.sort_by_key(|i| self.execs[*i].started_seq);
        }
        running.extend(mine(XS::Queued));
        running
    }

    /// GetPendingJobExecutions (SPEC 4.3, R12, R19): at most the cap.
    pub fn pending(&self, thing: &str) -> Vec<ExecView> {
        self.pending_all(thing).into_iter().take(PENDING_CAP).map(|i| self.execs[i].view()).collect()
    }

    /// `$next` (SPEC 4.3).
    pub fn next_pending(&self, thing: &str) -> Option<ExecView> {
        self.pending_all(thing).first().map(|i| self.execs[*i].view())
    }

    /// The (job, thing) executions; `number` None → the latest (SPEC §8 "Default when omitted").
    fn find(&self, job: &str, thing: &str, number: Option<u64>) -> Result<usize, Refusal> {
        if !self.jobs.contains_key(job) {
            return refuse(NOT_FOUND);
        }
        let mine = self.execs.iter().enumerate().filter(|(_, e)| e.job == job && e.thing == thing);
        let found = match number {
            Some(n) => mine.filter(|(_, e)| e.number == n).map(|(i, _)| i).next(),
            None => mine.max_by_key(|(_, e)| e.number).map(|(i, _)| i),
        };
        found.map_or_else(|| refuse(NOT_FOUND), Ok)
    }

    /// A thing the registry still knows: registered, or referred to by an execution.
    pub fn known_thing(&self, thing: &str) -> bool {
        self.things.contains(thing) || self.execs.iter().any(|e| e.thing == thing)
    }

    pub fn job_execs(&self, job: &str) -> Vec<ExecView> {
        self.execs.iter().filter(|e| e.job == job).map(Exec::view).collect()
    }

    pub fn thing_execs(&self, thing: &str) -> Vec<ExecView> {
        self.execs.iter().filter(|e| e.thing == thing).map(Exec::view).collect()
    }

    /// `jobProcessDetails`: executions per status (SPEC §8: they count executions).
    pub fn counts(&self, job: &str) -> [u32; 8] {
        let mut out = [0; 8];
        for e in self.execs.iter().filter(|e| e.job == job) {
            let i = XS::ALL.iter().position(|s| *s == e.status).unwrap();
            out[i] += 1;
        }
        out
    }

    /// `targets()` of a job, per the reading.
    pub fn target_count(&self, job: &Job) -> usize {
        if self.readings.targets_counted_by_executions { job.counted } else { job.targets.len() }
    }

    /// The next instant something is due: a deletion, a timeout, a schedule start, batch or end.
    pub fn next_deadline(&self) -> Option<u64> {
        let deletions = self.deleting.iter().map(|(_, due)| *due);
        let timeouts = self.execs.iter().filter(|e| e.status == XS::InProgress).filter_map(|e| e.deadline);
        let schedules = self.jobs.values().filter_map(Job::next_event);
        deletions.chain(timeouts).chain(schedules).min()
    }

    // ---- the one entry point ----------------------------------------------------------------

    /// Applies `req` at `now`: the answer and the events, in a canonical (sorted) order.
    pub fn apply(&mut self, req: &Req<'_>, now: u64) -> (Result<Out, Refusal>, Vec<Ev>) {
        self.ops += 1;
        let before = self.pending_lists();
        let mut events = Vec::new();
        self.touched.clear();
        let answer = self.decide_and_apply(req, now, &mut events);
        if answer.is_ok() {
            self.complete_jobs(now, &mut events);
            // `advance` notifies each of its transitions on its own; judged over the whole call,
            // two transitions of one thing would mix the namespaces of one with the head change
            // of the other (R20).
            if !matches!(req, Req::Advance { .. }) {
                self.notify_changes(&before, &mut events);
            }
        }
        events.sort();
        (answer, events)
    }

    /// Every thing's pending list (execution sequence numbers) and every execution's mark.
    fn pending_lists(&self) -> Before {
        let things: BTreeSet<&String> = self.execs.iter().map(|e| &e.thing).collect();
        let lists = things.into_iter().map(|t| (t.clone(), self.pending_seqs(t))).collect();
        Before { lists, marks: self.marks() }
    }

    fn marks(&self) -> BTreeMap<u64, Mark> {
        self.execs
            .iter()
            .map(|e| {
                let namespace = self.jobs.get(&e.job).and_then(|j| j.namespace.clone());
                let pending = self.listed(e);
                (
                    e.seq,
                    Mark { thing: e.thing.clone(), status: e.status, version: e.version, pending, namespace },
                )
            })
            .collect()
    }

    /// R15: `notify` to every thing whose pending list changed membership since `before`,
    /// `notify-next` to every thing whose head changed. R20: each also on the topics of the
    /// namespace of every job one of whose executions on that thing changed while pending (or
    /// became or stopped being pending).
    fn notify_changes(&self, before: &Before, events: &mut Vec<Ev>) {
        let mut things: BTreeSet<String> = self.execs.iter().map(|e| e.thing.clone()).collect();
        things.extend(before.lists.keys().cloned());
        let after = self.marks();
        let seqs: BTreeSet<u64> = after.keys().chain(before.marks.keys()).copied().collect();
        for t in things {
            let old = before.lists.get(&t).cloned().unwrap_or_default();
            let new = self.pending_seqs(&t);
            let set = |v: &[u64]| v.iter().copied().collect::<BTreeSet<u64>>();
            let list_changed = set(&old) != set(&new);
            let head_changed = old.first() != new.first();
            if list_changed {
                events.push(Ev::Notify(t.clone()));
            }
            if head_changed {
                events.push(Ev::NotifyNext(t.clone()));
            }
            let mut namespaces = BTreeSet::new();
            for s in &seqs {
                let (was, now) = (before.marks.get(s), after.get(s));
                let on_thing = was.or(now).is_some_and(|m| m.thing == t);
                let pending = was.is_some_and(|m| m.pending) || now.is_some_and(|m| m.pending);
                if on_thing && pending && was != now {
                    namespaces.extend(was.or(now).and_then(|m| m.namespace.clone()));
                }
            }
            for ns in namespaces {
                if list_changed {
                    events.push(Ev::NotifyNs(t.clone(), ns.clone()));
                }
                if head_changed {
                    events.push(Ev::NotifyNextNs(t.clone(), ns));
                }
            }
        }
    }

    fn pending_seqs(&self, thing: &str) -> Vec<u64> {
        self.pending_all(thing).into_iter().map(|i| self.execs[i].seq).collect()
    }

    /// SPEC §2 COMPLETED: an IN_PROGRESS SNAPSHOT job whose executions are all terminal; a
    /// CONTINUOUS one only once its endTime has passed, too.
    fn complete_jobs(&mut self, now: u64, events: &mut Vec<Ev>) {
        let ids: Vec<String> = self.jobs.keys().cloned().collect();
        for id in ids {
            let all_terminal = self.execs.iter().filter(|e| e.job == id).all(|e| is_terminal(e.status));
            let job = self.jobs.get_mut(&id).unwrap();
            let ends = match job.selection {
                TargetSelection::Snapshot => true,
                TargetSelection::Continuous => job.end.is_some_and(|end| now >= end),
            };
            // Targets a paced rollout has not reached yet are work still to do (SPEC §6 Rollout).
            let all_terminal = all_terminal && job.waiting.is_empty();
            // Time-driven transitions happen in `advance` (sans-IO): a CONTINUOUS job's end is
            // noticed when its end is applied there (once: AMBIG-12), or when one of its
            // executions changes.
            // READING: a clock set back after the end was applied does not apply it again; a
            // job whose executions all ended in between completes at its next change.
            let noticed = !self.readings.complete_only_on_change
                || self.touched.contains(&id)
                || job.selection == TargetSelection::Snapshot;
            if job.status == JS::InProgress && all_terminal && ends && noticed {
                job.status = JS::Completed;
                job.completed_at = Some(now);
                events.push(Ev::Job(id.clone(), "completed"));
            }
        }
    }

    /// The one place an execution's status changes: R6 version + 1, timestamps, 7.4 event.
    fn set_status(&mut self, i: usize, to: XS, now: u64, events: &mut Vec<Ev>) {
        let ops = self.ops;
        self.touched.insert(self.execs[i].job.clone());
        let e = &mut self.execs[i];
        let from = e.status;
        e.status = to;
        e.version += 1;
        e.last_updated = now;
        if to == XS::InProgress && e.started_at.is_none() {
            e.started_at = Some(now);
        }
        // SPEC T7, §3 timer facts: the in-progress timer starts on entering IN_PROGRESS and is
        // then the deadline; the timers run on through a progress report; QUEUED and terminal
        // executions do not time out.
        if to == XS::InProgress && from == XS::Queued {
            let minutes = self.jobs[&e.job].timeout;
            e.timeout_at = minutes.map(|m| now + m * 60);
            e.deadline = e.timeout_at;
        } else if to != XS::InProgress {
            e.deadline = None;
        }
        let last_write = self.readings.in_progress_order == InProgressOrder::LastWrite;
        if to == XS::InProgress && (from != XS::InProgress || last_write) {
            e.started_seq = Some(ops);
        }
        if let Some(ev) = exec_event(to) {
            events.push(Ev::Exec(e.job.clone(), e.thing.clone(), e.number, ev));
        }
    }

    /// SPEC T1, R7: the next QUEUED execution of (job, thing), numbered 1 + the highest that
    /// still exists.
    fn queue(&mut self, job: &str, thing: &str, now: u64) {
        let number = self
            .execs
            .iter()
            .filter(|e| e.job == job && e.thing == thing)
            .map(|e| e.number)
            .max()
            .unwrap_or(0)
            + 1;
        self.next_seq += 1;
        self.jobs.get_mut(job).unwrap().reached.insert(thing.to_owned());
        self.execs.push(Exec {
            seq: self.next_seq,
            job: job.to_owned(),
            thing: thing.to_owned(),
            number,
            version: 1,
            status: XS::Queued,
            force_canceled: false,
            details: Vec::new(),
            deadline: None,
            timeout_at: None,
            queued_at: now,
            started_at: None,
            last_updated: now,
            started_seq: None,
        });
    }

    /// SPEC 4.2 CancelJob: the job becomes CANCELED; QUEUED executions (and IN_PROGRESS ones
    /// with force) become CANCELED.
    fn cancel(&mut self, job: &str, force: bool, reason: Option<&str>, now: u64, ev: &mut Vec<Ev>) {
        let j = self.jobs.get_mut(job).unwrap();
        j.status = JS::Canceled;
        j.force_canceled = force;
        if let Some(r) = reason {
            j.reason = Some(r.to_owned());
        }
        ev.push(Ev::Job(job.to_owned(), "cancellation_in_progress"));
        for i in 0..self.execs.len() {
            let e = &self.execs[i];
            if e.job == job && (e.status == XS::Queued || (force && e.status == XS::InProgress)) {
                self.set_status(i, XS::Canceled, now, ev);
                self.execs[i].force_canceled = force;
            }
        }
        ev.push(Ev::Job(job.to_owned(), "canceled"));
    }

    /// After a device update or a timeout ended execution `i`: the job's abort criteria
    /// (SPEC §6 Abort) first, else a retry (SPEC T12, §6 Retries).
    fn after_terminal(&mut self, i: usize, now: u64, ev: &mut Vec<Ev>) {
        let (job, thing, status) =
            (self.execs[i].job.clone(), self.execs[i].thing.clone(), self.execs[i].status);
        let count = |s: XS| self.execs.iter().filter(|e| e.job == job && e.status == s).count() as u64;
        let (succeeded, failed) = (count(XS::Succeeded), count(XS::Failed));
        let (timed_out, rejected) = (count(XS::TimedOut), count(XS::Rejected));
        let j = &self.jobs[&job];
        // SPEC §6 Abort: an IN_PROGRESS job, at least `min` executions ended, and failures (at
        // least one) reaching `threshold` percent of them; the job is canceled without force.
        let executed = succeeded + failed + timed_out + rejected;
        let met = j.abort.iter().any(|&(kind, centi, min)| {
            let failures = match kind {
                FailureType::Failed => failed,
                FailureType::Rejected => rejected,
                FailureType::TimedOut => timed_out,
                FailureType::All => failed + rejected + timed_out,
            };
            executed >= u64::from(min) && failures > 0 && failures * 10_000 >= u64::from(centi) * executed
        });
        if j.status == JS::InProgress && met {
            self.cancel(&job, false, Some("ABORT_CRITERIA_MET"), now, ev);
            return;
        }
        // SPEC T12: FAILED and TIMED_OUT executions of a live job are retried, by the
        // criterion for their type (else ALL), at most 10 times per thing in all.
        let kind = match status {
            XS::Failed => RetryableFailureType::Failed,
            XS::TimedOut => RetryableFailureType::TimedOut,
            XS::Queued | XS::InProgress | XS::Succeeded | XS::Rejected | XS::Removed | XS::Canceled => return,
        };
        if !matches!(j.status, JS::InProgress | JS::Scheduled) {
            return;
        }
        let (f, t) = j.retries.get(&thing).copied().unwrap_or((0, 0));
        let criterion = j
            .retry
            .iter()
            .find(|(k, _)| *k == kind)
            .or_else(|| j.retry.iter().find(|(k, _)| *k == RetryableFailureType::All));
        let Some(&(by, n)) = criterion else { return };
        let used = match by {
            RetryableFailureType::All => f + t,
            RetryableFailureType::Failed => f,
            RetryableFailureType::TimedOut => t,
        };
        if f + t >= 10 || used >= n {
            return;
        }
        let after = if kind == RetryableFailureType::Failed { (f + 1, t) } else { (f, t + 1) };
        self.jobs.get_mut(&job).unwrap().retries.insert(thing.clone(), after);
        // SPEC 7.2, R15: the retry's QUEUED execution is part of the operation's change to the
        // thing's pending list, notified once with it (by the operation's own comparison).
        self.queue(&job, &thing, now);
    }
}

mod decide;
mod time;
