//! wengert peer: W1-W6 with the same shapes, data sizes, step counts and RESULT lines as the
//! candle, burn and dfdx binaries beside it. `wengert_bench --workload W2 --threads 1`.
//!
//! Threads: [`set_wengert_threads`] calls `wengert::set_num_threads(t)`, which every parallel
//! kernel of wengert (GEMM row splits, batched matmul, im2col/col2im, conv tiles) follows;
//! `pin_and_cap` pins the process to `t` CPUs and sets the thread variables, as
//! `setup_threads` does for every peer, but builds no global rayon pool: wengert never uses
//! it, and its idle thread would only make glibc's `malloc` take its multi-threaded
//! (atomic) paths. At one thread the process then has no other thread, as a single-threaded
//! program using wengert has none; docs/benchmarks.md gives W6 both ways.
use std::hint::black_box;

/// With the `mimalloc` feature, the same code with mimalloc as the global
/// allocator, reported as its own peer: on small tensors the allocator is a
/// large share of each op (docs/benchmarks.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The peer name in the RESULT lines.
const PEER: &str = if cfg!(feature = "mimalloc") {
    "wengert-mimalloc"
} else {
    "wengert"
};

use peers_bench::*;
use rand::SeedableRng;
use wengert::nn::optim::{Optimizer, Sgd, SgdConfig};
use wengert::nn::{
    loss, Conv2d, Flatten, Linear, MaxPool2d, Module, Reduction, Relu, Sequential, Tanh,
};
use wengert::{no_grad, Conv2dParams, Tensor};

/// Sets wengert's thread count; returns how it was set, for the RESULT line.
fn set_wengert_threads(t: usize) -> &'static str {
    wengert::set_num_threads(t);
    assert_eq!(wengert::num_threads(), t);
    "set_num_threads"
}

fn tensor(v: Vec<f32>, shape: &[usize]) -> Tensor<f32> {
    Tensor::from_vec(v, shape).expect("data length matches the shape")
}

fn labels(rng: &mut Rng, n: usize) -> Vec<usize> {
    rng.labels(n, 10).into_iter().map(|l| l as usize).collect()
}

/// `warmup` then `steps` SGD steps (lr 0.01, no momentum) of `loss_of(model(x))`.
fn train(
    workload: &str,
    t: usize,
    threads_by: &str,
    model: &mut Sequential<f32>,
    x: &Tensor<f32>,
    loss_of: impl Fn(&Tensor<f32>) -> Tensor<f32>,
    warmup: usize,
    steps: usize,
) {
    let mut opt = Sgd::<f32>::new(SgdConfig {
        lr: 0.01,
        ..Default::default()
    })
    .expect("valid config");
    let s = time_loop(
        || {
            let l = loss_of(&model.forward(x));
            let g = l.backward().expect("backward");
            opt.step(model, &g).expect("step");
        },
        warmup,
        steps,
        1,
    );
    let l = loss_of(&no_grad(|| model.forward(x))).item();
    report(
        workload,
        PEER,
        "nn",
        t,
        "-",
        &s,
        &[
            ("loss", format!("{l:.4}")),
            ("threads_by", threads_by.into()),
        ],
    );
}

/// Linear layers of `sizes` with `act` between them (not after the last).
fn mlp(
    sizes: &[usize],
    act: impl Module<f32> + Copy + 'static,
    rng: &mut rand::rngs::StdRng,
) -> Sequential<f32> {
    let mut net = Sequential::new();
    for (i, w) in sizes.windows(2).enumerate() {
        net.push(Linear::new(w[0], w[1], true, rng).expect("layer"));
        if i + 2 < sizes.len() {
            net.push(act);
        }
    }
    net
}

