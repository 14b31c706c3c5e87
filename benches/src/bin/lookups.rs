//! Wall-clock median and p99 per lookup, 1k → 1M executions spread over the registry:
//! `cargo run --release --bin lookups -- [--sizes 1000,1000000] [--keys 4096] [--batch 64]
//! [--batches 3000]` (run it pinned: `taskset -c 1`).
//!
//! For each size a world of `1000 jobs × N things` is built (`World::with_keys`), then each
//! operation — describe_execution, update_execution (IN_PROGRESS → IN_PROGRESS), start_next (an
//! IN_PROGRESS head, returned unchanged) and pending (GetPending) — cycles through the keys:
//! one untimed warm-up pass over all keys, then `batches` batches of `batch` consecutive keys,
//! each batch timed with one pair of `Instant::now()`. A batch's time / `batch` is the **mean
//! per operation within that batch**; the figures printed are the median and the 99th
//! percentile of those batch means (a single operation's outlier is diluted by `batch`).
//!
//! Output: one JSON object per (operation, size) on stdout, a readable table on stderr. The
//! host's page size is whatever the allocator gets: run with
//! `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` to have glibc's malloc ask for transparent huge
//! pages (`madvise(MADV_HUGEPAGE)` on its mappings); `anon_huge_kib` reports what the kernel gave.
use std::time::{Duration, Instant};

use iot_jobs_core_benches::host::{anon_huge_kib, flags, loadavg};
use iot_jobs_core_benches::{KEYS, LOOKUPS, SIZES, World};

struct Args {
    sizes: Vec<usize>,
    keys: usize,
    batch: usize,
    batches: usize,
}

fn args() -> Args {
    let mut a = Args { sizes: SIZES.to_vec(), keys: KEYS, batch: 64, batches: 3_000 };
    let first = |v: &[usize]| v.first().copied().unwrap_or(0);
    flags("--sizes, --keys, --batch, --batches", |flag, v| {
        match flag {
            "--sizes" => a.sizes = v,
            "--keys" => a.keys = first(&v),
            "--batch" => a.batch = first(&v).max(1),
            "--batches" => a.batches = first(&v).max(1),
            _ => return false,
        }
        true
    });
    a
}

/// The `q` quantile (0..=1) of sorted `v`, nearest rank.
fn quantile(v: &[f64], q: f64) -> f64 {
    let rank = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn main() {
    let a = args();
    eprintln!(
        "{:<20} {:>9} {:>10} {:>10} {:>10}   (ns per operation; keys {}, batch {}, {} batches; load {})",
        "operation",
        "size",
        "median",
        "p99",
        "mean",
        a.keys,
        a.batch,
        a.batches,
        loadavg()
    );
    for &size in &a.sizes {
        let t0 = Instant::now();
        let mut w = World::with_keys(size, a.keys);
        w.prime_start_next();
        let built = t0.elapsed();
        for (name, op) in LOOKUPS {
            w.warm(op);
            let mut means = Vec::with_capacity(a.batches);
            let mut total = Duration::ZERO;
            let mut cursor = 0usize;
            for _ in 0..a.batches {
                let t = Instant::now();
                for _ in 0..a.batch {
                    op(&mut w, cursor);
                    cursor = cursor.wrapping_add(1);
                }
                let dt = t.elapsed();
                total += dt;
                means.push(dt.as_nanos() as f64 / a.batch as f64);
            }
            means.sort_by(f64::total_cmp);
            let (median, p99) = (quantile(&means, 0.5), quantile(&means, 0.99));
            let mean = total.as_nanos() as f64 / (a.batch * a.batches) as f64;
            eprintln!("{name:<20} {size:>9} {median:>10.1} {p99:>10.1} {mean:>10.1}");
            println!(
                "{{\"op\":\"{name}\",\"size\":{size},\"median_ns\":{median:.1},\"p99_ns\":{p99:.1},\
                 \"mean_ns\":{mean:.1},\"keys\":{},\"batch\":{},\"batches\":{},\"build_s\":{:.2},\
                 \"anon_huge_kib\":{},\"load\":\"{}\"}}",
                a.keys,
                a.batch,
                a.batches,
                built.as_secs_f64(),
                anon_huge_kib(),
                loadavg()
            );
        }
    }
}
