//! The emulator's state: the core's [`Registry`] over heap tables with caps, plus the payloads
//! the registry does not keep (job documents, descriptions, comments, thing attributes, thing
//! groups, job templates), the clock, and the event counters.

use std::collections::{BTreeMap, BTreeSet};

pub use iot_jobs_core::registry::Heap;
use iot_jobs_core::registry::{Event, EventSink, Registry};
use iot_jobs_core::{Policy, Timestamp};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::wire::{ApiError, Arns, JobConfigs, StringMap, TemplateArn, TemplateConfigs};

mod groups;
mod order;
pub use groups::{GroupIndex, MAX_GROUP_DEPTH, ancestors, check_hierarchy};
pub use order::JobOrder;

/// Table caps (`--max-*` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Jobs, including those being deleted.
    pub jobs: usize,
    /// Things (including deleted things that executions still refer to).
    pub things: usize,
    /// Executions, and (job, thing) pairs.
    pub executions: usize,
    /// Executions with a non-empty statusDetails map (each on the heap in exactly its encoded
    /// size, up to 32,030 bytes: every map AWS accepts).
    pub status_details: usize,
    /// Thing groups (the emulator keeps them; the registry does not know them).
    pub thing_groups: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            jobs: 100_000,
            things: 100_000,
            executions: 1_000_000,
            status_details: 100_000,
            thing_groups: 100_000,
        }
    }
}

impl Caps {
    /// The core's heap storage with these caps; tables grow as they fill.
    pub const fn storage(self) -> Heap {
        Heap {
            jobs: self.jobs,
            things: self.things,
            executions: self.executions,
            status_details: self.status_details,
            reserve: false,
        }
    }
}

/// What the emulator keeps about a thing (the registry knows only its name).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ThingMeta {
    pub id: String,
    pub type_name: Option<String>,
    pub attributes: StringMap,
    pub version: u64,
    /// CreateThing's `billingGroupName` (DescribeThing returns it; billing groups themselves
    /// are not kept). Left out of snapshots without one, so older ones load unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_group: Option<String>,
}

/// A thing group: it lives only in the emulator.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GroupMeta {
    pub id: String,
    pub description: Option<String>,
    pub attributes: StringMap,
    pub parent: Option<String>,
    /// Its things, by name: the `Arc`s the [`GroupIndex`] keeps for them, one per thing.
    #[serde(deserialize_with = "groups::members_once")]
    pub members: BTreeSet<groups::Name>,
    pub version: u64,
    pub created_at: u64,
}

/// A job's payloads (the registry keeps its lifecycle state).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobMeta {
    /// The job's document: CreateJob's `document`, the content of the object its
    /// `documentSource` names (read when the job was created), or its template's; `None` only
    /// for a `documentSource` job of a state file of format 3 or earlier.
    pub document: Option<String>,
    /// CreateJob's `documentSource` (DescribeJob shows it), or its template's.
    pub document_source: Option<String>,
    pub description: Option<String>,
    pub comment: Option<String>,
    /// The target ARNs as given (CreateJob, then AssociateTargetsWithJob).
    pub targets: Vec<String>,
    /// Thing groups among the targets: CONTINUOUS jobs follow their membership.
    pub groups: BTreeSet<String>,
    /// Things named directly among the targets.
    pub things: BTreeSet<String>,
    pub configs: JobConfigs,
    /// The job template it was created from (CreateJob `jobTemplateArn`).
    #[serde(default)]
    pub job_template_arn: Option<String>,
    /// CreateJob's `documentParameters` (a managed template's).
    #[serde(default)]
    pub document_parameters: Option<StringMap>,
    /// The managed template's document before substitution (GetJobDocument
    /// `beforeSubstitution=true`); `None` when nothing was substituted.
    #[serde(default)]
    pub document_before_substitution: Option<String>,
    #[serde(default)]
    pub destination_package_versions: Option<Vec<String>>,
}

/// A job template of this account (CreateJobTemplate): it lives only in the emulator.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TemplateMeta {
    pub description: String,
    /// The template's document: CreateJobTemplate's `document`, the content of the object its
    /// `documentSource` names (read when the template was created), or its job's; `None` only
    /// for a `documentSource` template of a state file of format 3 or earlier (read when a job
    /// is created from it).
    pub document: Option<String>,
    pub document_source: Option<String>,
    pub created_at: u64,
    pub configs: TemplateConfigs,
}

