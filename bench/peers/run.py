#!/usr/bin/env python3
"""Peer benchmark W1-W6 (issue #9): wengert against PyTorch, candle, burn (ndarray) and dfdx.

    python3 bench/peers/run.py --rounds 5

builds the selected Rust peers if needed (`cargo build --release --bins` in bench/peers,
with only their features), then
runs every (peer, workload, threads) process once per round, round after round (A, B, A,
B, ...), one process at a time, and prints one Markdown table: per row the median over
rounds of each process's median and the spread (min-max of those medians), the ratio
peer time / wengert time (above 1: wengert is faster), the issue's target and whether
wengert meets it; then the peak RSS of the W2 and W4 processes. Every RESULT line is
also written to a raw file (--raw) for the record.

Options select peers, workloads, threads and rounds; --quick cuts the step counts (for
checking the harness, not for figures).
"""
import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.join(HERE, "target", "release")
# wengert's binary is built alone, in its own target directory: built together
# with burn, Cargo's feature unification would switch on matrixmultiply's
# `threading` feature (burn-ndarray asks for it) inside wengert too, and every
# product wengert already splits over its threads would split again inside
# matrixmultiply (LeNet-5 at 2 threads: 5.5 ms alone, 8-10 ms with it).
WENGERT_BIN = os.path.join(HERE, "target", "wengert", "release")
# The same binary with mimalloc as its global allocator (peer "wengert-mimalloc").
WENGERT_MI_BIN = os.path.join(HERE, "target", "wengert-mimalloc", "release")

# Workloads and the thread counts the issue measures them at.
WORKLOADS = {"W1": [1], "W2": [1, 2], "W3": [1], "W4": [1, 2], "W5": [1], "W6": [1]}
W1_SIZE = 1024
ALL_PEERS = ["wengert", "wengert-mimalloc", "torch", "candle", "burn", "dfdx", "rust-gemm"]
# Columns of the table, in order; "rust-gemm" is one process reporting two peers.
COLUMNS = ["wengert", "wengert-mimalloc", "torch", "candle", "burn-ndarray", "dfdx", "matrixmultiply", "gemm"]
SKIPS = {
    ("dfdx", "W4"): "dfdx 0.13 gates Conv2D and conv2d behind its `nightly` feature "
                    "(generic_const_exprs), which needs a nightly toolchain",
    ("dfdx", "W5"): "as W4",
}
# W1 is a GEMM kernel workload: only wengert's matmul, the Rust GEMM crates and torch.mm.
W1_PEERS = {"wengert", "torch", "rust-gemm"}
# burn-ndarray's conv2d is slow (about 0.2 s per LeNet step, 5 s per W5 call, 1 thread):
# fewer samples keep a 5-round run within about 15 minutes; medians stay comparable.
SLOW = {("burn", "W4"): ("3", "30"), ("burn", "W5"): ("1", "5")}
QUICK = {"W2": ("3", "20"), "W3": ("5", "200"), "W4": ("3", "15"), "W5": ("1", "3"), "W6": ("1", "3")}


def command(peer, workload, threads, quick):
    """The argv of one benchmark process, or None when the peer does not run the workload."""
    if workload == "W1" and peer not in W1_PEERS:
        return None
    if workload != "W1" and peer == "rust-gemm":
        return None
    if (peer, workload) in SKIPS:
        return None
    common = ["--workload", workload, "--threads", str(threads)]
    if workload == "W1":
        common += ["--sizes", str(W1_SIZE)]
    elif quick or (peer, workload) in SLOW:
        warmup, steps = QUICK[workload] if quick else SLOW[(peer, workload)]
        common += ["--warmup", warmup, "--steps", steps]
    if peer == "torch":
        return [sys.executable, os.path.join(HERE, "py", "bench_torch.py")] + common
    exe = {"wengert": "wengert_bench", "wengert-mimalloc": "wengert_bench", "candle": "candle_bench",
           "burn": "burn_bench", "dfdx": "dfdx_bench", "rust-gemm": "w1_gemm"}[peer]
    extra = ["--variant", "ndarray"] if peer == "burn" else []
    where = {"wengert": WENGERT_BIN, "wengert-mimalloc": WENGERT_MI_BIN}.get(peer, BIN)
    return [os.path.join(where, exe)] + common + extra


