//! Timing helpers shared by the benchmark targets: repeated runs, sorted
//! durations, percentiles. Medians are what the docs quote.

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
