//! Job templates over real HTTP against an in-process emulator: CreateJobTemplate,
//! DescribeJobTemplate, ListJobTemplates, DeleteJobTemplate, the AWS managed templates, CreateJob
//! from either kind (SPEC R22, AMBIG-30, AMBIG-31), and templates kept across restarts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod in_process;
#[allow(dead_code)] // `Got::message` serves the HTTP tests only.
mod requests;

use in_process::{Emu, start};
use requests::Got;
use serde_json::{Value, json};

const CONTROL: &str =
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=00";
const DATA: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot-jobs-data/aws4_request, SignedHeaders=host, Signature=00";
const ARN: &str = "arn:aws:iot:us-east-1:123456789012";
const DOWNLOAD: &str = "arn:aws:iot:us-east-1::jobtemplate/AWS-Download-File:1.0";

impl Emu {
    async fn call(&self, auth: &str, method: &str, path: &str, body: Option<Value>) -> Got {
        self.raw(Some(auth), method, path, body.map(|b| b.to_string().into_bytes())).await
    }
    async fn ctl(&self, method: &str, path: &str, body: Option<Value>) -> Got {
        self.call(CONTROL, method, path, body).await
    }
    async fn thing(&self, name: &str) {
        self.ctl("POST", &format!("/things/{name}"), Some(json!({}))).await.ok();
    }
    /// CreateJob targeting `thing` with `body`'s members.
    async fn job_from(&self, id: &str, thing: &str, mut body: Value) -> Got {
        body["targets"] = json!([format!("{ARN}:thing/{thing}")]);
        self.ctl("PUT", &format!("/jobs/{id}"), Some(body)).await
    }
    async fn template(&self, id: &str, body: Value) -> Got {
        self.ctl("PUT", &format!("/job-templates/{id}"), Some(body)).await
    }
    async fn advance(&self, secs: u64) {
        let body = json!({"advanceSeconds": secs});
        self.call(CONTROL, "POST", "/_emulator/clock", Some(body)).await.ok();
    }
    async fn exec_status(&self, thing: &str, job: &str) -> String {
        let d = self.ctl("GET", &format!("/things/{thing}/jobs/{job}"), None).await.ok();
        d["execution"]["status"].as_str().unwrap().to_owned()
    }
    async fn document(&self, job: &str, query: &str) -> Value {
        self.ctl("GET", &format!("/jobs/{job}/job-document{query}"), None).await.ok()["document"].clone()
    }
}

async fn emu() -> Emu {
    start(|_| {}).await
}

