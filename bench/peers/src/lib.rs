//! Shared timing / reporting helpers for the Rust peer benchmarks.
//!
//! Adapted from the project's reference peer harness (shared `bench/rust/src/lib.rs`):
//! the workloads are unchanged; added here are the CPU pinning in [`setup_threads`] and
//! the peak RSS (VmHWM) on every RESULT line.
//!
//! Every binary prints lines of the form
//! `RESULT workload=W2 peer=candle variant=.. threads=1 size=- median_us=.. p10_us=.. p90_us=.. n=.. cpu_util=.. peak_rss_kb=.. [k=v ..]`
//! which `../run.py` parses.

use std::time::Instant;

pub struct Args {
    pub workload: String,
    pub threads: usize,
    pub steps: Option<usize>,
    pub warmup: Option<usize>,
    pub sizes: Vec<usize>,
    pub variant: Option<String>,
}

pub fn parse_args() -> Args {
    let mut a = Args {
        workload: String::new(),
        threads: 1,
        steps: None,
        warmup: None,
        sizes: vec![64, 128, 256, 512, 1024],
        variant: None,
    };
    let v: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < v.len() {
        let val = v.get(i + 1).cloned().unwrap_or_default();
        match v[i].as_str() {
            "--workload" => a.workload = val,
            "--threads" => a.threads = val.parse().unwrap(),
            "--steps" => a.steps = Some(val.parse().unwrap()),
            "--warmup" => a.warmup = Some(val.parse().unwrap()),
            "--variant" => a.variant = Some(val),
            "--sizes" => a.sizes = val.split(',').map(|s| s.parse().unwrap()).collect(),
            other => panic!("unknown arg {other}"),
        }
        i += 2;
    }
    assert!(!a.workload.is_empty(), "--workload required");
    a
}

/// Pin the thread count explicitly: env vars read lazily by the libraries (candle reads
/// RAYON_NUM_THREADS on every matmul; matrixmultiply reads MATMUL_NUM_THREADS once) plus an
/// explicitly sized global rayon pool, and the process restricted to `t` CPUs (see
/// [`pin_cpus`]) so that no library can use more cores than asked for.
pub fn setup_threads(t: usize) {
    pin_and_cap(t);
    rayon::ThreadPoolBuilder::new()
        .num_threads(t)
        .build_global()
        .expect("rayon pool");
    assert_eq!(rayon::current_num_threads(), t);
}

/// [`setup_threads`] without the global rayon pool, for a library that never uses
/// that pool (wengert has its own, sized by `set_num_threads`): building it would only
/// add an idle thread, and glibc's `malloc` switches to atomic operations for good once
/// a process has a second thread (W6: about 11% of the time, docs/benchmarks.md).
pub fn pin_and_cap(t: usize) {
    pin_cpus(t);
    for k in ["RAYON_NUM_THREADS", "MATMUL_NUM_THREADS", "OMP_NUM_THREADS"] {
        match std::env::var(k) {
            Ok(v) => assert_eq!(
                v,
                t.to_string(),
                "{k} in the environment disagrees with --threads"
            ),
            // still single-threaded at this point, so mutating the environment is sound
            Err(_) => unsafe { std::env::set_var(k, t.to_string()) },
        }
    }
}

/// Restricts the process to the first `t` CPUs it may run on (`sched_setaffinity`), when it
/// may run on more. `std::thread::available_parallelism` honours the affinity mask, so a
/// library that sizes its threads by the core count uses `t`.
/// Must run before any thread is spawned. `py/common.py` does the same (`os.sched_setaffinity`).
pub fn pin_cpus(t: usize) {
    assert!(t >= 1, "--threads must be at least 1");
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        assert_eq!(
            libc::sched_getaffinity(0, size, &mut set),
            0,
            "sched_getaffinity failed"
        );
        let allowed: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect();
        assert!(
            allowed.len() >= t,
            "--threads {t} but only {} CPUs are available",
            allowed.len()
        );
        if allowed.len() == t {
            return;
        }
        let mut pinned: libc::cpu_set_t = std::mem::zeroed();
        for &c in &allowed[..t] {
            libc::CPU_SET(c, &mut pinned);
        }
        assert_eq!(
            libc::sched_setaffinity(0, size, &pinned),
            0,
            "sched_setaffinity failed"
        );
    }
}

pub fn cpu_seconds() -> f64 {
    unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut r);
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        tv(r.ru_utime) + tv(r.ru_stime)
    }
}

/// Peak resident set size of the whole process in KiB: VmHWM from /proc/self/status, or
/// getrusage's ru_maxrss where that file is missing.
pub fn peak_rss_kb() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kb) = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    {
        return kb;
    }
    unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut r);
        r.ru_maxrss
    }
}

pub struct Samples {
    pub secs: Vec<f64>, // sorted, seconds per call
    pub cpu_util: f64,
}

impl Samples {
    pub fn q(&self, q: f64) -> f64 {
        let xs = &self.secs;
        let i = q * (xs.len() - 1) as f64;
        let lo = i.floor() as usize;
        let hi = (lo + 1).min(xs.len() - 1);
        let f = i - lo as f64;
        xs[lo] * (1.0 - f) + xs[hi] * f
    }
    pub fn median(&self) -> f64 {
        self.q(0.5)
    }
}

