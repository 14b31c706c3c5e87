//! The stored entries of the registry's tables.

use super::compact::Stamp;
use super::details::DetailsIx;
use super::slab::{Ix, Links, List};
use super::types::ProcessDetails;
use crate::config::{JobConfig, RetryConfig};
use crate::error::Rejection;
use crate::id::{ExecutionNumber, JobId, NamespaceId, ReasonCode, ThingName, Timestamp, VersionNumber};
use crate::rules;
use crate::status::{ExecutionStatus, JobStatus, TargetSelection};

/// The position of a job in its table.
pub(super) type JobIx = Ix<JobEntry>;
/// The position of a thing in its table.
pub(super) type ThingIx = Ix<ThingEntry>;
/// The position of an execution in its table.
pub(super) type ExecIx = Ix<ExecutionEntry>;
/// The position of a (job, thing) pair record in its table.
pub(super) type PairIx = Ix<PairEntry>;

/// Where a (job, thing) pair's state lives: in its newest execution, or, while it has none, in a
/// pair record. The index maps the pair to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Head {
    /// The pair's newest execution.
    Exec(ExecIx),
    /// The pair's record (a target waiting for the rollout, passed over by it, or whose
    /// executions were all deleted).
    Record(PairIx),
}

pub(super) use crate::rules::NEVER;

/// The `reasonCode` of a job canceled by its abort criteria. AWS fills one in (DG-CLI) but does
/// not document its value; this is the crate's.
pub const ABORT_REASON: &str = "ABORT_CRITERIA_MET";

impl JobEntry {
    /// What its schedule events depend on ([`rules::next_job_event`], [`rules::schedule_event`]).
    pub(super) fn clock(&self) -> rules::JobClock {
        rules::JobClock {
            status: self.status,
            schedule: self.config.schedule,
            started: self.started,
            ended: self.ended,
            rollout_at: self.rollout_next.map(|_| self.rollout_at.get()),
            // Open as its status says, until `job_event` looks at the windows.
            window: self.config.windows.map(|_| rules::WindowClock {
                at: self.window_at.get(),
                open: self.status == JobStatus::InProgress,
            }),
        }
    }

    /// The ramp of its next batch, with an exponential rate ([`rules::ramp_up`]).
    pub(super) fn next_ramp(&self) -> Option<rules::Ramp> {
        let succeeded = self.process.count(ExecutionStatus::Succeeded);
        self.config.exponential.map(|x| rules::ramp_up(&x, self.ramp, succeeded))
    }

    /// When its next schedule event is due: start, next rollout batch, end.
    pub(super) fn next_event(&self) -> Option<Timestamp> {
        rules::next_job_event(&self.clock())
    }
}

/// One job's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobEntry {
    pub(super) id: JobId,
    pub(super) status: JobStatus,
    pub(super) selection: TargetSelection,
    pub(super) namespace: Option<NamespaceId>,
    pub(super) created_at: Stamp,
    pub(super) last_updated_at: Stamp,
    /// When it completed; [`Stamp::NEVER`] before.
    pub(super) completed_at: Stamp,
    pub(super) reason_code: Option<ReasonCode>,
    pub(super) force_canceled: bool,
    pub(super) process: ProcessDetails,
    pub(super) targets: u32,
    pub(super) config: JobConfig,
    pub(super) executions: List<ExecIx>,
    /// Its targets, one pair per thing, in target order: a list of things, singly linked
    /// through [`PairState::job_next`] of each pair's [`Head`] (the pair is found through the
    /// index, so the list does not change when its head moves between executions and records).
    pub(super) pairs: List<ThingIx>,
    /// The thing of the next pair without an execution yet (paced or scheduled rollout), or none.
    pub(super) rollout_next: Option<ThingIx>,
    /// When the next batch of a paced rollout may go out.
    pub(super) rollout_at: Stamp,
    /// The schedule's end has been applied.
    pub(super) ended: bool,
    /// It went IN_PROGRESS at least once.
    pub(super) started: bool,
    /// With maintenance windows: when to look at them again ([`rules::WindowClock::at`]);
    /// [`NEVER`] without, or when that is past `u32::MAX` seconds (no accepted `now` reaches
    /// it).
    pub(super) window_at: Stamp,
    /// Where its exponential rollout stands ([`rules::Ramp`]).
    pub(super) ramp: rules::Ramp,
    /// Creation order among jobs: events due at one instant happen in it.
    pub(super) seq: u32,
}

