extern crate std;
use super::*;
use proptest::prelude::*;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

/// Validates a whole document by skipping it.
fn validate(input: &[u8]) -> Result<(), Error> {
    Reader::new(input).finish()
}

fn unescape(s: JsonStr<'_>) -> String {
    let mut buf = [0; 256];
    s.unescape_into(&mut buf).unwrap().to_string()
}

fn read_string(input: &[u8]) -> Result<String, Error> {
    let s = Reader::new(input).read_str()?;
    let mut buf = [0; 256];
    Ok(s.unescape_into(&mut buf)?.to_string())
}

/// Reads a request the way the wire layer does: known members once each, unknown skipped.
#[test]
fn reads_an_update_request() -> Result<(), Error> {
    let msg = br#"{"status":"IN_PROGRESS","expectedVersion":"3","clientToken":"abc"}"#;
    let mut r = Reader::new(msg);
    let (mut status, mut version) = (None, None);
    r.begin_object()?;
    while let Some(key) = r.next_member()? {
        // `eq_str` compares the unescaped key, so `"st\u0061tus"` matches too.
        let duplicate = if key.eq_str("status") {
            status.replace(r.read_str()?).is_some()
        } else if key.eq_str("expectedVersion") {
            version.replace(r.read_u64_or_string()?).is_some()
        } else {
            false // unread values are skipped (and validated) by `next_member`
        };
        if duplicate {
            return Err(Error::DuplicateKey { offset: key.offset() });
        }
    }
    r.finish()?;
    assert_eq!(status.and_then(|s| s.as_str()), Some("IN_PROGRESS"));
    assert_eq!(version, Some(3));
    Ok(())
}

// ---- Reader: documents ------------------------------------------------

#[test]
fn update_request_all_fields() {
    let msg = br#"{"status":"IN_PROGRESS","statusDetails":{"k":"v","step":"2/3"},"expectedVersion":"3","clientToken":"abc","stepTimeoutInMinutes":5,"includeJobExecutionState":true,"x":null}"#;
    let mut r = Reader::new(msg);
    r.begin_object().unwrap();
    let mut details = Vec::new();
    let mut seen = Vec::new();
    while let Some(key) = r.next_member().unwrap() {
        let k = key.as_str().unwrap();
        seen.push(k);
        match k {
            "status" => assert_eq!(r.read_str().unwrap().as_str(), Some("IN_PROGRESS")),
            "statusDetails" => {
                r.begin_object().unwrap();
                while let Some(k) = r.next_member().unwrap() {
                    details.push((k.as_str().unwrap(), r.read_str().unwrap().as_str().unwrap()));
                }
            }
            "expectedVersion" => assert_eq!(r.read_u64_or_string().unwrap(), 3),
            "clientToken" => assert_eq!(r.read_str().unwrap().as_str(), Some("abc")),
            "stepTimeoutInMinutes" => assert_eq!(r.read_i64().unwrap(), 5),
            "includeJobExecutionState" => assert!(r.read_bool().unwrap()),
            "x" => r.read_null().unwrap(),
            other => panic!("unexpected key {other}"),
        }
    }
    r.finish().unwrap();
    assert_eq!(details, [("k", "v"), ("step", "2/3")]);
    assert_eq!(seen.len(), 7);
}

#[test]
fn duplicate_keys_are_detectable() {
    let msg = br#"{"status":"A","st\u0061tus":"B"}"#;
    let mut r = Reader::new(msg);
    r.begin_object().unwrap();
    let mut status = None;
    let mut err = None;
    while let Some(key) = r.next_member().unwrap() {
        if key.eq_str("status") && status.replace(r.read_str().unwrap()).is_some() {
            err = Some(Error::DuplicateKey { offset: key.offset() });
        }
    }
    assert_eq!(err, Some(Error::DuplicateKey { offset: 14 }));
}

#[test]
fn empty_and_nested_containers() {
    for doc in [
        &b"{}"[..],
        b"[]",
        b" { } ",
        b"[[],{},[{}]]",
        b"{\"a\":[1,-2,3.5e-7,\"s\",true,false,null,{\"b\":{}}]}",
        b"\"top\"",
        b"0",
        b"-0.0E+1",
        b"true",
        b"null",
    ] {
        assert_eq!(validate(doc), Ok(()), "{}", String::from_utf8_lossy(doc));
    }
    let mut r = Reader::new(b"[[1,2],[],[3]]");
    r.begin_array().unwrap();
    let mut sums = Vec::new();
    while r.next_element().unwrap() {
        r.begin_array().unwrap();
        let mut sum = 0;
        while r.next_element().unwrap() {
            sum += r.read_u64().unwrap();
        }
        sums.push(sum);
    }
    assert_eq!(sums, [3, 0, 3]);
    r.finish().unwrap();
}

