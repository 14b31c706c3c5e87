//! The lifecycle decisions the service makes on its own: retries, abort, device access,
//! statusDetails writes, notifications, UpdateJob's merge and the schedule's bounds (SPEC T12,
//! T13, R10, R14, R15, R19, §6, SEED-CLI); the time-driven ones are in `schedule`.
//!
//! Where an input is numeric, a table gives the rule per case and `tests/conformance.rs`
//! checks the rules over an exhaustive small domain of values.

use super::{OK, Outcome};
use crate::error::{Exception, Plane};
use crate::policy::{DetailsWrite, NotifyOn, UnknownThing};
use crate::rules::RetriesUsed;
use crate::status::{ExecutionStatus, FailureType, JobStatus, RetryableFailureType};
use crate::topic::JobEvent;

use ExecutionStatus as E;
use JobStatus as J;
use RetryableFailureType as RF;

const NOT_FOUND: Outcome = Outcome::Refused(Exception::ResourceNotFound, 404);

/// Whether a rule applies to a job in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobFlagRow {
    /// Job status.
    pub job: JobStatus,
    /// The rule applies.
    pub applies: bool,
    /// Source.
    pub spec: &'static str,
}

/// Which jobs get retries: live ones (SPEC T12).
pub const RETRY_JOB: [JobFlagRow; 5] = [
    JobFlagRow { job: J::InProgress, applies: true, spec: "SPEC T12" },
    JobFlagRow { job: J::Canceled, applies: false, spec: "SPEC T12 (no new executions once canceled)" },
    JobFlagRow { job: J::Completed, applies: false, spec: "SPEC T12 (no new executions once completed)" },
    JobFlagRow { job: J::DeletionInProgress, applies: false, spec: "SPEC T12, R4" },
    JobFlagRow { job: J::Scheduled, applies: true, spec: "SPEC T12, R5" },
];

/// The failure type an execution status counts as for retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryFailureRow {
    /// The status the execution reached.
    pub status: ExecutionStatus,
    /// Its retry failure type, or `None`: never retried.
    pub failure: Option<RetryableFailureType>,
    /// Source.
    pub spec: &'static str,
}

/// Which statuses are retried, and as which failure type (SPEC T12, §6 Retries).
pub const RETRY_FAILURE: [RetryFailureRow; 8] = [
    RetryFailureRow { status: E::Queued, failure: None, spec: "SPEC T12 (not a failure)" },
    RetryFailureRow { status: E::InProgress, failure: None, spec: "SPEC T12 (not a failure)" },
    RetryFailureRow { status: E::Succeeded, failure: None, spec: "SPEC T12 (not a failure)" },
    RetryFailureRow { status: E::Failed, failure: Some(RF::Failed), spec: "SPEC T12" },
    RetryFailureRow { status: E::TimedOut, failure: Some(RF::TimedOut), spec: "SPEC T12" },
    RetryFailureRow { status: E::Rejected, failure: None, spec: "SPEC T12 (REJECTED never)" },
    RetryFailureRow { status: E::Removed, failure: None, spec: "SPEC T12 (not a failure)" },
    RetryFailureRow { status: E::Canceled, failure: None, spec: "SPEC T12 (not a failure)" },
];

/// Most retries per (job, thing) over every criterion (SPEC §6 Retries).
pub const RETRY_MAX_TOTAL: u8 = 10;

/// Which criterion of a retry configuration applies to a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryCriterionRow {
    /// The failure ([`RF::Failed`] or [`RF::TimedOut`]).
    pub failure: RetryableFailureType,
    /// The failure types the configuration has criteria for.
    pub criteria: &'static [RetryableFailureType],
    /// The criterion that applies, or `None`: no retry. It grants a retry while the retries it
    /// counts (its own type's; both types' for `ALL`) are below its `numberOfRetries`.
    pub applies: Option<RetryableFailureType>,
    /// Source.
    pub spec: &'static str,
}

