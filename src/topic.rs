//! MQTT topics of the Jobs device API, its notifications and its events (SPEC §7, R8).
//!
//! A [`Topic`] is one topic as a value. [`Topic::parse`] reads a topic into a borrowed view whose
//! thing name, job id and namespace have been validated with the rules of [`crate::id`] (SPEC R17);
//! [`Topic::write_to`] (a caller's buffer) and [`Topic::to_heapless`] write it back. The two are exact
//! inverses: every topic that parses is rebuilt byte for byte, and every topic built parses to the
//! value it was built from.
//!
//! ```text
//! $aws/things/T/jobs/get[/R]                      GetPending        SPEC 7.1
//! $aws/things/T/jobs/start-next[/R]               StartNext         SPEC 7.1
//! $aws/things/T/jobs/J/get[/R]                    Describe          SPEC 7.1       J may be $next
//! $aws/things/T/jobs/J/update[/R]                 Update            SPEC 7.1
//! $aws/things/T/jobs/notify                       Notify            SPEC 7.2
//! $aws/things/T/jobs/notify-next                  NotifyNext        SPEC 7.2
//! $aws/things/T/jobs/J/namespace-NS/get[/R]       Describe          SPEC 7.3, R8   J may be $next
//! $aws/things/T/jobs/J/namespace-NS/update[/R]    Update            SPEC 7.3, R8
//! $aws/things/T/jobs/notify-namespace-NS          Notify            SPEC 7.3, R8
//! $aws/things/T/jobs/notify-next-namespace-NS     NotifyNext        SPEC 7.3, R8
//! $aws/things/T/jobs/J/notify-namespace-NS/       DocumentedNotify  SPEC 7.3, R8
//! $aws/events/job/J/EVENT                         JobEvent          SPEC 7.4
//! $aws/events/jobExecution/J/EVENT                ExecutionEvent    SPEC 7.4
//!                                                 R = accepted | rejected
//! ```
//!
//! No source shows a namespace form of GetPending or StartNext (SPEC 7.3, AMBIG-8): none can be
//! built, and `…/jobs/{get,start-next}/namespace-NS[/accepted|/rejected]` parses to
//! [`TopicError::UnsupportedNamespaceForm`].
//!
//! The longest topic has [`MAX_TOPIC_LEN`] bytes, more than IoT Core's default limit of
//! [`BROKER_MAX_TOPIC_LEN`] (SPEC §6). Building never refuses a long namespace topic;
//! [`Topic::is_within_broker_limits`] tells whether the broker will take it.
//!
//! ```
//! use iot_jobs_core::topic::{JobIdRef, JobSelector, Reply, ThingNameRef, Topic, MAX_TOPIC_LEN};
//!
//! let thing = ThingNameRef::new("pump-7")?;
//! let update = Topic::Update { thing, job: JobIdRef::new("firmware-2")?, namespace: None, reply: None };
//! let mut buf = [0; MAX_TOPIC_LEN];
//! assert_eq!(update.write_to(&mut buf)?, "$aws/things/pump-7/jobs/firmware-2/update");
//!
//! let reply = Topic::parse("$aws/things/pump-7/jobs/$next/get/accepted")?;
//! let next = JobSelector::Next;
//! assert_eq!(reply, Topic::Describe { thing, job: next, namespace: None, reply: Some(Reply::Accepted) });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;

use crate::id::{FieldError, JobId, NamespaceId, ThingName};
use crate::status::ExecutionStatus;

/// Prefix of the device API and notification topics (SPEC 7.1–7.3).
const THINGS: &str = "$aws/things/";
/// Prefix of the job event topics (SPEC 7.4).
const JOB_EVENTS: &str = "$aws/events/job/";
/// Prefix of the job execution event topics (SPEC 7.4).
const EXECUTION_EVENTS: &str = "$aws/events/jobExecution/";
/// The job id that selects the next pending execution (SPEC §5 `DescribeJobExecutionJobId`).
const NEXT: &str = "$next";

/// The length of the longest topic any valid input produces: a namespaced update reply,
/// `$aws/things/<128>/jobs/<64>/namespace-<64>/update/accepted` (SPEC §6, 7.3; R8).
pub const MAX_TOPIC_LEN: usize = THINGS.len()
    + ThingName::MAX_LEN
    + "/jobs/".len()
    + JobId::MAX_LEN
    + "/namespace-".len()
    + NamespaceId::MAX_LEN
    + "/update/accepted".len();

/// IoT Core's default limit on the length of a topic, in bytes (SPEC §6).
pub const BROKER_MAX_TOPIC_LEN: usize = 256;

/// IoT Core's default limit on the number of `/` in a topic (SPEC §6).
pub const BROKER_MAX_SLASHES: usize = 7;

/// Defines a borrowed, validated view of one of the owned identifiers of [`crate::id`].
macro_rules! borrowed_id {
    ($(#[$meta:meta])* $name:ident, $owned:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct $name<'a>(&'a str);

        impl<'a> $name<'a> {
            #[doc = concat!(
                "Validates `s` as a [`", stringify!($owned), "`] (SPEC §5, R17) and borrows it."
            )]
            pub fn new(s: &'a str) -> Result<Self, FieldError> {
                // The owned type is the one place the pattern is written; its copy is dropped at once.
                $owned::new(s).map(|_| Self(s))
            }

            /// The identifier as it appears in the topic.
            #[must_use]
            pub const fn as_str(self) -> &'a str {
                self.0
            }
        }

        impl<'a> From<&'a $owned> for $name<'a> {
            fn from(id: &'a $owned) -> Self {
                Self(id.as_str())
            }
        }

        impl fmt::Display for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
    };
}

borrowed_id! {
    /// A borrowed thing name, valid as a [`ThingName`]: 1–128 of `[a-zA-Z0-9:_-]`.
    ThingNameRef, ThingName
}

borrowed_id! {
    /// A borrowed job id, valid as a [`JobId`]: 1–64 of `[a-zA-Z0-9_-]`.
    JobIdRef, JobId
}

borrowed_id! {
    /// A borrowed namespace, valid as a [`NamespaceId`]: 1–64 of `[a-zA-Z0-9_-]`.
    NamespaceIdRef, NamespaceId
}

/// The job a DescribeJobExecution topic names: a job id, or `$next` (SPEC §5
/// `DescribeJobExecutionJobId`, 7.1). No other topic accepts `$next`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum JobSelector<'a> {
    /// `$next`: the next pending execution, in StartNext order.
    Next,
    /// One job.
    Id(JobIdRef<'a>),
}

impl<'a> JobSelector<'a> {
    /// `$next`, or else a job id validated as a [`JobId`].
    pub fn new(s: &'a str) -> Result<Self, FieldError> {
        if s == NEXT { Ok(Self::Next) } else { JobIdRef::new(s).map(Self::Id) }
    }

    /// The selector as it appears in the topic.
    #[must_use]
    pub const fn as_str(self) -> &'a str {
        match self {
            Self::Next => NEXT,
            Self::Id(job) => job.as_str(),
        }
    }
}

impl<'a> From<JobIdRef<'a>> for JobSelector<'a> {
    fn from(job: JobIdRef<'a>) -> Self {
        Self::Id(job)
    }
}

/// Which reply to a request a topic carries; the request itself has none (SPEC 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reply {
    /// `/accepted`: the response payload.
    Accepted,
    /// `/rejected`: an ErrorResponse (SPEC §4.4).
    Rejected,
}

impl Reply {
    /// The last topic segment.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }
}

