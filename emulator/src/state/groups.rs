//! Which thing groups each thing is in, which groups are the children and the descendants of
//! each (and which have no parent), and which jobs target each (in ListJobs's order, creation
//! time then id): the inverses of [`GroupMeta::members`], [`GroupMeta::parent`] and
//! [`JobMeta::groups`](super::JobMeta::groups), kept beside them so that a thing's groups (at most
//! 10), a group's subtree, the root groups, the jobs a join or a leave concerns and a page of
//! ListJobs with `thingGroupName` are found without a look at every group or every job.
//!
//! Each thing's name and each group's name is one `Arc<str>` that the index's keys and sets, and
//! the groups' members, share: a membership costs a pointer in each set it is in (its group's
//! members, its ancestors' sets of things under them), not a copy of the name.
//!
//! The groups form a hierarchy: every parent is a group, without loops, at most
//! [`MAX_GROUP_DEPTH`] levels deep. CreateThingGroup keeps it so and a saved state that breaks
//! it is refused ([`check_hierarchy`]), so a group's ancestors do not change while it exists
//! (a group with children cannot be deleted) and its descendants are kept with each ancestor.
//!
//! Only [`State`](super::State) changes it, with what it inverts: its `add_group`,
//! `remove_group`, `join`, `leave`, `forget_thing`, `set_job_meta` and `target_groups`, and a
//! job's `Deleted` event; it is rebuilt whenever the payloads are replaced (a state file or an
//! import loaded, a rollback, a reset).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use serde::de;
use serde::{Deserialize, Deserializer};

use super::{GroupMeta, JobOrder, Meta};

/// Most levels of a thing-group hierarchy, the root included (AWS IoT Device Management quota
/// "maximum depth of a thing group hierarchy").
pub const MAX_GROUP_DEPTH: usize = 7;

/// A thing's or a group's name as the index keeps it: one allocation per thing (or group),
/// shared by every set it is in, so that a membership costs a pointer per set.
pub type Name = Arc<str>;

/// Reads a saved group's members, refusing one listed twice (a set would drop it silently; the
/// emulator never writes one twice).
pub(super) fn members_once<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeSet<Name>, D::Error> {
    let mut members = BTreeSet::new();
    for thing in Vec::<Name>::deserialize(d)? {
        if let Some(twice) = members.replace(thing) {
            return Err(de::Error::custom(format!("it lists the member {twice} twice")));
        }
    }
    Ok(members)
}

/// The groups of each thing, the children and the descendants of each group, the things under
/// each group (in its descendants), the groups without a parent and the jobs targeting each
/// group, by name, and by (creation time, id) for the jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupIndex {
    /// The groups each thing is in (at most 10, in name order), by the thing's name, whose
    /// `Arc` the groups' sets of things share.
    of_thing: HashMap<Name, Box<[Name]>>,
    /// What is kept for each group (or a name a job targets): only while it is not empty.
    groups: HashMap<Name, Node>,
    /// The groups' names, one allocation each, which the index's keys and sets share.
    names: HashSet<Name>,
    roots: BTreeSet<Name>,
}

/// What the index keeps for one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    children: BTreeSet<Name>,
    below: BTreeSet<Name>,
    /// The things in the group's descendants (a thing is in at most one group of a hierarchy,
    /// so in one of those, and not in the group itself: its own are its members).
    things_under: BTreeSet<Name>,
    jobs: BTreeSet<(u64, String)>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.children.is_empty()
            && self.below.is_empty()
            && self.things_under.is_empty()
            && self.jobs.is_empty()
    }
}

impl GroupIndex {
    /// The index of `meta`'s groups and jobs, the jobs created when `order` says.
    pub fn of(meta: &Meta, order: &JobOrder) -> Self {
        let mut index = GroupIndex {
            names: meta.groups.keys().map(|g| Name::from(g.as_str())).collect(),
            ..GroupIndex::default()
        };
        for (name, g) in &meta.groups {
            let ancestors = ancestors(meta, name);
            index.added(name, &ancestors);
            for thing in &g.members {
                index.joined(name, thing, &ancestors);
            }
        }
        for (job, m) in &meta.jobs {
            index.targeted((created(order, job), job), &m.groups);
        }
        index
    }

    /// The jobs whose targets name `group` (not its ancestors), by (creation time, id).
    pub fn jobs_targeting(&self, group: &str) -> Option<&BTreeSet<(u64, String)>> {
        self.groups.get(group).map(|n| &n.jobs).filter(|j| !j.is_empty())
    }

