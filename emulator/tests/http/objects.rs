//! The S3 objects the emulator stands in for (`/_emulator/objects`) and the `documentSource`
//! jobs and templates that read them.

use super::*;

const DOC: &str =
    r#"{"operation":"install","url":"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/fw.bin}"}"#;

impl Emu {
    async fn put_object(&self, path: &str, body: &str) -> Got {
        self.raw(None, "PUT", &format!("/_emulator/objects/{path}"), Some(body.as_bytes().to_vec())).await
    }
    async fn source_job(&self, id: &str, thing: &str, source: &str) -> Got {
        let body = json!({"targets": [format!("{ARN}:thing/{thing}")], "documentSource": source});
        self.ctl("PUT", &format!("/jobs/{id}"), Some(body)).await
    }
}

/// PUT registers an object (the key is the rest of the path, `/` and all), GET lists them,
/// DELETE forgets them, and a reset does too; a bad name or body is a 400 naming why.
#[tokio::test]
async fn objects_are_registered_listed_and_forgotten() {
    let e = emu().await;
    let put = e.put_object("amzn-s3-demo-bucket/jobs/v1/doc.json", DOC).await.ok();
    assert_eq!(put, json!({"bucket": "amzn-s3-demo-bucket", "key": "jobs/v1/doc.json", "size": DOC.len()}));
    e.put_object("b-2/my%20doc.json", "{}").await.ok();
    // A second PUT replaces the object.
    e.put_object("b-2/my%20doc.json", "{\"v\":2}").await.ok();
    let list = e.raw(None, "GET", "/_emulator/objects", None).await.ok();
    assert_eq!(
        list,
        json!({"objects": [
            {"bucket": "amzn-s3-demo-bucket", "key": "jobs/v1/doc.json", "size": DOC.len()},
            {"bucket": "b-2", "key": "my doc.json", "size": 7},
        ]})
    );
    for (path, says) in
        [("Bad_Bucket/k", "not an S3 bucket name"), ("b-2/", "object key must be 1 to 1024 bytes")]
    {
        let r = e.put_object(path, "{}").await;
        r.err(400, "InvalidRequestException");
        assert!(r.message().contains(says), "{path}: {r:?}");
    }
    let big = format!("\"{}\"", "x".repeat(32_767));
    let r = e.put_object("b-2/big", &big).await;
    r.err(400, "InvalidRequestException");
    assert!(
        r.message().contains("32769 characters long; an object is a job document, of at most 32768"),
        "{r:?}"
    );
    let r = e.raw(None, "PUT", "/_emulator/objects/b-2/bin", Some(vec![0xff, 0x00])).await;
    assert!(r.message().contains("not UTF-8 text"), "{r:?}");
    assert_eq!(
        e.raw(None, "GET", "/_emulator/objects", None).await.ok()["objects"].as_array().unwrap().len(),
        2
    );
    assert_eq!(e.raw(None, "DELETE", "/_emulator/objects", None).await.ok(), json!({"objects": []}));
    assert_eq!(e.raw(None, "GET", "/_emulator/objects", None).await.ok(), json!({"objects": []}));
    e.put_object("b-2/k", "{}").await.ok();
    e.raw(None, "POST", "/_emulator/reset", None).await.ok();
    assert_eq!(e.raw(None, "GET", "/_emulator/objects", None).await.ok(), json!({"objects": []}));
}

/// A job whose `documentSource` names a registered object has its content as its document:
/// GetJobDocument and the data plane answer it, DescribeJob still shows the source, and the
/// object may go away afterwards (AWS read it when the job was created).
#[tokio::test]
async fn a_source_job_carries_the_objects_content() {
    let e = emu().await;
    e.thing("t1").await;
    e.put_object("amzn-s3-demo-bucket/job-document.json", DOC).await.ok();
    for (i, url) in [
        "https://s3.amazonaws.com/amzn-s3-demo-bucket/job-document.json",
        "https://s3.us-east-1.amazonaws.com/amzn-s3-demo-bucket/job-document.json",
        "https://amzn-s3-demo-bucket.s3.amazonaws.com/job-document.json",
        "https://amzn-s3-demo-bucket.s3.eu-west-1.amazonaws.com/job-document.json",
    ]
    .into_iter()
    .enumerate()
    {
        let job = format!("ds{i}");
        e.source_job(&job, "t1", url).await.ok();
        let d = e.ctl("GET", &format!("/jobs/{job}"), None).await.ok();
        assert_eq!(d["documentSource"], url);
        let doc = e.ctl("GET", &format!("/jobs/{job}/job-document"), None).await.ok();
        assert_eq!(doc, json!({"document": DOC}), "{url}");
    }
    e.raw(None, "DELETE", "/_emulator/objects", None).await.ok();
    let next = e.data("PUT", "/things/t1/jobs/$next", Some(json!({}))).await.ok();
    assert_eq!(next["execution"]["jobId"], "ds0");
    assert_eq!(next["execution"]["jobDocument"], DOC);
    let x = e.data("GET", "/things/t1/jobs/ds1?includeJobDocument=true", None).await.ok();
    assert_eq!(x["execution"]["jobDocument"], DOC);
}

