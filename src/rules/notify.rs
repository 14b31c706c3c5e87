//! Which notification topics a change of a thing's executions goes to (SPEC R15, R20,
//! AMBIG-27).

use crate::id::NamespaceId;
use crate::topic::JobEvent;

/// The notifications one operation publishes for one thing (SPEC R15, R20).
///
/// The plain topics follow the thing's whole pending list, whatever the namespace of its jobs;
/// the namespace topics of NS are added when the change involves an execution of a job created
/// in namespace NS, and carry only that namespace's executions ([`listed_in_namespace`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NotifyTopics {
    /// `$aws/things/T/jobs/notify`.
    pub notify: bool,
    /// `$aws/things/T/jobs/notify-next`.
    pub notify_next: bool,
    /// `$aws/things/T/jobs/notify-namespace-NS`, NS the namespace of the changed execution's job.
    pub notify_namespace: bool,
    /// `$aws/things/T/jobs/notify-next-namespace-NS`.
    pub notify_next_namespace: bool,
}

/// The topics a change of a thing's executions is published on (SPEC R15, R20, AMBIG-27).
///
/// `namespaced`: the changed execution's job was created with a `namespaceId`.
/// `list_changed`: the thing's pending list changed as R15 counts it (`notify`, see
/// [`notifies`](super::notifies)); `head_changed`: its head changed (`notify-next`). Both are
/// judged on the thing's whole pending list, across namespaces (AMBIG-27: one list per thing).
#[must_use]
pub const fn notify_topics(namespaced: bool, list_changed: bool, head_changed: bool) -> NotifyTopics {
    NotifyTopics {
        // SPEC R15, R20: the plain topics carry every job, namespaced or not.
        notify: list_changed,
        notify_next: head_changed,
        // SPEC R20, AMBIG-27: a namespaced job's change is also told on its namespace's topics.
        notify_namespace: namespaced && list_changed,
        notify_next_namespace: namespaced && head_changed,
    }
}

/// Does the payload of a namespace topic of `topic` list an execution of a job created in
/// `job` (`None`: without a namespace)? Only that namespace's executions (SPEC R20, AMBIG-27):
/// AWS's Greengrass clients act on what these topics carry as their own work.
#[must_use]
pub fn listed_in_namespace(job: Option<&NamespaceId>, topic: &NamespaceId) -> bool {
    job == Some(topic)
}

/// The `status` a job event's payload reports (SPEC 7.4, DG-EVT): the state the
/// event announces, not the job's status when it is rendered. `cancellation_in_progress` and
/// `deleted` report strings that are not [`JobStatus`](crate::status::JobStatus) values (the
/// job is CANCELED, or gone, by then); the others name the status the job has entered.
#[must_use]
pub const fn job_event_status(event: JobEvent) -> &'static str {
    match event {
        JobEvent::Completed => "COMPLETED",
        JobEvent::Canceled => "CANCELED",
        JobEvent::Deleted => "DELETED",
        JobEvent::CancellationInProgress => "CANCELLATION_IN_PROGRESS",
        JobEvent::DeletionInProgress => "DELETION_IN_PROGRESS",
    }
}
