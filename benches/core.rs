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

use std::hint::black_box;

mod common;
use common::{Args, pct, print_peak_rss, skipped, time};

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

fn bench_chain() {
    let x = Tensor::<f32>::linspace(-1.0, 1.0, 16)
        .unwrap()
        .requires_grad();
    let fb = time(5, 50, || {
        let g = chain(&x).sum().backward().unwrap();
        black_box(g);
    });
    let per_op = |s: f64| s / CHAIN_OPS as f64 * 1e9;
    println!(
        "chain  fwd+bwd   {:>8.0} ns/op  (p10 {:.0}, p90 {:.0})",
        per_op(pct(&fb, 0.5)),
        per_op(pct(&fb, 0.1)),
        per_op(pct(&fb, 0.9))
    );
    let fo = time(5, 50, || {
        black_box(no_grad(|| chain(&x)));
    });
    println!(
        "chain  fwd-nograd {:>7.0} ns/op  (p10 {:.0}, p90 {:.0})",
        per_op(pct(&fo, 0.5)),
        per_op(pct(&fo, 0.1)),
        per_op(pct(&fo, 0.9))
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
    let mut step = || {
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
    let first = step();
    let times = time(3, 30, || {
        black_box(step());
    });
    let last = step();
    assert!(last < first, "the loss falls: {first} -> {last}");
    println!(
        "mlp step 784-512-256-10, batch 128: {:>6.2} ms  (p10 {:.2}, p90 {:.2})",
        pct(&times, 0.5) * 1e3,
        pct(&times, 0.1) * 1e3,
        pct(&times, 0.9) * 1e3
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
    if args.runs("chain") {
        bench_chain();
    }
    if args.runs("matmul") {
        bench_matmul();
    }
    if args.runs("mlp") {
        bench_mlp();
    }
    print_peak_rss();
}