/// What a job event topic reports (SPEC 7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum JobEvent {
    /// `completed`.
    Completed,
    /// `canceled`.
    Canceled,
    /// `deleted`.
    Deleted,
    /// `cancellation_in_progress`.
    CancellationInProgress,
    /// `deletion_in_progress`.
    DeletionInProgress,
}

impl JobEvent {
    /// Every job event, in the order SPEC 7.4 lists them.
    pub const ALL: [Self; 5] = [
        Self::Completed,
        Self::Canceled,
        Self::Deleted,
        Self::CancellationInProgress,
        Self::DeletionInProgress,
    ];

    /// The last topic segment.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Canceled => "canceled",
            Self::Deleted => "deleted",
            Self::CancellationInProgress => "cancellation_in_progress",
            Self::DeletionInProgress => "deletion_in_progress",
        }
    }

    fn from_segment(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// What a job execution event topic reports (SPEC 7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ExecutionEvent {
    /// `succeeded`.
    Succeeded,
    /// `failed`.
    Failed,
    /// `rejected`.
    Rejected,
    /// `canceled`.
    Canceled,
    /// `timed_out`.
    TimedOut,
    /// `removed`.
    Removed,
    /// `deleted`.
    Deleted,
}

impl ExecutionEvent {
    /// Every job execution event, in the order SPEC 7.4 lists them.
    pub const ALL: [Self; 7] = [
        Self::Succeeded,
        Self::Failed,
        Self::Rejected,
        Self::Canceled,
        Self::TimedOut,
        Self::Removed,
        Self::Deleted,
    ];

    /// The last topic segment.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Canceled => "canceled",
            Self::TimedOut => "timed_out",
            Self::Removed => "removed",
            Self::Deleted => "deleted",
        }
    }

    /// The event an execution entering `status` reports: one per terminal status; none for the
    /// pending ones (SPEC 7.4, 3.1). `deleted` follows DeleteJobExecution, not a status.
    #[must_use]
    pub const fn for_status(status: ExecutionStatus) -> Option<Self> {
        match status {
            ExecutionStatus::Queued | ExecutionStatus::InProgress => None,
            ExecutionStatus::Succeeded => Some(Self::Succeeded),
            ExecutionStatus::Failed => Some(Self::Failed),
            ExecutionStatus::Rejected => Some(Self::Rejected),
            ExecutionStatus::Canceled => Some(Self::Canceled),
            ExecutionStatus::TimedOut => Some(Self::TimedOut),
            ExecutionStatus::Removed => Some(Self::Removed),
        }
    }

    fn from_segment(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A topic that is not a valid Jobs topic, or a buffer too small for one.
///
/// Offsets (`at`) are byte offsets into the parsed topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TopicError {
    /// Not under `$aws/things/<thing>/jobs/`, `$aws/events/job/` or `$aws/events/jobExecution/`.
    NotJobsTopic,
    /// Under a Jobs prefix, but naming no Jobs topic: an unknown operation or event, or an empty,
    /// missing or extra segment (a trailing `/` is an empty segment). The service answers a publish
    /// there with `InvalidTopic` (SPEC §4.4). `at` is where the part that was not understood starts.
    UnknownSuffix {
        /// Offset of the part after `…/jobs/` or after the job id of an event topic.
        at: usize,
    },
    /// The thing name, job id or namespace segment starting at `at` is not valid; `error` names
    /// the field and the constraint (its position is relative to the segment).
    InvalidField {
        /// Offset of the segment.
        at: usize,
        /// The field and the constraint it failed.
        error: FieldError,
    },
    /// `$next` where a job id is required: only DescribeJobExecution accepts it (SPEC §5, 7.1).
    NextNotAllowed {
        /// Offset of `$next`.
        at: usize,
    },
    /// `…/jobs/{get,start-next}/namespace-NS`: no source shows a namespace form of GetPending or
    /// StartNext, so it is not supported (SPEC 7.3, AMBIG-8).
    UnsupportedNamespaceForm {
        /// Offset of the `namespace-` segment.
        at: usize,
    },
    /// The topic has `needed` bytes; the buffer has room for `available`. Nothing was written.
    BufferTooSmall {
        /// The topic's length.
        needed: usize,
        /// The buffer's capacity.
        available: usize,
    },
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotJobsTopic => f.write_str(
                "not a Jobs topic: expected $aws/things/<thing>/jobs/…, $aws/events/job/… or \
                 $aws/events/jobExecution/…",
            ),
            Self::UnknownSuffix { at } => {
                write!(f, "the topic names no Jobs operation or event from byte {at}")
            }
            Self::InvalidField { at, error } => write!(f, "invalid topic segment at byte {at}: {error}"),
            Self::NextNotAllowed { at } => write!(
                f,
                "$next at byte {at} is allowed only as the job of a describe topic (…/jobs/$next/get)"
            ),
            Self::UnsupportedNamespaceForm { at } => write!(
                f,
                "namespace at byte {at}: GetPendingJobExecutions and StartNextPendingJobExecution have no \
                 documented namespace topic"
            ),
            Self::BufferTooSmall { needed, available } => {
                write!(f, "the topic needs {needed} bytes; the buffer has {available}")
            }
        }
    }
}

impl core::error::Error for TopicError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::InvalidField { error, .. } => Some(error),
            Self::NotJobsTopic
            | Self::UnknownSuffix { .. }
            | Self::NextNotAllowed { .. }
            | Self::UnsupportedNamespaceForm { .. }
            | Self::BufferTooSmall { .. } => None,
        }
    }
}

