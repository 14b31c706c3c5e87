//! The thing-group hierarchy (SPEC AMBIG-32), tags (SPEC AMBIG-33) and event configurations
//! (SPEC R23) over real HTTP, against an in-process emulator with the manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod in_process;

use in_process::{Emu, start};
use serde_json::{Value, json};

const CONTROL: &str =
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=00";
const ARN: &str = "arn:aws:iot:us-east-1:123456789012";

/// A control-plane call: status, `x-amzn-ErrorType`, JSON body (Null when empty).
async fn call(e: &Emu, method: &str, path: &str, body: Option<Value>) -> (u16, Option<String>, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = e.http.request(method, format!("{}{path}", e.url)).header("authorization", CONTROL);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let error = resp.headers().get("x-amzn-ErrorType").map(|v| v.to_str().unwrap().to_owned());
    let bytes = resp.bytes().await.unwrap();
    (status, error, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() })
}

/// A call that must succeed: its body.
async fn ok(e: &Emu, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, error, body) = call(e, method, path, body).await;
    assert_eq!((status, error), (200, None), "{method} {path}: {body}");
    body
}

/// A call that must fail with `status` and `name`: its message.
async fn fails(e: &Emu, status: u16, name: &str, method: &str, path: &str, body: Option<Value>) -> String {
    let got = call(e, method, path, body).await;
    assert_eq!((got.0, got.1.as_deref()), (status, Some(name)), "{method} {path}: {}", got.2);
    got.2["message"].as_str().unwrap().to_owned()
}

async fn group(e: &Emu, name: &str, parent: Option<&str>) {
    let body = match parent {
        Some(p) => json!({"parentGroupName": p}),
        None => json!({}),
    };
    ok(e, "POST", &format!("/thing-groups/{name}"), Some(body)).await;
}

async fn thing_in(e: &Emu, thing: &str, group: &str) {
    ok(e, "POST", &format!("/things/{thing}"), Some(json!({}))).await;
    membership(e, "addThingToThingGroup", group, thing).await;
}

/// AddThingToThingGroup or RemoveThingFromThingGroup (`what`), which must succeed.
async fn membership(e: &Emu, what: &str, group: &str, thing: &str) {
    let body = json!({"thingGroupName": group, "thingName": thing});
    ok(e, "PUT", &format!("/thing-groups/{what}"), Some(body)).await;
}

fn names(v: &Value, member: &str, field: &str) -> Vec<String> {
    v[member].as_array().unwrap().iter().map(|g| g[field].as_str().unwrap().to_owned()).collect()
}

async fn list_groups(e: &Emu, query: &str) -> Vec<String> {
    names(&ok(e, "GET", &format!("/thing-groups{query}"), None).await, "thingGroups", "groupName")
}

