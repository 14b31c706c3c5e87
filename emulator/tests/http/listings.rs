//! The listings the emulator orders itself (ListThings, ListThingGroups, ListThingsInThingGroup
//! and ListThingGroupsForThing by name, ListJobs and ListJobTemplates by creation time and id)
//! go on after the last item of the page before: what
//! was there throughout is listed once, nothing is skipped, whatever is created or deleted
//! between the pages. (With a token that counted items, a deletion before it skipped one and a
//! creation before it listed one twice.)

use super::*;

/// One page of `maxResults` 2 of the listing at `path`: the `name` of each of its `items` (the
/// item itself for an empty `name`), and the `nextToken`.
async fn page(
    e: &Emu,
    path: &str,
    items: &str,
    name: &str,
    token: Option<&str>,
) -> (Vec<String>, Option<String>) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = match token {
        Some(t) => format!("{path}{sep}maxResults=2&nextToken={t}"),
        None => format!("{path}{sep}maxResults=2"),
    };
    let got = e.ctl("GET", &url, None).await.ok();
    let name_of = |i: &Value| if name.is_empty() { i.as_str() } else { i[name].as_str() }.unwrap().to_owned();
    let names = got[items].as_array().unwrap().iter().map(name_of).collect();
    (names, got.get("nextToken").map(|t| t.as_str().unwrap().to_owned()))
}

/// The pages after `token`, to the end.
async fn rest(e: &Emu, path: &str, items: &str, name: &str, mut token: Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(t) = token {
        let (names, next) = page(e, path, items, name, Some(&t)).await;
        out.extend(names);
        token = next;
    }
    out
}

#[tokio::test]
async fn listings_by_name_go_on_after_the_last_name_whatever_changes_between_pages() {
    let e = emu().await;
    for t in ["t1", "t2", "t3", "t4", "t5"] {
        e.thing(t).await;
        e.ctl("POST", &format!("/thing-groups/g{t}"), Some(json!({}))).await.ok();
    }
    for (path, items, name, prefix) in [
        ("/things", "things", "thingName", "/things/"),
        ("/thing-groups", "thingGroups", "groupName", "/thing-groups/"),
    ] {
        let p = if prefix == "/things/" { "" } else { "g" };
        let (first, token) = page(&e, path, items, name, None).await;
        assert_eq!(first, [format!("{p}t1"), format!("{p}t2")]);
        // Two deleted and one created before the token's place, one created after it.
        for gone in ["t1", "t2"] {
            e.ctl("DELETE", &format!("{prefix}{p}{gone}"), None).await.ok();
        }
        for new in ["t0", "t35"] {
            e.ctl("POST", &format!("{prefix}{p}{new}"), Some(json!({}))).await.ok();
        }
        let want: Vec<String> = ["t3", "t35", "t4", "t5"].iter().map(|t| format!("{p}{t}")).collect();
        assert_eq!(rest(&e, path, items, name, token).await, want, "{path}");
    }
}

#[tokio::test]
async fn memberships_go_on_after_the_last_name_whatever_changes_between_pages() {
    let e = emu().await;
    e.ctl("POST", "/thing-groups/p", Some(json!({}))).await.ok();
    e.ctl("POST", "/thing-groups/c", Some(json!({"parentGroupName": "p"}))).await.ok();
    for (i, m) in ["m1", "m2", "m3", "m4", "m5", "m6"].into_iter().enumerate() {
        e.thing(m).await;
        e.join(if i % 2 == 0 { "p" } else { "c" }, m).await;
    }
    // The things of p and of its child c, in name order.
    let path = "/thing-groups/p/things?recursive=true";
    let (first, token) = page(&e, path, "things", "", None).await;
    assert_eq!(first, ["m1", "m2"]);
    e.leave("p", "m1").await;
    e.leave("c", "m2").await;
    assert_eq!(rest(&e, path, "things", "", token).await, ["m3", "m4", "m5", "m6"]);
    // The groups of a thing, in name order.
    for r in ["r1", "r2", "r3", "r4", "r5"] {
        e.ctl("POST", &format!("/thing-groups/{r}"), Some(json!({}))).await.ok();
        e.join(r, "m6").await;
    }
    let path = "/things/m6/thing-groups";
    let (first, token) = page(&e, path, "thingGroups", "groupName", None).await;
    assert_eq!(first, ["c", "r1"]);
    e.leave("c", "m6").await;
    e.leave("r1", "m6").await;
    assert_eq!(rest(&e, path, "thingGroups", "groupName", token).await, ["r2", "r3", "r4", "r5"]);
}