/// One thing: its pending lists (IN_PROGRESS, then QUEUED, each in queue order) and all its
/// executions. Kept while executions refer to it, even after the thing is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ThingEntry {
    pub(super) name: ThingName,
    pub(super) registered: bool,
    /// Its IN_PROGRESS executions, in queue order, singly linked through
    /// [`ExecutionEntry::pending_next`] with the tail kept: taking or reading the head
    /// (StartNext, GetPendingJobExecutions, the notifications) and appending are O(1); taking
    /// out any other execution walks the list from its head, O(the thing's pending
    /// executions), which are few: one per unfinished job that targets the thing.
    pub(super) in_progress: List<ExecIx>,
    /// Its QUEUED executions (listed to the device), in queue order; linked as `in_progress`.
    pub(super) queued: List<ExecIx>,
    pub(super) all: List<ExecIx>,
    /// Pairs that refer to this thing (kept under R7 `Monotonic` after their executions go).
    pub(super) pairs: u32,
    /// The stamp of the last operation that counted this thing (finds repeated targets in O(1)).
    pub(super) mark: u32,
}

/// One execution's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExecutionEntry {
    pub(super) job: JobIx,
    pub(super) thing: ThingIx,
    /// Its [`ExecutionNumber`], stored as `u32` ([`compact`](super::compact)).
    pub(super) number: u32,
    /// Its [`VersionNumber`], stored as `u32`.
    pub(super) version: u32,
    pub(super) status: ExecutionStatus,
    /// `forceCanceled` and `retryAttempt`, in one byte.
    pub(super) flags: ExecFlags,
    pub(super) queued_at: Stamp,
    /// When it went IN_PROGRESS; [`Stamp::NEVER`] before.
    pub(super) started_at: Stamp,
    pub(super) last_updated_at: Stamp,
    /// The in-progress deadline, fixed when the execution starts (AMBIG-15); `NEVER` if none.
    pub(super) timeout_at: Stamp,
    /// When it times out: the step deadline capped by `timeout_at` (SPEC T7); `NEVER` if none.
    pub(super) deadline: Stamp,
    pub(super) details: Option<DetailsIx>,
    /// The next older execution of the same (job, thing).
    pub(super) pair_prev: Option<ExecIx>,
    /// Its pair's state, while it is the pair's newest execution (older ones keep a stale copy
    /// that nothing reads).
    pub(super) pair: PairState,
    pub(super) job_link: Links<ExecIx>,
    pub(super) thing_link: Links<ExecIx>,
    /// The next execution in the thing's in-progress or queued list, while pending and visible
    /// (the lists are singly linked: [`ThingEntry::in_progress`]).
    pub(super) pending_next: Option<ExecIx>,
}

impl ExecutionEntry {
    /// Its number.
    pub(super) fn number(&self) -> ExecutionNumber {
        ExecutionNumber::from(self.number)
    }

    /// Its version.
    pub(super) fn version(&self) -> VersionNumber {
        VersionNumber::from(self.version)
    }
}

impl PairState {
    /// The highest number ever given to the pair, if any.
    pub(super) fn highest(&self) -> Option<ExecutionNumber> {
        (self.highest != 0).then(|| ExecutionNumber::from(self.highest))
    }
}

/// A (job, thing) pair's state: the highest number it ever had (R7), its retries, whether it
/// is a counted target, and its link in the job's list of targets. Held by the pair's newest
/// execution, or by a [`PairEntry`] while it has none.
///
/// Packed (byte-aligned, 10 bytes): in an execution it sits beside the status and the
/// [`ExecFlags`] byte without padding (4 × 4-byte fields + 10 + 1 + 1 = 80 bytes). Its fields are
/// read and written by value (a reference to a packed `u32` field is refused by the compiler).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(Rust, packed)]
pub(super) struct PairState {
    /// The highest number ever given to the pair (R7 `Monotonic`); 0 for none (numbers start
    /// at 1).
    pub(super) highest: u32,
    /// The thing of the next pair in the job's list of targets. The list is singly linked:
    /// pairs are added last, walked forward, and removed only from the front, when their job
    /// is deleted.
    pub(super) job_next: Option<ThingIx>,
    /// Retries used, by failure type: FAILED, TIMED_OUT (SPEC T12).
    pub(super) retries: Retries,
    /// Counted among the job's targets (CreateJob, AssociateTargetsWithJob), not only a member
    /// of a targeted group.
    pub(super) target: bool,
}

