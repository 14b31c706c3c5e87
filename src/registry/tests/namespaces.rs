//! Namespace notifications (SPEC R20, AMBIG-27).

use super::*;
use crate::error::Table;
use crate::id::NamespaceId;

fn ns(s: &str) -> NamespaceId {
    NamespaceId::new(s).unwrap()
}

/// Creates the SNAPSHOT job `id` in namespace `namespace` on `targets`.
fn create_in(r: &mut Reg, id: &str, namespace: Option<&str>, targets: &[&str], log: &mut Log) {
    let id = j(id);
    let namespace = namespace.map(ns);
    let targets: Vec<ThingName> = targets.iter().map(|s| t(s)).collect();
    let job = NewJob { namespace: namespace.as_ref(), ..NewJob::new(&id, TargetSelection::Snapshot) };
    r.create_job(&job, &targets, T0, log).unwrap();
}

fn pending_in(r: &Reg, thing: &str, namespace: &str) -> Vec<String> {
    let mut out = Vec::new();
    r.pending_in_namespace(&t(thing), &ns(namespace), |v| {
        out.push(std::format!("{}#{}", v.job_id(), v.number()))
    })
    .unwrap();
    out
}

fn next_in(r: &Reg, thing: &str, namespace: &str) -> Option<String> {
    r.next_pending_in_namespace(&t(thing), &ns(namespace)).unwrap().map(|v| v.job_id().to_string())
}