    /// Job `key` (its creation time and id) targets `groups`.
    pub(super) fn targeted<'a>(&mut self, key: (u64, &str), groups: impl IntoIterator<Item = &'a String>) {
        for g in groups {
            self.node(g).jobs.insert((key.0, key.1.to_owned()));
        }
    }

    /// Job `key` (its creation time and id) no longer targets `groups`.
    pub(super) fn untargeted<'a>(&mut self, key: (u64, &str), groups: impl IntoIterator<Item = &'a String>) {
        for g in groups {
            self.change(g, |n| n.jobs.remove(&(key.0, key.1.to_owned())));
        }
    }

    /// The name the index keeps for `thing` (`thing` itself when it is in no group).
    pub(super) fn thing(&self, thing: &Name) -> Name {
        self.of_thing.get_key_value(&**thing).map_or_else(|| thing.clone(), |(t, _)| t.clone())
    }

    /// The groups `thing` is in, in name order (none for a thing in no group).
    pub fn groups_of(&self, thing: &str) -> &[Name] {
        self.of_thing.get(thing).map_or(&[], |g| g)
    }

    /// The direct child groups of `group`, by name.
    pub fn children_of(&self, group: &str) -> Option<&BTreeSet<Name>> {
        self.groups.get(group).map(|n| &n.children)
    }

    /// The descendants of `group` (its children, theirs, ...), by name.
    pub fn below(&self, group: &str) -> Option<&BTreeSet<Name>> {
        self.groups.get(group).map(|n| &n.below)
    }

    /// The groups without a parent, by name.
    pub fn roots(&self) -> &BTreeSet<Name> {
        &self.roots
    }

    /// Adds `group`, with its `ancestors` (the root first; the last is its parent).
    pub(super) fn added(&mut self, group: &str, ancestors: &[String]) {
        let name = self.name(group);
        self.names.insert(name.clone());
        match ancestors.last() {
            Some(p) => self.node(p).children.insert(name.clone()),
            None => self.roots.insert(name.clone()),
        };
        for a in ancestors {
            self.node(a).below.insert(name.clone());
        }
    }

    /// Takes out `group`, which had `g`'s members and `ancestors` (the root first).
    pub(super) fn removed(&mut self, group: &str, g: &GroupMeta, ancestors: &[String]) {
        match ancestors.last() {
            Some(p) => self.change(p, |n| n.children.remove(group)),
            None => {
                self.roots.remove(group);
            }
        }
        for a in ancestors {
            self.change(a, |n| n.below.remove(group));
        }
        for thing in &g.members {
            self.left(group, thing, ancestors);
        }
        self.names.remove(group);
    }

    /// The things in the descendants of `group` after `after` (from the first without it), by
    /// name: none of them is in `group` itself.
    pub fn things_under_after<'a>(
        &'a self,
        group: &str,
        after: Option<&'a str>,
    ) -> impl Iterator<Item = &'a str> {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.groups
            .get(group)
            .into_iter()
            .flat_map(move |n| n.things_under.range::<str, _>((from, Bound::Unbounded)))
            .map(|t| &**t)
    }

    /// `thing` joins `group`, which has `ancestors`: the name the index keeps for it (`thing`
    /// itself unless the thing is in another group already), for the group's members to share.
    pub(super) fn joined(&mut self, group: &str, thing: &Name, ancestors: &[String]) -> Name {
        let thing = self.thing(thing);
        let name = self.name(group);
        let mine = self.of_thing.entry(thing.clone()).or_default();
        if let Err(at) = mine.binary_search(&name) {
            let mut more = mine.to_vec();
            more.insert(at, name);
            *mine = more.into_boxed_slice();
        }
        for a in ancestors {
            self.node(a).things_under.insert(thing.clone());
        }
        thing
    }

    /// `thing` leaves `group`, which has `ancestors`.
    pub(super) fn left(&mut self, group: &str, thing: &str, ancestors: &[String]) {
        if let Some(mine) = self.of_thing.get_mut(thing) {
            *mine = mine.iter().filter(|g| ***g != *group).cloned().collect();
            if mine.is_empty() {
                self.of_thing.remove(thing);
            }
        }
        for a in ancestors {
            self.change(a, |n| n.things_under.remove(thing));
        }
    }

    /// `group`'s name, shared with the rest of the index when it is a group.
    fn name(&self, group: &str) -> Name {
        self.names.get(group).cloned().unwrap_or_else(|| Name::from(group))
    }

    /// `group`'s node, made when it has none.
    fn node(&mut self, group: &str) -> &mut Node {
        let name = self.name(group);
        self.groups.entry(name).or_default()
    }

    /// Takes something out of `group`'s node with `f`, if it has a node, and drops the node when
    /// `f` took something (it says so) and left it empty.
    fn change(&mut self, group: &str, f: impl FnOnce(&mut Node) -> bool) {
        if let Some(n) = self.groups.get_mut(group)
            && f(n)
            && n.is_empty()
        {
            self.groups.remove(group);
        }
    }
}