#[cfg(feature = "defmt")]
impl defmt::Format for PairState {
    fn format(&self, f: defmt::Formatter<'_>) {
        let (highest, job_next, retries, target) = (self.highest, self.job_next, self.retries, self.target);
        defmt::write!(
            f,
            "PairState {{ highest: {}, job_next: {}, retries: {}, target: {} }}",
            highest,
            job_next,
            retries,
            target
        );
    }
}

/// The most retries of one (job, thing), per failure type and in total, and so the highest
/// `retryAttempt` ([`RetryConfig::MAX_TOTAL`], 10: SPEC §6 Retries, refused above by
/// [`RetryConfig::new`]); the rules grant no retry once the total reaches it
/// ([`rules::retry`]). Stored in 4 bits each.
pub(super) const MAX_RETRIES: u8 = RetryConfig::MAX_TOTAL;
const _: () = assert!(MAX_RETRIES <= 0x0f, "a retry count must fit in 4 bits");

/// A count above [`MAX_RETRIES`]: the rules never make one (a defect, refused, never wrapped);
/// a snapshot that holds one is refused at restore.
const RETRIES_PAST_MAX: Rejection = Rejection::LogicBug("a retry count past RetryConfig::MAX_TOTAL");

/// The retries a pair used, per failure type (SPEC T12): FAILED in the low 4 bits, TIMED_OUT in
/// the high 4, each at most [`MAX_RETRIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) struct Retries(u8);

impl Retries {
    /// `used`, or a refusal if either count is past [`MAX_RETRIES`].
    pub(super) fn new(used: rules::RetriesUsed) -> Result<Self, Rejection> {
        if used.failed > MAX_RETRIES || used.timed_out > MAX_RETRIES {
            return Err(RETRIES_PAST_MAX);
        }
        Ok(Self(used.failed | (used.timed_out << 4)))
    }

    /// The counts.
    pub(super) fn used(self) -> rules::RetriesUsed {
        rules::RetriesUsed { failed: self.0 & 0x0f, timed_out: self.0 >> 4 }
    }
}

/// An execution's `forceCanceled` (the high bit) and `retryAttempt` (the low 4 bits, at most
/// [`MAX_RETRIES`]: each retry of a pair counts one retry used, so an attempt never exceeds its
/// pair's total).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) struct ExecFlags(u8);

impl ExecFlags {
    const FORCE_CANCELED: u8 = 0x80;

    /// A new execution's: not force-canceled, attempt `retry_attempt`, or a refusal past
    /// [`MAX_RETRIES`].
    pub(super) fn new(retry_attempt: u8) -> Result<Self, Rejection> {
        if retry_attempt > MAX_RETRIES {
            return Err(RETRIES_PAST_MAX);
        }
        Ok(Self(retry_attempt))
    }

    /// `forceCanceled`.
    pub(super) fn force_canceled(self) -> bool {
        self.0 & Self::FORCE_CANCELED != 0
    }

    /// Sets `forceCanceled`.
    pub(super) fn set_force_canceled(&mut self, force_canceled: bool) {
        if force_canceled {
            self.0 |= Self::FORCE_CANCELED;
        } else {
            self.0 &= !Self::FORCE_CANCELED;
        }
    }

    /// `retryAttempt`.
    pub(super) fn retry_attempt(self) -> u8 {
        self.0 & !Self::FORCE_CANCELED
    }
}

/// A (job, thing) pair without an execution: a target waiting for a paced or scheduled
/// rollout, passed over by it, or whose executions were all deleted (it stays one of the job's
/// targets, and under R7 `Monotonic` its `highest` numbers the next one). A pair with
/// executions keeps its state in the newest one instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PairEntry {
    pub(super) job: JobIx,
    pub(super) thing: ThingIx,
    pub(super) pair: PairState,
}