#[tokio::test]
async fn listings_by_creation_go_on_after_the_last_item_whatever_is_created_between_pages() {
    let e = emu().await;
    e.thing("t").await;
    for j in ["j1", "j2", "j3", "j4"] {
        e.job(j, &["t"], json!({})).await.ok();
        e.ctl("PUT", &format!("/job-templates/{j}"), Some(json!({"description": j, "document": "{}"})))
            .await
            .ok();
    }
    let listings = [("/jobs", "jobs", "jobId"), ("/job-templates", "jobTemplates", "jobTemplateId")];
    let mut tokens = Vec::new();
    for (path, items, name) in listings {
        let (first, token) = page(&e, path, items, name, None).await;
        assert_eq!(first, ["j1", "j2"], "{path}");
        tokens.push(token);
    }
    // Created in the same second as the first pages', with an id before their last: before the
    // tokens' place. A second later, with an id before all of them: after it.
    let create = |path: &str, id: &str| {
        let body = json!({"targets": [format!("{ARN}:thing/t")], "document": "{}", "description": id});
        (format!("{path}/{id}"), body)
    };
    for (path, _, _) in listings {
        let (at, body) = create(path, "a1");
        e.ctl("PUT", &at, Some(body)).await.ok();
    }
    e.advance(1).await;
    for (path, _, _) in listings {
        let (at, body) = create(path, "a2");
        e.ctl("PUT", &at, Some(body)).await.ok();
    }
    for ((path, items, name), token) in listings.into_iter().zip(tokens) {
        assert_eq!(rest(&e, path, items, name, token).await, ["j3", "j4", "a2"], "{path}");
    }
    // A token whose key is not a creation time and id is refused, not read as another place.
    e.ctl("GET", "/jobs?nextToken=azz", None).await.err(400, "InvalidRequestException");
    e.ctl("GET", "/job-templates?nextToken=o2", None).await.err(400, "InvalidRequestException");
}

/// ListJobs with filters pages over the jobs that pass them: a token follows a page exactly
/// when more of them remain, however many others come after. A deleted job leaves the listing
/// when its deletion completes, and a job created again under its id is listed once, at its new
/// place.
#[tokio::test]
async fn list_jobs_pages_over_what_its_filters_pass_and_follows_deletions() {
    let e = emu().await;
    e.thing("t").await;
    for j in ["j1", "j2", "j3", "j4", "j5"] {
        e.job(j, &["t"], json!({})).await.ok();
    }
    for j in ["j1", "j3"] {
        e.ctl("PUT", &format!("/jobs/{j}/cancel"), Some(json!({}))).await.ok();
    }
    let (canceled, token) = page(&e, "/jobs?status=CANCELED", "jobs", "jobId", None).await;
    assert_eq!((canceled, token), (vec!["j1".to_owned(), "j3".to_owned()], None));
    let (first, token) = page(&e, "/jobs?status=IN_PROGRESS", "jobs", "jobId", None).await;
    assert_eq!(first, ["j2", "j4"]);
    assert_eq!(rest(&e, "/jobs?status=IN_PROGRESS", "jobs", "jobId", token).await, ["j5"]);
    e.job("k1", &["t"], json!({"targetSelection": "CONTINUOUS"})).await.ok();
    let (continuous, token) = page(&e, "/jobs?targetSelection=CONTINUOUS", "jobs", "jobId", None).await;
    assert_eq!((continuous, token), (vec!["k1".to_owned()], None));
    let (snapshot, _) = page(&e, "/jobs?targetSelection=SNAPSHOT", "jobs", "jobId", None).await;
    assert_eq!(snapshot, ["j1", "j2"]);
    e.job("n1", &["t"], json!({"namespaceId": "ns"})).await.ok();
    let (in_ns, token) = page(&e, "/jobs?namespaceId=ns", "jobs", "jobId", None).await;
    assert_eq!((in_ns, token), (vec!["n1".to_owned()], None));

    e.ctl("DELETE", "/jobs/j2?force=true", None).await.ok();
    e.advance(1).await;
    e.job("j2", &["t"], json!({})).await.ok();
    let (first, token) = page(&e, "/jobs", "jobs", "jobId", None).await;
    assert_eq!(first, ["j1", "j3"]);
    assert_eq!(rest(&e, "/jobs", "jobs", "jobId", token).await, ["j4", "j5", "k1", "n1", "j2"]);
}

