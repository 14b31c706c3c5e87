//! Drives the registry and the reference model with the same operations and compares every
//! observable result. Shared by `tests/model_props.rs` (proptest) and `fuzz/` (libFuzzer).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use iot_jobs_core::config::{
    AbortConfig, AbortCriterion, JobConfig, RetryConfig, RetryCriterion, RolloutRate, Schedule,
};
use iot_jobs_core::registry::{
    Event, EventSink, ExecutionHandle, ExecutionView, NewJob, Registry, Storage, Update,
};
use iot_jobs_core::{
    ExecutionNumber, ExecutionStatus as XS, FailureType, JobEndBehavior, JobId, JobStatus as JS, NamespaceId,
    Plane, ReasonCode, Rejection, RetryableFailureType, StatusDetails, StepTimeout, TargetSelection,
    ThingName, TimeoutMinutes, Timestamp, VersionNumber,
};

use super::{Ev, ExecView, Model, Out, Readings, Refusal, Req};

/// Details as the tests generate them (possibly invalid).
pub type Details = Vec<(String, String)>;

/// One step of a generated scenario. Ids are plain strings, valid or not.
#[derive(Debug, Clone)]
pub enum Op {
    AddThing(String),
    RemoveThing(String),
    /// `start`/`end`: seconds after `now` (a schedule), if any.
    CreateJob {
        job: String,
        continuous: bool,
        start: Option<u64>,
        end: Option<u64>,
        targets: Vec<String>,
        /// `jobExecutionsRetryConfig` criteria (valid ones).
        retry: Vec<(RetryableFailureType, u8)>,
        /// `abortConfig` criteria (valid ones): failure type, threshold in hundredths of a
        /// percent, minimum executed.
        abort: Vec<(FailureType, u16, u32)>,
        /// The schedule's `endBehavior` (used only with an `end`).
        end_behavior: JobEndBehavior,
        /// `inProgressTimeoutInMinutes`, valid or not.
        timeout: Option<u64>,
        /// `maximumPerMinute`, valid or not.
        rate: Option<u32>,
        /// `schedulingConfig.maintenanceWindows`: an index into [`super::WINDOW_SETS`].
        windows: Option<u8>,
        /// `exponentialRate` (valid ones).
        exponential: Option<super::Exponential>,
        /// `namespaceId` (a valid one), if any (SPEC R20).
        namespace: Option<String>,
    },
    AddTargets {
        job: String,
        things: Vec<String>,
        counted: bool,
    },
    RemoveTarget {
        job: String,
        thing: String,
    },
    CancelJob {
        job: String,
        force: bool,
        reason: Option<String>,
    },
    DeleteJob {
        job: String,
        force: bool,
    },
    CancelExecution {
        job: String,
        thing: String,
        force: bool,
        expected: Option<u64>,
        details: Option<Details>,
    },
    DeleteExecution {
        job: String,
        thing: String,
        number: u64,
        force: bool,
    },
    Update {
        job: String,
        thing: String,
        status: XS,
        expected: Option<u64>,
        number: Option<u64>,
        details: Option<Details>,
        step: Option<i64>,
    },
    StartNext {
        thing: String,
        details: Option<Details>,
        step: Option<i64>,
    },
    Describe {
        job: String,
        thing: String,
        number: Option<u64>,
        data_plane: bool,
    },
    /// Move the clock by this many seconds (backwards too), then `advance` with `budget`.
    Advance {
        dt: i64,
        budget: usize,
    },
    /// Move the clock by this many seconds, then `advance_through` with `budget`: the model
    /// steps through its own deadlines before the new now, then advances at it.
    AdvanceThrough {
        dt: i64,
        budget: usize,
    },
    /// Move the clock only.
    Clock(i64),
    SetDeletionDelay(u64),
    /// A maintenance window of the job opens (`Registry::open_window`).
    OpenWindow(String),
    /// A maintenance window of the job closes (`Registry::close_window`).
    CloseWindow(String),
    /// Room of the event sink for the following operations (`None`: unbounded).
    SinkRoom(Option<usize>),
}

/// The start of the clock.
pub const T0: u64 = 1_700_000_000;

/// What an operation may ask of the event sink beyond the events it emits: a reservation is
/// made before the operation knows which of its branches it takes (the largest, a terminal
/// UpdateJobExecution of a job with a namespace: 4 notifications and 6 more), but never grows
/// with the job's executions. `EventSink`'s docs promise this bound to users sizing a queue.
pub const SLACK: usize = 10;