def parse_result(line):
    fields = dict(kv.split("=", 1) for kv in line.split()[1:])
    return fields


def row_key(r):
    """(workload, threads, phase): the rows of the table."""
    v = r["variant"]
    if r["workload"] == "W1":
        phase = f"n = {r['size']}"
    elif v in ("fwd", "fwd+bwd", "fwd-nograd"):
        phase = v
    else:
        phase = "SGD step"
    return (r["workload"], int(r["threads"]), phase)


def fmt_value(us_list, workload, gflops_list=None):
    med = statistics.median(us_list)
    if workload == "W1":
        g = statistics.median(gflops_list)
        return f"{g:.0f} GFLOP/s ({min(gflops_list):.0f}-{max(gflops_list):.0f})"
    lo, hi = min(us_list), max(us_list)
    if workload == "W6":
        f = lambda u: f"{u * 1000 / 10_000:.0f}"  # noqa: E731
        return f"{f(med)} ns/op ({f(lo)}-{f(hi)})"
    if med >= 1000:
        return f"{med / 1000:.2f} ms ({lo / 1000:.2f}-{hi / 1000:.2f})"
    return f"{med:.1f} µs ({lo:.1f}-{hi:.1f})"


def target(key, med):
    """(target text, met text) for a row, from the medians by peer."""
    workload, threads, phase = key
    w = med.get("wengert")
    if w is None:
        return "", "no wengert figure"
    torch = med.get("torch")

    def vs_torch(limit):
        text = f"≤ {limit:.1f}x PyTorch"
        if torch is None:
            return text, "n/a (no PyTorch figure)"
        r = w / torch
        return text, f"{'yes' if r <= limit else 'no'} ({r:.2f}x)"

    if workload == "W1":
        mm = med.get("matrixmultiply")
        if mm is None:
            return "≥ 95% of matrixmultiply", "n/a"
        r = mm / w  # time ratio = GFLOP/s ratio wengert / matrixmultiply
        return "≥ 95% of matrixmultiply", f"{'yes' if r >= 0.95 else 'no'} ({100 * r:.0f}%)"
    if workload in ("W2", "W4"):
        return vs_torch(1.0)
    if workload == "W3":
        return "≤ 10 µs", f"{'yes' if w <= 10 else 'no'} ({w:.1f} µs)"
    if workload == "W5":
        return vs_torch(1.2 if phase == "fwd" else 1.0)
    if workload == "W6" and phase == "fwd+bwd":
        ns = w * 1000 / 10_000
        return "≤ 170 ns/op", f"{'yes' if ns <= 170 else 'no'} ({ns:.0f} ns/op)"
    return "", ""


