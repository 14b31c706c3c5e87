//! S3 object URLs, as CreateJob's and CreateJobTemplate's `documentSource` names the object that
//! holds the job document, and the names of the objects a test registers in their place
//! (`PUT /_emulator/objects/{bucket}/{key}`).
//!
//! The service model calls `documentSource` "an S3 link, or S3 object URL, to the job document",
//! and AWS's CreateJob reference says "the link is an Amazon S3 object URL" and shows
//! `https://s3.region-code.amazonaws.com/example-firmware/device-firmware.1.0`; the developer
//! guide's CLI page uses `https://s3.amazonaws.com/amzn-s3-demo-bucket/job-document.json`. So
//! the emulator reads S3's object URLs over `https`, path style and virtual-hosted style, of the
//! global endpoint or a region's (S3's "methods for accessing a bucket"):
//!
//! * `https://s3.amazonaws.com/BUCKET/KEY`, `https://s3.REGION.amazonaws.com/BUCKET/KEY`,
//!   `https://s3-REGION.amazonaws.com/BUCKET/KEY` (path style);
//! * `https://BUCKET.s3.amazonaws.com/KEY`, `https://BUCKET.s3.REGION.amazonaws.com/KEY`,
//!   `https://BUCKET.s3-REGION.amazonaws.com/KEY` (virtual-hosted style).
//!
//! The host is read without regard to case; the path is percent-decoded (`my%20doc.json` is the
//! key `my doc.json`). Refused, with the reason: `s3://BUCKET/KEY` (an S3 URI, not an object URL:
//! no page of AWS's shows it as a `documentSource`), `http://`, any other host (the dual-stack,
//! FIPS, access-point and China endpoints included), a port or user name, a URL without a key,
//! and one with a query or a fragment: a presigned URL (`?X-Amz-Signature=...`) is a grant to
//! read, not the object's address (AWS reads the object with the caller's own rights).

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Most bytes in an S3 object key (S3's own limit).
pub const MAX_KEY_BYTES: usize = 1024;

/// An S3 object: its bucket and key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectName {
    pub bucket: String,
    pub key: String,
}

impl ObjectName {
    /// A valid bucket name and key.
    ///
    /// # Errors
    /// What is wrong with either, in words.
    pub fn new(bucket: &str, key: &str) -> Result<ObjectName, String> {
        check_bucket(bucket)?;
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(format!(
                "the object key must be 1 to {MAX_KEY_BYTES} bytes of UTF-8, not {}",
                key.len()
            ));
        }
        Ok(ObjectName { bucket: bucket.to_owned(), key: key.to_owned() })
    }

    /// The admin path that registers this object: `/_emulator/objects/BUCKET/KEY`, the key
    /// percent-encoded but for its `/`.
    pub fn admin_path(&self) -> String {
        format!("/_emulator/objects/{}/{}", self.bucket, utf8_percent_encode(&self.key, KEY_PATH))
    }

    /// How a snapshot keys the object: `BUCKET/KEY` (a bucket name has no `/`).
    pub fn stored(&self) -> String {
        format!("{}/{}", self.bucket, self.key)
    }

    /// The object a snapshot's key names ([`ObjectName::stored`]).
    ///
    /// # Errors
    /// A key without a `/`, or a bucket or key [`ObjectName::new`] refuses.
    pub fn from_stored(s: &str) -> Result<ObjectName, String> {
        let (bucket, key) = s.split_once('/').ok_or_else(|| format!("{s:?} is not BUCKET/KEY"))?;
        ObjectName::new(bucket, key)
    }
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// What a key's `/` and unreserved characters are left as in a path; the rest is encoded.
const KEY_PATH: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// S3's rules for a bucket name: 3 to 63 characters of lower-case letters, digits, `.` and `-`,
/// beginning and ending with a letter or digit, no `..`.
fn check_bucket(b: &str) -> Result<(), String> {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok = (3..=63).contains(&b.len())
        && b.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(b.chars().next())
        && edge(b.chars().last())
        && !b.contains("..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{b:?} is not an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-', \
             beginning and ending with a letter or digit)"
        ))
    }
}

/// The forms [`parse_source`] reads, for its messages.
pub const FORMS: &str = "https://s3.amazonaws.com/BUCKET/KEY, https://s3.REGION.amazonaws.com/BUCKET/KEY, \
     https://BUCKET.s3.amazonaws.com/KEY or https://BUCKET.s3.REGION.amazonaws.com/KEY";

/// The object an S3 object URL names (the forms of the module's doc).
///
/// # Errors
/// Why the URL is not one of them, in words.
pub fn parse_source(url: &str) -> Result<ObjectName, String> {
    if url.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("s3://")) {
        return Err("an s3:// URI is not an S3 object URL; name the object by its https URL".to_owned());
    }
    let rest = url
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .and_then(|_| url.get(8..))
        .ok_or("it is not an https URL")?;
    if rest.contains(['?', '#']) {
        return Err("it has a query or a fragment (a presigned URL is not the object's address: \
                    give the object URL without its query)"
            .to_owned());
    }
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let s3_host =
        host.strip_suffix(".amazonaws.com").ok_or("its host is not an amazonaws.com S3 endpoint")?;
    let decode = |p: &str| {
        percent_decode_str(p)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| "its path is not UTF-8 after percent-decoding".to_owned())
    };
    let (bucket, key) = if is_endpoint(s3_host) {
        // Path style: the bucket is the path's first segment.
        let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
        (decode(bucket)?, decode(key)?)
    } else {
        // Virtual-hosted style: BUCKET.ENDPOINT.
        let bucket = s3_host
            .rsplit_once(".s3")
            .filter(|(_, region)| is_endpoint(&format!("s3{region}")))
            .map(|(bucket, _)| bucket)
            .ok_or("its host is not an S3 endpoint (s3[.REGION].amazonaws.com or BUCKET.s3[.REGION].amazonaws.com)")?;
        (bucket.to_owned(), decode(path)?)
    };
    if key.is_empty() {
        return Err("it names no object key".to_owned());
    }
    ObjectName::new(&bucket, &key)
}