/// The criterion for the failure's type, else the one for ALL (SPEC §6 Retries).
pub const RETRY_CRITERION: [RetryCriterionRow; 12] = [
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::Failed],
        applies: Some(RF::Failed),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::TimedOut],
        applies: None,
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::All],
        applies: Some(RF::All),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::Failed, RF::TimedOut],
        applies: Some(RF::Failed),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::Failed, RF::All],
        applies: Some(RF::Failed),
        spec: "SPEC §6 Retries (own type first)",
    },
    RetryCriterionRow {
        failure: RF::Failed,
        criteria: &[RF::TimedOut, RF::All],
        applies: Some(RF::All),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::Failed],
        applies: None,
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::TimedOut],
        applies: Some(RF::TimedOut),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::All],
        applies: Some(RF::All),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::Failed, RF::TimedOut],
        applies: Some(RF::TimedOut),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::Failed, RF::All],
        applies: Some(RF::All),
        spec: "SPEC §6 Retries",
    },
    RetryCriterionRow {
        failure: RF::TimedOut,
        criteria: &[RF::TimedOut, RF::All],
        applies: Some(RF::TimedOut),
        spec: "SPEC §6 Retries (own type first)",
    },
];

/// Which jobs are checked against their abort criteria: IN_PROGRESS ones (SPEC §6 Abort).
pub const ABORT_JOB: [JobFlagRow; 5] = [
    JobFlagRow { job: J::InProgress, applies: true, spec: "SPEC §6 Abort" },
    JobFlagRow { job: J::Canceled, applies: false, spec: "SPEC §6 Abort (already ended)" },
    JobFlagRow { job: J::Completed, applies: false, spec: "SPEC §6 Abort (already ended)" },
    JobFlagRow { job: J::DeletionInProgress, applies: false, spec: "SPEC §6 Abort, R4" },
    JobFlagRow { job: J::Scheduled, applies: false, spec: "SPEC §6 Abort (not started)" },
];

/// Which jobs report `isConcurrent` (SPEC §2, job facts), and on what: `applies` for a live job
/// while its rollout has targets left, and for a deleting one while it has executions left.
pub const CONCURRENT_JOB: [JobFlagRow; 5] = [
    JobFlagRow { job: J::Scheduled, applies: true, spec: "SPEC §2 (job facts: rollout targets left)" },
    JobFlagRow { job: J::InProgress, applies: true, spec: "SPEC §2 (job facts: rollout targets left)" },
    JobFlagRow { job: J::DeletionInProgress, applies: true, spec: "SPEC §2 (job facts: executions left)" },
    JobFlagRow {
        job: J::Canceled,
        applies: false,
        spec: "SPEC §2 (job facts: cancellation is done at once)",
    },
    JobFlagRow { job: J::Completed, applies: false, spec: "SPEC §2 (job facts)" },
];

/// Which ended executions an abort criterion counts as failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortFailureRow {
    /// The criterion's failure type.
    pub failure: FailureType,
    /// FAILED executions count.
    pub failed: bool,
    /// REJECTED executions count.
    pub rejected: bool,
    /// TIMED_OUT executions count.
    pub timed_out: bool,
    /// Source.
    pub spec: &'static str,
}

/// An abort criterion is met when at least `minNumberOfExecutedThings` executions ended
/// (SUCCEEDED, FAILED, REJECTED, TIMED_OUT), at least one failure counts and `failures × 100 ≥
/// thresholdPercentage × executed` (R24); the first criterion met cancels the job as CancelJob without force does (SPEC §6
/// Abort, T8).
pub const ABORT_FAILURES: [AbortFailureRow; 4] = [
    AbortFailureRow {
        failure: FailureType::Failed,
        failed: true,
        rejected: false,
        timed_out: false,
        spec: "SPEC §6 Abort",
    },
    AbortFailureRow {
        failure: FailureType::Rejected,
        failed: false,
        rejected: true,
        timed_out: false,
        spec: "SPEC §6 Abort",
    },
    AbortFailureRow {
        failure: FailureType::TimedOut,
        failed: false,
        rejected: false,
        timed_out: true,
        spec: "SPEC §6 Abort",
    },
    AbortFailureRow {
        failure: FailureType::All,
        failed: true,
        rejected: true,
        timed_out: true,
        spec: "SPEC §6 Abort",
    },
];

