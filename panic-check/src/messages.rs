//! The wire and JSON parts, on opaque bytes.

use core::hint::black_box;

use crate::{OPS, WIRE_OUT, WIRE_SCRATCH, opaque};

pub fn exercise(inp: &[u8; 1024]) {
    let ops = opaque(&raw const OPS);
    let json_input = inp.get(..black_box(256)).unwrap_or_default();
    crate::json::exercise_reader(json_input, &ops);
    crate::json::exercise_writer(json_input, &ops);
    let mut scratch = opaque(&raw const WIRE_SCRATCH);
    let mut out = opaque(&raw const WIRE_OUT);
    let wire_input = inp.get(..usize::from(ops[0]) * 4).unwrap_or(inp);
    crate::wire::exercise(
        wire_input,
        scratch.get_mut(..usize::from(ops[1]) * 2).unwrap_or_default(),
        out.get_mut(..usize::from(ops[2]) * 4).unwrap_or_default(),
    );
}
