//! The S3 objects a test registers (`PUT /_emulator/objects/...`) are state: journalled and
//! replayed, in the snapshot and its export and import; a state of format 3 or earlier, whose
//! `documentSource` jobs had no document, still loads.

use serde_json::{Value, json};

use crate::in_process::{Emu, start};
use crate::reliability_common::{ARN, CONTROL, temp_dir};
use crate::support::{DATA, edited};

const DOC: &str = r#"{"op":"fw","v":"1.2"}"#;
const SOURCE: &str = "https://s3.amazonaws.com/bucket/dir/doc.json";

/// An emulator with the object, thing `t`, job `j` of `documentSource` and template `tpl` of
/// it too, and its exported state.
async fn seeded() -> (Emu, Vec<u8>) {
    let e = start(|_| {}).await;
    e.send(CONTROL, "PUT", "/_emulator/objects/bucket/dir/doc.json", DOC.into()).await;
    e.ok(CONTROL, "POST", "/things/t", json!({})).await;
    let job = json!({"targets": [format!("{ARN}:thing/t")], "documentSource": SOURCE});
    e.ok(CONTROL, "PUT", "/jobs/j", job).await;
    e.ok(CONTROL, "PUT", "/job-templates/tpl", json!({"description": "d", "documentSource": SOURCE})).await;
    let (_, exported) = e.send(CONTROL, "GET", "/_emulator/state", Vec::new()).await;
    (e, exported)
}

/// A crash after PUT object and a CreateJob that read it: the restart replays both records, so
/// the object is listed and the job has its document.
#[tokio::test]
async fn a_restart_replays_the_object_and_the_document_read_from_it() {
    let dir = temp_dir("objects-replay");
    let path = dir.join("state.json");
    let first = start(|c| c.state_file = Some(path.clone())).await;
    let (status, body) =
        first.send(CONTROL, "PUT", "/_emulator/objects/bucket/dir/doc.json", DOC.into()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    first.ok(CONTROL, "POST", "/things/t", json!({})).await;
    let job = json!({"targets": [format!("{ARN}:thing/t")], "documentSource": SOURCE});
    first.ok(CONTROL, "PUT", "/jobs/j", job).await;
    drop(first); // gone without a checkpoint, as after a crash

    let second = start(|c| c.state_file = Some(path.clone())).await;
    let listed = second.ok(CONTROL, "GET", "/_emulator/objects", json!({})).await;
    assert_eq!(listed, json!({"objects": [{"bucket": "bucket", "key": "dir/doc.json", "size": DOC.len()}]}));
    assert_eq!(second.ok(CONTROL, "GET", "/jobs/j/job-document", json!({})).await, json!({"document": DOC}));
    assert_eq!(second.ok(CONTROL, "GET", "/jobs/j", json!({})).await["documentSource"], SOURCE);
    // A clear is a change too; after a clean stop the snapshot holds what is left.
    second.ok(CONTROL, "DELETE", "/_emulator/objects", json!({})).await;
    second.server.shutdown().await.unwrap();
    let third = start(|c| c.state_file = Some(path.clone())).await;
    assert_eq!(third.ok(CONTROL, "GET", "/_emulator/objects", json!({})).await, json!({"objects": []}));
    let next = third.ok(DATA, "PUT", "/things/t/jobs/$next", json!({})).await;
    assert_eq!(next["execution"]["jobDocument"], DOC);
    third.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `GET /_emulator/state` holds the objects (`meta.objects`, by `BUCKET/KEY`) and another
/// emulator's `POST` loads them; an object the API would refuse is refused by the import too.
#[tokio::test]
async fn the_objects_export_and_import_with_the_state() {
    let (first, exported) = seeded().await;
    let v: Value = serde_json::from_slice(&exported).unwrap();
    assert_eq!(v["format"], 4);
    assert_eq!(v["meta"]["objects"], json!({"bucket/dir/doc.json": DOC}));
    assert_eq!(
        (v["meta"]["jobs"]["j"]["document"].as_str(), v["meta"]["jobs"]["j"]["document_source"].as_str()),
        (Some(DOC), Some(SOURCE))
    );

    let second = start(|_| {}).await;
    let (status, body) = second.send(CONTROL, "POST", "/_emulator/state", exported.clone()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let listed = second.ok(CONTROL, "GET", "/_emulator/objects", json!({})).await;
    assert_eq!(listed["objects"][0]["key"], "dir/doc.json");
    assert_eq!(second.ok(CONTROL, "GET", "/jobs/j/job-document", json!({})).await, json!({"document": DOC}));
    // A new job reads the imported object.
    let job = json!({"targets": [format!("{ARN}:thing/t")], "documentSource": SOURCE});
    second.ok(CONTROL, "PUT", "/jobs/k", job).await;

    let edit = |f: &dyn Fn(&mut Value)| edited(&exported, f);
    for (bad, says) in [
        (edit(&|v| v["meta"]["objects"] = json!({"Bucket/k": "{}"})), "S3 object Bucket/k"),
        (edit(&|v| v["meta"]["objects"] = json!({"nokey": "{}"})), "is not BUCKET/KEY"),
        (edit(&|v| v["meta"]["objects"] = json!({"b-1/k": "x".repeat(32_769)})), "32769 characters long"),
        (
            edit(&|v| v["meta"]["jobs"]["j"]["document"] = Value::Null),
            "documentSource without the document read from it",
        ),
        (
            edit(&|v| v["meta"]["jobs"]["j"]["document_source"] = json!("s3://b/k")),
            "documentSource s3://b/k is not an S3 object URL",
        ),
    ] {
        let (status, body) = second.send(CONTROL, "POST", "/_emulator/state", bad).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{body}");
        assert!(body.contains(says), "{says}: {body}");
    }
    first.server.shutdown().await.unwrap();
    second.server.shutdown().await.unwrap();
}

/// A state of format 3 (before objects): a `documentSource` job without a document loads as it
/// was, and so does a template, which reads its source when a job is created from it.
#[tokio::test]
async fn a_format_3_state_with_unread_sources_loads() {
    let (first, exported) = seeded().await;
    let old = edited(&exported, &|v| {
        v["format"] = json!(3);
        v["meta"].as_object_mut().unwrap().remove("objects");
        v["meta"]["jobs"]["j"]["document"] = Value::Null;
        v["meta"]["templates"]["tpl"]["document"] = Value::Null;
    });
    let second = start(|_| {}).await;
    let (status, body) = second.send(CONTROL, "POST", "/_emulator/state", old).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(second.ok(CONTROL, "GET", "/_emulator/objects", json!({})).await, json!({"objects": []}));
    assert_eq!(second.ok(CONTROL, "GET", "/jobs/j", json!({})).await["documentSource"], SOURCE);
    // The template reads its source now: not registered, a 400 naming the call; then it is.
    let from =
        json!({"targets": [format!("{ARN}:thing/t")], "jobTemplateArn": format!("{ARN}:jobtemplate/tpl")});
    let (status, body) = second.send(CONTROL, "PUT", "/jobs/k", from.to_string().into_bytes()).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("PUT /_emulator/objects/bucket/dir/doc.json"));
    second.send(CONTROL, "PUT", "/_emulator/objects/bucket/dir/doc.json", DOC.into()).await;
    second.ok(CONTROL, "PUT", "/jobs/k", from).await;
    assert_eq!(second.ok(CONTROL, "GET", "/jobs/k/job-document", json!({})).await, json!({"document": DOC}));
    first.server.shutdown().await.unwrap();
    second.server.shutdown().await.unwrap();
}