/// Everything that is not the registry, saved beside its snapshot.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    #[serde(deserialize_with = "by_name::things")]
    pub things: BTreeMap<String, ThingMeta>,
    #[serde(deserialize_with = "by_name::groups")]
    pub groups: BTreeMap<String, GroupMeta>,
    #[serde(deserialize_with = "by_name::jobs")]
    pub jobs: BTreeMap<String, JobMeta>,
    /// Job templates by id (absent from snapshots written before templates existed).
    #[serde(default, deserialize_with = "by_name::templates")]
    pub templates: BTreeMap<String, TemplateMeta>,
    /// Source of thing and group ids.
    pub next_id: u64,
    /// The tags of each taggable resource, by [`TagStore`] key (absent in a state file written
    /// before tags were kept: none).
    #[serde(default)]
    pub tags: TagStore,
    /// DescribeEventConfigurations / UpdateEventConfigurations (absent in a state file written
    /// before they were kept: the defaults).
    #[serde(default)]
    pub event_configurations: EventConfigurations,
    /// The S3 objects a test registered (`PUT /_emulator/objects/{bucket}/{key}`), the text of
    /// each by `BUCKET/KEY` ([`crate::wire::s3::ObjectName::stored`]): what a `documentSource`
    /// reads (absent in a state file of format 3 or earlier: none).
    #[serde(default, deserialize_with = "by_name::objects")]
    pub objects: BTreeMap<String, String>,
}

/// Reads a saved state's items by name: an item whose payloads do not read is named, and one
/// listed twice in its map (JSON allows it) is refused, where a map would keep the last one
/// without a word. The emulator never writes a name twice.
mod by_name {
    use std::collections::BTreeMap;
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer};

    use super::{GroupMeta, JobMeta, TemplateMeta, ThingMeta};

    fn read<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
        what: &'static str,
    ) -> Result<BTreeMap<String, T>, D::Error> {
        struct Items<T>(&'static str, PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Items<T> {
            type Value = BTreeMap<String, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}s by name", self.0)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut items = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    let item = map
                        .next_value::<T>()
                        .map_err(|e| de::Error::custom(format!("{} {name}: {e}", self.0)))?;
                    if items.insert(name.clone(), item).is_some() {
                        return Err(de::Error::custom(format!("{} {name} is listed twice", self.0)));
                    }
                }
                Ok(items)
            }
        }
        d.deserialize_map(Items(what, PhantomData))
    }

    pub(super) fn things<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, ThingMeta>, D::Error> {
        read(d, "thing")
    }

    pub(super) fn groups<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, GroupMeta>, D::Error> {
        read(d, "thing group")
    }

    pub(super) fn jobs<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, JobMeta>, D::Error> {
        read(d, "job")
    }

    pub(super) fn templates<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, TemplateMeta>, D::Error> {
        read(d, "job template")
    }

    pub(super) fn objects<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
        read(d, "S3 object")
    }
}

/// A resource's tags: key to value (`Value` is optional in botocore's `Tag`).
pub type Tags = BTreeMap<String, Option<String>>;

/// The tags of every taggable resource, keyed by `KIND/NAME` (the resource part of its ARN, as
/// `job/J`, `thinggroup/G`, `jobtemplate/T`), so that a change of `--region` or `--account-id`
/// keeps them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TagStore(pub BTreeMap<String, Tags>);

impl TagStore {
    /// The ARN resource type of a job (`arn:aws:iot:REGION:ACCOUNT:job/ID`).
    pub const JOB: &'static str = "job";
    /// The ARN resource type of a thing group.
    pub const GROUP: &'static str = "thinggroup";
    /// The ARN resource type of a job template.
    pub const JOB_TEMPLATE: &'static str = "jobtemplate";

