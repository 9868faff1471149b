//! burn 0.22 peer: W2..W6 with the NdArray backend (`--variant ndarray`, the default) or the
//! Flex backend (`--variant flex`), both wrapped in Autodiff.
//!
//! Copied from the project's reference peer harness (shared `bench/rust`); workloads unchanged,
//! peak RSS now reported by `report` on every line.
#![allow(deprecated)] // Device::ndarray() is deprecated in burn 0.22 in favour of flex
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::{CrossEntropyLossConfig, MseLoss, Reduction};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu, Tanh};
use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use peers_bench::*;

#[derive(Module, Debug)]
struct Mlp {
    l1: Linear,
    l2: Linear,
    l3: Linear,
    act: Relu,
}

#[derive(Module, Debug)]
struct Tiny {
    l1: Linear,
    l2: Linear,
    l3: Linear,
    act: Tanh,
}

#[derive(Module, Debug)]
struct LeNet {
    c1: Conv2d,
    c2: Conv2d,
    pool: MaxPool2d,
    f1: Linear,
    f2: Linear,
    f3: Linear,
    act: Relu,
}

trait Fwd<const D: usize>: Module + Sized {
    fn fwd(&self, x: Tensor<D>) -> Tensor<2>;
}
impl Fwd<2> for Mlp {
    fn fwd(&self, x: Tensor<2>) -> Tensor<2> {
        let h = self.act.forward(self.l1.forward(x));
        let h = self.act.forward(self.l2.forward(h));
        self.l3.forward(h)
    }
}
impl Fwd<2> for Tiny {
    fn fwd(&self, x: Tensor<2>) -> Tensor<2> {
        let h = self.act.forward(self.l1.forward(x));
        let h = self.act.forward(self.l2.forward(h));
        self.l3.forward(h)
    }
}
impl Fwd<4> for LeNet {
    fn fwd(&self, x: Tensor<4>) -> Tensor<2> {
        let h = self.pool.forward(self.act.forward(self.c1.forward(x)));
        let h = self.pool.forward(self.act.forward(self.c2.forward(h)));
        let h: Tensor<2> = h.flatten(1, 3);
        let h = self.act.forward(self.f1.forward(h));
        let h = self.act.forward(self.f2.forward(h));
        self.f3.forward(h)
    }
}

fn train<M: Fwd<D>, const D: usize>(
    workload: &str,
    peer: &str,
    t: usize,
    model: M,
    loss_fn: impl Fn(Tensor<2>) -> Tensor<1>,
    x: Tensor<D>,
    warmup: usize,
    steps: usize,
) {
    let mut optim = SgdConfig::new().init();
    let mut model = Some(model);
    let s = time_loop(
        || {
            let m = model.take().unwrap();
            let loss = loss_fn(m.fwd(x.clone()));
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            model = Some(optim.step(0.01, m, grads));
        },
        warmup,
        steps,
        1,
    );
    let l: f32 = loss_fn(model.unwrap().fwd(x)).into_scalar();
    report(
        workload,
        peer,
        "autodiff",
        t,
        "-",
        &s,
        &[("loss", format!("{l:.4}"))],
    );
}

