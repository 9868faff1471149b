//! dfdx 0.13 (Cpu device) peer. W2, W3, W6 build on stable. dfdx 0.13 gates Conv2D / MaxPool2D /
//! Flatten2D and the conv2d tensor op behind its `nightly` feature (generic_const_exprs), so W4 and
//! W5 are only compiled with `--features dfdx-nightly` on a nightly toolchain.
//!
//! Copied from the project's reference peer harness (shared `bench/rust`); workloads unchanged,
//! peak RSS now reported by `report` on every line.
#![cfg_attr(feature = "dfdx-nightly", allow(incomplete_features))]
#![cfg_attr(feature = "dfdx-nightly", feature(generic_const_exprs))]
use dfdx::optim::{Sgd, SgdConfig};
use dfdx::prelude::*;
use peers_bench::*;

type Mlp = (
    (Linear<784, 512>, ReLU),
    (Linear<512, 256>, ReLU),
    Linear<256, 10>,
);
type TinyMlp = ((Linear<2, 16>, Tanh), (Linear<16, 16>, Tanh), Linear<16, 1>);

#[cfg(feature = "dfdx-nightly")]
type LeNet = (
    (Conv2D<1, 6, 5, 1, 2>, Bias2D<6>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<6, 16, 5>, Bias2D<16>, ReLU, MaxPool2D<2, 2>),
    Flatten2D,
    (Linear<400, 120>, ReLU),
    (Linear<120, 84>, ReLU),
    Linear<84, 10>,
);

fn sgd_cfg() -> SgdConfig {
    SgdConfig {
        lr: 0.01,
        momentum: None,
        weight_decay: None,
    }
}

fn one_hot<const B: usize, const C: usize>(
    dev: &Cpu,
    labels: &[u32],
) -> Tensor<Rank2<B, C>, f32, Cpu> {
    // dfdx's cross entropy takes target probabilities, not integer labels: one-hot built once, outside the timed loop
    let mut v = vec![0f32; B * C];
    for (i, &l) in labels.iter().enumerate() {
        v[i * C + l as usize] = 1.0;
    }
    dev.tensor_from_vec(v, (Const::<B>, Const::<C>))
}

macro_rules! train_loop {
    ($workload:expr, $t:expr, $dev:expr, $model_ty:ty, $x:expr, $loss:expr, $warmup:expr, $steps:expr) => {{
        let mut model = $dev.build_module::<$model_ty, f32>();
        let mut grads = Some(model.alloc_grads());
        let mut opt = Sgd::new(&model, sgd_cfg());
        let x = $x;
        let s = time_loop(
            || {
                let out = model.forward_mut(x.trace(grads.take().unwrap()));
                let loss = $loss(out);
                let mut g = loss.backward();
                opt.update(&mut model, &g).expect("unused params");
                model.zero_grads(&mut g);
                grads = Some(g);
            },
            $warmup,
            $steps,
            1,
        );
        let l = $loss(model.forward(x.clone())).array();
        report(
            $workload,
            "dfdx",
            "cpu",
            $t,
            "-",
            &s,
            &[("loss", format!("{l:.4}"))],
        );
    }};
}