    /// The key of resource `name` of `kind`.
    pub fn key(kind: &str, name: &str) -> String {
        format!("{kind}/{name}")
    }
    /// The tags of a resource (empty when it has none).
    pub fn get(&self, kind: &str, name: &str) -> Option<&Tags> {
        self.0.get(&Self::key(kind, name))
    }
    /// Replaces the tags of a resource (an empty map removes its entry).
    pub fn set(&mut self, kind: &str, name: &str, tags: Tags) {
        if tags.is_empty() {
            self.0.remove(&Self::key(kind, name));
        } else {
            self.0.insert(Self::key(kind, name), tags);
        }
    }
    /// Forgets the tags of a deleted resource (a new resource of the same name starts without).
    pub fn forget(&mut self, kind: &str, name: &str) {
        self.0.remove(&Self::key(kind, name));
    }
}

/// The event types of botocore's `EventType`, in its order.
pub const EVENT_TYPES: [&str; 11] = [
    "THING",
    "THING_GROUP",
    "THING_TYPE",
    "THING_GROUP_MEMBERSHIP",
    "THING_GROUP_HIERARCHY",
    "THING_TYPE_ASSOCIATION",
    "JOB",
    "JOB_EXECUTION",
    "POLICY",
    "CERTIFICATE",
    "CA_CERTIFICATE",
];

/// The account's event configuration (SPEC R23): which event types are published. The emulator
/// publishes `JOB` and `JOB_EXECUTION` events only, and both are on until switched off.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventConfigurations {
    /// The types set by UpdateEventConfigurations; the others have their default.
    pub enabled: BTreeMap<String, bool>,
    /// When UpdateEventConfigurations first changed it.
    pub created_at: Option<u64>,
    /// When UpdateEventConfigurations last changed it.
    pub modified_at: Option<u64>,
}

impl EventConfigurations {
    /// Whether events of `kind` (an [`EVENT_TYPES`] name) are published: as last set, else
    /// `job_events` for `JOB` and `JOB_EXECUTION` and off for the types the emulator never
    /// publishes.
    pub fn enabled(&self, kind: &str, job_events: bool) -> bool {
        self.enabled.get(kind).copied().unwrap_or(job_events && matches!(kind, "JOB" | "JOB_EXECUTION"))
    }
}

/// The last thing or group id given out: a UUID's last group has 12 hexadecimal digits.
pub const LAST_ID: u64 = 0xFFFF_FFFF_FFFF;

impl Meta {
    /// The UUID-shaped id the next thing or group gets ([`Meta::take_id`] takes it).
    ///
    /// # Errors
    /// `LimitExceededException` once every id up to [`LAST_ID`] is given out (nothing changed).
    pub fn next_free_id(&self) -> Result<String, ApiError> {
        match self.next_id.checked_add(1).filter(|n| *n <= LAST_ID) {
            Some(n) => Ok(format!("00000000-0000-4000-8000-{n:012x}")),
            None => Err(ApiError::limit_exceeded(format!(
                "every thing and thing-group id up to {LAST_ID:x} is given out"
            ))),
        }
    }

    /// Takes the id [`Meta::next_free_id`] gave (once the change that uses it cannot fail).
    pub fn take_id(&mut self) {
        self.next_id = self.next_id.saturating_add(1).min(LAST_ID);
    }
}

/// Counts of the notifications and events the registry reported.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCounts {
    pub notify: u64,
    pub notify_next: u64,
    pub job_events: u64,
    pub execution_events: u64,
    /// `notify-namespace-NS` (SPEC R20).
    pub notify_namespace: u64,
    /// `notify-next-namespace-NS` (SPEC R20).
    pub notify_next_namespace: u64,
}

/// The sink handed to the registry: a vector with (practically) unlimited room.
#[derive(Debug, Default)]
pub struct Events(pub Vec<Event>);

impl EventSink for Events {
    fn room(&self) -> usize {
        usize::MAX / 2
    }
    fn push(&mut self, event: Event) {
        self.0.push(event);
    }
}

/// The job an event of a job or of one of its executions is about.
fn of_job(event: &Event) -> Option<&iot_jobs_core::JobId> {
    match event {
        Event::Job { job, .. } | Event::Execution { job, .. } => Some(job),
        _ => None,
    }
}

/// An event waiting for the MQTT broker.
#[derive(Debug)]
pub enum Outgoing {
    /// Rendered when taken (an operation's), or at the end of its [`State::tick`] step.
    Event(Event),
    /// Rendered when reported.
    Rendered(Vec<crate::mqtt::Message>),
}

