//! Snapshot and restore of the whole registry (feature `serde`); see [`Snapshot`].

mod restore;
mod save;

use self::restore::Top;

use serde::Deserializer;
use serde::de;

use super::{Registry, Storage};

/// The snapshot format version. Version 5 added maintenance windows (`config.windows` and
/// `windowAt`) and exponential rollouts (`config.exponential` and `ramp`); [`Registry::restore`]
/// also reads version 4.
///
/// The format is a logical record, independent of the tables' layout: storing numbers,
/// versions and execution times as `u32` (SPEC AMBIG-34) left it unchanged, and a version-5
/// snapshot written before that restores to the same state (a test keeps one as a fixture). A
/// number, version or execution time that the registry cannot store is refused at restore.
pub const FORMAT: u32 = 5;

/// Snapshot and restore of the whole registry (feature `serde`).
///
/// [`Registry::snapshot`] serializes the logical state: things, jobs with their (job, thing)
/// pairs and executions in creation order, and the order of each thing's lists. It streams:
/// nothing is collected first. [`Registry::restore`] rebuilds the tables, the index and every
/// list from it, also without allocating, and checks it as it goes: a snapshot that names an
/// unknown thing, repeats an execution, breaks a list or overfills a table is refused, and so is
/// one whose job counts other targets than its pairs mark, or holds an execution its status
/// cannot ([`rules::job_holds`](crate::rules::job_holds)).
///
/// Handles and cursors are process-local: they do not survive a restore.
///
/// The format (field order matters; it is the order [`Registry::snapshot`] writes):
///
/// ```text
/// { "format": 5 (FORMAT), "deletionDelay": s,
///   "things": [ { "name", "registered" } ],
///   "jobs": [ { "id", "status", "selection", "namespace", "createdAt", "lastUpdatedAt",
///               "completedAt", "reasonCode", "forceCanceled", "targets", "config",
///               "deletionDue", "seq", "started", "ended", "rolloutAt", "rolloutNext", "windowAt", "ramp",
///               "pairs": [ [thing, highest, [failedRetries, timedOutRetries], target] ],
///               "executions": [ { "thing", "number", "version", "status", "forceCanceled",
///                                 "retryAttempt", "queuedAt", "startedAt", "lastUpdatedAt",
///                                 "timeoutAt", "deadline", "statusDetails": [ [k, v] ] } ] } ],
///   "order": [ { "thing", "all": [ [job, number] ], "inProgress": [...], "queued": [...] } ] }
/// ```
pub struct Snapshot<'r, S: Storage>(&'r Registry<S>);

impl<S: Storage> Registry<S> {
    /// The whole state, to serialize (feature `serde`).
    pub fn snapshot(&self) -> Snapshot<'_, S> {
        Snapshot(self)
    }

    /// A registry over `storage` with the state of a snapshot (feature `serde`).
    ///
    /// # Errors
    /// The deserializer's error, with a message, for malformed, inconsistent or oversized
    /// snapshots.
    pub fn restore<'de, D: Deserializer<'de>>(
        storage: S,
        policy: crate::Policy,
        d: D,
    ) -> Result<Self, D::Error> {
        let mut r = Self::new(storage, policy);
        d.deserialize_struct(
            "Registry",
            &["format", "deletionDelay", "things", "jobs", "order"],
            Top(&mut r),
        )?;
        r.check_restored().map_err(de::Error::custom)?;
        r.rebuild_timers();
        Ok(r)
    }

    /// After restore: every execution is in its thing's list, and the pending lists hold
    /// exactly the pending executions of jobs devices can see. (`link` already refused
    /// duplicates and other things' executions, so comparing totals is enough.)
    fn check_restored(&self) -> Result<(), &'static str> {
        let (mut listed, mut pending) = (0usize, 0usize);
        for (_, t) in self.things.positions().filter_map(|i| self.things.at(i)) {
            listed = listed.saturating_add(usize::try_from(t.all.len).unwrap_or(usize::MAX));
            let p = t.in_progress.len.saturating_add(t.queued.len);
            pending = pending.saturating_add(usize::try_from(p).unwrap_or(usize::MAX));
        }
        if listed != self.execs.used() {
            return Err("snapshot: the order section does not list every execution");
        }
        let visible_pending = self
            .execs
            .positions()
            .filter_map(|i| self.exec_entry(i))
            .filter(|e| {
                self.job_entry(e.job).is_some_and(|j| crate::rules::listed_to_device(j.status, e.status))
            })
            .count();
        if pending != visible_pending {
            return Err("snapshot: the pending lists do not hold exactly the pending executions");
        }
        Ok(())
    }
}
