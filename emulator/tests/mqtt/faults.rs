//! Injected faults over MQTT (`/_emulator/faults`): a device's request or its answer lost, an
//! answer sent late. (A refusal: `jobs::an_injected_fault_refuses_a_device_request_...`.)

use super::*;

/// The answers to `topic` (its `/accepted` or `/rejected`) among `got`.
fn answers_to<'a>(got: &'a [rumqttc::Publish], topic: &str) -> Vec<&'a rumqttc::Publish> {
    let (accepted, rejected) = (format!("{topic}/accepted"), format!("{topic}/rejected"));
    got.iter().filter(|p| p.topic == accepted || p.topic == rejected).collect()
}

/// An emulator with job `fw-1` for thing `t1`, device `t1` connected to it, and `fault` injected.
async fn device_with_fault(fault: Value) -> (Emu, Client) {
    let emu = emu().await;
    emu.create_job("fw-1", &["t1"]).await;
    let dev = connect("t1", emu.mqtt).await;
    emu.ctl("POST", "/_emulator/faults", fault).await;
    (emu, dev)
}

/// Publishes a request to which no answer comes: a later request's answer does, and a
/// connection's answers keep the order of its requests.
async fn publish_unanswered(dev: &mut Client, topic: &str, payload: &str) {
    dev.publish(topic, payload).await;
    let got = dev.drain().await;
    assert!(answers_to(&got, topic).is_empty(), "{got:?}");
}

/// The status and version of `job`'s execution on `thing`, read over HTTP.
async fn execution(emu: &Emu, thing: &str, job: &str) -> (String, u64) {
    let x = emu.ctl("GET", &format!("/things/{thing}/jobs/{job}"), Value::Null).await;
    (x["execution"]["status"].as_str().unwrap().to_owned(), x["execution"]["versionNumber"].as_u64().unwrap())
}

/// `"drop": "reply"`: the update is carried out (the state shows it) but its answer never comes
/// (a later request's answer does: answers keep the order of their requests); the device's
/// retry with the same expectedVersion is rejected `VersionMismatch` with the execution's state,
/// from which it resyncs.
#[tokio::test]
async fn a_lost_reply_leaves_the_update_made_and_a_retry_is_told_the_state() {
    let fault = json!({"drop": "reply", "operations": ["UpdateJobExecution"], "thing": "t1"});
    let (emu, mut dev) = device_with_fault(fault).await;
    let topic = "$aws/things/t1/jobs/fw-1/update";
    let update =
        r#"{"status":"IN_PROGRESS","expectedVersion":1,"statusDetails":{"step":"1"},"clientToken":"u1"}"#;
    publish_unanswered(&mut dev, topic, update).await;
    assert_eq!(execution(&emu, "t1", "fw-1").await, ("IN_PROGRESS".to_owned(), 2));
    let (ok, got) = dev.request(topic, update).await;
    assert!(!ok, "{got}");
    assert_eq!((got["code"].as_str(), got["clientToken"].as_str()), (Some("VersionMismatch"), Some("u1")));
    assert_eq!(got["executionState"]["status"], "IN_PROGRESS");
    assert_eq!(got["executionState"]["versionNumber"], 2);
    assert_eq!(got["executionState"]["statusDetails"], json!({"step": "1"}));
    assert_eq!(emu.ctl("GET", "/_emulator/faults", Value::Null).await, json!({"faults": []}));
    emu.server.shutdown().await.unwrap();
}

/// `"drop": "request"`: the update is lost before it runs: no answer, nothing changes; sent
/// again, it runs.
#[tokio::test]
async fn a_lost_request_is_neither_run_nor_answered() {
    let (emu, mut dev) =
        device_with_fault(json!({"drop": "request", "operations": ["UpdateJobExecution"]})).await;
    let topic = "$aws/things/t1/jobs/fw-1/update";
    let update = r#"{"status":"IN_PROGRESS","expectedVersion":1,"clientToken":"u1"}"#;
    publish_unanswered(&mut dev, topic, update).await;
    assert_eq!(execution(&emu, "t1", "fw-1").await, ("QUEUED".to_owned(), 1));
    let (ok, got) = dev.request(topic, update).await;
    assert!(ok, "{got}");
    assert_eq!(execution(&emu, "t1", "fw-1").await, ("IN_PROGRESS".to_owned(), 2));
    emu.server.shutdown().await.unwrap();
}

/// `"delayMs"`: the answer comes no sooner than asked, and the answers of the device's later
/// requests wait behind it (its answers keep the order of its requests). While an answer waits,
/// the connection's other traffic and the other clients' requests go on.
#[tokio::test]
async fn a_delayed_reply_comes_late_and_holds_up_nothing_else() {
    let fault = json!({"delayMs": 400, "operations": ["DescribeJobExecution"], "thing": "t1"});
    let (emu, mut dev) = device_with_fault(fault).await;
    let describe = "$aws/things/t1/jobs/fw-1/get";
    let asked = tokio::time::Instant::now();
    dev.publish(describe, r#"{"clientToken":"late"}"#).await;
    let (ok, got) = dev.request("$aws/things/t1/jobs/get", r#"{"clientToken":"after"}"#).await;
    assert!(ok && got["clientToken"] == "after", "{got}");
    assert!(asked.elapsed() >= Duration::from_millis(400), "{:?}", asked.elapsed());
    let earlier = answers_to(&dev.stash, describe);
    assert_eq!(earlier.len(), 1, "the delayed answer came first: {:?}", dev.stash);
    let answer: Value = serde_json::from_slice(&earlier[0].payload).unwrap();
    assert_eq!(
        (answer["clientToken"].as_str(), answer["execution"]["jobId"].as_str()),
        (Some("late"), Some("fw-1"))
    );

    // An answer that waits long: meanwhile the device's own messages come, and another device
    // is answered.
    let fault = json!({"delayMs": 60_000, "operations": ["UpdateJobExecution"], "thing": "t1"});
    emu.ctl("POST", "/_emulator/faults", fault).await;
    dev.sub("t1/telemetry").await;
    let update = "$aws/things/t1/jobs/fw-1/update";
    dev.publish(update, r#"{"status":"IN_PROGRESS","clientToken":"slow"}"#).await;
    dev.publish("t1/telemetry", "42").await;
    assert_eq!(&dev.next_on("t1/telemetry").await.payload[..], b"42");
    let mut other = connect("t2", emu.mqtt).await;
    let (ok, got) = other.request("$aws/things/t2/jobs/get", r#"{"clientToken":"t2"}"#).await;
    assert!(ok, "{got}");
    // It ran at once.
    assert_eq!(execution(&emu, "t1", "fw-1").await, ("IN_PROGRESS".to_owned(), 2));
    assert!(answers_to(&dev.stash, update).is_empty(), "{:?}", dev.stash);
    emu.server.shutdown().await.unwrap();
}
