#!/usr/bin/env python3
"""Collects the benchmark results into markdown tables and the growth plot (no dependencies).

Usage: scripts/bench_report.py INSTRUCTIONS.jsonl CRITERION_DIR OUT_DIR
  INSTRUCTIONS.jsonl  `cargo bench --bench instructions -- --output-format=json` (gungraun)
  CRITERION_DIR       benches/target/criterion
  OUT_DIR             where results.md and growth.svg go
"""
import json
import math
import os
import sys

SIZES = [1_000, 10_000, 100_000, 1_000_000]
OPS = ["create_job", "start_next", "update_execution", "cancel_execution", "delete_execution",
       "pending", "describe_execution"]
HOT = ["update_execution_hot", "pending_hot", "describe_execution_hot"]
PER_CALL = 64  # registry instruction benchmarks run the operation 64 times per call
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


def instructions(path):
    rules, ops = {}, {}
    for line in open(path):
        d = json.loads(line)
        ir = d["profiles"][0]["data"]["parts"][0]["metrics"]["Ir"]["values"]["new"]
        if d["group"] == "rules":
            rules[d["function_name"]] = ir
        else:
            size = SIZES[int(d["id"].split("_")[-1])]  # ids size_0 .. size_3
            ops[(d["function_name"].removeprefix("op_"), size)] = ir / PER_CALL
    return rules, ops


def criterion(root, *parts):
    p = os.path.join(root, *parts, "new", "estimates.json")
    if not os.path.exists(p):
        return None
    e = json.load(open(p))["median"]
    ci = e["confidence_interval"]
    return e["point_estimate"], ci["lower_bound"], ci["upper_bound"]


def fmt_ns(v):
    return "–" if v is None else f"{v[0]:.1f}"


def main():
    jsonl, crit, out = sys.argv[1:4]
    rules, ops = instructions(jsonl)
    md = []
    md.append("### Decisions (rules)\n")
    md.append("| function | instructions | ns (median) | ns 95% CI |")
    md.append("|---|---:|---:|---|")
    for name, ir in rules.items():
        t = criterion(crit, "rules", name)
        ci = "–" if t is None else f"{t[1]:.2f}–{t[2]:.2f}"
        md.append(f"| `{name}` | {ir} | {fmt_ns(t)} | {ci} |")

    md.append("\n### Registry operations: instructions per operation (callgrind, mean of 64)\n")
    md.append("| operation | " + " | ".join(f"{s:,}" for s in SIZES) + " | 1M/1k |")
    md.append("|---|" + "---:|" * (len(SIZES) + 1))
    for op in OPS:
        row = [ops.get((op, s)) for s in SIZES]
        ratio = row[-1] / row[0] if row[0] and row[-1] else None
        cells = " | ".join("–" if v is None else f"{v:,.0f}" for v in row)
        md.append(f"| `{op}` | {cells} | {'–' if ratio is None else f'{ratio:.2f}×'} |")

    md.append("\n### Registry operations: wall-clock ns per operation (criterion median)\n")
    md.append("| operation | " + " | ".join(f"{s:,}" for s in SIZES) + " | 1M/1k |")
    md.append("|---|" + "---:|" * (len(SIZES) + 1))
    times = {}
    for op in OPS + HOT:
        row = [criterion(crit, "registry", op, str(s)) for s in SIZES]
        times[op] = row
        ratio = row[-1][0] / row[0][0] if row[0] and row[-1] else None
        cells = " | ".join(fmt_ns(v) for v in row)
        md.append(f"| `{op}` | {cells} | {'–' if ratio is None else f'{ratio:.2f}×'} |")
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "results.md"), "w").write("\n".join(md) + "\n")
    print("\n".join(md))
    svg = plot(ops, times)
    open(os.path.join(out, "growth.svg"), "w").write(svg)


