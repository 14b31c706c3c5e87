//! Bytes of stored state: `cargo run --release --bin memory` (figures for BENCHMARKS.md).
use std::mem::size_of;

use iot_jobs_core::details::DetailsBuf;
use iot_jobs_core::registry::{
    Entry, ExecutionEntry, Fixed, JobEntry, PairEntry, Registry, ThingEntry, Timer,
};
use iot_jobs_core::{ExecutionNumber, ExecutionStatus, Timestamp};

fn main() {
    let exec = size_of::<Entry<ExecutionEntry>>();
    let pair = size_of::<Entry<PairEntry>>();
    let job = size_of::<Entry<JobEntry>>();
    let thing = size_of::<Entry<ThingEntry>>();
    let timer = size_of::<Timer>();
    let bucket = size_of::<u32>();
    println!("## Stored entries (bytes, size_of)");
    println!("| entry | bytes |\n|---|---:|");
    for (what, bytes) in [
        ("Entry<ExecutionEntry>", exec),
        ("ExecutionEntry (without the slot's tag and generation)", size_of::<ExecutionEntry>()),
        ("Entry<PairEntry>", pair),
        ("Entry<JobEntry>", job),
        ("Entry<ThingEntry>", thing),
        ("Entry<DetailsBuf> (default: every map AWS accepts)", size_of::<Entry<DetailsBuf>>()),
        ("Entry<DetailsBuf<1024>> (the device configuration below)", size_of::<Entry<DetailsBuf<1024>>>()),
        ("Entry<Vec<u8>> (heap hosts; the map itself is its encoded size)", size_of::<Entry<Vec<u8>>>()),
        ("Timer", timer),
        ("index bucket (u32)", bucket),
    ] {
        println!("| `{what}` | {bytes} |");
    }

    // Per execution: its entry (which holds its (job, thing) pair's state while it is the pair's
    // newest: one execution per pair in the usual case), the pair's index value at the
    // recommended load (2 buckets per value), and its timer share: `Fixed` gives one timer per
    // execution; `Heap` allocates one only while the execution runs with a timeout (plus the
    // deadlines it replaced until they come due), so the figure counts one, the most a host in
    // this repository gives. A pair record is stored only for a pair without an execution (a
    // target waiting for a paced or scheduled rollout, passed over by it, or whose executions
    // were deleted); `Heap` allocates those as they come, `Fixed` reserves one per execution.
    let buckets = 2 * bucket;
    let per_exec = exec + buckets + timer;
    let idle = per_exec - timer;
    let fixed = per_exec + pair;
    println!("\n## Lifecycle state per execution (no statusDetails, no documents)");
    println!("| part | bytes |\n|---|---:|");
    println!("| execution entry (with its pair's state) | {exec} |\n| 2 index buckets (pair) | {buckets} |");
    println!("| 1 timer slot (`Fixed`; `Heap` while running with a timeout) | {timer} |");
    println!("| **total** | **{per_exec}** |");
    println!("| without a running deadline, in a `Heap` host | {idle} |");
    println!("| in a `Fixed` host (a pair record slot reserved per execution) | {fixed} |");
    println!("| a pair without an execution (record + 2 index buckets) | {} |", pair + buckets);
    // Amortized in the 1000 jobs × 1000 things world: each job and each thing (with 2 buckets)
    // is shared by 1000 executions.
    let amortized = per_exec as f64 + (job + thing + 4 * bucket) as f64 / 1000.0;
    println!("| total with the share of jobs and things (1000 × 1000 world) | {amortized:.1} |");
    println!(
        "\nper execution: {per_exec} bytes (= Entry<ExecutionEntry> {exec} + 2 × {bucket} index buckets + Timer {timer}; the pair's state is in the execution)"
    );
    println!(
        "per execution without a running deadline (Heap host): {idle} bytes (the same without the timer)"
    );
    println!(
        "per execution in a Fixed host: {fixed} bytes (the same + Entry<PairEntry> {pair}, reserved for every pair)"
    );
    println!("per job: {} bytes (entry + 2 index buckets)", job + 2 * bucket);
    println!("per thing: {} bytes (entry + 2 index buckets)", thing + 2 * bucket);

    println!("\n## Field types of ExecutionEntry");
    for (what, bytes) in [
        (
            "u32 (job, thing, details, pair_prev, number, version, each time, the pair's highest and job_next)",
            size_of::<u32>(),
        ),
        ("ExecutionStatus", size_of::<ExecutionStatus>()),
        ("Timestamp (public API; stored as u32 seconds)", size_of::<Timestamp>()),
        ("ExecutionNumber, VersionNumber (public API; stored as u32)", size_of::<ExecutionNumber>()),
    ] {
        println!("| `{what}` | {bytes} |");
    }

    // The device chooses statusDetails maps of at most 1 KiB.
    type Device = Registry<Fixed<4, 1, 8, 2, 64, 1024>>;
    let map = size_of::<Entry<DetailsBuf<1024>>>();
    println!("\n## Device configuration");
    println!("size_of::<Registry<Fixed<4, 1, 8, 2, 64, 1024>>>() = {} bytes", size_of::<Device>());
    let tables = 4 * job + thing + 8 * exec + 2 * map + 8 * pair + 8 * timer + 64 * bucket;
    println!(
        "  of which table payloads: {tables} bytes (4 jobs, 1 thing, 8 executions, 2 statusDetails maps,"
    );
    println!("  8 pairs, 8 timers, 64 buckets); the rest is lengths, free lists, policy, the deleting array");
    println!("  statusDetails maps alone: {} bytes", 2 * map);
    type DeviceNoDetails = Registry<Fixed<4, 1, 8, 0, 64>>;
    println!(
        "size_of::<Registry<Fixed<4, 1, 8, 0, 64>>>() = {} bytes (no statusDetails slots)",
        size_of::<DeviceNoDetails>()
    );
}