/// The ancestors of `group` in `meta`, the root first (none for a root group or an unknown one).
/// A chain that loops or goes deeper than [`MAX_GROUP_DEPTH`] (which [`check_hierarchy`] refuses)
/// is cut there.
pub fn ancestors(meta: &Meta, group: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut next = meta.groups.get(group).and_then(|g| g.parent.clone());
    while let Some(p) = next {
        if out.contains(&p) || p == group || out.len() >= MAX_GROUP_DEPTH {
            break;
        }
        next = meta.groups.get(&p).and_then(|g| g.parent.clone());
        out.push(p);
    }
    out.reverse();
    out
}

/// Checks that `meta`'s thing groups form a hierarchy as SPEC AMBIG-32 reads it (what
/// CreateThingGroup and AddThingToThingGroup refuse to make): every parent a group of `meta`, no
/// loop, at most [`MAX_GROUP_DEPTH`] levels, and a thing in at most one group of each hierarchy.
///
/// # Errors
/// The first group or thing that breaks it, and how.
pub fn check_hierarchy(meta: &Meta) -> Result<(), String> {
    let mut placed: HashMap<(&str, &str), &str> = HashMap::new();
    for (name, g) in &meta.groups {
        let mut levels = 1usize;
        let mut root = name.as_str();
        while let Some(p) = meta.groups.get(root).and_then(|r| r.parent.as_deref()) {
            if !meta.groups.contains_key(p) {
                return Err(format!("thing group {root} has parent {p}, which is not a thing group"));
            }
            levels = levels.saturating_add(1);
            if levels > MAX_GROUP_DEPTH {
                return Err(format!(
                    "thing group {name} is more than {MAX_GROUP_DEPTH} levels deep, or its parents make a loop"
                ));
            }
            root = p;
        }
        for thing in &g.members {
            if let Some(other) = placed.insert((&**thing, root), name.as_str()) {
                return Err(format!(
                    "thing {thing} is in thing groups {other} and {name} of one hierarchy (root {root})"
                ));
            }
        }
    }
    Ok(())
}