/// One Jobs topic (SPEC §7): what it is for, with its thing name, job and namespace.
///
/// Values are built directly or with [`parse`](Self::parse); every field is already valid, so every
/// value has exactly one topic string, written by [`write_to`](Self::write_to),
/// [`to_heapless`](Self::to_heapless) or `Display`. A `namespace` of `None` is the plain topic;
/// `Some` is the Greengrass form of SPEC R8.
///
/// Responses reach the publishing client without a subscription, and only that client; a client
/// must check that the thing name of a topic it receives is its own (SPEC §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Topic<'a> {
    /// `$aws/things/T/jobs/get[/accepted|/rejected]`: GetPendingJobExecutions (SPEC 7.1).
    GetPending {
        /// `T`.
        thing: ThingNameRef<'a>,
        /// `None` for the request.
        reply: Option<Reply>,
    },
    /// `$aws/things/T/jobs/start-next[/accepted|/rejected]`: StartNextPendingJobExecution (SPEC 7.1).
    StartNext {
        /// `T`.
        thing: ThingNameRef<'a>,
        /// `None` for the request.
        reply: Option<Reply>,
    },
    /// `$aws/things/T/jobs/J/get[/accepted|/rejected]`, or with a namespace
    /// `$aws/things/T/jobs/J/namespace-NS/get[/…]`: DescribeJobExecution (SPEC 7.1, 7.3, R8).
    Describe {
        /// `T`.
        thing: ThingNameRef<'a>,
        /// `J`, which may be `$next`.
        job: JobSelector<'a>,
        /// `NS`.
        namespace: Option<NamespaceIdRef<'a>>,
        /// `None` for the request.
        reply: Option<Reply>,
    },
    /// `$aws/things/T/jobs/J/update[/accepted|/rejected]`, or with a namespace
    /// `$aws/things/T/jobs/J/namespace-NS/update[/…]`: UpdateJobExecution (SPEC 7.1, 7.3, R8).
    Update {
        /// `T`.
        thing: ThingNameRef<'a>,
        /// `J`.
        job: JobIdRef<'a>,
        /// `NS`.
        namespace: Option<NamespaceIdRef<'a>>,
        /// `None` for the request.
        reply: Option<Reply>,
    },
    /// `$aws/things/T/jobs/notify`, or with a namespace `$aws/things/T/jobs/notify-namespace-NS`:
    /// the pending list changed (SPEC 7.2, 7.3, R8).
    Notify {
        /// `T`.
        thing: ThingNameRef<'a>,
        /// `NS`.
        namespace: Option<NamespaceIdRef<'a>>,
    },
    /// `$aws/things/T/jobs/notify-next`, or with a namespace
    /// `$aws/things/T/jobs/notify-next-namespace-NS`: the head of the pending list changed
    /// (SPEC 7.2, 7.3, R8).
    NotifyNext {
        /// `T`.
        thing: ThingNameRef<'a>,
        /// `NS`.
        namespace: Option<NamespaceIdRef<'a>>,
    },
    /// `$aws/things/T/jobs/J/notify-namespace-NS/`, trailing slash included: the namespace
    /// notification as the API reference documents it (SPEC 7.3). AWS's own clients use
    /// [`Notify`](Self::Notify) with a namespace instead (R8); this form is kept apart, not folded
    /// into that one, so that it is rebuilt exactly as it was received.
    DocumentedNotify {
        /// `T`.
        thing: ThingNameRef<'a>,
        /// `J`.
        job: JobIdRef<'a>,
        /// `NS`.
        namespace: NamespaceIdRef<'a>,
    },
    /// `$aws/events/job/J/EVENT` (SPEC 7.4).
    JobEvent {
        /// `J`.
        job: JobIdRef<'a>,
        /// `EVENT`.
        event: JobEvent,
    },
    /// `$aws/events/jobExecution/J/EVENT` (SPEC 7.4).
    ExecutionEvent {
        /// `J`.
        job: JobIdRef<'a>,
        /// `EVENT`.
        event: ExecutionEvent,
    },
}

impl<'a> Topic<'a> {
    /// Reads `topic`, validating its thing name, job id and namespace (SPEC §7, R8, R17).
    ///
    /// Matching is exact and case-sensitive. MQTT wildcards (`+`, `#`) are not topic characters,
    /// so a subscription filter is an error.
    ///
    /// # Errors
    ///
    /// A [`TopicError`] that says what is wrong and where; never [`TopicError::BufferTooSmall`].
    pub fn parse(topic: &'a str) -> Result<Self, TopicError> {
        if let Some(rest) = topic.strip_prefix(THINGS) {
            Self::parse_thing_topic(topic, rest)
        } else if let Some(rest) = topic.strip_prefix(JOB_EVENTS) {
            // SPEC 7.4: `$aws/events/job/J/EVENT`.
            let (job, event) = parse_event(topic, rest, JobEvent::from_segment)?;
            Ok(Self::JobEvent { job, event })
        } else if let Some(rest) = topic.strip_prefix(EXECUTION_EVENTS) {
            // SPEC 7.4: `$aws/events/jobExecution/J/EVENT`.
            let (job, event) = parse_event(topic, rest, ExecutionEvent::from_segment)?;
            Ok(Self::ExecutionEvent { job, event })
        } else {
            Err(TopicError::NotJobsTopic)
        }
    }

    /// `rest` follows `$aws/things/` in `topic`.
    fn parse_thing_topic(topic: &'a str, rest: &'a str) -> Result<Self, TopicError> {
        // SPEC §7: `$aws/things/T/jobs/…`; other topics of a thing (its shadow, …) are not ours.
        let Some((thing, rest)) = rest.split_once(is_slash) else { return Err(TopicError::NotJobsTopic) };
        let Some(rest) = rest.strip_prefix("jobs/") else { return Err(TopicError::NotJobsTopic) };
        let thing = ThingNameRef::new(thing).map_err(invalid(topic, thing))?;
        let unknown = TopicError::UnknownSuffix { at: offset(topic, rest) };

        let (path, reply) = split_reply(rest);
        let mut segments = path.split(is_slash);
        let segments = [segments.next(), segments.next(), segments.next(), segments.next()];
        Ok(match (segments, reply) {
            // SPEC 7.1: the requests that name no job, and their replies.
            ([Some("get"), None, None, None], reply) => Self::GetPending { thing, reply },
            ([Some("start-next"), None, None, None], reply) => Self::StartNext { thing, reply },
            // SPEC 7.2: the notifications.
            ([Some("notify"), None, None, None], None) => Self::Notify { thing, namespace: None },
            ([Some("notify-next"), None, None, None], None) => Self::NotifyNext { thing, namespace: None },
            // SPEC 7.3, R8: the notifications in a namespace, as AWS's Greengrass clients spell them.
            ([Some(segment), None, None, None], None) => {
                if let Some(ns) = segment.strip_prefix("notify-namespace-") {
                    Self::Notify { thing, namespace: Some(namespace_id(topic, ns)?) }
                } else if let Some(ns) = segment.strip_prefix("notify-next-namespace-") {
                    Self::NotifyNext { thing, namespace: Some(namespace_id(topic, ns)?) }
                } else {
                    return Err(unknown);
                }
            }
            // SPEC 7.1: describe (J may be `$next`) and update.
            ([Some(job), Some("get"), None, None], reply) => {
                Self::Describe { thing, job: job_selector(topic, job)?, namespace: None, reply }
            }
            ([Some(job), Some("update"), None, None], reply) => {
                Self::Update { thing, job: job_id(topic, job)?, namespace: None, reply }
            }
            // SPEC 7.3, R8: describe and update in a namespace (Greengrass); J may be `$next` in describe.
            ([Some(job), Some(ns), Some("get"), None], reply) => {
                let ns = ns.strip_prefix("namespace-").ok_or(unknown)?;
                let job = job_selector(topic, job)?;
                Self::Describe { thing, job, namespace: Some(namespace_id(topic, ns)?), reply }
            }
            ([Some(job), Some(ns), Some("update"), None], reply) => {
                let ns = ns.strip_prefix("namespace-").ok_or(unknown)?;
                let job = job_id(topic, job)?;
                Self::Update { thing, job, namespace: Some(namespace_id(topic, ns)?), reply }
            }
            // SPEC 7.3, R8: the API reference's form, trailing slash included.
            ([Some(job), Some(ns), Some(""), None], None) => {
                let ns = ns.strip_prefix("notify-namespace-").ok_or(unknown)?;
                let job = job_id(topic, job)?;
                Self::DocumentedNotify { thing, job, namespace: namespace_id(topic, ns)? }
            }
            // SPEC 7.3, AMBIG-8: no source shows a namespace form of GetPending or StartNext.
            ([Some("get" | "start-next"), Some(ns), None, None], _) if ns.starts_with("namespace-") => {
                return Err(TopicError::UnsupportedNamespaceForm { at: offset(topic, ns) });
            }
            _ => return Err(unknown),
        })
    }