/// ListJobs with `thingGroupName` lists the jobs whose targets name the group, in creation order
/// (then id), in full pages: through other filters, a deletion, and a group no job names or that
/// does not exist (an empty page, no token).
#[tokio::test]
async fn list_jobs_by_thing_group_lists_the_jobs_naming_it_in_order() {
    let e = emu().await;
    e.thing("t").await;
    for g in ["g", "h", "unused"] {
        e.ctl("POST", &format!("/thing-groups/{g}"), Some(json!({}))).await.ok();
        let add = json!({"thingGroupName": g, "thingName": "t"});
        e.ctl("PUT", "/thing-groups/addThingToThingGroup", Some(add)).await.ok();
    }
    for (j, targets) in [
        ("e", &["group:g"][..]),
        ("b", &["t"]),
        ("c", &["group:g", "group:h"]),
        ("d", &["group:h"]),
        ("a", &["t", "group:g"]),
    ] {
        e.job(j, targets, json!({})).await.ok();
        e.advance(1).await;
    }
    let (first, token) = page(&e, "/jobs?thingGroupName=g", "jobs", "jobId", None).await;
    assert_eq!(first, ["e", "c"]);
    assert_eq!(rest(&e, "/jobs?thingGroupName=g", "jobs", "jobId", token).await, ["a"]);
    let (h, token) = page(&e, "/jobs?thingGroupName=h", "jobs", "jobId", None).await;
    assert_eq!((h, token), (vec!["c".to_owned(), "d".to_owned()], None));
    for none in ["unused", "nosuchgroup"] {
        let (jobs, token) = page(&e, &format!("/jobs?thingGroupName={none}"), "jobs", "jobId", None).await;
        assert_eq!((jobs, token), (vec![], None), "{none}");
    }
    e.ctl("PUT", "/jobs/c/cancel", Some(json!({}))).await.ok();
    let (running, token) = page(&e, "/jobs?thingGroupName=g&status=IN_PROGRESS", "jobs", "jobId", None).await;
    assert_eq!((running, token), (vec!["e".to_owned(), "a".to_owned()], None));
    e.ctl("DELETE", "/jobs/e?force=true", None).await.ok();
    e.advance(1).await;
    let (g, token) = page(&e, "/jobs?thingGroupName=g", "jobs", "jobId", None).await;
    assert_eq!((g, token), (vec!["c".to_owned(), "a".to_owned()], None));
}

/// ListJobExecutionsForThing filtered by namespace (a filter the core's listing does not have)
/// goes on from the execution after the page's last: a deletion before the token's place skips
/// nothing, and the last page has no token though executions the filter does not pass follow.
/// (With a token that counted the filtered executions, the deletion skipped one.)
#[tokio::test]
async fn executions_of_a_thing_filtered_go_on_after_the_last_whatever_is_deleted_before() {
    let e = emu().await;
    e.thing("t").await;
    for j in ["a", "b", "x", "c", "d", "f", "y"] {
        let ns = if j < "x" { json!({"namespaceId": "ns"}) } else { json!({}) };
        e.job(j, &["t"], ns).await.ok();
    }
    let (path, items) = ("/things/t/jobs?namespaceId=ns", "executionSummaries");
    let (first, token) = page(&e, path, items, "jobId", None).await;
    assert_eq!(first, ["a", "b"]);
    e.ctl("DELETE", "/jobs/a?force=true&namespaceId=ns", None).await.ok();
    let (second, token) = page(&e, path, items, "jobId", token.as_deref()).await;
    assert_eq!(second, ["c", "d"]);
    let (last, token) = page(&e, path, items, "jobId", token.as_deref()).await;
    assert_eq!((last, token), (vec!["f".to_owned()], None));
    let (only, token) = page(&e, "/things/t/jobs?jobId=c", items, "jobId", None).await;
    assert_eq!((only, token), (vec!["c".to_owned()], None));
}