async fn things_in(e: &Emu, group: &str, query: &str) -> Vec<String> {
    let v = ok(e, "GET", &format!("/thing-groups/{group}/things{query}"), None).await;
    v["things"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect()
}

async fn exec_status(e: &Emu, thing: &str, job: &str) -> Option<String> {
    let (status, _, v) = call(e, "GET", &format!("/things/{thing}/jobs/{job}"), None).await;
    (status == 200).then(|| v["execution"]["status"].as_str().unwrap().to_owned())
}

/// root > mid > leaf, and root > other; t-root in root, t-mid in mid, t-leaf in leaf.
async fn tree(e: &Emu) {
    group(e, "root", None).await;
    group(e, "mid", Some("root")).await;
    group(e, "leaf", Some("mid")).await;
    group(e, "other", Some("root")).await;
    for (t, g) in [("t-root", "root"), ("t-mid", "mid"), ("t-leaf", "leaf")] {
        thing_in(e, t, g).await;
    }
}

/// An empty path segment is an empty name, refused, not a shorter path: `/thing-groups//things`
/// was DeleteThingGroup of the group "things" while empty segments were dropped.
#[tokio::test]
async fn an_empty_path_segment_is_refused_and_changes_nothing() {
    let e = start(|_| {}).await;
    group(&e, "things", None).await;
    fails(&e, 405, "UnknownOperationException", "DELETE", "/thing-groups//things", None).await;
    let m = fails(&e, 400, "InvalidRequestException", "GET", "/thing-groups//things", None).await;
    assert!(m.contains("thingGroupName"), "{m}");
    fails(&e, 400, "InvalidRequestException", "GET", "/jobs//things", None).await;
    ok(&e, "GET", "/thing-groups/things", None).await;
}

#[tokio::test]
async fn groups_form_a_hierarchy_of_at_most_seven_levels() {
    let e = start(|_| {}).await;
    tree(&e).await;
    let d = ok(&e, "GET", "/thing-groups/leaf", None).await;
    let meta = &d["thingGroupMetadata"];
    assert_eq!(meta["parentGroupName"], "mid");
    assert_eq!(
        meta["rootToParentThingGroups"],
        json!([
            {"groupName": "root", "groupArn": format!("{ARN}:thinggroup/root")},
            {"groupName": "mid", "groupArn": format!("{ARN}:thinggroup/mid")},
        ])
    );
    let root = ok(&e, "GET", "/thing-groups/root", None).await;
    assert!(root["thingGroupMetadata"].get("parentGroupName").is_none(), "{root}");
    assert!(root["thingGroupMetadata"].get("rootToParentThingGroups").is_none(), "{root}");
    // The same request again is accepted; another parent is a conflict.
    group(&e, "leaf", Some("mid")).await;
    let body = Some(json!({"parentGroupName": "root"}));
    fails(&e, 409, "ResourceAlreadyExistsException", "POST", "/thing-groups/leaf", body).await;
    // The parent must exist, and be a valid name.
    let body = Some(json!({"parentGroupName": "nope"}));
    fails(&e, 404, "ResourceNotFoundException", "POST", "/thing-groups/x", body).await;
    let body = Some(json!({"parentGroupName": "a b"}));
    fails(&e, 400, "InvalidRequestException", "POST", "/thing-groups/x", body).await;
    // Seven levels: root, mid, leaf, l4 .. l7; an eighth is refused and not created.
    let mut parent = "leaf".to_owned();
    for level in 4..=7 {
        let name = format!("l{level}");
        group(&e, &name, Some(&parent)).await;
        parent = name;
    }
    let body = Some(json!({"parentGroupName": "l7"}));
    let m = fails(&e, 400, "InvalidRequestException", "POST", "/thing-groups/l8", body).await;
    assert!(m.contains("at most 7 levels"), "{m}");
    fails(&e, 404, "ResourceNotFoundException", "GET", "/thing-groups/l8", None).await;
    let d = ok(&e, "GET", "/thing-groups/l7", None).await;
    assert_eq!(names(&d["thingGroupMetadata"], "rootToParentThingGroups", "groupName").len(), 6);
}

/// ListThingGroups with `namePrefixFilter` reads from the prefix (or from after the token's name
/// when it sorts later) and stops at the first name past it, so its pages and tokens are those
/// of the names that start with it; without `recursive` it reads the root groups alone, and a
/// deleted root leaves them.
#[tokio::test]
async fn a_name_prefix_pages_from_the_prefix_and_stops_past_it() {
    let e = start(|_| {}).await;
    for g in ["a", "b", "ma", "mb", "mc", "n"] {
        group(&e, g, None).await;
    }
    group(&e, "mx", Some("n")).await;
    let first = ok(&e, "GET", "/thing-groups?namePrefixFilter=m&maxResults=2", None).await;
    assert_eq!(names(&first, "thingGroups", "groupName"), ["ma", "mb"]);
    let token = first["nextToken"].as_str().unwrap();
    let second =
        ok(&e, "GET", &format!("/thing-groups?namePrefixFilter=m&maxResults=2&nextToken={token}"), None)
            .await;
    assert_eq!(names(&second, "thingGroups", "groupName"), ["mc", "mx"]);
    assert!(second.get("nextToken").is_none(), "{second}");
    // A token of the listing without the prefix is bound to it: with the prefix it is a 400.
    let all = ok(&e, "GET", "/thing-groups?maxResults=6", None).await;
    assert_eq!(names(&all, "thingGroups", "groupName"), ["a", "b", "ma", "mb", "mc", "mx"]);
    let token = all["nextToken"].as_str().unwrap();
    assert_eq!(list_groups(&e, &format!("?nextToken={token}")).await, ["n"]);
    let (status, error, _) =
        call(&e, "GET", &format!("/thing-groups?namePrefixFilter=m&nextToken={token}"), None).await;
    assert_eq!((status, error.as_deref()), (400, Some("InvalidRequestException")));
    assert_eq!(list_groups(&e, "?recursive=false&namePrefixFilter=m").await, ["ma", "mb", "mc"]);
    ok(&e, "DELETE", "/thing-groups/mb", None).await;
    assert_eq!(list_groups(&e, "?recursive=false").await, ["a", "b", "ma", "mc", "n"]);
}

/// ListThingsInThingGroup with `recursive=true` lists the things of the subtree in name order
/// and in pages, and follows a thing moving within the hierarchy, a deleted thing and a deleted
/// group.
#[tokio::test]
async fn the_things_of_a_subtree_are_listed_in_pages_and_follow_changes() {
    let e = start(|_| {}).await;
    group(&e, "top", None).await;
    group(&e, "mid", Some("top")).await;
    group(&e, "low", Some("mid")).await;
    group(&e, "side", Some("top")).await;
    thing_in(&e, "d", "low").await;
    thing_in(&e, "b", "mid").await;
    thing_in(&e, "c", "side").await;
    thing_in(&e, "a", "top").await;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..5 {
        let q = token.as_ref().map_or(String::new(), |t| format!("&nextToken={t}"));
        let page =
            ok(&e, "GET", &format!("/thing-groups/top/things?recursive=true&maxResults=1{q}"), None).await;
        seen.extend(page["things"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()));
        token = page.get("nextToken").map(|t| t.as_str().unwrap().to_owned());
        if token.is_none() {
            break;
        }
    }
    assert_eq!((seen, token), (vec!["a".to_owned(), "b".into(), "c".into(), "d".into()], None));
    assert_eq!(things_in(&e, "mid", "?recursive=true").await, ["b", "d"]);
    // `a` moves from `top` down to `low`.
    membership(&e, "removeThingFromThingGroup", "top", "a").await;
    membership(&e, "addThingToThingGroup", "low", "a").await;
    assert_eq!(things_in(&e, "top", "").await, Vec::<String>::new());
    assert_eq!(things_in(&e, "top", "?recursive=true").await, ["a", "b", "c", "d"]);
    assert_eq!(things_in(&e, "mid", "?recursive=true").await, ["a", "b", "d"]);
    assert_eq!(things_in(&e, "low", "?recursive=true").await, ["a", "d"]);
    assert_eq!(things_in(&e, "side", "?recursive=true").await, ["c"]);
    ok(&e, "DELETE", "/things/b", None).await;
    ok(&e, "DELETE", "/thing-groups/side", None).await;
    assert_eq!(things_in(&e, "top", "?recursive=true").await, ["a", "d"]);
}

#[tokio::test]
async fn listings_follow_the_hierarchy() {
    let e = start(|_| {}).await;
    tree(&e).await;
    group(&e, "solo", None).await;
    // ListThingGroups: recursive by default.
    assert_eq!(list_groups(&e, "").await, ["leaf", "mid", "other", "root", "solo"]);
    assert_eq!(list_groups(&e, "?recursive=false").await, ["root", "solo"]);
    assert_eq!(list_groups(&e, "?parentGroup=root").await, ["leaf", "mid", "other"]);
    assert_eq!(list_groups(&e, "?parentGroup=root&recursive=false").await, ["mid", "other"]);
    assert_eq!(list_groups(&e, "?parentGroup=leaf").await, Vec::<String>::new());
    assert_eq!(list_groups(&e, "?namePrefixFilter=m").await, ["mid"]);
    assert_eq!(list_groups(&e, "?parentGroup=root&namePrefixFilter=o").await, ["other"]);
    fails(&e, 404, "ResourceNotFoundException", "GET", "/thing-groups?parentGroup=nope", None).await;
    fails(&e, 400, "InvalidRequestException", "GET", "/thing-groups?recursive=maybe", None).await;
    let v = ok(&e, "GET", "/thing-groups?maxResults=2", None).await;
    assert_eq!(names(&v, "thingGroups", "groupName"), ["leaf", "mid"]);
    assert_eq!(v["thingGroups"][0]["groupArn"], format!("{ARN}:thinggroup/leaf"));
    let token = v["nextToken"].as_str().unwrap();
    assert_eq!(list_groups(&e, &format!("?maxResults=2&nextToken={token}")).await, ["other", "root"]);
    // ListThingsInThingGroup: direct members by default.
    assert_eq!(things_in(&e, "root", "").await, ["t-root"]);
    assert_eq!(things_in(&e, "root", "?recursive=true").await, ["t-leaf", "t-mid", "t-root"]);
    assert_eq!(things_in(&e, "mid", "?recursive=true").await, ["t-leaf", "t-mid"]);
    assert_eq!(things_in(&e, "mid", "?recursive=true&maxResults=1").await, ["t-leaf"]);
    fails(&e, 404, "ResourceNotFoundException", "GET", "/thing-groups/nope/things", None).await;
    // ListThingGroupsForThing: the groups the thing was added to.
    let body = json!({"thingGroupName": "solo", "thingName": "t-leaf"});
    ok(&e, "PUT", "/thing-groups/addThingToThingGroup", Some(body)).await;
    let v = ok(&e, "GET", "/things/t-leaf/thing-groups", None).await;
    assert_eq!(names(&v, "thingGroups", "groupName"), ["leaf", "solo"]);
    fails(&e, 404, "ResourceNotFoundException", "GET", "/things/nope/thing-groups", None).await;
}

/// A deleted thing leaves its groups: created again, it is in none (it may join ten again, and
/// one of the hierarchy it was in), and a CONTINUOUS job on a group it was in does not reach it.
#[tokio::test]
async fn a_deleted_thing_leaves_its_groups() {
    let e = start(|_| {}).await;
    tree(&e).await;
    let join = |group: &str| json!({"thingGroupName": group, "thingName": "t-leaf"});
    for g in ["g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8"] {
        group(&e, g, None).await;
        ok(&e, "PUT", "/thing-groups/addThingToThingGroup", Some(join(g))).await;
    }
    let v = ok(&e, "GET", "/things/t-leaf/thing-groups", None).await;
    assert_eq!(names(&v, "thingGroups", "groupName").len(), 10);
    ok(&e, "DELETE", "/things/t-leaf", None).await;
    ok(&e, "POST", "/things/t-leaf", Some(json!({}))).await;
    let v = ok(&e, "GET", "/things/t-leaf/thing-groups", None).await;
    assert_eq!(names(&v, "thingGroups", "groupName"), Vec::<String>::new());
    assert_eq!(things_in(&e, "root", "?recursive=true").await, ["t-mid", "t-root"]);
    let targets = json!({"targets": [format!("{ARN}:thinggroup/g0")], "document": "{}", "targetSelection": "CONTINUOUS"});
    ok(&e, "PUT", "/jobs/c", Some(targets)).await;
    assert_eq!(exec_status(&e, "t-leaf", "c").await, None);
    ok(&e, "PUT", "/thing-groups/addThingToThingGroup", Some(join("other"))).await;
    for g in ["g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8"] {
        ok(&e, "PUT", "/thing-groups/addThingToThingGroup", Some(join(g))).await;
    }
    assert_eq!(exec_status(&e, "t-leaf", "c").await.as_deref(), Some("QUEUED"));
}

#[tokio::test]
async fn a_group_with_children_is_deleted_after_them() {
    let e = start(|_| {}).await;
    tree(&e).await;
    let m = fails(&e, 400, "InvalidRequestException", "DELETE", "/thing-groups/root", None).await;
    assert!(m.contains("mid, other"), "{m}");
    ok(&e, "GET", "/thing-groups/root", None).await;
    for g in ["leaf", "mid", "other", "root"] {
        ok(&e, "DELETE", &format!("/thing-groups/{g}"), None).await;
    }
    assert_eq!(list_groups(&e, "").await, Vec::<String>::new());
}

/// A thing is in at most one group of a hierarchy, and in at most 10 groups (SPEC AMBIG-32); a
/// refused join changes nothing.
#[tokio::test]
async fn a_thing_joins_one_group_per_hierarchy_and_at_most_ten() {
    let e = start(|_| {}).await;
    tree(&e).await;
    let join = |g: &str| json!({"thingGroupName": g, "thingName": "t-leaf"});
    let refused = async |g: &str| {
        let path = "/thing-groups/addThingToThingGroup";
        fails(&e, 400, "InvalidRequestException", "PUT", path, Some(join(g))).await
    };
    for g in ["root", "mid", "other"] {
        let m = refused(g).await;
        assert!(m.contains("same hierarchy as") && m.contains("root root"), "{m}");
    }
    // Joining a group it is in already is no change.
    ok(&e, "PUT", "/thing-groups/addThingToThingGroup", Some(join("leaf"))).await;
    for i in 0..9 {
        group(&e, &format!("h{i}"), None).await;
        ok(&e, "PUT", "/thing-groups/addThingToThingGroup", Some(join(&format!("h{i}")))).await;
    }
    group(&e, "h9", None).await;
    let m = refused("h9").await;
    assert!(m.contains("in 10 thing groups already"), "{m}");
    let v = ok(&e, "GET", "/things/t-leaf/thing-groups?maxResults=20", None).await;
    assert_eq!(names(&v, "thingGroups", "groupName").len(), 10);
    assert_eq!(things_in(&e, "h9", "").await, Vec::<String>::new());
    assert_eq!(things_in(&e, "other", "").await, Vec::<String>::new());
}

#[tokio::test]
async fn a_job_on_a_group_reaches_its_descendants() {
    let e = start(|_| {}).await;
    tree(&e).await;
    let target = |g: &str| json!([format!("{ARN}:thinggroup/{g}")]);
    let doc = "{\"op\":\"x\"}";
    let snap = json!({"targets": target("mid"), "document": doc});
    ok(&e, "PUT", "/jobs/snap", Some(snap)).await;
    assert_eq!(exec_status(&e, "t-mid", "snap").await.as_deref(), Some("QUEUED"));
    assert_eq!(exec_status(&e, "t-leaf", "snap").await.as_deref(), Some("QUEUED"));
    assert_eq!(exec_status(&e, "t-root", "snap").await, None, "a parent's things are not targeted");
    // The CONTINUOUS job targets two hierarchies: root's and solo's.
    group(&e, "solo", None).await;
    let targets = json!([format!("{ARN}:thinggroup/root"), format!("{ARN}:thinggroup/solo")]);
    let cont = json!({"targets": targets, "document": doc, "targetSelection": "CONTINUOUS"});
    ok(&e, "PUT", "/jobs/cont", Some(cont)).await;
    for t in ["t-root", "t-mid", "t-leaf"] {
        assert_eq!(exec_status(&e, t, "cont").await.as_deref(), Some("QUEUED"), "{t}");
    }
    // A thing that joins a descendant later gets an execution of the CONTINUOUS job only.
    thing_in(&e, "t-new", "leaf").await;
    assert_eq!(exec_status(&e, "t-new", "cont").await.as_deref(), Some("QUEUED"));
    assert_eq!(exec_status(&e, "t-new", "snap").await, None);
    // One that leaves it (and is in no other group under the target) is removed (SPEC T10) ...
    let leave = json!({"thingGroupName": "leaf", "thingName": "t-new"});
    ok(&e, "PUT", "/thing-groups/removeThingFromThingGroup", Some(leave)).await;
    assert_eq!(exec_status(&e, "t-new", "cont").await.as_deref(), Some("REMOVED"));
    // ... but one still in another of the job's target groups keeps its execution.
    let join = json!({"thingGroupName": "solo", "thingName": "t-leaf"});
    ok(&e, "PUT", "/thing-groups/addThingToThingGroup", Some(join)).await;
    let leave = json!({"thingGroupName": "leaf", "thingName": "t-leaf"});
    ok(&e, "PUT", "/thing-groups/removeThingFromThingGroup", Some(leave)).await;
    assert_eq!(exec_status(&e, "t-leaf", "cont").await.as_deref(), Some("QUEUED"));
    // Deleting a (childless) group is a leave of all its members.
    ok(&e, "DELETE", "/thing-groups/leaf", None).await;
    ok(&e, "DELETE", "/thing-groups/solo", None).await;
    assert_eq!(exec_status(&e, "t-leaf", "cont").await.as_deref(), Some("REMOVED"));
    assert_eq!(exec_status(&e, "t-mid", "cont").await.as_deref(), Some("QUEUED"));
}

/// A group is one target however many things it holds (SPEC lim-targets): a CONTINUOUS job on a
/// group of 150 things rolls out to one that joins later, and takes a thing and another such
/// group by AssociateTargetsWithJob (3 targets). A job created with 100 things named directly
/// and a group takes no more targets. Both were LimitExceededException: the group's things were
/// counted as targets, so a group of more than 100 stopped its job's rollout.
#[tokio::test]
async fn a_group_of_many_things_is_one_target() {
    let e = start(|_| {}).await;
    for g in ["big", "bigger"] {
        group(&e, g, None).await;
        for i in 0..150 {
            thing_in(&e, &format!("{g}-{i}"), g).await;
        }
    }
    let doc = "{\"op\":\"x\"}";
    let cont = json!({"targets": [format!("{ARN}:thinggroup/big")], "document": doc, "targetSelection": "CONTINUOUS"});
    ok(&e, "PUT", "/jobs/cont", Some(cont)).await;
    assert_eq!(exec_status(&e, "big-149", "cont").await.as_deref(), Some("QUEUED"));
    thing_in(&e, "late", "big").await;
    assert_eq!(exec_status(&e, "late", "cont").await.as_deref(), Some("QUEUED"));
    ok(&e, "POST", "/things/solo", Some(json!({}))).await;
    let more = json!({"targets": [format!("{ARN}:thing/solo"), format!("{ARN}:thinggroup/bigger")]});
    ok(&e, "POST", "/jobs/cont/targets", Some(more)).await;
    assert_eq!(exec_status(&e, "solo", "cont").await.as_deref(), Some("QUEUED"));
    assert_eq!(exec_status(&e, "bigger-0", "cont").await.as_deref(), Some("QUEUED"));
    let described = ok(&e, "GET", "/jobs/cont", None).await;
    assert_eq!(described["job"]["targets"].as_array().unwrap().len(), 3, "{described}");
    // The limit still holds for the ARNs: 99 things named and a group, then one more.
    let named: Vec<String> = (0..99).map(|i| format!("{ARN}:thing/bigger-{i}")).collect();
    let mut targets = named.clone();
    targets.push(format!("{ARN}:thinggroup/big"));
    let full = json!({"targets": targets, "document": doc, "targetSelection": "CONTINUOUS"});
    ok(&e, "PUT", "/jobs/full", Some(full)).await;
    thing_in(&e, "later", "big").await;
    assert_eq!(exec_status(&e, "later", "full").await.as_deref(), Some("QUEUED"));
    let one_more = json!({"targets": [format!("{ARN}:thing/solo")]});
    fails(&e, 410, "LimitExceededException", "POST", "/jobs/full/targets", Some(one_more)).await;
    assert_eq!(exec_status(&e, "solo", "full").await, None);
}

/// A CONTINUOUS job follows its groups before its start too (SPEC T1, T10, R21): a thing that
/// joins a target group while the job is SCHEDULED gets its execution when the job starts, and
/// one that leaves before the start gets none. (The joiner got none, the leaver one.)
#[tokio::test]
async fn a_scheduled_continuous_job_follows_its_groups_until_it_starts() {
    let e = start(|_| {}).await;
    group(&e, "g", None).await;
    thing_in(&e, "early", "g").await;
    thing_in(&e, "leaver", "g").await;
    ok(&e, "POST", "/things/joiner", Some(json!({}))).await;
    let now = ok(&e, "GET", "/_emulator/clock", None).await["now"].as_u64().unwrap();
    let at = |secs: u64| iot_jobs_emulator::wire::format_date_time(now + secs);
    let doc = "{\"op\":\"x\"}";
    let job = json!({
        "targets": [format!("{ARN}:thinggroup/g")], "document": doc, "targetSelection": "CONTINUOUS",
        "schedulingConfig": {"startTime": at(3_600)},
    });
    ok(&e, "PUT", "/jobs/sched", Some(job)).await;
    membership(&e, "addThingToThingGroup", "g", "joiner").await;
    membership(&e, "removeThingFromThingGroup", "g", "leaver").await;
    assert_eq!(ok(&e, "GET", "/jobs/sched", None).await["job"]["status"], "SCHEDULED");
    assert_eq!(exec_status(&e, "joiner", "sched").await, None, "no execution before the start");
    ok(&e, "POST", "/_emulator/clock", Some(json!({"advanceSeconds": 7_200}))).await;
    assert_eq!(ok(&e, "GET", "/jobs/sched", None).await["job"]["status"], "IN_PROGRESS");
    assert_eq!(exec_status(&e, "early", "sched").await.as_deref(), Some("QUEUED"));
    assert_eq!(exec_status(&e, "joiner", "sched").await.as_deref(), Some("QUEUED"));
    assert_eq!(exec_status(&e, "leaver", "sched").await, None);
}

/// UpdateThingGroupsForThing moves a thing between groups as one change: a CONTINUOUS job of
/// the group it leaves removes its execution, one of the group it joins rolls out to it, and a
/// job targeting an ancestor of both keeps it; a request naming an unknown group, or one that
/// would break the hierarchy, is refused and changes nothing.
#[tokio::test]
async fn update_thing_groups_for_thing_moves_a_thing_and_its_continuous_jobs() {
    let e = start(|_| {}).await;
    tree(&e).await;
    group(&e, "solo", None).await;
    let cont = |g: &str| json!({"targets": [format!("{ARN}:thinggroup/{g}")], "document": "{}", "targetSelection": "CONTINUOUS"});
    for (job, g) in [("job-leaf", "leaf"), ("job-other", "other"), ("job-root", "root"), ("job-solo", "solo")]
    {
        ok(&e, "PUT", &format!("/jobs/{job}"), Some(cont(g))).await;
    }
    assert_eq!(exec_status(&e, "t-leaf", "job-leaf").await.as_deref(), Some("QUEUED"));
    assert_eq!(exec_status(&e, "t-leaf", "job-other").await, None);
    let path = "/thing-groups/updateThingGroupsForThing";
    let update = |add: &[&str], remove: &[&str]| json!({"thingName": "t-leaf", "thingGroupsToAdd": add, "thingGroupsToRemove": remove});
    let groups_of = async |thing: &str| {
        names(
            &ok(&e, "GET", &format!("/things/{thing}/thing-groups"), None).await,
            "thingGroups",
            "groupName",
        )
    };
    let version = async |g: &str| ok(&e, "GET", &format!("/thing-groups/{g}"), None).await["version"].clone();
    let (leaf_version, other_version) = (version("leaf").await, version("other").await);
    // An unknown group, in either list, is a 404 and nothing changes.
    for body in [update(&["other", "nope"], &["leaf"]), update(&["other"], &["leaf", "nope"])] {
        let m = fails(&e, 404, "ResourceNotFoundException", "PUT", path, Some(body)).await;
        assert!(m.contains("nope"), "{m}");
    }
    // So is a move into two groups of one hierarchy, and a group in both lists (400).
    let m =
        fails(&e, 400, "InvalidRequestException", "PUT", path, Some(update(&["other", "mid"], &["leaf"])))
            .await;
    assert!(m.contains("would be in thing group other") && m.contains("root root"), "{m}");
    let m =
        fails(&e, 400, "InvalidRequestException", "PUT", path, Some(update(&["other"], &["other"]))).await;
    assert!(m.contains("both"), "{m}");
    let m = fails(&e, 400, "InvalidRequestException", "PUT", path, Some(update(&["a b"], &[]))).await;
    assert!(m.contains("thingGroupsToAdd"), "{m}");
    fails(&e, 404, "ResourceNotFoundException", "PUT", path, Some(json!({"thingName": "ghost"}))).await;
    assert_eq!(groups_of("t-leaf").await, ["leaf"]);
    assert_eq!(things_in(&e, "other", "").await, Vec::<String>::new());
    assert_eq!(
        (version("leaf").await, version("other").await),
        (leaf_version.clone(), other_version.clone())
    );
    assert_eq!(exec_status(&e, "t-leaf", "job-leaf").await.as_deref(), Some("QUEUED"));
    assert_eq!(exec_status(&e, "t-leaf", "job-other").await, None);
    // leaf -> other, and into solo: within root's hierarchy, the move is allowed at once.
    ok(&e, "PUT", path, Some(update(&["other", "solo"], &["leaf"]))).await;
    assert_eq!(groups_of("t-leaf").await, ["other", "solo"]);
    assert_eq!(things_in(&e, "leaf", "").await, Vec::<String>::new());
    assert_eq!(things_in(&e, "other", "").await, ["t-leaf"]);
    assert_eq!(exec_status(&e, "t-leaf", "job-leaf").await.as_deref(), Some("REMOVED"));
    assert_eq!(exec_status(&e, "t-leaf", "job-other").await.as_deref(), Some("QUEUED"));
    assert_eq!(exec_status(&e, "t-leaf", "job-solo").await.as_deref(), Some("QUEUED"));
    // The job on root reaches the thing in leaf and in other: its execution stays.
    let x = ok(&e, "GET", "/things/t-leaf/jobs/job-root", None).await;
    assert_eq!(
        (x["execution"]["status"].clone(), x["execution"]["executionNumber"].clone()),
        (json!("QUEUED"), json!(1))
    );
    let bumped = |v: &Value| json!(v.as_i64().unwrap() + 1);
    assert_eq!(
        (version("leaf").await, version("other").await),
        (bumped(&leaf_version), bumped(&other_version))
    );
    // Removing a group it is not in, and adding one it is in, is no change.
    ok(&e, "PUT", path, Some(update(&["other"], &["leaf"]))).await;
    assert_eq!(version("other").await, bumped(&other_version));
    // Out of every group: the jobs of its groups' hierarchies no longer reach it.
    ok(&e, "PUT", path, Some(update(&[], &["other", "solo"]))).await;
    assert_eq!(groups_of("t-leaf").await, Vec::<String>::new());
    for job in ["job-other", "job-root", "job-solo"] {
        assert_eq!(exec_status(&e, "t-leaf", job).await.as_deref(), Some("REMOVED"), "{job}");
    }
}

/// UpdateThing and UpdateThingGroup: attributes merged or replaced (an empty value removes
/// one), the thing type set and removed, the description set, `expectedVersion` checked (409),
/// the model's bounds kept; a refused update changes nothing.
#[tokio::test]
async fn things_and_groups_are_updated_with_their_versions() {
    let e = start(|_| {}).await;
    let attrs = json!({"attributes": {"a": "1", "b": "2"}});
    ok(&e, "POST", "/things/t", Some(json!({"attributePayload": attrs, "thingTypeName": "ty"}))).await;
    let describe = async || ok(&e, "GET", "/things/t", None).await;
    assert_eq!(describe().await["version"], 1);
    let patch = async |body: Value| ok(&e, "PATCH", "/things/t", Some(body)).await;
    // merge: the given ones are set, an empty value removes its attribute, the others stay.
    let merge = json!({"attributes": {"b": "", "c": "3", "a": "one"}, "merge": true});
    assert_eq!(patch(json!({"attributePayload": merge, "expectedVersion": 1})).await, Value::Null);
    let d = describe().await;
    assert_eq!((d["attributes"].clone(), d["version"].clone()), (json!({"a": "one", "c": "3"}), json!(2)));
    assert_eq!(d["thingTypeName"], "ty");
    // Without merge the given ones replace them all.
    patch(json!({"attributePayload": {"attributes": {"z": "26", "y": ""}}})).await;
    let d = describe().await;
    assert_eq!((d["attributes"].clone(), d["version"].clone()), (json!({"z": "26"}), json!(3)));
    // A version that is not the thing's is a 409, and nothing changes.
    let stale = json!({"attributePayload": {"attributes": {"x": "1"}}, "expectedVersion": 2});
    let m = fails(&e, 409, "VersionConflictException", "PATCH", "/things/t", Some(stale)).await;
    assert!(m.contains("version 3"), "{m}");
    let m = fails(
        &e,
        400,
        "InvalidRequestException",
        "PATCH",
        "/things/t",
        Some(json!({"attributePayload": {"attributes": {"bad key": "1"}}})),
    )
    .await;
    assert!(m.contains("attributePayload.attributes"), "{m}");
    let both = json!({"thingTypeName": "other", "removeThingType": true});
    fails(&e, 400, "InvalidRequestException", "PATCH", "/things/t", Some(both)).await;
    let many: serde_json::Map<String, Value> = (0..48).map(|i| (format!("k{i}"), json!("v"))).collect();
    let full = json!({"attributePayload": {"attributes": many, "merge": true}});
    patch(full).await;
    let over = json!({"attributePayload": {"attributes": {"m1": "1", "m2": "2", "m3": "3"}, "merge": true}});
    let m = fails(&e, 400, "InvalidRequestException", "PATCH", "/things/t", Some(over)).await;
    assert!(m.contains("at most 50"), "{m}");
    let d = describe().await;
    assert_eq!((d["attributes"].as_object().unwrap().len(), d["version"].clone()), (49, json!(4)));
    // The thing type is set, then removed.
    patch(json!({"thingTypeName": "ty2"})).await;
    assert_eq!(describe().await["thingTypeName"], "ty2");
    patch(json!({"removeThingType": true})).await;
    let d = describe().await;
    assert!(d.get("thingTypeName").is_none(), "{d}");
    assert_eq!(d["version"], 6);
    fails(&e, 404, "ResourceNotFoundException", "PATCH", "/things/ghost", Some(json!({}))).await;

    // Thing groups: the properties are required; the answer is the new version.
    let props = json!({"thingGroupDescription": "first", "attributePayload": {"attributes": {"a": "1"}}});
    ok(&e, "POST", "/thing-groups/g", Some(json!({"thingGroupProperties": props}))).await;
    fails(&e, 400, "InvalidRequestException", "PATCH", "/thing-groups/g", Some(json!({}))).await;
    let merge = json!({"attributePayload": {"attributes": {"b": "2"}, "merge": true}});
    let v = ok(
        &e,
        "PATCH",
        "/thing-groups/g",
        Some(json!({"thingGroupProperties": merge, "expectedVersion": 1})),
    )
    .await;
    assert_eq!(v, json!({"version": 2}));
    let d = ok(&e, "GET", "/thing-groups/g", None).await;
    assert_eq!(d["version"], 2);
    assert_eq!(d["thingGroupProperties"]["thingGroupDescription"], "first");
    assert_eq!(d["thingGroupProperties"]["attributePayload"]["attributes"], json!({"a": "1", "b": "2"}));
    let replace = json!({"thingGroupDescription": "second", "attributePayload": {"attributes": {"c": "3"}}});
    let stale = json!({"thingGroupProperties": replace, "expectedVersion": 1});
    fails(&e, 409, "VersionConflictException", "PATCH", "/thing-groups/g", Some(stale)).await;
    let bad = json!({"thingGroupProperties": {"thingGroupDescription": "tab\there"}});
    fails(&e, 400, "InvalidRequestException", "PATCH", "/thing-groups/g", Some(bad)).await;
    assert_eq!(ok(&e, "GET", "/thing-groups/g", None).await, d);
    let v = ok(&e, "PATCH", "/thing-groups/g", Some(json!({"thingGroupProperties": replace}))).await;
    assert_eq!(v, json!({"version": 3}));
    let d = ok(&e, "GET", "/thing-groups/g", None).await;
    assert_eq!(d["thingGroupProperties"]["thingGroupDescription"], "second");
    assert_eq!(d["thingGroupProperties"]["attributePayload"]["attributes"], json!({"c": "3"}));
    let body = Some(json!({"thingGroupProperties": {}}));
    fails(&e, 404, "ResourceNotFoundException", "PATCH", "/thing-groups/nope", body).await;
}

fn tags(v: &Value) -> Vec<(String, Option<String>)> {
    v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["Key"].as_str().unwrap().to_owned(), t["Value"].as_str().map(str::to_owned)))
        .collect()
}

