#!/usr/bin/env bash
# The benchmark report: builds, runs bench-apply, bench-net, bench-network and
# bench-consensus three times each, and writes a BENCHMARKS.md-style report
# (medians, the machine, the bounds and the ratios) to stdout, or to FILE.
#
#   bash scripts/bench.sh [FILE]        e.g. bash scripts/bench.sh BENCHMARKS.md
#
# Every ratio is against a bound measured in the same run on the same
# machine, so the figures can be compared across machines.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/dev/stdout}
runs=${NANUM_BENCH_RUNS:-3}

bash scripts/setup.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null

raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
for i in $(seq 1 "$runs"); do
  echo "bench: run $i of $runs" >&2
  build/tests/bench/bench-apply --runs 1 > "$raw/apply.$i.json"
  build/tests/bench/bench-net > "$raw/net.$i.json" 2>/dev/null
  build/tests/bench/bench-consensus > "$raw/consensus.$i.json" 2>/dev/null
  if [ -x build/tests/bench/bench-network ]; then
    build/tests/bench/bench-network --rates 1000,2000,4000,6000,8000 --seconds 8 \
      > "$raw/network.$i.json" 2>"$raw/network.$i.log" || true
  fi
done

python3 - "$raw" "$runs" > "$out" <<'PY'
import glob, json, os, platform, statistics, subprocess, sys

raw, runs = sys.argv[1], int(sys.argv[2])

def load(name):
    docs = []
    for path in sorted(glob.glob(os.path.join(raw, f"{name}.*.json"))):
        text = open(path).read().strip()
        if not text:
            continue
        try:
            docs.append(json.loads(text))
        except ValueError:
            docs.append([json.loads(line) for line in text.splitlines() if line.strip().startswith("{")])
    return docs

med = statistics.median
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
print("# nanum benchmarks\n")
print(f"Machine: {cpu or platform.processor()}, {os.cpu_count()} cores, "
      f"{platform.system()} {platform.release()}. Medians of {runs} runs "
      f"(`bash scripts/bench.sh`).\n")

apply = load("apply")
if apply:
    tx = med(d["tx_per_s"] for d in apply)
    bound = med(d["verify_bound_per_s"] for d in apply)
    ratio = med(d["ratio"] for d in apply)
    print("## Applying ledgers (bench-apply)\n")
    print("Ledgers of 1,000 signed transactions (pays and booking types) on a durable store, every signature verified.\n")
    print("| tx/s | bound: Ed25519 verify/s, all cores at once | ratio | target |")
    print("|---:|---:|---:|---:|")
    print(f"| {tx:,.0f} | {bound:,.0f} | {ratio:.2f} | ≥ 0.70 |\n")

net = load("net")
if net:
    print("## Network overlay (bench-net)\n")
    print("Two nodes, 4 KiB messages, one thread each; plain TCP with the same framing in the same run.\n")
    print("| encrypted MB/s | plain TCP MB/s | ratio | target | sealing MB/s, one core (libsodium's) | flood p50 µs | flood p99 µs |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {med(d['encrypted']['mb_per_s'] for d in net):,.0f} | {med(d['plain_tcp']['mb_per_s'] for d in net):,.0f} | "
          f"{med(d['encrypted_over_plain'] for d in net):.2f} | ≥ 0.50 | "
          f"{med(d['cipher_push_mb_per_s_one_core'] for d in net):,.0f} ({med(d.get('libsodium_push_mb_per_s_one_core', 0) for d in net):,.0f}) | "
          f"{med(d['flood']['latency_us_p50'] for d in net):.0f} | {med(d['flood']['latency_us_p99'] for d in net):.0f} |\n")

network = load("network")
if network:
    by_rate = {}
    for doc in network:
        for row in (doc if isinstance(doc, list) else [doc]):
            if "offered_tx_per_s" in row:
                by_rate.setdefault(row["offered_tx_per_s"], []).append(row)
    print("## Four validators on loopback (bench-network)\n")
    print("| offered tx/s | committed tx/s | p50 ms | p99 ms | bound | ratio | identical hashes |")
    print("|---:|---:|---:|---:|---:|---:|:---:|")
    for rate in sorted(by_rate):
        rows = by_rate[rate]
        print(f"| {rate:,} | {med(r['committed_tx_per_s'] for r in rows):,.0f} | {med(r['latency_ms_p50'] for r in rows):.0f} | "
              f"{med(r['latency_ms_p99'] for r in rows):.0f} | {med(r['verify_bound_per_s'] for r in rows):,.0f} | "
              f"{med(r['ratio'] for r in rows):.2f} | {'yes' if all(r['identical_ledger_hashes'] for r in rows) else 'NO'} |")
    best = max(by_rate, key=lambda rate: med(r['committed_tx_per_s'] for r in by_rate[rate]))
    rows = by_rate[best]
    print(f"\nSustained: {med(r['committed_tx_per_s'] for r in rows):,.0f} tx/s committed at {best:,} offered, "
          f"{med(r['ratio'] for r in rows):.2f} of the bound (the highest committed rate of the sweep).")
    print("The bound is the Ed25519 verifies/s of all cores at once (one pinned thread each) ÷ 4 validators, "
          "measured before and after each rate and averaged.")
    print("\nTargets: committed ≥ 60% of the bound; p50 ≤ 100 ms and p99 ≤ 300 ms at 1,000 tx/s.\n")

consensus = load("consensus")
if consensus:
    print("## Consensus in the simulator (bench-consensus)\n")
    print("| topology | slots/s | envelopes/s |")
    print("|---|---:|---:|")
    names = [t["topology"] for t in consensus[0]["simulated_clean_network"]]
    for name in names:
        rows = [t for d in consensus for t in d["simulated_clean_network"] if t["topology"] == name]
        print(f"| {name} | {med(r['slots_externalized_per_second'] for r in rows):,.0f} | "
              f"{med(r['envelopes_processed_per_second'] for r in rows):,.0f} |")
    print()
PY