/// The whole state, behind one mutex.
pub struct State {
    pub registry: Registry<Heap>,
    pub meta: Meta,
    pub clock: Clock,
    pub arns: Arns,
    pub events: EventCounts,
    pub caps: Caps,
    pub deletion_delay: u64,
    /// Whether `JOB` and `JOB_EXECUTION` events are on where UpdateEventConfigurations has not
    /// set them ([`Config::job_events`](crate::Config::job_events)): the process's, not the
    /// state's, so neither saved nor replaced by a snapshot.
    pub job_events: bool,
    /// The sequence number of the last change (its journal record, with a state file).
    pub generation: u64,
    /// The time an operation runs at, while it runs (see [`State::pin`]).
    pinned: Option<u64>,
    /// The instant [`State::tick`] is applying what falls due at, while it does (either clock).
    step: Option<u64>,
    /// With the MQTT broker on: the events reported since the last [`State::take_messages`]
    /// (published once the change is saved).
    pub outbox: Option<Vec<Outgoing>>,
    /// With the embedded broker alone: the broker whose sessions' subscriptions say which
    /// events go to the outbox (one that no session subscribes to is neither rendered nor
    /// kept). `None`: every event does (a bridge forwards them all).
    pub audience: Option<std::sync::Arc<crate::mqtt::Broker>>,
    /// With the MQTT broker on: what the events of the jobs and executions removed since the
    /// last [`State::take_messages`] report of them ([`Removed`](crate::mqtt::events::Removed)).
    pub removed: crate::mqtt::events::Removed,
    /// The jobs in ListJobs's order: changed only here, with the registry's jobs.
    order: JobOrder,
    /// The groups of each thing, the children of each group and the jobs targeting each:
    /// changed only here, with the groups and the jobs' payloads.
    group_index: GroupIndex,
}

/// Executions removed per `advance` call before the lock is checked again.
const ADVANCE_BUDGET: usize = 10_000;

impl State {
    /// An empty state.
    pub fn new(caps: Caps, clock: Clock, arns: Arns, deletion_delay: u64) -> Self {
        Self::with_policy(caps, clock, arns, deletion_delay, Policy::DEFAULT)
    }

    /// An empty state whose registry decides under `policy` (SPEC §R).
    pub fn with_policy(caps: Caps, clock: Clock, arns: Arns, deletion_delay: u64, policy: Policy) -> Self {
        let mut registry = Registry::new(caps.storage(), policy);
        registry.set_deletion_delay(deletion_delay);
        State {
            registry,
            meta: Meta::default(),
            clock,
            arns,
            events: EventCounts::default(),
            caps,
            deletion_delay,
            job_events: true,
            generation: 0,
            pinned: None,
            step: None,
            outbox: None,
            audience: None,
            removed: crate::mqtt::events::Removed::default(),
            order: JobOrder::default(),
            group_index: GroupIndex::default(),
        }
    }

    /// A copy of the state for the journal's checkpoints ([`crate::journal::Journal`]): the
    /// registry, the payloads, the clock and the counters; nothing to publish. (Every field is
    /// named: a new one must be decided on here.)
    pub fn replica(&self) -> State {
        State {
            registry: self.registry.clone(),
            meta: self.meta.clone(),
            clock: self.clock.clone(),
            arns: self.arns.clone(),
            events: self.events,
            caps: self.caps,
            deletion_delay: self.deletion_delay,
            job_events: self.job_events,
            generation: self.generation,
            pinned: None,
            step: None,
            outbox: None,
            audience: None,
            removed: crate::mqtt::events::Removed::default(),
            order: self.order.clone(),
            group_index: self.group_index.clone(),
        }
    }

    /// Puts `registry` and `meta` in place of the state's (a state file or an import loaded, a
    /// rollback), with the order of their jobs and the index of their groups.
    pub fn replace(&mut self, registry: Registry<Heap>, mut meta: Meta) {
        self.order = JobOrder::of(&registry);
        self.group_index = GroupIndex::of(&meta, &self.order);
        // A thing in several groups was read once for each: the members take the index's name.
        for g in meta.groups.values_mut() {
            g.members = g.members.iter().map(|t| self.group_index.thing(t)).collect();
        }
        self.registry = registry;
        self.meta = meta;
    }