#[tokio::test]
async fn custom_templates_are_created_described_listed_and_deleted() {
    let e = emu().await;
    let body = json!({
        "description": "firmware",
        "document": "{\"op\":\"fw\"}",
        "timeoutConfig": {"inProgressTimeoutInMinutes": 5},
        "abortConfig": {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
            "thresholdPercentage": 50, "minNumberOfExecutedThings": 2}]},
        "maintenanceWindows": [{"startTime": "cron(0 2 ? * SUN *)", "durationInMinutes": 60}],
        "destinationPackageVersions": ["arn:aws:iot:us-east-1:123456789012:package/p/version/1"],
        "tags": [{"Key": "team", "Value": "a"}],
    });
    let out = e.template("t1", body).await.ok();
    assert_eq!(out, json!({"jobTemplateArn": format!("{ARN}:jobtemplate/t1"), "jobTemplateId": "t1"}));
    let d = e.ctl("GET", "/job-templates/t1", None).await.ok();
    assert_eq!(d["description"], "firmware");
    assert_eq!(d["document"], "{\"op\":\"fw\"}");
    assert_eq!(d["timeoutConfig"]["inProgressTimeoutInMinutes"], 5);
    assert_eq!(d["abortConfig"]["criteriaList"][0]["thresholdPercentage"], 50.0);
    assert_eq!(d["maintenanceWindows"][0]["durationInMinutes"], 60);
    assert_eq!(d["destinationPackageVersions"].as_array().unwrap().len(), 1);
    assert!(d["createdAt"].is_u64(), "{d}");
    assert!(d.get("tags").is_none(), "DescribeJobTemplate has no tags member");
    // Duplicate id: the model's 409 for CreateJobTemplate (AMBIG-30).
    e.template("t1", json!({"description": "x", "document": "{}"})).await.err(409, "ConflictException");
    // A documentSource is read when the template is created: its object is registered first.
    e.raw(None, "PUT", "/_emulator/objects/bkt/k", Some(b"{}".to_vec())).await.ok();
    for id in ["t2", "t3"] {
        e.template(id, json!({"description": id, "documentSource": "https://s3.amazonaws.com/bkt/k"}))
            .await
            .ok();
    }
    let page = e.ctl("GET", "/job-templates?maxResults=2", None).await.ok();
    let ids: Vec<&str> = page["jobTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["jobTemplateId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["t1", "t2"]);
    let token = page["nextToken"].as_str().unwrap();
    let rest = e.ctl("GET", &format!("/job-templates?maxResults=2&nextToken={token}"), None).await.ok();
    assert_eq!(rest["jobTemplates"][0]["jobTemplateId"], "t3");
    assert_eq!(rest["jobTemplates"][0]["description"], "t3");
    assert!(rest.get("nextToken").is_none());
    e.ctl("DELETE", "/job-templates/t2", None).await.ok();
    e.ctl("GET", "/job-templates/t2", None).await.err(404, "ResourceNotFoundException");
    e.ctl("DELETE", "/job-templates/t2", None).await.err(404, "ResourceNotFoundException");
    // Refused requests change nothing.
    let bad = [
        ("bad!id", json!({"description": "d", "document": "{}"})),
        (&"x".repeat(65), json!({"description": "d", "document": "{}"})),
        ("t4", json!({"document": "{}"})),
        ("t4", json!({"description": "d"})),
        (
            "t4",
            json!({"description": "d", "document": "{}", "documentSource": "https://s3.amazonaws.com/b/k"}),
        ),
        (
            "t4",
            json!({"description": "d", "document": "{}", "timeoutConfig": {"inProgressTimeoutInMinutes": 0}}),
        ),
        ("t4", json!({"description": "d", "document": "x".repeat(32_769)})),
        ("t4", json!({"description": "d", "document": "{}", "tags": [{"Key": ""}]})),
        (
            "t4",
            json!({"description": "d", "document": "{}",
            "maintenanceWindows": [{"startTime": "cron(bad)", "durationInMinutes": 60}]}),
        ),
    ];
    for (id, body) in bad {
        e.template(id, body.clone()).await.err(400, "InvalidRequestException");
    }
    // A template keeps its windows in a member of its own, and a refusal names that member: a
    // job's are `schedulingConfig.maintenanceWindows`.
    let window = |start: &str, minutes: i64| json!({"startTime": start, "durationInMinutes": minutes});
    let windows = [
        (json!([]), "maintenanceWindows holds no windows"),
        (json!(vec![window("cron(0 2 ? * SUN *)", 60); 5]), "maintenanceWindows holds 5 windows"),
        (json!([window("cron(bad)", 60)]), "maintenanceWindows.startTime \"cron(bad)\""),
        (json!([window("cron(0 2 ? * SUN *)", 0)]), "maintenanceWindows.durationInMinutes must be"),
    ];
    for (list, says) in windows {
        let body = json!({"description": "d", "document": "{}", "maintenanceWindows": list});
        let r = e.template("t4", body).await;
        r.err(400, "InvalidRequestException");
        assert!(r.message().starts_with(says), "{list}: {}", r.message());
        let job = json!({"document": "{}", "targets": [format!("{ARN}:thing/x")],
            "schedulingConfig": {"maintenanceWindows": list}});
        let r = e.ctl("PUT", "/jobs/w4", Some(job)).await;
        r.err(400, "InvalidRequestException");
        assert!(r.message().starts_with(&format!("schedulingConfig.{says}")), "{list}: {}", r.message());
    }
    e.ctl("GET", "/job-templates/t4", None).await.err(404, "ResourceNotFoundException");
    e.template("t4", json!({"description": "d", "jobArn": format!("{ARN}:job/nope")}))
        .await
        .err(404, "ResourceNotFoundException");
    let all = e.ctl("GET", "/job-templates", None).await.ok();
    assert_eq!(all["jobTemplates"].as_array().unwrap().len(), 2);
}

