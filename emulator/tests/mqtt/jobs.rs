//! The jobs device API over MQTT: a device runs a job on the jobs topics and hears of it,
//! documents as devices get them, requests without payloads, the service's error codes, namespace
//! topics, an MQTT 5 client, and the endpoints DescribeEndpoint names.

use super::*;

/// A document that is one JSON object reaches devices as that object, however it was written:
/// with the newline an editor leaves at the end of `job.json`, or nested as deep as the core
/// reads. The data plane's HTTP form still reads back the exact text.
#[tokio::test]
async fn every_object_document_reaches_devices_as_an_object() {
    let emu = emu().await;
    emu.ctl("POST", "/things/t1", json!({})).await;
    let mut dev = connect("t1", emu.mqtt).await;
    // 125 levels: the answer's two more are as many as serde_json reads (127).
    let deep = format!("{}1{}", r#"{"a":"#.repeat(125), "}".repeat(125));
    for (job, text) in [("padded", "\t{\"op\": \"update\"}\n"), ("deep", deep.as_str())] {
        let body = json!({"targets": [format!("{ARN}:thing/t1")], "document": text});
        emu.ctl("PUT", &format!("/jobs/{job}"), body).await;
        let want: Value = serde_json::from_str(text).unwrap();
        let (ok, got) = dev.request(&format!("$aws/things/t1/jobs/{job}/get"), "{}").await;
        assert!(ok, "{got}");
        assert_eq!(got["execution"]["jobDocument"], want, "{job}");
        let http = reqwest::Client::new()
            .get(format!("{}/things/t1/jobs/{job}", emu.url))
            .header("authorization", DATA)
            .send()
            .await
            .unwrap();
        let http: Value = serde_json::from_slice(&http.bytes().await.unwrap()).unwrap();
        assert_eq!(http["execution"]["jobDocument"], text, "{job}");
    }
    emu.server.shutdown().await.unwrap();
}

/// A job whose `documentSource` names a registered S3 object reaches devices with the object's
/// content as its document, in the notification and the answers alike.
#[tokio::test]
async fn a_source_jobs_document_reaches_devices() {
    let emu = emu().await;
    emu.ctl("POST", "/things/t1", json!({})).await;
    let mut dev = connect("t1", emu.mqtt).await;
    dev.sub("$aws/things/t1/jobs/notify-next").await;
    // The body of this request is the object: the JSON text of the value.
    emu.ctl("PUT", "/_emulator/objects/bucket/dir/doc.json", json!({"op": "fw", "v": 2})).await;
    let source = "https://bucket.s3.us-east-1.amazonaws.com/dir/doc.json";
    let body = json!({"targets": [format!("{ARN}:thing/t1")], "documentSource": source});
    emu.ctl("PUT", "/jobs/ds", body).await;
    let n = dev.json_on("$aws/things/t1/jobs/notify-next").await;
    assert_eq!(n["execution"]["jobDocument"], json!({"op": "fw", "v": 2}));
    let (ok, got) = dev.request("$aws/things/t1/jobs/$next/get", "{}").await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["jobDocument"], json!({"op": "fw", "v": 2}));
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_device_runs_a_job_over_mqtt_and_hears_of_it() {
    let emu = emu().await;
    let mut dev = connect("dev-1", emu.mqtt).await;
    dev.sub("$aws/things/dev-1/jobs/notify").await;
    dev.sub("$aws/things/dev-1/jobs/notify-next").await;
    let mut events = connect("rules", emu.mqtt).await;
    events.sub("$aws/events/#").await;
    emu.create_job("fw-1", &["dev-1"]).await;
    let n = dev.next_on("$aws/things/dev-1/jobs/notify-next").await;
    assert_eq!(n.qos, QoS::AtLeastOnce);
    let n: Value = serde_json::from_slice(&n.payload).unwrap();
    assert_eq!(n["execution"]["jobId"], "fw-1");
    assert_eq!(n["execution"]["status"], "QUEUED");
    assert_eq!(n["execution"]["jobDocument"], json!({"op": "update"}));
    let list = dev.json_on("$aws/things/dev-1/jobs/notify").await;
    assert_eq!(list["jobs"]["QUEUED"][0]["jobId"], "fw-1");

    let (ok, got) = dev.request("$aws/things/dev-1/jobs/get", r#"{"clientToken":"t-1"}"#).await;
    assert!(ok, "{got}");
    assert_eq!(got["clientToken"], "t-1");
    assert_eq!(got["queuedJobs"][0]["jobId"], "fw-1");
    assert!(got["timestamp"].as_u64().is_some());

    let (ok, got) = dev
        .request("$aws/things/dev-1/jobs/start-next", r#"{"clientToken":"t-2","statusDetails":{"step":"1"}}"#)
        .await;
    assert!(ok, "{got}");
    assert_eq!(got["clientToken"], "t-2");
    assert_eq!(got["execution"]["status"], "IN_PROGRESS");
    assert_eq!(got["execution"]["statusDetails"], json!({"step": "1"}));
    assert_eq!(got["execution"]["jobDocument"], json!({"op": "update"}));
    let version = got["execution"]["versionNumber"].as_u64().unwrap();

    let (ok, got) = dev.request("$aws/things/dev-1/jobs/$next/get", r#"{"clientToken":"t-3"}"#).await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["jobId"], "fw-1");

    // VersionMismatch carries the execution's state (SPEC §4.4).
    let stale =
        json!({"status": "SUCCEEDED", "expectedVersion": version + 5, "clientToken": "t-4"}).to_string();
    let (ok, got) = dev.request("$aws/things/dev-1/jobs/fw-1/update", &stale).await;
    assert!(!ok);
    assert_eq!(got["code"], "VersionMismatch");
    assert_eq!(got["clientToken"], "t-4");
    assert_eq!(got["executionState"]["status"], "IN_PROGRESS");
    assert_eq!(got["executionState"]["statusDetails"], json!({"step": "1"}));

    let done = json!({"status": "SUCCEEDED", "expectedVersion": version, "includeJobExecutionState": true,
                      "clientToken": "t-5"})
    .to_string();
    let (ok, got) = dev.request("$aws/things/dev-1/jobs/fw-1/update", &done).await;
    assert!(ok, "{got}");
    assert_eq!(got["executionState"]["status"], "SUCCEEDED");
    assert_eq!(got["clientToken"], "t-5");
    let next = dev.json_on("$aws/things/dev-1/jobs/notify-next").await;
    assert!(next.get("execution").is_none(), "{next}");
    let ev = events.json_on("$aws/events/jobExecution/fw-1/succeeded").await;
    assert_eq!(ev["thingArn"], format!("{ARN}:thing/dev-1"));
    assert_eq!(ev["status"], "SUCCEEDED");
    let ev = events.json_on("$aws/events/job/fw-1/completed").await;
    assert_eq!(ev["status"], "COMPLETED");

    // A terminal execution cannot be updated again.
    let (ok, got) = dev.request("$aws/things/dev-1/jobs/fw-1/update", r#"{"status":"FAILED"}"#).await;
    assert!(!ok);
    assert_eq!(got["code"], "InvalidStateTransition");
    assert_eq!(got["executionState"]["status"], "SUCCEEDED");
    // A deletion over HTTP: its event still names the job's targets (rendered before the
    // emulator drops the job's payloads).
    emu.ctl("DELETE", "/jobs/fw-1", json!({})).await;
    let ev = events.json_on("$aws/events/job/fw-1/deletion_in_progress").await;
    assert_eq!(ev["targets"], json!([format!("{ARN}:thing/dev-1")]));
    // Without a deletion delay, the deletion completes as part of DeleteJob.
    let ev = events.json_on("$aws/events/jobExecution/fw-1/deleted").await;
    assert_eq!(ev["thingArn"], format!("{ARN}:thing/dev-1"));
    let ev = events.json_on("$aws/events/job/fw-1/deleted").await;
    assert_eq!(ev["operation"], "deleted");
    assert_eq!(ev["targets"], json!([format!("{ARN}:thing/dev-1")]));
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_request_without_a_payload_is_one_without_members() {
    // AWS's embedded C jobs demo asks for `$next` with an empty payload, and the service answers
    // it (SPEC err-InvalidJson); it was InvalidJson here, so the demo never got its job.
    let emu = emu().await;
    emu.create_job("j1", &["t1"]).await;
    let mut dev = connect("t1", emu.mqtt).await;
    let (ok, got) = dev.request("$aws/things/t1/jobs/$next/get", "").await;
    assert!(ok, "{got}");
    assert_eq!((&got["execution"]["jobId"], &got["execution"]["status"]), (&"j1".into(), &"QUEUED".into()));
    assert!(got["execution"]["jobDocument"].is_object(), "{got}");
    let (ok, got) = dev.request("$aws/things/t1/jobs/get", " ").await;
    assert!(ok, "{got}");
    assert_eq!(got["queuedJobs"][0]["jobId"], "j1");
    let (ok, got) = dev.request("$aws/things/t1/jobs/j1/get", "").await;
    assert!(ok && got["execution"]["versionNumber"] == 1, "{got}");
    // UpdateJobExecution needs `status`: InvalidRequest, and nothing changed.
    let (ok, got) = dev.request("$aws/things/t1/jobs/j1/update", "").await;
    assert!(!ok);
    assert_eq!(got["code"], "InvalidRequest", "{got}");
    let (ok, got) = dev.request("$aws/things/t1/jobs/start-next", "").await;
    assert!(ok, "{got}");
    assert_eq!(
        (&got["execution"]["status"], &got["execution"]["versionNumber"]),
        (&"IN_PROGRESS".into(), &2.into())
    );
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_requests_get_the_service_codes() {
    let emu = emu().await;
    emu.create_job("j1", &["t1"]).await;
    let mut dev = connect("t1", emu.mqtt).await;
    // Deeper than the core reads (128 levels): JSON is a request it cannot take, an unclosed
    // one no JSON.
    let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(200), "]".repeat(200));
    let unclosed = &deep[..deep.len() - 2];
    let cases = [
        ("$aws/things/t1/jobs/get", "not json", "InvalidJson"),
        ("$aws/things/t1/jobs/get", &deep, "InvalidRequest"),
        ("$aws/things/t1/jobs/get", unclosed, "InvalidJson"),
        ("$aws/things/t1/jobs/j1/update", r#"{"status":"SUCCESS","clientToken":"c"}"#, "InvalidRequest"),
        ("$aws/things/t1/jobs/j1/update", r#"{"clientToken":"c"}"#, "InvalidRequest"),
        ("$aws/things/t1/jobs/nope/get", r#"{"clientToken":"c"}"#, "ResourceNotFound"),
        (
            "$aws/things/t1/jobs/nope/update",
            r#"{"status":"IN_PROGRESS","clientToken":"c"}"#,
            "ResourceNotFound",
        ),
        ("$aws/things/t1/jobs/j1/frobnicate", r#"{"clientToken":"c"}"#, "InvalidTopic"),
    ];
    for (topic, payload, code) in cases {
        let (ok, got) = dev.request(topic, payload).await;
        assert!(!ok, "{topic} {payload}: {got}");
        assert_eq!(got["code"], code, "{topic} {payload}: {got}");
        assert!(got["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(got["timestamp"].as_u64().is_some());
        assert!(got.get("executionState").is_none(), "{got}");
        if payload.contains("clientToken") {
            assert_eq!(got["clientToken"], "c", "{topic}");
        }
    }
    // InvalidTopic says what is wrong with the topic: an invalid job id or thing name names the
    // field, not only "no operation".
    for (topic, why) in [
        ("$aws/things/t1/jobs/bad.id/get", "jobId has a character that is not allowed at position 3"),
        ("$aws/things/bad.thing/jobs/get", "thingName has a character that is not allowed at position 3"),
        ("$aws/things/t1/jobs/j1/frobnicate", "names no Jobs operation or event from byte"),
    ] {
        let (ok, got) = dev.request(topic, "{}").await;
        assert!(!ok && got["code"] == "InvalidTopic", "{topic}: {got}");
        assert!(got["message"].as_str().is_some_and(|m| m.contains(why)), "{topic}: {got}");
    }
    // An error changed nothing: the execution is still QUEUED at its first version.
    let (ok, got) = dev.request("$aws/things/t1/jobs/j1/get", "{}").await;
    assert!(ok);
    assert_eq!(got["execution"]["status"], "QUEUED");
    assert_eq!(got["execution"]["versionNumber"], 1);
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn namespace_topics_answer_on_their_own_topics() {
    let emu = emu().await;
    emu.create_job("j1", &["t1"]).await;
    let mut dev = connect("t1", emu.mqtt).await;
    let (ok, got) = dev.request("$aws/things/t1/jobs/j1/namespace-ns1/get", r#"{"clientToken":"n"}"#).await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["jobId"], "j1");
    let (ok, got) =
        dev.request("$aws/things/t1/jobs/j1/namespace-ns1/update", r#"{"status":"IN_PROGRESS"}"#).await;
    assert!(ok, "{got}");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_mqtt5_client_runs_the_jobs_api() {
    use rumqttc::v5::mqttbytes::QoS as Q5;
    use rumqttc::v5::{AsyncClient as Client5, Event as Event5, MqttOptions as Options5};
    let emu = emu().await;
    emu.create_job("j5", &["dev5"]).await;
    let mut o = Options5::new("dev5", emu.mqtt.ip().to_string(), emu.mqtt.port());
    o.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = Client5::new(o, 100);
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(e) = eventloop.poll().await {
            if let Event5::Incoming(rumqttc::v5::mqttbytes::v5::Packet::Publish(p)) = e {
                let _ = tx.send(p);
            }
        }
    });
    client.subscribe("$aws/things/dev5/jobs/start-next/+", Q5::AtLeastOnce).await.unwrap();
    client
        .publish("$aws/things/dev5/jobs/start-next", Q5::AtLeastOnce, false, r#"{"clientToken":"v5"}"#)
        .await
        .unwrap();
    let p = tokio::time::timeout(WAIT, rx.recv()).await.unwrap().unwrap();
    assert_eq!(&p.topic[..], b"$aws/things/dev5/jobs/start-next/accepted");
    let got: Value = serde_json::from_slice(&p.payload).unwrap();
    assert_eq!(got["clientToken"], "v5");
    assert_eq!(got["execution"]["status"], "IN_PROGRESS");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn describe_endpoint_names_this_emulators_addresses() {
    let emu = emu().await;
    let get = |kind: &str| {
        let url = format!("{}/endpoint?endpointType={kind}", emu.url);
        let req = emu.http.get(url).header("authorization", CONTROL);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    for kind in ["iot:Data-ATS", "iot:Data"] {
        assert_eq!(get(kind).await, (200, json!({"endpointAddress": emu.mqtt.to_string()})));
    }
    for kind in ["iot:Jobs", "iot:CredentialProvider"] {
        assert_eq!(get(kind).await, (200, json!({"endpointAddress": emu.server.addr.to_string()})));
    }
    let (status, body) = get("iot:Nope").await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("InvalidRequestException")));
    emu.server.shutdown().await.unwrap();

    // Listening on every interface, it names the host the request was sent to (a client in
    // another container reaches it by that name, not by 0.0.0.0).
    let everywhere = start(|c| {
        c.addr = "0.0.0.0:0".parse().unwrap();
        c.mqtt_addr = Some("0.0.0.0:0".parse().unwrap());
    })
    .await;
    let port = |a: Option<std::net::SocketAddr>| a.unwrap().port();
    let (http, mqtt) = (everywhere.server.addr.port(), port(everywhere.server.mqtt_addr));
    let ask = |host: &'static str, kind: &'static str| {
        let url = format!("http://127.0.0.1:{http}/endpoint?endpointType={kind}");
        let req = everywhere.http.get(url).header("authorization", CONTROL).header("host", host);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap()["endpointAddress"].clone() }
    };
    assert_eq!(ask("iot-jobs:4588", "iot:Data-ATS").await, format!("iot-jobs:{mqtt}"));
    assert_eq!(ask("10.1.2.3", "iot:Jobs").await, format!("10.1.2.3:{http}"));
    assert_eq!(ask("[fd00::1]:80", "iot:Jobs").await, format!("[fd00::1]:{http}"));
    everywhere.server.shutdown().await.unwrap();
}

/// `POST /_emulator/faults`: a device's request refused as the service refuses it under load
/// (`RequestThrottled`, `InternalError`), with its clientToken, and nothing changed; the next
/// one runs.
#[tokio::test]
async fn an_injected_fault_refuses_a_device_request_and_changes_nothing() {
    let emu = emu().await;
    emu.create_job("fw-1", &["t1"]).await;
    let mut dev = connect("t1", emu.mqtt).await;
    let fault =
        json!({"error": "ThrottlingException", "count": 1, "operations": ["StartNextPendingJobExecution"]});
    let waiting = emu.ctl("POST", "/_emulator/faults", fault).await;
    assert_eq!(waiting["faults"][0]["count"], 1);
    // Another operation is not refused.
    let (ok, got) = dev.request("$aws/things/t1/jobs/get", r#"{"clientToken":"g"}"#).await;
    assert!(ok, "{got}");
    let (ok, got) = dev.request("$aws/things/t1/jobs/start-next", r#"{"clientToken":"s1"}"#).await;
    assert!(!ok, "{got}");
    assert_eq!((got["code"].as_str(), got["clientToken"].as_str()), (Some("RequestThrottled"), Some("s1")));
    let x = emu.ctl("GET", "/things/t1/jobs/fw-1", Value::Null).await;
    assert_eq!(
        (x["execution"]["status"].as_str(), x["execution"]["versionNumber"].as_u64()),
        (Some("QUEUED"), Some(1))
    );
    let (ok, got) = dev.request("$aws/things/t1/jobs/start-next", r#"{"clientToken":"s2"}"#).await;
    assert!(ok, "{got}");
    assert_eq!(got["execution"]["status"], "IN_PROGRESS");

    emu.ctl("POST", "/_emulator/faults", json!({"error": "ServiceUnavailableException"})).await;
    let (ok, got) =
        dev.request("$aws/things/t1/jobs/fw-1/update", r#"{"status":"SUCCEEDED","clientToken":"u"}"#).await;
    assert!(!ok, "{got}");
    assert_eq!(got["code"], "InternalError");
    assert_eq!(emu.ctl("GET", "/_emulator/faults", Value::Null).await, json!({"faults": []}));
    emu.server.shutdown().await.unwrap();
}