    /// The jobs in ListJobs's order.
    pub fn job_order(&self) -> &JobOrder {
        &self.order
    }

    /// Puts a job CreateJob has just created in [`Self::job_order`].
    pub fn job_created(&mut self, id: &iot_jobs_core::JobId) {
        if let Ok(job) = self.registry.job(id) {
            self.order.insert(id.as_str(), job.created_at().secs(), job.handle());
        }
    }

    /// The groups of each thing, the children of each group and the jobs targeting each.
    pub fn group_index(&self) -> &GroupIndex {
        &self.group_index
    }

    /// Adds thing group `name` (in place of one of that name, if any).
    pub fn add_group(&mut self, name: String, mut g: GroupMeta) {
        self.remove_group(&name);
        let members = std::mem::take(&mut g.members);
        self.meta.groups.insert(name.clone(), g);
        let ancestors = groups::ancestors(&self.meta, &name);
        self.group_index.added(&name, &ancestors);
        let shared = members.iter().map(|thing| self.group_index.joined(&name, thing, &ancestors)).collect();
        if let Some(g) = self.meta.groups.get_mut(&name) {
            g.members = shared;
        }
    }

    /// Takes thing group `name` out, if it is in: what it was.
    pub fn remove_group(&mut self, name: &str) -> Option<GroupMeta> {
        let ancestors = groups::ancestors(&self.meta, name);
        let g = self.meta.groups.remove(name)?;
        self.group_index.removed(name, &g, &ancestors);
        Some(g)
    }

    /// Puts `thing` in thing group `group`: whether it was not in it (and the group exists).
    pub fn join(&mut self, group: &str, thing: &str) -> bool {
        if self.meta.groups.get(group).is_none_or(|g| g.members.contains(thing)) {
            return false;
        }
        let shared =
            self.group_index.joined(group, &groups::Name::from(thing), &groups::ancestors(&self.meta, group));
        if let Some(g) = self.meta.groups.get_mut(group) {
            g.members.insert(shared);
        }
        true
    }

    /// Takes `thing` out of thing group `group`, if it is in it.
    pub fn leave(&mut self, group: &str, thing: &str) {
        if let Some(g) = self.meta.groups.get_mut(group)
            && g.members.remove(thing)
        {
            self.group_index.left(group, thing, &groups::ancestors(&self.meta, group));
        }
    }

    /// Puts the payloads of job `id` in place (in place of any it had).
    pub fn set_job_meta(&mut self, id: &str, m: JobMeta) {
        let key = (groups::created(&self.order, id), id);
        if let Some(old) = self.meta.jobs.get(id) {
            self.group_index.untargeted(key, &old.groups);
        }
        self.group_index.targeted(key, &m.groups);
        self.meta.jobs.insert(id.to_owned(), m);
    }

    /// Adds `groups` to the target groups of job `id` (AssociateTargetsWithJob).
    pub fn target_groups(&mut self, id: &str, groups: BTreeSet<String>) {
        self.group_index.targeted((groups::created(&self.order, id), id), &groups);
        self.meta.jobs.entry(id.to_owned()).or_default().groups.extend(groups);
    }

    /// Takes `thing` out of every thing group it is in.
    pub fn forget_thing(&mut self, thing: &str) {
        let groups = self.group_index.groups_of(thing).to_vec();
        for group in groups {
            self.leave(&group, thing);
        }
    }

    /// The clock's time: the instant of the step [`State::tick`] is applying, while it applies
    /// it; else the pinned time while an operation runs with the system clock.
    pub fn now(&self) -> Timestamp {
        match (self.step, self.pinned, &self.clock) {
            (Some(t), _, _) | (None, Some(t), Clock::System) => Timestamp(t),
            _ => self.clock.now(),
        }
    }

    /// Fixes the system clock's time at `t` (`None`: back to the wall clock), so that one
    /// operation sees one time, the time its journal record keeps and its replay uses. A
    /// manual clock is part of the state and needs no pinning.
    pub fn pin(&mut self, t: Option<u64>) {
        self.pinned = t;
    }

