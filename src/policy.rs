//! The project's readings of the points AWS leaves open (SPEC §R), one knob per alternative.
//!
//! [`Policy::DEFAULT`] is the reading SPEC §R argues for. An emulator that observes the live
//! service doing otherwise flips the knob instead of patching a rule. Readings without an
//! alternative (R4, R5, R8, R13, R16, R17, R18, R20, R21, R22, R24, R25, R26) are fixed in the
//! rules; R23's alternative is the emulator's (`--job-events`).

/// Which DeleteJobExecution inputs need `force` beyond IN_PROGRESS (SPEC R1, R2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeleteWithoutForce {
    /// R1: TIMED_OUT is terminal and deletable without force (default `true`; `false` is the
    /// seed page's literal list).
    pub timed_out: bool,
    /// R2: QUEUED is deletable without force (default `false`; `true` is the developer guide).
    pub queued: bool,
}

/// When an execution's `versionNumber` grows (SPEC R6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum VersionBump {
    /// +1 on every accepted change: device updates, cancels, timeouts, removals (default).
    EveryChange,
    /// +1 only on device updates (UpdateJobExecution, StartNext).
    DeviceUpdatesOnly,
}

/// How a new execution of a (job, thing) is numbered (SPEC R7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Numbering {
    /// 1 + the highest number that still exists: deleting the newest execution frees its number
    /// for reuse (default; the seed page's warning).
    ReuseAfterDelete,
    /// 1 + the highest number ever assigned: never reused.
    Monotonic,
}

/// What a write that carries `statusDetails` does to the stored map (SPEC R14, AMBIG-25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DetailsWrite {
    /// The given map replaces the stored one (default).
    Replace,
    /// Given keys overwrite or add; others stay (still at most 10 pairs).
    Merge,
}

/// When the `notify` topic is published (SPEC R15, AMBIG-24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum NotifyOn {
    /// When the membership of the thing's pending list changes (default; DG-NOTIF examples).
    MembershipChange,
    /// Also on every change to a non-terminal status, such as QUEUED → IN_PROGRESS.
    EveryNonTerminalChange,
}

/// The data plane's answer for a thing the registry does not know (SPEC R19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum UnknownThing {
    /// 200 with empty lists; StartNext and `$next` without an `execution` (default).
    Empty,
    /// 404 `ResourceNotFoundException`.
    NotFound,
}

/// How many executions GetPending and `notify` list at most (SPEC R12, AMBIG-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PendingCap {
    /// 10 (default; accounts without scheduling).
    Ten,
    /// 15 (the current DG-NOTIF text; accounts with scheduling).
    Fifteen,
}

impl PendingCap {
    /// The largest cap of any policy: size buffers for pending lists by this.
    pub const MAX: usize = 15;

    /// The cap as a count.
    #[must_use]
    pub const fn get(self) -> usize {
        match self {
            Self::Ten => 10,
            Self::Fifteen => 15,
        }
    }
}

/// Each value of a knob by the name the emulator's `--policy` and the Python module's `Policy`
/// give it (the default first).
pub trait Named: Sized + Copy + PartialEq + 'static {
    /// The values and their names.
    const NAMES: &'static [(&'static str, Self)];

    /// The value `name` stands for.
    #[must_use]
    fn named(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// This value's name.
    #[must_use]
    fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, v)| *v == self).map_or("", |(n, _)| n)
    }
}

impl Named for VersionBump {
    const NAMES: &'static [(&'static str, Self)] =
        &[("EVERY_CHANGE", Self::EveryChange), ("DEVICE_UPDATES_ONLY", Self::DeviceUpdatesOnly)];
}

impl Named for Numbering {
    const NAMES: &'static [(&'static str, Self)] =
        &[("REUSE_AFTER_DELETE", Self::ReuseAfterDelete), ("MONOTONIC", Self::Monotonic)];
}

impl Named for DetailsWrite {
    const NAMES: &'static [(&'static str, Self)] = &[("REPLACE", Self::Replace), ("MERGE", Self::Merge)];
}

impl Named for NotifyOn {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("MEMBERSHIP_CHANGE", Self::MembershipChange),
        ("EVERY_NON_TERMINAL_CHANGE", Self::EveryNonTerminalChange),
    ];
}