/// `iters` samples, each timing `inner` back-to-back calls of `f`.
pub fn time_loop<F: FnMut()>(mut f: F, warmup: usize, iters: usize, inner: usize) -> Samples {
    for _ in 0..warmup {
        f();
    }
    let mut secs = Vec::with_capacity(iters);
    let c0 = cpu_seconds();
    let w0 = Instant::now();
    for _ in 0..iters {
        let t0 = Instant::now();
        for _ in 0..inner {
            f();
        }
        secs.push(t0.elapsed().as_secs_f64() / inner as f64);
    }
    let wall = w0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c0;
    secs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Samples {
        secs,
        cpu_util: cpu / wall.max(1e-12),
    }
}

/// `c = a · b` for `n` by `n` row-major `f32` matrices, by a direct
/// `matrixmultiply::sgemm` call: W1's reference.
pub fn sgemm_square(n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() == n * n && b.len() == n * n && c.len() == n * n);
    // SAFETY: the three buffers hold n*n row-major f32 each (checked), and
    // `c` is borrowed mutably, so it is distinct from `a` and `b`.
    unsafe {
        matrixmultiply::sgemm(
            n,
            n,
            n,
            1.0,
            a.as_ptr(),
            n as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}

/// Times `a` and `b` sample by sample, alternating (a, b, a, b, ...), each
/// sample `inner` calls, after `warmup` calls of each: for a ratio of two
/// ways to do the same work in one process. Nothing is allocated between
/// samples: the harness's own small allocations, made between two calls
/// that each allocate a large block, had moved the top of glibc's heap
/// and given one side's blocks fresh pages to fault in.
pub fn time_pair<A: FnMut(), B: FnMut()>(
    mut a: A,
    mut b: B,
    warmup: usize,
    iters: usize,
    inner: usize,
) -> (Samples, Samples) {
    for _ in 0..warmup {
        a();
        b();
    }
    let (mut sa, mut sb) = (Vec::with_capacity(iters), Vec::with_capacity(iters));
    let (mut ca, mut cb) = (0.0, 0.0);
    let (mut wa, mut wb) = (0.0, 0.0);
    for _ in 0..iters {
        for (f, secs, cpu, wall) in [
            (&mut a as &mut dyn FnMut(), &mut sa, &mut ca, &mut wa),
            (&mut b as &mut dyn FnMut(), &mut sb, &mut cb, &mut wb),
        ] {
            let c0 = cpu_seconds();
            let t0 = Instant::now();
            for _ in 0..inner {
                f();
            }
            let t = t0.elapsed().as_secs_f64();
            *cpu += cpu_seconds() - c0;
            *wall += t;
            secs.push(t / inner as f64);
        }
    }
    let done = |mut secs: Vec<f64>, cpu: f64, wall: f64| {
        secs.sort_by(|x, y| x.partial_cmp(y).unwrap());
        Samples {
            secs,
            cpu_util: cpu / f64::max(wall, 1e-12),
        }
    };
    (done(sa, ca, wa), done(sb, cb, wb))
}

pub fn report(
    workload: &str,
    peer: &str,
    variant: &str,
    threads: usize,
    size: &str,
    s: &Samples,
    extra: &[(&str, String)],
) {
    let mut line = format!(
        "RESULT workload={workload} peer={peer} variant={variant} threads={threads} size={size} \
         median_us={:.3} p10_us={:.3} p90_us={:.3} n={} cpu_util={:.2} peak_rss_kb={}",
        s.median() * 1e6,
        s.q(0.1) * 1e6,
        s.q(0.9) * 1e6,
        s.secs.len(),
        s.cpu_util,
        peak_rss_kb()
    );
    for (k, v) in extra {
        line.push_str(&format!(" {k}={v}"));
    }
    line.push_str(&format!(" build={}", build_tag()));
    println!("{line}");
}

/// "native" if this binary was compiled with AVX-512 enabled at compile time (i.e. -C
/// target-cpu=native here), else "generic"; "+gemm-v4" is appended for framework builds in which
/// the `gemm` crate's AVX-512 kernels were switched on (feature unification reaches candle and
/// burn-flex, which use gemm 0.19 for their matmuls).
pub fn build_tag() -> &'static str {
    let native = cfg!(target_feature = "avx512f");
    let v4 = cfg!(all(
        feature = "gemm-v4",
        any(feature = "candle", feature = "burn")
    ));
    match (native, v4) {
        (true, false) => "native",
        (false, false) => "generic",
        (true, true) => "native+gemm-v4",
        (false, true) => "generic+gemm-v4",
    }
}

pub fn gemm_inner_iters(n: usize) -> usize {
    match n {
        64 => 200,
        128 => 40,
        256 => 8,
        512 => 2,
        _ => 1,
    }
}

pub fn gemm_samples(n: usize) -> usize {
    if n >= 1024 {
        15
    } else {
        25
    }
}

/// Simple deterministic xorshift RNG for input data (no extra deps).
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// uniform in [-1, 1)
    pub fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    /// approx standard normal (sum of 4 uniforms, rescaled)
    pub fn normal(&mut self) -> f32 {
        (self.uniform() + self.uniform() + self.uniform() + self.uniform()) * 0.866
    }
    pub fn vec_normal(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.normal()).collect()
    }
    pub fn labels(&mut self, n: usize, classes: u32) -> Vec<u32> {
        (0..n)
            .map(|_| (self.next_u64() % classes as u64) as u32)
            .collect()
    }
}

pub const W6_NOPS: usize = 10_000;

/// [`report`] for a W6 variant: its time per op (`ns_per_op`) on top of the
/// common fields, the same for every peer.
pub fn report_w6(peer: &str, variant: &str, threads: usize, s: &Samples) {
    let per_op = format!("{:.1}", s.median() / W6_NOPS as f64 * 1e9);
    report(
        "W6",
        peer,
        variant,
        threads,
        "-",
        s,
        &[("ns_per_op", per_op)],
    );
}