    /// Pins the time for an operation about to run: returns it.
    pub fn begin(&mut self) -> u64 {
        self.pinned = None;
        let now = self.now().secs();
        self.pinned = Some(now);
        now
    }

    /// Applies everything due up to now (SPEC: the registry decides what is due), as a
    /// simulation clock does: one step at each instant something may fall due
    /// ([`Registry::next_deadline`]), in time order, then one at now. While a step is applied
    /// [`State::now`] is its instant, so that what it changes is stamped with it (a batch
    /// arms the next one from it, a timeout is stamped when it was due), and its events are
    /// rendered with the state it leaves, before the next step. The steps depend only on the
    /// state and the time, as the journal's replay needs. Returns whether anything changed.
    pub fn tick(&mut self) -> bool {
        let target = self.now();
        let mut changed = false;
        loop {
            // Never later than the next transition; an earlier one (a stale timer) finds
            // nothing to do. Each step leaves nothing due at its instant, so they go forward.
            let at = self.registry.next_deadline().filter(|d| *d < target).unwrap_or(target);
            self.step = Some(at.secs());
            let waiting = self.outbox.as_ref().map_or(0, Vec::len);
            let (did, done) = self.apply_due(at);
            changed |= did;
            self.render_from(waiting);
            if !done || at >= target {
                break;
            }
        }
        self.step = None;
        changed
    }

    /// One step of [`State::tick`]: applies what is due at `at` (`Registry::advance` until it
    /// has nothing more). Returns whether anything changed, and whether it went through (a
    /// refused `advance` is logged; what it left due stays due, and the tick stops there).
    ///
    /// With the broker on, the registry advances one unit of work at a time (a timer with what
    /// it sets off, or one execution of a deletion) and each unit's events are rendered as it
    /// left the state: an execution that times out in the step whose deletion then removes it
    /// is TIMED_OUT in its `timed_out` and `deleted` events, not as the step found it.
    fn apply_due(&mut self, at: Timestamp) -> (bool, bool) {
        let budget = if self.outbox.is_some() { 1 } else { ADVANCE_BUDGET };
        let mut changed = false;
        loop {
            self.keep_deletions_due(at);
            let waiting = self.outbox.as_ref().map_or(0, Vec::len);
            let mut sink = Events::default();
            let res = self.registry.advance(at, budget, &mut sink);
            changed |= !sink.0.is_empty();
            if self.outbox.is_some() {
                self.removed.refresh(&self.registry, &sink.0);
            }
            self.deliver(sink);
            self.render_from(waiting);
            match res {
                Ok(a) => {
                    changed |= a.work > 0;
                    if !a.more {
                        return (changed, true);
                    }
                }
                Err(e) => {
                    tracing::warn!("advance refused: {e}");
                    return (changed, false);
                }
            }
        }
    }

    /// Renders the events waiting in the outbox from position `from` on with the state as it
    /// is (the end of a [`State::tick`] step): a later step must not change what they say.
    fn render_from(&mut self, from: usize) {
        let Some(mut out) = self.outbox.take() else { return };
        for item in out.iter_mut().skip(from) {
            if let Outgoing::Event(e) = item {
                *item = Outgoing::Rendered(crate::mqtt::events::render(self, e));
            }
        }
        self.outbox = Some(out);
    }

    /// With the broker on, keeps what the events of the jobs whose deletion is due at `now`, and
    /// of their executions, report of them: the registry's next step drops them before those
    /// events are rendered.
    fn keep_deletions_due(&mut self, now: Timestamp) {
        if self.outbox.is_some() {
            self.removed.keep_deletions_due(&self.registry, now);
        }
    }

