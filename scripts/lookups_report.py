#!/usr/bin/env python3
"""Tables and growth curve of scripts/lookups.sh: before / after, 1k → 1M executions.

Usage: scripts/lookups_report.py RAW_DIR OUT_DIR
  RAW_DIR  benches/target/lookups (misses-before.jsonl, misses-after.jsonl, wall.jsonl,
           machine.txt, sides.txt)
  OUT_DIR  where lookups.md and lookups.svg go
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import COLORS, SIZES, panel  # noqa: E402

OPS = ["describe_execution", "update_execution", "start_next", "pending"]
SIDES = ["before", "after"]
PER_CALL = 64  # misses.rs runs each lookup 64 times per benchmark
KEYSETS = [("keys_4096", "4,096 keys"), ("keys_wide", "262,144 keys")]
METRICS = [("Ir", "instructions"), ("D1mr", "D1 read misses"), ("DLmr", "last-level read misses")]


def misses(raw):
    """{(side, op, key set, size): {metric: per-lookup value}} from gungraun's JSON lines."""
    out = {}
    for side in SIDES:
        path = os.path.join(raw, f"misses-{side}.jsonl")
        if not os.path.exists(path):
            continue
        for line in open(path):
            if not line.startswith("{"):
                continue
            d = json.loads(line)
            m = d["profiles"][0]["data"]["parts"][0]["metrics"]
            keyset, index = d["id"].rsplit("_", 1)  # keys_4096_0 .. keys_wide_3
            out[(side, d["function_name"], keyset, SIZES[int(index)])] = {
                k: m[k]["values"]["new"] / PER_CALL for k, _ in METRICS if k in m}
    return out


def wall(raw):
    """{(side, pages, keys, op, size): record} from the lookups binary's JSON lines: of several
    rounds, the one with the lowest median, with `spread` = highest / lowest median."""
    rounds = {}
    for line in open(os.path.join(raw, "wall.jsonl")):
        d = json.loads(line)
        rounds.setdefault((d["side"], d["pages"], d["keys"], d["op"], d["size"]), []).append(d)
    out = {}
    for k, rs in rounds.items():
        # The kernel may refuse huge pages (fragmented memory): a THP figure comes only from the
        # rounds it granted them in, when there are such rounds.
        granted = [r for r in rs if r["anon_huge_kib"] > 0]
        pool = granted if k[1] == "thp" and granted else rs
        best = dict(min(pool, key=lambda r: r["median_ns"]))
        best["spread"] = max(r["median_ns"] for r in pool) / best["median_ns"]
        best["rounds"] = len(rs)
        best["granted"] = len(granted)
        out[k] = best
    return out


def cell(a, b, digits):
    f = lambda v: "–" if v is None else f"{v:,.{digits}f}"
    return f"{f(a)} → {f(b)}"


def main():
    raw, out = sys.argv[1:3]
    m, w = misses(raw), wall(raw)
    md = ["Sides: " + "; ".join(open(os.path.join(raw, "sides.txt")).read().split("\n")).strip("; "),
          "", "```", open(os.path.join(raw, "machine.txt")).read().strip(), "```", ""]
    for key, title in METRICS:
        md.append(f"#### {title} per lookup (callgrind --cache-sim=yes, mean of 64; before → after)\n")
        md.append("| operation | " + " | ".join(f"{s:,}" for s in SIZES) + " |")
        md.append("|---|" + "---:|" * len(SIZES))
        for op in OPS:
            for keyset, label in KEYSETS:
                cells = [cell(*(m.get((side, op, keyset, s), {}).get(key) for side in SIDES),
                              0 if key == "Ir" else 1) for s in SIZES]
                md.append(f"| `{op}` ({label}) | " + " | ".join(cells) + " |")
        md.append("")
    n = max(d["rounds"] for d in w.values())
    md.append("#### Wall-clock ns per lookup (`lookups`, taskset -c 1; median / p99 of 5000 batch means "
              f"of 64, the best of {n} rounds; before → after)\n")
    md.append("| operation | pages | keys | executions | median | p99 | rounds' spread | huge pages in |")
    md.append("|---|---|---:|---:|---:|---:|---|---|")
    for pages in ["4k", "thp"]:
        for keys, sizes in [(4096, SIZES), (262144, [1_000_000])]:
            for op in OPS:
                for s in sizes:
                    r = [w.get((side, pages, keys, op, s)) for side in SIDES]
                    if not any(r):
                        continue
                    med = cell(*(x and x["median_ns"] for x in r), 1)
                    p99 = cell(*(x and x["p99_ns"] for x in r), 1)
                    label = "4 KiB" if pages == "4k" else "THP"
                    spread = " / ".join("–" if x is None else f"{x['spread']:.2f}×" for x in r)
                    huge = " / ".join("–" if x is None else f"{x['granted']}/{x['rounds']}" for x in r)
                    md.append(f"| `{op}` | {label} | {keys:,} | {s:,} | {med} | {p99} | {spread} | {huge} |")
    md.append("\nHuge pages in: the rounds whose process had `AnonHugePages` > 0 at that size (the kernel "
              "may refuse them when memory is fragmented; a THP figure comes from those rounds when "
              "there are any; below 1M the tables are too small for 2 MiB pages).")
    loads = sorted(float(d["load"].split()[0]) for d in w.values())
    md.append(f"Load average (1 min) during the wall-clock runs: {loads[0]:.2f}–{loads[-1]:.2f} on "
              f"{os.cpu_count()} cores")
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "lookups.md"), "w").write("\n".join(md) + "\n")
    print("\n".join(md))

    def series(get):
        return [(f"{op} {side}", COLORS[i], "" if side == "after" else "5 4",
                 [(s, get(side, op, s)) for s in SIZES])
                for i, op in enumerate(OPS) for side in SIDES]

    d1 = series(lambda side, op, s: m.get((side, op, "keys_4096", s), {}).get("D1mr"))
    ns = series(lambda side, op, s: (w.get((side, "4k", 4096, op, s)) or {}).get("median_ns"))
    top = lambda ss: max([v for *_, pts in ss for _, v in pts if v] + [1]) * 1.1
    body = ['<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="450" font-family="sans-serif">',
            '<rect width="100%" height="100%" fill="white"/>']
    body += panel(0, "D1 read misses per lookup (callgrind)", "misses", d1, top(d1))
    body += panel(500, "Wall-clock median per lookup (4 KiB pages)", "ns", ns, top(ns))
    for i, op in enumerate(OPS):
        x, y = 70 + i * 230, 380
        body.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" stroke="{COLORS[i]}" '
                    'stroke-width="2"/>')
        body.append(f'<text x="{x + 30}" y="{y}" font-size="11">{op}</text>')
    body.append('<text x="70" y="410" font-size="10" fill="#555">dashed: before; solid: after; '
                '4096 keys spread over the registry (scripts/lookups.sh)</text>')
    body.append("</svg>")
    open(os.path.join(out, "lookups.svg"), "w").write("\n".join(body) + "\n")


if __name__ == "__main__":
    main()
