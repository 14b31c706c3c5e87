//! The broker's routing index: every subscription of every session, in a tree of topic levels,
//! so that routing a message costs its topic's levels and the subscriptions it matches, not a
//! look at every subscription of every session (which, with 9,000 offline device sessions of 3
//! subscriptions each, made a client's publish round trips 35 to 64 times slower; BENCHMARKS §7).

#[cfg(test)]
use std::collections::BTreeSet;
use std::collections::HashMap;

use super::filter;

/// Subscriptions by the levels of their topic filters.
#[derive(Default)]
pub(super) struct Routes {
    root: Node,
    /// How many subscriptions are filed.
    len: usize,
}

/// A subscription: its filter as subscribed (`$share/…` included) and its client.
type Sub = (Box<str>, Box<str>);

#[derive(Default)]
struct Node {
    /// The subscriptions whose topic filter ends here (each once, in no order).
    here: Vec<Sub>,
    /// The next level: a name, `+` or `#`.
    next: Next,
}

/// A level's next levels: a few in a list (most levels of a device's topics have one to three),
/// more in a map (a level such as `$aws/things/` with a next level per device).
enum Next {
    Few(Vec<(Box<str>, Node)>),
    Many(HashMap<Box<str>, Node>),
}

impl Default for Next {
    fn default() -> Self {
        Next::Few(Vec::new())
    }
}

/// Most next levels kept in a list.
const FEW: usize = 8;

impl Node {
    fn is_empty(&self) -> bool {
        self.here.is_empty()
            && match &self.next {
                Next::Few(v) => v.is_empty(),
                Next::Many(m) => m.is_empty(),
            }
    }

    fn child(&self, level: &str) -> Option<&Node> {
        match &self.next {
            Next::Few(v) => v.iter().find(|(l, _)| **l == *level).map(|(_, n)| n),
            Next::Many(m) => m.get(level),
        }
    }

    fn child_mut(&mut self, level: &str) -> Option<&mut Node> {
        match &mut self.next {
            Next::Few(v) => v.iter_mut().find(|(l, _)| **l == *level).map(|(_, n)| n),
            Next::Many(m) => m.get_mut(level),
        }
    }

    /// Adds the next level `level` (not there yet) with `node` under it.
    fn add_child(&mut self, level: &str, node: Node) {
        if let Next::Few(v) = &mut self.next
            && v.len() >= FEW
        {
            self.next = Next::Many(std::mem::take(v).into_iter().collect());
        }
        match &mut self.next {
            Next::Few(v) => {
                v.reserve_exact(1);
                v.push((level.into(), node));
            }
            Next::Many(m) => {
                m.insert(level.into(), node);
            }
        }
    }

    fn remove_child(&mut self, level: &str) {
        match &mut self.next {
            Next::Few(v) => v.retain(|(l, _)| **l != *level),
            Next::Many(m) => {
                m.remove(level);
            }
        }
    }

    #[cfg(test)]
    fn children(&self) -> Box<dyn Iterator<Item = &Node> + '_> {
        match &self.next {
            Next::Few(v) => Box::new(v.iter().map(|(_, n)| n)),
            Next::Many(m) => Box::new(m.values()),
        }
    }
}