fn main() {
    let args = parse_args();
    let t = args.threads;
    pin_and_cap(t);
    let by = set_wengert_threads(t);
    let mut rng = Rng::new(5);
    let mut init = rand::rngs::StdRng::seed_from_u64(5);
    match args.workload.as_str() {
        "W1" => {
            for &n in &args.sizes {
                let a = tensor(rng.vec_normal(n * n), &[n, n]);
                let b = tensor(rng.vec_normal(n * n), &[n, n]);
                let mut c = vec![0f32; n * n];
                let (inner, iters) = (gemm_inner_iters(n), gemm_samples(n));
                let flops = 2.0 * (n as f64).powi(3);
                // The target is relative to a direct matrixmultiply call: time one on the
                // same buffers in this process, sample by sample alternating with `matmul`.
                let (ours, direct) = time_pair(
                    || {
                        black_box(a.matmul(&b));
                    },
                    || sgemm_square(n, a.as_slice(), b.as_slice(), &mut c),
                    inner.max(3),
                    iters,
                    inner,
                );
                let (g, gd) = (flops / ours.median() / 1e9, flops / direct.median() / 1e9);
                report(
                    "W1",
                    PEER,
                    "matmul",
                    t,
                    &n.to_string(),
                    &ours,
                    &[
                        ("gflops", format!("{g:.2}")),
                        ("direct_mm_gflops", format!("{gd:.2}")),
                        ("ratio_to_direct", format!("{:.3}", g / gd)),
                        ("threads_by", by.into()),
                    ],
                );
                black_box(&c);
            }
        }
        "W2" => {
            let mut model = mlp(&[784, 512, 256, 10], Relu, &mut init);
            let x = tensor(rng.vec_normal(128 * 784), &[128, 784]);
            let y = labels(&mut rng, 128);
            let ce = |z: &Tensor<f32>| loss::cross_entropy(z, &y, Reduction::Mean).expect("loss");
            train(
                "W2",
                t,
                by,
                &mut model,
                &x,
                ce,
                args.warmup.unwrap_or(20),
                args.steps.unwrap_or(300),
            );
        }
        "W3" => {
            let mut model = mlp(&[2, 16, 16, 1], Tanh, &mut init);
            let x = tensor(rng.vec_normal(64), &[32, 2]);
            let y = tensor(rng.vec_normal(32), &[32, 1]);
            let mse = |z: &Tensor<f32>| loss::mse_loss(z, &y, Reduction::Mean).expect("loss");
            train(
                "W3",
                t,
                by,
                &mut model,
                &x,
                mse,
                args.warmup.unwrap_or(50),
                args.steps.unwrap_or(2000),
            );
        }
        "W4" => {
            let pad2 = Conv2dParams {
                padding: [2, 2],
                ..Default::default()
            };
            let pool = || MaxPool2d::new([2, 2]).expect("pool");
            let mut model = Sequential::new()
                .add(Conv2d::new(1, 6, [5, 5], pad2, true, &mut init).expect("conv"))
                .add(Relu)
                .add(pool())
                .add(
                    Conv2d::new(6, 16, [5, 5], Conv2dParams::default(), true, &mut init)
                        .expect("conv"),
                )
                .add(Relu)
                .add(pool())
                .add(Flatten)
                .add(Linear::new(400, 120, true, &mut init).expect("layer"))
                .add(Relu)
                .add(Linear::new(120, 84, true, &mut init).expect("layer"))
                .add(Relu)
                .add(Linear::new(84, 10, true, &mut init).expect("layer"));
            let x = tensor(rng.vec_normal(64 * 784), &[64, 1, 28, 28]);
            let y = labels(&mut rng, 64);
            let ce = |z: &Tensor<f32>| loss::cross_entropy(z, &y, Reduction::Mean).expect("loss");
            train(
                "W4",
                t,
                by,
                &mut model,
                &x,
                ce,
                args.warmup.unwrap_or(20),
                args.steps.unwrap_or(200),
            );
        }
        "W5" => {
            let (n, c, h, w) = (32usize, 64usize, 32usize, 32usize);
            let flops = 2.0 * (n * 64 * h * w * c * 9) as f64;
            let xt = tensor(rng.vec_normal(n * c * h * w), &[n, c, h, w]);
            let wt = tensor(
                rng.vec_normal(64 * c * 9)
                    .into_iter()
                    .map(|v| v * 0.05)
                    .collect(),
                &[64, c, 3, 3],
            );
            let p = Conv2dParams {
                padding: [1, 1],
                ..Default::default()
            };
            let steps = args.steps.unwrap_or(20);
            let wu = args.warmup.unwrap_or(3);
            let s = time_loop(
                || {
                    black_box(no_grad(|| xt.conv2d(&wt, None, p)));
                },
                wu,
                steps,
                1,
            );
            report(
                "W5",
                PEER,
                "fwd",
                t,
                "-",
                &s,
                &[
                    ("gflops", format!("{:.2}", flops / s.median() / 1e9)),
                    ("threads_by", by.into()),
                ],
            );
            let (xg, wg) = (xt.clone().requires_grad(), wt.clone().requires_grad());
            let s = time_loop(
                || {
                    let g = xg.conv2d(&wg, None, p).sum().backward().expect("backward");
                    assert!(g.get(&xg).is_some() && g.get(&wg).is_some());
                    black_box(g);
                },
                wu,
                steps,
                1,
            );
            report(
                "W5",
                PEER,
                "fwd+bwd",
                t,
                "-",
                &s,
                &[
                    ("gflops", format!("{:.2}", 3.0 * flops / s.median() / 1e9)),
                    ("threads_by", by.into()),
                ],
            );
        }
        "W6" => {
            let x = tensor(rng.vec_normal(16), &[16]).requires_grad();
            let chain = |y0: &Tensor<f32>| {
                let mut y = y0.clone();
                for i in 0..W6_NOPS {
                    y = match i % 3 {
                        0 => y.mul_scalar(1.0001),
                        1 => y.add_scalar(0.0001),
                        _ => y.tanh(),
                    };
                }
                y
            };
            let steps = args.steps.unwrap_or(20);
            let wu = args.warmup.unwrap_or(3);
            let s = time_loop(
                || {
                    let g = chain(&x).sum().backward().expect("backward");
                    black_box(g.get(&x).expect("gradient of x").to_vec());
                },
                wu,
                steps,
                1,
            );
            report_w6(PEER, "fwd+bwd", t, &s);
            let s = time_loop(
                || {
                    black_box(no_grad(|| chain(&x)).to_vec());
                },
                wu,
                steps,
                1,
            );
            report_w6(PEER, "fwd-nograd", t, &s);
        }
        w => panic!("unknown workload {w}"),
    }
}
