//! The JSON reader and writer: the reader never panics on any bytes, two ways of reading the same
//! input (a full walk and `skip_value`) agree, and writer → reader round-trips every value.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use iot_jobs_core::__json::{Error, Kind, MAX_DEPTH, Reader, Writer};
use libfuzzer_sys::fuzz_target;

/// Reads every value of the document, unescaping every string, without recursion.
fn walk(input: &[u8]) -> core::result::Result<usize, Error> {
    let mut r = Reader::new(input);
    let mut stack: Vec<bool> = Vec::new();
    let mut need_value = true;
    let mut values = 0usize;
    loop {
        if need_value {
            values += 1;
            match r.peek_kind()? {
                Kind::Object => {
                    r.begin_object()?;
                    stack.push(true);
                }
                Kind::Array => {
                    r.begin_array()?;
                    stack.push(false);
                }
                Kind::String => {
                    let s = r.read_str()?;
                    let mut buf = vec![0u8; s.raw().len()];
                    let text = s.unescape_into(&mut buf)?;
                    assert!(s.eq_str(text), "eq_str disagrees with unescape_into");
                    assert_eq!(s.as_str().is_some(), !s.has_escapes());
                }
                Kind::Number => r.skip_value()?,
                Kind::Bool => {
                    r.read_bool()?;
                }
                Kind::Null => r.read_null()?,
            }
            need_value = false;
            if stack.is_empty() {
                break;
            }
        } else {
            let object = *stack.last().expect("inside a container");
            let more = if object { r.next_member()?.is_some() } else { r.next_element()? };
            if more {
                need_value = true;
            } else {
                stack.pop();
                if stack.is_empty() {
                    break;
                }
            }
        }
    }
    r.finish()?;
    Ok(values)
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    Str(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

fn value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let container = depth < MAX_DEPTH;
    Ok(match u.int_in_range(0..=if container { 6u8 } else { 4 })? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::U64(u.arbitrary()?),
        3 => Value::I64(u.arbitrary()?),
        4 => Value::Str(String::arbitrary(u)?),
        5 => {
            let n = u.int_in_range(0..=4u8)?;
            Value::Array((0..n).map(|_| value(u, depth + 1)).collect::<Result<_>>()?)
        }
        _ => {
            let n = u.int_in_range(0..=4u8)?;
            let mut members = Vec::new();
            for _ in 0..n {
                members.push((String::arbitrary(u)?, value(u, depth + 1)?));
            }
            Value::Object(members)
        }
    })
}

fn write(w: &mut Writer<'_>, v: &Value) {
    let full = "buffer sized generously";
    match v {
        Value::Null => w.null().expect(full),
        Value::Bool(b) => w.bool(*b).expect(full),
        Value::U64(n) => w.u64(*n).expect(full),
        Value::I64(n) => w.i64(*n).expect(full),
        Value::Str(s) => w.string(s).expect(full),
        Value::Array(items) => {
            w.begin_array().expect(full);
            for item in items {
                write(w, item);
            }
            w.end_array().expect(full);
        }
        Value::Object(members) => {
            w.begin_object().expect(full);
            for (k, item) in members {
                w.key(k).expect(full);
                write(w, item);
            }
            w.end_object().expect(full);
        }
    }
}

/// Reads `v` back from `r`, directed by the expected value.
fn read(r: &mut Reader<'_>, v: &Value) {
    let text = |s: iot_jobs_core::__json::JsonStr<'_>| {
        let mut buf = vec![0u8; s.raw().len()];
        s.unescape_into(&mut buf).expect("unescapes").to_owned()
    };
    match v {
        Value::Null => r.read_null().expect("null"),
        Value::Bool(b) => assert_eq!(r.read_bool(), Ok(*b)),
        Value::U64(n) => assert_eq!(r.read_u64(), Ok(*n)),
        Value::I64(n) => assert_eq!(r.read_i64(), Ok(*n)),
        Value::Str(s) => {
            let got = r.read_str().expect("string");
            assert!(got.eq_str(s));
            assert_eq!(&text(got), s);
        }
        Value::Array(items) => {
            r.begin_array().expect("array");
            for item in items {
                assert_eq!(r.next_element(), Ok(true));
                read(r, item);
            }
            assert_eq!(r.next_element(), Ok(false));
        }
        Value::Object(members) => {
            r.begin_object().expect("object");
            for (k, item) in members {
                let key = r.next_member().expect("member").expect("a member");
                assert_eq!(&text(key), k);
                read(r, item);
            }
            assert_eq!(r.next_member().map(|m| m.is_some()), Ok(false));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        // Any bytes: never panics, and a full walk agrees with skip_value.
        let walked = walk(rest);
        let mut r = Reader::new(rest);
        let skipped = r.skip_value().and_then(|()| r.finish());
        assert_eq!(walked.is_ok(), skipped.is_ok(), "walk {walked:?} vs skip {skipped:?}");
        let mut r = Reader::new(rest);
        if let Ok(raw) = r.raw_value() {
            assert!(walk(raw).is_ok() || walked.is_err());
        }
    } else {
        let Ok(v) = value(&mut Unstructured::new(rest), 0) else { return };
        let mut buf = vec![0u8; 64 * rest.len() + 1024];
        let mut w = Writer::new(&mut buf);
        write(&mut w, &v);
        let out = w.finish().expect("fits").to_vec();
        assert!(walk(&out).is_ok(), "the writer's output is valid JSON: {:?}", String::from_utf8_lossy(&out));
        let mut r = Reader::new(&out);
        read(&mut r, &v);
        r.finish().expect("only whitespace after the value");
    }
});