#[test]
fn whitespace_is_rfc8259_only() {
    assert_eq!(validate(b" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ 1 , 2 ] \t\r\n} \t\r\n"), Ok(()));
    assert_eq!(validate(b"\x0c1"), Err(Error::UnexpectedByte { offset: 0 }));
    assert_eq!(validate(b"[1,\x0b2]"), Err(Error::UnexpectedByte { offset: 3 }));
    assert_eq!(validate(b"1\x0c"), Err(Error::TrailingCharacters { offset: 1 }));
    assert_eq!(validate("[\u{a0}1]".as_bytes()), Err(Error::UnexpectedByte { offset: 1 }));
}

#[test]
fn trailing_characters() {
    assert_eq!(validate(b"{} x"), Err(Error::TrailingCharacters { offset: 3 }));
    assert_eq!(validate(b"1 2"), Err(Error::TrailingCharacters { offset: 2 }));
    assert_eq!(validate(b"\"a\"\"b\""), Err(Error::TrailingCharacters { offset: 3 }));
    assert_eq!(validate(b"[]]"), Err(Error::TrailingCharacters { offset: 2 }));
    assert_eq!(validate(b"truex"), Err(Error::TrailingCharacters { offset: 4 }));
    assert_eq!(validate(b"01"), Err(Error::TrailingCharacters { offset: 1 }));
    // Also when the caller reads the value itself.
    assert_eq!(Reader::new(b"7 ,").read_u64(), Err(Error::TrailingCharacters { offset: 2 }));
    let mut r = Reader::new(b"{}{");
    r.begin_object().unwrap();
    assert_eq!(r.next_member().map(|_| ()), Err(Error::TrailingCharacters { offset: 2 }));
}

#[test]
fn unexpected_end() {
    for doc in [
        &b""[..],
        b"   ",
        b"{",
        b"{\"a\"",
        b"{\"a\":",
        b"{\"a\":1",
        b"{\"a\":1,",
        b"[",
        b"[1,",
        b"\"abc",
        b"\"abc\\\"",
        b"tru",
        b"nul",
        b"-",
        b"1.",
        b"1e",
        b"1e+",
    ] {
        assert_eq!(validate(doc), Err(Error::UnexpectedEnd), "{}", String::from_utf8_lossy(doc));
    }
}

#[test]
fn unexpected_byte() {
    for (doc, offset) in [
        (&b"{,}"[..], 1),
        (b"[,1]", 1),
        (b"[1,]", 3),
        (b"[1 2]", 3),
        (b"{\"a\":1,}", 7),
        (b"{\"a\" 1}", 5),
        (b"{\"a\":1 \"b\":2}", 7),
        (b"{1:2}", 1),
        (b"{'a':1}", 1),
        (b"[01]", 2),
        (b"+1", 0),
        (b".5", 0),
        (b"1.e3", 2),
        (b"1e+x", 3),
        (b"-a", 1),
        (b"[-]", 2),
        (b"nulL", 3),
        (b"tRue", 1),
        (b"fals", 4),
        (b"[1}", 2),
        (b"{\"a\":1]", 6),
        (b"\"a\x01b\"", 2),
        (b"\"a\nb\"", 2),
        (b"]", 0),
    ] {
        let want = if offset == doc.len() { Error::UnexpectedEnd } else { Error::UnexpectedByte { offset } };
        assert_eq!(validate(doc), Err(want), "{}", String::from_utf8_lossy(doc));
    }
}

#[test]
fn invalid_utf8() {
    for (doc, offset) in [
        (&b"\"\xff\""[..], 1),
        (b"[\"ok\",\"ab\xc3\"]", 9),
        (b"\"\xc0\x80\"", 1),     // overlong NUL
        (b"\"\xed\xa0\x80\"", 1), // UTF-8-encoded surrogate
        (b"{\"k\xe9y\":1}", 3),   // Latin-1 in a key
        (b"\"\\n\xf5\\n\"", 3),   // after an escape
    ] {
        assert_eq!(validate(doc), Err(Error::InvalidUtf8 { offset }), "{doc:?}");
    }
    // Valid multi-byte UTF-8 is fine, as a key too.
    assert_eq!(validate("{\"clé\":\"日本😀\"}".as_bytes()), Ok(()));
}

// ---- Strings and escapes ----------------------------------------------

