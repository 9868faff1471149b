//! Convolution benchmark: conv2d, batch 32, 64 → 64 channels, 3×3, 32×32,
//! padding 1 (f32).
//!
//! Run with `cargo bench --bench conv [-- [conv] [lenet] [--threads N] [--iters N]]`
//! (both parts, 1 thread, 20 timed runs each, by default).
//!
//! `conv` is the W5 workload, without bias as in the peer benchmarks: medians
//! (and p10/p90) of the forward pass without recording (`no_grad`), the
//! forward pass recorded, and forward plus backward of the sum (gradients of
//! input and weight), with GFLOP/s counted as forward flops =
//! 2·N·C_out·H·W·C_in·9 (and 3× that for forward plus backward). On a shared,
//! noisy machine compare medians, not single runs.
//!
//! `lenet` is a LeNet-5 training step (the W4 workload): 1×28×28 inputs,
//! batch 64, conv 6@5×5 pad 2, ReLU, max-pool 2, conv 16@5×5, ReLU, max-pool
//! 2, 400-120-84-10 with ReLU, softmax cross-entropy, backward and an SGD
//! update. The peak RSS of the process is printed last.
//!
//! `pool` times `max_pool2d` (2×2, stride 2, under `no_grad`) alone on the
//! output of LeNet's first convolution, `[64, 6, 28, 28]` of uniform noise:
//! the pooling kernel whose tie rule decides every window.

use std::hint::black_box;

mod common;
use common::{Args, pct, print_peak_rss, skipped, time};

use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::{Conv2dParams, Tensor, no_grad};

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
    if skipped() {
        return;
    }
    let args = Args::parse();
    let iters = args.iters.unwrap_or(20);
    if args.runs("conv") {
        conv_w5(args.threads, iters);
    }
    if args.runs("lenet") {
        lenet_step(iters);
    }
    if args.runs("pool") {
        pool_lenet(iters);
    }
    print_peak_rss();
}

fn conv_w5(threads: usize, iters: usize) {
    let mut rng = StdRng::seed_from_u64(0);
    let (n, c, h, w) = (32usize, 64usize, 32usize, 32usize);
    let x = Tensor::<f32>::randn([n, c, h, w], 0.0, 1.0, &mut rng).unwrap();
    let wt = Tensor::<f32>::randn([c, c, 3, 3], 0.0, 0.05, &mut rng).unwrap();
    let p = Conv2dParams {
        padding: [1, 1],
        ..Conv2dParams::default()
    };
    let flops = 2.0 * (n * c * h * w * c * 9) as f64;
    println!(
        "wengert conv2d benchmark: f32, batch {n}, {c} -> {c} channels, 3x3, {h}x{w}, padding 1, no bias, {threads} thread(s) (medians)"
    );
    let fwd = time(3, iters, || {
        black_box(no_grad(|| x.conv2d(&wt, None, p)));
    });
    report("forward (no_grad)", &fwd, flops);
    let window = wengert::Im2colParams {
        padding: [1, 1],
        ..wengert::Im2colParams::new([3, 3])
    };
    // One tile of the forward pass: 7 images of 576 × 1024 columns.
    let tile = x.narrow(0, 0, 7);
    let cols = time(3, iters, || {
        black_box(tile.im2col(window));
    });
    report("im2col, one 7-image tile", &cols, 0.0);
    let (xl, wl) = (x.clone().requires_grad(), wt.clone().requires_grad());
    let rec = time(3, iters, || {
        black_box(xl.conv2d(&wl, None, p));
    });
    report("forward (recorded)", &rec, flops);
    let fb = time(3, iters, || {
        let g = xl.conv2d(&wl, None, p).sum().backward().unwrap();
        black_box(g);
    });
    report("forward+backward", &fb, 3.0 * flops);
}

/// A trainable tensor of `shape` with He-normal values (fan-in `fan_in`).
fn param(shape: &[usize], fan_in: usize, rng: &mut StdRng) -> Tensor<f32> {
    let std = (2.0 / fan_in as f32).sqrt();
    Tensor::<f32>::randn(shape.to_vec(), 0.0, std, rng)
        .unwrap()
        .requires_grad()
}

fn lenet_step(iters: usize) {
    let mut rng = StdRng::seed_from_u64(5);
    let batch = 64;
    let x = Tensor::<f32>::rand_uniform([batch, 1, 28, 28], 0.0, 1.0, &mut rng).unwrap();
    let labels: Vec<usize> = (0..batch).map(|i| (i * 3) % 10).collect();
    let target = Tensor::<f32>::one_hot(&labels, 10);
    let mut params = vec![
        param(&[6, 1, 5, 5], 25, &mut rng),
        Tensor::<f32>::zeros([6]).requires_grad(),
        param(&[16, 6, 5, 5], 150, &mut rng),
        Tensor::<f32>::zeros([16]).requires_grad(),
        param(&[120, 400], 400, &mut rng),
        Tensor::<f32>::zeros([120]).requires_grad(),
        param(&[84, 120], 120, &mut rng),
        Tensor::<f32>::zeros([84]).requires_grad(),
        param(&[10, 84], 84, &mut rng),
        Tensor::<f32>::zeros([10]).requires_grad(),
    ];
    let pad2 = Conv2dParams {
        padding: [2, 2],
        ..Conv2dParams::default()
    };
    let lr = 0.01f32;
    let mut step = || {
        let p = &params;
        let h = x
            .conv2d(&p[0], Some(&p[1]), pad2)
            .relu()
            .max_pool2d([2, 2], [2, 2], [0, 0]);
        let h = h
            .conv2d(&p[2], Some(&p[3]), Conv2dParams::default())
            .relu()
            .max_pool2d([2, 2], [2, 2], [0, 0]);
        let h = h.reshape([batch, 400]);
        let h = (&h.matmul_t(&p[4], false, true) + &p[5]).relu();
        let h = (&h.matmul_t(&p[6], false, true) + &p[7]).relu();
        let logits = &h.matmul_t(&p[8], false, true) + &p[9];
        let loss = (&target * &logits.log_softmax(-1))
            .sum()
            .mul_scalar(-1.0 / batch as f32);
        let g = loss.backward().unwrap();
        for q in params.iter_mut() {
            *q = (&q.detach() - &g.get(q).unwrap().mul_scalar(lr)).requires_grad();
        }
        loss.item()
    };
    let first = step();
    let times = time(3, iters, || {
        black_box(step());
    });
    assert!(step() < first, "the LeNet-5 loss falls");
    println!(
        "lenet-5 step, batch 64       median {:>8.2} ms  (p10 {:.2}, p90 {:.2})",
        pct(&times, 0.5) * 1e3,
        pct(&times, 0.1) * 1e3,
        pct(&times, 0.9) * 1e3
    );
}

fn pool_lenet(iters: usize) {
    let mut rng = StdRng::seed_from_u64(6);
    let x = Tensor::<f32>::rand_uniform([64, 6, 28, 28], -1.0, 1.0, &mut rng).unwrap();
    let times = time(3, iters, || {
        black_box(no_grad(|| x.max_pool2d([2, 2], [2, 2], [0, 0])));
    });
    report("max_pool2d [64,6,28,28]", &times, 0.0);
}