async fn list_tags(e: &Emu, arn: &str) -> Vec<(String, Option<String>)> {
    tags(&ok(e, "GET", &format!("/tags?resourceArn={arn}"), None).await)
}

fn kv(k: &str, v: &str) -> (String, Option<String>) {
    (k.to_owned(), Some(v.to_owned()))
}

/// A job template keeps the tags of CreateJobTemplate; TagResource and UntagResource change them;
/// they go with the template, and a new template of the same id starts without.
#[tokio::test]
async fn tags_on_job_templates() {
    let e = start(|_| {}).await;
    let arn = format!("{ARN}:jobtemplate/tpl");
    let create = json!({"document": "{}", "description": "d", "tags": [{"Key": "team", "Value": "a"}]});
    ok(&e, "PUT", "/job-templates/tpl", Some(create)).await;
    assert_eq!(list_tags(&e, &arn).await, [kv("team", "a")]);
    ok(&e, "POST", "/tags", Some(json!({"resourceArn": arn, "tags": [{"Key": "env", "Value": "dev"}]})))
        .await;
    ok(&e, "POST", "/untag", Some(json!({"resourceArn": arn, "tagKeys": ["team"]}))).await;
    assert_eq!(list_tags(&e, &arn).await, [kv("env", "dev")]);
    ok(&e, "DELETE", "/job-templates/tpl", None).await;
    fails(&e, 404, "ResourceNotFoundException", "GET", &format!("/tags?resourceArn={arn}"), None).await;
    ok(&e, "PUT", "/job-templates/tpl", Some(json!({"document": "{}", "description": "d"}))).await;
    assert_eq!(list_tags(&e, &arn).await, []);
    // An AWS managed template has no account, so no tags.
    let managed = "arn:aws:iot:us-east-1::jobtemplate/AWS-Reboot:1.0";
    fails(&e, 404, "ResourceNotFoundException", "GET", &format!("/tags?resourceArn={managed}"), None).await;
}