#[test]
fn escapes_decode() {
    assert_eq!(read_string(br#""\"\\\/\b\f\n\r\t""#).unwrap(), "\"\\/\u{8}\u{c}\n\r\t");
    assert_eq!(read_string(br#""caf\u00e9""#).unwrap(), "café");
    assert_eq!(read_string(br#""\u00E9\u0000""#).unwrap(), "é\0");
    assert_eq!(read_string(br#""\ud83d\ude00!""#).unwrap(), "😀!");
    assert_eq!(read_string(br#""\uD83D\uDE00""#).unwrap(), "😀");
    assert_eq!(read_string(br#""\uffff\u20ac""#).unwrap(), "\u{ffff}€");
}

#[test]
fn invalid_escapes() {
    for (doc, offset) in [
        (&br#""\ud83d""#[..], 1),  // lone high surrogate
        (br#""ab\ud83dxy""#, 3),   // high surrogate, then text
        (br#""\ud83d\u0041""#, 1), // high surrogate, then non-low
        (br#""\ud83d\ud83d""#, 1), // two highs
        (br#""\ude00""#, 1),       // lone low surrogate
        (br#""\u12g4""#, 1),
        (br#""\u12""#, 1),
        (br#""\x41""#, 1),
        (br#""\'""#, 1),
        (br#""\U00e9""#, 1),
        (br#"["ok","a\ d"]"#, 8),
    ] {
        assert_eq!(validate(doc), Err(Error::InvalidEscape { offset }), "{doc:?}");
    }
}

#[test]
fn str_accessors() {
    let plain = Reader::new(b" \"plain\"").read_str().unwrap();
    assert_eq!(plain.as_str(), Some("plain"));
    assert_eq!(plain.raw(), "plain");
    assert!(!plain.has_escapes());
    assert_eq!(plain.offset(), 1);
    assert!(plain.eq_str("plain"));
    assert!(!plain.eq_str("plai"));

    let esc = Reader::new(br#""st\u0061tus""#).read_str().unwrap();
    assert_eq!(esc.as_str(), None);
    assert_eq!(esc.raw(), "st\\u0061tus");
    assert!(esc.has_escapes());
    assert!(esc.eq_str("status"));
    for other in ["statu", "statuss", "st\\u0061tus", "", "xtatus"] {
        assert!(!esc.eq_str(other), "{other}");
    }
    let empty = Reader::new(b"\"\"").read_str().unwrap();
    assert!(empty.eq_str(""));
    assert!(!empty.eq_str("a"));
}

#[test]
fn unescape_buffer_exact_and_short() {
    let s = Reader::new(br#""a\u00e9\n""#).read_str().unwrap(); // "aé\n": 4 bytes
    let mut exact = [0; 4];
    assert_eq!(s.unescape_into(&mut exact), Ok("aé\n"));
    let mut short = [0; 3];
    assert_eq!(s.unescape_into(&mut short), Err(Error::BufferTooSmall));
    let plain = Reader::new(b"\"abc\"").read_str().unwrap();
    assert_eq!(plain.unescape_into(&mut [0; 3]), Ok("abc"));
    assert_eq!(plain.unescape_into(&mut [0; 2]), Err(Error::BufferTooSmall));
    assert_eq!(plain.unescape_into(&mut []), Err(Error::BufferTooSmall));
    let empty = Reader::new(b"\"\"").read_str().unwrap();
    assert_eq!(empty.unescape_into(&mut []), Ok(""));
}

// ---- Numbers ----------------------------------------------------------

#[test]
fn u64_bounds() {
    let read = |doc: &[u8]| Reader::new(doc).read_u64();
    assert_eq!(read(b"0"), Ok(0));
    assert_eq!(read(b"-0"), Ok(0));
    assert_eq!(read(b"18446744073709551615"), Ok(u64::MAX));
    assert_eq!(read(b" 18446744073709551616"), Err(Error::NumberOutOfRange { offset: 1 }));
    assert_eq!(read(b"99999999999999999999999"), Err(Error::NumberOutOfRange { offset: 0 }));
    assert_eq!(read(b"-1"), Err(Error::NumberOutOfRange { offset: 0 }));
    assert_eq!(read(b"1.0"), Err(Error::ExpectedInteger { offset: 0 }));
    assert_eq!(read(b"1e3"), Err(Error::ExpectedInteger { offset: 0 }));
    assert_eq!(read(b"1E-0"), Err(Error::ExpectedInteger { offset: 0 }));
    assert_eq!(read(b"\"1\""), Err(Error::ExpectedNumber { offset: 0 }));
    assert_eq!(read(b"  true"), Err(Error::ExpectedNumber { offset: 2 }));
}

#[test]
fn i64_bounds() {
    let read = |doc: &[u8]| Reader::new(doc).read_i64();
    assert_eq!(read(b"-9223372036854775808"), Ok(i64::MIN));
    assert_eq!(read(b"-9223372036854775809"), Err(Error::NumberOutOfRange { offset: 0 }));
    assert_eq!(read(b"9223372036854775807"), Ok(i64::MAX));
    assert_eq!(read(b"9223372036854775808"), Err(Error::NumberOutOfRange { offset: 0 }));
    assert_eq!(read(b"-18446744073709551616"), Err(Error::NumberOutOfRange { offset: 0 }));
    assert_eq!(read(b"-42"), Ok(-42));
    assert_eq!(read(b"-0"), Ok(0));
    assert_eq!(read(b"-1.5"), Err(Error::ExpectedInteger { offset: 0 }));
    assert_eq!(read(b"null"), Err(Error::ExpectedNumber { offset: 0 }));
}

#[test]
fn u64_or_string() {
    let read = |doc: &[u8]| Reader::new(doc).read_u64_or_string();
    assert_eq!(read(b"3"), Ok(3));
    assert_eq!(read(b"\"3\""), Ok(3));
    assert_eq!(read(b" \"007\""), Ok(7));
    assert_eq!(read(b"\"18446744073709551615\""), Ok(u64::MAX));
    assert_eq!(read(b"\"18446744073709551616\""), Err(Error::NumberOutOfRange { offset: 0 }));
    assert_eq!(read(b"18446744073709551616"), Err(Error::NumberOutOfRange { offset: 0 }));
    for bad in
        [&b"\"\""[..], b"\"3a\"", b"\"-\"", b"\"--3\"", b"\"-3a\"", b"\" 3\"", b"\"3.0\"", br#""\u0033""#]
    {
        assert_eq!(read(bad), Err(Error::ExpectedNumber { offset: 0 }), "{bad:?}");
    }
    assert_eq!(read(b"3.5"), Err(Error::ExpectedInteger { offset: 0 }));
    assert_eq!(read(b"-3"), Err(Error::NumberOutOfRange { offset: 0 }));
    assert_eq!(read(b"\"-3\""), Err(Error::NumberOutOfRange { offset: 0 }));
    assert_eq!(read(b"true"), Err(Error::ExpectedNumber { offset: 0 }));
    assert_eq!(read(b"\"3"), Err(Error::UnexpectedEnd));
}

// ---- Typed reads ------------------------------------------------------

#[test]
fn type_mismatch_keeps_value_readable() {
    let mut r = Reader::new(b"[ 1, \"s\", true, null, {}, []]");
    r.begin_array().unwrap();
    assert!(r.next_element().unwrap());
    assert_eq!(r.read_str().map(|_| ()), Err(Error::ExpectedString { offset: 2 }));
    assert_eq!(r.read_bool(), Err(Error::ExpectedBool { offset: 2 }));
    assert_eq!(r.read_null(), Err(Error::ExpectedNull { offset: 2 }));
    assert_eq!(r.begin_object(), Err(Error::ExpectedObject { offset: 2 }));
    assert_eq!(r.begin_array(), Err(Error::ExpectedArray { offset: 2 }));
    assert_eq!(r.peek_kind(), Ok(Kind::Number));
    assert_eq!(r.read_u64(), Ok(1));
    let kinds: Vec<Kind> = core::iter::from_fn(|| {
        r.next_element().unwrap().then(|| {
            let kind = r.peek_kind().unwrap();
            r.skip_value().unwrap();
            kind
        })
    })
    .collect();
    assert_eq!(kinds, [Kind::String, Kind::Bool, Kind::Null, Kind::Object, Kind::Array]);
    r.finish().unwrap();
    assert_eq!(Reader::new(b"false").read_bool(), Ok(false));
    assert_eq!(Reader::new(b"?").peek_kind(), Err(Error::UnexpectedByte { offset: 0 }));
}

#[test]
fn out_of_order_calls() {
    let mut r = Reader::new(b"1");
    assert_eq!(r.read_u64(), Ok(1));
    assert_eq!(r.read_u64(), Err(Error::OutOfOrder { offset: 1 }));
    assert_eq!(r.next_member().map(|_| ()), Err(Error::OutOfOrder { offset: 1 }));

    let mut r = Reader::new(b"[{}]");
    assert_eq!(r.next_element(), Err(Error::OutOfOrder { offset: 0 }));
    r.begin_array().unwrap();
    assert_eq!(r.next_member().map(|_| ()), Err(Error::OutOfOrder { offset: 1 }));
    assert_eq!(r.read_null(), Err(Error::OutOfOrder { offset: 1 }));
    assert!(r.next_element().unwrap());
    r.begin_object().unwrap();
    assert_eq!(r.next_element(), Err(Error::OutOfOrder { offset: 2 }));
    assert_eq!(r.next_member().map(|k| k.is_none()), Ok(true));
    assert_eq!(r.next_element(), Ok(false));
}

#[test]
fn unread_values_are_skipped_and_validated() {
    let doc = br#"{"a":{"deep":[1,{"x":"}"}]},"b":2,"c":[true]}"#;
    let mut r = Reader::new(doc);
    r.begin_object().unwrap();
    let mut b = None;
    while let Some(k) = r.next_member().unwrap() {
        if k.eq_str("b") {
            b = Some(r.read_u64().unwrap());
        }
    }
    assert_eq!(b, Some(2));

    // `finish` validates what was never looked at.
    let mut r = Reader::new(br#"{"a":1,"b":[1,2,}"#);
    r.begin_object().unwrap();
    assert!(r.next_member().unwrap().is_some());
    assert_eq!(r.finish(), Err(Error::UnexpectedByte { offset: 16 }));
    let mut r = Reader::new(br#"{"a":[1,[2]],"b":"c"} "#);
    r.begin_object().unwrap();
    r.next_member().unwrap();
    r.begin_array().unwrap();
    assert!(r.next_element().unwrap());
    assert_eq!(r.finish(), Ok(()));
    assert_eq!(Reader::new(b"[1,2] x").finish(), Err(Error::TrailingCharacters { offset: 6 }));
}

// ---- Depth ------------------------------------------------------------

fn nested(depth: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..depth {
        v.extend_from_slice(if i % 2 == 0 { b"[" } else { b"{\"k\":" });
    }
    v.push(b'0');
    for i in (0..depth).rev() {
        v.push(if i % 2 == 0 { b']' } else { b'}' });
    }
    v
}

#[test]
fn depth_limit() {
    let ok = nested(MAX_DEPTH);
    let deep = nested(MAX_DEPTH + 1);
    let offset = deep.iter().rposition(|&b| b == b'[' || b == b'{').unwrap();
    assert_eq!(validate(&ok), Ok(()));
    assert_eq!(Reader::new(&ok).raw_value(), Ok(&ok[..]));
    assert_eq!(validate(&deep), Err(Error::TooDeep { offset }));
    assert_eq!(Reader::new(&deep).raw_value(), Err(Error::TooDeep { offset }));
    // Far too deep input fails at the same place, without recursion.
    let huge = [vec![b'['; 10_000], vec![b']'; 10_000]].concat();
    assert_eq!(validate(&huge), Err(Error::TooDeep { offset: MAX_DEPTH }));

    // By hand: MAX_DEPTH arrays open, one more fails.
    let by_hand = [vec![b'['; MAX_DEPTH + 1], vec![b']'; MAX_DEPTH + 1]].concat();
    let mut r = Reader::new(&by_hand);
    for i in 0..MAX_DEPTH {
        assert_eq!(r.begin_array(), Ok(()));
        if i + 1 < MAX_DEPTH {
            assert!(r.next_element().unwrap());
        }
    }
    assert!(r.next_element().unwrap());
    assert_eq!(r.begin_array(), Err(Error::TooDeep { offset: MAX_DEPTH }));
}

/// Each level's kind is kept apart (one bit each): at every depth, a closing bracket of the
/// other kind is refused where it stands, and the right one accepted. At `MAX_DEPTH` every bit
/// is swapped in turn (not under Miri: a minute there); the shallow ones end inside the first
/// byte and just past it.
#[test]
fn every_level_keeps_its_kind() {
    let deepest = if cfg!(miri) { 17 } else { MAX_DEPTH };
    for depth in [1, 8, 9, deepest] {
        let ok = nested(depth);
        assert_eq!(validate(&ok), Ok(()), "depth {depth}");
        // Swap each closing bracket in turn for the other kind.
        let closing = ok.iter().position(|&b| b == b'0').unwrap() + 1;
        for at in closing..ok.len() {
            let mut bad = ok.clone();
            bad[at] = if bad[at] == b']' { b'}' } else { b']' };
            assert_eq!(validate(&bad), Err(Error::UnexpectedByte { offset: at }), "depth {depth}, at {at}");
        }
    }
}

/// Too deep to read, but ending before its brackets close: not JSON at all, so the error is
/// the input's end, as for shallow input, not the depth (SPEC §4.4 tells the two apart).
#[test]
fn too_deep_and_unterminated_is_unexpected_end() {
    let deep = nested(MAX_DEPTH + 1);
    let offset = deep.iter().rposition(|&b| b == b'[' || b == b'{').unwrap();
    for cut in [offset + 1, offset + 2, (offset + deep.len()) / 2, deep.len() - 1] {
        assert_eq!(validate(&deep[..cut]), Err(Error::UnexpectedEnd), "cut at {cut}");
    }
    assert_eq!(validate(&deep[..offset]), Err(Error::UnexpectedEnd));
    assert_eq!(validate(&vec![b'['; 10_000]), Err(Error::UnexpectedEnd));
    // Brackets inside strings, escaped quotes included, are not counted.
    let open = "[".repeat(MAX_DEPTH);
    let close = "]".repeat(MAX_DEPTH);
    let in_string = format!(r#"{open}["]]\"]]",{{"k":"\\"}}]{close}"#);
    assert_eq!(validate(in_string.as_bytes()), Err(Error::TooDeep { offset: MAX_DEPTH }));
    let unterminated = format!(r#"{open}["]]\"]]",{{"k":"\\"}}{close}"#);
    assert_eq!(validate(unterminated.as_bytes()), Err(Error::UnexpectedEnd));
    let open_string = format!(r#"{open}["{close}]"#);
    assert_eq!(validate(open_string.as_bytes()), Err(Error::UnexpectedEnd));
    // Closed but mismatched beyond the depth: the kinds are not tracked there.
    let mismatched = format!("{open}[}}{close}");
    assert_eq!(validate(mismatched.as_bytes()), Err(Error::TooDeep { offset: MAX_DEPTH }));
}

// ---- raw_value --------------------------------------------------------

#[test]
fn raw_value_exact_bytes() {
    let doc = br#"{"execution":{"jobId":"j1","jobDocument": {"a":"}{\"","b":[1,{"c":"]\\"}],"d":{}} ,"versionNumber":3}}"#;
    let mut r = Reader::new(doc);
    r.begin_object().unwrap();
    r.next_member().unwrap().unwrap();
    r.begin_object().unwrap();
    let mut raw = None;
    let mut version = None;
    while let Some(k) = r.next_member().unwrap() {
        if k.eq_str("jobDocument") {
            raw = Some(r.raw_value().unwrap());
        } else if k.eq_str("versionNumber") {
            version = Some(r.read_u64().unwrap());
        }
    }
    r.finish().unwrap();
    let raw = raw.unwrap();
    assert_eq!(raw, br#"{"a":"}{\"","b":[1,{"c":"]\\"}],"d":{}}"#);
    assert_eq!(version, Some(3));
    // The raw bytes are themselves a valid document.
    assert_eq!(validate(raw), Ok(()));

    assert_eq!(Reader::new(b" [1, 2] \n").raw_value(), Ok(&b"[1, 2]"[..]));
    assert_eq!(Reader::new(b"\"s\"\t").raw_value(), Ok(&b"\"s\""[..]));
    assert_eq!(Reader::new(b"-1.5e3 ").raw_value(), Ok(&b"-1.5e3"[..]));
    assert_eq!(Reader::new(b"{\"a\":[}").raw_value(), Err(Error::UnexpectedByte { offset: 6 }));
    assert_eq!(Reader::new(b"{} 1").raw_value(), Err(Error::TrailingCharacters { offset: 3 }));
}

#[test]
fn error_display_and_offset() {
    assert_eq!(Error::UnexpectedByte { offset: 7 }.to_string(), "unexpected byte at byte 7");
    assert_eq!(Error::UnexpectedEnd.to_string(), "unexpected end of JSON input");
    assert_eq!(Error::TooDeep { offset: 3 }.offset(), Some(3));
    assert_eq!(Error::BufferTooSmall.offset(), None);
    assert_eq!(BufferFull.to_string(), "JSON output buffer full");
    let e: &dyn core::error::Error = &Error::InvalidUtf8 { offset: 1 };
    assert_eq!(format!("{e}"), "invalid UTF-8 at byte 1");
}

// ---- Writer -----------------------------------------------------------

fn write_with(
    size: usize,
    f: impl Fn(&mut Writer<'_>) -> Result<(), BufferFull>,
) -> Result<Vec<u8>, BufferFull> {
    let mut buf = vec![0xAA; size + 8];
    let (buf, guard) = buf.split_at_mut(size);
    let mut w = Writer::new(buf);
    let result = f(&mut w);
    let out = w.finish().map(<[u8]>::to_vec);
    assert!(guard.iter().all(|&b| b == 0xAA), "wrote past the end");
    assert_eq!(result.is_ok(), out.is_ok());
    out
}

#[test]
fn writer_builds_update_request() {
    let out = write_with(200, |w| {
        w.begin_object()?;
        w.key("status")?;
        w.string("IN_PROGRESS")?;
        w.key("statusDetails")?;
        w.begin_object()?;
        w.key("k")?;
        w.string("v")?;
        w.key("n")?;
        w.begin_array()?;
        w.u64(1)?;
        w.i64(-2)?;
        w.bool(true)?;
        w.null()?;
        w.begin_array()?;
        w.end_array()?;
        w.begin_object()?;
        w.end_object()?;
        w.raw(b"{\"x\":[1]}")?;
        w.end_array()?;
        w.end_object()?;
        w.key("expectedVersion")?;
        w.u64(3)?;
        w.key("clientToken")?;
        w.string("abc")?;
        w.end_object()
    })
    .unwrap();
    assert_eq!(
        core::str::from_utf8(&out).unwrap(),
        r#"{"status":"IN_PROGRESS","statusDetails":{"k":"v","n":[1,-2,true,null,[],{},{"x":[1]}]},"expectedVersion":3,"clientToken":"abc"}"#
    );
    assert_eq!(validate(&out), Ok(()));
}

#[test]
fn writer_escapes_strings() {
    let out = write_with(100, |w| w.string("q\"b\\s/\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}é😀")).unwrap();
    assert_eq!(core::str::from_utf8(&out).unwrap(), "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}é😀\"");
    let out = write_with(100, |w| {
        w.begin_object()?;
        w.key("a\"\n")?;
        w.u64(0)?;
        w.end_object()
    })
    .unwrap();
    assert_eq!(out, b"{\"a\\\"\\n\":0}");
}

#[test]
fn writer_numbers() {
    for (v, s) in [(0, "0"), (7, "7"), (10, "10"), (u64::MAX, "18446744073709551615")] {
        assert_eq!(write_with(32, |w| w.u64(v)).unwrap(), s.as_bytes());
    }
    for (v, s) in
        [(0, "0"), (-1, "-1"), (i64::MIN, "-9223372036854775808"), (i64::MAX, "9223372036854775807")]
    {
        assert_eq!(write_with(32, |w| w.i64(v)).unwrap(), s.as_bytes());
    }
}

#[test]
fn writer_exact_fit_and_one_short() {
    type Op = fn(&mut Writer<'_>) -> Result<(), BufferFull>;
    // Each case is preceded by `[1` so the comma logic runs too.
    let cases: [(&str, Op); 14] = [
        ("begin_object", |w| w.begin_object()),
        ("end_object", |w| w.end_object()),
        ("begin_array", |w| w.begin_array()),
        ("end_array", |w| w.end_array()),
        ("key", |w| w.key("k\"")),
        ("string", |w| w.string("a\u{1}\"é")),
        ("u64", |w| w.u64(u64::MAX)),
        ("i64", |w| w.i64(i64::MIN)),
        ("i64+", |w| w.i64(42)),
        ("true", |w| w.bool(true)),
        ("false", |w| w.bool(false)),
        ("null", |w| w.null()),
        ("raw", |w| w.raw(b"{\"a\":[]}")),
        ("after key", |w| {
            w.key("k")?;
            w.string("v")
        }),
    ];
    for (name, op) in cases {
        let run = |w: &mut Writer<'_>| {
            w.begin_array()?;
            w.u64(1)?;
            op(w)
        };
        let full = write_with(100, run).unwrap();
        assert_eq!(write_with(full.len(), run).as_deref(), Ok(&full[..]), "{name}");
        assert_eq!(write_with(full.len() - 1, run), Err(BufferFull), "{name}");
        // And as the very first call, into an exactly sized buffer.
        let alone = write_with(100, op).unwrap();
        assert_eq!(write_with(alone.len(), op).as_deref(), Ok(&alone[..]), "{name}");
        assert_eq!(write_with(alone.len() - 1, op), Err(BufferFull), "{name}");
    }
}

#[test]
fn writer_error_is_sticky() {
    let mut buf = [0; 4];
    let mut w = Writer::new(&mut buf);
    assert_eq!(w.string("toolong"), Err(BufferFull));
    assert_eq!(w.position(), 1); // the opening quote
    assert_eq!(w.finish(), Err(BufferFull));
    let mut w = Writer::new(&mut []);
    assert_eq!(w.null(), Err(BufferFull));
    assert_eq!(w.finish(), Err(BufferFull));
    assert_eq!(Writer::new(&mut []).finish(), Ok(&b""[..]));
}

#[test]
fn round_trip_document() {
    let out = write_with(300, |w| {
        w.begin_object()?;
        w.key("s\u{1}")?;
        w.string("\"x\"\\y\u{0}😀")?;
        w.key("u")?;
        w.u64(u64::MAX)?;
        w.key("i")?;
        w.i64(i64::MIN)?;
        w.key("a")?;
        w.begin_array()?;
        w.bool(false)?;
        w.null()?;
        w.end_array()?;
        w.end_object()
    })
    .unwrap();
    let mut r = Reader::new(&out);
    r.begin_object().unwrap();
    let k = r.next_member().unwrap().unwrap();
    assert_eq!(unescape(k), "s\u{1}");
    assert_eq!(unescape(r.read_str().unwrap()), "\"x\"\\y\u{0}😀");
    assert!(r.next_member().unwrap().unwrap().eq_str("u"));
    assert_eq!(r.read_u64(), Ok(u64::MAX));
    assert!(r.next_member().unwrap().unwrap().eq_str("i"));
    assert_eq!(r.read_i64(), Ok(i64::MIN));
    assert!(r.next_member().unwrap().unwrap().eq_str("a"));
    r.begin_array().unwrap();
    assert!(r.next_element().unwrap());
    assert_eq!(r.read_bool(), Ok(false));
    assert!(r.next_element().unwrap());
    assert_eq!(r.read_null(), Ok(()));
    assert!(!r.next_element().unwrap());
    assert!(r.next_member().unwrap().is_none());
    r.finish().unwrap();
}

// ---- Properties -------------------------------------------------------

/// Drives a reader with arbitrary calls; must never panic.
fn drive(input: &[u8], ops: &[u8]) {
    let mut r = Reader::new(input);
    let mut buf = [0; 8];
    for &op in ops {
        let _ = match op % 13 {
            0 => r
                .next_member()
                .map(|k| k.map(|k| (k.unescape_into(&mut buf).is_ok(), k.eq_str("a"))))
                .map(drop),
            1 => r.next_element().map(drop),
            2 => r.begin_object(),
            3 => r.begin_array(),
            4 => r.read_str().map(|s| s.unescape_into(&mut buf).map(drop)).map(drop),
            5 => r.read_u64().map(drop),
            6 => r.read_i64().map(drop),
            7 => r.read_u64_or_string().map(drop),
            8 => r.read_bool().map(drop),
            9 => r.read_null(),
            10 => r.skip_value(),
            11 => r.raw_value().map(drop),
            _ => r.peek_kind().map(drop),
        };
    }
    let _ = r.finish();
}

fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"{}[]\",:\\ 0123456789-+.eEtrufalsn\x01\xff\xc3\xa9u".to_vec();
    proptest::collection::vec(proptest::sample::select(alphabet), 0..64)
}

proptest! {
    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn strings_round_trip(s in any::<String>(), key in "\\PC{0,8}") {
        let mut buf = vec![0; s.len() * 6 + key.len() * 6 + 16];
        let mut w = Writer::new(&mut buf);
        w.begin_object().unwrap();
        w.key(&key).unwrap();
        w.string(&s).unwrap();
        w.end_object().unwrap();
        let out = w.finish().unwrap();
        let mut r = Reader::new(out);
        r.begin_object().unwrap();
        let k = r.next_member().unwrap().unwrap();
        prop_assert!(k.eq_str(&key));
        let v = r.read_str().unwrap();
        prop_assert!(v.eq_str(&s));
        let mut dec = vec![0; s.len()];
        prop_assert_eq!(v.unescape_into(&mut dec), Ok(s.as_str()));
        prop_assert!(r.next_member().unwrap().is_none());
        prop_assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn numbers_round_trip(u in any::<u64>(), i in any::<i64>()) {
        let mut buf = [0; 64];
        let mut w = Writer::new(&mut buf);
        w.begin_array().unwrap();
        w.u64(u).unwrap();
        w.i64(i).unwrap();
        w.u64(u).unwrap();
        w.end_array().unwrap();
        let out = w.finish().unwrap();
        let want = format!("[{u},{i},{u}]");
        prop_assert_eq!(out, want.as_bytes());
        let mut r = Reader::new(out);
        r.begin_array().unwrap();
        prop_assert!(r.next_element().unwrap());
        prop_assert_eq!(r.read_u64(), Ok(u));
        prop_assert!(r.next_element().unwrap());
        prop_assert_eq!(r.read_i64(), Ok(i));
        prop_assert!(r.next_element().unwrap());
        prop_assert_eq!(r.read_u64_or_string(), Ok(u));
        prop_assert!(!r.next_element().unwrap());
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..64), ops in proptest::collection::vec(any::<u8>(), 0..32)) {
        drive(&input, &ops);
        let _ = validate(&input);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest needs the file system; hours under Miri")]
    fn jsonish_bytes_never_panic(input in jsonish(), ops in proptest::collection::vec(any::<u8>(), 0..32)) {
        drive(&input, &ops);
        // A document that validates is returned whole by `raw_value`.
        if validate(&input).is_ok() {
            let raw = Reader::new(&input).raw_value().unwrap();
            prop_assert_eq!(raw, input.trim_ascii());
        }
    }
}
