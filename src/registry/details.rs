//! statusDetails: the stored encoding and its writes (SPEC R14).

use super::Registry;
use super::entries::ExecIx;
use super::slab::Ix;
use super::storage::Storage;
use crate::error::{Rejection, Table};
use crate::id::StatusDetails;
use crate::rules;

/// The largest encoded statusDetails map one execution stores, in bytes (each pair costs its
/// key, its value and 3 bytes of lengths). A larger map is refused with
/// `CapacityExhausted(StatusDetails)`, never truncated.
pub const DETAILS_BYTES: usize = 1024;

/// The position of a statusDetails map in its table.
pub(super) type DetailsIx = Ix<DetailsBuf>;

/// A stored statusDetails map: `[key len: u8][value len: u16 LE][key][value]` per pair.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DetailsBuf(pub(super) heapless::Vec<u8, DETAILS_BYTES>);

impl DetailsBuf {
    pub(super) fn encode(pairs: &[(&str, &str)]) -> Option<Self> {
        let mut out = heapless::Vec::new();
        for (k, v) in pairs {
            let kl = u8::try_from(k.len()).ok()?;
            let vl = u16::try_from(v.len()).ok()?.to_le_bytes();
            out.extend_from_slice(&[kl, vl[0], vl[1]]).ok()?;
            out.extend_from_slice(k.as_bytes()).ok()?;
            out.extend_from_slice(v.as_bytes()).ok()?;
        }
        Some(Self(out))
    }

    /// Appends one pair; false when it does not fit.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(super) fn push(&mut self, k: &str, v: &str) -> bool {
        let (Ok(kl), Ok(vl)) = (u8::try_from(k.len()), u16::try_from(v.len())) else { return false };
        let vl = vl.to_le_bytes();
        let fits =
            self.0.len().saturating_add(3).saturating_add(k.len()).saturating_add(v.len()) <= DETAILS_BYTES;
        fits && self.0.extend_from_slice(&[kl, vl[0], vl[1]]).is_ok()
            && self.0.extend_from_slice(k.as_bytes()).is_ok()
            && self.0.extend_from_slice(v.as_bytes()).is_ok()
    }

    /// The pairs, in stored order.
    pub fn pairs(&self) -> DetailsIter<'_> {
        DetailsIter(self.0.as_slice())
    }
}

/// The pairs of a stored statusDetails map.
#[derive(Debug, Clone)]
pub struct DetailsIter<'a>(pub(super) &'a [u8]);

impl<'a> Iterator for DetailsIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (&[kl, v0, v1], rest) = self.0.split_first_chunk::<3>()?;
        let (k, rest) = rest.split_at_checked(usize::from(kl))?;
        let (v, rest) = rest.split_at_checked(usize::from(u16::from_le_bytes([v0, v1])))?;
        self.0 = rest;
        Some((core::str::from_utf8(k).ok()?, core::str::from_utf8(v).ok()?))
    }
}

impl<S: Storage> Registry<S> {
    /// The stored map after a write of `new` (R14), encoded; checked before anything changes.
    pub(super) fn details_after(
        &self,
        x: ExecIx,
        new: StatusDetails<'_>,
    ) -> Result<Option<DetailsBuf>, Rejection> {
        let full = Rejection::CapacityExhausted(Table::StatusDetails);
        let old = self.exec_entry(x).and_then(|e| self.details.at(e.details?)).map(|(_, d)| d);
        let pairs = rules::merge_details(old.into_iter().flat_map(DetailsBuf::pairs), new, &self.policy)?;
        if pairs.is_empty() {
            return Ok(None);
        }
        DetailsBuf::encode(&pairs).map(Some).ok_or(full)
    }

    /// The map to store for a write that carries `details` (`None`: the write leaves the map
    /// alone), checked against the details table's room before anything changes.
    pub(super) fn prepare_details(
        &self,
        x: ExecIx,
        details: Option<StatusDetails<'_>>,
    ) -> Result<Option<Option<DetailsBuf>>, Rejection> {
        let Some(details) = details else { return Ok(None) };
        let after = self.details_after(x, details)?;
        let has_slot =
            self.exec_entry(x).and_then(|e| e.details).is_some_and(|d| self.details.at(d).is_some());
        if after.is_some() && !has_slot && self.details.room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::StatusDetails));
        }
        Ok(Some(after))
    }

    /// Stores the map `prepare_details` checked (`None`: no map).
    pub(super) fn store_details(&mut self, x: ExecIx, after: Option<DetailsBuf>) -> Result<(), Rejection> {
        let current = self.exec_mut(x)?.details;
        match (after, current.and_then(|d| self.details.at_mut(d))) {
            (Some(buf), Some(slot)) => *slot = buf,
            (Some(buf), None) => {
                let (_, slot) = self.details.insert(buf).ok_or(Rejection::LogicBug(
                    "the statusDetails table was full after its room was checked",
                ))?;
                self.exec_mut(x)?.details = Some(slot);
            }
            (None, _) => self.free_details(x)?,
        }
        Ok(())
    }

    /// Frees the execution's map, if it has one.
    pub(super) fn free_details(&mut self, x: ExecIx) -> Result<(), Rejection> {
        let current = self.exec_mut(x)?.details;
        if let Some((key, _)) = current.and_then(|d| self.details.at(d)) {
            self.details.remove(key);
        }
        self.exec_mut(x)?.details = None;
        Ok(())
    }
}