/// A request on a plane reaching an execution of a job in one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessRow {
    /// The job's status.
    pub job: JobStatus,
    /// The plane.
    pub plane: Plane,
    /// The answer.
    pub outcome: Outcome,
    /// Source.
    pub spec: &'static str,
}

/// Devices lose access to a job being deleted (SEED-CLI).
pub const DEVICE_ACCESS: [AccessRow; 10] = [
    AccessRow { job: J::InProgress, plane: Plane::Control, outcome: OK, spec: "SPEC 4.2" },
    AccessRow { job: J::Canceled, plane: Plane::Control, outcome: OK, spec: "SPEC 4.2" },
    AccessRow { job: J::Completed, plane: Plane::Control, outcome: OK, spec: "SPEC 4.2" },
    AccessRow { job: J::DeletionInProgress, plane: Plane::Control, outcome: OK, spec: "SEED-CLI" },
    AccessRow { job: J::Scheduled, plane: Plane::Control, outcome: OK, spec: "SPEC 4.2" },
    AccessRow { job: J::InProgress, plane: Plane::Data, outcome: OK, spec: "SPEC 4.3" },
    AccessRow { job: J::Canceled, plane: Plane::Data, outcome: OK, spec: "SPEC 4.3" },
    AccessRow { job: J::Completed, plane: Plane::Data, outcome: OK, spec: "SPEC 4.3" },
    AccessRow { job: J::DeletionInProgress, plane: Plane::Data, outcome: NOT_FOUND, spec: "SEED-CLI" },
    AccessRow { job: J::Scheduled, plane: Plane::Data, outcome: OK, spec: "SPEC 4.3" },
];

/// A data-plane request for a thing the registry does not know, under one reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownThingRow {
    /// The reading.
    pub policy: UnknownThing,
    /// The answer: accepted means "as a thing with no executions".
    pub outcome: Outcome,
    /// Source.
    pub spec: &'static str,
}

/// Unknown things on the data plane (SPEC R19).
pub const UNKNOWN_THING: [UnknownThingRow; 2] = [
    UnknownThingRow { policy: UnknownThing::Empty, outcome: OK, spec: "SPEC R19" },
    UnknownThingRow { policy: UnknownThing::NotFound, outcome: NOT_FOUND, spec: "SPEC R19 alternative" },
];

/// Whether a thing that becomes a target (again) gets a new QUEUED execution, and the retries
/// its (job, thing) has used then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RejoinRow {
    /// The status of its newest execution of the job, if any.
    pub newest: Option<ExecutionStatus>,
    /// A new execution is queued, with these retries used (`None`: nothing is queued).
    pub queues: Option<RetriesUsed>,
    /// Source.
    pub spec: &'static str,
}

/// A new execution with no retries used: it is not a retry (SPEC T12).
const AFRESH: Option<RetriesUsed> = Some(RetriesUsed::NONE);

/// Queue only if nothing is pending (SPEC T1, T13), counting retries from none (T12).
pub const QUEUE_ON_REJOIN: [RejoinRow; 9] = [
    RejoinRow { newest: None, queues: AFRESH, spec: "SPEC T1" },
    RejoinRow { newest: Some(E::Queued), queues: None, spec: "SPEC T13" },
    RejoinRow { newest: Some(E::InProgress), queues: None, spec: "SPEC T13" },
    RejoinRow { newest: Some(E::Succeeded), queues: AFRESH, spec: "SPEC T13, T12" },
    RejoinRow { newest: Some(E::Failed), queues: AFRESH, spec: "SPEC T13, T12" },
    RejoinRow { newest: Some(E::TimedOut), queues: AFRESH, spec: "SPEC T13, T12" },
    RejoinRow { newest: Some(E::Rejected), queues: AFRESH, spec: "SPEC T13, T12" },
    RejoinRow { newest: Some(E::Removed), queues: AFRESH, spec: "SPEC T13, T12" },
    RejoinRow { newest: Some(E::Canceled), queues: AFRESH, spec: "SPEC T13, T12" },
];

