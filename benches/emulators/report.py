"""Read `server op RESULT ...` lines (stdin) and print the comparison table."""
import sys

rows, order = {}, []
for line in sys.stdin:
    server, op, _, *kv = line.split()
    d = {k: float(v) for k, v in (x.split("=") for x in kv)}
    rows[(server, op)] = d
    if server not in order:
        order.append(server)

ops = ["describe", "startnext", "update", "list"]
print("| server | operation | 2xx req/s | non-2xx % | socket errors | p50 ms | p99 ms |")
print("|---|---|---:|---:|---:|---:|---:|")
ok_rate = {}
for s in order:
    for op in ops:
        d = rows.get((s, op))
        if not d:
            continue
        total = d["requests"] + d["sockerr"]
        ok_rate[(s, op)] = d["ok"] / d["secs"]
        bad = 100 * (total - d["ok"]) / total if total else 100
        print(f"| {s} | {op} | {ok_rate[(s, op)]:,.0f} | {bad:.1f} | {int(d['sockerr'])} "
              f"| {d['p50_us'] / 1000:.2f} | {d['p99_us'] / 1000:.2f} |")
print()
before = any(s == "before" for s in order)
print("| operation | ours / moto | ours / ministack |" + (" ours / before |" if before else ""))
print("|---|---:|---:|" + ("---:|" if before else ""))
def ratio(a, b):
    return "n/a (peer 0 2xx)" if b == 0 else f"{a / b:,.1f}×"
for op in ops:
    ours = ok_rate.get(("ours", op), 0)
    extra = f" {ratio(ours, ok_rate.get(('before', op), 0))} |" if before else ""
    print(f"| {op} | {ratio(ours, ok_rate.get(('moto', op), 0))} | {ratio(ours, ok_rate.get(('ministack', op), 0))} |{extra}")