    /// The topics a device agent subscribes to: `notify-next`, and the replies to the requests it
    /// makes before it knows a job id (GetPending, StartNext and describe of `$next`; in a
    /// namespace only the describe, SPEC 7.3). Update replies name their job: subscribe to them
    /// once the job is known.
    ///
    /// IoT Core delivers replies to the publishing client without a subscription (SPEC §7);
    /// subscribing anyway is harmless there and needed with brokers that route them like any other
    /// topic.
    pub fn subscriptions(
        thing: ThingNameRef<'a>,
        namespace: Option<NamespaceIdRef<'a>>,
    ) -> impl Iterator<Item = Topic<'a>> {
        let describe =
            |reply| Self::Describe { thing, job: JobSelector::Next, namespace, reply: Some(reply) };
        let plain = |topic| namespace.is_none().then_some(topic);
        [
            Some(Self::NotifyNext { thing, namespace }),
            plain(Self::GetPending { thing, reply: Some(Reply::Accepted) }),
            plain(Self::GetPending { thing, reply: Some(Reply::Rejected) }),
            plain(Self::StartNext { thing, reply: Some(Reply::Accepted) }),
            plain(Self::StartNext { thing, reply: Some(Reply::Rejected) }),
            Some(describe(Reply::Accepted)),
            Some(describe(Reply::Rejected)),
        ]
        .into_iter()
        .flatten()
    }

    /// The thing the topic belongs to; `None` for the event topics, which name only a job.
    #[must_use]
    pub const fn thing(&self) -> Option<ThingNameRef<'a>> {
        match *self {
            Self::GetPending { thing, .. }
            | Self::StartNext { thing, .. }
            | Self::Describe { thing, .. }
            | Self::Update { thing, .. }
            | Self::Notify { thing, .. }
            | Self::NotifyNext { thing, .. }
            | Self::DocumentedNotify { thing, .. } => Some(thing),
            Self::JobEvent { .. } | Self::ExecutionEvent { .. } => None,
        }
    }

    /// The topic's length in bytes; never more than [`MAX_TOPIC_LEN`].
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        self.pieces().iter().fold(0, |len, piece| len.saturating_add(piece.len()))
    }

    /// Whether IoT Core accepts the topic with its default limits: at most
    /// [`BROKER_MAX_TOPIC_LEN`] bytes and [`BROKER_MAX_SLASHES`] slashes (SPEC §6). Only namespace
    /// topics with long names can fail.
    #[must_use]
    pub fn is_within_broker_limits(&self) -> bool {
        let slashes = self.pieces().iter().flat_map(|piece| piece.bytes()).filter(|&b| b == b'/').count();
        self.encoded_len() <= BROKER_MAX_TOPIC_LEN && slashes <= BROKER_MAX_SLASHES
    }

    /// Writes the topic to the start of `buf` and returns it.
    ///
    /// A buffer of [`MAX_TOPIC_LEN`] bytes always suffices; a shorter one that cannot hold this
    /// topic gives [`TopicError::BufferTooSmall`], never a truncated topic.
    ///
    /// # Errors
    ///
    /// [`TopicError::BufferTooSmall`] only, before anything is written.
    pub fn write_to<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, TopicError> {
        let needed = self.encoded_len();
        let too_small = TopicError::BufferTooSmall { needed, available: buf.len() };
        let out = buf.get_mut(..needed).ok_or(too_small)?;
        let mut at = 0;
        for piece in self.pieces() {
            let end = piece.len().checked_add(at).ok_or(too_small)?;
            out.get_mut(at..end).ok_or(too_small)?.copy_from_slice(piece.as_bytes());
            at = end;
        }
        // Whole `str`s laid end to end are UTF-8, so the error arm is dead.
        core::str::from_utf8(out).map_err(|_| too_small)
    }

    /// The topic as a `heapless::String`. With `N` = [`MAX_TOPIC_LEN`] this never fails; a smaller
    /// `N` that cannot hold this topic gives [`TopicError::BufferTooSmall`].
    ///
    /// # Errors
    ///
    /// [`TopicError::BufferTooSmall`] only.
    pub fn to_heapless<const N: usize>(&self) -> Result<heapless::String<N>, TopicError> {
        let too_small = TopicError::BufferTooSmall { needed: self.encoded_len(), available: N };
        let mut out = heapless::String::new();
        self.pieces().iter().try_for_each(|piece| out.push_str(piece)).map_err(|_| too_small)?;
        Ok(out)
    }

    /// The topic as consecutive pieces, unused ones empty: the single description of the layout,
    /// read by every writer and by the length and broker checks.
    fn pieces(&self) -> [&'a str; 8] {
        let namespace =
            |ns: Option<NamespaceIdRef<'a>>| ns.map_or(("", ""), |ns| ("/namespace-", ns.as_str()));
        match *self {
            // SPEC 7.1.
            Self::GetPending { thing, reply } => {
                [THINGS, thing.0, "/jobs/get", suffix(reply), "", "", "", ""]
            }
            Self::StartNext { thing, reply } => {
                [THINGS, thing.0, "/jobs/start-next", suffix(reply), "", "", "", ""]
            }
            // SPEC 7.1, 7.3, R8.
            Self::Describe { thing, job, namespace: ns, reply } => {
                let (key, ns) = namespace(ns);
                [THINGS, thing.0, "/jobs/", job.as_str(), key, ns, "/get", suffix(reply)]
            }
            Self::Update { thing, job, namespace: ns, reply } => {
                let (key, ns) = namespace(ns);
                [THINGS, thing.0, "/jobs/", job.0, key, ns, "/update", suffix(reply)]
            }
            // SPEC 7.2.
            Self::Notify { thing, namespace: None } => [THINGS, thing.0, "/jobs/notify", "", "", "", "", ""],
            Self::NotifyNext { thing, namespace: None } => {
                [THINGS, thing.0, "/jobs/notify-next", "", "", "", "", ""]
            }
            // SPEC 7.3, R8.
            Self::Notify { thing, namespace: Some(ns) } => {
                [THINGS, thing.0, "/jobs/notify-namespace-", ns.0, "", "", "", ""]
            }
            Self::NotifyNext { thing, namespace: Some(ns) } => {
                [THINGS, thing.0, "/jobs/notify-next-namespace-", ns.0, "", "", "", ""]
            }
            Self::DocumentedNotify { thing, job, namespace: ns } => {
                [THINGS, thing.0, "/jobs/", job.0, "/notify-namespace-", ns.0, "/", ""]
            }
            // SPEC 7.4.
            Self::JobEvent { job, event } => [JOB_EVENTS, job.0, "/", event.as_str(), "", "", "", ""],
            Self::ExecutionEvent { job, event } => {
                [EXECUTION_EVENTS, job.0, "/", event.as_str(), "", "", "", ""]
            }
        }
    }
}

impl fmt::Display for Topic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces().iter().try_for_each(|piece| f.write_str(piece))
    }
}

/// `/accepted`, `/rejected`, or nothing for a request (SPEC 7.1).
const fn suffix(reply: Option<Reply>) -> &'static str {
    match reply {
        None => "",
        Some(Reply::Accepted) => "/accepted",
        Some(Reply::Rejected) => "/rejected",
    }
}

/// Splits a reply segment off the end of `rest` (SPEC 7.1).
fn split_reply(rest: &str) -> (&str, Option<Reply>) {
    if let Some(path) = rest.strip_suffix("/accepted") {
        (path, Some(Reply::Accepted))
    } else if let Some(path) = rest.strip_suffix("/rejected") {
        (path, Some(Reply::Rejected))
    } else {
        (rest, None)
    }
}

