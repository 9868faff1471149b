//! W1: square SGEMM C = A*B with the Rust crates `matrixmultiply` and `gemm`.
//! `cargo run --release --no-default-features [--features mm-threading,gemm-v4] --bin w1_gemm -- --workload W1 --threads 1`
//!
//! Copied from the project's reference peer harness (shared `bench/rust`); workloads unchanged,
//! peak RSS now reported by `report` on every line.
use peers_bench::*;

fn main() {
    let args = parse_args();
    assert_eq!(args.workload, "W1");
    let t = args.threads;
    setup_threads(t);
    let mm_variant = if cfg!(feature = "mm-threading") {
        "threading-feature"
    } else {
        "no-threading-feature"
    };
    let gemm_variant = if cfg!(feature = "gemm-v4") {
        "x86-v4-feature"
    } else {
        "default-features"
    };
    let mut rng = Rng::new(42);
    for &n in &args.sizes {
        let a = rng.vec_normal(n * n);
        let b = rng.vec_normal(n * n);
        let mut c = vec![0f32; n * n];
        let inner = gemm_inner_iters(n);
        let iters = gemm_samples(n);
        let flops = 2.0 * (n as f64).powi(3);

        // matrixmultiply: without its `threading` feature it is always single-threaded.
        if t == 1 || cfg!(feature = "mm-threading") {
            let s = time_loop(
                || sgemm_square(n, &a, &b, &mut c),
                inner.max(3),
                iters,
                inner,
            );
            report(
                "W1",
                "matrixmultiply",
                mm_variant,
                t,
                &n.to_string(),
                &s,
                &[("gflops", format!("{:.2}", flops / s.median() / 1e9))],
            );
        }
        let par = if t == 1 {
            gemm::Parallelism::None
        } else {
            gemm::Parallelism::Rayon(t)
        };
        let s = time_loop(
            || unsafe {
                // gemm convention: dst = alpha*dst + beta*lhs*rhs; read_dst=false ignores alpha
                gemm::gemm(
                    n,
                    n,
                    n,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    1,
                    n as isize,
                    b.as_ptr(),
                    1,
                    n as isize,
                    0.0f32,
                    1.0f32,
                    false,
                    false,
                    false,
                    par,
                )
            },
            inner.max(3),
            iters,
            inner,
        );
        report(
            "W1",
            "gemm",
            gemm_variant,
            t,
            &n.to_string(),
            &s,
            &[("gflops", format!("{:.2}", flops / s.median() / 1e9))],
        );
        std::hint::black_box(&c);
    }
}