/// A template's `maintenanceWindows` are the job's unless CreateJob's `schedulingConfig` gives
/// its own (SPEC R22): the core keeps them, as DescribeJob's `scheduledJobRollouts` shows.
#[tokio::test]
async fn a_template_s_maintenance_windows_apply_unless_the_request_gives_its_own() {
    let e = emu().await;
    e.thing("t1").await;
    let sunday = json!([{"startTime": "cron(0 2 ? * SUN *)", "durationInMinutes": 60}]);
    let daily = json!([{"startTime": "cron(30 4 * * ? *)", "durationInMinutes": 30}]);
    e.template("w", json!({"description": "d", "document": "{}", "maintenanceWindows": sunday})).await.ok();
    let arn = format!("{ARN}:jobtemplate/w");
    e.job_from("j1", "t1", json!({"jobTemplateArn": arn})).await.ok();
    let own = json!({"jobTemplateArn": arn, "schedulingConfig": {"maintenanceWindows": daily}});
    e.job_from("j2", "t1", own).await.ok();
    for (j, windows, start) in [("j1", &sunday, "T02:00"), ("j2", &daily, "T04:30")] {
        let d = e.ctl("GET", &format!("/jobs/{j}"), None).await.ok()["job"].clone();
        assert_eq!(&d["schedulingConfig"]["maintenanceWindows"], windows, "{j}");
        let rollouts = d["scheduledJobRollouts"].as_array().unwrap();
        assert_eq!(rollouts.len(), 7, "{j}: {d}");
        assert!(rollouts.iter().all(|r| r["startTime"].as_str().unwrap().ends_with(start)), "{j}: {d}");
    }
    // A template made from a job keeps the job's windows (AMBIG-30).
    e.template("copy", json!({"description": "copy", "jobArn": format!("{ARN}:job/j1")})).await.ok();
    assert_eq!(e.ctl("GET", "/job-templates/copy", None).await.ok()["maintenanceWindows"], sunday);
}