/// A sink that records events and holds at most `room` more (when set).
#[derive(Default)]
struct Sink {
    events: Vec<Ev>,
    room: Option<usize>,
    overflow: bool,
}

impl EventSink for Sink {
    fn room(&self) -> usize {
        self.room.unwrap_or(usize::MAX)
    }
    fn push(&mut self, e: Event) {
        match &mut self.room {
            Some(0) => self.overflow = true,
            Some(n) => *n -= 1,
            None => {}
        }
        self.events.push(match e {
            Event::Notify(t) => Ev::Notify(t.to_string()),
            Event::NotifyNext(t) => Ev::NotifyNext(t.to_string()),
            Event::NotifyNamespace { thing, namespace } => {
                Ev::NotifyNs(thing.to_string(), namespace.to_string())
            }
            Event::NotifyNextNamespace { thing, namespace } => {
                Ev::NotifyNextNs(thing.to_string(), namespace.to_string())
            }
            Event::Job { job, event } => Ev::Job(job.to_string(), event.as_str()),
            Event::Execution { job, thing, number, event } => {
                Ev::Exec(job.to_string(), thing.to_string(), number.get(), event.as_str())
            }
            other => Ev::Unknown(format!("{other:?}")),
        });
    }
}

/// Everything observable of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSnap {
    pub status: JS,
    pub selection: TargetSelection,
    pub force_canceled: bool,
    pub reason: Option<String>,
    pub counts: [u32; 8],
    pub targets: u32,
    pub completed_at: Option<u64>,
    pub execs: Vec<ExecView>,
}

/// Everything observable of the store (for the things named in `things`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub jobs: BTreeMap<String, JobSnap>,
    pub registered: BTreeSet<String>,
    pub pending: BTreeMap<String, Vec<ExecView>>,
    pub next: BTreeMap<String, Option<ExecView>>,
    pub per_thing: BTreeMap<String, Result<Vec<ExecView>, &'static str>>,
    pub deleting: usize,
    pub deadline: Option<u64>,
}

fn view(v: &ExecutionView<'_>) -> ExecView {
    ExecView {
        job: v.job_id().to_string(),
        thing: v.thing_name().to_string(),
        number: v.number().get(),
        status: v.status(),
        version: v.version().get(),
        force_canceled: v.force_canceled(),
        details: v.status_details().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        deadline: v.deadline().map(|d| d.0),
        queued_at: v.queued_at().0,
        started_at: v.started_at().map(|t| t.0),
        last_updated: v.last_updated_at().0,
    }
}

fn refusal(r: Rejection, plane: Plane) -> Refusal {
    Refusal {
        name: r.exception_name(plane),
        state: r.execution_state().map(|s| (s.status, s.version.get())),
        capacity: matches!(r, Rejection::CapacityExhausted(_) | Rejection::Throttled),
    }
}

/// The registry and the model side by side.
pub struct Driver<S: Storage> {
    pub reg: Registry<S>,
    pub model: Model,
    pub now: u64,
    room: Option<usize>,
    /// Thing names whose pending lists the snapshot compares.
    things: Vec<String>,
    /// Handle → (status, version) at the previous step (invariants across steps).
    seen: HashMap<ExecutionHandle, (XS, u64)>,
    /// With small tables: capacity refusals are checked for atomicity and not modelled.
    pub capacity_mode: bool,
    /// Set by a capacity refusal the model would have answered differently.
    pub log: String,
    /// An `advance` stopped for room after applying some transitions (it is resumable, not
    /// atomic: its docs); the model, which has no tables, is no longer comparable in this case.
    diverged: bool,
    /// When set, each operation (`advance` too) gets a sink with room for the events the model
    /// says it emits and [`SLACK`] more: the registry must then not answer `Throttled`.
    pub slack: bool,
}

impl<S: Storage> Driver<S> {
    pub fn new(storage: S, readings: Readings, things: &[&str]) -> Self {
        Self {
            reg: Registry::new(storage, iot_jobs_core::Policy::DEFAULT),
            model: Model::new(readings),
            now: T0,
            room: None,
            things: things.iter().map(|s| (*s).to_owned()).collect(),
            seen: HashMap::new(),
            capacity_mode: false,
            log: String::new(),
            diverged: false,
            slack: false,
        }
    }

