//! Listing pages with filters: how far a page reads ([`LOOKS_PER_PAGE`]).
#![allow(clippy::unwrap_used)]

use super::*;
use crate::clock::{Clock, ClockMode};
use crate::routing::Op;
use crate::state::Caps;
use crate::wire::Arns;

/// A listing: its operation, the member holding its items, and the member naming each item.
struct Listing {
    op: Op,
    items: &'static str,
    name: &'static str,
}

impl Listing {
    fn jobs() -> Self {
        Listing { op: Op::ListJobs, items: "jobs", name: "jobId" }
    }
    fn executions_of(thing: &str) -> Self {
        let op = Op::ListJobExecutionsForThing { thing: thing.into() };
        Listing { op, items: "executionSummaries", name: "jobId" }
    }
    fn things() -> Self {
        Listing { op: Op::ListThings, items: "things", name: "thingName" }
    }
}

/// A page of `l` with `query`: the names of its items and its token.
fn list(st: &mut State, l: &Listing, query: &[(&str, &str)]) -> (Vec<String>, Option<String>) {
    let query: Vec<(String, String)> =
        query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let body = handle(st, &l.op, &query, b"").unwrap().body;
    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let names = page[l.items].as_array().unwrap().iter().map(|i| i[l.name].as_str().unwrap().to_owned());
    (names.collect(), page.get("nextToken").map(|t| t.as_str().unwrap().to_owned()))
}

/// A state with thing `t` in group `big`; [`LOOKS_PER_PAGE`] + 5 SNAPSHOT jobs `s00000`, ...
/// targeting `big`; then, a second later, CONTINUOUS jobs `c0`, `c1`, `c2` in namespace `ns`
/// targeting `t`, `c1` group `late` too. So `t` has an execution of each, in that order.
fn state() -> State {
    let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
    let n = LOOKS_PER_PAGE + 5;
    let caps = Caps { jobs: n + 8, things: 4, executions: n + 8, status_details: 4, thing_groups: 4 };
    let mut st = State::new(caps, Clock::new(ClockMode::Manual, Some(0)), arns, 3);
    let ok = |st: &mut State, op: Op, body: &[u8]| handle(st, &op, &[], body).unwrap();
    ok(&mut st, Op::CreateThing { thing: "t".into() }, b"{}");
    for g in ["big", "late"] {
        ok(&mut st, Op::CreateThingGroup { group: g.into() }, b"{}");
        let join = format!(r#"{{"thingGroupName":"{g}","thingName":"t"}}"#);
        ok(&mut st, Op::AddThingToThingGroup, join.as_bytes());
    }
    let snapshot = br#"{"targets":["arn:aws:iot:us-east-1:123456789012:thinggroup/big"],"document":"{}"}"#;
    for i in 0..n {
        ok(&mut st, Op::CreateJob { job: format!("s{i:05}") }, snapshot);
    }
    st.clock.advance(1).unwrap();
    for c in ["c0", "c1", "c2"] {
        let late = if c == "c1" { r#","arn:aws:iot:us-east-1:123456789012:thinggroup/late""# } else { "" };
        let continuous = format!(
            r#"{{"targets":["arn:aws:iot:us-east-1:123456789012:thing/t"{late}],"document":"{{}}",
            "targetSelection":"CONTINUOUS","namespaceId":"ns"}}"#
        );
        ok(&mut st, Op::CreateJob { job: c.into() }, continuous.as_bytes());
    }
    st
}

/// The pages of `l` with `query` (`maxResults` 2) from the first: (names, whether a token
/// came). A walk longer than 10 pages fails (a token that never ends).
fn pages(st: &mut State, l: &Listing, query: &[(&str, &str)]) -> Vec<(Vec<String>, bool)> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    while out.len() < 10 {
        let mut q = query.to_vec();
        q.push(("maxResults", "2"));
        if let Some(t) = &token {
            q.push(("nextToken", t));
        }
        let (names, next) = list(st, l, &q);
        out.push((names, next.is_some()));
        match next {
            Some(t) => token = Some(t),
            None => return out,
        }
    }
    panic!("more than 10 pages: {out:?}");
}