fn main() {
    let args = parse_args();
    let t = args.threads;
    setup_threads(t);
    let dev = Cpu::seed_from_u64(0);
    let mut rng = Rng::new(3);
    match args.workload.as_str() {
        "W2" => {
            let x: Tensor<Rank2<128, 784>, f32, Cpu> =
                dev.tensor_from_vec(rng.vec_normal(128 * 784), (Const, Const));
            let y = one_hot::<128, 10>(&dev, &rng.labels(128, 10));
            train_loop!(
                "W2",
                t,
                dev,
                Mlp,
                x,
                |out| cross_entropy_with_logits_loss(out, y.clone()),
                args.warmup.unwrap_or(20),
                args.steps.unwrap_or(300)
            );
        }
        "W3" => {
            let x: Tensor<Rank2<32, 2>, f32, Cpu> =
                dev.tensor_from_vec(rng.vec_normal(64), (Const, Const));
            let y: Tensor<Rank2<32, 1>, f32, Cpu> =
                dev.tensor_from_vec(rng.vec_normal(32), (Const, Const));
            train_loop!(
                "W3",
                t,
                dev,
                TinyMlp,
                x,
                |out| mse_loss(out, y.clone()),
                args.warmup.unwrap_or(50),
                args.steps.unwrap_or(2000)
            );
        }
        #[cfg(feature = "dfdx-nightly")]
        "W4" => {
            let x: Tensor<Rank4<64, 1, 28, 28>, f32, Cpu> =
                dev.tensor_from_vec(rng.vec_normal(64 * 784), (Const, Const, Const, Const));
            let y = one_hot::<64, 10>(&dev, &rng.labels(64, 10));
            train_loop!(
                "W4",
                t,
                dev,
                LeNet,
                x,
                |out| cross_entropy_with_logits_loss(out, y.clone()),
                args.warmup.unwrap_or(20),
                args.steps.unwrap_or(200)
            );
        }
        #[cfg(feature = "dfdx-nightly")]
        "W5" => {
            let flops = 2.0 * (32 * 64 * 32 * 32 * 64 * 9) as f64;
            let x: Tensor<Rank4<32, 64, 32, 32>, f32, Cpu> = dev.tensor_from_vec(
                rng.vec_normal(32 * 64 * 32 * 32),
                (Const, Const, Const, Const),
            );
            let w: Tensor<Rank4<64, 64, 3, 3>, f32, Cpu> = dev.tensor_from_vec(
                rng.vec_normal(64 * 64 * 9)
                    .into_iter()
                    .map(|v| v * 0.05)
                    .collect(),
                (Const, Const, Const, Const),
            );
            let steps = args.steps.unwrap_or(20);
            let wu = args.warmup.unwrap_or(3);
            let s = time_loop(
                || {
                    let out = (x.clone(), w.clone())
                        .conv2d(Const::<1>, Const::<1>, Const::<1>, Const::<1>);
                    std::hint::black_box(out);
                },
                wu,
                steps,
                1,
            );
            report(
                "W5",
                "dfdx",
                "fwd",
                t,
                "-",
                &s,
                &[("gflops", format!("{:.2}", flops / s.median() / 1e9))],
            );
            let mut grads = Some(x.alloc_grads());
            let s = time_loop(
                || {
                    let out = (x.trace(grads.take().unwrap()), w.clone())
                        .conv2d(Const::<1>, Const::<1>, Const::<1>, Const::<1>);
                    let g = out.sum().backward();
                    std::hint::black_box(&g); // holds dX and dW (Gradients::get would copy them)
                    grads = Some(g);
                },
                wu,
                steps,
                1,
            );
            report(
                "W5",
                "dfdx",
                "fwd+bwd",
                t,
                "-",
                &s,
                &[("gflops", format!("{:.2}", 3.0 * flops / s.median() / 1e9))],
            );
        }
        "W6" => {
            let x: Tensor<Rank1<16>, f32, Cpu> = dev.tensor_from_vec(rng.vec_normal(16), (Const,));
            let steps = args.steps.unwrap_or(20);
            let wu = args.warmup.unwrap_or(3);
            macro_rules! chain {
                ($y0:expr) => {{
                    let mut y = $y0;
                    for i in 0..W6_NOPS {
                        y = match i % 3 {
                            0 => y * 1.0001f32,
                            1 => y + 0.0001f32,
                            _ => y.tanh(),
                        };
                    }
                    y
                }};
            }
            let s = time_loop(
                || {
                    let y = chain!(x.leaky_trace());
                    let g = y.sum().backward();
                    std::hint::black_box(g.get(&x).array());
                },
                wu,
                steps,
                1,
            );
            report_w6("dfdx", "fwd+bwd", t, &s);
            let s = time_loop(
                || {
                    std::hint::black_box(chain!(x.clone()).array());
                },
                wu,
                steps,
                1,
            );
            report_w6("dfdx", "fwd-nograd", t, &s);
        }
        w => panic!(
            "workload {w} not available in this build (dfdx W4/W5 need --features dfdx-nightly)"
        ),
    }
}