#[tokio::test]
async fn tags_on_jobs_and_groups() {
    let e = start(|_| {}).await;
    let (g_arn, j_arn) = (format!("{ARN}:thinggroup/g"), format!("{ARN}:job/j"));
    let body = json!({"tags": [{"Key": "env", "Value": "prod"}, {"Key": "team"}]});
    ok(&e, "POST", "/thing-groups/g", Some(body)).await;
    assert_eq!(list_tags(&e, &g_arn).await, [kv("env", "prod"), ("team".to_owned(), None)]);
    let job = json!({"targets": [g_arn], "document": "{}", "tags": [{"Key": "k", "Value": "v"}]});
    ok(&e, "PUT", "/jobs/j", Some(job)).await;
    assert_eq!(list_tags(&e, &j_arn).await, [kv("k", "v")]);
    // TagResource adds and replaces; UntagResource removes (unknown keys are ignored).
    let add = json!({"resourceArn": j_arn, "tags": [{"Key": "k", "Value": "w"}, {"Key": "a", "Value": ""}]});
    ok(&e, "POST", "/tags", Some(add)).await;
    assert_eq!(list_tags(&e, &j_arn).await, [kv("a", ""), kv("k", "w")]);
    ok(&e, "POST", "/untag", Some(json!({"resourceArn": j_arn, "tagKeys": ["a", "zzz"]}))).await;
    assert_eq!(list_tags(&e, &j_arn).await, [kv("k", "w")]);
    // 50 tags per resource: one more is a 410 and changes nothing.
    let many: Vec<Value> = (0..49).map(|i| json!({"Key": format!("k{i:02}"), "Value": "v"})).collect();
    ok(&e, "POST", "/tags", Some(json!({"resourceArn": j_arn, "tags": many}))).await;
    assert_eq!(list_tags(&e, &j_arn).await.len(), 50);
    let one_more = Some(json!({"resourceArn": j_arn, "tags": [{"Key": "x", "Value": "v"}]}));
    fails(&e, 410, "LimitExceededException", "POST", "/tags", one_more).await;
    assert_eq!(list_tags(&e, &j_arn).await.len(), 50);
    let replace = json!({"resourceArn": j_arn, "tags": [{"Key": "k", "Value": "again"}]});
    ok(&e, "POST", "/tags", Some(replace)).await;
    // Bad tags: 400, nothing changes.
    let bad = [
        json!([{"Key": "aws:owner", "Value": "v"}]),
        json!([{"Key": "AWS:owner", "Value": "v"}]),
        json!([{"Key": "", "Value": "v"}]),
        json!([{"Key": "k".repeat(129), "Value": "v"}]),
        json!([{"Key": "k", "Value": "v".repeat(257)}]),
        json!([{"Key": "a#b", "Value": "v"}]),
        json!([{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}]),
        json!([{"Value": "no key"}]),
    ];
    for tags in bad {
        let body = Some(json!({"resourceArn": g_arn, "tags": tags}));
        fails(&e, 400, "InvalidRequestException", "POST", "/tags", body).await;
    }
    let aws_key = Some(json!({"tags": [{"Key": "aws:x"}]}));
    fails(&e, 400, "InvalidRequestException", "POST", "/thing-groups/g2", aws_key).await;
    assert_eq!(list_tags(&e, &g_arn).await.len(), 2);
    fails(&e, 400, "InvalidRequestException", "POST", "/tags", Some(json!({"tags": []}))).await;
    fails(&e, 400, "InvalidRequestException", "POST", "/tags", Some(json!({"resourceArn": g_arn}))).await;
    fails(&e, 400, "InvalidRequestException", "POST", "/untag", Some(json!({"resourceArn": g_arn}))).await;
    let body = Some(json!({"resourceArn": g_arn, "tagKeys": ["aws:x"]}));
    fails(&e, 400, "InvalidRequestException", "POST", "/untag", body).await;
    // Resources: things are not taggable, other types are not ARNs of this emulator's resources;
    // unknown or foreign resources are 404.
    ok(&e, "POST", "/things/t", Some(json!({}))).await;
    for arn in [format!("{ARN}:thing/t"), format!("{ARN}:rule/r"), "nope".to_owned()] {
        fails(&e, 400, "InvalidRequestException", "GET", &format!("/tags?resourceArn={arn}"), None).await;
    }
    for arn in [
        format!("{ARN}:job/nope"),
        format!("{ARN}:thinggroup/nope"),
        format!("{ARN}:jobtemplate/nope"),
        "arn:aws:iot:eu-west-1:123456789012:job/j".to_owned(),
    ] {
        let m = fails(&e, 404, "ResourceNotFoundException", "GET", &format!("/tags?resourceArn={arn}"), None)
            .await;
        // A foreign ARN's answer says where this emulator's resources are, as a target's does.
        let foreign = arn.contains("eu-west-1");
        assert_eq!(m.contains("this emulator's resources are in region us-east-1"), foreign, "{m}");
        let body = Some(json!({"resourceArn": arn, "tags": [{"Key": "k"}]}));
        fails(&e, 404, "ResourceNotFoundException", "POST", "/tags", body).await;
    }
    fails(&e, 400, "InvalidRequestException", "GET", "/tags", None).await;
    fails(
        &e,
        400,
        "InvalidRequestException",
        "GET",
        &format!("/tags?resourceArn={g_arn}&nextToken=zz"),
        None,
    )
    .await;
    // A deleted group's tags go with it: a new group of that name starts without.
    ok(&e, "DELETE", "/thing-groups/g", None).await;
    ok(&e, "POST", "/thing-groups/g", Some(json!({}))).await;
    assert_eq!(list_tags(&e, &g_arn).await, []);
}

