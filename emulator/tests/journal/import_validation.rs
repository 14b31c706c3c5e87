//! Imports (and state files) whose registry and payloads disagree, or whose payloads the API
//! would have refused: refused naming the item.

use iot_jobs_emulator::clock::ClockMode;
use serde_json::{Value, json};

use crate::in_process::start;
use crate::reliability_common::{ARN, CONTROL, temp_dir};
use crate::support::DATA;

/// An import (or a state file) whose registry and payloads disagree, or whose payloads the API
/// would have refused, is a 400 naming the item, and changes nothing: the emulator never makes
/// such a state, and loading one would answer ListThings and DescribeThing differently, or let a
/// thing created later join a group it was never added to.
#[tokio::test]
async fn an_import_that_does_not_add_up_is_refused_naming_the_item() {
    let e = start(|_| {}).await;
    e.ok(CONTROL, "POST", "/things/t", json!({"attributePayload": {"attributes": {"k": "v"}}})).await;
    e.ok(CONTROL, "POST", "/thing-groups/g", json!({})).await;
    e.ok(CONTROL, "POST", "/things/t2", json!({})).await;
    e.ok(
        CONTROL,
        "PUT",
        "/thing-groups/addThingToThingGroup",
        json!({"thingGroupName": "g", "thingName": "t"}),
    )
    .await;
    let job = json!({"targets": [format!("{ARN}:thing/t")], "document": "{}", "tags": [{"Key": "k", "Value": "v"}]});
    e.ok(CONTROL, "PUT", "/jobs/j", job).await;
    e.ok(DATA, "POST", "/things/t/jobs/j", json!({"status": "IN_PROGRESS"})).await;
    let (_, exported) = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    // The registry's fields are in a fixed order: it is kept as text, the rest edited as JSON.
    let parts: crate::support::Parts = serde_json::from_slice(&exported).unwrap();
    let good = json!({"format": parts.format, "seq": parts.seq, "clock": parts.clock, "meta": parts.meta,
        "registry": parts.registry.get()});
    let text = |v: &Value| {
        format!(
            r#"{{"format":{},"seq":{},"clock":{},"meta":{},"registry":{}}}"#,
            v["format"],
            v["seq"],
            v["clock"],
            v["meta"],
            v["registry"].as_str().unwrap()
        )
    };
    let (status, body) = e.send(CONTROL, "POST", "/_emulator/state", exported.clone()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let mut before =
        String::from_utf8(e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1).unwrap();
    type Edit = fn(&mut Value);
    // The registry as text, with its first `from` replaced by `to`.
    fn registry(v: &mut Value, from: &str, to: &str) {
        let r = v["registry"].as_str().unwrap();
        assert!(r.contains(from), "{from} is not in {r}");
        v["registry"] = json!(r.replacen(from, to, 1));
    }
    // The first time `field` of the registry (all made at the manual clock's time) one second
    // past the clock.
    fn later(v: &mut Value, field: &str) {
        let clock = v["clock"].as_u64().unwrap();
        registry(v, &format!("\"{field}\":{clock}"), &format!("\"{field}\":{}", clock + 1));
    }
    let cases: &[(Edit, &str)] = &[
        (
            |v| drop(v["meta"]["things"].as_object_mut().unwrap().remove("t")),
            "thing t is in the registry but has no payloads",
        ),
        (
            |v| v["meta"]["things"]["u"] = v["meta"]["things"]["t"].clone(),
            "thing u has payloads but is not in the registry",
        ),
        (
            |v| v["meta"]["jobs"]["j"]["document"] = Value::Null,
            "job j: it needs one of document and documentSource",
        ),
        (
            |v| v["meta"]["jobs"]["j"]["document_source"] = json!("s3://b/k"),
            "job j: documentSource s3://b/k is not an S3 object URL",
        ),
        (|v| v["meta"]["jobs"]["j"]["targets"] = json!([]), "job j: at least one target is required"),
        (
            |v| drop(v["meta"]["jobs"].as_object_mut().unwrap().remove("j")),
            "job j is in the registry but has no payloads",
        ),
        (
            |v| v["meta"]["groups"]["g"]["members"] = json!(["t", "later"]),
            "thing group g has the member later, which is not a thing",
        ),
        (|v| v["meta"]["next_id"] = json!(1), "which next_id 1 has not given out"),
        (|v| v["meta"]["next_id"] = json!(1_u64 << 48), "next_id 281474976710656 is past the last id"),
        (
            |v| v["meta"]["groups"]["g"]["id"] = v["meta"]["things"]["t"]["id"].clone(),
            "thing group g and thing t have one id",
        ),
        (|v| v["meta"]["things"]["t"]["version"] = json!(0), "thing t: version 0"),
        (
            |v| v["meta"]["things"]["t"]["attributes"] = json!({"bad key!": "v"}),
            "thing t: attributePayload.attributes name",
        ),
        (
            |v| v["meta"]["tags"]["job/j"] = json!({"aws:k": "v"}),
            "the tags of job/j: tags.Key \"aws:k\" starts with aws:",
        ),
        (
            |v| {
                let r = v["registry"].as_str().unwrap();
                v["registry"] = json!(r.replacen(
                    r#""id":"j","status":"IN_PROGRESS""#,
                    r#""id":"j","status":"COMPLETED""#,
                    1
                ));
            },
            "execution 1 of job j on thing t is IN_PROGRESS, which a COMPLETED job cannot hold",
        ),
        // 1. The thing groups and things a job's payloads keep are those its targets name, and
        // the things the registry counts as its targets.
        (
            |v| v["meta"]["jobs"]["j"]["groups"] = json!(["g"]),
            "job j: its thing groups {\"g\"} and things {\"t\"} are not those its targets name: groups {}, things {\"t\"}",
        ),
        (
            |v| v["meta"]["jobs"]["j"]["things"] = json!([]),
            "job j: its thing groups {} and things {} are not those its targets name",
        ),
        (
            |v| {
                registry(v, r#""targets":1,"#, r#""targets":0,"#);
                registry(v, r#""pairs":[["t",1,[0,0],true]]"#, r#""pairs":[["t",1,[0,0],false]]"#);
            },
            "job j targets thing t, which the registry does not count among its targets",
        ),
        (
            |v| {
                registry(v, r#""targets":1,"#, r#""targets":2,"#);
                registry(v, r#"[["t",1,[0,0],true]]"#, r#"[["t",1,[0,0],true],["t2",null,[0,0],true]]"#);
            },
            "job j: the registry counts 2 targets, but its targets name 1 things and no thing group",
        ),
        (
            |v| registry(v, r#""targets":1,"#, r#""targets":2,"#),
            "job j counts 2 targets, but 1 of its pairs are marked as targets",
        ),
        // 2. What an ended job cannot hold: a CANCELED job no QUEUED execution, and one canceled
        // with force no IN_PROGRESS one either.
        (
            |v| {
                registry(v, r#""id":"j","status":"IN_PROGRESS""#, r#""id":"j","status":"CANCELED""#);
                registry(
                    v,
                    r#""status":"IN_PROGRESS","forceCanceled""#,
                    r#""status":"QUEUED","forceCanceled""#,
                );
            },
            "execution 1 of job j on thing t is QUEUED, which a CANCELED job cannot hold",
        ),
        (
            |v| {
                registry(v, r#""id":"j","status":"IN_PROGRESS""#, r#""id":"j","status":"CANCELED""#);
                registry(v, r#""forceCanceled":false,"targets""#, r#""forceCanceled":true,"targets""#);
            },
            "execution 1 of job j on thing t is IN_PROGRESS, which a CANCELED job with forceCanceled cannot hold",
        ),
        // 3. ARNs of another account or region.
        (
            |v| v["meta"]["jobs"]["j"]["targets"] = json!(["arn:aws:iot:us-east-1:999999999999:thing/t"]),
            "job j: arn:aws:iot:us-east-1:999999999999:thing/t does not exist: this emulator's resources are in region us-east-1, account 123456789012",
        ),
        (
            |v| v["meta"]["jobs"]["j"]["targets"] = json!(["arn:aws:iot:eu-west-1:123456789012:thing/t"]),
            "job j: arn:aws:iot:eu-west-1:123456789012:thing/t does not exist",
        ),
        // 4. More than the API's bounds.
        (
            |v| v["meta"]["jobs"]["j"]["targets"] = json!(vec![format!("{ARN}:thing/t"); 101]),
            "job j: a job may have at most 100 targets",
        ),
        (|v| v["meta"]["jobs"]["j"]["comment"] = json!("c".repeat(100_000)), "job j: comment"),
        (
            |v| {
                let p: serde_json::Map<String, Value> =
                    (0..51).map(|i| (format!("p{i}"), json!("v"))).collect();
                v["meta"]["jobs"]["j"]["document_parameters"] = Value::Object(p);
            },
            "job j: documentParameters",
        ),
        (
            |v| v["meta"]["jobs"]["j"]["destination_package_versions"] = json!(["not an arn"]),
            "job j: destinationPackageVersions",
        ),
        // 5. A template ARN that is none of this emulator's; ids of another form.
        (
            |v| v["meta"]["jobs"]["j"]["job_template_arn"] = json!(format!("{ARN}:thing/t")),
            "is not a job template ARN",
        ),
        (
            |v| {
                v["meta"]["jobs"]["j"]["job_template_arn"] =
                    json!("arn:aws:iot:us-east-1::jobtemplate/Nope:1.0")
            },
            "names no AWS managed template the emulator has",
        ),
        (
            |v| {
                v["meta"]["jobs"]["j"]["job_template_arn"] =
                    json!("arn:aws:iot:us-east-1:999999999999:jobtemplate/tpl")
            },
            "job j: arn:aws:iot:us-east-1:999999999999:jobtemplate/tpl does not exist: this emulator's resources are in region us-east-1",
        ),
        (
            |v| v["meta"]["things"]["t"]["id"] = json!("my-thing-id"),
            "thing t has the id \"my-thing-id\", which is not an id the emulator makes",
        ),
        (
            |v| v["meta"]["groups"]["g"]["id"] = json!("00000000-0000-4000-8000-00000000000A"),
            "thing group g has the id \"00000000-0000-4000-8000-00000000000A\", which is not an id the emulator makes",
        ),
        (
            |v| v["meta"]["things"]["t"]["id"] = json!("00000000-0000-4000-8000-000000000000"),
            "which next_id 3 has not given out",
        ),
        // 6. Version 0, numbers and versions past i64::MAX.
        (
            |v| registry(v, r#""number":1,"version":2,"#, r#""number":1,"version":0,"#),
            "execution 1 of job j on thing t has version 0: execution numbers and versions start at 1",
        ),
        (
            |v| registry(v, r#""number":1,"version":2,"#, r#""number":0,"version":2,"#),
            "execution 0 of job j on thing t has version 2",
        ),
        (
            |v| registry(v, r#""number":1,"version":2,"#, r#""number":1,"version":9223372036854775808,"#),
            "expectedVersion must be between 0 and 9223372036854775807",
        ),
        (
            |v| registry(v, r#""number":1,"version":2,"#, r#""number":9223372036854775808,"version":2,"#),
            "executionNumber must be between 0 and 9223372036854775807",
        ),
        (
            |v| v["meta"]["things"]["t"]["version"] = json!(u64::MAX),
            "thing t: version 18446744073709551615: versions go from 1 to 9223372036854775807",
        ),
        // 7. Tags of resources that do not exist.
        (|v| v["meta"]["tags"]["job/nope"] = json!({"k": "v"}), "the tags of job/nope: no such resource"),
        (|v| v["meta"]["tags"]["thing/t"] = json!({"k": "v"}), "the tags of thing/t: no such resource"),
        (
            |v| v["meta"]["tags"]["thinggroup/nope"] = json!({"k": "v"}),
            "the tags of thinggroup/nope: no such resource",
        ),
        // 8. Times after the manual clock.
        (|v| later(v, "createdAt"), "earlier than the last change it holds"),
        (|v| later(v, "createdAt"), "the createdAt of job j)"),
        (|v| later(v, "queuedAt"), "the queuedAt of execution 1 of job j on thing t)"),
        (|v| later(v, "startedAt"), "the startedAt of execution 1 of job j on thing t)"),
        (
            |v| {
                let clock = v["clock"].as_u64().unwrap();
                registry(v, r#""completedAt":null"#, &format!(r#""completedAt":{}"#, clock + 1));
            },
            "the completedAt of job j)",
        ),
        (
            |v| v["meta"]["groups"]["g"]["created_at"] = json!(v["clock"].as_u64().unwrap() + 1),
            "the creation of thing group g)",
        ),
        // 9. A pair's `highest` below its executions' numbers.
        (
            |v| registry(v, r#""pairs":[["t",1,"#, r#""pairs":[["t",null,"#),
            "execution 1 of job j on thing t breaks the numbering (the pair's highest is 0)",
        ),
        // 10. A thing-group member listed twice.
        (
            |v| v["meta"]["groups"]["g"]["members"] = json!(["t", "t"]),
            "thing group g: it lists the member t twice",
        ),
    ];
    let mut failed = Vec::new();
    for (edit, words) in cases {
        let mut bad = good.clone();
        edit(&mut bad);
        assert_ne!(bad, good, "{words}: the edit changed nothing");
        let (status, body) = e.send(CONTROL, "POST", "/_emulator/state", text(&bad).into_bytes()).await;
        if status == 200 {
            failed.push(format!("{words}: accepted"));
            // Back to the state before, for the next case.
            let (status, _) = e.send(CONTROL, "POST", "/_emulator/state", text(&good).into_bytes()).await;
            assert_eq!(status, 200);
            before =
                String::from_utf8(e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1).unwrap();
            continue;
        }
        let body: Value = serde_json::from_slice(&body).unwrap();
        let refused = (status, body["__type"].as_str()) == (400, Some("InvalidRequestException"))
            && body["message"].as_str().unwrap_or_default().contains(words);
        if !refused {
            failed.push(format!("{words}: {status} {body}"));
        }
        let after =
            String::from_utf8(e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1).unwrap();
        assert!(after == before, "{words}: the state changed");
    }
    assert!(failed.is_empty(), "not refused as expected:\n{}", failed.join("\n"));
    // An item listed twice in its map (JSON allows it; a map would keep the last one).
    for (kind, name, what) in
        [("things", "t", "thing t"), ("groups", "g", "thing group g"), ("jobs", "j", "job j")]
    {
        let item = good["meta"][kind][name].to_string();
        let once = format!(r#""{kind}":{{"{name}":{item}"#);
        let full = text(&good);
        assert!(full.contains(&once), "{kind}: {full}");
        let twice = full.replacen(&once, &format!(r#""{kind}":{{"{name}":{item},"{name}":{item}"#), 1);
        let (status, body) = e.send(CONTROL, "POST", "/_emulator/state", twice.into_bytes()).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{what}: {body}");
        assert!(body.contains(&format!("{what} is listed twice")), "{body}");
        let after =
            String::from_utf8(e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await.1).unwrap();
        assert!(after == before, "{what}: the state changed");
    }
    // A CANCELED job keeps an IN_PROGRESS execution when canceled without force: that imports.
    e.ok(CONTROL, "PUT", "/jobs/j/cancel", json!({})).await;
    let (_, canceled) = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    assert!(String::from_utf8_lossy(&canceled).contains(r#""status":"IN_PROGRESS","forceCanceled":false"#));
    let (status, body) = e.send(CONTROL, "POST", "/_emulator/state", canceled).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // The same at start, from a state file.
    let dir = temp_dir("bad-snapshot");
    let path = dir.join("state.json");
    let mut bad = good.clone();
    bad["meta"]["groups"]["g"]["members"] = json!(["t", "later"]);
    std::fs::write(&path, text(&bad)).unwrap();
    let config = iot_jobs_emulator::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        clock: ClockMode::Manual,
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let Err(err) = iot_jobs_emulator::start(config).await else { panic!("started") };
    assert!(err.to_string().contains("thing group g has the member later, which is not a thing"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