impl Named for UnknownThing {
    const NAMES: &'static [(&'static str, Self)] = &[("EMPTY", Self::Empty), ("NOT_FOUND", Self::NotFound)];
}

impl Named for PendingCap {
    const NAMES: &'static [(&'static str, Self)] = &[("10", Self::Ten), ("15", Self::Fifteen)];
}

/// The knobs for SPEC §R. `Copy`, `const`-constructible; start from [`Policy::DEFAULT`].
///
/// ```
/// use iot_jobs_core::{Numbering, Policy};
/// let strict = Policy { numbering: Numbering::Monotonic, ..Policy::DEFAULT };
/// assert_ne!(strict, Policy::DEFAULT);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Policy {
    /// R1, R2: which executions DeleteJobExecution deletes without `force` beyond the terminal
    /// ones (TIMED_OUT: yes; QUEUED: no, by default).
    pub delete_without_force: DeleteWithoutForce,
    /// R3: CancelJob with force on a CANCELED job escalates (cancels the remaining IN_PROGRESS
    /// executions and sets forceCanceled) instead of `InvalidRequestException`. Default `false`.
    pub force_cancel_escalates: bool,
    /// R6: which changes add 1 to an execution's `versionNumber` (every accepted change, by
    /// default; or only the device's updates).
    pub version_bump: VersionBump,
    /// R7: how a (job, thing)'s next execution is numbered (1 + the highest that still exists,
    /// reusing a deleted newest one's number, by default; or never reusing one).
    pub numbering: Numbering,
    /// R9: a device may move QUEUED straight to SUCCEEDED, FAILED or REJECTED. Default `true`;
    /// `false` requires IN_PROGRESS first for SUCCEEDED and FAILED (REJECTED stays allowed,
    /// SPEC T5).
    pub device_may_skip_in_progress: bool,
    /// R10: an IN_PROGRESS execution becomes REMOVED when its thing leaves the target. Default
    /// `true`; `false` leaves it running (only QUEUED ones are removed).
    pub remove_in_progress: bool,
    /// R11: the data plane describes terminal executions too. Default `false`
    /// (`TerminalStateException`).
    pub data_plane_describes_terminal: bool,
    /// R12: how many executions GetPendingJobExecutions and `notify` list at most (10 by default;
    /// 15 for accounts with scheduling).
    pub pending_cap: PendingCap,
    /// R14: whether an update's `statusDetails` replace the stored map (default) or merge into
    /// it.
    pub details_write: DetailsWrite,
    /// R15: when `notify` is published (when a thing's pending list gains or loses an execution,
    /// by default; or also on every non-terminal status change).
    pub notify_on: NotifyOn,
    /// R19: the data plane's answer for a thing it does not know (empty lists and no next
    /// execution, by default; or `ResourceNotFoundException`).
    pub unknown_thing: UnknownThing,
}

impl Policy {
    /// The readings of SPEC §R.
    pub const DEFAULT: Self = Self {
        delete_without_force: DeleteWithoutForce { timed_out: true, queued: false },
        force_cancel_escalates: false,
        version_bump: VersionBump::EveryChange,
        numbering: Numbering::ReuseAfterDelete,
        device_may_skip_in_progress: true,
        remove_in_progress: true,
        data_plane_describes_terminal: false,
        pending_cap: PendingCap::Ten,
        details_write: DetailsWrite::Replace,
        notify_on: NotifyOn::MembershipChange,
        unknown_thing: UnknownThing::Empty,
    };
}

impl Default for Policy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each value has one name, and the first name is `Policy::DEFAULT`'s.
    fn names_round_trip<T: Named + core::fmt::Debug>(default: T) {
        assert_eq!(T::NAMES.first().map(|(_, v)| *v), Some(default));
        for (name, value) in T::NAMES {
            assert_eq!((value.name(), T::named(name)), (*name, Some(*value)));
        }
        assert_eq!(T::named("every_change"), None, "names are exact");
    }

    #[test]
    fn every_knob_value_is_named_once_the_default_first() {
        let d = Policy::DEFAULT;
        names_round_trip(d.version_bump);
        names_round_trip(d.numbering);
        names_round_trip(d.details_write);
        names_round_trip(d.notify_on);
        names_round_trip(d.unknown_thing);
        names_round_trip(d.pending_cap);
        assert_eq!(PendingCap::named("15").map(PendingCap::get), Some(15));
    }
}