/// `s3`, `s3.REGION` or `s3-REGION` (a region: lower-case letters, digits and `-`).
fn is_endpoint(host: &str) -> bool {
    let region = |r: &str| {
        !r.is_empty() && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    match host.strip_prefix("s3") {
        Some("") => true,
        Some(r) => r.strip_prefix('.').or_else(|| r.strip_prefix('-')).is_some_and(region),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn name(bucket: &str, key: &str) -> ObjectName {
        ObjectName { bucket: bucket.to_owned(), key: key.to_owned() }
    }

    #[test]
    fn every_object_url_form_names_its_bucket_and_key() {
        for (url, bucket, key) in [
            (
                "https://s3.amazonaws.com/amzn-s3-demo-bucket/job-document.json",
                "amzn-s3-demo-bucket",
                "job-document.json",
            ),
            ("https://s3.us-west-2.amazonaws.com/b-1/dir/doc.json", "b-1", "dir/doc.json"),
            ("https://s3-eu-west-1.amazonaws.com/bucket/k", "bucket", "k"),
            ("https://bucket.s3.amazonaws.com/dir/sub/doc.json", "bucket", "dir/sub/doc.json"),
            ("https://my.bucket.s3.eu-central-1.amazonaws.com/k", "my.bucket", "k"),
            ("https://bucket.s3-us-east-2.amazonaws.com/k", "bucket", "k"),
            ("HTTPS://S3.AMAZONAWS.COM/bucket/Key.JSON", "bucket", "Key.JSON"),
            ("https://s3.amazonaws.com/bucket/my%20doc.json", "bucket", "my doc.json"),
            ("https://s3.amazonaws.com/bucket/a//b/", "bucket", "a//b/"),
            ("https://s3.amazonaws.com/bucket/caf%C3%A9", "bucket", "café"),
            // An s3 bucket name may hold "s3" itself.
            ("https://my-s3.s3.amazonaws.com/k", "my-s3", "k"),
            ("https://a.s3.b.s3.us-east-1.amazonaws.com/k", "a.s3.b", "k"),
        ] {
            assert_eq!(parse_source(url), Ok(name(bucket, key)), "{url}");
        }
    }

    #[test]
    fn what_is_not_an_object_url_is_refused_saying_why() {
        for (url, why) in [
            ("s3://bucket/key", "s3:// URI is not an S3 object URL"),
            ("http://s3.amazonaws.com/bucket/key", "not an https URL"),
            ("https://example.com/bucket/key", "not an amazonaws.com S3 endpoint"),
            ("https://s3.amazonaws.com.evil.com/bucket/key", "not an amazonaws.com S3 endpoint"),
            ("https://iot.amazonaws.com/bucket/key", "not an S3 endpoint"),
            ("https://bucket.s3.dualstack.us-east-1.amazonaws.com/key", "not an S3 endpoint"),
            ("https://s3.amazonaws.com:443/bucket/key", "not an amazonaws.com S3 endpoint"),
            ("https://user@s3.amazonaws.com/bucket/key", "not an S3 endpoint"),
            ("https://s3.amazonaws.com/bucket", "names no object key"),
            ("https://s3.amazonaws.com/bucket/", "names no object key"),
            ("https://bucket.s3.amazonaws.com/", "names no object key"),
            ("https://bucket.s3.amazonaws.com", "names no object key"),
            ("https://s3.amazonaws.com/bucket/k?X-Amz-Signature=00", "query or a fragment"),
            ("https://s3.amazonaws.com/bucket/k#part", "query or a fragment"),
            ("https://s3.amazonaws.com/Bucket/k", "not an S3 bucket name"),
            ("https://s3.amazonaws.com/bucket/%FF", "not UTF-8"),
            ("", "not an https URL"),
        ] {
            let e = parse_source(url).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
        let long = format!("https://s3.amazonaws.com/bucket/{}", "k".repeat(MAX_KEY_BYTES + 1));
        assert!(parse_source(&long).unwrap_err().contains("1 to 1024 bytes"));
    }

    #[test]
    fn bucket_names_follow_s3s_rules_and_keys_go_back_into_a_path() {
        for ok in ["abc", "a-b.c1", &"a".repeat(63)] {
            assert!(ObjectName::new(ok, "k").is_ok(), "{ok}");
        }
        for bad in ["ab", &"a".repeat(64), "-ab", "ab-", "a..b", "a_b", "aBc", "a/b"] {
            assert!(ObjectName::new(bad, "k").is_err(), "{bad}");
        }
        let n = name("bkt", "dir/my doc?.json");
        assert_eq!(n.admin_path(), "/_emulator/objects/bkt/dir/my%20doc%3F.json");
        assert_eq!(n.to_string(), "s3://bkt/dir/my doc?.json");
        assert_eq!(ObjectName::from_stored(&n.stored()), Ok(n));
        assert!(ObjectName::from_stored("nokey").is_err());
    }
}
