"""Shared helpers for the Python peer benchmark (PyTorch).

Adapted from the project's reference peer harness (shared bench/py/common.py): the
workloads are unchanged; added here are the CPU pinning in setup_threads (as the Rust
binaries do) and the peak RSS on every RESULT line.

IMPORTANT: call `setup_threads(n)` BEFORE importing numpy / torch / jax, because
OpenMP/MKL/OpenBLAS/XLA read their thread settings from the environment at load time.

Output format (one line per measurement, whitespace separated key=value, prefixed by RESULT):
  RESULT workload=W2 peer=torch variant=eager threads=1 size=- median_us=.. p10_us=.. p90_us=.. n=.. cpu_util=.. peak_rss_kb=.. [extra=..]
"""
import os
import sys
import time
import resource


def pin_cpus(n: int):
    """Restricts the process to the first n CPUs it may run on, as the Rust binaries do."""
    allowed = sorted(os.sched_getaffinity(0))
    if n < 1 or n > len(allowed):
        sys.exit(f"--threads {n} but {len(allowed)} CPUs are available")
    if n < len(allowed):
        os.sched_setaffinity(0, allowed[:n])


def setup_threads(n: int, jax_mode: bool = False):
    n = int(n)
    pin_cpus(n)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
        os.environ[k] = str(n)
    if jax_mode:
        flags = os.environ.get("XLA_FLAGS", "")
        if n == 1:
            flags += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ["XLA_FLAGS"] = flags.strip()
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        os.environ.setdefault("JAX_ENABLE_X64", "0")


def parse_args(argv=None):
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--variant", default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--warmup", type=int, default=None)
    p.add_argument("--sizes", default="64,128,256,512,1024")
    return p.parse_args(argv)


def quantile(sorted_xs, q):
    if not sorted_xs:
        return float("nan")
    i = q * (len(sorted_xs) - 1)
    lo = int(i)
    hi = min(lo + 1, len(sorted_xs) - 1)
    f = i - lo
    return sorted_xs[lo] * (1 - f) + sorted_xs[hi] * f


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def time_loop(fn, warmup, iters, inner=1, sync=None):
    """Times `iters` samples, each sample = `inner` calls of fn. Returns per-call seconds list
    (sorted) and the cpu-time/wall-time ratio over the timed part."""
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    samples = []
    c0 = cpu_seconds()
    w0 = time.perf_counter()
    for _ in range(iters):
        t0 = time.perf_counter_ns()
        for _ in range(inner):
            fn()
        if sync:
            sync()
        t1 = time.perf_counter_ns()
        samples.append((t1 - t0) / 1e9 / inner)
    w1 = time.perf_counter()
    c1 = cpu_seconds()
    samples.sort()
    return samples, (c1 - c0) / max(w1 - w0, 1e-12)


def report(workload, peer, variant, threads, samples, cpu_util, size="-", **extra):
    med = quantile(samples, 0.5)
    p10 = quantile(samples, 0.1)
    p90 = quantile(samples, 0.9)
    parts = [
        "RESULT", f"workload={workload}", f"peer={peer}", f"variant={variant}",
        f"threads={threads}", f"size={size}",
        f"median_us={med*1e6:.3f}", f"p10_us={p10*1e6:.3f}", f"p90_us={p90*1e6:.3f}",
        f"n={len(samples)}", f"cpu_util={cpu_util:.2f}", f"peak_rss_kb={peak_rss_kb()}",
    ]
    for k, v in extra.items():
        if isinstance(v, float):
            parts.append(f"{k}={v:.4g}")
        else:
            parts.append(f"{k}={v}")
    print(" ".join(parts), flush=True)
    return med


def gemm_inner_iters(n):
    # aim for roughly >= 2 ms per timed sample even at high GFLOP/s
    return {64: 200, 128: 40, 256: 8, 512: 2}.get(n, 1)


def gemm_samples(n):
    return {64: 25, 128: 25, 256: 25, 512: 25}.get(n, 15)