def table(results):
    """Markdown: the timing table, then the peak-RSS table."""
    by_row = {}
    for r in results:
        by_row.setdefault(row_key(r), {}).setdefault(r["peer"], []).append(r)
    cols = [c for c in COLUMNS if any(c in peers for peers in by_row.values())]
    head = ["workload", "threads", "what"] + cols + ["target for wengert", "met"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in sorted(by_row):
        peers = by_row[key]
        med = {p: statistics.median(float(r["median_us"]) for r in rs) for p, rs in peers.items()}
        cells = list(map(str, key))
        for c in cols:
            rs = peers.get(c)
            if not rs:
                cells.append("–")
                continue
            us = [float(r["median_us"]) for r in rs]
            g = [float(r["gflops"]) for r in rs] if key[0] == "W1" else None
            text = fmt_value(us, key[0], g)
            if c != "wengert" and "wengert" in med:
                text += f" ×{med[c] / med['wengert']:.2f}"
            cells.append(text)
        cells += list(target(key, med))
        out.append("| " + " | ".join(cells) + " |")
    # Peak RSS of the training processes (W2, W4): median over rounds, MiB.
    rss = {}
    for r in results:
        if r["workload"] in ("W2", "W4") and "peak_rss_kb" in r:
            k = (r["workload"], int(r["threads"]))
            rss.setdefault(k, {}).setdefault(r["peer"], []).append(int(r["peak_rss_kb"]) / 1024)
    if rss:
        rcols = [c for c in COLUMNS if any(c in v for v in rss.values())]
        out += ["", "| peak RSS (MiB, median over rounds) | threads | " + " | ".join(rcols)
                + " | target: wengert ≤ 32 MiB |", "|" + "---|" * (len(rcols) + 3)]
        for k in sorted(rss):
            v = rss[k]
            cells = [k[0], str(k[1])]
            cells += [f"{statistics.median(v[c]):.0f}" if c in v else "–" for c in rcols]
            w = v.get("wengert")
            cells.append("" if w is None else ("yes" if statistics.median(w) <= 32 else "no"))
            out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def in_process_w1(results):
    ratios = [float(r["ratio_to_direct"]) for r in results
              if r["workload"] == "W1" and r["peer"] == "wengert" and "ratio_to_direct" in r]
    if ratios:
        return (f"W1 in-process check: wengert matmul / direct matrixmultiply::sgemm on the same "
                f"buffers, alternating samples: median ratio {statistics.median(ratios):.3f} "
                f"({min(ratios):.3f}-{max(ratios):.3f}) over {len(ratios)} rounds.")
    return None


def machine():
    model, flags = "?", ""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        model = re.search(r"model name\s*:\s*(.*)", info).group(1)
        flags = re.search(r"flags\s*:\s*(.*)", info).group(1).split()
    except (OSError, AttributeError):
        pass
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return f"{model}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, flags: {' '.join(simd)}"


def versions(torch_version, torch_asked):
    out = []
    try:
        out.append(subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip())
    except OSError:
        pass
    try:
        with open(os.path.join(HERE, "Cargo.lock")) as f:
            lock = f.read()
        for name in ("candle-core", "burn", "burn-ndarray", "dfdx", "matrixmultiply", "gemm"):
            found = re.findall(r'name = "%s"\nversion = "([^"]+)"' % re.escape(name), lock)
            if found:
                out.append(f"{name} {' / '.join(found)}")
    except OSError:
        pass
    if torch_version:
        out.append(f"torch {torch_version}")
    elif torch_asked:
        out.append("torch not installed")
    else:
        out.append("torch not run")
    out.append(f"python {platform.python_version()}")
    return ", ".join(out)


def main():
    global BIN, WENGERT_BIN
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--peers", default=",".join(x for x in ALL_PEERS if x != "wengert-mimalloc"),
                   help="comma-separated subset of " + ",".join(ALL_PEERS))
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--threads", default="1,2", help="thread counts to keep (each workload has its own)")
    p.add_argument("--no-build", action="store_true", help="do not run cargo build first")
    p.add_argument("--quick", action="store_true", help="few steps: checks the harness, not for figures")
    p.add_argument("--raw", default=None, help="file for the RESULT lines (default target/peers-<time>.txt)")
    p.add_argument("--bin-dir", default=BIN, help="where the Rust peers' binaries are (default target/release)")
    p.add_argument("--wengert-bin-dir", default=WENGERT_BIN,
                   help="where wengert_bench is (default target/wengert/release, built alone)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per process")
    a = p.parse_args()
    BIN, WENGERT_BIN = a.bin_dir, a.wengert_bin_dir
    peers = a.peers.split(",")
    for x in peers:
        if x not in ALL_PEERS:
            sys.exit(f"unknown peer {x}; choose from {','.join(ALL_PEERS)}")
    workloads = a.workloads.split(",")
    for w in workloads:
        if w not in WORKLOADS:
            sys.exit(f"unknown workload {w}")
    threads = [int(t) for t in a.threads.split(",")]
    notes = []

    torch_version = None
    torch_asked = "torch" in peers
    if torch_asked:
        probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            torch_version = probe.stdout.strip()
        else:
            peers.remove("torch")
            msg = "PyTorch skipped: `import torch` failed (install with `pip install torch numpy threadpoolctl`)"
            print(f"note: {msg}", file=sys.stderr)
            notes.append(msg)

    rust = [x for x in peers if x != "torch"]
    if rust and not a.no_build:
        # Only the selected peers' crates: burn and candle take 10-15 minutes
        # to build the first time, which a run of wengert and PyTorch skips.
        features = [x for x in rust if x in ("candle", "burn", "dfdx")]
        builds = []
        if "wengert" in rust:
            # Alone, without any peer in the build (see WENGERT_BIN).
            builds.append(["cargo", "build", "--release", "--bin", "wengert_bench",
                           "--no-default-features", "--target-dir",
                           os.path.dirname(WENGERT_BIN)])
        if "wengert-mimalloc" in rust:
            builds.append(["cargo", "build", "--release", "--bin", "wengert_bench",
                           "--no-default-features", "--features", "mimalloc", "--target-dir",
                           os.path.dirname(WENGERT_MI_BIN)])
        if any(not x.startswith("wengert") for x in rust):
            cmd = ["cargo", "build", "--release", "--bins", "--no-default-features"]
            if features:
                cmd += ["--features", ",".join(features)]
            builds.append(cmd)
        for cmd in builds:
            print(f"building ({' '.join(cmd)}) ...", file=sys.stderr)
            b = subprocess.run(cmd, cwd=HERE)
            if b.returncode != 0:
                sys.exit("cargo build failed")

    jobs = []
    for w in workloads:
        for t in WORKLOADS[w]:
            if t not in threads:
                continue
            for x in peers:
                if (x, w) in SKIPS:
                    notes.append(f"{x} {w} skipped: {SKIPS[(x, w)]}")
                argv = command(x, w, t, a.quick)
                if argv:
                    jobs.append((x, w, t, argv))
    if not jobs:
        sys.exit("nothing to run")

    raw = a.raw or os.path.join(HERE, "target", time.strftime("peers-%Y%m%dT%H%M%S.txt"))
    os.makedirs(os.path.dirname(os.path.abspath(raw)), exist_ok=True)
    results = []
    env = dict(os.environ)
    for k in ("RAYON_NUM_THREADS", "MATMUL_NUM_THREADS", "OMP_NUM_THREADS"):
        env.pop(k, None)  # each process sets its own from --threads
    start = time.time()
    load0 = os.getloadavg()
    with open(raw, "w") as log:
        log.write(f"# {datetime.datetime.now(datetime.timezone.utc).isoformat()} {machine()}\n")
        log.write(f"# {versions(torch_version, torch_asked)}\n")
        for rnd in range(a.rounds):
            for x, w, t, argv in jobs:
                t0 = time.time()
                try:
                    proc = subprocess.run(argv, capture_output=True, text=True, timeout=a.timeout, env=env)
                except subprocess.TimeoutExpired:
                    notes.append(f"round {rnd + 1}: {x} {w} t={t} timed out after {a.timeout:.0f} s")
                    continue
                except OSError as e:
                    notes.append(f"{x} {w} t={t} could not start: {e}")
                    continue
                got = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
                if proc.returncode != 0 or not got:
                    err = (proc.stderr.strip().splitlines() or ["?"])[-1]
                    notes.append(f"round {rnd + 1}: {x} {w} t={t} failed (exit {proc.returncode}): {err}")
                for ln in got:
                    log.write(f"round={rnd + 1} {ln}\n")
                    results.append(parse_result(ln))
                log.flush()
                print(f"round {rnd + 1}/{a.rounds} {x:>9} {w} t={t}: {time.time() - t0:5.1f} s",
                      file=sys.stderr)
    elapsed = time.time() - start
    load1 = os.getloadavg()

    print(f"Peer benchmark, {a.rounds} rounds, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{elapsed / 60:.1f} min; load average {load0[0]:.1f} at the start, {load1[0]:.1f} at the end.")
    print(f"Machine: {machine()}.")
    print(f"Versions: {versions(torch_version, torch_asked)}.")
    print("Cells: median over rounds of each process's median (min-max over rounds); "
          "×r = peer time / wengert time (above 1: wengert is faster).\n")
    print(table(results))
    line = in_process_w1(results)
    if line:
        print("\n" + line)
    util = {}
    for r in results:
        util.setdefault(r["peer"], []).append(float(r["cpu_util"]))
    print("\nCPU time / wall time of the timed loops, median over processes (about the thread "
          "count when the machine is quiet): "
          + ", ".join(f"{p} {statistics.median(u):.2f}" for p, u in util.items()) + ".")
    if notes:
        print("\nNotes:")
        for n in dict.fromkeys(notes):
            print(f"- {n}")
    print(f"\nRaw RESULT lines: {os.path.abspath(raw)}")


if __name__ == "__main__":
    main()
