//! The tables a host provides.

use super::entries::{ExecutionEntry, JobEntry, PairEntry, ThingEntry};
use super::slab::{Entry, Slots};
use super::timers::Timer;
use crate::details::{DetailsBuf, DetailsStore, MAX_ENCODED_LEN};

/// The tables a registry keeps its state in, provided by the host.
///
/// A table holds at most [`MAX_ENTRIES`](super::MAX_ENTRIES) (67,108,863) entries, whatever its
/// capacity: past them an operation is refused with the table's
/// [`CapacityExhausted`](crate::Rejection::CapacityExhausted), as when it is full.
pub trait Storage {
    /// Jobs.
    type Jobs: Slots<Entry<JobEntry>>;
    /// Things.
    type Things: Slots<Entry<ThingEntry>>;
    /// Executions.
    type Executions: Slots<Entry<ExecutionEntry>>;
    /// One execution's statusDetails map: [`DetailsBuf<B>`] (inline, `B` bytes) or, with the
    /// `alloc` feature, `Vec<u8>` (exactly the map's size). A map the store refuses as too large
    /// is a request error ([`Violation::TooLarge`](crate::Violation::TooLarge)).
    type DetailsMap: DetailsStore + Default + core::fmt::Debug;
    /// statusDetails maps (only executions that have one use a slot).
    type Details: Slots<Entry<Self::DetailsMap>>;
    /// Records of (job, thing) pairs without an execution (a pair with executions keeps its
    /// state in the newest). Its capacity bounds the pairs, with executions or not, so that a
    /// pair whose last execution is deleted always finds room for its record: size it to the
    /// pairs (one per thing a job targets).
    type Pairs: Slots<Entry<PairEntry>>;
    /// Timers: the deadline of each IN_PROGRESS execution with a timeout and the next event of
    /// each job with a schedule, a rollout or windows, plus the deadlines these replaced until
    /// they come due (the heap deletes lazily). A QUEUED or finished execution needs none.
    ///
    /// Size it to the executions that run at once with a timeout, plus the jobs: a heap that is
    /// full rebuilds itself from the live deadlines, and one smaller than them keeps the
    /// earliest and takes the rest again when they come due, so no deadline is ever lost; but
    /// each rebuild walks every execution, so a heap much smaller than the live deadlines makes
    /// starting and updating executions slow. [`Fixed`] gives one per execution;
    /// `Heap` (feature `alloc`) caps it at one per execution and job and allocates only what is
    /// armed.
    type Timers: Slots<Timer>;
    /// Buckets of the lookup index: give it at least twice as many as jobs + things +
    /// (job, thing) pairs together.
    type Index: Slots<u32>;

    /// The tables, empty.
    fn into_tables(self) -> Tables<Self>
    where
        Self: Sized;
}

/// The tables of a [`Storage`].
#[derive(Debug)]
pub struct Tables<S: Storage> {
    /// Jobs.
    pub jobs: S::Jobs,
    /// Things.
    pub things: S::Things,
    /// Executions.
    pub executions: S::Executions,
    /// statusDetails maps.
    pub details: S::Details,
    /// Records of (job, thing) pairs without an execution.
    pub pairs: S::Pairs,
    /// Timers.
    pub timers: S::Timers,
    /// Index buckets.
    pub index: S::Index,
}

/// Fixed-capacity storage in `heapless` vectors, for devices and tests: `J` jobs, `T` things,
/// `X` executions and as many (job, thing) pairs and timers, `D` statusDetails maps of at most `B` bytes
/// each, and `I` index buckets (at least twice `J + T + X`).
///
/// The default `B`, [`MAX_ENCODED_LEN`] (32,030), holds every map AWS accepts; a device that
/// knows its maps are small chooses a smaller `B` (a map costs 3 bytes per pair plus its keys and
/// values in UTF-8) and gets `InvalidRequestException` for a map that does not fit.
#[derive(Debug)]
pub struct Fixed<
    const J: usize,
    const T: usize,
    const X: usize,
    const D: usize,
    const I: usize,
    const B: usize = MAX_ENCODED_LEN,
>;

impl<const J: usize, const T: usize, const X: usize, const D: usize, const I: usize, const B: usize> Storage
    for Fixed<J, T, X, D, I, B>
{
    type DetailsMap = DetailsBuf<B>;
    type Jobs = heapless::Vec<Entry<JobEntry>, J>;
    type Things = heapless::Vec<Entry<ThingEntry>, T>;
    type Executions = heapless::Vec<Entry<ExecutionEntry>, X>;
    type Details = heapless::Vec<Entry<DetailsBuf<B>>, D>;
    type Pairs = heapless::Vec<Entry<PairEntry>, X>;
    type Timers = heapless::Vec<Timer, X>;
    type Index = heapless::Vec<u32, I>;

    fn into_tables(self) -> Tables<Self> {
        Tables {
            jobs: heapless::Vec::new(),
            things: heapless::Vec::new(),
            executions: heapless::Vec::new(),
            details: heapless::Vec::new(),
            pairs: heapless::Vec::new(),
            timers: heapless::Vec::new(),
            index: heapless::Vec::new(),
        }
    }
}
