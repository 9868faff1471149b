//! Core benchmarks: tape overhead and matmul throughput.
//!
//! Run with `cargo bench --bench core [-- [chain] [matmul] [mlp] [--threads N]]`
//! (all parts, 1 thread, by default). Prints medians (and p10/p90) of repeated
//! runs, then the peak RSS of the process; on a shared, noisy machine compare
//! medians and ratios, not single runs.
//!
//! - `chain`: the W6 workload: 10,000 element-wise ops (`y * 1.0001`,
//!   `y + 0.0001`, `tanh(y)`, cycling) on a 16-element f32 tensor, forward plus
//!   backward, in ns per op; and the forward alone under `no_grad`.
//! - `matmul`: the W1 workload: `Tensor::matmul` at n = 128, 256, 512, 1024
//!   (f32) beside a direct, single-threaded `matrixmultiply::sgemm` call on the
//!   same buffers, in GFLOP/s.
//! - `mlp step`: the W2 workload: an MLP 784-512-256-10 with ReLU, softmax
//!   cross-entropy over a batch of 128, backward, and an SGD update, in ms.
//! - `tiny mlp step`: the W3 workload: an MLP 2-16-16-1 with tanh, MSE loss
//!   over a batch of 32, backward, and an `Sgd` step (lr 0.01), in µs; the
//!   layers, loss and optimizer are wengert-nn's, as a user would write it.
//!
//! Arguments after `--bench` that are not flags select benchmarks by name
//! (`chain`, `nograd`, `matmul`, `mlp`, `tiny`); `--threads N` sets the thread
//! count; `--iters N` scales the chain and tiny repetitions down for profiling
//! under callgrind, e.g.
//! `valgrind --tool=callgrind target/release/deps/core-* --bench chain --iters 1`.

use std::hint::black_box;

mod common;
use common::{Args, pct, print_peak_rss, skipped, time};

use wengert::nn::optim::{Optimizer, Sgd, SgdConfig};
use wengert::nn::{Linear, Module, Reduction, Sequential, Tanh, loss::mse_loss};
use wengert::{Tensor, no_grad};

const CHAIN_OPS: usize = 10_000;

fn chain(x: &Tensor<f32>) -> Tensor<f32> {
    let mut y = x.clone();
    for i in 0..CHAIN_OPS {
        y = match i % 3 {
            0 => y.mul_scalar(1.0001),
            1 => y.add_scalar(0.0001),
            _ => y.tanh(),
        };
    }
    y
}

fn bench_chain(iters: usize) {
    let x = Tensor::<f32>::linspace(-1.0, 1.0, 16)
        .unwrap()
        .requires_grad();
    let fb = time(5.min(iters), iters, || {
        let g = chain(&x).sum().backward().unwrap();
        black_box(g);
    });
    print_per_op("chain  fwd+bwd   ", &fb);
}

fn bench_chain_nograd(iters: usize) {
    let x = Tensor::<f32>::linspace(-1.0, 1.0, 16)
        .unwrap()
        .requires_grad();
    let fo = time(5.min(iters), iters, || {
        black_box(no_grad(|| chain(&x)));
    });
    print_per_op("chain  fwd-nograd", &fo);
}

fn print_per_op(label: &str, times: &[f64]) {
    let per_op = |s: f64| s / CHAIN_OPS as f64 * 1e9;
    println!(
        "{label} {:>8.0} ns/op  (p10 {:.0}, p90 {:.0})",
        per_op(pct(times, 0.5)),
        per_op(pct(times, 0.1)),
        per_op(pct(times, 0.9))
    );
}

fn bench_matmul() {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    for n in [128usize, 256, 512, 1024] {
        let a = Tensor::<f32>::randn([n, n], 0.0, 1.0, &mut rng).unwrap();
        let b = Tensor::<f32>::randn([n, n], 0.0, 1.0, &mut rng).unwrap();
        let flops = 2.0 * (n * n * n) as f64;
        let iters = (2_000_000_000 / (n * n * n)).clamp(10, 400);
        let ours = time(3, iters, || {
            black_box(a.matmul(&b));
        });
        let mut c = vec![0.0f32; n * n];
        let direct = time(3, iters, || {
            // SAFETY: a and b hold n*n contiguous row-major elements, c is a
            // distinct n*n buffer; strides (n, 1) address exactly those.
            #[allow(unsafe_code)]
            unsafe {
                matrixmultiply::sgemm(
                    n,
                    n,
                    n,
                    1.0,
                    a.as_slice().as_ptr(),
                    n as isize,
                    1,
                    b.as_slice().as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                );
            }
            black_box(&c);
        });
        let (g_ours, g_direct) = (
            flops / pct(&ours, 0.5) / 1e9,
            flops / pct(&direct, 0.5) / 1e9,
        );
        println!(
            "matmul n={n:<4} wengert {g_ours:>6.1} GFLOP/s   matrixmultiply::sgemm {g_direct:>6.1} GFLOP/s   ratio {:.3}",
            g_ours / g_direct
        );
    }
}