impl Routes {
    /// Files `client`'s subscription `filter` (a [`filter::valid_subscription`]) under the
    /// levels of its topic filter.
    pub fn insert(&mut self, filter: &str, client: &str) {
        // Whether the subscription is new.
        fn insert_below<'a>(
            node: &mut Node,
            mut levels: impl Iterator<Item = &'a str>,
            sub: (&str, &str),
        ) -> bool {
            match levels.next() {
                None => {
                    if node.here.iter().any(|(f, c)| (&**f, &**c) == sub) {
                        return false;
                    }
                    node.here.reserve_exact(1);
                    node.here.push((sub.0.into(), sub.1.into()));
                    true
                }
                Some(level) => match node.child_mut(level) {
                    Some(child) => insert_below(child, levels, sub),
                    None => {
                        let mut child = Node::default();
                        insert_below(&mut child, levels, sub);
                        node.add_child(level, child);
                        true
                    }
                },
            }
        }
        if insert_below(&mut self.root, filter::topic_filter(filter).split('/'), (filter, client)) {
            self.len = self.len.saturating_add(1);
        }
    }

    /// How many subscriptions are filed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Takes out `client`'s subscription `filter`, and the levels nothing else needs. Returns
    /// whether no client holds `filter` any more (what a share group's turn is kept for).
    pub fn remove(&mut self, filter: &str, client: &str) -> bool {
        // Whether the subscription was filed, and whether no other client holds its filter.
        fn remove_below<'a>(
            node: &mut Node,
            mut levels: impl Iterator<Item = &'a str>,
            sub: (&str, &str),
        ) -> (bool, bool) {
            match levels.next() {
                None => {
                    let before = node.here.len();
                    node.here.retain(|(f, c)| (&**f, &**c) != sub);
                    (node.here.len() < before, !node.here.iter().any(|(f, _)| **f == *sub.0))
                }
                Some(level) => {
                    let Some(child) = node.child_mut(level) else { return (false, true) };
                    let removed = remove_below(child, levels, sub);
                    if child.is_empty() {
                        node.remove_child(level);
                    }
                    removed
                }
            }
        }
        let (removed, last) =
            remove_below(&mut self.root, filter::topic_filter(filter).split('/'), (filter, client));
        if removed {
            self.len = self.len.saturating_sub(1);
        }
        last
    }

    /// Calls `found` with each subscription (filter, client) whose topic filter matches `topic`
    /// (a [`filter::valid_topic`]), once each: what [`filter::subscription_matches`] says of
    /// every filed subscription, by a walk of the levels `topic` can reach.
    pub fn matching<'a>(&'a self, topic: &str, mut found: impl FnMut(&'a str, &'a str)) {
        let levels: Vec<&str> = topic.split('/').collect();
        // MQTT-4.7.2-1: a first level of `+` or `#` does not match a topic starting with `$`.
        let dollar = topic.starts_with('$');
        let mut stack = vec![(&self.root, 0_usize)];
        while let Some((node, depth)) = stack.pop() {
            let wildcards = !(dollar && depth == 0);
            if wildcards
                && levels.get(depth).is_some()
                && let Some(rest) = node.child("#")
            {
                // `#` matches the level it stands at and every one after, not its parent level
                // alone (AWS IoT Core: `a/#` does not match `a`; see `filter::matches`).
                rest.here.iter().for_each(|(f, c)| found(f, c));
            }
            match levels.get(depth) {
                None => node.here.iter().for_each(|(f, c)| found(f, c)),
                Some(level) => {
                    let depth = depth.saturating_add(1);
                    if let Some(child) = node.child(level) {
                        stack.push((child, depth));
                    }
                    if wildcards && let Some(child) = node.child("+") {
                        stack.push((child, depth));
                    }
                }
            }
        }
    }

    /// Every filed subscription, in order.
    #[cfg(test)]
    pub fn all(&self) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            out.extend(node.here.iter().map(|(f, c)| (f.to_string(), c.to_string())));
            stack.extend(node.children());
        }
        out
    }

    /// Whether nothing is filed (not even an empty level).
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.root.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::filter::strategies::{subscription, topic};
    use proptest::prelude::*;

    fn matched(routes: &Routes, topic: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        routes.matching(topic, |f, c| out.push((f.to_owned(), c.to_owned())));
        out.sort();
        out
    }

    #[test]
    fn levels_wildcards_shares_and_the_dollar_rule() {
        let mut routes = Routes::default();
        let subs = [
            ("a/b/c", "1"),
            ("a/+/c", "1"),
            ("a/#", "2"),
            ("#", "3"),
            ("+/b/+", "3"),
            ("$aws/things/+/jobs/#", "4"),
            ("$share/g/a/+/c", "5"),
            ("$share/h/a/b/c", "5"),
            ("a", "6"),
        ];
        for (f, c) in subs {
            routes.insert(f, c);
        }
        let got = |routes: &Routes, t| {
            matched(routes, t).into_iter().map(|(f, c)| format!("{f} {c}")).collect::<Vec<_>>()
        };
        assert_eq!(
            got(&routes, "a/b/c"),
            ["# 3", "$share/g/a/+/c 5", "$share/h/a/b/c 5", "+/b/+ 3", "a/# 2", "a/+/c 1", "a/b/c 1"]
        );
        // `#` matches the levels below, not its parent (AWS IoT Core): `a/#` is not `a`.
        assert_eq!(got(&routes, "a"), ["# 3", "a 6"]);
        assert_eq!(got(&routes, "a/"), ["# 3", "a/# 2"]);
        assert_eq!(got(&routes, "$aws/things/t/jobs/notify"), ["$aws/things/+/jobs/# 4"]);
        assert_eq!(got(&routes, "$aws/things/t/jobs"), Vec::<String>::new());
        assert_eq!(got(&routes, "x/b"), ["# 3"]);
        routes.remove("a/#", "2");
        routes.remove("a/#", "9"); // never filed: nothing changes
        routes.remove("a/b/c/d", "1");
        assert_eq!(got(&routes, "a"), ["# 3", "a 6"]);
        for (f, c) in subs {
            routes.remove(f, c);
        }
        assert!(routes.is_empty(), "every level pruned");
    }

    /// A level with more next levels than a list keeps (a fleet under `$aws/things/`) moves
    /// them to a map, which finds, files and prunes alike.
    #[test]
    fn a_level_with_many_next_levels() {
        let mut routes = Routes::default();
        let n = FEW * 3;
        for i in 0..n {
            routes.insert(&format!("t/d{i}/x"), &format!("c{i}"));
        }
        routes.insert("t/+/x", "all");
        assert!(matches!(routes.root.child("t").map(|n| &n.next), Some(Next::Many(m)) if m.len() == n + 1));
        let few =
            |node: Option<&Node>, len| matches!(node.map(|n| &n.next), Some(Next::Few(v)) if v.len() == len);
        assert!(few(Some(&routes.root), 1), "a level with one next level keeps a list");
        assert!(few(routes.root.child("t").and_then(|t| t.child("d0")), 1));
        for i in 0..n {
            let want = [("t/+/x".to_owned(), "all".to_owned()), (format!("t/d{i}/x"), format!("c{i}"))];
            assert_eq!(matched(&routes, &format!("t/d{i}/x")), want);
        }
        assert_eq!(matched(&routes, "t/d0/y"), []);
        for i in 0..n {
            routes.remove(&format!("t/d{i}/x"), &format!("c{i}"));
        }
        assert_eq!(routes.all().into_iter().collect::<Vec<_>>(), [("t/+/x".to_owned(), "all".to_owned())]);
        routes.remove("t/+/x", "all");
        assert!(routes.is_empty());
    }

    proptest! {
        /// The tree finds exactly what a look at every subscription finds, after any inserts
        /// and removals, and prunes to nothing when all are removed.
        #[test]
        fn the_tree_matches_a_scan_of_every_subscription(
            ops in prop::collection::vec((any::<bool>(), subscription(), 0..3_u8), 0..60),
            topics in prop::collection::vec(topic(), 1..20),
        ) {
            let mut routes = Routes::default();
            let mut model = BTreeSet::new();
            for (add, f, c) in ops {
                let key = (f.clone(), c.to_string());
                if add {
                    routes.insert(&f, &key.1);
                    model.insert(key);
                } else {
                    let last = routes.remove(&f, &key.1);
                    model.remove(&key);
                    prop_assert_eq!(last, !model.iter().any(|(m, _)| *m == f), "{}", f);
                }
            }
            prop_assert_eq!(routes.all(), model.clone());
            prop_assert_eq!(routes.len(), model.len());
            for t in topics {
                let want: Vec<(String, String)> =
                    model.iter().filter(|(f, _)| filter::subscription_matches(&t, f)).cloned().collect();
                prop_assert_eq!(matched(&routes, &t), want, "{}", t);
            }
            for (f, c) in &model {
                routes.remove(f, c);
            }
            prop_assert!(routes.is_empty());
        }
    }
}
