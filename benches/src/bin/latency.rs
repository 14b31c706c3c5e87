//! The host's latency of one load that depends on the one before, by working-set size:
//! `cargo run --release --bin latency -- [--sizes-mib 1,4,16,64,256] [--loads 20000000]`
//! (run it pinned: `taskset -c 1`; with `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` for huge pages).
//!
//! This is the floor under a lookup spread wider than the caches: a lookup that reads an index
//! bucket and then the entry it names makes two such loads, one after the other. For each size,
//! one 8-byte word per 64-byte line of a buffer of that size holds the position of the next, in
//! one random cycle through every line (Sattolo's shuffle), so each load misses where the
//! buffer does not fit and no prefetcher can guess the next line. After one untimed lap of up to
//! a million loads, `loads` loads are timed together.
//!
//! Output: one JSON object per size on stdout, a readable table on stderr.
use std::hint::black_box;
use std::time::Instant;

use iot_jobs_core_benches::host::{anon_huge_kib, flags, loadavg};

/// Words per 64-byte line.
const LINE_WORDS: usize = 8;

fn args() -> (Vec<usize>, u64) {
    let (mut sizes, mut loads) = (vec![1, 4, 16, 64, 256], 20_000_000);
    flags("--sizes-mib, --loads", |flag, v| {
        match flag {
            "--sizes-mib" => sizes = v,
            "--loads" => loads = v.first().map_or(1, |&n| n.max(1) as u64),
            _ => return false,
        }
        true
    });
    (sizes, loads)
}

/// A buffer of `lines` lines whose first words form one cycle through all of them, in an order
/// of a fixed pseudo-random shuffle.
fn cycle(lines: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lines).collect();
    // Sattolo's algorithm (a single cycle), driven by xorshift64*.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..lines).rev() {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let r = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let j = (r % i as u64) as usize;
        order.swap(i, j);
    }
    let mut buf = vec![0usize; lines * LINE_WORDS];
    for (k, &line) in order.iter().enumerate() {
        buf[line * LINE_WORDS] = order[(k + 1) % lines] * LINE_WORDS;
    }
    buf
}

fn main() {
    let (sizes, loads) = args();
    eprintln!("{:>9} {:>14}   (ns per dependent load; {loads} loads; load {})", "MiB", "ns", loadavg());
    for mib in sizes {
        let lines = (mib << 20) / 64;
        assert!(lines > 1, "{mib} MiB: too small");
        let buf = cycle(lines);
        let mut at = 0usize;
        for _ in 0..lines.min(1_000_000) {
            at = buf[at];
        }
        let t = Instant::now();
        for _ in 0..loads {
            at = buf[at];
        }
        let ns = t.elapsed().as_nanos() as f64 / loads as f64;
        black_box(at);
        eprintln!("{mib:>9} {ns:>14.1}");
        println!(
            "{{\"mib\":{mib},\"ns_per_load\":{ns:.1},\"loads\":{loads},\"anon_huge_kib\":{},\"load\":\"{}\"}}",
            anon_huge_kib(),
            loadavg()
        );
    }
}