    /// The registry's side of the snapshot.
    pub fn snapshot(&self) -> Snapshot {
        let r = &self.reg;
        let mut jobs = BTreeMap::new();
        for job in r.jobs() {
            let mut execs = Vec::new();
            r.list_for_job(job.id(), None, None, usize::MAX, |v| execs.push(view(&v))).unwrap();
            let p = job.process_details();
            jobs.insert(
                job.id().to_string(),
                JobSnap {
                    status: job.status(),
                    selection: job.target_selection(),
                    force_canceled: job.force_canceled(),
                    reason: job.reason_code().map(|r| r.as_str().to_owned()),
                    counts: XS::ALL.map(|s| p.count(s)),
                    targets: job.targets(),
                    completed_at: job.completed_at().map(|t| t.0),
                    execs,
                },
            );
        }
        let mut pending = BTreeMap::new();
        let mut next = BTreeMap::new();
        let mut per_thing = BTreeMap::new();
        for t in &self.things {
            let Ok(name) = ThingName::new(t) else { continue };
            let mut list = Vec::new();
            r.pending(&name, |v| list.push(view(&v))).unwrap();
            pending.insert(t.clone(), list);
            next.insert(t.clone(), r.next_pending(&name).unwrap().map(|v| view(&v)));
            let mut all = Vec::new();
            let listed = r.list_for_thing(&name, None, None, usize::MAX, |v| all.push(view(&v)));
            per_thing.insert(t.clone(), listed.map(|_| all).map_err(|e| e.exception_name(Plane::Control)));
        }
        Snapshot {
            jobs,
            registered: r.things().map(|t| t.to_string()).collect(),
            pending,
            next,
            per_thing,
            deleting: r.jobs_deleting(),
            deadline: r.next_deadline().map(|t| t.0),
        }
    }

    /// The model's side of the snapshot.
    pub fn model_snapshot(&self) -> Snapshot {
        let m = &self.model;
        let jobs = m
            .jobs
            .iter()
            .map(|(id, j)| {
                (
                    id.clone(),
                    JobSnap {
                        status: j.status,
                        selection: j.selection,
                        force_canceled: j.force_canceled,
                        reason: j.reason.clone(),
                        counts: m.counts(id),
                        targets: u32::try_from(m.target_count(j)).unwrap(),
                        completed_at: j.completed_at,
                        execs: m.job_execs(id),
                    },
                )
            })
            .collect();
        let valid: Vec<&String> = self.things.iter().filter(|t| super::valid_thing_name(t)).collect();
        Snapshot {
            jobs,
            registered: m.things.clone(),
            pending: valid.iter().map(|t| ((*t).clone(), m.pending(t))).collect(),
            next: valid.iter().map(|t| ((*t).clone(), m.next_pending(t))).collect(),
            per_thing: valid
                .iter()
                .map(|t| {
                    let r = if m.known_thing(t) { Ok(m.thing_execs(t)) } else { Err(super::NOT_FOUND) };
                    ((*t).clone(), r)
                })
                .collect(),
            deleting: m.deleting.len(),
            deadline: m.next_deadline(),
        }
    }

    /// Applies `op` to both and compares. `Err` describes the first disagreement.
    pub fn step(&mut self, op: &Op) -> Result<(), String> {
        let before = self.capacity_mode.then(|| self.snapshot());
        let (got, mut events, overflow) = self.run_registry(op);
        events.sort();
        if overflow {
            return Err(format!("{op:?}: the registry pushed more events than the sink's room"));
        }
        if self.capacity_mode
            && let Err(r) = &got
            && r.capacity
        {
            // `advance` applies its transitions one by one: those before the one that did not fit
            // stay applied, and that one stays due (Registry::advance). From here on the registry
            // is checked against its own invariants only.
            if matches!(op, Op::Advance { .. } | Op::AdvanceThrough { .. }) {
                self.diverged = true;
                return self.check_invariants();
            }
            // Refused for room: nothing may have changed, and nothing was emitted.
            let after = self.snapshot();
            if Some(&after) != before.as_ref() || !events.is_empty() {
                return Err(format!(
                    "{op:?}: refused with {r:?} but changed the store or emitted {events:?}"
                ));
            }
            if self.diverged {
                return self.check_invariants();
            }
            // The model would have refused for a reason of the request: the registry checked its
            // room first (a precedence finding, logged for the report).
            let mut probe = self.model.clone();
            let (expected, _) = self.run_model(&mut probe, op);
            if let Err(m) = expected {
                let _ = writeln!(self.log, "{op:?}: registry {r:?}, model {m:?}");
            }
            return self.check_invariants();
        }
        if self.diverged {
            return self.check_invariants();
        }
        let mut model = std::mem::replace(&mut self.model, Model::new(Readings::SPEC));
        let (want, want_events) = self.run_model(&mut model, op);
        self.model = model;
        if got != want {
            return Err(format!("{op:?}:\n  registry {got:?}\n  model    {want:?}"));
        }
        // One `advance` applies several transitions, each notifying on its own; compare its
        // notifications as a set.
        let (mut events, mut want_events) = (events, want_events);
        if matches!(op, Op::Advance { .. } | Op::AdvanceThrough { .. }) {
            events.dedup();
            want_events.dedup();
        }
        if events != want_events {
            return Err(format!("{op:?}: events differ\n  registry {events:?}\n  model    {want_events:?}"));
        }
        let (a, b) = (self.snapshot(), self.model_snapshot());
        // `next_deadline` may be early (a superseded timer) but never late: the registry's is
        // accepted when it is no later than the model's exact one.
        let mut a = a;
        if a.deadline != b.deadline && b.deadline.is_none_or(|m| a.deadline.is_some_and(|r| r <= m)) {
            a.deadline = b.deadline;
        }
        if a != b {
            return Err(format!("{op:?}: state differs\n{}", diff(&a, &b)));
        }
        self.check_invariants()
    }

