//! # 11. Convolution by hand
//!
//! What it teaches: what `conv2d`, the pooling ops and `conv1d` compute, by
//! checking them against plain loops and against the lecture's worked
//! examples:
//!
//! 1. the notes' 4×4 input and `[[-1, 1], [-1, 1]]` filter, without and with a
//!    border of zeros (padding), each output entry the sum of a window times
//!    the filter (no flip: deep-learning "convolution" is cross-correlation);
//! 2. the lecture's filters (identity, three edge detectors, the vertical and
//!    horizontal edge filters, sharpen, box blur, Gaussian blur) on a
//!    handwritten digit, printed as small grids and drawn side by side in an
//!    SVG image grid;
//! 3. a table of input sizes, filters, paddings and strides, where the output
//!    size `floor((n + 2p − k)/s) + 1` is checked against the shape `conv2d`
//!    returns and a loop-by-loop convolution is checked against its values;
//! 4. max and average pooling of the notes' 4×4 input;
//! 5. the moving average of a noisy series as `conv1d` with the kernel
//!    `[1/k, …, 1/k]`, which divides the variance of white noise by about `k`.
//!
//! Lectures: "Aula 6 - Introdução a deep learning" (O que é uma convolução,
//! Bordas (padding) e passo (stride), Interpretação, Outros filtros, Camadas
//! pooling, Outras aplicações); "Módulo 8 - Redes neuronales profundas" shows
//! CNN architectures but defines no convolution.
//!
//! Where the notes differ:
//! - the output size: the notes write `r = (w − f + 2b)/p` (w input, f
//!   filter, b border, p step). It drops the `+ 1` (a 4×4 input and a 2×2
//!   filter give 3×3, not 2×2) and the floor (a window that would stick out
//!   past the border is not computed). Right: `r = floor((w − f + 2b)/p) + 1`.
//! - the average pooling: the notes print 2 at row 3, column 2; that window is
//!   `[[0, 1], [4, 1]]`, whose average is 1.5. The max-pooling grid is right.
//! - the slides draw the 2×2 pools as stride 1 (overlapping windows) without
//!   saying so; pooling layers usually have stride = window (`MaxPool2d`'s
//!   default here), which halves each side.
//!
//! Run it with `cargo run --release --example 11-convolution-by-hand` (flags:
//! `--seed N`, `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use std::path::{Path, PathBuf};

use common::{Args, BoxError, Series};
use plotters::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::{Conv1dParams, Conv2dParams, Tensor};

/// The notes' 4×4 input ("O que é uma convolução").
pub const NOTES_INPUT: [f64; 16] = [
    1.0, 3.0, 6.0, 4.0, 2.0, 2.0, 0.0, 4.0, 5.0, 0.0, 1.0, 4.0, 4.0, 4.0, 1.0, 3.0,
];

/// The notes' 2×2 filter.
pub const NOTES_FILTER: [f64; 4] = [-1.0, 1.0, -1.0, 1.0];

/// The 2×2 average pool (stride 1) of the notes' input as the notes print it.
pub const NOTES_AVG_POOL: [f64; 9] = [2.0, 2.75, 3.5, 2.25, 0.75, 2.25, 3.25, 2.0, 2.25];

/// The 2×2 max pool (stride 1) as the notes print it.
pub const NOTES_MAX_POOL: [f64; 9] = [3.0, 6.0, 6.0, 5.0, 2.0, 4.0, 5.0, 4.0, 4.0];

/// The lecture's 3×3 filters, by name, row-major.
#[rustfmt::skip]
pub const FILTERS: [(&str, [f64; 9]); 9] = [
    ("identity", [0., 0., 0., 0., 1., 0., 0., 0., 0.]),
    ("vertical edges", [-1., 0., 1., -1., 0., 1., -1., 0., 1.]),
    ("horizontal edges", [1., 1., 1., 0., 0., 0., -1., -1., -1.]),
    ("edges (mixed ∂²/∂x∂y)", [1., 0., -1., 0., 0., 0., -1., 0., 1.]),
    ("edges (laplacian 4)", [0., 1., 0., 1., -4., 1., 0., 1., 0.]),
    ("edges (laplacian 8)", [-1., -1., -1., -1., 8., -1., -1., -1., -1.]),
    ("sharpen", [0., -1., 0., -1., 5., -1., 0., -1., 0.]),
    ("box blur", [1. / 9.; 9]),
    ("gaussian blur", [1. / 16., 2. / 16., 1. / 16., 2. / 16., 4. / 16., 2. / 16., 1. / 16., 2. / 16., 1. / 16.]),
];