#[tokio::test]
async fn a_job_from_a_template_takes_its_document_and_the_members_it_is_not_given() {
    let e = emu().await;
    for t in ["t1", "t2"] {
        e.thing(t).await;
    }
    let template = json!({
        "description": "from the template",
        "document": "{\"op\":\"fw\"}",
        "timeoutConfig": {"inProgressTimeoutInMinutes": 5},
        "jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "TIMED_OUT", "numberOfRetries": 1}]},
    });
    e.template("fw", template).await.ok();
    let arn = format!("{ARN}:jobtemplate/fw");
    // j1: everything from the template; j2: its own timeout (SPEC R22).
    let out = e.job_from("j1", "t1", json!({"jobTemplateArn": arn})).await.ok();
    assert_eq!(out["description"], "from the template");
    let own = json!({"jobTemplateArn": arn, "description": "mine", "timeoutConfig": {"inProgressTimeoutInMinutes": 1}});
    e.job_from("j2", "t2", own).await.ok();
    let d1 = e.ctl("GET", "/jobs/j1", None).await.ok()["job"].clone();
    assert_eq!(d1["jobTemplateArn"], arn.as_str());
    assert_eq!(d1["timeoutConfig"]["inProgressTimeoutInMinutes"], 5);
    assert_eq!(d1["jobExecutionsRetryConfig"]["criteriaList"][0]["numberOfRetries"], 1);
    let d2 = e.ctl("GET", "/jobs/j2", None).await.ok()["job"].clone();
    assert_eq!(
        (d2["description"].as_str(), d2["timeoutConfig"]["inProgressTimeoutInMinutes"].as_u64()),
        (Some("mine"), Some(1))
    );
    assert_eq!(d2["jobExecutionsRetryConfig"]["criteriaList"][0]["failureType"], "TIMED_OUT");
    assert_eq!(e.document("j2", "").await, "{\"op\":\"fw\"}");
    // The lifecycle follows the merged configuration: j2 times out after 1 minute and is
    // retried (the template's retry), j1 not before 5.
    for (t, j) in [("t1", "j1"), ("t2", "j2")] {
        e.call(DATA, "POST", &format!("/things/{t}/jobs/{j}"), Some(json!({"status": "IN_PROGRESS"})))
            .await
            .ok();
    }
    e.advance(61).await;
    assert_eq!(e.exec_status("t1", "j1").await, "IN_PROGRESS");
    let retried = e.ctl("GET", "/things/t2/jobs/j2", None).await.ok();
    assert_eq!(
        (retried["execution"]["status"].as_str(), retried["execution"]["executionNumber"].as_u64()),
        (Some("QUEUED"), Some(2)),
        "{retried}"
    );
    // A template made from a job copies its document and configuration; members given replace them.
    let from_job = json!({"description": "copy", "jobArn": format!("{ARN}:job/j2"),
        "timeoutConfig": {"inProgressTimeoutInMinutes": 7}});
    e.template("copy", from_job).await.ok();
    let c = e.ctl("GET", "/job-templates/copy", None).await.ok();
    assert_eq!(c["document"], "{\"op\":\"fw\"}");
    assert_eq!(c["timeoutConfig"]["inProgressTimeoutInMinutes"], 7);
    assert_eq!(c["jobExecutionsRetryConfig"]["criteriaList"][0]["numberOfRetries"], 1);
    // Deleting the template leaves its jobs as they are.
    e.ctl("DELETE", "/job-templates/fw", None).await.ok();
    assert_eq!(e.document("j1", "").await, "{\"op\":\"fw\"}");
    // Errors; none creates the job.
    let cases = [
        (json!({"jobTemplateArn": arn}), 404, "ResourceNotFoundException"),
        (
            json!({"jobTemplateArn": format!("{ARN}:jobtemplate/copy"), "document": "{}"}),
            400,
            "InvalidRequestException",
        ),
        (
            json!({"jobTemplateArn": format!("{ARN}:jobtemplate/copy"), "documentParameters": {"a": "b"}}),
            400,
            "InvalidRequestException",
        ),
        (json!({"document": "{}", "documentParameters": {"a": "b"}}), 400, "InvalidRequestException"),
        (json!({"jobTemplateArn": format!("{ARN}:job/j1")}), 404, "ResourceNotFoundException"),
        (json!({"jobTemplateArn": "not-an-arn"}), 400, "InvalidRequestException"),
        // The template "copy" exists, but not in another account or region (as a target).
        (
            json!({"jobTemplateArn": "arn:aws:iot:us-east-1:999999999999:jobtemplate/copy"}),
            404,
            "ResourceNotFoundException",
        ),
        (
            json!({"jobTemplateArn": "arn:aws:iot:eu-west-1:123456789012:jobtemplate/copy"}),
            404,
            "ResourceNotFoundException",
        ),
    ];
    for (body, status, name) in cases {
        e.job_from("j3", "t1", body.clone()).await.err(status, name);
    }
    let foreign = json!({"jobTemplateArn": "arn:aws:iot:eu-west-1:123456789012:jobtemplate/copy"});
    let r = e.job_from("j3", "t1", foreign).await;
    assert!(
        r.message().contains("this emulator's resources are in region us-east-1, account 123456789012"),
        "{r:?}"
    );
    e.ctl("GET", "/jobs/j3", None).await.err(404, "ResourceNotFoundException");
}