def panel(x0, title, ylabel, series, ymax, logy=False):
    """One chart at horizontal offset x0; series: [(label, color, dash, [(size, value)])]."""
    w, h, left, top = 400, 260, 60, 40
    out = [f'<g transform="translate({x0},0)">',
           f'<text x="{left + w / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>',
           f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#444"/>']

    def xp(s):
        return left + (math.log10(s) - 3) / 3 * w

    def yp(v):
        return top + h - v / ymax * h

    for s in SIZES:
        out.append(f'<line x1="{xp(s)}" y1="{top}" x2="{xp(s)}" y2="{top + h}" stroke="#ddd"/>')
        label = {1_000: "1k", 10_000: "10k", 100_000: "100k", 1_000_000: "1M"}[s]
        out.append(f'<text x="{xp(s)}" y="{top + h + 16}" text-anchor="middle" font-size="11">{label}</text>')
    for i in range(6):
        v = ymax * i / 5
        out.append(f'<line x1="{left}" y1="{yp(v)}" x2="{left + w}" y2="{yp(v)}" stroke="#eee"/>')
        out.append(f'<text x="{left - 4}" y="{yp(v) + 4}" text-anchor="end" font-size="10">{v:,.0f}</text>')
    out.append(f'<text x="{left + w / 2}" y="{top + h + 34}" text-anchor="middle" font-size="11">'
               'executions in the registry (log scale)</text>')
    out.append(f'<text transform="translate(14,{top + h / 2}) rotate(-90)" text-anchor="middle" '
               f'font-size="11">{ylabel}</text>')
    for label, color, dash, pts in series:
        pts = [(s, v) for s, v in pts if v is not None]
        if not pts:
            continue
        d = " ".join(f"{xp(s):.1f},{yp(v):.1f}" for s, v in pts)
        out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2" '
                   f'stroke-dasharray="{dash}"/>')
        for s, v in pts:
            out.append(f'<circle cx="{xp(s):.1f}" cy="{yp(v):.1f}" r="2.5" fill="{color}"/>')
    out.append("</g>")
    return out


def plot(ops, times):
    ins = [(op, COLORS[i], "", [(s, ops.get((op, s))) for s in SIZES]) for i, op in enumerate(OPS)]
    ns = [(op, COLORS[i], "", [(s, times[op][j][0] if times[op][j] else None) for j, s in enumerate(SIZES)])
          for i, op in enumerate(OPS)]
    for hot in HOT:
        i = OPS.index(hot.removesuffix("_hot"))
        ns.append((hot, COLORS[i], "4 3",
                   [(s, times[hot][j][0] if times[hot][j] else None) for j, s in enumerate(SIZES)]))
    imax = max([v for *_, pts in ins for _, v in pts if v] + [1])
    tmax = max([v for *_, pts in ns for _, v in pts if v] + [1])
    nice = lambda v: 10 ** math.floor(math.log10(v)) * math.ceil(v / 10 ** math.floor(math.log10(v)))
    body = ['<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="470" font-family="sans-serif">',
            '<rect width="100%" height="100%" fill="white"/>']
    body += panel(0, "Instructions per operation (callgrind)", "instructions", ins, nice(imax * 1.1))
    body += panel(500, "Wall-clock per operation (criterion median)", "ns", ns, nice(tmax * 1.1))
    y = 360
    for i, (label, color, dash, _) in enumerate(ns):
        x = 70 + (i % 4) * 230
        yy = y + (i // 4) * 18 + 20
        body.append(f'<line x1="{x}" y1="{yy - 4}" x2="{x + 24}" y2="{yy - 4}" stroke="{color}" '
                    f'stroke-width="2" stroke-dasharray="{dash}"/>')
        body.append(f'<text x="{x + 30}" y="{yy}" font-size="11">{label}</text>')
    body.append(f'<text x="70" y="{y + 80}" font-size="10" fill="#555">dashed: 16 hot keys; solid: 4096 '
                'keys spread over the registry (left panel: mean of 64 calls, one world per size)</text>')
    body.append("</svg>")
    return "\n".join(body) + "\n"


if __name__ == "__main__":
    main()