/// Output size along one axis, the formula this example checks:
/// `floor((n + 2p − k)/s) + 1`.
pub fn out_size(n: usize, k: usize, p: usize, s: usize) -> usize {
    (n + 2 * p - k) / s + 1
}

/// The notes' formula `r = (w − f + 2b)/p`, as a real number.
pub fn notes_out_size(n: usize, k: usize, p: usize, s: usize) -> f64 {
    (n as f64 - k as f64 + 2.0 * p as f64) / s as f64
}

/// Cross-correlation of an `h × w` image with a `kh × kw` kernel, zero padding
/// `pad`, stride `stride`, by four nested loops: the definition `conv2d` must
/// meet.
pub fn conv2d_loops(
    x: &[f64],
    (h, w): (usize, usize),
    kernel: &[f64],
    (kh, kw): (usize, usize),
    pad: [usize; 2],
    stride: [usize; 2],
) -> Vec<f64> {
    let (oh, ow) = (
        out_size(h, kh, pad[0], stride[0]),
        out_size(w, kw, pad[1], stride[1]),
    );
    let mut y = vec![0.0; oh * ow];
    for oy in 0..oh {
        for ox in 0..ow {
            let mut acc = 0.0;
            for i in 0..kh {
                for j in 0..kw {
                    // Position in the padded image, then in the real one.
                    let (py, px) = (oy * stride[0] + i, ox * stride[1] + j);
                    if py < pad[0] || px < pad[1] || py - pad[0] >= h || px - pad[1] >= w {
                        continue; // a zero of the border
                    }
                    acc += kernel[i * kw + j] * x[(py - pad[0]) * w + px - pad[1]];
                }
            }
            y[oy * ow + ox] = acc;
        }
    }
    y
}

