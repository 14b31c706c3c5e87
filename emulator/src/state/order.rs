//! The jobs in ListJobs's order, creation time then id, kept beside the registry (which keeps
//! them in table order), so that a page of ListJobs reads its own items from where the token
//! points instead of looking at every job; each with its registry handle, so that reading a
//! job from here costs no id lookup.
//!
//! Only [`State`](super::State) changes it: a job is added when CreateJob creates it and taken
//! out on its `Deleted` event, and the whole order is rebuilt from the registry whenever the
//! registry is replaced (a state file or an import loaded, a rollback, a reset).

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use iot_jobs_core::registry::{Heap, JobHandle, Registry};

/// Job ids in (creation time, id) order with their handles, and the creation time of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobOrder {
    keys: BTreeMap<(u64, Box<str>), JobHandle>,
    created: HashMap<Box<str>, u64>,
}

impl JobOrder {
    /// The order of the jobs in `registry`.
    pub fn of(registry: &Registry<Heap>) -> Self {
        let mut order = JobOrder::default();
        for job in registry.jobs() {
            order.insert(job.id().as_str(), job.created_at().secs(), job.handle());
        }
        order
    }

    /// Adds job `id`, created at `created`, with its `handle` (in place of an earlier job of
    /// that id, if any).
    pub fn insert(&mut self, id: &str, created: u64, handle: JobHandle) {
        self.remove(id);
        self.keys.insert((created, id.into()), handle);
        self.created.insert(id.into(), created);
    }

    /// Takes job `id` out, if it is in.
    pub fn remove(&mut self, id: &str) {
        if let Some((id, created)) = self.created.remove_entry(id) {
            self.keys.remove(&(created, id));
        }
    }

    /// The jobs after `key` (from the first without one), in order: (creation time, id), and
    /// the job's handle.
    pub fn after(&self, key: Option<(u64, &str)>) -> impl Iterator<Item = ((u64, &str), JobHandle)> {
        let from = match key {
            Some((time, id)) => Bound::Excluded((time, Box::<str>::from(id))),
            None => Bound::Unbounded,
        };
        self.keys.range((from, Bound::Unbounded)).map(|((time, id), h)| ((*time, &**id), *h))
    }

    /// The creation time of job `id`, if it is in.
    pub fn created(&self, id: &str) -> Option<u64> {
        self.created.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::{Clock, ClockMode};
    use crate::handlers::handle;
    use crate::routing::Op;
    use crate::state::{Caps, State};
    use crate::wire::Arns;
    use proptest::prelude::*;

    /// What a state's jobs go through: created (a reused id after a deletion), deleted (with
    /// `force`, so a job IN_PROGRESS goes too), time passing (deletions complete after the
    /// delay), the state reset, exported, or replaced by the last export.
    #[derive(Debug, Clone)]
    enum Step {
        Create(u8),
        Delete(u8),
        Advance(u64),
        Reset,
        Export,
        Import,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (0u8..6).prop_map(Step::Create),
            4 => (0u8..6).prop_map(Step::Delete),
            3 => (0u64..8).prop_map(Step::Advance),
            1 => Just(Step::Reset),
            1 => Just(Step::Export),
            1 => Just(Step::Import),
        ]
    }

    /// The handles of `n` jobs of a registry, all different.
    fn handles(n: u8) -> Vec<JobHandle> {
        let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
        let caps = Caps { jobs: 16, things: 4, executions: 64, status_details: 4, thing_groups: 4 };
        let mut st = State::new(caps, Clock::new(ClockMode::Manual, Some(0)), arns, 3);
        handle(&mut st, &Op::CreateThing { thing: "t".into() }, &[], b"{}").unwrap();
        let body = br#"{"targets":["arn:aws:iot:us-east-1:123456789012:thing/t"],"document":"{}"}"#;
        (0..n)
            .map(|j| {
                handle(&mut st, &Op::CreateJob { job: format!("j{j}") }, &[], body).unwrap();
                st.registry.job(&iot_jobs_core::JobId::new(&format!("j{j}")).unwrap()).unwrap().handle()
            })
            .collect()
    }

    proptest! {
        /// Against a sorted list of (time, id, handle): inserts (a reused id replaces its job),
        /// removals, and `after` from every key in it and from keys between.
        #[test]
        fn follows_a_sorted_list(
            ops in proptest::collection::vec((any::<bool>(), 0u8..12, 0u64..4), 0..60),
            probe in (0u64..5, 0u8..13),
        ) {
            let handles = handles(12);
            let mut order = JobOrder::default();
            let mut model: Vec<((u64, String), JobHandle)> = Vec::new();
            for (add, id, time) in ops {
                let h = handles[usize::from(id)];
                let id = format!("j{id:02}");
                model.retain(|((_, i), _)| *i != id);
                if add {
                    order.insert(&id, time, h);
                    prop_assert_eq!(order.created(&id), Some(time));
                    model.push(((time, id), h));
                } else {
                    order.remove(&id);
                    prop_assert_eq!(order.created(&id), None);
                }
            }
            model.sort();
            prop_assert_eq!(order.created.len(), model.len());
            let owned = |((t, i), h): ((u64, &str), JobHandle)| ((t, i.to_owned()), h);
            let all: Vec<_> = order.after(None).map(owned).collect();
            prop_assert_eq!(&all, &model);
            let key = (probe.0, format!("j{:02}", probe.1));
            let after: Vec<_> = order.after(Some((key.0, &key.1))).map(owned).collect();
            let expected: Vec<_> = model.iter().filter(|(k, _)| *k > key).cloned().collect();
            prop_assert_eq!(after, expected);
        }

        /// The state's order is always the order of its registry's jobs, whatever they went
        /// through.
        #[test]
        fn a_state_keeps_the_order_of_its_jobs(steps in proptest::collection::vec(step(), 1..40)) {
            let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
            let caps = Caps { jobs: 16, things: 4, executions: 64, status_details: 4, thing_groups: 4 };
            let mut st = State::new(caps, Clock::new(ClockMode::Manual, Some(0)), arns, 3);
            let thing = Op::CreateThing { thing: "t".into() };
            handle(&mut st, &thing, &[], b"{}").unwrap();
            let body = br#"{"targets":["arn:aws:iot:us-east-1:123456789012:thing/t"],"document":"{}"}"#;
            let force = [("force".to_owned(), "true".to_owned())];
            let mut export = crate::persist::encode(&st).unwrap();
            for step in steps {
                match step {
                    Step::Create(j) => {
                        let _ = handle(&mut st, &Op::CreateJob { job: format!("j{j}") }, &[], body);
                    }
                    Step::Delete(j) => {
                        let _ = handle(&mut st, &Op::DeleteJob { job: format!("j{j}") }, &force, b"");
                    }
                    Step::Advance(s) => {
                        st.clock.advance(s).unwrap();
                        st.tick();
                    }
                    Step::Reset => {
                        st.reset();
                        handle(&mut st, &thing, &[], b"{}").unwrap();
                    }
                    Step::Export => export = crate::persist::encode(&st).unwrap(),
                    Step::Import => crate::persist::restore_into(&export, &mut st).unwrap(),
                }
                prop_assert_eq!(st.job_order(), &JobOrder::of(&st.registry));
            }
        }
    }
}