    fn run_model(&self, model: &mut Model, op: &Op) -> (Result<Out, Refusal>, Vec<Ev>) {
        use super::{
            valid_details, valid_in_progress_timeout, valid_job_id, valid_long, valid_rate,
            valid_reason_code, valid_step, valid_thing_name,
        };
        let now = self.now;
        let bad =
            || (Err(Refusal { name: super::INVALID_REQUEST, state: None, capacity: false }), Vec::new());
        let job_ok = |j: &str| valid_job_id(j);
        let thing_ok = |t: &str| valid_thing_name(t);
        let details_ok = |d: &Option<Details>| d.as_ref().is_none_or(|d| valid_details(d));
        let req = match op {
            Op::AddThing(t) if !thing_ok(t) => return bad(),
            Op::AddThing(t) => Req::AddThing(t),
            Op::RemoveThing(t) if !thing_ok(t) => return bad(),
            Op::RemoveThing(t) => Req::RemoveThing(t),
            Op::CreateJob {
                job,
                continuous,
                start,
                end,
                targets,
                retry,
                abort,
                end_behavior,
                timeout,
                rate,
                windows,
                exponential,
                namespace,
            } => {
                if !job_ok(job)
                    || !targets.iter().all(|t| thing_ok(t))
                    || timeout.is_some_and(|m| !valid_in_progress_timeout(m))
                    || rate.is_some_and(|r| !valid_rate(r))
                {
                    return bad();
                }
                let start = start.map(|s| now.saturating_add(s));
                let end = end.map(|e| now.saturating_add(e));
                // SPEC §6: endTime after startTime (a field check of the request).
                if let (Some(s), Some(e)) = (start, end)
                    && e <= s
                {
                    return bad();
                }
                Req::CreateJob {
                    job,
                    continuous: *continuous,
                    start,
                    end,
                    end_behavior: *end_behavior,
                    timeout: *timeout,
                    rate: *rate,
                    namespace: namespace.as_deref(),
                    targets,
                    retry,
                    abort,
                    windows: *windows,
                    exponential: *exponential,
                }
            }
            Op::AddTargets { job, things, counted } => {
                if !job_ok(job) || !things.iter().all(|t| thing_ok(t)) {
                    return bad();
                }
                Req::AddTargets { job, things, counted: *counted }
            }
            Op::RemoveTarget { job, thing } if !job_ok(job) || !thing_ok(thing) => return bad(),
            Op::RemoveTarget { job, thing } => Req::RemoveTarget { job, thing },
            Op::CancelJob { job, force, reason } => {
                if !job_ok(job) || reason.as_deref().is_some_and(|r| !valid_reason_code(r)) {
                    return bad();
                }
                Req::CancelJob { job, force: *force, reason: reason.as_deref() }
            }
            Op::DeleteJob { job, .. } if !job_ok(job) => return bad(),
            Op::DeleteJob { job, force } => Req::DeleteJob { job, force: *force },
            Op::CancelExecution { job, thing, force, expected, details } => {
                if !job_ok(job)
                    || !thing_ok(thing)
                    || !details_ok(details)
                    || expected.is_some_and(|v| !valid_long(v))
                {
                    return bad();
                }
                Req::CancelExecution {
                    job,
                    thing,
                    force: *force,
                    expected: *expected,
                    details: details.as_deref(),
                }
            }
            Op::DeleteExecution { job, thing, number, force } => {
                if !job_ok(job) || !thing_ok(thing) || !valid_long(*number) {
                    return bad();
                }
                Req::DeleteExecution { job, thing, number: *number, force: *force }
            }
            Op::Update { job, thing, status, expected, number, details, step } => {
                if !job_ok(job)
                    || !thing_ok(thing)
                    || !details_ok(details)
                    || expected.is_some_and(|v| !valid_long(v))
                    || number.is_some_and(|v| !valid_long(v))
                    || step.is_some_and(|s| !valid_step(s, true))
                {
                    return bad();
                }
                Req::Update {
                    job,
                    thing,
                    status: *status,
                    expected: *expected,
                    number: *number,
                    details: details.as_deref(),
                    step: *step,
                }
            }
            Op::StartNext { thing, details, step } => {
                if !thing_ok(thing) || !details_ok(details) || step.is_some_and(|s| !valid_step(s, false)) {
                    return bad();
                }
                Req::StartNext {
                    thing,
                    details: details.as_deref(),
                    step: step.map(|s| u16::try_from(s).unwrap()),
                }
            }
            Op::Describe { job, thing, number, data_plane } => {
                if !job_ok(job) || !thing_ok(thing) || number.is_some_and(|v| !valid_long(v)) {
                    return bad();
                }
                Req::Describe { job, thing, number: *number, data_plane: *data_plane }
            }
            Op::Advance { budget, .. } => Req::Advance { budget: *budget },
            Op::AdvanceThrough { budget, .. } => {
                // A step at each of the model's own deadlines before `now`, then one at `now`.
                let mut events = Vec::new();
                for _ in 0..10_000 {
                    let Some(at) = model.next_deadline().filter(|d| *d < now) else { break };
                    let (answer, step) = model.apply(&Req::Advance { budget: *budget }, at);
                    events.extend(step);
                    if answer.is_err() {
                        events.sort();
                        return (answer, events);
                    }
                }
                let (answer, step) = model.apply(&Req::Advance { budget: *budget }, now);
                events.extend(step);
                events.sort();
                return (answer, events);
            }
            Op::SetDeletionDelay(s) => Req::SetDeletionDelay(*s),
            Op::OpenWindow(job) if !job_ok(job) => return bad(),
            Op::OpenWindow(job) => Req::OpenWindow(job),
            Op::CloseWindow(job) if !job_ok(job) => return bad(),
            Op::CloseWindow(job) => Req::CloseWindow(job),
            Op::Clock(_) | Op::SinkRoom(_) => return (Ok(Out::Done), Vec::new()),
        };
        model.apply(&req, now)
    }

