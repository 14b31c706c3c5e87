//! The S3 objects the emulator stands in for (`/_emulator/objects`): a test registers the object
//! a `documentSource` names, and CreateJob and CreateJobTemplate read it, as AWS reads the
//! object when the job or template is created and keeps its content as the document.
//!
//! The objects are the state's (journalled, in the snapshot, forgotten by a reset). Each is a
//! job document: UTF-8 text of at most [`MAX_DOCUMENT`] characters; there are at most
//! [`MAX_OBJECTS`] of them, of [`MAX_OBJECT_BYTES`] bytes in all.

use std::collections::BTreeMap;

use super::*;
use crate::wire::s3::{self, ObjectName};

/// Most objects kept.
pub const MAX_OBJECTS: usize = 1_000;

/// Most bytes of all objects together (16 MiB).
pub const MAX_OBJECT_BYTES: usize = 16 << 20;

/// One object as the listing shows it.
#[derive(Serialize)]
struct Listed<'a> {
    bucket: &'a str,
    key: &'a str,
    size: usize,
}

fn listing(objects: &BTreeMap<String, String>) -> Result<Reply, ApiError> {
    let items: Vec<Listed<'_>> = objects
        .iter()
        .filter_map(|(name, body)| {
            let (bucket, key) = name.split_once('/')?;
            Some(Listed { bucket, key, size: body.len() })
        })
        .collect();
    reply(&serde_json::json!({ "objects": items }), false)
}

/// `PUT /_emulator/objects/{bucket}/{key}`: registers (or replaces) an object.
pub(super) fn put_object(st: &mut State, bucket: &str, key: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let name = ObjectName::new(bucket, key).map_err(ApiError::invalid)?;
    let text = std::str::from_utf8(body).map_err(|_| {
        ApiError::invalid(format!(
            "the body of {name} is not UTF-8 text: the emulator keeps objects that are job documents (JSON)"
        ))
    })?;
    check_object(&name, text)?;
    let stored = name.stored();
    let others = st.meta.objects.iter().filter(|(n, _)| **n != stored);
    let (count, bytes) = others.fold((1_usize, text.len()), |(c, b), (_, o)| (c + 1, b + o.len()));
    check_totals(count, bytes)?;
    st.meta.objects.insert(stored, text.to_owned());
    let out = serde_json::json!({ "bucket": name.bucket, "key": name.key, "size": text.len() });
    reply(&out, true)
}

/// `GET /_emulator/objects`: every object's bucket, key and size in bytes, by bucket and key.
pub(super) fn list_objects(st: &State) -> Result<Reply, ApiError> {
    listing(&st.meta.objects)
}

/// `DELETE /_emulator/objects`: forgets every object (jobs and templates keep the documents read
/// from them). A change only when there was one.
pub(super) fn clear_objects(st: &mut State) -> Result<Reply, ApiError> {
    let changed = !st.meta.objects.is_empty();
    st.meta.objects.clear();
    Ok(Reply { body: listing(&st.meta.objects)?.body, changed })
}

/// An object's own bound: a job document's length ([`MAX_DOCUMENT`] characters, as CreateJob
/// counts them). Its JSON is checked when a job or template reads it, as AWS reads it then.
fn check_object(name: &ObjectName, text: &str) -> Result<(), ApiError> {
    let len = document_chars(text);
    if len > MAX_DOCUMENT {
        return Err(ApiError::invalid(format!(
            "{name} is {len} characters long; an object is a job document, of at most {MAX_DOCUMENT}"
        )));
    }
    Ok(())
}

fn check_totals(count: usize, bytes: usize) -> Result<(), ApiError> {
    if count > MAX_OBJECTS {
        return Err(ApiError::invalid(format!(
            "at most {MAX_OBJECTS} S3 objects are kept: DELETE /_emulator/objects forgets them"
        )));
    }
    if bytes > MAX_OBJECT_BYTES {
        return Err(ApiError::invalid(format!(
            "the S3 objects would hold {bytes} bytes, more than the {MAX_OBJECT_BYTES} kept in all: \
             DELETE /_emulator/objects forgets them"
        )));
    }
    Ok(())
}

