//! statusDetails: where an execution's map is kept, and its writes (SPEC R14). The encoding and
//! the stores are [`crate::details`]; the merge is [`rules::merge_details`].

use super::Registry;
use super::entries::ExecIx;
use super::slab::Ix;
use super::storage::Storage;
use crate::details::{DetailsError, DetailsStore, Pairs};
use crate::error::{Rejection, Table};
use crate::field::{Field, FieldError, Violation};
use crate::id::StatusDetails;
use crate::rules;

/// Marks the positions of the statusDetails table, whatever store the host chose.
#[derive(Debug)]
pub(super) enum Map {}

/// The position of a statusDetails map in its table.
pub(super) type DetailsIx = Ix<Map>;

/// The answer for a map its store refused: a request error that says so when the map is too
/// large for the store (never "table full" for a size problem), the table's exhaustion when the
/// host ran out of memory.
const fn refusal(e: DetailsError) -> Rejection {
    match e {
        DetailsError::TooLarge { len, capacity } => Rejection::InvalidField(FieldError::new(
            Field::StatusDetails,
            Violation::TooLarge { len, capacity },
        )),
        DetailsError::OutOfMemory { .. } => Rejection::CapacityExhausted(Table::StatusDetails),
    }
}

impl<S: Storage> Registry<S> {
    /// The slab position of the map at `d`.
    fn map_ix(d: DetailsIx) -> Option<Ix<S::DetailsMap>> {
        Ix::new(d.get())
    }

    /// The encoded map of execution `x`; empty when it has none.
    pub(super) fn details_of(&self, x: ExecIx) -> &[u8] {
        let d = self.exec_entry(x).and_then(|e| e.details).and_then(Self::map_ix);
        d.and_then(|d| self.details.at(d)).map_or(&[], |(_, m)| m.encoded())
    }

    /// The stored map after a write of `new` (R14), encoded in the host's store; checked before
    /// anything changes. `None`: no map.
    fn details_after(&self, x: ExecIx, new: &StatusDetails<'_>) -> Result<Option<S::DetailsMap>, Rejection> {
        let pairs = rules::merge_details(Pairs::new(self.details_of(x)), new, &self.policy)?;
        if pairs.is_empty() {
            return Ok(None);
        }
        let merged = StatusDetails::new(&pairs).map_err(Rejection::InvalidField)?;
        let mut map = S::DetailsMap::default();
        map.store(&merged).map_err(refusal)?;
        Ok(Some(map))
    }

    /// The map to store for a write that carries `details` (`None`: the write leaves the map
    /// alone), checked against its store and the details table's room before anything changes.
    pub(super) fn prepare_details(
        &self,
        x: ExecIx,
        details: Option<&StatusDetails<'_>>,
    ) -> Result<Option<Option<S::DetailsMap>>, Rejection> {
        let Some(details) = details else { return Ok(None) };
        let after = self.details_after(x, details)?;
        let has_slot = self.slot_of(x).is_some();
        if after.is_some() && !has_slot && self.details.room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::StatusDetails));
        }
        Ok(Some(after))
    }

    /// The table position of execution `x`'s map, if it has one.
    fn slot_of(&self, x: ExecIx) -> Option<Ix<S::DetailsMap>> {
        let d = self.exec_entry(x)?.details.and_then(Self::map_ix)?;
        self.details.at(d).map(|_| d)
    }

    /// Stores the map `prepare_details` checked (`None`: no map).
    pub(super) fn store_details(&mut self, x: ExecIx, after: Option<S::DetailsMap>) -> Result<(), Rejection> {
        match (after, self.slot_of(x)) {
            (Some(map), Some(d)) => {
                let slot =
                    self.details.at_mut(d).ok_or(Rejection::LogicBug("a statusDetails slot vanished"))?;
                *slot = map;
            }
            (Some(map), None) => {
                let (_, slot) = self.details.insert(map).ok_or(Rejection::LogicBug(
                    "the statusDetails table was full after its room was checked",
                ))?;
                self.exec_mut(x)?.details = DetailsIx::new(slot.get());
            }
            (None, _) => self.free_details(x)?,
        }
        Ok(())
    }

    /// Frees the execution's map, if it has one.
    pub(super) fn free_details(&mut self, x: ExecIx) -> Result<(), Rejection> {
        if let Some((key, _)) = self.slot_of(x).and_then(|d| self.details.at(d)) {
            self.details.remove(key);
        }
        self.exec_mut(x)?.details = None;
        Ok(())
    }
}