    /// Runs `op` on the registry: its answer, its events, whether it overflowed the sink.
    fn run_registry(&mut self, op: &Op) -> (Result<Out, Refusal>, Vec<Ev>, bool) {
        if let Op::Clock(dt) | Op::Advance { dt, .. } | Op::AdvanceThrough { dt, .. } = op {
            self.now = self.now.saturating_add_signed(*dt);
        }
        if let Op::SinkRoom(room) = op {
            self.room = *room;
        }
        // `advance` is documented as resumable, not atomic, when the sink fills: it keeps what it
        // did. That is checked by `advance_resumes_after_throttling`; here it gets room, or, with
        // the slack, room for the events of all its transitions and the slack.
        let room = if self.slack {
            let (_, events) = self.run_model(&mut self.model.clone(), op);
            Some(events.len().saturating_add(SLACK))
        } else if matches!(op, Op::Advance { .. } | Op::AdvanceThrough { .. }) {
            None
        } else {
            self.room
        };
        let mut sink = Sink { room, ..Sink::default() };
        let got = self.call(op, &mut sink);
        (got, sink.events, sink.overflow)
    }

    fn call(&mut self, op: &Op, sink: &mut Sink) -> Result<Out, Refusal> {
        let now = Timestamp(self.now);
        let control = |r: Rejection| refusal(r, Plane::Control);
        let data = |r: Rejection| refusal(r, Plane::Data);
        let c = |e: iot_jobs_core::FieldError| refusal(Rejection::from(e), Plane::Control);
        let d = |e: iot_jobs_core::FieldError| refusal(Rejection::from(e), Plane::Data);
        let things = |v: &[String]| v.iter().map(|t| ThingName::new(t)).collect::<Result<Vec<_>, _>>();
        let r = &mut self.reg;
        match op {
            Op::AddThing(t) => {
                let t = ThingName::new(t).map_err(c)?;
                r.add_thing(&t).map(|_| Out::Done).map_err(control)
            }
            Op::RemoveThing(t) => {
                let t = ThingName::new(t).map_err(c)?;
                r.remove_thing(&t, now, sink).map(|()| Out::Done).map_err(control)
            }
            Op::CreateJob {
                job,
                continuous,
                start,
                end,
                targets,
                retry,
                abort,
                end_behavior,
                timeout,
                rate,
                windows,
                exponential,
                namespace,
            } => {
                let id = JobId::new(job).map_err(c)?;
                let targets = things(targets).map_err(c)?;
                let selection =
                    if *continuous { TargetSelection::Continuous } else { TargetSelection::Snapshot };
                let at = |s: &u64| now.saturating_add(*s);
                let schedule = if start.is_some() || end.is_some() {
                    let s =
                        Schedule::new(start.as_ref().map(at), end.as_ref().map(|e| (at(e), *end_behavior)));
                    Some(s.map_err(|e| control(Rejection::from(e)))?)
                } else {
                    None
                };
                let retry: Vec<_> =
                    retry.iter().map(|&(failure, retries)| RetryCriterion { failure, retries }).collect();
                let abort: Vec<_> = abort
                    .iter()
                    .map(|&(failure, threshold_centipercent, min_executed)| AbortCriterion {
                        failure,
                        threshold_centipercent,
                        min_executed,
                    })
                    .collect();
                let timeout = timeout
                    .map(|m| TimeoutMinutes::new(u16::try_from(m).unwrap_or(u16::MAX)))
                    .transpose()
                    .map_err(|e| control(Rejection::from(e)))?;
                let rate = rate.map(RolloutRate::new).transpose().map_err(|e| control(Rejection::from(e)))?;
                let config = JobConfig {
                    schedule,
                    in_progress_timeout_minutes: timeout,
                    maximum_per_minute: rate,
                    retry: (!retry.is_empty()).then(|| RetryConfig::new(&retry).unwrap()),
                    abort: (!abort.is_empty()).then(|| AbortConfig::new(&abort).unwrap()),
                    windows: windows.map(|set| {
                        let (cron, minutes) = super::WINDOW_SETS[usize::from(set) % super::WINDOW_SETS.len()];
                        let cron = iot_jobs_core::cron::Cron::parse(cron).unwrap();
                        let w = iot_jobs_core::config::MaintenanceWindow::new(cron, minutes).unwrap();
                        iot_jobs_core::config::MaintenanceWindows::new(&[w]).unwrap()
                    }),
                    exponential: exponential.map(|(base, factor, notified, succeeded)| {
                        let increase = iot_jobs_core::config::RateIncrease { notified, succeeded };
                        iot_jobs_core::config::ExponentialRate::new(base, factor, increase).unwrap()
                    }),
                };
                let namespace = namespace.as_deref().map(|n| NamespaceId::new(n).unwrap());
                let new = NewJob { id: &id, selection, namespace: namespace.as_ref(), config };
                // The model's targets may be empty (groups without things): the request's count
                // of ARNs is the host's to check, as `create_job_with_members` leaves it.
                r.create_job_with_members(&new, &targets, &[], now, sink).map(|_| Out::Done).map_err(control)
            }
            Op::AddTargets { job, things: list, counted } => {
                let id = JobId::new(job).map_err(c)?;
                let list = things(list).map_err(c)?;
                let n = if *counted {
                    r.add_targets(&id, &list, now, sink)
                } else {
                    r.add_members(&id, &list, now, sink)
                };
                n.map(Out::Count).map_err(control)
            }
            Op::RemoveTarget { job, thing } => {
                let id = JobId::new(job).map_err(c)?;
                let t = ThingName::new(thing).map_err(c)?;
                r.remove_target(&id, &t, now, sink).map(|()| Out::Done).map_err(control)
            }
            Op::CancelJob { job, force, reason } => {
                let id = JobId::new(job).map_err(c)?;
                let reason = reason.as_deref().map(ReasonCode::new).transpose().map_err(c)?;
                r.cancel_job(&id, *force, reason.as_ref(), now, sink).map(|()| Out::Done).map_err(control)
            }
            Op::DeleteJob { job, force } => {
                let id = JobId::new(job).map_err(c)?;
                r.delete_job(&id, *force, now, sink).map(|()| Out::Done).map_err(control)
            }
            Op::CancelExecution { job, thing, force, expected, details } => {
                let id = JobId::new(job).map_err(c)?;
                let t = ThingName::new(thing).map_err(c)?;
                let pairs = borrowed(details);
                let details = pairs.as_deref().map(StatusDetails::new).transpose().map_err(c)?;
                let expected = expected.map(VersionNumber::new).transpose().map_err(c)?;
                r.cancel_execution(&id, &t, *force, expected, details.as_ref(), now, sink)
                    .map(|s| Out::State(s.status, s.version.get()))
                    .map_err(control)
            }
            Op::DeleteExecution { job, thing, number, force } => {
                let id = JobId::new(job).map_err(c)?;
                let t = ThingName::new(thing).map_err(c)?;
                let n = ExecutionNumber::new(*number).map_err(c)?;
                r.delete_execution(&id, &t, n, *force, now, sink).map(|()| Out::Done).map_err(control)
            }
            Op::Update { job, thing, status, expected, number, details, step } => {
                let id = JobId::new(job).map_err(d)?;
                let t = ThingName::new(thing).map_err(d)?;
                let pairs = borrowed(details);
                let status_details = pairs.as_deref().map(StatusDetails::new).transpose().map_err(d)?;
                let update = Update {
                    status: *status,
                    status_details: status_details.as_ref(),
                    expected_version: expected.map(VersionNumber::new).transpose().map_err(d)?,
                    execution_number: number.map(ExecutionNumber::new).transpose().map_err(d)?,
                    step_timeout: step.map(|s| StepTimeout::from_wire(s, true)).transpose().map_err(d)?,
                };
                r.update_execution(&id, &t, &update, now, sink)
                    .map(|s| Out::State(s.status, s.version.get()))
                    .map_err(data)
            }
            Op::StartNext { thing, details, step } => {
                let t = ThingName::new(thing).map_err(d)?;
                let pairs = borrowed(details);
                let details = pairs.as_deref().map(StatusDetails::new).transpose().map_err(d)?;
                let step = step.map(|s| StepTimeout::from_wire(s, false)).transpose().map_err(d)?;
                let h = r.start_next(&t, details.as_ref(), step, now, sink).map_err(data)?;
                let v = h.map(|h| r.execution(h).expect("a returned handle names an execution"));
                Ok(Out::Next(
                    v.map(|v| (v.job_id().to_string(), v.number().get(), v.status(), v.version().get())),
                ))
            }
            Op::Describe { job, thing, number, data_plane } => {
                let plane = if *data_plane { Plane::Data } else { Plane::Control };
                let f = |e| refusal(Rejection::from(e), plane);
                let id = JobId::new(job).map_err(f)?;
                let t = ThingName::new(thing).map_err(f)?;
                let n = number.map(ExecutionNumber::new).transpose().map_err(f)?;
                r.describe_execution(&id, &t, n, plane)
                    .map(|v| Out::Exec(view(&v)))
                    .map_err(|e| refusal(e, plane))
            }
            // Run to completion in steps of `budget` (at least 1): see the model's Advance.
            Op::Advance { budget, .. } => to_completion(*budget, |b| r.advance(now, b, &mut *sink)),
            Op::AdvanceThrough { budget, .. } => {
                to_completion(*budget, |b| r.advance_through(now, b, &mut *sink))
            }
            Op::SetDeletionDelay(s) => {
                r.set_deletion_delay(*s);
                Ok(Out::Done)
            }
            Op::OpenWindow(job) => {
                let id = JobId::new(job).map_err(c)?;
                r.open_window(&id, now, sink).map(|()| Out::Done).map_err(control)
            }
            Op::CloseWindow(job) => {
                let id = JobId::new(job).map_err(c)?;
                r.close_window(&id, now, sink).map(|()| Out::Done).map_err(control)
            }
            Op::Clock(_) | Op::SinkRoom(_) => Ok(Out::Done),
        }
    }