/// An object that is not registered, or a URL that is not an S3 object URL, is a 400 naming the
/// URL and the admin call that registers the object; an object that is not a job document is
/// refused as `document` is. Nothing is created.
#[tokio::test]
async fn a_source_the_emulator_cannot_read_is_refused_naming_it() {
    let e = emu().await;
    e.thing("t1").await;
    let url = "https://s3.amazonaws.com/bucket/dir/my%20doc.json";
    let r = e.source_job("j", "t1", url).await;
    r.err(400, "InvalidRequestException");
    assert!(
        r.message().contains(&format!(
            "documentSource {url} names the S3 object s3://bucket/dir/my doc.json, which the emulator does not have: \
             register it first with PUT /_emulator/objects/bucket/dir/my%20doc.json"
        )),
        "{r:?}"
    );
    for (bad, why) in [
        ("s3://bucket/dir/doc.json", "s3:// URI is not an S3 object URL"),
        ("http://s3.amazonaws.com/bucket/doc.json", "not an https URL"),
        ("https://example.com/doc.json", "not an amazonaws.com S3 endpoint"),
        ("https://s3.amazonaws.com/bucket", "names no object key"),
        ("https://s3.amazonaws.com/bucket/doc.json?X-Amz-Signature=0", "query or a fragment"),
    ] {
        let r = e.source_job("j", "t1", bad).await;
        r.err(400, "InvalidRequestException");
        let m = r.message();
        assert!(m.starts_with(&format!("documentSource {bad} is not an S3 object URL")), "{m}");
        assert!(m.contains(why) && m.contains("PUT /_emulator/objects/BUCKET/KEY"), "{m}");
    }
    e.put_object("bucket/bad.json", "not json").await.ok();
    let r = e.source_job("j", "t1", "https://bucket.s3.amazonaws.com/bad.json").await;
    r.err(400, "InvalidRequestException");
    assert!(
        r.message().contains("documentSource https://bucket.s3.amazonaws.com/bad.json (s3://bucket/bad.json): document is not valid JSON"),
        "{r:?}"
    );
    e.ctl("GET", "/jobs/j", None).await.err(404, "ResourceNotFoundException");
    let both = json!({"targets": [format!("{ARN}:thing/t1")], "document": "{}", "documentSource": url});
    let r = e.ctl("PUT", "/jobs/j", Some(both)).await;
    assert!(r.message().contains("only one of document and documentSource"), "{r:?}");
}

/// CreateJobTemplate reads its `documentSource` when it is created; a job from the template
/// gets that document (the object may be gone by then); an unregistered one is a 400.
#[tokio::test]
async fn a_source_template_reads_its_object_and_its_jobs_get_the_document() {
    let e = emu().await;
    e.thing("t1").await;
    let url = "https://s3.amazonaws.com/bucket/tpl.json";
    let template = json!({"description": "d", "documentSource": url});
    let r = e.ctl("PUT", "/job-templates/tpl", Some(template.clone())).await;
    r.err(400, "InvalidRequestException");
    assert!(r.message().contains("register it first with PUT /_emulator/objects/bucket/tpl.json"), "{r:?}");
    e.ctl("GET", "/job-templates/tpl", None).await.err(404, "ResourceNotFoundException");
    e.put_object("bucket/tpl.json", DOC).await.ok();
    e.ctl("PUT", "/job-templates/tpl", Some(template)).await.ok();
    let d = e.ctl("GET", "/job-templates/tpl", None).await.ok();
    assert_eq!(d["documentSource"], url);
    assert!(d.get("document").is_none(), "the template was given a source, not a document: {d}");
    e.raw(None, "DELETE", "/_emulator/objects", None).await.ok();
    let body =
        json!({"targets": [format!("{ARN}:thing/t1")], "jobTemplateArn": format!("{ARN}:jobtemplate/tpl")});
    e.ctl("PUT", "/jobs/j", Some(body)).await.ok();
    assert_eq!(e.ctl("GET", "/jobs/j", None).await.ok()["documentSource"], url);
    assert_eq!(e.ctl("GET", "/jobs/j/job-document", None).await.ok(), json!({"document": DOC}));
    let next = e.data("PUT", "/things/t1/jobs/$next", Some(json!({}))).await.ok();
    assert_eq!(next["execution"]["jobDocument"], DOC);
    // A template copied from the job keeps both.
    let copy = json!({"description": "c", "jobArn": format!("{ARN}:job/j")});
    e.ctl("PUT", "/job-templates/copy", Some(copy)).await.ok();
    assert_eq!(e.ctl("GET", "/job-templates/copy", None).await.ok()["documentSource"], url);
    let body =
        json!({"targets": [format!("{ARN}:thing/t1")], "jobTemplateArn": format!("{ARN}:jobtemplate/copy")});
    e.ctl("PUT", "/jobs/j2", Some(body)).await.ok();
    assert_eq!(e.ctl("GET", "/jobs/j2/job-document", None).await.ok(), json!({"document": DOC}));
}