/// The document a `documentSource` names: the registered object's text, checked as CreateJob's
/// `document` is.
///
/// # Errors
/// 400 naming the URL: one that is not an S3 object URL of the forms read ([`s3::parse_source`]),
/// an object that is not registered (with the admin call that registers it), or one that is not
/// a job document.
pub(super) fn read_source(st: &State, url: &str) -> Result<String, ApiError> {
    let name = s3::parse_source(url).map_err(|why| {
        ApiError::invalid(format!(
            "documentSource {url} is not an S3 object URL the emulator reads ({}): {why}; register the \
             object with PUT /_emulator/objects/BUCKET/KEY and name it by such a URL",
            s3::FORMS
        ))
    })?;
    let text = st.meta.objects.get(&name.stored()).ok_or_else(|| {
        ApiError::invalid(format!(
            "documentSource {url} names the S3 object {name}, which the emulator does not have: \
             register it first with PUT {} and the object's bytes as the body \
             (Emulator.put_object in the Python package)",
            name.admin_path()
        ))
    })?;
    check_document(text)
        .map_err(|e| ApiError::invalid(format!("documentSource {url} ({name}): {}", e.message)))?;
    Ok(text.clone())
}

/// The objects of a state from outside: valid names, each within an object's bound, within the
/// count and bytes kept.
///
/// # Errors
/// The first problem, naming the object.
pub(crate) fn check_imported(objects: &BTreeMap<String, String>) -> Result<(), String> {
    for (stored, text) in objects {
        let name = ObjectName::from_stored(stored).map_err(|e| format!("S3 object {stored}: {e}"))?;
        check_object(&name, text).map_err(|e| e.message)?;
    }
    let bytes = objects.values().map(String::len).sum();
    check_totals(objects.len(), bytes).map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::{Clock, ClockMode};
    use crate::state::Caps;
    use crate::wire::Arns;

    fn state() -> State {
        let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
        let caps = Caps { jobs: 4, things: 4, executions: 4, status_details: 4, thing_groups: 4 };
        State::new(caps, Clock::new(ClockMode::Manual, Some(0)), arns, 0)
    }

    #[test]
    fn objects_are_bounded_in_size_count_and_bytes() {
        let mut st = state();
        let big = format!("\"{}\"", "x".repeat(MAX_DOCUMENT - 2));
        put_object(&mut st, "bucket", "big", big.as_bytes()).unwrap();
        let e = put_object(&mut st, "bucket", "bigger", format!("{big} ").as_bytes()).unwrap_err();
        assert!(e.message.contains("32769 characters long"), "{}", e.message);
        let e = put_object(&mut st, "bucket", "bin", &[0xff, 0xfe]).unwrap_err();
        assert!(e.message.contains("not UTF-8"), "{}", e.message);
        let e = put_object(&mut st, "Bucket", "k", b"{}").unwrap_err();
        assert!(e.message.contains("not an S3 bucket name"), "{}", e.message);
        // Replacing an object counts its new size, not both.
        put_object(&mut st, "bucket", "big", b"{}").unwrap();
        assert_eq!(st.meta.objects.len(), 1);
        for i in 1..MAX_OBJECTS {
            put_object(&mut st, "bucket", &format!("k{i}"), b"{}").unwrap();
        }
        let e = put_object(&mut st, "bucket", "one-more", b"{}").unwrap_err();
        assert!(e.message.contains("at most 1000 S3 objects"), "{}", e.message);
        let e = check_totals(1, MAX_OBJECT_BYTES + 1).unwrap_err();
        assert!(e.message.contains("more than the 16777216 kept in all"), "{}", e.message);
        assert!(clear_objects(&mut st).unwrap().changed);
        assert!(!clear_objects(&mut st).unwrap().changed, "nothing to forget is no change");
    }
}