/// `conv2d` of one `h × w` image with one kernel, as a flat vector with its
/// output `[rows, cols]`.
pub fn conv2d_lib(
    x: &[f64],
    (h, w): (usize, usize),
    kernel: &[f64],
    (kh, kw): (usize, usize),
    padding: [usize; 2],
    stride: [usize; 2],
) -> Result<(Vec<f64>, [usize; 2]), BoxError> {
    let xt = Tensor::from_vec(x.to_vec(), [1, 1, h, w])?;
    let kt = Tensor::from_vec(kernel.to_vec(), [1, 1, kh, kw])?;
    let p = Conv2dParams {
        padding,
        stride,
        ..Default::default()
    };
    let y = xt.try_conv2d(&kt, None, p)?;
    Ok((y.to_vec(), [y.dims()[2], y.dims()[3]]))
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// One row of the shape table.
#[derive(Clone, Debug)]
pub struct ShapeCase {
    /// Input `[h, w]`, kernel `[kh, kw]`, padding, stride.
    pub input: [usize; 2],
    /// Kernel size.
    pub kernel: [usize; 2],
    /// Zero padding per axis.
    pub padding: [usize; 2],
    /// Stride per axis.
    pub stride: [usize; 2],
    /// `floor((n + 2p − k)/s) + 1` per axis.
    pub formula: [usize; 2],
    /// The notes' `(w − f + 2b)/p` per axis.
    pub notes: [f64; 2],
    /// The shape `conv2d` returned.
    pub actual: [usize; 2],
    /// Largest |loops − conv2d| over the output.
    pub loop_diff: f64,
}

/// One case of the shape table: `(input, kernel, padding, stride)`, each
/// `[rows, cols]`.
pub type Case = ([usize; 2], [usize; 2], [usize; 2], [usize; 2]);

/// The cases of the shape table.
#[rustfmt::skip]
pub const CASES: [Case; 12] = [
    ([4, 4], [2, 2], [0, 0], [1, 1]),   // the notes' example
    ([4, 4], [2, 2], [1, 1], [1, 1]),   // ... with a border of zeros
    ([4, 4], [2, 2], [0, 0], [2, 2]),
    ([5, 5], [2, 2], [0, 0], [2, 2]),   // the last column and row do not fit
    ([5, 5], [3, 3], [1, 1], [2, 2]),
    ([6, 6], [3, 3], [1, 1], [2, 2]),
    ([7, 7], [3, 3], [0, 0], [3, 3]),
    ([8, 8], [3, 3], [1, 1], [1, 1]),   // "same" padding: p = (k − 1)/2
    ([28, 28], [5, 5], [2, 2], [1, 1]), // LeNet's first layer
    ([14, 14], [5, 5], [0, 0], [1, 1]), // LeNet's second layer
    ([9, 7], [4, 2], [1, 0], [2, 3]),   // rectangular, each axis its own
    ([3, 3], [3, 3], [0, 0], [5, 5]),   // one window, any stride
];

/// Builds the shape table on random inputs: the formula, the notes' formula,
/// `conv2d`'s shape, and the loops' agreement.
pub fn shape_table(rng: &mut StdRng) -> Result<Vec<ShapeCase>, BoxError> {
    let mut rows = Vec::new();
    for (input, kernel, padding, stride) in CASES {
        let x = Tensor::<f64>::randn([input[0] * input[1]], 0.0, 1.0, rng)?.to_vec();
        let k = Tensor::<f64>::randn([kernel[0] * kernel[1]], 0.0, 1.0, rng)?.to_vec();
        let size = (input[0], input[1]);
        let ksize = (kernel[0], kernel[1]);
        let (lib, actual) = conv2d_lib(&x, size, &k, ksize, padding, stride)?;
        let loops = conv2d_loops(&x, size, &k, ksize, padding, stride);
        let axis = |a: usize| (input[a], kernel[a], padding[a], stride[a]);
        let ((n0, k0, p0, s0), (n1, k1, p1, s1)) = (axis(0), axis(1));
        rows.push(ShapeCase {
            input,
            kernel,
            padding,
            stride,
            formula: [out_size(n0, k0, p0, s0), out_size(n1, k1, p1, s1)],
            notes: [
                notes_out_size(n0, k0, p0, s0),
                notes_out_size(n1, k1, p1, s1),
            ],
            actual,
            loop_diff: if lib.len() == loops.len() {
                max_abs_diff(&lib, &loops)
            } else {
                f64::INFINITY
            },
        });
    }
    Ok(rows)
}

/// One of the lecture's filters applied to the digit.
#[derive(Clone, Debug)]
pub struct Filtered {
    /// The filter's name.
    pub name: &'static str,
    /// `conv2d`'s output, 8×8 (padding 1).
    pub output: Vec<f64>,
    /// Largest |loops − conv2d|.
    pub loop_diff: f64,
}

/// The moving-average part.
#[derive(Clone, Debug)]
pub struct MovingAverage {
    /// Window lengths tried.
    pub windows: Vec<usize>,
    /// Variance of the noise left after each window (`smoothed − clean`),
    /// first entry the raw series (window 1).
    pub noise_variance: Vec<f64>,
    /// The notes' series averaged with `[1/4; 4]`.
    pub notes_series: Vec<f64>,
    /// Largest |loops − conv1d| over all windows.
    pub loop_diff: f64,
}

/// What the example computed.
#[derive(Clone, Debug)]
pub struct Report {
    /// The notes' example without padding (3×3) and with padding 1 (5×5).
    pub notes_conv: Vec<f64>,
    /// Its shape.
    pub notes_conv_shape: [usize; 2],
    /// With padding 1.
    pub notes_conv_padded: Vec<f64>,
    /// Its shape.
    pub notes_conv_padded_shape: [usize; 2],
    /// Largest |loops − conv2d| over both.
    pub notes_loop_diff: f64,
    /// The shape table.
    pub shapes: Vec<ShapeCase>,
    /// The digit used, 8×8 in `[0, 1]`, and its label.
    pub digit: (Vec<f64>, usize),
    /// The filters on the digit.
    pub filtered: Vec<Filtered>,
    /// 2×2 max pool, stride 1, of the notes' input.
    pub max_pool: Vec<f64>,
    /// 2×2 average pool, stride 1.
    pub avg_pool: Vec<f64>,
    /// 2×2 max pool, stride 2 (the usual layer).
    pub max_pool_stride2: Vec<f64>,
    /// The moving average.
    pub moving: MovingAverage,
}

fn print_grid(title: &str, v: &[f64], cols: usize) {
    println!("{title}");
    for row in v.chunks(cols) {
        let cells: Vec<String> = row.iter().map(|x| format!("{x:>6.2}")).collect();
        println!("  {}", cells.join(""));
    }
}

/// Runs the example.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let mut rng = StdRng::seed_from_u64(args.seed);

    // 1. The notes' worked example.
    let k2 = (2, 2);
    let (notes_conv, notes_conv_shape) =
        conv2d_lib(&NOTES_INPUT, (4, 4), &NOTES_FILTER, k2, [0, 0], [1, 1])?;
    let (padded, padded_shape) =
        conv2d_lib(&NOTES_INPUT, (4, 4), &NOTES_FILTER, k2, [1, 1], [1, 1])?;
    let notes_loop_diff = max_abs_diff(
        &notes_conv,
        &conv2d_loops(&NOTES_INPUT, (4, 4), &NOTES_FILTER, k2, [0, 0], [1, 1]),
    )
    .max(max_abs_diff(
        &padded,
        &conv2d_loops(&NOTES_INPUT, (4, 4), &NOTES_FILTER, k2, [1, 1], [1, 1]),
    ));
    if print {
        print_grid("the notes' input", &NOTES_INPUT, 4);
        print_grid("filter", &NOTES_FILTER, 2);
        print_grid(
            &format!(
                "conv2d, no padding: {notes_conv_shape:?} (notes' formula (4 − 2 + 0)/1 = 2, right: 3)"
            ),
            &notes_conv,
            notes_conv_shape[1],
        );
        print_grid(
            &format!(
                "conv2d, padding 1: {padded_shape:?} (notes' formula (4 − 2 + 2)/1 = 4, right: 5)"
            ),
            &padded,
            padded_shape[1],
        );
        println!("largest |loops − conv2d|: {notes_loop_diff:e}\n");
    }

    // 2. The lecture's filters on a digit.
    let digits = wengert::data::digits()?;
    let index = args.seed as usize % digits.len();
    let digit: Vec<f64> = digits
        .inputs()
        .narrow(0, index, 1)
        .to_vec()
        .iter()
        .map(|&p| f64::from(p))
        .collect();
    let label = digits.labels().expect("classification")[index];
    let mut filtered = Vec::new();
    for (name, f) in FILTERS {
        let (output, _) = conv2d_lib(&digit, (8, 8), &f, (3, 3), [1, 1], [1, 1])?;
        let loops = conv2d_loops(&digit, (8, 8), &f, (3, 3), [1, 1], [1, 1]);
        filtered.push(Filtered {
            name,
            loop_diff: max_abs_diff(&output, &loops),
            output,
        });
    }
    if print {
        println!(
            "digit #{index} (a {label}), pixels in [0, 1], and the lecture's 3×3 filters (padding 1):"
        );
        print_grid("input", &digit, 8);
        for f in &filtered {
            print_grid(
                &format!("{}  (|loops − conv2d| ≤ {:.0e})", f.name, f.loop_diff),
                &f.output,
                8,
            );
        }
        let mut panels = vec![(format!("input (a {label})"), digit.clone())];
        panels.extend(
            filtered
                .iter()
                .map(|f| (f.name.to_string(), f.output.clone())),
        );
        let p = image_grid(&args.out, "11-filters.svg", &panels, 8)?;
        println!("image grid: {}\n", p.display());
    }

    // 3. Output sizes.
    let shapes = shape_table(&mut rng)?;
    if print {
        println!(
            "{:<10}{:<8}{:<9}{:<8}{:>16}{:>16}{:>10}{:>12}",
            "input",
            "kernel",
            "padding",
            "stride",
            "notes' (w−f+2b)/p",
            "floor(…)+1",
            "conv2d",
            "|loops−lib|"
        );
        for r in &shapes {
            let d = |v: [usize; 2]| format!("{}×{}", v[0], v[1]);
            println!(
                "{:<10}{:<8}{:<9}{:<8}{:>16}{:>16}{:>10}{:>12.0e}",
                d(r.input),
                d(r.kernel),
                d(r.padding),
                d(r.stride),
                format!("{:.3}×{:.3}", r.notes[0], r.notes[1]),
                d(r.formula),
                d(r.actual),
                r.loop_diff
            );
        }
        println!();
    }

    // 4. Pooling.
    let x = Tensor::from_vec(NOTES_INPUT.to_vec(), [1, 1, 4, 4])?;
    let max_pool = x.try_max_pool2d([2, 2], [1, 1], [0, 0])?.to_vec();
    let avg_pool = x.try_avg_pool2d([2, 2], [1, 1], [0, 0], true)?.to_vec();
    let max_pool_stride2 = x.try_max_pool2d([2, 2], [2, 2], [0, 0])?.to_vec();
    if print {
        print_grid("max pool 2×2, stride 1", &max_pool, 3);
        print_grid("average pool 2×2, stride 1", &avg_pool, 3);
        print_grid(
            "the notes' average pool (2 where 1.5 is right)",
            &NOTES_AVG_POOL,
            3,
        );
        print_grid(
            "max pool 2×2, stride 2 (MaxPool2d's default)",
            &max_pool_stride2,
            2,
        );
        println!();
    }

    // 5. Moving average.
    let moving = moving_average(args, &mut rng, print)?;
    Ok(Report {
        notes_conv,
        notes_conv_shape,
        notes_conv_padded: padded,
        notes_conv_padded_shape: padded_shape,
        notes_loop_diff,
        shapes,
        digit: (digit, label),
        filtered,
        max_pool,
        avg_pool,
        max_pool_stride2,
        moving,
    })
}