#[tokio::test]
async fn managed_templates_are_listed_described_and_substituted() {
    let e = emu().await;
    e.thing("t1").await;
    let all = e.ctl("GET", "/managed-job-templates", None).await.ok();
    let names: Vec<&str> = all["managedJobTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["templateName"].as_str().unwrap())
        .collect();
    for n in ["AWS-Download-File", "AWS-Reboot", "AWS-Run-Command", "AWS-Install-Application"] {
        assert!(names.contains(&n), "{names:?}");
    }
    assert_eq!(all["managedJobTemplates"][0]["templateArn"], DOWNLOAD);
    assert_eq!(all["managedJobTemplates"][0]["environments"], json!(["LINUX"]));
    let first = e.ctl("GET", "/managed-job-templates?maxResults=3", None).await.ok();
    let token = first["nextToken"].as_str().unwrap();
    let second =
        e.ctl("GET", &format!("/managed-job-templates?maxResults=3&nextToken={token}"), None).await.ok();
    assert_eq!(second["managedJobTemplates"][0]["templateName"], names[3]);
    let one = e.ctl("GET", "/managed-job-templates?templateName=AWS-Reboot", None).await.ok();
    assert_eq!(one["managedJobTemplates"].as_array().unwrap().len(), 1);
    let d = e.ctl("GET", "/managed-job-templates/AWS-Download-File?templateVersion=1.0", None).await.ok();
    assert_eq!(d["templateVersion"], "1.0");
    let keys: Vec<&str> =
        d["documentParameters"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["downloadUrl", "filePath", "runAsUser", "pathToHandler"]);
    assert_eq!(d["documentParameters"][2]["regex"], "(.){0,256}");
    assert_eq!(d["documentParameters"][2]["optional"], true);
    let template_doc = d["document"].as_str().unwrap().to_owned();
    assert!(template_doc.contains("${aws:iot:parameter:downloadUrl}"));
    e.ctl("GET", "/managed-job-templates/AWS-Download-File?templateVersion=9.9", None)
        .await
        .err(404, "ResourceNotFoundException");
    e.ctl("GET", "/managed-job-templates/AWS-Download-File?templateVersion=x", None)
        .await
        .err(400, "InvalidRequestException");
    e.ctl("GET", "/managed-job-templates/AWS-Nope", None).await.err(404, "ResourceNotFoundException");
    // CreateJob with parameters: substituted; beforeSubstitution shows the template's document.
    let params = json!({"downloadUrl": "https://example.com/f.bin", "filePath": "/tmp/f.bin"});
    let out =
        e.job_from("dl", "t1", json!({"jobTemplateArn": DOWNLOAD, "documentParameters": params})).await.ok();
    assert_eq!(out["description"], "A managed job template for downloading a file.");
    let doc: Value = serde_json::from_str(e.document("dl", "").await.as_str().unwrap()).unwrap();
    assert_eq!(
        doc["steps"][0]["action"]["input"]["args"],
        json!(["https://example.com/f.bin", "/tmp/f.bin"])
    );
    assert_eq!(e.document("dl", "?beforeSubstitution=true").await, template_doc.as_str());
    e.ctl("GET", "/jobs/dl/job-document?beforeSubstitution=maybe", None)
        .await
        .err(400, "InvalidRequestException");
    let job = e.ctl("GET", "/jobs/dl?beforeSubstitution=true", None).await.ok()["job"].clone();
    assert_eq!((job["jobTemplateArn"].as_str(), job["documentParameters"].clone()), (Some(DOWNLOAD), params));
    // The device gets the substituted document.
    let next = e.call(DATA, "GET", "/things/t1/jobs/$next", None).await.ok();
    assert!(
        next["execution"]["jobDocument"].as_str().unwrap().contains("https://example.com/f.bin"),
        "{next}"
    );
    // Each parameter validated: missing, unknown, pattern; a wrong version; none creates a job.
    let cases = [
        (json!({"jobTemplateArn": DOWNLOAD, "documentParameters": {"downloadUrl": "u"}}), 400),
        (json!({"jobTemplateArn": DOWNLOAD}), 400),
        (
            json!({"jobTemplateArn": DOWNLOAD, "documentParameters": {"downloadUrl": "u", "filePath": "f", "x": "1"}}),
            400,
        ),
        (
            json!({"jobTemplateArn": DOWNLOAD, "documentParameters": {"downloadUrl": "u", "filePath": "f", "runAsUser": "u".repeat(257)}}),
            400,
        ),
        (
            json!({"jobTemplateArn": "arn:aws:iot:us-east-1::jobtemplate/AWS-Download-File:9.9", "documentParameters": {}}),
            404,
        ),
    ];
    for (body, status) in cases {
        let got = e.job_from("dl2", "t1", body.clone()).await;
        assert_eq!(got.status, status, "{body} {got:?}");
    }
    e.ctl("GET", "/jobs/dl2", None).await.err(404, "ResourceNotFoundException");
    // AWS-Reboot needs no parameter.
    let reboot = "arn:aws:iot:us-east-1::jobtemplate/AWS-Reboot:1.0";
    e.job_from("rb", "t1", json!({"jobTemplateArn": reboot})).await.ok();
    assert!(!e.document("rb", "").await.as_str().unwrap().contains("${"));
}

#[tokio::test]
async fn templates_survive_restarts_and_old_state_files_load() {
    let path = std::env::temp_dir().join(format!("iot-jobs-emulator-{}-templates.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let first = start(|c| c.state_file = Some(path.clone())).await;
    first.thing("t1").await;
    first
        .template(
            "keep",
            json!({"description": "kept", "document": "{\"k\":1}", "tags": [{"Key": "k", "Value": "v"}]}),
        )
        .await
        .ok();
    let params = json!({"command": "ls,-l"});
    let run = "arn:aws:iot:us-east-1::jobtemplate/AWS-Run-Command:1.0";
    first.job_from("cmd", "t1", json!({"jobTemplateArn": run, "documentParameters": params})).await.ok();
    // No shutdown (as after a crash): the journal is replayed.
    drop(first);
    let second = start(|c| c.state_file = Some(path.clone())).await;
    assert_eq!(second.ctl("GET", "/job-templates/keep", None).await.ok()["description"], "kept");
    let before = second.document("cmd", "?beforeSubstitution=true").await;
    assert!(before.as_str().unwrap().contains("${aws:iot:parameter:command}"));
    assert!(second.document("cmd", "").await.as_str().unwrap().contains("ls,-l"));
    // After a clean shutdown the snapshot holds them (the replayed records included, though the
    // second emulator changed nothing itself).
    second.server.shutdown().await.unwrap();
    let third = start(|c| c.state_file = Some(path.clone())).await;
    assert_eq!(third.ctl("GET", "/jobs/cmd", None).await.ok()["job"]["jobTemplateArn"], run);
    let listed = third.ctl("GET", "/job-templates", None).await.ok();
    assert_eq!(listed["jobTemplates"][0]["jobTemplateId"], "keep");
    // A version-1 state file (before templates) loads, with no templates. The registry's
    // snapshot keeps its fields in their fixed order: it is carried as raw JSON.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct File {
        format: u32,
        seq: u64,
        clock: Option<u64>,
        meta: Value,
        registry: Box<serde_json::value::RawValue>,
    }
    let export = third.http.get(format!("{}/_emulator/state", third.url)).send().await.unwrap();
    let mut old: File = serde_json::from_slice(&export.bytes().await.unwrap()).unwrap();
    assert_eq!(old.format, 4);
    old.format = 1;
    old.meta.as_object_mut().unwrap().remove("templates");
    // Nor tags of templates (an import refuses the tags of a resource that does not exist).
    old.meta["tags"].as_object_mut().unwrap().retain(|k, _| !k.starts_with("jobtemplate/"));
    for j in old.meta["jobs"].as_object_mut().unwrap().values_mut() {
        for k in [
            "job_template_arn",
            "document_parameters",
            "document_before_substitution",
            "destination_package_versions",
        ] {
            j.as_object_mut().unwrap().remove(k);
        }
    }
    let import = |f: &File| {
        let body = serde_json::to_vec(f).unwrap();
        third.http.post(format!("{}/_emulator/state", third.url)).body(body).send()
    };
    let resp = import(&old).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await.unwrap());
    assert_eq!(third.ctl("GET", "/job-templates", None).await.ok()["jobTemplates"], json!([]));
    let job = third.ctl("GET", "/jobs/cmd", None).await.ok()["job"].clone();
    assert_eq!((job["jobId"].as_str(), job.get("jobTemplateArn")), (Some("cmd"), None));
    old.format = 5;
    assert_eq!(import(&old).await.unwrap().status().as_u16(), 400);
    third.server.shutdown().await.unwrap();
    let _ = std::fs::remove_file(&path);
}