    /// Invariants of the registry alone, within a state and across steps.
    pub fn check_invariants(&mut self) -> Result<(), String> {
        let r = &self.reg;
        let deleting = r.jobs().filter(|j| j.status() == JS::DeletionInProgress).count();
        if deleting > 10 || deleting != r.jobs_deleting() {
            return Err(format!(
                "{deleting} jobs DELETION_IN_PROGRESS, jobs_deleting() = {}",
                r.jobs_deleting()
            ));
        }
        let mut ids = BTreeSet::new();
        let mut now_seen = HashMap::new();
        for job in r.jobs() {
            let mut recount = [0u32; 8];
            let mut bad = None;
            r.list_for_job(job.id(), None, None, usize::MAX, |v| {
                let i = XS::ALL.iter().position(|s| *s == v.status()).unwrap();
                recount[i] += 1;
                if !ids.insert((v.job_id().to_string(), v.thing_name().to_string(), v.number())) {
                    bad =
                        Some(format!("two executions share {:?}", (v.job_id(), v.thing_name(), v.number())));
                }
                now_seen.insert(v.handle(), (v.status(), v.version().get()));
            })
            .unwrap();
            if let Some(b) = bad {
                return Err(b);
            }
            let p = job.process_details();
            if XS::ALL.map(|s| p.count(s)) != recount {
                return Err(format!("jobProcessDetails of {} differ from a recount", job.id()));
            }
        }
        for (h, (status, version)) in &now_seen {
            if let Some((was, old)) = self.seen.get(h) {
                if version < old {
                    return Err(format!("version went back from {old} to {version}"));
                }
                if was.is_terminal() && was != status {
                    return Err(format!("terminal {was} became {status}"));
                }
            }
        }
        self.seen = now_seen;
        for t in &self.things {
            let Ok(name) = ThingName::new(t) else { continue };
            let mut ranks = Vec::new();
            r.pending(&name, |v| ranks.push(v.status() == XS::Queued)).unwrap();
            if ranks.windows(2).any(|w| w[0] && !w[1]) {
                return Err(format!("pending list of {t}: a QUEUED execution before an IN_PROGRESS one"));
            }
        }
        Ok(())
    }
}