/// `conv1d` of a series with `[1/k; k]` (no padding): output `i` averages
/// `y[i .. i + k]`.
fn conv1d_mean(y: &[f64], k: usize) -> Result<Vec<f64>, BoxError> {
    let yt = Tensor::from_vec(y.to_vec(), [1, 1, y.len()])?;
    let f = Tensor::full([1, 1, k], 1.0 / k as f64);
    Ok(yt.try_conv1d(&f, None, Conv1dParams::default())?.to_vec())
}

fn variance(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
}

/// A slow sine plus N(0, 0.3²) noise, smoothed with windows 5 and 15.
fn moving_average(args: &Args, rng: &mut StdRng, print: bool) -> Result<MovingAverage, BoxError> {
    let n = if args.quick { 200 } else { 400 };
    let clean: Vec<f64> = (0..n)
        .map(|t| (2.0 * std::f64::consts::PI * t as f64 / 100.0).sin())
        .collect();
    let noise = Tensor::<f64>::randn([n], 0.0, 0.3, rng)?.to_vec();
    let noisy: Vec<f64> = clean.iter().zip(&noise).map(|(c, e)| c + e).collect();
    let windows = vec![5, 15];
    let mut noise_variance = vec![variance(&noise)];
    let mut loop_diff = 0.0f64;
    let mut series = vec![
        Series {
            label: "noisy series".into(),
            points: noisy
                .iter()
                .enumerate()
                .map(|(t, &v)| (t as f64, v))
                .collect(),
        },
        Series {
            label: "clean sine".into(),
            points: clean
                .iter()
                .enumerate()
                .map(|(t, &v)| (t as f64, v))
                .collect(),
        },
    ];
    for &k in &windows {
        let smooth = conv1d_mean(&noisy, k)?;
        let loops: Vec<f64> = noisy
            .windows(k)
            .map(|w| w.iter().sum::<f64>() / k as f64)
            .collect();
        loop_diff = loop_diff.max(max_abs_diff(&smooth, &loops));
        // Output i is the mean of y[i .. i + k]: compare it with the clean
        // value at the window's centre.
        let c = (k - 1) / 2;
        let left: Vec<f64> = smooth
            .iter()
            .enumerate()
            .map(|(i, s)| s - clean[i + c])
            .collect();
        noise_variance.push(variance(&left));
        series.push(Series {
            label: format!("moving average, k = {k}"),
            points: smooth
                .iter()
                .enumerate()
                .map(|(i, &v)| ((i + c) as f64, v))
                .collect(),
        });
    }
    let notes_series = conv1d_mean(&[100.0, 120.0, 115.0, 200.0, 135.0, 130.0, 140.0], 4)?;
    if print {
        println!(
            "the notes' series [100, 120, 115, 200, 135, 130, 140] with f = [1/4; 4]: {notes_series:?}"
        );
        println!("moving average of sin(2πt/100) + N(0, 0.3²), {n} points:");
        println!("  raw: variance of the noise {:.4}", noise_variance[0]);
        for (k, v) in windows.iter().zip(&noise_variance[1..]) {
            println!(
                "  k = {k:>2}: variance of what is left {v:.4} (white noise alone: {:.4} = raw / k)",
                noise_variance[0] / *k as f64
            );
        }
        println!("  largest |loops − conv1d|: {loop_diff:e}");
        let p = common::plot_lines(
            &args.out,
            "11-moving-average.svg",
            "moving average as conv1d with [1/k, …, 1/k]",
            ("t", "y"),
            &series,
            false,
            common::Legend::UpperRight,
        )?;
        println!("plot: {}", p.display());
    }
    Ok(MovingAverage {
        windows,
        noise_variance,
        notes_series,
        loop_diff,
    })
}

