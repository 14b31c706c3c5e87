//! The data plane over the core's wire: job documents, AWS JSON bodies, statusDetails at the
//! limits.

use super::*;

#[tokio::test]
async fn job_documents_come_back_over_the_data_plane_exactly_as_given() {
    let e = emu().await;
    e.thing("t1").await;
    // The largest document (32768 characters, every one escaped on the wire), a JSON object
    // nested deeper than the MQTT wire reads, JSON that is not an object, and JSON with
    // whitespace (text that is not JSON is refused: create_job_takes_one_json_document...).
    let largest = format!("{{\"s\":\"{}\"}}", "\\\"".repeat((32_768 - 8) / 2));
    assert_eq!(largest.len(), 32_768);
    let deep = format!("{}{}", "{\"a\":".repeat(40), "}".repeat(40)).replace("{\"a\":}", "{\"a\":1}");
    let documents = [largest, deep, "\"reboot now\"".to_owned(), " {\"op\": \"x\"}\n".to_owned()];
    for (i, document) in documents.iter().enumerate() {
        let body = json!({"targets": [format!("{ARN}:thing/t1")], "document": document});
        e.ctl("PUT", &format!("/jobs/d{i}"), Some(body)).await.ok();
        let x = e.data("GET", &format!("/things/t1/jobs/d{i}"), None).await.ok();
        assert_eq!(x["execution"]["jobDocument"], *document, "d{i}");
        let up = json!({"status": "IN_PROGRESS", "includeJobDocument": true});
        assert_eq!(e.update("t1", &format!("d{i}"), up).await.ok(), json!({"jobDocument": document}), "d{i}");
    }
    let next = e.data("GET", "/things/t1/jobs/$next", None).await.ok();
    assert_eq!(next["execution"]["jobDocument"], documents[0]);
    assert_eq!(next["execution"]["statusDetails"], json!({}));
    assert_eq!(next["execution"]["thingName"], "t1");
}

#[tokio::test]
async fn data_plane_bodies_read_as_aws_json_protocols_read_them() {
    let e = emu().await;
    e.thing("t1").await;
    e.job("j1", &["t1"], json!({})).await.ok();
    // An empty body is `{}`; a null member is absent; clientToken is no member of the HTTPS body.
    let started = e.raw(Some(DATA), "PUT", "/things/t1/jobs/$next", Some(Vec::new())).await.ok();
    assert_eq!(started["execution"]["status"], "IN_PROGRESS");
    let body = json!({"status": "IN_PROGRESS", "statusDetails": null, "expectedVersion": null,
                      "clientToken": "x".repeat(65), "includeJobExecutionState": true});
    let up = e.update("t1", "j1", body).await.ok();
    assert_eq!(
        up,
        json!({"executionState": {"status": "IN_PROGRESS", "statusDetails": {}, "versionNumber": 3}})
    );
    // statusDetails with escapes and characters outside the BMP, as the device sent them.
    let details = json!({"msg": "a \"quoted\" \\ € 😀", "pct": "50"});
    let up = json!({"status": "IN_PROGRESS", "statusDetails": details, "includeJobExecutionState": true});
    assert_eq!(e.update("t1", "j1", up).await.ok()["executionState"]["statusDetails"], details);
    let x = e.data("GET", "/things/t1/jobs/j1?includeJobDocument=false", None).await.ok();
    assert_eq!(x["execution"]["statusDetails"], details);
    assert!(x["execution"].get("jobDocument").is_none());
}

/// `v` as botocore sends it (`json.dumps` with `ensure_ascii`): every character outside ASCII as
/// `\uXXXX`, a character outside the BMP as two.
fn ascii_json(v: &Value) -> Vec<u8> {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out.into_bytes()
}

#[tokio::test]
async fn status_details_at_the_aws_limits_are_stored_whole_on_both_planes() {
    // SPEC R14: 10 pairs, keys of 128 characters, values of 1,024 UTF-16 units. The largest map
    // (1,024 '€' per value: 32,030 bytes stored, ~62 KB as botocore escapes it), and three maps
    // just over 1 KiB of UTF-8.
    let key = |i: usize| format!("{i:k>128}");
    let map =
        |pairs: Vec<(String, String)>| Value::Object(pairs.into_iter().map(|(k, v)| (k, json!(v))).collect());
    let cases = [
        ("worst", map((0..10).map(|i| (key(i), "€".repeat(1024))).collect())),
        ("ascii", map(vec![("k".to_owned(), "a".repeat(1021))])),
        ("euro", map(vec![("k".to_owned(), "€".repeat(341))])),
        ("keys", map((0..10).map(|i| (key(i), "v".to_owned())).collect())),
    ];
    let e = emu().await;
    e.thing("t1").await;
    for (name, details) in cases {
        // Data plane: UpdateJobExecution.
        let job = format!("up-{name}");
        e.job(&job, &["t1"], json!({})).await.ok();
        let body = json!({"status": "IN_PROGRESS", "statusDetails": details});
        let path = format!("/things/t1/jobs/{job}");
        e.raw(Some(DATA), "POST", &path, Some(ascii_json(&body))).await.ok();
        let x = e.data("GET", &format!("{path}?includeJobDocument=false"), None).await.ok();
        assert_eq!(x["execution"]["statusDetails"], details, "{name}");
        let x = e.ctl("GET", &path, None).await.ok();
        assert_eq!(x["execution"]["statusDetails"]["detailsMap"], details, "{name}");
        // Control plane: CancelJobExecution.
        let job = format!("cancel-{name}");
        e.job(&job, &["t1"], json!({})).await.ok();
        let path = format!("/things/t1/jobs/{job}");
        let body = json!({"statusDetails": details});
        e.raw(Some(CONTROL), "PUT", &format!("{path}/cancel?force=true"), Some(ascii_json(&body))).await.ok();
        let x = e.ctl("GET", &path, None).await.ok();
        assert_eq!(x["execution"]["status"], "CANCELED", "{name}");
        assert_eq!(x["execution"]["statusDetails"]["detailsMap"], details, "{name}");
        // (The data plane no longer describes a CANCELED execution: 410.)
    }
    // One unit more than AWS allows is a 400, on both planes.
    let over = json!({"k": "€".repeat(1025)});
    e.job("over", &["t1"], json!({})).await.ok();
    let body = json!({"status": "IN_PROGRESS", "statusDetails": over});
    let got = e.raw(Some(DATA), "POST", "/things/t1/jobs/over", Some(ascii_json(&body))).await;
    got.err(400, "InvalidRequestException");
    let body = json!({"statusDetails": over});
    let got =
        e.raw(Some(CONTROL), "PUT", "/things/t1/jobs/over/cancel?force=true", Some(ascii_json(&body))).await;
    got.err(400, "InvalidRequestException");
    assert_eq!(e.exec_status("t1", "over").await, "QUEUED");
}