/// ListJobs with `thingGroupId` lists the jobs naming the group with that id (with
/// `thingGroupName` too, only when both name the same group); an id no group has lists nothing.
/// A malformed `thingGroupId` or `thingGroupName` is a 400 naming the field.
#[tokio::test]
async fn list_jobs_by_thing_group_id_lists_the_jobs_naming_that_group() {
    let e = emu().await;
    e.thing("t").await;
    let mut ids = Vec::new();
    for g in ["g", "h"] {
        let made = e.ctl("POST", &format!("/thing-groups/{g}"), Some(json!({}))).await.ok();
        ids.push(made["thingGroupId"].as_str().unwrap().to_owned());
        let add = json!({"thingGroupName": g, "thingName": "t"});
        e.ctl("PUT", "/thing-groups/addThingToThingGroup", Some(add)).await.ok();
    }
    for (j, targets) in [("a", &["group:g"][..]), ("b", &["group:h"]), ("c", &["t"])] {
        e.job(j, targets, json!({})).await.ok();
        e.advance(1).await;
    }
    let (g, h) = (&ids[0], &ids[1]);
    let (by_g, token) = page(&e, &format!("/jobs?thingGroupId={g}"), "jobs", "jobId", None).await;
    assert_eq!((by_g, token), (vec!["a".to_owned()], None));
    let (by_h, _) = page(&e, &format!("/jobs?thingGroupId={h}"), "jobs", "jobId", None).await;
    assert_eq!(by_h, ["b"]);
    let (both, _) =
        page(&e, &format!("/jobs?thingGroupId={h}&thingGroupName=h"), "jobs", "jobId", None).await;
    assert_eq!(both, ["b"]);
    for path in
        [format!("/jobs?thingGroupId={h}&thingGroupName=g"), "/jobs?thingGroupId=no-such-id".to_owned()]
    {
        let (jobs, token) = page(&e, &path, "jobs", "jobId", None).await;
        assert_eq!((jobs, token), (vec![], None), "{path}");
    }
    for (path, field) in [
        ("/jobs?thingGroupId=bad_id", "thingGroupId"),
        ("/jobs?thingGroupId=", "thingGroupId"),
        ("/jobs?thingGroupName=bad%20name", "thingGroupName"),
    ] {
        let refused = e.raw(None, "GET", path, None).await;
        refused.err(400, "InvalidRequestException");
        assert!(refused.message().starts_with(field), "{path}: {}", refused.message());
    }
    let long = "x".repeat(129);
    let refused = e.raw(None, "GET", &format!("/jobs?thingGroupId={long}"), None).await;
    refused.err(400, "InvalidRequestException");
    assert!(refused.message().contains("1 to 128"), "{}", refused.message());
}