/// The creation time of job `id` in `order`, as the index keys it: 0 for a job `order` does not
/// have (a job's payloads are set only once the registry has it, so there is none).
pub(super) fn created(order: &JobOrder, id: &str) -> u64 {
    order.created(id).unwrap_or(0)
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

    /// What the groups go through: created (under a parent or not), deleted, things joining and
    /// leaving them (one at a time, or moving with UpdateThingGroupsForThing), things created and deleted, jobs targeting them created (CONTINUOUS or
    /// not), given more target groups and deleted (the deletion completing as time passes), the state reset, exported, or replaced by the
    /// last export. Refused steps are part of it.
    #[derive(Debug, Clone)]
    enum Step {
        Group(u8, Option<u8>),
        DeleteGroup(u8),
        Join(u8, u8),
        Leave(u8, u8),
        Move(u8, u8, u8),
        Thing(u8),
        DeleteThing(u8),
        Job(u8, u8, bool),
        Associate(u8, u8),
        DeleteJob(u8),
        Tick,
        Reset,
        Export,
        Import,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (0u8..6, proptest::option::of(0u8..6)).prop_map(|(g, p)| Step::Group(g, p)),
            2 => (0u8..6).prop_map(Step::DeleteGroup),
            5 => (0u8..6, 0u8..4).prop_map(|(g, t)| Step::Join(g, t)),
            3 => (0u8..6, 0u8..4).prop_map(|(g, t)| Step::Leave(g, t)),
            3 => (0u8..6, 0u8..6, 0u8..4).prop_map(|(from, to, t)| Step::Move(from, to, t)),
            2 => (0u8..4).prop_map(Step::Thing),
            1 => (0u8..4).prop_map(Step::DeleteThing),
            2 => (0u8..3, 0u8..6, any::<bool>()).prop_map(|(j, g, c)| Step::Job(j, g, c)),
            2 => (0u8..3, 0u8..6).prop_map(|(j, g)| Step::Associate(j, g)),
            1 => (0u8..3).prop_map(Step::DeleteJob),
            1 => Just(Step::Tick),
            1 => Just(Step::Reset),
            1 => Just(Step::Export),
            1 => Just(Step::Import),
        ]
    }

    /// A state with a manual clock at 0 and small caps.
    fn state() -> State {
        let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
        let caps = Caps { jobs: 4, things: 8, executions: 16, status_details: 4, thing_groups: 8 };
        State::new(caps, Clock::new(ClockMode::Manual, Some(0)), arns, 0)
    }

    fn targets(g: u8) -> String {
        format!(r#""targets":["arn:aws:iot:us-east-1:123456789012:thinggroup/g{g}"]"#)
    }

    fn membership(g: u8, t: u8) -> Vec<u8> {
        format!(r#"{{"thingGroupName":"g{g}","thingName":"t{t}"}}"#).into_bytes()
    }

    proptest! {
        /// The state's index is always the index of its groups, whatever they went through.
        #[test]
        fn a_state_keeps_the_index_of_its_groups(steps in proptest::collection::vec(step(), 1..60)) {
            let mut st = state();
            let mut export = crate::persist::encode(&st).unwrap();
            for step in steps {
                let _ = match step {
                    Step::Group(g, parent) => {
                        let body = match parent {
                            Some(p) => format!(r#"{{"parentGroupName":"g{p}"}}"#),
                            None => "{}".to_owned(),
                        };
                        handle(&mut st, &Op::CreateThingGroup { group: format!("g{g}") }, &[], body.as_bytes())
                    }
                    Step::DeleteGroup(g) => handle(&mut st, &Op::DeleteThingGroup { group: format!("g{g}") }, &[], b""),
                    Step::Join(g, t) => handle(&mut st, &Op::AddThingToThingGroup, &[], &membership(g, t)),
                    Step::Leave(g, t) => handle(&mut st, &Op::RemoveThingFromThingGroup, &[], &membership(g, t)),
                    Step::Move(from, to, t) => {
                        let body = format!(
                            r#"{{"thingName":"t{t}","thingGroupsToRemove":["g{from}"],"thingGroupsToAdd":["g{to}"]}}"#
                        );
                        handle(&mut st, &Op::UpdateThingGroupsForThing, &[], body.as_bytes())
                    }
                    Step::Thing(t) => handle(&mut st, &Op::CreateThing { thing: format!("t{t}") }, &[], b"{}"),
                    Step::DeleteThing(t) => handle(&mut st, &Op::DeleteThing { thing: format!("t{t}") }, &[], b""),
                    Step::Job(j, g, continuous) => {
                        let selection = if continuous { "CONTINUOUS" } else { "SNAPSHOT" };
                        let body = format!(r#"{{{},"document":"{{}}","targetSelection":"{selection}"}}"#, targets(g));
                        handle(&mut st, &Op::CreateJob { job: format!("j{j}") }, &[], body.as_bytes())
                    }
                    Step::Associate(j, g) => {
                        let body = format!("{{{}}}", targets(g));
                        handle(&mut st, &Op::AssociateTargetsWithJob { job: format!("j{j}") }, &[], body.as_bytes())
                    }
                    Step::DeleteJob(j) => {
                        let force = [("force".to_owned(), "true".to_owned())];
                        handle(&mut st, &Op::DeleteJob { job: format!("j{j}") }, &force, b"")
                    }
                    Step::Tick => {
                        st.clock.advance(1).unwrap();
                        st.tick();
                        continue;
                    }
                    Step::Reset => {
                        st.reset();
                        continue;
                    }
                    Step::Export => {
                        export = crate::persist::encode(&st).unwrap();
                        continue;
                    }
                    Step::Import => {
                        crate::persist::restore_into(&export, &mut st).unwrap();
                        continue;
                    }
                };
                prop_assert_eq!(st.group_index(), &GroupIndex::of(&st.meta, st.job_order()));
                prop_assert!(shares_names(&st));
            }
            prop_assert_eq!(st.group_index(), &GroupIndex::of(&st.meta, st.job_order()));
            prop_assert!(shares_names(&st));
        }
    }

    /// Whether each thing's name is one allocation, which every group's members and every
    /// set of things under a group share with the index's key, and each group's name one too,
    /// which the things' groups, the roots, the children and the descendants share.
    fn shares_names(st: &State) -> bool {
        let index = st.group_index();
        let thing = |t: &Name| index.of_thing.get_key_value(&**t).is_some_and(|(k, _)| Arc::ptr_eq(k, t));
        let group = |g: &Name| index.names.get(&**g).is_some_and(|k| Arc::ptr_eq(k, g));
        let nodes = || index.groups.iter();
        st.meta.groups.values().all(|g| g.members.iter().all(thing))
            && nodes().all(|(_, n)| n.things_under.iter().all(thing))
            && index.of_thing.values().all(|gs| gs.iter().all(group))
            && index.roots.iter().all(group)
            && nodes().all(|(k, n)| {
                n.children.iter().chain(&n.below).all(group) && (!n.jobs.is_empty() || group(k))
            })
    }

    /// A thing in two groups is one name after a load too (the snapshot has it once per group),
    /// and a membership is a pointer per level: the groups' members and the subtrees' sets of
    /// things share the index's name for it.
    #[test]
    fn a_thing_in_two_groups_is_one_name_after_a_load() {
        let mut st = state();
        handle(&mut st, &Op::CreateThingGroup { group: "g0".into() }, &[], b"{}").unwrap();
        handle(&mut st, &Op::CreateThingGroup { group: "g1".into() }, &[], br#"{"parentGroupName":"g0"}"#)
            .unwrap();
        handle(&mut st, &Op::CreateThingGroup { group: "g2".into() }, &[], b"{}").unwrap();
        handle(&mut st, &Op::CreateThing { thing: "t0".into() }, &[], b"{}").unwrap();
        handle(&mut st, &Op::AddThingToThingGroup, &[], &membership(1, 0)).unwrap();
        handle(&mut st, &Op::AddThingToThingGroup, &[], &membership(2, 0)).unwrap();
        assert!(shares_names(&st));
        let export = crate::persist::encode(&st).unwrap();
        crate::persist::restore_into(&export, &mut st).unwrap();
        assert!(shares_names(&st));
        let (name, groups) = st.group_index().of_thing.get_key_value("t0").unwrap();
        assert_eq!(&**groups, [Name::from("g1"), Name::from("g2")]);
        // The index's key, g1's and g2's members, and the things under g0.
        assert_eq!(Arc::strong_count(name), 4);
    }

    /// A job targeting a group leaves the group's jobs when its deletion completes (the index
    /// follows the `Deleted` event, not only the payloads). Found by cargo-mutants: the
    /// proptest above takes these steps only now and then.
    #[test]
    fn a_deleted_job_leaves_the_jobs_of_its_groups() {
        let mut st = state();
        handle(&mut st, &Op::CreateThingGroup { group: "g4".into() }, &[], b"{}").unwrap();
        let body = format!(r#"{{{},"document":"{{}}"}}"#, targets(4));
        handle(&mut st, &Op::CreateJob { job: "j1".into() }, &[], body.as_bytes()).unwrap();
        assert_eq!(st.group_index().jobs_targeting("g4").map(BTreeSet::len), Some(1));
        let force = [("force".to_owned(), "true".to_owned())];
        handle(&mut st, &Op::DeleteJob { job: "j1".into() }, &force, b"").unwrap();
        st.clock.advance(1).unwrap();
        st.tick();
        assert!(st.meta.jobs.is_empty());
        assert_eq!(st.group_index().jobs_targeting("g4"), None);
        assert_eq!(st.group_index(), &GroupIndex::of(&st.meta, st.job_order()));
    }

    /// `ancestors` cuts a loop of parents and a chain deeper than [`MAX_GROUP_DEPTH`] (states
    /// [`check_hierarchy`] refuses, which must not hang what reads them), and `check_hierarchy`
    /// refuses both.
    #[test]
    fn ancestors_cut_a_loop_and_a_chain_too_deep() {
        let group = |parent: Option<&str>| GroupMeta {
            id: String::new(),
            description: None,
            attributes: Default::default(),
            parent: parent.map(str::to_owned),
            members: BTreeSet::new(),
            version: 1,
            created_at: 0,
        };
        let mut meta = Meta::default();
        meta.groups.insert("a".into(), group(Some("b")));
        meta.groups.insert("b".into(), group(Some("a")));
        assert_eq!(ancestors(&meta, "a"), ["b"]);
        assert_eq!(ancestors(&meta, "b"), ["a"]);
        assert!(check_hierarchy(&meta).unwrap_err().contains("loop"));
        let mut meta = Meta::default();
        meta.groups.insert("g0".into(), group(None));
        for i in 1..=9 {
            meta.groups.insert(format!("g{i}"), group(Some(&format!("g{}", i - 1))));
        }
        assert_eq!(ancestors(&meta, "g6"), ["g0", "g1", "g2", "g3", "g4", "g5"]);
        assert_eq!(ancestors(&meta, "g9"), ["g2", "g3", "g4", "g5", "g6", "g7", "g8"]);
        assert!(check_hierarchy(&meta).unwrap_err().contains("thing group g7 is more than 7 levels"));
    }
}
