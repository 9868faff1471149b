//! Timing helpers shared by the benchmark targets: repeated runs, sorted
//! durations, percentiles, the command line (which parts to run, how many
//! threads) and the peak resident memory. Medians are what the docs quote.

use std::time::Instant;

/// Runs `f` `iters` times after `warmup` runs; returns sorted durations in seconds.
pub fn time(warmup: usize, iters: usize, mut f: impl FnMut()) -> Vec<f64> {
    for _ in 0..warmup {
        f();
    }
    let mut v: Vec<f64> = (0..iters)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The `p` quantile (0 to 1) of sorted durations.
pub fn pct(v: &[f64], p: f64) -> f64 {
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// True when the bench binary was started by `cargo test --benches`, which
/// passes no `--bench`: such runs only check that the target builds.
pub fn skipped() -> bool {
    std::env::args().any(|a| a == "--test")
}

/// The benchmark's command line after `--`: the names of the parts to run
/// (all when none is given), `--threads N` (default 1), which is applied
/// with `wengert::set_num_threads`, and `--iters N`, which scales the
/// repetitions down for profiling under callgrind where a target supports it.
pub struct Args {
    parts: Vec<String>,
    /// The thread count every part runs with.
    pub threads: usize,
    /// The repetition count given with `--iters`, if any.
    pub iters: Option<usize>,
}

impl Args {
    /// Parses the process arguments (cargo's own `--bench` is skipped) and
    /// sets the thread count.
    ///
    /// # Panics
    ///
    /// On a `--threads` or `--iters` value that is not a positive integer.
    pub fn parse() -> Args {
        let mut parts = Vec::new();
        let mut threads = 1;
        let mut iters = None;
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            match a.as_str() {
                "--bench" => {}
                "--threads" => {
                    threads = it
                        .next()
                        .and_then(|v| v.parse().ok())
                        .filter(|&t| t > 0)
                        .expect("--threads takes a positive integer");
                }
                "--iters" => {
                    iters = Some(
                        it.next()
                            .and_then(|v| v.parse().ok())
                            .filter(|&n| n > 0)
                            .expect("--iters takes a positive integer"),
                    );
                }
                _ => parts.push(a),
            }
        }
        wengert::set_num_threads(threads);
        Args {
            parts,
            threads,
            iters,
        }
    }

    /// True when `part` was named, or when no part was.
    pub fn runs(&self, part: &str) -> bool {
        self.parts.is_empty() || self.parts.iter().any(|p| p == part)
    }
}

/// Prints the process's peak resident set size (`VmHWM` in
/// `/proc/self/status`; nothing where that file does not exist).
pub fn print_peak_rss() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
        let kib: f64 = line[6..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap_or(f64::NAN);
        println!("peak RSS of this process: {:.1} MiB", kib / 1024.0);
    }
}
