//! Convolution benchmark: conv2d, batch 32, 64 → 64 channels, 3×3, 32×32,
//! padding 1 (f32).
//!
//! Run with `cargo bench --bench conv`. Prints medians (and p10/p90) of the
//! forward pass without recording (`no_grad`), the forward pass recorded, and
//! forward plus backward (gradients of input, weight and bias), with GFLOP/s
//! counted as forward flops = 2·N·C_out·H·W·C_in·9 (and 3× that for forward
//! plus backward). On a shared, noisy machine compare medians, not single runs.
//!
//! A LeNet-5 training step is not measured here: it needs a softmax
//! cross-entropy, which this crate does not have yet.

use std::hint::black_box;
use std::time::Instant;

use wengert::{Conv2dParams, Tensor, no_grad};

/// Runs `f` `iters` times after `warmup` runs; returns sorted durations in seconds.
fn time(warmup: usize, iters: usize, mut f: impl FnMut()) -> Vec<f64> {
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

fn pct(v: &[f64], p: f64) -> f64 {
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, v: &[f64], flops: f64) {
    let rate = if flops > 0.0 {
        format!("{:>6.1} GFLOP/s", flops / pct(v, 0.5) / 1e9)
    } else {
        String::new()
    };
    println!(
        "{name:<25} median {:>8.2} ms  (p10 {:.2}, p90 {:.2})  {rate}",
        pct(v, 0.5) * 1e3,
        pct(v, 0.1) * 1e3,
        pct(v, 0.9) * 1e3,
    );
}

fn main() {
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let (n, c, h, w) = (32usize, 64usize, 32usize, 32usize);
    let x = Tensor::<f32>::randn([n, c, h, w], 0.0, 1.0, &mut rng).unwrap();
    let wt = Tensor::<f32>::randn([c, c, 3, 3], 0.0, 0.05, &mut rng).unwrap();
    let b = Tensor::<f32>::zeros([c]);
    let p = Conv2dParams {
        padding: [1, 1],
        ..Conv2dParams::default()
    };
    let flops = 2.0 * (n * c * h * w * c * 9) as f64;
    println!(
        "wengert conv2d benchmark: f32, batch {n}, {c} -> {c} channels, 3x3, {h}x{w}, padding 1 (medians)"
    );
    let fwd = time(3, 20, || {
        black_box(no_grad(|| x.conv2d(&wt, Some(&b), p)));
    });
    report("forward (no_grad)", &fwd, flops);
    let window = wengert::Im2colParams {
        padding: [1, 1],
        ..wengert::Im2colParams::new([3, 3])
    };
    // One tile of the forward pass: 7 images of 576 × 1024 columns.
    let tile = x.narrow(0, 0, 7);
    let cols = time(3, 20, || {
        black_box(tile.im2col(window));
    });
    report("im2col, one 7-image tile", &cols, 0.0);
    let (xl, wl, bl) = (
        x.clone().requires_grad(),
        wt.clone().requires_grad(),
        b.clone().requires_grad(),
    );
    let rec = time(3, 20, || {
        black_box(xl.conv2d(&wl, Some(&bl), p));
    });
    report("forward (recorded)", &rec, flops);
    let fb = time(3, 20, || {
        let g = xl.conv2d(&wl, Some(&bl), p).sum().backward().unwrap();
        black_box(g);
    });
    report("forward+backward", &fb, 3.0 * flops);
}
