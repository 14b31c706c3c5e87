//! The JSON reader and writer, driven by opaque operation codes over opaque bytes.

use core::fmt::Write as _;
use core::hint::black_box;

use iot_jobs_core::__json::{BufferFull, Error, Kind, Reader, Writer};

use crate::{Fmt, JSON_BUF, TEXT, opaque};

/// Turns a result into a plain integer (never black-box an enum itself).
fn code<T>(r: Result<T, Error>, ok: impl FnOnce(T) -> usize) -> usize {
    match r {
        Ok(v) => ok(v),
        Err(e) => {
            let mut out = Fmt::<48>::new();
            let _ = write!(out, "{e}");
            black_box(&out.buf);
            e.offset().unwrap_or(usize::MAX)
        }
    }
}

pub fn exercise_reader(input: &[u8], ops: &[u8]) {
    let mut scratch = [0_u8; 32];
    let mut r = Reader::new(input);
    for &op in ops {
        let n = match op % 16 {
            0 => code(r.next_member(), |k| match k {
                None => 1,
                Some(k) => {
                    let mut buf = [0_u8; 16];
                    let len = buf.len().min(usize::from(op >> 4));
                    let u = code(k.unescape_into(buf.get_mut(..len).unwrap_or_default()), |s| {
                        black_box(s.as_bytes());
                        s.len()
                    });
                    let text = opaque(&raw const TEXT);
                    let text = core::str::from_utf8(&text).unwrap_or("status");
                    u ^ usize::from(k.eq_str(text))
                        ^ k.offset()
                        ^ usize::from(k.has_escapes())
                        ^ k.as_str().map_or(3, str::len)
                        ^ k.raw().len()
                }
            }),
            1 => code(r.next_element(), usize::from),
            2 => code(r.begin_object(), |()| 2),
            3 => code(r.begin_array(), |()| 3),
            4 => code(r.read_str(), |s| {
                code(s.unescape_into(&mut scratch), |s| {
                    black_box(s.as_bytes());
                    s.len()
                })
            }),
            5 => code(r.read_u64(), |v| v as usize),
            6 => code(r.read_i64(), |v| v as usize),
            7 => code(r.read_u64_or_string(), |v| v as usize),
            8 => code(r.read_bool(), usize::from),
            9 => code(r.read_null(), |()| 9),
            10 => code(r.skip_value(), |()| 10),
            11 => code(r.raw_value(), |raw| {
                black_box(raw);
                raw.len()
            }),
            12 => code(r.peek_kind(), |k| match k {
                Kind::Object => 1,
                Kind::Array => 2,
                Kind::String => 3,
                Kind::Number => 4,
                Kind::Bool => 5,
                Kind::Null => 6,
            }),
            13 => r.offset(),
            14 => code(r.clone().finish(), |()| 14),
            _ => code(Err(Error::DuplicateKey { offset: usize::from(op) }), |()| 0),
        };
        black_box(n);
    }
    black_box(code(r.finish(), |()| 0));
}

pub fn exercise_writer(input: &[u8], ops: &[u8]) {
    let mut buf = opaque(&raw const JSON_BUF);
    let len = black_box(usize::from(ops.first().copied().unwrap_or(0)));
    let mut w = Writer::new(buf.get_mut(..len).unwrap_or_default());
    let text = core::str::from_utf8(input).unwrap_or("x\"\\\n\u{1}é");
    let number = u64::from_le_bytes(*input.first_chunk().unwrap_or(&[0; 8]));
    for &op in ops {
        let r = match op % 14 {
            0 => w.begin_object(),
            1 => w.end_object(),
            2 => w.begin_array(),
            3 => w.end_array(),
            4 => w.key(text),
            5 => w.string(text),
            6 => w.u64(number),
            7 => w.i64(number as i64),
            8 => w.bool(op & 0x80 != 0),
            9 => w.null(),
            10 => w.raw(input),
            11 => {
                black_box(w.position());
                Ok(())
            }
            _ => {
                let mut out = Fmt::<48>::new();
                let _ = write!(out, "{}", BufferFull);
                black_box(&out.buf);
                Ok(())
            }
        };
        black_box(r.is_ok());
    }
    match w.finish() {
        Ok(out) => black_box(out.len()),
        Err(_) => black_box(0),
    };
}
