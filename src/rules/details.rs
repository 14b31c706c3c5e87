//! statusDetails writes: replace or merge, and the 10-pair cap (SPEC R14, AMBIG-16).

use crate::error::Rejection;
use crate::id::{Field, FieldError, StatusDetails, Violation};
use crate::policy::{DetailsWrite, Policy};

/// A statusDetails map as a list of pairs, at most [`StatusDetails::MAX_PAIRS`].
pub type DetailsPairs<'a> = heapless::Vec<(&'a str, &'a str), { StatusDetails::MAX_PAIRS }>;

/// The map an execution stores after a write that carries `update` (SPEC R14). `existing`: the
/// pairs stored now, in stored order (the caller keeps its own storage). An empty answer
/// means the execution stores no map.
///
/// Under [`DetailsWrite::Replace`] (SPEC R14 default) the update is the new map; under
/// [`DetailsWrite::Merge`] (SPEC R14 alternative) the stored pairs whose key the update does
/// not give are kept, in stored order, then the update's pairs follow in its order.
///
/// # Errors
/// `InvalidRequestException` ([`Violation::TooManyPairs`] on `statusDetails`) when a merge
/// would hold more than 10 pairs (SPEC R14, AMBIG-16: still at most 10).
pub fn merge_details<'a, I>(
    existing: I,
    update: &StatusDetails<'a>,
    policy: &Policy,
) -> Result<DetailsPairs<'a>, Rejection>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
    I::IntoIter: Clone,
{
    let kept = existing.into_iter().filter(|(k, _)| update.get(k).is_none());
    let kept = match policy.details_write {
        // SPEC R14: a write that carries statusDetails replaces the map.
        DetailsWrite::Replace => None,
        // SPEC R14 alternative: given keys overwrite or add.
        DetailsWrite::Merge => Some(kept),
    };
    let mut out = DetailsPairs::new();
    for pair in kept.clone().into_iter().flatten().chain(update.pairs().iter().copied()) {
        if out.push(pair).is_err() {
            // SPEC R14: still at most 10 pairs; the error says how many the merge would hold.
            let len = kept.into_iter().flatten().count().saturating_add(update.len());
            let violation = Violation::TooManyPairs { max: StatusDetails::MAX_PAIRS, len };
            return Err(Rejection::InvalidField(FieldError { field: Field::StatusDetails, violation }));
        }
    }
    Ok(out)
}