fn main() {
    let args = parse_args();
    let t = args.threads;
    setup_threads(t);
    let backend = args.variant.clone().unwrap_or_else(|| "ndarray".into());
    let base = match backend.as_str() {
        "ndarray" => Device::ndarray(),
        "flex" => Device::flex(),
        b => panic!("unknown burn backend {b}"),
    };
    let peer = format!("burn-{backend}");
    let dev = base.clone().autodiff();
    let mut rng = Rng::new(11);
    let floats = |v: Vec<f32>, shape: Vec<usize>, d: &Device| {
        Tensor::<1>::from_data(TensorData::new(v, [shape.iter().product::<usize>()]), d)
    };
    // `n` class labels in 0..10, as an integer tensor.
    let labels = |rng: &mut Rng, n: usize, d: &Device| {
        let v: Vec<i64> = rng.labels(n, 10).into_iter().map(|v| v as i64).collect();
        Tensor::<1, Int>::from_data(TensorData::new(v, [n]), d)
    };
    match args.workload.as_str() {
        "W2" => {
            let model = Mlp {
                l1: LinearConfig::new(784, 512).init(&dev),
                l2: LinearConfig::new(512, 256).init(&dev),
                l3: LinearConfig::new(256, 10).init(&dev),
                act: Relu::new(),
            };
            let x: Tensor<2> =
                floats(rng.vec_normal(128 * 784), vec![128 * 784], &dev).reshape([128, 784]);
            let y = labels(&mut rng, 128, &dev);
            let ce = CrossEntropyLossConfig::new().init(&dev);
            train(
                "W2",
                &peer,
                t,
                model,
                |logits| ce.forward(logits, y.clone()),
                x,
                args.warmup.unwrap_or(20),
                args.steps.unwrap_or(300),
            );
        }
        "W3" => {
            let model = Tiny {
                l1: LinearConfig::new(2, 16).init(&dev),
                l2: LinearConfig::new(16, 16).init(&dev),
                l3: LinearConfig::new(16, 1).init(&dev),
                act: Tanh::new(),
            };
            let x: Tensor<2> = floats(rng.vec_normal(64), vec![64], &dev).reshape([32, 2]);
            let y: Tensor<2> = floats(rng.vec_normal(32), vec![32], &dev).reshape([32, 1]);
            let mse = MseLoss::new();
            train(
                "W3",
                &peer,
                t,
                model,
                |out| mse.forward(out, y.clone(), Reduction::Mean).reshape([1]),
                x,
                args.warmup.unwrap_or(50),
                args.steps.unwrap_or(2000),
            );
        }
        "W4" => {
            let model = LeNet {
                c1: Conv2dConfig::new([1, 6], [5, 5])
                    .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                    .init(&dev),
                c2: Conv2dConfig::new([6, 16], [5, 5]).init(&dev),
                pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
                f1: LinearConfig::new(400, 120).init(&dev),
                f2: LinearConfig::new(120, 84).init(&dev),
                f3: LinearConfig::new(84, 10).init(&dev),
                act: Relu::new(),
            };
            let x: Tensor<4> =
                floats(rng.vec_normal(64 * 784), vec![64 * 784], &dev).reshape([64, 1, 28, 28]);
            let y = labels(&mut rng, 64, &dev);
            let ce = CrossEntropyLossConfig::new().init(&dev);
            train(
                "W4",
                &peer,
                t,
                model,
                |logits| ce.forward(logits, y.clone()),
                x,
                args.warmup.unwrap_or(20),
                args.steps.unwrap_or(200),
            );
        }
        "W5" => {
            let (n, c, h, w) = (32usize, 64usize, 32usize, 32usize);
            let flops = 2.0 * (n * 64 * h * w * c * 9) as f64;
            let xv = rng.vec_normal(n * c * h * w);
            let wv: Vec<f32> = rng
                .vec_normal(64 * c * 9)
                .into_iter()
                .map(|v| v * 0.05)
                .collect();
            let opts = || ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
            let steps = args.steps.unwrap_or(20);
            let wu = args.warmup.unwrap_or(3);
            // forward only on the plain (non-autodiff) device
            let xt: Tensor<4> = floats(xv.clone(), vec![xv.len()], &base).reshape([n, c, h, w]);
            let wt: Tensor<4> = floats(wv.clone(), vec![wv.len()], &base).reshape([64, c, 3, 3]);
            let s = time_loop(
                || {
                    std::hint::black_box(conv2d(xt.clone(), wt.clone(), None, opts()));
                },
                wu,
                steps,
                1,
            );
            report(
                "W5",
                &peer,
                "fwd",
                t,
                "-",
                &s,
                &[("gflops", format!("{:.2}", flops / s.median() / 1e9))],
            );
            let xa: Tensor<4> = floats(xv.clone(), vec![xv.len()], &dev)
                .reshape([n, c, h, w])
                .require_grad();
            let wa: Tensor<4> = floats(wv.clone(), vec![wv.len()], &dev)
                .reshape([64, c, 3, 3])
                .require_grad();
            let s = time_loop(
                || {
                    let out = conv2d(xa.clone(), wa.clone(), None, opts());
                    let g = out.sum().backward();
                    let gx = xa.grad(&g).unwrap();
                    let gw = wa.grad(&g).unwrap();
                    std::hint::black_box((gx, gw));
                },
                wu,
                steps,
                1,
            );
            report(
                "W5",
                &peer,
                "fwd+bwd",
                t,
                "-",
                &s,
                &[("gflops", format!("{:.2}", 3.0 * flops / s.median() / 1e9))],
            );
        }
        "W6" => {
            let xa: Tensor<1> = floats(rng.vec_normal(16), vec![16], &dev).require_grad();
            let chain = |y0: Tensor<1>| {
                let mut y = y0;
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
                    let g = chain(xa.clone()).sum().backward();
                    std::hint::black_box(xa.grad(&g).unwrap().into_data());
                },
                wu,
                steps,
                1,
            );
            report_w6(&peer, "fwd+bwd", t, &s);
            let xt: Tensor<1> = floats(rng.vec_normal(16), vec![16], &base);
            let s = time_loop(
                || {
                    std::hint::black_box(chain(xt.clone()).into_data());
                },
                wu,
                steps,
                1,
            );
            report_w6(&peer, "fwd-nograd", t, &s);
        }
        w => panic!("unknown workload {w}"),
    }
}
