//! candle (candle-core + candle-nn, CPU) peer: W2..W6.
//! `candle_bench --workload W2 --threads 1` (RAYON_NUM_THREADS is what candle reads).
//!
//! Copied from the project's reference peer harness (shared `bench/rust`); workloads unchanged,
//! peak RSS now reported by `report` on every line.
use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{conv2d, linear, loss, Conv2dConfig, Optimizer, VarBuilder, VarMap, SGD};
use peers_bench::*;

type R<T> = candle_core::Result<T>;

fn train<F: Fn() -> R<Tensor>>(
    workload: &str,
    t: usize,
    varmap: &VarMap,
    loss_fn: F,
    warmup: usize,
    steps: usize,
) -> R<()> {
    let mut opt = SGD::new(varmap.all_vars(), 0.01)?;
    let s = time_loop(
        || {
            let l = loss_fn().unwrap();
            opt.backward_step(&l).unwrap();
        },
        warmup,
        steps,
        1,
    );
    let l = loss_fn()?.to_scalar::<f32>()?;
    report(
        workload,
        "candle",
        "cpu",
        t,
        "-",
        &s,
        &[("loss", format!("{l:.4}"))],
    );
    Ok(())
}

fn main() -> R<()> {
    let args = parse_args();
    let t = args.threads;
    setup_threads(t);
    let dev = Device::Cpu;
    let mut rng = Rng::new(7);
    match args.workload.as_str() {
        "W2" => {
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
            let l1 = linear(784, 512, vb.pp("l1"))?;
            let l2 = linear(512, 256, vb.pp("l2"))?;
            let l3 = linear(256, 10, vb.pp("l3"))?;
            let x = Tensor::from_vec(rng.vec_normal(128 * 784), (128, 784), &dev)?;
            let y = Tensor::from_vec(rng.labels(128, 10), 128, &dev)?;
            let f = || {
                let h = l1.forward(&x)?.relu()?;
                let h = l2.forward(&h)?.relu()?;
                loss::cross_entropy(&l3.forward(&h)?, &y)
            };
            train(
                "W2",
                t,
                &vm,
                f,
                args.warmup.unwrap_or(20),
                args.steps.unwrap_or(300),
            )?;
        }
        "W3" => {
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
            let l1 = linear(2, 16, vb.pp("l1"))?;
            let l2 = linear(16, 16, vb.pp("l2"))?;
            let l3 = linear(16, 1, vb.pp("l3"))?;
            let x = Tensor::from_vec(rng.vec_normal(32 * 2), (32, 2), &dev)?;
            let y = Tensor::from_vec(rng.vec_normal(32), (32, 1), &dev)?;
            let f = || {
                let h = l1.forward(&x)?.tanh()?;
                let h = l2.forward(&h)?.tanh()?;
                loss::mse(&l3.forward(&h)?, &y)
            };
            train(
                "W3",
                t,
                &vm,
                f,
                args.warmup.unwrap_or(50),
                args.steps.unwrap_or(2000),
            )?;
        }
        "W4" => {
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
            let c1 = conv2d(
                1,
                6,
                5,
                Conv2dConfig {
                    padding: 2,
                    ..Default::default()
                },
                vb.pp("c1"),
            )?;
            let c2 = conv2d(6, 16, 5, Default::default(), vb.pp("c2"))?;
            let f1 = linear(400, 120, vb.pp("f1"))?;
            let f2 = linear(120, 84, vb.pp("f2"))?;
            let f3 = linear(84, 10, vb.pp("f3"))?;
            let x = Tensor::from_vec(rng.vec_normal(64 * 28 * 28), (64, 1, 28, 28), &dev)?;
            let y = Tensor::from_vec(rng.labels(64, 10), 64, &dev)?;
            let f = || {
                let h = c1.forward(&x)?.relu()?.max_pool2d(2)?;
                let h = c2.forward(&h)?.relu()?.max_pool2d(2)?;
                let h = h.flatten_from(1)?;
                let h = f1.forward(&h)?.relu()?;
                let h = f2.forward(&h)?.relu()?;
                loss::cross_entropy(&f3.forward(&h)?, &y)
            };
            train(
                "W4",
                t,
                &vm,
                f,
                args.warmup.unwrap_or(20),
                args.steps.unwrap_or(200),
            )?;
        }
        "W5" => {
            let (n, c, h, w) = (32usize, 64usize, 32usize, 32usize);
            let flops = 2.0 * (n * 64 * h * w * c * 9) as f64;
            let xt = Tensor::from_vec(rng.vec_normal(n * c * h * w), (n, c, h, w), &dev)?;
            let wt = (Tensor::from_vec(rng.vec_normal(64 * c * 9), (64, c, 3, 3), &dev)? * 0.05)?;
            let steps = args.steps.unwrap_or(20);
            let wu = args.warmup.unwrap_or(3);
            // forward only: plain tensors, no graph tracking
            let s = time_loop(
                || {
                    std::hint::black_box(xt.conv2d(&wt, 1, 1, 1, 1).unwrap());
                },
                wu,
                steps,
                1,
            );
            report(
                "W5",
                "candle",
                "fwd",
                t,
                "-",
                &s,
                &[("gflops", format!("{:.2}", flops / s.median() / 1e9))],
            );
            let xv = Var::from_tensor(&xt)?;
            let wv = Var::from_tensor(&wt)?;
            let s = time_loop(
                || {
                    let out = xv.as_tensor().conv2d(wv.as_tensor(), 1, 1, 1, 1).unwrap();
                    let g = out.sum_all().unwrap().backward().unwrap();
                    assert!(g.get(xv.as_tensor()).is_some() && g.get(wv.as_tensor()).is_some());
                },
                wu,
                steps,
                1,
            );
            report(
                "W5",
                "candle",
                "fwd+bwd",
                t,
                "-",
                &s,
                &[("gflops", format!("{:.2}", 3.0 * flops / s.median() / 1e9))],
            );
        }
        "W6" => {
            let x = Var::from_tensor(&Tensor::from_vec(rng.vec_normal(16), 16, &dev)?)?;
            let chain = |y0: &Tensor| -> Tensor {
                let mut y = y0.clone();
                for i in 0..W6_NOPS {
                    y = match i % 3 {
                        0 => (&y * 1.0001).unwrap(),
                        1 => (&y + 0.0001).unwrap(),
                        _ => y.tanh().unwrap(),
                    };
                }
                y
            };
            let steps = args.steps.unwrap_or(20);
            let wu = args.warmup.unwrap_or(3);
            let s = time_loop(
                || {
                    let g = chain(x.as_tensor()).sum_all().unwrap().backward().unwrap();
                    std::hint::black_box(g.get(x.as_tensor()).unwrap());
                },
                wu,
                steps,
                1,
            );
            report_w6("candle", "fwd+bwd", t, &s);
            let xt = x.as_tensor().detach();
            let s = time_loop(
                || {
                    std::hint::black_box(chain(&xt));
                },
                wu,
                steps,
                1,
            );
            report_w6("candle", "fwd-nograd", t, &s);
        }
        w => panic!("unknown workload {w}"),
    }
    Ok(())
}