#[test]
fn a_namespaced_job_is_told_on_the_plain_and_its_namespace_topics() {
    let (mut r, mut log) = with_things(&["a"]);
    create_in(&mut r, "g1", Some("gg"), &["a"], &mut log);
    assert_eq!(log.take(), ["notify a", "notify-next a", "notify a ns gg", "notify-next a ns gg"]);
    // A job without a namespace is told on the plain topics only.
    create_in(&mut r, "j1", None, &["a"], &mut log);
    assert_eq!(log.take(), ["notify a"]);
    assert_eq!(pending_in(&r, "a", "gg"), ["g1#1"]);
    assert_eq!(pending_ids(&r, "a"), ["g1#1:QUEUED", "j1#1:QUEUED"]);
    assert_eq!(next_in(&r, "a", "gg").as_deref(), Some("g1"));
    assert_eq!(pending_in(&r, "a", "other"), Vec::<String>::new());
    assert_eq!(next_in(&r, "a", "other"), None);
    // The namespaced head ends: the whole list's head moves to j1, told on both; the
    // namespace's next is then nothing.
    r.update_execution(&j("g1"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    assert_eq!(
        log.take(),
        [
            "execution g1 a #1 succeeded",
            "job g1 completed",
            "notify a",
            "notify-next a",
            "notify a ns gg",
            "notify-next a ns gg"
        ]
    );
    assert_eq!(pending_in(&r, "a", "gg"), Vec::<String>::new());
    assert_eq!(next_in(&r, "a", "gg"), None);
    check(&r);
}

#[test]
fn the_head_is_judged_on_the_whole_list_across_namespaces() {
    // GH-GGL1151: a pending job without a namespace keeps a new namespaced one from changing
    // the head, so only the list notifications go out.
    let (mut r, mut log) = with_things(&["a"]);
    create_in(&mut r, "j1", None, &["a"], &mut log);
    log.take();
    create_in(&mut r, "g1", Some("gg"), &["a"], &mut log);
    assert_eq!(log.take(), ["notify a", "notify a ns gg"]);
    // Starting the namespaced job makes it the head: told on both, membership unchanged (R15).
    r.update_execution(&j("g1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    assert_eq!(log.take(), ["notify-next a", "notify-next a ns gg"]);
    // A change of the plain job is not told on the namespace's topics.
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::Rejected), T0, &mut log).unwrap();
    assert_eq!(log.take(), ["execution j1 a #1 rejected", "job j1 completed", "notify a"]);
    check(&r);
}

#[test]
fn cancel_and_delete_of_a_namespaced_job_tell_its_namespace() {
    let (mut r, mut log) = with_things(&["a", "b"]);
    create_in(&mut r, "g1", Some("gg"), &["a", "b"], &mut log);
    log.take();
    r.cancel_job(&j("g1"), false, None, T0, &mut log).unwrap();
    let got = log.take();
    for thing in ["a", "b"] {
        for e in ["notify", "notify-next"] {
            assert!(got.contains(&std::format!("{e} {thing} ns gg")), "{got:?}");
        }
    }
    create_in(&mut r, "g2", Some("gg"), &["a"], &mut log);
    log.take();
    r.delete_job(&j("g2"), true, T0, &mut log).unwrap();
    assert_eq!(
        log.take(),
        ["job g2 deletion_in_progress", "notify a", "notify-next a", "notify a ns gg", "notify-next a ns gg"]
    );
    check(&r);
}

/// The thing `a` with the jobs g1..g5 in the namespaces n1..n4 and `fifth`.
fn five_namespaced_jobs(fifth: &str) -> (Reg, Log) {
    let (mut r, mut log) = with_things(&["a"]);
    for (id, namespace) in [("g1", "n1"), ("g2", "n2"), ("g3", "n3"), ("g4", "n4"), ("g5", fifth)] {
        create_in(&mut r, id, Some(namespace), &["a"], &mut log);
    }
    log.take();
    (r, log)
}

#[test]
fn delete_thing_tells_every_namespace_it_touches_up_to_four() {
    let (mut r, mut log) = five_namespaced_jobs("n4");
    r.remove_thing(&t("a"), T0, &mut log).unwrap();
    let got = log.take();
    let told: Vec<&String> = got.iter().filter(|e| e.starts_with("notify a ns")).collect();
    assert_eq!(told, ["notify a ns n1", "notify a ns n2", "notify a ns n3", "notify a ns n4"]);
    assert_eq!(got.iter().filter(|e| e.starts_with("notify-next a ns")).count(), 4);
    check(&r);
}

#[test]
fn delete_thing_over_five_namespaces_is_refused_with_nothing_changed() {
    let (mut r, mut log) = five_namespaced_jobs("n5");
    let before = pending_ids(&r, "a");
    assert_eq!(r.remove_thing(&t("a"), T0, &mut log), Err(Rejection::CapacityExhausted(Table::Events)));
    assert_eq!(log.take(), Vec::<String>::new());
    assert_eq!(pending_ids(&r, "a"), before);
    // A terminal execution is not removed, so its namespace is not counted.
    r.update_execution(&j("g5"), &t("a"), &update(ExecutionStatus::Succeeded), T0, &mut log).unwrap();
    r.remove_thing(&t("a"), T0, &mut log).unwrap();
    check(&r);
}

#[test]
fn a_namespace_list_keeps_the_whole_lists_order() {
    let (mut r, mut log) = with_things(&["a"]);
    create_in(&mut r, "g1", Some("gg"), &["a"], &mut log);
    create_in(&mut r, "g2", Some("gg"), &["a"], &mut log);
    r.update_execution(&j("g1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    log.take();
    // Its head unchanged, a start of the head alone is not told (R15).
    let mut tight = Tight(4);
    r.start_next(&t("a"), None, None, T0, &mut tight).unwrap();
    assert_eq!(tight.0, 4);
    // A plain job started behind them changes neither head: the plain list notification only.
    create_in(&mut r, "j1", None, &["a"], &mut log);
    r.update_execution(&j("j1"), &t("a"), &update(ExecutionStatus::InProgress), T0, &mut log).unwrap();
    assert_eq!(log.take(), ["notify a"]);
    assert_eq!(pending_in(&r, "a", "gg"), ["g1#1", "g2#1"]);
    assert_eq!(next_in(&r, "a", "gg").as_deref(), Some("g1"));
    check(&r);
}

#[test]
fn delete_thing_tells_only_the_namespaces_of_listed_executions() {
    // g1's execution is off the device's list (its window closed): n1 is not told.
    let (mut r, mut log) = with_things(&["a"]);
    create_in(&mut r, "g1", Some("n1"), &["a"], &mut log);
    create_in(&mut r, "g2", Some("n2"), &["a"], &mut log);
    r.close_window(&j("g1"), T0, &mut log).unwrap();
    log.take();
    r.remove_thing(&t("a"), T0, &mut log).unwrap();
    let told: Vec<String> = log.take().into_iter().filter(|e| e.contains(" ns ")).collect();
    assert_eq!(told, ["notify a ns n2", "notify-next a ns n2"]);
    check(&r);
}

#[test]
fn delete_thing_reserves_exactly_its_events() {
    // One removed execution: its event, the job's `completed`, and four notifications.
    let (mut r, mut log) = with_things(&["a"]);
    create_in(&mut r, "g1", Some("n1"), &["a"], &mut log);
    assert_eq!(r.remove_thing(&t("a"), T0, &mut Tight(5)), Err(Rejection::Throttled));
    assert_eq!(pending_ids(&r, "a"), ["g1#1:QUEUED"]);
    let mut room = Tight(6);
    r.remove_thing(&t("a"), T0, &mut room).unwrap();
    assert_eq!(room.0, 0);
}