/// Where a key of a statusDetails write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyIn {
    /// In the stored map and in the update.
    Both,
    /// In the stored map only.
    StoredOnly,
    /// In the update only.
    UpdateOnly,
}

/// What the stored map holds for a key after a write that carries statusDetails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAfter {
    /// The update's value, in the update's order, after the kept pairs.
    UpdateValue,
    /// The stored value, in stored order.
    StoredValue,
    /// Nothing.
    Dropped,
}

/// One key of a statusDetails write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailsRow {
    /// The reading.
    pub write: DetailsWrite,
    /// Where the key is.
    pub key: KeyIn,
    /// What the map holds for it after.
    pub after: KeyAfter,
    /// Source.
    pub spec: &'static str,
}

/// Most pairs in a stored map after a write (SPEC R14, AMBIG-16); more is an
/// `InvalidRequestException`.
pub const DETAILS_MAX_PAIRS: usize = 10;

/// statusDetails writes (SPEC R14). A write without statusDetails leaves the map alone.
pub const DETAILS_WRITE: [DetailsRow; 6] = [
    DetailsRow {
        write: DetailsWrite::Replace,
        key: KeyIn::Both,
        after: KeyAfter::UpdateValue,
        spec: "SPEC R14",
    },
    DetailsRow {
        write: DetailsWrite::Replace,
        key: KeyIn::StoredOnly,
        after: KeyAfter::Dropped,
        spec: "SPEC R14",
    },
    DetailsRow {
        write: DetailsWrite::Replace,
        key: KeyIn::UpdateOnly,
        after: KeyAfter::UpdateValue,
        spec: "SPEC R14",
    },
    DetailsRow {
        write: DetailsWrite::Merge,
        key: KeyIn::Both,
        after: KeyAfter::UpdateValue,
        spec: "SPEC R14 alternative",
    },
    DetailsRow {
        write: DetailsWrite::Merge,
        key: KeyIn::StoredOnly,
        after: KeyAfter::StoredValue,
        spec: "SPEC R14 alternative",
    },
    DetailsRow {
        write: DetailsWrite::Merge,
        key: KeyIn::UpdateOnly,
        after: KeyAfter::UpdateValue,
        spec: "SPEC R14 alternative",
    },
];

/// A member of a job's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigMember {
    /// `timeoutConfig`.
    Timeout,
    /// `jobExecutionsRetryConfig`.
    Retry,
    /// `abortConfig`.
    Abort,
    /// `jobExecutionsRolloutConfig`.
    Rollout,
    /// `schedulingConfig` (its times and end behavior).
    Scheduling,
    /// `schedulingConfig.maintenanceWindows` (a job template's `maintenanceWindows`).
    MaintenanceWindows,
}

/// Whether UpdateJob changes one member of a job's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigMemberRow {
    /// The member.
    pub member: ConfigMember,
    /// When the request gives it, its value replaces the job's; otherwise (or when not
    /// updatable) the job's stays.
    pub updatable: bool,
    /// Source.
    pub spec: &'static str,
}

/// UpdateJob's merge (SPEC 4.1 UpdateJob); the result is validated as CreateJob's (SPEC §6).
pub const UPDATE_JOB_CONFIG: [ConfigMemberRow; 6] = [
    ConfigMemberRow { member: ConfigMember::Timeout, updatable: true, spec: "SPEC 4.1 UpdateJob" },
    ConfigMemberRow { member: ConfigMember::Retry, updatable: true, spec: "SPEC 4.1 UpdateJob" },
    ConfigMemberRow { member: ConfigMember::Abort, updatable: true, spec: "SPEC 4.1 UpdateJob" },
    ConfigMemberRow { member: ConfigMember::Rollout, updatable: true, spec: "SPEC 4.1 UpdateJob" },
    ConfigMemberRow {
        member: ConfigMember::Scheduling,
        updatable: false,
        spec: "SPEC 4.1 UpdateJob (no schedulingConfig member)",
    },
    ConfigMemberRow {
        member: ConfigMember::MaintenanceWindows,
        updatable: false,
        spec: "SPEC 4.1 UpdateJob (no schedulingConfig member)",
    },
];

