//! MQTT topics of the Jobs device API, its notifications and its events (SPEC §7, R8).
//!
//! A [`Topic`] is one topic as a value. [`Topic::parse`] reads a topic into a borrowed view whose
//! thing name, job id and namespace have been validated with the rules of [`crate::id`] (SPEC R17)
//! ([`Topic::parse_device`] reads only the plain device topics, and is smaller);
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
                // The owned type is the one place the pattern is written.
                $owned::check(s).map(|()| Self(s))
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
            Self::parse_thing_topic::<true>(topic, rest)
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

    /// Reads `topic` like [`parse`](Self::parse), but only the plain device API and its
    /// notifications (SPEC 7.1, 7.2): the topics a device outside any namespace sends and receives,
    /// the set the AWS C library's `Jobs_MatchTopic` matches. The namespace forms (SPEC 7.3) give
    /// [`TopicError::UnknownSuffix`] and the event topics (SPEC 7.4) [`TopicError::NotJobsTopic`];
    /// every other topic gives what [`parse`](Self::parse) gives.
    ///
    /// A device that never uses namespaces or events links only this, which is smaller.
    ///
    /// # Errors
    ///
    /// A [`TopicError`] that says what is wrong and where; never [`TopicError::BufferTooSmall`].
    pub fn parse_device(topic: &'a str) -> Result<Self, TopicError> {
        let rest = topic.strip_prefix(THINGS).ok_or(TopicError::NotJobsTopic)?;
        Self::parse_thing_topic::<false>(topic, rest)
    }

    /// `rest` follows `$aws/things/` in `topic`; the namespace forms are read when `NAMESPACES`.
    fn parse_thing_topic<const NAMESPACES: bool>(topic: &'a str, rest: &'a str) -> Result<Self, TopicError> {
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
            ([Some(segment), None, None, None], None) if NAMESPACES => {
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
            ([Some(job), Some(ns), Some("get"), None], reply) if NAMESPACES => {
                let ns = ns.strip_prefix("namespace-").ok_or(unknown)?;
                let job = job_selector(topic, job)?;
                Self::Describe { thing, job, namespace: Some(namespace_id(topic, ns)?), reply }
            }
            ([Some(job), Some(ns), Some("update"), None], reply) if NAMESPACES => {
                let ns = ns.strip_prefix("namespace-").ok_or(unknown)?;
                let job = job_id(topic, job)?;
                Self::Update { thing, job, namespace: Some(namespace_id(topic, ns)?), reply }
            }
            // SPEC 7.3, R8: the API reference's form, trailing slash included.
            ([Some(job), Some(ns), Some(""), None], None) if NAMESPACES => {
                let ns = ns.strip_prefix("notify-namespace-").ok_or(unknown)?;
                let job = job_id(topic, job)?;
                Self::DocumentedNotify { thing, job, namespace: namespace_id(topic, ns)? }
            }
            // SPEC 7.3, AMBIG-8: no source shows a namespace form of GetPending or StartNext.
            ([Some("get" | "start-next"), Some(ns), None, None], _)
                if NAMESPACES && ns.starts_with("namespace-") =>
            {
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
        // Each arm sets only the pieces it uses: the rest stay empty.
        let mut pieces = [""; 8];
        let [prefix, name, a, b, c, d, e, f] = &mut pieces;
        *prefix = THINGS;
        match *self {
            // SPEC 7.1.
            Self::GetPending { thing, reply } => (*name, *a, *b) = (thing.0, "/jobs/get", suffix(reply)),
            Self::StartNext { thing, reply } => {
                (*name, *a, *b) = (thing.0, "/jobs/start-next", suffix(reply))
            }
            // SPEC 7.1, 7.3, R8.
            Self::Describe { thing, job, namespace, reply } => {
                (*name, *a, *b, *e, *f) = (thing.0, "/jobs/", job.as_str(), "/get", suffix(reply));
                if let Some(ns) = namespace {
                    (*c, *d) = ("/namespace-", ns.0);
                }
            }
            Self::Update { thing, job, namespace, reply } => {
                (*name, *a, *b, *e, *f) = (thing.0, "/jobs/", job.0, "/update", suffix(reply));
                if let Some(ns) = namespace {
                    (*c, *d) = ("/namespace-", ns.0);
                }
            }
            // SPEC 7.2.
            Self::Notify { thing, namespace: None } => (*name, *a) = (thing.0, "/jobs/notify"),
            Self::NotifyNext { thing, namespace: None } => (*name, *a) = (thing.0, "/jobs/notify-next"),
            // SPEC 7.3, R8.
            Self::Notify { thing, namespace: Some(ns) } => {
                (*name, *a, *b) = (thing.0, "/jobs/notify-namespace-", ns.0);
            }
            Self::NotifyNext { thing, namespace: Some(ns) } => {
                (*name, *a, *b) = (thing.0, "/jobs/notify-next-namespace-", ns.0);
            }
            Self::DocumentedNotify { thing, job, namespace: ns } => {
                (*name, *a, *b, *c, *d, *e) = (thing.0, "/jobs/", job.0, "/notify-namespace-", ns.0, "/");
            }
            // SPEC 7.4.
            Self::JobEvent { job, event } => {
                (*prefix, *name, *a, *b) = (JOB_EVENTS, job.0, "/", event.as_str())
            }
            Self::ExecutionEvent { job, event } => {
                (*prefix, *name, *a, *b) = (EXECUTION_EVENTS, job.0, "/", event.as_str());
            }
        }
        pieces
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
mod tests;