/// Draws square `side × side` images side by side (five a row), each with its
/// title: grey levels for images in `[0, 1]`, blue (negative) to red
/// (positive) for the filters' signed outputs.
fn image_grid(
    dir: &Path,
    file: &str,
    panels: &[(String, Vec<f64>)],
    side: usize,
) -> Result<PathBuf, BoxError> {
    std::fs::create_dir_all(dir)?;
    let (cell, per_row, title_h, gap) = (20i32, 5usize, 24i32, 16i32);
    let panel = cell * side as i32;
    let rows = panels.len().div_ceil(per_row) as i32;
    let size = (
        (per_row as i32 * (panel + gap) + gap) as u32,
        (rows * (panel + title_h + gap) + gap) as u32,
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        for (i, (title, v)) in panels.iter().enumerate() {
            let x0 = gap + (i % per_row) as i32 * (panel + gap);
            let y0 = gap + (i / per_row) as i32 * (panel + title_h + gap);
            root.draw(&Text::new(title.clone(), (x0, y0), ("sans-serif", 14)))?;
            let signed = v.iter().any(|&p| p < 0.0);
            let scale = v.iter().fold(1e-12f64, |m, p| m.max(p.abs()));
            for (j, &p) in v.iter().enumerate() {
                let t = (p / scale).clamp(-1.0, 1.0);
                let colour = if signed {
                    // White at 0, red for positive, blue for negative.
                    let fade = (255.0 * (1.0 - t.abs())) as u8;
                    if t >= 0.0 {
                        RGBColor(255, fade, fade)
                    } else {
                        RGBColor(fade, fade, 255)
                    }
                } else {
                    let g = (255.0 * (1.0 - t)) as u8;
                    RGBColor(g, g, g)
                };
                let (cx, cy) = (
                    x0 + (j % side) as i32 * cell,
                    y0 + title_h + (j / side) as i32 * cell,
                );
                root.draw(&Rectangle::new(
                    [(cx, cy), (cx + cell, cy + cell)],
                    colour.filled(),
                ))?;
            }
        }
        root.present()?;
    }
    let path = dir.join(file);
    std::fs::write(&path, svg)?;
    Ok(path)
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("11. convolution by hand");
    run(&args, true)?;
    Ok(())
}