#[tokio::test]
async fn event_configurations_are_described_and_updated() {
    let e = start(|_| {}).await;
    let d = ok(&e, "GET", "/event-configurations", None).await;
    let c = &d["eventConfigurations"];
    assert_eq!(c.as_object().unwrap().len(), 11);
    assert_eq!(
        (c["JOB"]["Enabled"].as_bool(), c["JOB_EXECUTION"]["Enabled"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(c["THING"]["Enabled"], false);
    assert!(d.get("creationDate").is_none() && d.get("lastModifiedDate").is_none(), "{d}");
    let now = ok(&e, "GET", "/_emulator/clock", None).await["now"].as_u64().unwrap();
    let update = json!({"eventConfigurations": {"JOB": {"Enabled": false}, "THING": {"Enabled": true}}});
    ok(&e, "PATCH", "/event-configurations", Some(update)).await;
    ok(&e, "POST", "/_emulator/clock", Some(json!({"advanceSeconds": 60}))).await;
    // A type without Enabled keeps its switch.
    ok(&e, "PATCH", "/event-configurations", Some(json!({"eventConfigurations": {"JOB": {}}}))).await;
    let d = ok(&e, "GET", "/event-configurations", None).await;
    let c = &d["eventConfigurations"];
    assert_eq!((c["JOB"]["Enabled"].as_bool(), c["THING"]["Enabled"].as_bool()), (Some(false), Some(true)));
    assert_eq!(c["JOB_EXECUTION"]["Enabled"], true);
    assert_eq!((d["creationDate"].as_u64(), d["lastModifiedDate"].as_u64()), (Some(now), Some(now + 60)));
    // An unknown type: 400, nothing changes.
    let bad = Some(json!({"eventConfigurations": {"JOB": {"Enabled": true}, "NOPE": {"Enabled": true}}}));
    fails(&e, 400, "InvalidRequestException", "PATCH", "/event-configurations", bad).await;
    let bad = Some(json!({"eventConfigurations": {"JOB": {"Enabled": "yes"}}}));
    fails(&e, 400, "InvalidRequestException", "PATCH", "/event-configurations", bad).await;
    let d = ok(&e, "GET", "/event-configurations", None).await;
    assert_eq!(d["eventConfigurations"]["JOB"]["Enabled"], false);
}

#[tokio::test]
async fn a_restart_keeps_parents_tags_and_event_configurations() {
    let dir = std::env::temp_dir().join(format!("iot-jobs-groups-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    let first = start(|c| c.state_file = Some(path.clone())).await;
    tree(&first).await;
    let g_arn = format!("{ARN}:thinggroup/mid");
    ok(&first, "POST", "/tags", Some(json!({"resourceArn": g_arn, "tags": [{"Key": "k", "Value": "v"}]})))
        .await;
    let off = json!({"eventConfigurations": {"JOB_EXECUTION": {"Enabled": false}}});
    ok(&first, "PATCH", "/event-configurations", Some(off)).await;
    // The update operations are journalled: t-leaf moves from leaf to other, and is updated,
    // and so is root.
    let moved =
        json!({"thingName": "t-leaf", "thingGroupsToAdd": ["other"], "thingGroupsToRemove": ["leaf"]});
    ok(&first, "PUT", "/thing-groups/updateThingGroupsForThing", Some(moved)).await;
    let attrs = json!({"attributePayload": {"attributes": {"k": "v"}}});
    ok(&first, "PATCH", "/things/t-leaf", Some(attrs)).await;
    let props = json!({"thingGroupProperties": {"thingGroupDescription": "the root"}});
    ok(&first, "PATCH", "/thing-groups/root", Some(props)).await;
    // Without a shutdown (the journal replays), then after a clean one (the snapshot holds it).
    let check = |e: Emu| async move {
        let d = ok(&e, "GET", "/thing-groups/leaf", None).await;
        assert_eq!(names(&d["thingGroupMetadata"], "rootToParentThingGroups", "groupName"), ["root", "mid"]);
        assert_eq!(list_tags(&e, &format!("{ARN}:thinggroup/mid")).await, [kv("k", "v")]);
        let c = ok(&e, "GET", "/event-configurations", None).await;
        assert_eq!(c["eventConfigurations"]["JOB_EXECUTION"]["Enabled"], false);
        assert_eq!(things_in(&e, "other", "").await, ["t-leaf"]);
        assert_eq!(things_in(&e, "leaf", "").await, Vec::<String>::new());
        let t = ok(&e, "GET", "/things/t-leaf", None).await;
        assert_eq!((t["attributes"].clone(), t["version"].clone()), (json!({"k": "v"}), json!(2)));
        let root = ok(&e, "GET", "/thing-groups/root", None).await;
        assert_eq!(root["thingGroupProperties"]["thingGroupDescription"], "the root");
        e
    };
    drop(first);
    let second = check(start(|c| c.state_file = Some(path.clone())).await).await;
    second.server.shutdown().await.unwrap();
    let third = check(start(|c| c.state_file = Some(path.clone())).await).await;
    third.server.shutdown().await.unwrap();
    // A snapshot written before tags and event configurations were kept loads with none.
    // (The meta's last members: cut from the text, as the registry's snapshot keeps its order.)
    let saved = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    let (from, to) = (saved.find(",\"tags\":").unwrap(), saved.find("},\"registry\":").unwrap());
    assert!(saved[from..to].contains("\"event_configurations\":"), "{saved}");
    std::fs::write(&path, format!("{}{}", &saved[..from], &saved[to..])).unwrap();
    let old = start(|c| c.state_file = Some(path.clone())).await;
    ok(&old, "GET", "/thing-groups/leaf", None).await;
    assert_eq!(list_tags(&old, &g_arn).await, []);
    let c = ok(&old, "GET", "/event-configurations", None).await;
    assert_eq!(c["eventConfigurations"]["JOB_EXECUTION"]["Enabled"], true);
    old.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