fn borrowed(details: &Option<Details>) -> Option<Vec<(&str, &str)>> {
    details.as_ref().map(|d| d.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
}

/// The parts of two snapshots that differ, for a readable failure.
fn diff(a: &Snapshot, b: &Snapshot) -> String {
    let mut out = String::new();
    let mut field = |name: &str, x: String, y: String| {
        if x != y {
            let _ = writeln!(out, "  {name}:\n    registry {x}\n    model    {y}");
        }
    };
    let keys: BTreeSet<&String> = a.jobs.keys().chain(b.jobs.keys()).collect();
    for k in keys {
        field(&format!("job {k}"), format!("{:?}", a.jobs.get(k)), format!("{:?}", b.jobs.get(k)));
    }
    field("registered", format!("{:?}", a.registered), format!("{:?}", b.registered));
    for k in a.pending.keys() {
        field(&format!("pending {k}"), format!("{:?}", a.pending.get(k)), format!("{:?}", b.pending.get(k)));
        field(&format!("next {k}"), format!("{:?}", a.next.get(k)), format!("{:?}", b.next.get(k)));
        let (x, y) = (a.per_thing.get(k), b.per_thing.get(k));
        field(&format!("list_for_thing {k}"), format!("{x:?}"), format!("{y:?}"));
    }
    field("deleting", a.deleting.to_string(), b.deleting.to_string());
    field("deadline", format!("{:?}", a.deadline), format!("{:?}", b.deadline));
    out
}

/// Small tables so that "full" happens (capacity property). statusDetails maps of at most 1 KiB
/// (the generated maps are smaller; the registries live on the test's stack).
pub type Tiny = iot_jobs_core::registry::Fixed<3, 3, 6, 2, 64, 1024>;
/// Tables no generated scenario fills (model property); maps as in [`Tiny`].
pub type Roomy = iot_jobs_core::registry::Fixed<16, 8, 256, 64, 1024, 1024>;

/// Calls `step` with `budget` (at least 1) until it has nothing more to do, or refuses.
fn to_completion(
    budget: usize,
    mut step: impl FnMut(usize) -> Result<iot_jobs_core::registry::Advanced, Rejection>,
) -> Result<Out, Refusal> {
    for _ in 0..10_000 {
        match step(budget.max(1)) {
            Ok(a) if a.more => {}
            Ok(_) => break,
            Err(e) => return Err(refusal(e, Plane::Control)),
        }
    }
    Ok(Out::Advanced { work: 0, more: false })
}