fn bench_mlp() {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let batch = 128;
    let x = Tensor::<f32>::randn([batch, 784], 0.0, 1.0, &mut rng).unwrap();
    let labels: Vec<usize> = (0..batch).map(|i| (i * 7) % 10).collect();
    let target = Tensor::<f32>::one_hot(&labels, 10);
    let layer = |fan_out: usize, fan_in: usize, rng: &mut rand::rngs::StdRng| {
        let std = (2.0 / fan_in as f32).sqrt();
        (
            Tensor::<f32>::randn([fan_out, fan_in], 0.0, std, rng)
                .unwrap()
                .requires_grad(),
            Tensor::<f32>::zeros([fan_out]).requires_grad(),
        )
    };
    let mut params = [
        layer(512, 784, &mut rng),
        layer(256, 512, &mut rng),
        layer(10, 256, &mut rng),
    ];
    let lr = 0.01f32;
    let step = || {
        let mut h = x.clone();
        for (k, (w, b)) in params.iter().enumerate() {
            h = &h.matmul_t(w, false, true) + b;
            if k + 1 < params.len() {
                h = h.relu();
            }
        }
        let loss = (&target * &h.log_softmax(-1))
            .sum()
            .mul_scalar(-1.0 / batch as f32);
        let g = loss.backward().unwrap();
        for (w, b) in params.iter_mut() {
            let update =
                |p: &Tensor<f32>| (&p.detach() - &g.get(p).unwrap().mul_scalar(lr)).requires_grad();
            (*w, *b) = (update(w), update(b));
        }
        loss.item()
    };
    time_training(
        "mlp step 784-512-256-10, batch 128",
        (1e3, "ms"),
        (3, 30),
        step,
    );
}

/// Times a training step returning its loss, checks that the loss falls, and
/// prints the median and p10/p90 in the given unit (scale, name).
fn time_training(
    label: &str,
    (scale, unit): (f64, &str),
    (warmup, iters): (usize, usize),
    mut step: impl FnMut() -> f32,
) {
    let first = step();
    let times = time(warmup, iters, || {
        black_box(step());
    });
    let last = step();
    assert!(last < first, "the loss falls: {first} -> {last}");
    println!(
        "{label}: {:>6.2} {unit}  (p10 {:.2}, p90 {:.2})",
        pct(&times, 0.5) * scale,
        pct(&times, 0.1) * scale,
        pct(&times, 0.9) * scale
    );
}

fn bench_tiny_mlp(iters: usize) {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let batch = 32;
    let x = Tensor::<f32>::randn([batch, 2], 0.0, 1.0, &mut rng).unwrap();
    let y = Tensor::<f32>::randn([batch, 1], 0.0, 1.0, &mut rng).unwrap();
    let mut model = Sequential::new()
        .add(Linear::new(2, 16, true, &mut rng).unwrap())
        .add(Tanh)
        .add(Linear::new(16, 16, true, &mut rng).unwrap())
        .add(Tanh)
        .add(Linear::new(16, 1, true, &mut rng).unwrap());
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.01,
        ..Default::default()
    })
    .unwrap();
    let step = || {
        let loss = mse_loss(&model.forward(&x), &y, Reduction::Mean).unwrap();
        let g = loss.backward().unwrap();
        opt.step(&mut model, &g).unwrap();
        loss.item()
    };
    time_training(
        "tiny mlp step 2-16-16-1, batch 32",
        (1e6, "µs"),
        (50.min(iters), iters),
        step,
    );
}

fn main() {
    // `cargo test --benches` runs bench targets with no arguments beyond
    // `--bench`; keep that quick by running only when benchmarking.
    if skipped() {
        return;
    }
    let args = Args::parse();
    println!(
        "wengert core benchmarks (f32, {} thread(s); medians)",
        args.threads
    );
    let chain_iters = args.iters.unwrap_or(50);
    if args.runs("chain") {
        bench_chain(chain_iters);
    }
    if args.runs("nograd") {
        bench_chain_nograd(chain_iters);
    }
    if args.runs("matmul") {
        bench_matmul();
    }
    if args.runs("mlp") {
        bench_mlp();
    }
    if args.runs("tiny") {
        bench_tiny_mlp(args.iters.unwrap_or(5000));
    }
    print_peak_rss();
}