/// `J/EVENT` of an event topic: J is a job id, never `$next` (SPEC 7.4).
fn parse_event<'a, E>(
    topic: &'a str,
    rest: &'a str,
    event: fn(&str) -> Option<E>,
) -> Result<(JobIdRef<'a>, E), TopicError> {
    let (job, name) = rest.split_once(is_slash).map_or((rest, None), |(job, name)| (job, Some(name)));
    let job = job_id(topic, job)?;
    let at = name.map_or(topic.len(), |name| offset(topic, name));
    let event = name.and_then(event).ok_or(TopicError::UnknownSuffix { at })?;
    Ok((job, event))
}

/// A job id segment; `$next` is refused by name (SPEC §5: only DescribeJobExecution accepts it).
fn job_id<'a>(topic: &str, s: &'a str) -> Result<JobIdRef<'a>, TopicError> {
    if s == NEXT {
        return Err(TopicError::NextNotAllowed { at: offset(topic, s) });
    }
    JobIdRef::new(s).map_err(invalid(topic, s))
}

/// The job segment of a describe topic (SPEC §5 `DescribeJobExecutionJobId`).
fn job_selector<'a>(topic: &str, s: &'a str) -> Result<JobSelector<'a>, TopicError> {
    JobSelector::new(s).map_err(invalid(topic, s))
}

/// A namespace segment (SPEC §5 `NamespaceId`).
fn namespace_id<'a>(topic: &str, s: &'a str) -> Result<NamespaceIdRef<'a>, TopicError> {
    NamespaceIdRef::new(s).map_err(invalid(topic, s))
}

/// Wraps a segment's [`FieldError`] with the segment's offset.
fn invalid(topic: &str, segment: &str) -> impl FnOnce(FieldError) -> TopicError {
    let at = offset(topic, segment);
    move |error| TopicError::InvalidField { at, error }
}

/// The segment separator, as a predicate: with the `'/'` pattern, core's `CharSearcher` keeps a
/// bounds check (and so a panic path) that the optimiser cannot remove.
const fn is_slash(c: char) -> bool {
    c == '/'
}