/// CreateJob from a job template (SPEC R22, AMBIG-30): `updatable` is whether the request's
/// member, when given, replaces the template's; a member the request leaves out is the
/// template's. A template has no schedule: the job's is the request's alone; its
/// `maintenanceWindows` apply unless the request's `schedulingConfig` gives some.
pub const TEMPLATE_JOB_CONFIG: [ConfigMemberRow; 6] = [
    ConfigMemberRow { member: ConfigMember::Timeout, updatable: true, spec: "SPEC R22" },
    ConfigMemberRow { member: ConfigMember::Retry, updatable: true, spec: "SPEC R22" },
    ConfigMemberRow { member: ConfigMember::Abort, updatable: true, spec: "SPEC R22" },
    ConfigMemberRow { member: ConfigMember::Rollout, updatable: true, spec: "SPEC R22" },
    ConfigMemberRow {
        member: ConfigMember::Scheduling,
        updatable: true,
        spec: "SPEC R22 (a template has no schedule: the request's, or none)",
    },
    ConfigMemberRow { member: ConfigMember::MaintenanceWindows, updatable: true, spec: "SPEC R22" },
];

/// What a bound of a scheduling time is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundFrom {
    /// The request time.
    Now,
    /// `startTime` if given, else the request time.
    StartOrNow,
}

/// The bounds of one `schedulingConfig` time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleBoundRow {
    /// `startTime` (false: `endTime`).
    pub start_time: bool,
    /// At least this many seconds after `min_from`.
    pub min_secs: u64,
    /// What the minimum is measured from.
    pub min_from: BoundFrom,
    /// At most this many seconds after the request time.
    pub max_secs: u64,
    /// Source.
    pub spec: &'static str,
}

/// `schedulingConfig` bounds from the request time, inclusive (SPEC §6 Scheduling); `startTime`
/// is checked first; a time outside is an `InvalidRequestException`.
pub const SCHEDULE_BOUNDS: [ScheduleBoundRow; 2] = [
    ScheduleBoundRow {
        start_time: true,
        min_secs: 1_800,
        min_from: BoundFrom::Now,
        max_secs: 31_536_000,
        spec: "SPEC §6 Scheduling (30 min .. 1 year)",
    },
    ScheduleBoundRow {
        start_time: false,
        min_secs: 1_800,
        min_from: BoundFrom::StartOrNow,
        max_secs: 63_072_000,
        spec: "SPEC §6 Scheduling (30 min after start .. 2 years)",
    },
];

/// Whether one execution's status change publishes its thing's `notify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyRow {
    /// The reading.
    pub notify_on: NotifyOn,
    /// In the pending list before.
    pub was_listed: bool,
    /// In the pending list after.
    pub now_listed: bool,
    /// The status changed (a progress report does not change it).
    pub status_changed: bool,
    /// `notify` is published.
    pub notifies: bool,
    /// Source.
    pub spec: &'static str,
}

const fn notify_row(notify_on: NotifyOn, was: bool, now: bool, changed: bool, notifies: bool) -> NotifyRow {
    let spec = match notify_on {
        NotifyOn::MembershipChange => "SPEC R15",
        NotifyOn::EveryNonTerminalChange => "SPEC R15 alternative, AMBIG-24",
    };
    NotifyRow { notify_on, was_listed: was, now_listed: now, status_changed: changed, notifies, spec }
}

/// `notify` on a status change (SPEC R15): when the pending list's membership changes; under
/// the alternative, also on every status change of a listed execution.
pub const NOTIFY: [NotifyRow; 16] = [
    notify_row(NotifyOn::MembershipChange, false, false, false, false),
    notify_row(NotifyOn::MembershipChange, false, false, true, false),
    notify_row(NotifyOn::MembershipChange, false, true, false, true),
    notify_row(NotifyOn::MembershipChange, false, true, true, true),
    notify_row(NotifyOn::MembershipChange, true, false, false, true),
    notify_row(NotifyOn::MembershipChange, true, false, true, true),
    notify_row(NotifyOn::MembershipChange, true, true, false, false),
    notify_row(NotifyOn::MembershipChange, true, true, true, false),
    notify_row(NotifyOn::EveryNonTerminalChange, false, false, false, false),
    notify_row(NotifyOn::EveryNonTerminalChange, false, false, true, false),
    notify_row(NotifyOn::EveryNonTerminalChange, false, true, false, true),
    notify_row(NotifyOn::EveryNonTerminalChange, false, true, true, true),
    notify_row(NotifyOn::EveryNonTerminalChange, true, false, false, true),
    notify_row(NotifyOn::EveryNonTerminalChange, true, false, true, true),
    notify_row(NotifyOn::EveryNonTerminalChange, true, true, false, false),
    notify_row(NotifyOn::EveryNonTerminalChange, true, true, true, true),
];

