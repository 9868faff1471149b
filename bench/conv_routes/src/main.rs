//! Times each convolution route of `wengert_core::kernels::conv` that can
//! compute a shape (im2col, the shifted GEMMs, Winograd's F(2×2, 3×3), the
//! direct sums) on convolutions with stride 1, forward and backward (both
//! gradients), and marks the route that `Route::choose` takes. Run with
//! `cargo run --release` in this folder; `-- --threads 2` for two threads,
//! `-- --reps N` for the samples per route (default 7; the median is
//! printed), `-- --split` to time each gradient alone as well.
//!
//! Samples of the routes alternate (A, B, C, A, B, C, ...), so that a
//! change in the machine's speed falls on all of them.

use std::time::Instant;
use wengert_core::kernels::conv::{ConvDims, Route, backward_by, forward_by};
use wengert_core::kernels::im2col::Geom2d;

/// `(batch, c_in, c_out, size, padding)`, 3×3 kernels.
const SHAPES: &[(usize, usize, usize, usize, usize)] = &[
    // W5, and W5 without padding.
    (32, 64, 64, 32, 1),
    (32, 64, 64, 32, 0),
    // Other sizes of image, batch and channel count.
    (8, 64, 64, 64, 1),
    (128, 64, 64, 8, 1),
    (32, 128, 128, 16, 1),
    (8, 256, 256, 8, 1),
    // Channel counts near the thresholds.
    (32, 32, 32, 32, 1),
    (32, 32, 16, 32, 1),
    (64, 32, 16, 28, 1),
    (32, 16, 16, 32, 1),
    (64, 16, 16, 28, 1),
    (64, 16, 16, 14, 1),
    (16, 16, 16, 64, 1),
    (32, 16, 32, 32, 1),
    (64, 16, 32, 28, 1),
    (32, 16, 64, 32, 1),
    (32, 64, 16, 32, 1),
    (32, 24, 16, 32, 1),
    (32, 16, 24, 32, 1),
    (64, 24, 24, 14, 1),
    (32, 20, 20, 32, 1),
    (32, 12, 12, 32, 1),
    (32, 16, 8, 32, 1),
    (32, 32, 8, 32, 1),
    (32, 8, 8, 32, 1),
    (32, 8, 16, 32, 1),
    (32, 4, 32, 32, 1),
    (32, 3, 16, 32, 1),
    (64, 1, 16, 28, 1),
    // First layers: few input channels.
    (64, 1, 4, 28, 1),
    (64, 1, 8, 28, 1),
    (64, 1, 32, 28, 1),
    (64, 2, 4, 28, 1),
    (64, 2, 8, 28, 1),
    (64, 4, 4, 28, 1),
    (64, 8, 2, 28, 1),
    (32, 3, 3, 32, 1),
    (32, 3, 4, 32, 1),
    (32, 3, 8, 32, 1),
];

/// `(batch, c_in, c_out, size, padding)`, 5×5 kernels: LeNet-5's two
/// convolutions (W4) and their neighbours.
const SHAPES_5X5: &[(usize, usize, usize, usize, usize)] = &[
    (64, 1, 6, 28, 2),
    (64, 6, 16, 14, 0),
    (64, 1, 2, 28, 2),
    (64, 1, 4, 28, 2),
    (64, 1, 8, 28, 2),
    (64, 1, 12, 28, 2),
    (64, 1, 16, 28, 2),
    (64, 2, 4, 28, 2),
    (64, 2, 6, 28, 2),
    (64, 2, 8, 28, 2),
    (64, 8, 2, 14, 0),
    (64, 3, 6, 32, 0),
    (64, 4, 4, 14, 0),
    (64, 6, 6, 14, 0),
];

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a positive integer"))
}

fn values(n: usize, seed: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + seed) % 1013) as f32 / 1013.0 * scale - scale / 2.0)
        .collect()
}

fn millis(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let (threads, reps) = (arg("--threads", 1), arg("--reps", 7));
    let split = std::env::args().any(|a| a == "--split");
    wengert_core::set_num_threads(threads);
    println!(
        "{threads} thread(s), median of {reps} alternating samples per route; * = Route::choose"
    );
    println!();
    let (extra, rule) = if split {
        (" input gradient ms | weight gradient ms |", "---|---|")
    } else {
        ("", "")
    };
    println!(
        "| batch | channels | kernel | image | padding | route | forward ms | backward ms | both, to im2col |{extra}"
    );
    println!("|---|---|---|---|---|---|---|---|---|{rule}");
    let shapes = SHAPES.iter().map(|&s| (s, 3));
    for ((batch, c_in, c_out, size, pad), k) in shapes.chain(SHAPES_5X5.iter().map(|&s| (s, 5))) {
        let image = Geom2d {
            channels: c_in,
            size: [size, size],
            kernel: [k, k],
            stride: [1, 1],
            padding: [pad, pad],
            dilation: [1, 1],
        };
        let d = ConvDims {
            batch,
            image,
            groups: 1,
            c_out,
        };
        let x = values(batch * c_in * size * size, 1, 2.0);
        let w = values(c_out * c_in * k * k, 2, 0.2);
        let g = values(batch * c_out * d.l(), 3, 2.0);
        let (mut y, mut gx, mut gw) = (vec![0.0; g.len()], vec![0.0; x.len()], vec![0.0; w.len()]);
        let routes: Vec<Route> = [Route::Im2col, Route::Shift, Route::Winograd, Route::Direct]
            .into_iter()
            .filter(|r| r.fits(&d))
            .collect();
        // Per route: forward, backward, and with `--split` the input and
        // the weight gradient alone.
        let mut times = vec![[Vec::new(), Vec::new(), Vec::new(), Vec::new()]; routes.len()];
        for rep in 0..=reps {
            for (&route, t4) in routes.iter().zip(&mut times) {
                let t = Instant::now();
                forward_by(route, &d, &x, &w, &mut y);
                let f = millis(t);
                let t = Instant::now();
                backward_by(route, &d, &x, &w, &g, Some(&mut gx), Some(&mut gw));
                let b = millis(t);
                let (mut ix, mut iw) = (0.0, 0.0);
                if split {
                    let t = Instant::now();
                    backward_by(route, &d, &x, &w, &g, Some(&mut gx), None);
                    ix = millis(t);
                    let t = Instant::now();
                    backward_by(route, &d, &x, &w, &g, None, Some(&mut gw));
                    iw = millis(t);
                }
                // The first round warms up.
                if rep > 0 {
                    for (v, s) in t4.iter_mut().zip([f, b, ix, iw]) {
                        v.push(s);
                    }
                }
            }
        }
        let medians: Vec<[f64; 4]> = times.into_iter().map(|t4| t4.map(median)).collect();
        let base = medians[0][0] + medians[0][1];
        for (route, &[f, b, ix, iw]) in routes.iter().zip(&medians) {
            let chosen = if *route == Route::choose(&d) {
                " *"
            } else {
                ""
            };
            let extra = if split {
                format!(" {ix:.2} | {iw:.2} |")
            } else {
                String::new()
            };
            println!(
                "| {batch} | {c_in} → {c_out} | {k}×{k} | {size}×{size} | {pad} | {route:?}{chosen} | {f:.2} | {b:.2} | {:.2}x |{extra}",
                (f + b) / base
            );
        }
    }
}