/// The byte offset of `part`, a subslice of `topic`, in `topic` (what the unstable
/// `str::substr_range` computes).
fn offset(topic: &str, part: &str) -> usize {
    part.as_ptr().addr().saturating_sub(topic.as_ptr().addr())
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::string::{String, ToString};
    use std::vec::Vec;
    use std::{format, vec};

    use proptest::prelude::*;

    use super::*;
    use crate::id::{Field, Violation};

    fn thing(s: &str) -> ThingNameRef<'_> {
        ThingNameRef::new(s).unwrap()
    }
    fn job(s: &str) -> JobIdRef<'_> {
        JobIdRef::new(s).unwrap()
    }
    fn ns(s: &str) -> NamespaceIdRef<'_> {
        NamespaceIdRef::new(s).unwrap()
    }

    /// Every way to write `topic` agrees with `expected`, and `expected` parses back to `topic`.
    fn check_both_ways(topic: Topic<'_>, expected: &str) {
        assert_eq!(topic.to_string(), expected);
        assert_eq!(topic.encoded_len(), expected.len());
        let mut buf = [0; MAX_TOPIC_LEN];
        assert_eq!(topic.write_to(&mut buf), Ok(expected));
        assert_eq!(topic.to_heapless::<MAX_TOPIC_LEN>().unwrap().as_str(), expected);
        assert_eq!(Topic::parse(expected), Ok(topic), "{expected}");
    }

    #[test]
    fn golden_strings_for_every_kind() {
        let (t, j, n) = (thing("dev:1"), job("job_1"), ns("ns-1"));
        let (acc, rej) = (Some(Reply::Accepted), Some(Reply::Rejected));
        let next = JobSelector::Next;
        let cases = [
            (Topic::GetPending { thing: t, reply: None }, "$aws/things/dev:1/jobs/get"),
            (Topic::GetPending { thing: t, reply: acc }, "$aws/things/dev:1/jobs/get/accepted"),
            (Topic::GetPending { thing: t, reply: rej }, "$aws/things/dev:1/jobs/get/rejected"),
            (Topic::StartNext { thing: t, reply: None }, "$aws/things/dev:1/jobs/start-next"),
            (Topic::StartNext { thing: t, reply: acc }, "$aws/things/dev:1/jobs/start-next/accepted"),
            (Topic::StartNext { thing: t, reply: rej }, "$aws/things/dev:1/jobs/start-next/rejected"),
            (
                Topic::Describe { thing: t, job: j.into(), namespace: None, reply: None },
                "$aws/things/dev:1/jobs/job_1/get",
            ),
            (
                Topic::Describe { thing: t, job: j.into(), namespace: None, reply: acc },
                "$aws/things/dev:1/jobs/job_1/get/accepted",
            ),
            (
                Topic::Describe { thing: t, job: next, namespace: None, reply: rej },
                "$aws/things/dev:1/jobs/$next/get/rejected",
            ),
            (
                Topic::Update { thing: t, job: j, namespace: None, reply: None },
                "$aws/things/dev:1/jobs/job_1/update",
            ),
            (
                Topic::Update { thing: t, job: j, namespace: None, reply: acc },
                "$aws/things/dev:1/jobs/job_1/update/accepted",
            ),
            (
                Topic::Update { thing: t, job: j, namespace: None, reply: rej },
                "$aws/things/dev:1/jobs/job_1/update/rejected",
            ),
            (Topic::Notify { thing: t, namespace: None }, "$aws/things/dev:1/jobs/notify"),
            (Topic::NotifyNext { thing: t, namespace: None }, "$aws/things/dev:1/jobs/notify-next"),
            // SPEC 7.3, R8.
            (Topic::Notify { thing: t, namespace: Some(n) }, "$aws/things/dev:1/jobs/notify-namespace-ns-1"),
            (
                Topic::NotifyNext { thing: t, namespace: Some(n) },
                "$aws/things/dev:1/jobs/notify-next-namespace-ns-1",
            ),
            (
                Topic::Describe { thing: t, job: next, namespace: Some(n), reply: None },
                "$aws/things/dev:1/jobs/$next/namespace-ns-1/get",
            ),
            (
                Topic::Describe { thing: t, job: j.into(), namespace: Some(n), reply: acc },
                "$aws/things/dev:1/jobs/job_1/namespace-ns-1/get/accepted",
            ),
            (
                Topic::Update { thing: t, job: j, namespace: Some(n), reply: None },
                "$aws/things/dev:1/jobs/job_1/namespace-ns-1/update",
            ),
            (
                Topic::Update { thing: t, job: j, namespace: Some(n), reply: rej },
                "$aws/things/dev:1/jobs/job_1/namespace-ns-1/update/rejected",
            ),
            (
                Topic::DocumentedNotify { thing: t, job: j, namespace: n },
                "$aws/things/dev:1/jobs/job_1/notify-namespace-ns-1/",
            ),
            // Job ids that spell operation names stay job ids.
            (
                Topic::Describe { thing: t, job: job("get").into(), namespace: None, reply: acc },
                "$aws/things/dev:1/jobs/get/get/accepted",
            ),
            (
                Topic::Update { thing: t, job: job("start-next"), namespace: None, reply: None },
                "$aws/things/dev:1/jobs/start-next/update",
            ),
            (
                Topic::Describe { thing: t, job: job("get").into(), namespace: Some(ns("x")), reply: None },
                "$aws/things/dev:1/jobs/get/namespace-x/get",
            ),
            (
                Topic::Notify { thing: t, namespace: Some(ns("next-namespace-x")) },
                "$aws/things/dev:1/jobs/notify-namespace-next-namespace-x",
            ),
        ];
        for (topic, expected) in cases {
            check_both_ways(topic, expected);
        }
        for event in JobEvent::ALL {
            check_both_ways(
                Topic::JobEvent { job: j, event },
                &format!("$aws/events/job/job_1/{}", event.as_str()),
            );
        }
        for event in ExecutionEvent::ALL {
            let expected = format!("$aws/events/jobExecution/job_1/{}", event.as_str());
            check_both_ways(Topic::ExecutionEvent { job: j, event }, &expected);
        }
        let events: Vec<_> = JobEvent::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            events,
            ["completed", "canceled", "deleted", "cancellation_in_progress", "deletion_in_progress"]
        );
        let events: Vec<_> = ExecutionEvent::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            events,
            ["succeeded", "failed", "rejected", "canceled", "timed_out", "removed", "deleted"]
        );
    }

    /// One valid topic of every kind, built from the given names.
    fn every_kind<'a>(t: &'a str, j: &'a str, n: &'a str) -> Vec<Topic<'a>> {
        let (t, j, n) = (thing(t), job(j), ns(n));
        let mut all = vec![];
        for reply in [None, Some(Reply::Accepted), Some(Reply::Rejected)] {
            all.push(Topic::GetPending { thing: t, reply });
            all.push(Topic::StartNext { thing: t, reply });
            for namespace in [None, Some(n)] {
                all.push(Topic::Update { thing: t, job: j, namespace, reply });
                for job in [JobSelector::Next, j.into()] {
                    all.push(Topic::Describe { thing: t, job, namespace, reply });
                }
            }
        }
        for namespace in [None, Some(n)] {
            all.push(Topic::Notify { thing: t, namespace });
            all.push(Topic::NotifyNext { thing: t, namespace });
        }
        all.push(Topic::DocumentedNotify { thing: t, job: j, namespace: n });
        all.extend(JobEvent::ALL.map(|event| Topic::JobEvent { job: j, event }));
        all.extend(ExecutionEvent::ALL.map(|event| Topic::ExecutionEvent { job: j, event }));
        all
    }

    #[test]
    fn names_at_their_maximum_length() {
        let (t, j, n) = ("T".repeat(128), "J".repeat(64), "N".repeat(64));
        check_both_ways(
            Topic::Update { thing: thing(&t), job: job(&j), namespace: None, reply: Some(Reply::Accepted) },
            &format!("$aws/things/{t}/jobs/{j}/update/accepted"),
        );
        check_both_ways(
            Topic::Describe {
                thing: thing(&t),
                job: job(&j).into(),
                namespace: Some(ns(&n)),
                reply: Some(Reply::Rejected),
            },
            &format!("$aws/things/{t}/jobs/{j}/namespace-{n}/get/rejected"),
        );
        check_both_ways(
            Topic::NotifyNext { thing: thing(&t), namespace: Some(ns(&n)) },
            &format!("$aws/things/{t}/jobs/notify-next-namespace-{n}"),
        );
        check_both_ways(
            Topic::DocumentedNotify { thing: thing(&t), job: job(&j), namespace: ns(&n) },
            &format!("$aws/things/{t}/jobs/{j}/notify-namespace-{n}/"),
        );
        check_both_ways(
            Topic::JobEvent { job: job(&j), event: JobEvent::CancellationInProgress },
            &format!("$aws/events/job/{j}/cancellation_in_progress"),
        );
        for topic in every_kind(&t, &j, &n) {
            check_both_ways(topic, &topic.to_string());
        }
    }

    #[test]
    fn max_topic_len_is_the_longest_topic() {
        let (t, j, n) = ("T".repeat(128), "J".repeat(64), "N".repeat(64));
        let longest = every_kind(&t, &j, &n).into_iter().map(|topic| topic.encoded_len()).max();
        assert_eq!(longest, Some(MAX_TOPIC_LEN));
        // SPEC §6: 237 + len(ns).
        assert_eq!(MAX_TOPIC_LEN, 237 + 64);
        let topic = Topic::Update {
            thing: thing(&t),
            job: job(&j),
            namespace: Some(ns(&n)),
            reply: Some(Reply::Accepted),
        };
        assert_eq!(topic.to_string(), format!("$aws/things/{t}/jobs/{j}/namespace-{n}/update/accepted"));
        assert_eq!(topic.encoded_len(), MAX_TOPIC_LEN);
    }

    #[test]
    fn one_byte_short_is_an_error_not_a_truncation() {
        let (t, j, n) = ("T".repeat(128), "J".repeat(64), "N".repeat(64));
        for topic in every_kind(&t, &j, &n) {
            let len = topic.encoded_len();
            assert!(len <= MAX_TOPIC_LEN);
            let mut buf = [b'#'; MAX_TOPIC_LEN + 1];
            let short = topic.write_to(&mut buf[..len - 1]);
            assert_eq!(short, Err(TopicError::BufferTooSmall { needed: len, available: len - 1 }));
            assert!(buf.iter().all(|&b| b == b'#'), "nothing is written");
            assert_eq!(topic.write_to(&mut buf[..len]).map(str::len), Ok(len));
            assert_eq!(
                topic.write_to(&mut []),
                Err(TopicError::BufferTooSmall { needed: len, available: 0 })
            );
            // A larger buffer is written only at its start.
            assert_eq!(topic.write_to(&mut buf).map(str::len), Ok(len));
            assert_eq!(buf[len], b'#');
        }
        let longest = Topic::Update {
            thing: thing(&t),
            job: job(&j),
            namespace: Some(ns(&n)),
            reply: Some(Reply::Rejected),
        };
        assert!(longest.to_heapless::<MAX_TOPIC_LEN>().is_ok());
        assert_eq!(
            longest.to_heapless::<{ MAX_TOPIC_LEN - 1 }>(),
            Err(TopicError::BufferTooSmall { needed: MAX_TOPIC_LEN, available: MAX_TOPIC_LEN - 1 })
        );
    }

    #[test]
    fn broker_limits() {
        assert_eq!((BROKER_MAX_TOPIC_LEN, BROKER_MAX_SLASHES), (256, 7));
        let (t, j) = ("T".repeat(128), "J".repeat(64));
        // SPEC §6: without a namespace the worst case is 226 bytes and 6 slashes.
        let plain = every_kind(&t, &j, "n");
        let plain = plain.iter().filter(|topic| !topic.to_string().contains("namespace"));
        assert_eq!(plain.clone().map(Topic::encoded_len).max(), Some(226));
        assert!(plain.clone().all(Topic::is_within_broker_limits));
        // 237 + len(ns): fits up to a 19-byte namespace.
        let fits = "N".repeat(19);
        assert!(every_kind(&t, &j, &fits).iter().all(Topic::is_within_broker_limits));
        let over = "N".repeat(20);
        let update = Topic::Update {
            thing: thing(&t),
            job: job(&j),
            namespace: Some(ns(&over)),
            reply: Some(Reply::Accepted),
        };
        assert_eq!(update.encoded_len(), 257);
        assert!(!update.is_within_broker_limits());
        assert_eq!(update.to_string().matches('/').count(), 7);
    }

    #[test]
    fn malformed_topics_are_rejected_with_the_reason() {
        use TopicError::{
            InvalidField, NextNotAllowed, NotJobsTopic, UnknownSuffix, UnsupportedNamespaceForm,
        };
        let field = |at, field, violation| InvalidField { at, error: FieldError { field, violation } };
        let bad_char = |at, f, position| field(at, f, Violation::InvalidCharacter { position });
        let long_thing = format!("$aws/things/{}/jobs/get", "T".repeat(129));
        let long_job = format!("$aws/things/T/jobs/{}/update", "J".repeat(65));
        let long_ns = format!("$aws/things/T/jobs/notify-namespace-{}", "N".repeat(65));
        let long_event = format!("$aws/events/job/{}/deleted", "J".repeat(65));
        let cases: &[(&str, TopicError)] = &[
            // Wrong prefix.
            ("", NotJobsTopic),
            ("$aws/things/T/shadow/update", NotJobsTopic),
            ("$aws/things/T/jobs", NotJobsTopic),
            ("$aws/things/T", NotJobsTopic),
            ("$aws/thing/T/jobs/get", NotJobsTopic),
            ("aws/things/T/jobs/get", NotJobsTopic),
            ("/$aws/things/T/jobs/get", NotJobsTopic),
            ("$AWS/things/T/jobs/get", NotJobsTopic),
            ("$aws/things/T/Jobs/get", NotJobsTopic),
            ("$aws/events/jobs/J/completed", NotJobsTopic),
            ("$aws/events/thing/T/created", NotJobsTopic),
            // Empty segments.
            ("$aws/things//jobs/get", field(12, Field::ThingName, Violation::Empty)),
            ("$aws/things/T/jobs/", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs//get", field(19, Field::JobId, Violation::Empty)),
            ("$aws/things/T/jobs//update/accepted", field(19, Field::JobId, Violation::Empty)),
            ("$aws/things/T/jobs/J//get", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/get//accepted", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/notify-namespace-", field(36, Field::NamespaceId, Violation::Empty)),
            ("$aws/things/T/jobs/J/namespace-/get", field(31, Field::NamespaceId, Violation::Empty)),
            ("$aws/events/job//completed", field(16, Field::JobId, Violation::Empty)),
            ("$aws/events/jobExecution/J/", UnknownSuffix { at: 27 }),
            // Missing or extra segments.
            ("$aws/events/job/J", UnknownSuffix { at: 17 }),
            ("$aws/things/T/jobs/J", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/get/accepted/x", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/get/accepted/accepted", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/notify/x", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/J/update/accepted/rejected", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/J/namespace-N/get/accepted/x", UnknownSuffix { at: 19 }),
            ("$aws/events/job/J/completed/x", UnknownSuffix { at: 18 }),
            // Trailing slashes.
            ("$aws/things/T/jobs/get/", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/notify/", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/notify-next-namespace-N/", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/J/update/accepted/", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/J/notify-namespace-N//", UnknownSuffix { at: 19 }),
            ("$aws/events/jobExecution/J/failed/", UnknownSuffix { at: 27 }),
            // The documented form needs its trailing slash, and has no replies.
            ("$aws/things/T/jobs/J/notify-namespace-N", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/J/notify-namespace-N/accepted", UnknownSuffix { at: 19 }),
            // Unknown operations and events.
            ("$aws/things/T/jobs/J/delete", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/notify/accepted", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/notify-next/rejected", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/J/get/Accepted", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/J/ns-N/get", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/J/namespace-N/start-next", UnknownSuffix { at: 19 }),
            ("$aws/things/T/jobs/#", UnknownSuffix { at: 19 }),
            ("$aws/events/job/J/succeeded", UnknownSuffix { at: 18 }),
            ("$aws/events/jobExecution/J/completed", UnknownSuffix { at: 27 }),
            ("$aws/events/jobExecution/J/TIMED_OUT", UnknownSuffix { at: 27 }),
            // Characters outside the patterns (SPEC §5, R17).
            ("$aws/things/a b/jobs/get", bad_char(12, Field::ThingName, 1)),
            ("$aws/things/+/jobs/get", bad_char(12, Field::ThingName, 0)),
            ("$aws/things/t\u{e9}/jobs/notify", bad_char(12, Field::ThingName, 1)),
            ("$aws/things/$next/jobs/get", bad_char(12, Field::ThingName, 0)),
            ("$aws/things/T/jobs/j:1/update", bad_char(19, Field::JobId, 1)),
            ("$aws/things/T/jobs/j.1/get", bad_char(19, Field::JobId, 1)),
            ("$aws/things/T/jobs/notify-namespace-a:b", bad_char(36, Field::NamespaceId, 1)),
            ("$aws/things/T/jobs/notify-next-namespace-$next", bad_char(41, Field::NamespaceId, 0)),
            ("$aws/things/T/jobs/J/namespace-n.s/update", bad_char(31, Field::NamespaceId, 1)),
            ("$aws/things/T/jobs/J/notify-namespace-n s/", bad_char(38, Field::NamespaceId, 1)),
            ("$aws/events/jobExecution/+/removed", bad_char(25, Field::JobId, 0)),
            // Too long (SPEC §5).
            (&long_thing, field(12, Field::ThingName, Violation::TooLong { max: 128, len: 129 })),
            (&long_job, field(19, Field::JobId, Violation::TooLong { max: 64, len: 65 })),
            (&long_ns, field(36, Field::NamespaceId, Violation::TooLong { max: 64, len: 65 })),
            (&long_event, field(16, Field::JobId, Violation::TooLong { max: 64, len: 65 })),
            // `$next` names a job only in a describe (SPEC §5, 7.1).
            ("$aws/things/T/jobs/$next/update", NextNotAllowed { at: 19 }),
            ("$aws/things/T/jobs/$next/update/accepted", NextNotAllowed { at: 19 }),
            ("$aws/things/T/jobs/$next/namespace-N/update", NextNotAllowed { at: 19 }),
            ("$aws/things/T/jobs/$next/notify-namespace-N/", NextNotAllowed { at: 19 }),
            ("$aws/events/job/$next/completed", NextNotAllowed { at: 16 }),
            ("$aws/events/jobExecution/$next/succeeded", NextNotAllowed { at: 25 }),
            ("$aws/things/T/jobs/$NEXT/get", bad_char(19, Field::JobId, 0)),
            // No source shows these (SPEC 7.3, AMBIG-8).
            ("$aws/things/T/jobs/get/namespace-N", UnsupportedNamespaceForm { at: 23 }),
            ("$aws/things/T/jobs/get/namespace-N/accepted", UnsupportedNamespaceForm { at: 23 }),
            ("$aws/things/T/jobs/start-next/namespace-N", UnsupportedNamespaceForm { at: 30 }),
            ("$aws/things/T/jobs/start-next/namespace-N/rejected", UnsupportedNamespaceForm { at: 30 }),
        ];
        for (topic, error) in cases {
            assert_eq!(Topic::parse(topic), Err(*error), "{topic}");
        }
    }

    #[test]
    fn errors_say_what_was_wrong() {
        let message = |topic| Topic::parse(topic).unwrap_err().to_string();
        assert_eq!(
            message("$aws/things/T/jobs/j:1/update"),
            "invalid topic segment at byte 19: jobId has a character that is not allowed at position 1 \
             (allowed: a-z A-Z 0-9 _ -)"
        );
        assert_eq!(
            message("$aws/things/T/jobs/$next/update"),
            "$next at byte 19 is allowed only as the job of a describe topic (…/jobs/$next/get)"
        );
        assert_eq!(
            message("$aws/things/T/jobs/J/delete"),
            "the topic names no Jobs operation or event from byte 19"
        );
        assert!(message("$aws/things/T/shadow/get").starts_with("not a Jobs topic"));
        assert!(message("$aws/things/T/jobs/get/namespace-N").contains("no documented namespace topic"));
        let too_small =
            Topic::Notify { thing: thing("T"), namespace: None }.write_to(&mut [0; 4]).unwrap_err();
        assert_eq!(too_small.to_string(), "the topic needs 25 bytes; the buffer has 4");
        let invalid = Topic::parse("$aws/things/T/jobs/j:1/update").unwrap_err();
        assert!(core::error::Error::source(&invalid).is_some());
        assert!(core::error::Error::source(&too_small).is_none());
    }

    #[test]
    fn subscriptions_of_a_device() {
        let topics = |namespace| {
            Topic::subscriptions(thing("T"), namespace).map(|topic| topic.to_string()).collect::<Vec<_>>()
        };
        assert_eq!(
            topics(None),
            [
                "$aws/things/T/jobs/notify-next",
                "$aws/things/T/jobs/get/accepted",
                "$aws/things/T/jobs/get/rejected",
                "$aws/things/T/jobs/start-next/accepted",
                "$aws/things/T/jobs/start-next/rejected",
                "$aws/things/T/jobs/$next/get/accepted",
                "$aws/things/T/jobs/$next/get/rejected",
            ]
        );
        assert_eq!(
            topics(Some(ns("gg"))),
            [
                "$aws/things/T/jobs/notify-next-namespace-gg",
                "$aws/things/T/jobs/$next/namespace-gg/get/accepted",
                "$aws/things/T/jobs/$next/namespace-gg/get/rejected",
            ]
        );
    }

    #[test]
    fn accessors_and_conversions() {
        let owned = crate::id::ThingName::new("T:1").unwrap();
        let t = ThingNameRef::from(&owned);
        assert_eq!(Topic::parse("$aws/things/T:1/jobs/notify").unwrap().thing(), Some(t));
        assert_eq!(Topic::parse("$aws/events/job/J/deleted").unwrap().thing(), None);
        assert_eq!(JobSelector::new("$next"), Ok(JobSelector::Next));
        assert_eq!(JobSelector::new("J").map(JobSelector::as_str), Ok("J"));
        assert!(JobIdRef::new("$next").is_err());
        assert_eq!(ExecutionEvent::for_status(ExecutionStatus::TimedOut), Some(ExecutionEvent::TimedOut));
        for status in ExecutionStatus::ALL {
            let event = ExecutionEvent::for_status(status);
            assert_eq!(event.is_some(), status.is_terminal());
            if let Some(event) = event {
                assert_eq!(event.as_str(), status.as_str().to_lowercase());
            }
        }
    }

    /// A valid topic of any kind, as owned parts: (kind, reply, `$next`, thing, job, namespace, event).
    type Parts = (u8, Option<Reply>, bool, String, String, Option<String>, usize);

    fn parts() -> impl Strategy<Value = Parts> {
        let reply = prop_oneof![Just(None), Just(Some(Reply::Accepted)), Just(Some(Reply::Rejected))];
        let id = "[a-zA-Z0-9_-]{1,64}";
        (0u8..9, reply, any::<bool>(), "[a-zA-Z0-9:_-]{1,128}", id, proptest::option::of(id), 0usize..7)
    }

    fn build(p: &Parts) -> Topic<'_> {
        let (kind, reply, next, t, j, n, event) = p;
        let (thing, job, namespace) = (thing(t), job(j), n.as_deref().map(ns));
        let selector = if *next { JobSelector::Next } else { job.into() };
        let reply = *reply;
        match kind {
            0 => Topic::GetPending { thing, reply },
            1 => Topic::StartNext { thing, reply },
            2 => Topic::Describe { thing, job: selector, namespace, reply },
            3 => Topic::Update { thing, job, namespace, reply },
            4 => Topic::Notify { thing, namespace },
            5 => Topic::NotifyNext { thing, namespace },
            6 => Topic::DocumentedNotify { thing, job, namespace: namespace.unwrap_or(self::ns(j)) },
            7 => Topic::JobEvent { job, event: JobEvent::ALL[event % JobEvent::ALL.len()] },
            _ => Topic::ExecutionEvent { job, event: ExecutionEvent::ALL[*event] },
        }
    }

    /// Segments and pieces of Jobs topics, so that generated strings reach deep into the parser.
    const TOKENS: &[&str] = &[
        "get",
        "start-next",
        "update",
        "accepted",
        "rejected",
        "notify",
        "notify-next",
        "notify-namespace-N",
        "notify-next-namespace-N",
        "namespace-N",
        "namespace-",
        "notify-namespace-",
        "$next",
        "J",
        "a:b",
        "",
        "jobs",
        "T",
        "!",
        "+",
        "\u{e9}",
        "/",
        "completed",
        "cancellation_in_progress",
        "timed_out",
        "succeeded",
    ];

    /// Prefixes of Jobs topics, right and nearly right.
    const PREFIXES: &[&str] = &[
        "$aws/things/T/jobs/",
        "$aws/things/T/jobs/",
        "$aws/things/T/jobs/J/",
        "$aws/things/T/jobs/J/",
        "$aws/things/T/jobs/$next/",
        "$aws/events/job/J/",
        "$aws/events/jobExecution/J/",
        "$aws/things/",
        "",
    ];

    fn jobs_like() -> impl Strategy<Value = String> {
        let tokens = proptest::collection::vec(proptest::sample::select(TOKENS), 1..4);
        let prefix = proptest::sample::select(PREFIXES);
        // Mostly whole segments joined by `/`; sometimes pieces run together.
        (prefix, tokens, proptest::bool::weighted(0.8)).prop_map(|(prefix, tokens, segments)| {
            format!("{prefix}{}", tokens.join(if segments { "/" } else { "" }))
        })
    }

    /// Parsing never panics; whatever parses is rebuilt byte for byte, by every writer.
    fn parse_is_exact(s: &str) -> Result<(), TestCaseError> {
        if let Ok(topic) = Topic::parse(s) {
            prop_assert_eq!(topic.to_string(), s);
            let mut buf = [0; MAX_TOPIC_LEN];
            prop_assert_eq!(topic.write_to(&mut buf), Ok(s));
            let heapless: heapless::String<MAX_TOPIC_LEN> = topic.to_heapless().unwrap();
            prop_assert_eq!(heapless.as_str(), s);
        }
        Ok(())
    }

    proptest! {
        #[test]
        #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
        fn parse_inverts_build(p in parts()) {
            let topic = build(&p);
            let mut buf = [0; MAX_TOPIC_LEN];
            let s = topic.write_to(&mut buf).unwrap();
            prop_assert!(s.len() <= MAX_TOPIC_LEN);
            prop_assert_eq!(Topic::parse(s), Ok(topic));
        }

        #[test]
        #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
        fn build_inverts_parse_on_jobs_like_strings(s in jobs_like()) {
            parse_is_exact(&s)?;
        }

        #[test]
        #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
        fn build_inverts_parse_on_any_string(s in any::<String>()) {
            parse_is_exact(&s)?;
        }

        #[test]
        #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
        fn build_inverts_parse_on_mutated_topics(p in parts(), at in any::<usize>(), byte in 0u8..128) {
            // One byte of a valid topic replaced, inserted or removed.
            let mut s = build(&p).to_string().into_bytes();
            let at = at % (s.len() + 1);
            match byte % 3 {
                0 if at < s.len() => s[at] = byte,
                1 => s.insert(at, byte),
                _ if at < s.len() => { s.remove(at); }
                _ => s.push(byte),
            }
            parse_is_exact(&String::from_utf8(s).unwrap())?;
        }
    }
}