/// Which topics one change of a thing's executions is published on (SPEC R15, R20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyTopicsRow {
    /// The changed execution's job has a `namespaceId`.
    pub namespaced: bool,
    /// The pending list changed as R15 counts it ([`NOTIFY`]).
    pub list_changed: bool,
    /// The head of the pending list changed.
    pub head_changed: bool,
    /// `…/jobs/notify`.
    pub notify: bool,
    /// `…/jobs/notify-next`.
    pub notify_next: bool,
    /// `…/jobs/notify-namespace-NS` of the job's namespace.
    pub notify_namespace: bool,
    /// `…/jobs/notify-next-namespace-NS` of the job's namespace.
    pub notify_next_namespace: bool,
    /// Source.
    pub spec: &'static str,
}

const fn topics_row(
    namespaced: bool,
    list: bool,
    head: bool,
    plain: (bool, bool),
    ns: (bool, bool),
) -> NotifyTopicsRow {
    NotifyTopicsRow {
        namespaced,
        list_changed: list,
        head_changed: head,
        notify: plain.0,
        notify_next: plain.1,
        notify_namespace: ns.0,
        notify_next_namespace: ns.1,
        spec: if namespaced { "SPEC R20, AMBIG-27" } else { "SPEC R15" },
    }
}

/// The topics of a change (SPEC R15, R20, AMBIG-27): the plain topics for every job; the
/// namespace's topics too when the job has a namespace. Both judged on the whole pending list.
pub const NOTIFY_TOPICS: [NotifyTopicsRow; 8] = [
    topics_row(false, false, false, (false, false), (false, false)),
    topics_row(false, false, true, (false, true), (false, false)),
    topics_row(false, true, false, (true, false), (false, false)),
    topics_row(false, true, true, (true, true), (false, false)),
    topics_row(true, false, false, (false, false), (false, false)),
    topics_row(true, false, true, (false, true), (false, true)),
    topics_row(true, true, false, (true, false), (true, false)),
    topics_row(true, true, true, (true, true), (true, true)),
];

/// Whether a namespace topic's payload lists an execution (SPEC R20, AMBIG-27).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespacePayloadRow {
    /// The namespace of the execution's job (`None`: created without one).
    pub job_namespace: Option<&'static str>,
    /// The namespace of the topic.
    pub topic_namespace: &'static str,
    /// The execution is in the payload.
    pub listed: bool,
    /// Source.
    pub spec: &'static str,
}

/// What `notify-namespace-NS` and `notify-next-namespace-NS` carry: only the executions of jobs
/// created in NS (SPEC R20, AMBIG-27).
pub const NAMESPACE_PAYLOAD: [NamespacePayloadRow; 3] = [
    NamespacePayloadRow { job_namespace: None, topic_namespace: "ns", listed: false, spec: "SPEC R20" },
    NamespacePayloadRow { job_namespace: Some("ns"), topic_namespace: "ns", listed: true, spec: "SPEC R20" },
    NamespacePayloadRow {
        job_namespace: Some("other"),
        topic_namespace: "ns",
        listed: false,
        spec: "SPEC R20",
    },
];

/// The `status` of a job event's payload (SPEC 7.4, enum-event-status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobEventStatusRow {
    /// The event.
    pub event: JobEvent,
    /// Its payload's `status`.
    pub status: &'static str,
    /// Source.
    pub spec: &'static str,
}

