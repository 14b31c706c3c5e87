//! `parameters::substitute` against a `std` oracle on generated documents: placeholders among
//! text (multi-byte characters included), names with and without values, unclosed placeholders,
//! and output buffers from empty to ample (SPEC AMBIG-31).

#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;

use iot_jobs_core::parameters::{PREFIX, SubstitutionError, placeholders, substitute};
use proptest::prelude::*;

/// What `substitute` must answer: the first problem in document order, or the text.
fn oracle(doc: &str, values: &BTreeMap<String, String>, cap: usize) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = doc;
    let mut at = 0;
    let push = |out: &mut String, s: &str| {
        if out.len() + s.len() > cap {
            return Err("overflow".to_owned());
        }
        out.push_str(s);
        Ok(())
    };
    while let Some(open) = rest.find(PREFIX) {
        push(&mut out, &rest[..open])?;
        at += open;
        let after = &rest[open + PREFIX.len()..];
        let Some(close) = after.find('}') else { return Err(format!("unterminated {at}")) };
        let name = &after[..close];
        let v = values.get(name).ok_or_else(|| format!("missing {name}"))?;
        push(&mut out, v)?;
        at += PREFIX.len() + close + 1;
        rest = &after[close + 1..];
    }
    push(&mut out, rest)?;
    Ok(out)
}

fn describe(e: SubstitutionError<'_>) -> String {
    match e {
        SubstitutionError::Missing(n) => format!("missing {n}"),
        SubstitutionError::Unterminated(at) => format!("unterminated {at}"),
        SubstitutionError::Overflow => "overflow".to_owned(),
    }
}

/// A document piece: text, a placeholder, or an unclosed prefix.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z{}\"$: é€]{0,12}",
        "[abcd]{1,2}".prop_map(|n| format!("{PREFIX}{n}}}")),
        Just(PREFIX.to_owned()),
        Just("${aws:iot:s3-presigned-url:x}".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn substitute_agrees_with_the_oracle(
        pieces in prop::collection::vec(piece(), 0..8),
        values in prop::collection::btree_map("[abcd]{1,2}", "[x-z€]{0,6}", 0..6),
        cap in 0usize..160,
    ) {
        let doc: String = pieces.concat();
        let mut buf = vec![0u8; cap];
        let got = substitute(&doc, |k| values.get(k).map(String::as_str), &mut buf)
            .map(|n| String::from_utf8(buf[..n].to_vec()).unwrap())
            .map_err(describe);
        prop_assert_eq!(got, oracle(&doc, &values, cap));
        // The names placeholders() lists are the ones the oracle meets, in order.
        let names: Result<Vec<&str>, _> = placeholders(&doc).collect();
        if let Ok(names) = names {
            let mut expected = Vec::new();
            let mut rest = doc.as_str();
            while let Some(open) = rest.find(PREFIX) {
                let after = &rest[open + PREFIX.len()..];
                let close = after.find('}').unwrap();
                expected.push(&after[..close]);
                rest = &after[close + 1..];
            }
            prop_assert_eq!(names, expected);
        }
    }
}