fn ids(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// A ListJobs page whose filters pass over [`LOOKS_PER_PAGE`] jobs stops there, empty, with a
/// token; the next goes on after the last job looked at, and the pages hold every job that
/// passes, once. A page without filters, or whose filters pass every job, is full; so is one
/// of a group that many jobs target (read in the same order, with the same looks). A group's
/// jobs are read without the others: `late`'s one job comes in the first page.
#[test]
fn a_filtered_list_jobs_page_looks_at_so_many_jobs_and_the_next_goes_on_from_there() {
    let mut st = state();
    let jobs = Listing::jobs();
    let continuous = pages(&mut st, &jobs, &[("targetSelection", "CONTINUOUS")]);
    assert_eq!(continuous, [(vec![], true), (ids(&["c0", "c1"]), true), (ids(&["c2"]), false)]);
    let in_ns = pages(&mut st, &jobs, &[("namespaceId", "ns"), ("status", "IN_PROGRESS")]);
    assert_eq!(in_ns, continuous);

    let first_250: Vec<String> = (0..250).map(|i| format!("s{i:05}")).collect();
    for query in [&[][..], &[("status", "IN_PROGRESS")], &[("thingGroupName", "big")]] {
        let (page, token) = list(&mut st, &jobs, &[query, &[("maxResults", "250")]].concat());
        assert_eq!(page, first_250, "{query:?}");
        assert!(token.is_some(), "{query:?}");
    }
    // None of the many jobs targeting `big` is CONTINUOUS.
    let big = pages(&mut st, &jobs, &[("thingGroupName", "big"), ("targetSelection", "CONTINUOUS")]);
    assert_eq!(big, [(vec![], true), (vec![], false)]);
    let late = pages(&mut st, &jobs, &[("thingGroupName", "late")]);
    assert_eq!(late, [(ids(&["c1"]), false)]);
}

/// ListJobExecutionsForThing with `namespaceId` or `jobId` (filters the core's listing does not
/// have) reads [`LOOKS_PER_PAGE`] executions a page at most, the same way; with neither, or with
/// `status` alone, its pages are full.
#[test]
fn a_filtered_page_of_a_things_executions_reads_so_many_and_the_next_goes_on_from_there() {
    let mut st = state();
    let of_t = Listing::executions_of("t");
    let in_ns = pages(&mut st, &of_t, &[("namespaceId", "ns")]);
    assert_eq!(in_ns, [(vec![], true), (ids(&["c0", "c1"]), true), (ids(&["c2"]), false)]);
    let one = pages(&mut st, &of_t, &[("jobId", "c1")]);
    assert_eq!(one, [(vec![], true), (ids(&["c1"]), false)]);
    let early = pages(&mut st, &of_t, &[("jobId", "s00001"), ("namespaceId", "ns")]);
    assert_eq!(early, [(vec![], true), (vec![], false)]);

    for query in [&[][..], &[("status", "QUEUED")]] {
        let (page, token) = list(&mut st, &of_t, &[query, &[("maxResults", "3")]].concat());
        assert_eq!(page, ids(&["s00000", "s00001", "s00002"]), "{query:?}");
        assert!(token.is_some(), "{query:?}");
    }
}

/// ListThings with `attributeName`, `attributeValue` or `thingTypeName` reads [`LOOKS_PER_PAGE`]
/// things a page at most, the same way; without them its pages are full.
#[test]
fn a_filtered_page_of_things_reads_so_many_and_the_next_goes_on_from_there() {
    let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
    let n = LOOKS_PER_PAGE + 5;
    let caps = Caps { jobs: 4, things: n + 8, executions: 4, status_details: 4, thing_groups: 4 };
    let mut st = State::new(caps, Clock::new(ClockMode::Manual, Some(0)), arns, 3);
    for i in 0..n {
        handle(&mut st, &Op::CreateThing { thing: format!("a{i:05}") }, &[], b"{}").unwrap();
    }
    let tagged = br#"{"thingTypeName":"sensor","attributePayload":{"attributes":{"k":"v"}}}"#;
    for z in ["z0", "z1", "z2"] {
        handle(&mut st, &Op::CreateThing { thing: z.into() }, &[], tagged).unwrap();
    }
    let things = Listing::things();
    let expected = [(vec![], true), (ids(&["z0", "z1"]), true), (ids(&["z2"]), false)];
    for query in [
        &[("attributeName", "k")][..],
        &[("attributeName", "k"), ("attributeValue", "v")],
        &[("thingTypeName", "sensor")],
    ] {
        assert_eq!(pages(&mut st, &things, query), expected, "{query:?}");
    }
    let (first, token) = list(&mut st, &things, &[("maxResults", "2")]);
    assert_eq!((first, token.is_some()), (ids(&["a00000", "a00001"]), true));
}

/// A page token's scope is its operation, path parameters and filters, whatever their order,
/// without `maxResults` and `nextToken`; it does not depend on how the build prints an `Op`
/// (the value is pinned: a change of it refuses every token given out before).
#[test]
fn a_token_scope_is_the_listing_and_its_filters_and_stays_put() {
    let q = |members: &[(&str, &str)]| -> Vec<(String, String)> {
        members.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let op = Op::ListJobExecutionsForThing { thing: "t1".into() };
    let scope = token_scope(&op, &q(&[("status", "QUEUED"), ("namespaceId", "ns")]));
    // FNV-1a of `{"ListJobExecutionsForThing":{"thing":"t1"}}`, then each member name and value of
    // the two, in name order, after its length as 8 bytes (computed apart, in Python).
    assert_eq!(scope, "97c1c56c");
    let same = [
        q(&[("namespaceId", "ns"), ("status", "QUEUED")]),
        q(&[("status", "QUEUED"), ("maxResults", "5"), ("namespaceId", "ns"), ("nextToken", "x")]),
    ];
    for query in same {
        assert_eq!(token_scope(&op, &query), scope, "{query:?}");
    }
    let other_thing = Op::ListJobExecutionsForThing { thing: "t2".into() };
    let other_listing = Op::ListJobExecutionsForJob { job: "t1".into() };
    let others = [
        token_scope(&other_thing, &q(&[("status", "QUEUED"), ("namespaceId", "ns")])),
        token_scope(&other_listing, &q(&[("status", "QUEUED"), ("namespaceId", "ns")])),
        token_scope(&op, &q(&[("status", "IN_PROGRESS"), ("namespaceId", "ns")])),
        token_scope(&op, &q(&[("status", "QUEUED")])),
        // A name and a value that run into each other are told apart by their lengths.
        token_scope(&op, &q(&[("statusQ", "UEUED"), ("namespaceId", "ns")])),
    ];
    for (i, other) in others.iter().enumerate() {
        assert_ne!(*other, scope, "case {i}");
    }
}

/// Every listing that pages answers a `nextToken` bound to its scope (the listing, its path and
/// filters), and that token leads to the next page. ListTagsForResource has no second page (a
/// resource's tags fit in one).
#[test]
fn every_paged_listing_answers_a_token_bound_to_its_scope() {
    let mut st = state();
    let ok = |st: &mut State, op: Op, body: &[u8]| handle(st, &op, &[], body).unwrap();
    ok(&mut st, Op::CreateThing { thing: "u".into() }, b"{}");
    ok(&mut st, Op::AddThingToThingGroup, br#"{"thingGroupName":"big","thingName":"u"}"#);
    let two = br#"{"targets":["arn:aws:iot:us-east-1:123456789012:thing/t","arn:aws:iot:us-east-1:123456789012:thing/u"],"document":"{}"}"#;
    ok(&mut st, Op::CreateJob { job: "two".into() }, two);
    for t in ["tpl1", "tpl2"] {
        ok(&mut st, Op::CreateJobTemplate { template: t.into() }, br#"{"description":"d","document":"{}"}"#);
    }
    let cases: [(Op, &[(&str, &str)]); 11] = [
        (Op::ListThings, &[]),
        (Op::ListThingGroups, &[]),
        (Op::ListThingsInThingGroup { group: "big".into() }, &[]),
        (Op::ListThingGroupsForThing { thing: "t".into() }, &[]),
        (Op::ListJobs, &[]),
        (Op::ListJobs, &[("thingGroupName", "big")]),
        (Op::ListJobTemplates, &[]),
        (Op::ListManagedJobTemplates, &[]),
        (Op::ListJobExecutionsForJob { job: "two".into() }, &[]),
        (Op::ListJobExecutionsForThing { thing: "t".into() }, &[]),
        (Op::ListJobExecutionsForThing { thing: "t".into() }, &[("namespaceId", "ns")]),
    ];
    for (op, filters) in cases {
        let mut query: Vec<(String, String)> =
            filters.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        query.push(("maxResults".into(), "1".into()));
        let page = |st: &mut State, query: &[(String, String)]| -> serde_json::Value {
            serde_json::from_slice(&handle(st, &op, query, b"").unwrap().body).unwrap()
        };
        let first = page(&mut st, &query);
        let token = first["nextToken"].as_str().unwrap_or_else(|| panic!("{op:?}: no token in {first}"));
        let scope = token_scope(&op, &query);
        assert!(
            token.len() > scope.len() && token.starts_with(&scope),
            "{op:?}: {token} not in scope {scope}"
        );
        query.push(("nextToken".into(), token.to_owned()));
        assert_ne!(page(&mut st, &query), first, "{op:?}");
    }
}

/// Malformed members are 400s, decided before any lookup, and change nothing: a version that
/// is not a number (once a 409, or a quiet success for an unknown thing), an abort count past
/// the model's 32-bit Integer (once accepted up to `u32::MAX`), a schedule day that does not
/// exist (once carried into the next month).
#[test]
fn malformed_members_are_refused_and_change_nothing() {
    let mut st = state();
    let refused = |st: &mut State, op: Op, query: &[(&str, &str)], body: &str| {
        let query: Vec<(String, String)> =
            query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let e = handle(st, &op, &query, body.as_bytes()).err().unwrap();
        assert_eq!((e.status, e.name), (400, "InvalidRequestException"), "{op:?} {query:?}: {}", e.message);
        e.message
    };
    for v in ["abc", "", "1.0", "+"] {
        let m = refused(&mut st, Op::DeleteThing { thing: "t".into() }, &[("expectedVersion", v)], "");
        assert!(m.contains("expectedVersion"), "{m}");
        refused(&mut st, Op::DeleteThing { thing: "unknown".into() }, &[("expectedVersion", v)], "");
        refused(&mut st, Op::DeleteThingGroup { group: "big".into() }, &[("expectedVersion", v)], "");
    }
    handle(&mut st, &Op::DescribeThing { thing: "t".into() }, &[], b"").unwrap();
    handle(&mut st, &Op::DescribeThingGroup { group: "big".into() }, &[], b"").unwrap();
    // A structure is an object: serde alone reads an array as one, member by member.
    for body in [r#"[null,null,null]"#, r#"["tt",null,null]"#, r#"{"attributePayload":[{"k":"v"},false]}"#] {
        let m = refused(&mut st, Op::CreateThing { thing: "s2".into() }, &[], body);
        assert!(m.contains("expected struct"), "{body}: {m}");
    }
    let e = handle(&mut st, &Op::DescribeThing { thing: "s2".into() }, &[], b"").err().unwrap();
    assert_eq!(e.status, 404);
    // A map's key given twice is a 400 (the last value was kept silently), and nothing changes.
    let twice: [(Op, &str); 3] = [
        (Op::CreateThing { thing: "s3".into() }, r#"{"attributePayload":{"attributes":{"a":"1","a":"2"}}}"#),
        (
            Op::CancelJobExecution { thing: "t".into(), job: "c0".into() },
            r#"{"statusDetails":{"k":"1","k":"2"}}"#,
        ),
        (
            Op::UpdateEventConfigurations,
            r#"{"eventConfigurations":{"JOB":{"Enabled":true},"JOB":{"Enabled":false}}}"#,
        ),
    ];
    for (op, body) in twice {
        let m = refused(&mut st, op, &[], body);
        assert!(m.contains("is given twice"), "{body}: {m}");
    }
    let e = handle(&mut st, &Op::DescribeThing { thing: "s3".into() }, &[], b"").err().unwrap();
    assert_eq!(e.status, 404);
    let c0 =
        handle(&mut st, &Op::DescribeJobExecution { thing: "t".into(), job: "c0".into() }, &[], b"").unwrap();
    assert!(String::from_utf8(c0.body).unwrap().contains("QUEUED"));
    // A group name's message names its own member.
    for (member, value) in [("parentGroup", ""), ("namePrefixFilter", "a b")] {
        let m = refused(&mut st, Op::ListThingGroups, &[(member, value)], "");
        assert!(m.starts_with(member), "{m}");
    }
    let m = refused(&mut st, Op::CreateThingGroup { group: "g2".into() }, &[], r#"{"parentGroupName":""}"#);
    assert!(m.starts_with("parentGroupName"), "{m}");

    let target = r#""targets":["arn:aws:iot:us-east-1:123456789012:thing/t"],"document":"{}""#;
    for n in ["2147483648", "4294967295", "0"] {
        let abort = format!(
            r#"{{{target},"abortConfig":{{"criteriaList":[{{"failureType":"FAILED","action":"CANCEL",
            "thresholdPercentage":50,"minNumberOfExecutedThings":{n}}}]}}}}"#
        );
        let m = refused(&mut st, Op::CreateJob { job: "a".into() }, &[], &abort);
        assert!(m.contains("minNumberOfExecutedThings must be from 1 to 2147483647"), "{m}");
    }
    let feb = crate::wire::parse_date_time("2027-02-20T00:00").unwrap();
    st.clock.advance(feb - st.clock.now().0).unwrap();
    for day in ["2027-02-29", "2027-02-30", "2027-04-31"] {
        let late = format!(r#"{{{target},"schedulingConfig":{{"startTime":"{day}T10:00"}}}}"#);
        let m = refused(&mut st, Op::CreateJob { job: "a".into() }, &[], &late);
        assert!(m.contains("of a day that exists"), "{m}");
    }
    let e = handle(&mut st, &Op::DescribeJob { job: "a".into() }, &[], b"").err().unwrap();
    assert_eq!(e.status, 404);
}