/// Each job event reports the state it announces (SPEC 7.4, DG-EVT's example payloads):
/// `cancellation_in_progress` and `deleted` with strings that are no `JobStatus`.
pub const JOB_EVENT_STATUS: [JobEventStatusRow; 5] = [
    JobEventStatusRow { event: JobEvent::Completed, status: "COMPLETED", spec: "SPEC 7.4" },
    JobEventStatusRow { event: JobEvent::Canceled, status: "CANCELED", spec: "SPEC 7.4" },
    JobEventStatusRow { event: JobEvent::Deleted, status: "DELETED", spec: "SPEC 7.4, enum-event-status" },
    JobEventStatusRow {
        event: JobEvent::CancellationInProgress,
        status: "CANCELLATION_IN_PROGRESS",
        spec: "SPEC 7.4, enum-event-status",
    },
    JobEventStatusRow {
        event: JobEvent::DeletionInProgress,
        status: "DELETION_IN_PROGRESS",
        spec: "SPEC 7.4",
    },
];

/// Which jobs' executions a DeleteThing removes, as a thing leaving the targets does
/// ([`REMOVE_TARGET`](super::REMOVE_TARGET)): all but those of a job being deleted (SPEC T10, R4).
pub const REMOVE_THING_JOB: [JobFlagRow; 5] = [
    JobFlagRow { job: J::InProgress, applies: true, spec: "SPEC T10" },
    JobFlagRow { job: J::Canceled, applies: true, spec: "SPEC T10" },
    JobFlagRow { job: J::Completed, applies: true, spec: "SPEC T10" },
    JobFlagRow { job: J::DeletionInProgress, applies: false, spec: "SPEC R4 (the deletion removes them)" },
    JobFlagRow { job: J::Scheduled, applies: true, spec: "SPEC T10, R5" },
];

/// The executions a job in one status holds ([`crate::rules::job_holds`]): a snapshot holding
/// any other is refused on restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobHoldsRow {
    /// The job's status.
    pub job: JobStatus,
    /// The job's `forceCanceled`.
    pub force_canceled: bool,
    /// The statuses its executions may have.
    pub holds: &'static [ExecutionStatus],
    /// Source.
    pub spec: &'static str,
}

const ANY: &[ExecutionStatus] = &ExecutionStatus::ALL;
const TERMINAL: &[ExecutionStatus] =
    &[E::Succeeded, E::Failed, E::TimedOut, E::Rejected, E::Removed, E::Canceled];
const RUNNING_OR_TERMINAL: &[ExecutionStatus] =
    &[E::InProgress, E::Succeeded, E::Failed, E::TimedOut, E::Rejected, E::Removed, E::Canceled];

/// What each job holds (SPEC §2 job-holds): every (status, `forceCanceled`) pair.
pub const JOB_HOLDS: [JobHoldsRow; 10] = [
    JobHoldsRow { job: J::InProgress, force_canceled: false, holds: ANY, spec: "SPEC §2" },
    JobHoldsRow { job: J::InProgress, force_canceled: true, holds: ANY, spec: "SPEC §2" },
    JobHoldsRow { job: J::Scheduled, force_canceled: false, holds: ANY, spec: "SPEC §2, R21" },
    JobHoldsRow { job: J::Scheduled, force_canceled: true, holds: ANY, spec: "SPEC §2, R21" },
    JobHoldsRow { job: J::DeletionInProgress, force_canceled: false, holds: ANY, spec: "SPEC §2, R4" },
    JobHoldsRow { job: J::DeletionInProgress, force_canceled: true, holds: ANY, spec: "SPEC §2, R4" },
    JobHoldsRow { job: J::Completed, force_canceled: false, holds: TERMINAL, spec: "SPEC §2 COMPLETED" },
    JobHoldsRow { job: J::Completed, force_canceled: true, holds: TERMINAL, spec: "SPEC §2 COMPLETED" },
    JobHoldsRow { job: J::Canceled, force_canceled: false, holds: RUNNING_OR_TERMINAL, spec: "SPEC T8, T14" },
    JobHoldsRow { job: J::Canceled, force_canceled: true, holds: TERMINAL, spec: "SPEC T8, T9, T14" },
];