/// ListThings with `usePrefixAttributeValue=true` lists the things whose attribute value starts
/// with `attributeValue` (without it, only equal values); malformed filters, and an
/// `attributeValue` without `attributeName`, are a 400 naming the field, and change nothing.
#[tokio::test]
async fn list_things_matches_attribute_value_prefixes_and_checks_its_filters() {
    let e = emu().await;
    for (t, v) in [("a", "red"), ("b", "reddish"), ("c", "blue")] {
        let body = json!({"attributePayload": {"attributes": {"color": v}}});
        e.ctl("POST", &format!("/things/{t}"), Some(body)).await.ok();
    }
    let names = |got: Value| -> Vec<String> {
        got["things"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["thingName"].as_str().unwrap().to_owned())
            .collect()
    };
    let exact = e.ctl("GET", "/things?attributeName=color&attributeValue=red", None).await.ok();
    assert_eq!(names(exact), ["a"]);
    let path = "/things?attributeName=color&attributeValue=red&usePrefixAttributeValue=true";
    assert_eq!(names(e.ctl("GET", path, None).await.ok()), ["a", "b"]);
    let off = "/things?attributeName=color&attributeValue=re&usePrefixAttributeValue=false";
    assert_eq!(names(e.ctl("GET", off, None).await.ok()), Vec::<String>::new());
    let long_value = "v".repeat(801);
    for (path, field) in [
        (
            "/things?attributeName=color&attributeValue=red&usePrefixAttributeValue=yes".to_owned(),
            "usePrefixAttributeValue",
        ),
        ("/things?attributeName=".to_owned(), "attributeName"),
        ("/things?attributeName=a%20b".to_owned(), "attributeName"),
        (format!("/things?attributeName={}", "n".repeat(129)), "attributeName"),
        (format!("/things?attributeName=color&attributeValue={long_value}"), "attributeValue"),
        ("/things?attributeName=color&attributeValue=a%20b".to_owned(), "attributeValue"),
        // A value alone filters nothing: it is not taken as a filter of every attribute.
        ("/things?attributeValue=red".to_owned(), "attributeValue \"red\" needs attributeName"),
        ("/things?attributeValue=red&usePrefixAttributeValue=true".to_owned(), "attributeValue"),
        ("/things?thingTypeName=".to_owned(), "thingTypeName"),
        ("/things?thingTypeName=a%2Fb".to_owned(), "thingTypeName"),
    ] {
        let refused = e.raw(None, "GET", &path, None).await;
        refused.err(400, "InvalidRequestException");
        assert!(refused.message().starts_with(field), "{path}: {}", refused.message());
    }
    assert_eq!(names(e.ctl("GET", "/things", None).await.ok()), ["a", "b", "c"]);
}

/// A page token is bound to its listing, its resource and its filters: on another listing, on
/// another job's or thing's listing or with other filters it is a 400 naming the listing (and
/// the listing it came from still goes on with it); `maxResults` may change between pages.
#[tokio::test]
async fn page_tokens_work_only_where_they_were_given() {
    let e = emu().await;
    for t in ["t0", "t1", "t2"] {
        e.thing(t).await;
    }
    for j in ["j1", "j2", "j3"] {
        e.job(j, &["t0", "t1", "t2"], json!({})).await.ok();
        e.advance(1).await;
    }
    let (_, jobs) = page(&e, "/jobs", "jobs", "jobId", None).await;
    let (_, execs) = page(&e, "/jobs/j1/things", "executionSummaries", "thingArn", None).await;
    let (_, things) = page(&e, "/things", "things", "thingName", None).await;
    let (_, filtered) = page(&e, "/jobs?status=IN_PROGRESS", "jobs", "jobId", None).await;
    let (jobs, execs, things, filtered) = (jobs.unwrap(), execs.unwrap(), things.unwrap(), filtered.unwrap());
    for (path, listing) in [
        (format!("/things?nextToken={jobs}"), "ListThings"),
        (format!("/jobs?nextToken={things}"), "ListJobs"),
        (format!("/jobs/j2/things?nextToken={execs}"), "ListJobExecutionsForJob"),
        (format!("/jobs?nextToken={filtered}"), "ListJobs"),
        (format!("/jobs?status=QUEUED&nextToken={filtered}"), "ListJobs"),
        (format!("/jobs?status=IN_PROGRESS&nextToken={jobs}"), "ListJobs"),
    ] {
        let refused = e.raw(None, "GET", &path, None).await;
        refused.err(400, "InvalidRequestException");
        assert_eq!(refused.message(), format!("nextToken is not valid for {listing}"), "{path}");
    }
    assert_eq!(rest(&e, "/jobs", "jobs", "jobId", Some(jobs.clone())).await, ["j3"]);
    let more = e.ctl("GET", &format!("/jobs?maxResults=5&nextToken={jobs}"), None).await.ok();
    assert_eq!(more["jobs"].as_array().unwrap().len(), 1, "{more}");
    assert_eq!(rest(&e, "/jobs/j1/things", "executionSummaries", "thingArn", Some(execs)).await.len(), 1);
    assert_eq!(rest(&e, "/jobs?status=IN_PROGRESS", "jobs", "jobId", Some(filtered)).await, ["j3"]);
}