/// CreateThing's `billingGroupName` is kept: DescribeThing returns it, the same request again
/// is accepted and another billing group is a conflict (as other attributes are), and it goes
/// through an export and an import. (It was validated and dropped.)
#[test]
fn a_things_billing_group_is_kept_returned_and_saved() {
    let mut st = state();
    let create =
        |st: &mut State, body: &str| handle(st, &Op::CreateThing { thing: "b".into() }, &[], body.as_bytes());
    let describe = |st: &mut State| {
        let body = handle(st, &Op::DescribeThing { thing: "b".into() }, &[], b"").unwrap().body;
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()
    };
    create(&mut st, r#"{"billingGroupName":"bg-1"}"#).unwrap();
    assert_eq!(describe(&mut st)["billingGroupName"], "bg-1");
    create(&mut st, r#"{"billingGroupName":"bg-1"}"#).unwrap();
    for other in [r#"{"billingGroupName":"bg-2"}"#, "{}"] {
        let e = create(&mut st, other).err().unwrap();
        assert_eq!((e.status, e.name), (409, "ResourceAlreadyExistsException"), "{other}");
    }
    // A thing without one has no such member.
    let t = handle(&mut st, &Op::DescribeThing { thing: "t".into() }, &[], b"").unwrap().body;
    assert!(!String::from_utf8(t).unwrap().contains("billingGroupName"));
    let saved = handle(&mut st, &Op::ExportState, &[], b"").unwrap().body;
    let mut again = state();
    handle(&mut again, &Op::ImportState, &[], &saved).unwrap();
    assert_eq!(describe(&mut again)["billingGroupName"], "bg-1");
}