    /// Logs and counts the events of an operation, renders them for the MQTT broker (before the
    /// payloads of deleted jobs are dropped), and drops those payloads.
    pub fn deliver(&mut self, sink: Events) {
        for event in sink.0 {
            tracing::debug!(?event, "event");
            if self.outbox.is_some() && self.wanted(&event) {
                // A deleted job's payloads go below: its events, and those of its executions still
                // waiting in the outbox, are rendered while they are here.
                let item =
                    if let Event::Job { job, event: iot_jobs_core::registry::JobEvent::Deleted } = &event {
                        let waiting = self.outbox.as_mut().map(std::mem::take).unwrap_or_default();
                        let rendered: Vec<Outgoing> = waiting
                            .into_iter()
                            .map(|item| match item {
                                Outgoing::Event(e) if of_job(&e) == Some(job) => {
                                    Outgoing::Rendered(crate::mqtt::events::render(self, &e))
                                }
                                other => other,
                            })
                            .collect();
                        self.outbox = Some(rendered);
                        Outgoing::Rendered(crate::mqtt::events::render(self, &event))
                    } else {
                        Outgoing::Event(event.clone())
                    };
                if let Some(out) = &mut self.outbox {
                    out.push(item);
                }
            }
            match event {
                Event::Notify(_) => self.events.notify = self.events.notify.saturating_add(1),
                Event::NotifyNext(_) => self.events.notify_next = self.events.notify_next.saturating_add(1),
                Event::NotifyNamespace { .. } => {
                    self.events.notify_namespace = self.events.notify_namespace.saturating_add(1)
                }
                Event::NotifyNextNamespace { .. } => {
                    self.events.notify_next_namespace = self.events.notify_next_namespace.saturating_add(1)
                }
                Event::Job { job, event } => {
                    self.events.job_events = self.events.job_events.saturating_add(1);
                    if matches!(event, iot_jobs_core::registry::JobEvent::Deleted) {
                        if let Some(m) = self.meta.jobs.remove(job.as_str()) {
                            let key = (groups::created(&self.order, job.as_str()), job.as_str());
                            self.group_index.untargeted(key, &m.groups);
                        }
                        self.order.remove(job.as_str());
                        self.meta.tags.forget(TagStore::JOB, job.as_str());
                    }
                }
                Event::Execution { .. } => {
                    self.events.execution_events = self.events.execution_events.saturating_add(1)
                }
                // A kind of event this emulator does not know yet: logged above, not counted.
                _ => {}
            }
        }
    }

    /// Whether `event` goes to the outbox: a session of the [`State::audience`] subscribes
    /// to its topic (or there is no audience to ask). One whose topic cannot be written goes,
    /// to be logged when it is rendered.
    fn wanted(&self, event: &Event) -> bool {
        let Some(broker) = &self.audience else { return true };
        match crate::mqtt::events::topic_of(event) {
            Ok(Some(topic)) => broker.wants(&topic.to_string()),
            Ok(None) | Err(_) => true,
        }
    }

    /// The MQTT messages of the events reported since the last call: an operation's rendered
    /// with the state it left (its job payloads included), those of due transitions as their
    /// [`State::tick`] step left it.
    pub fn take_messages(&mut self) -> Vec<crate::mqtt::Message> {
        let items = self.outbox.as_mut().map(std::mem::take).unwrap_or_default();
        let mut messages = Vec::new();
        for item in items {
            match item {
                Outgoing::Event(event) => messages.extend(crate::mqtt::events::render(self, &event)),
                Outgoing::Rendered(m) => messages.extend(m),
            }
        }
        self.removed = crate::mqtt::events::Removed::default();
        messages
    }

    /// The job template a custom template's ARN names by its id, with the id; `None` for an
    /// unknown or managed template's ARN. The region and account are the caller's to check
    /// ([`crate::wire::Arns::own`]).
    pub fn job_template(&self, arn: &str) -> Option<(&str, &TemplateMeta)> {
        match crate::wire::parse_template_arn(arn)? {
            TemplateArn::Custom(id) => self.meta.templates.get_key_value(&id).map(|(k, v)| (k.as_str(), v)),
            TemplateArn::Managed { .. } => None,
        }
    }

    /// The same template, to change (its tags).
    pub fn job_template_mut(&mut self, arn: &str) -> Option<&mut TemplateMeta> {
        match crate::wire::parse_template_arn(arn)? {
            TemplateArn::Custom(id) => self.meta.templates.get_mut(&id),
            TemplateArn::Managed { .. } => None,
        }
    }

    /// Forgets everything (`POST /_emulator/reset`); the clock stays where it is.
    pub fn reset(&mut self) {
        self.registry.clear();
        self.meta = Meta::default();
        self.order = JobOrder::default();
        self.group_index = GroupIndex::default();
        self.events = EventCounts::default();
    }
}
