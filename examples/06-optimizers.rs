//! # 6. Optimizers: SGD, momentum, RMSProp and Adam
//!
//! What it teaches: how the four update rules of "INF721 A10: Otimização"
//! behave, first on a ravine you can see, then on a real network.
//!
//! 1. **The ravine** `f(x, y) = x²/20 + 5·y²`: curvature 0.1 along x, 10
//!    along y (condition number 100), every optimizer from `(-10, 1)`.
//!    Plain gradient descent is stable only for `γ < 2/10`: at `γ = 0.21` it
//!    oscillates across the steep axis with growing amplitude and diverges, and
//!    at any stable rate it crawls along the flat one. Momentum averages the
//!    zigzag away, RMSProp and Adam divide each coordinate by its own gradient
//!    scale. The paths go to one SVG, the losses to another, and a sweep over
//!    learning rates compares each optimizer at its best.
//! 2. **The digits**: the same MLP (64-64-10, ReLU), from the same initial
//!    weights and with the same batch order, trained on the embedded UCI
//!    digits with each optimizer at five learning rates; the training loss per
//!    epoch of each optimizer's best run is plotted. After one epoch momentum,
//!    RMSProp and Adam are well below every SGD run; after twenty the four
//!    are close.
//! 3. **The EMA example** of the notes, computed by a plain exponential moving
//!    average and by `Adam`'s first moment (`Adam::inspect`), raw and
//!    bias-corrected.
//!
//! The library follows PyTorch: `Sgd` with `momentum: μ` keeps `b ← μ·b + g`
//! and steps `θ ← θ - γ·b`. The notes (as Andrew Ng's course) keep
//! `v ← β·v + (1 - β)·g` and step `θ ← θ - α·v`. Both buffers are the same
//! sum of past gradients up to the factor `1 - β` (`b = v / (1 - β)` at every
//! step, both starting at 0), so the two are the same algorithm when
//! `γ = α·(1 - β)`: with `β = 0.9`, the notes' `α = 1` is PyTorch's
//! `γ = 0.1`. The example runs the notes' rule by hand next to `Sgd` and prints
//! the largest difference between the two paths.
//!
//! Where the notes differ from what is right:
//! - Bias-correction slide: `0.98·0.02 = 0.0196`, not `0.00196`, so
//!   `v₂ = 0.0196·16 + 0.02·24 = 0.7936` (not 0.51136), and
//!   `1 - 0.98² = 0.0396` (not 0.00396): the corrected `v̂₂ = 0.7936 / 0.0396
//!   ≈ 20.04`, between θ₁ = 16 and θ₂ = 24 as a weighted mean must be; the
//!   slide's numbers would give 129. The slide also writes the correction
//!   into the recursion (`v_t = (β·v_{t-1} + (1 - β)·θ_t) / (1 - β^t)`): the
//!   recursion must run on the raw `v`, and `v̂_t = v_t / (1 - β^t)` is only
//!   read out (its own worked lines do this). The Adam slide has the same
//!   slip: `Vdw = Vdw / (1 - β₁^t)` overwrites the state; keep the raw average
//!   and use the corrected copy for the step.
//! - "β = 0.9 = 1/(1 + 0.9) ≈ 10 dias": the horizon is `1/(1 - β)` (10, 50, 2
//!   for β = 0.9, 0.98, 0.5), as the line above it says.
//! - RMSProp and Adam divide by `√S` with no `ε`: a coordinate whose gradient
//!   has been 0 divides 0 by 0. PyTorch (and this library) add `ε = 1e-8`
//!   outside the square root.
//! - "Aula 21 - Treinando redes neurais" writes momentum as
//!   `m ← m - η·∇E`, `θ ← θ + m`, without a decay factor: that is momentum
//!   `μ = 1`, an undamped oscillator that never settles (run below as
//!   "Aula 21, μ = 1"). The rule needs `m ← μ·m - η·∇E` with `μ < 1`.
//! - The notes' RMSProp (as PyTorch's `RMSprop`) has no bias correction: its
//!   first step moves each coordinate by `γ/√(1 - α)`, ten times `γ` for
//!   `α = 0.99` (column "1st move"); Adam's correction makes its first step
//!   exactly `γ`.
//!
//! Run it with `cargo run --release --example 06-optimizers`
//! (flags: `--epochs N` for the digits, `--seed N`, `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError, Series};
use plotters::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::Tensor;
use wengert::nn::optim::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig};
use wengert::nn::{Linear, Module, Reduction, Relu, Sequential, loss};

/// `f(x, y) = x²/A + B·y²`: curvature `2/A = 0.1` along x.
pub const A: f64 = 20.0;
/// Curvature `2·B = 10` along y.
pub const B: f64 = 5.0;
/// Where every optimizer starts on the ravine.
pub const START: [f64; 2] = [-10.0, 1.0];
/// Learning rates of the sweep.
pub const SWEEP_LRS: [f64; 6] = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0];

/// An optimizer and its hyper-parameters, in PyTorch's conventions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Opt {
    /// `θ ← θ - γ·g`.
    Sgd {
        /// `γ`.
        lr: f64,
    },
    /// `b ← μ·b + g`, `θ ← θ - γ·b`.
    Momentum {
        /// `γ`.
        lr: f64,
        /// `μ`.
        mu: f64,
    },
    /// PyTorch's RMSprop with `α = 0.99`.
    RmsProp {
        /// `γ`.
        lr: f64,
    },
    /// Adam with `β₁ = 0.9`, `β₂ = 0.999`.
    Adam {
        /// `γ`.
        lr: f64,
    },
}

impl Opt {
    /// The optimizer's name without its learning rate.
    pub fn name(&self) -> String {
        match self {
            Opt::Sgd { .. } => "SGD".into(),
            Opt::Momentum { mu, .. } => format!("momentum {mu}"),
            Opt::RmsProp { .. } => "RMSProp".into(),
            Opt::Adam { .. } => "Adam".into(),
        }
    }

    /// The learning rate `γ`.
    pub fn lr(&self) -> f64 {
        match *self {
            Opt::Sgd { lr } | Opt::Momentum { lr, .. } | Opt::RmsProp { lr } | Opt::Adam { lr } => {
                lr
            }
        }
    }

    /// A legend entry such as `momentum 0.9, γ = 0.1`.
    pub fn label(&self) -> String {
        format!("{}, γ = {}", self.name(), self.lr())
    }

    /// The same kind of optimizer with another learning rate.
    pub fn with_lr(&self, lr: f64) -> Opt {
        match *self {
            Opt::Sgd { .. } => Opt::Sgd { lr },
            Opt::Momentum { mu, .. } => Opt::Momentum { lr, mu },
            Opt::RmsProp { .. } => Opt::RmsProp { lr },
            Opt::Adam { .. } => Opt::Adam { lr },
        }
    }

    /// Builds the library's optimizer.
    pub fn build<T: wengert::Float>(&self) -> Result<Box<dyn Optimizer<T>>, BoxError> {
        Ok(match *self {
            Opt::Sgd { lr } => Box::new(Sgd::new(SgdConfig {
                lr,
                ..Default::default()
            })?),
            Opt::Momentum { lr, mu } => Box::new(Sgd::new(SgdConfig {
                lr,
                momentum: mu,
                ..Default::default()
            })?),
            Opt::RmsProp { lr } => Box::new(RmsProp::new(RmsPropConfig {
                lr,
                ..Default::default()
            })?),
            Opt::Adam { lr } => Box::new(Adam::new(AdamConfig {
                lr,
                ..Default::default()
            })?),
        })
    }
}

/// A model that is one point `p` of the plane (or one number): what the
/// optimizers move on the ravine and in the EMA example.
pub struct Point {
    /// The trainable parameter.
    pub p: Tensor<f64>,
}

impl Point {
    /// A trainable point at `at`.
    pub fn new(at: &[f64]) -> Result<Point, BoxError> {
        Ok(Point {
            p: Tensor::from_vec(at.to_vec(), [at.len()])?.requires_grad(),
        })
    }
}

impl Module<f64> for Point {
    fn try_forward(&self, x: &Tensor<f64>) -> wengert::nn::Result<Tensor<f64>> {
        Ok(x.clone())
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<f64>)) {
        f("p", &self.p);
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<f64>)) {
        f("p", &mut self.p);
    }
}

/// The ravine `x²/A + B·y²` of a point `[x, y]`, recorded.
pub fn ravine(p: &Tensor<f64>) -> Tensor<f64> {
    let c = Tensor::from_vec(vec![1.0 / A, B], [2]).expect("two coefficients");
    (&p.square() * &c).sum()
}

/// One optimizer's descent of the ravine.
pub struct Path {
    /// The optimizer.
    pub opt: Opt,
    /// The points visited, the start first.
    pub points: Vec<[f64; 2]>,
    /// `f` at each point.
    pub losses: Vec<f64>,
}

impl Path {
    /// The largest coordinate change of the first step.
    pub fn first_move(&self) -> f64 {
        let (a, b) = (self.points[0], self.points[1]);
        (a[0] - b[0]).abs().max((a[1] - b[1]).abs())
    }

    /// The loss after the last step.
    pub fn last_loss(&self) -> f64 {
        *self.losses.last().expect("a path has its start")
    }
}

/// Runs `steps` steps of `opt` on the ravine from [`START`]; stops early if
/// the point leaves every bound (a diverged run).
pub fn descend(opt: Opt, steps: usize) -> Result<Path, BoxError> {
    let mut point = Point::new(&START)?;
    let mut optimizer = opt.build::<f64>()?;
    let at = |p: &Point| {
        let v = p.p.to_vec();
        [v[0], v[1]]
    };
    let mut path = Path {
        opt,
        points: vec![START],
        losses: vec![ravine(&point.p).item()],
    };
    for _ in 0..steps {
        let grads = ravine(&point.p).backward()?;
        optimizer.step(&mut point, &grads)?;
        let f = ravine(&point.p).item();
        path.points.push(at(&point));
        path.losses.push(f);
        // Diverged (or NaN): nothing more to see.
        if !f.is_finite() || f > 1e12 {
            break;
        }
    }
    Ok(path)
}

/// The notes' momentum by hand: `v ← β·v + (1 - β)·g`, `θ ← θ - α·v`, with the
/// gradient from the tape. Returns the points visited, the start first.
pub fn notes_momentum(alpha: f64, beta: f64, steps: usize) -> Result<Vec<[f64; 2]>, BoxError> {
    let (mut theta, mut v) = (START, [0.0; 2]);
    let mut out = vec![theta];
    for _ in 0..steps {
        let leaf = Tensor::from_vec(theta.to_vec(), [2])?.requires_grad();
        let grads = ravine(&leaf).backward()?;
        let g = grads.get(&leaf).expect("f depends on θ").to_vec();
        for i in 0..2 {
            v[i] = beta * v[i] + (1.0 - beta) * g[i];
            theta[i] -= alpha * v[i];
        }
        out.push(theta);
    }
    Ok(out)
}

/// One optimizer's training run on the digits.
pub struct Curve {
    /// The optimizer.
    pub opt: Opt,
    /// Mean cross-entropy on the whole training split, before training and
    /// after each epoch.
    pub losses: Vec<f64>,
    /// Accuracy on the held-out split after the last epoch.
    pub test_accuracy: f64,
}

impl Curve {
    /// The sum of the losses after each epoch.
    pub fn area(&self) -> f64 {
        self.losses[1..].iter().sum()
    }
}

/// The 64-64-10 ReLU network, drawn from `seed`.
pub fn mlp(seed: u64) -> Result<Sequential<f32>, BoxError> {
    let mut rng = StdRng::seed_from_u64(seed);
    Ok(Sequential::new()
        .add(Linear::new(64, 64, true, &mut rng)?)
        .add(Relu)
        .add(Linear::new(64, 10, true, &mut rng)?))
}

/// The mean cross-entropy of `net` on `data` and its accuracy, unrecorded.
pub fn evaluate(
    net: &Sequential<f32>,
    data: &wengert::data::Dataset,
) -> Result<(f64, f64), BoxError> {
    let labels = data.labels().expect("digits are labelled");
    wengert::no_grad(|| {
        let z = net.try_forward(data.inputs())?;
        let l = loss::cross_entropy(&z, labels, Reduction::Mean)?;
        let hits = z
            .argmax(Some(1))
            .iter()
            .zip(labels)
            .filter(|(p, y)| p == y)
            .count();
        Ok((f64::from(l.item()), hits as f64 / labels.len() as f64))
    })
}

/// Trains the MLP with `opt` for `epochs` epochs of mini-batches of 32, the
/// initial weights and the batch order fixed by `seed`.
pub fn train_digits(
    opt: Opt,
    splits: &wengert::data::Splits,
    epochs: usize,
    seed: u64,
    args: &Args,
) -> Result<Curve, BoxError> {
    let mut net = mlp(seed)?;
    let mut optimizer = opt.build::<f32>()?;
    let mut order = StdRng::seed_from_u64(seed.wrapping_add(1));
    let mut losses = vec![evaluate(&net, &splits.train)?.0];
    let bar = common::progress(epochs as u64, args, &opt.name());
    for _ in 0..epochs {
        for batch in splits.train.batches(32)?.shuffle(&mut order) {
            let z = net.try_forward(&batch.inputs)?;
            let l = loss::cross_entropy(&z, batch.labels().expect("labelled"), Reduction::Mean)?;
            let grads = l.backward()?;
            optimizer.step(&mut net, &grads)?;
        }
        losses.push(evaluate(&net, &splits.train)?.0);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(Curve {
        opt,
        losses,
        test_accuracy: evaluate(&net, &splits.test)?.1,
    })
}

/// One row of the EMA table.
#[derive(Clone, Copy, Debug)]
pub struct EmaRow {
    /// The value `θ_t` that enters the average.
    pub theta: f64,
    /// The raw average `v_t = β·v_{t-1} + (1 - β)·θ_t`, `v_0 = 0`.
    pub v: f64,
    /// The bias-corrected `v_t / (1 - β^t)`.
    pub v_hat: f64,
    /// Adam's first moment after feeding it the gradients `θ_1..θ_t`.
    pub adam_m: f64,
    /// Adam's bias-corrected first moment.
    pub adam_m_hat: f64,
}

/// The EMA of `thetas` with decay `beta`, by hand and by `Adam`'s first
/// moment (with `β₁ = beta`, the loss `θ_t·w` giving the gradient `θ_t`).
pub fn ema_table(beta: f64, thetas: &[f64]) -> Result<Vec<EmaRow>, BoxError> {
    let mut w = Point::new(&[0.0])?;
    let mut adam = Adam::<f64>::new(AdamConfig {
        beta1: beta,
        ..Default::default()
    })?;
    let mut v = 0.0;
    let mut rows = Vec::new();
    for (t, &theta) in (1..).zip(thetas) {
        v = beta * v + (1.0 - beta) * theta;
        let grads = w.p.mul_scalar(theta).sum().backward()?;
        adam.step(&mut w, &grads)?;
        let s = adam.inspect("p").expect("stepped");
        rows.push(EmaRow {
            theta,
            v,
            v_hat: v / (1.0 - beta.powi(t)),
            adam_m: s.exp_avg.item(),
            adam_m_hat: s.exp_avg_hat.item(),
        });
    }
    Ok(rows)
}

/// What the example found.
pub struct Report {
    /// The plotted descents of the ravine, in [`ravine_runs`] order.
    pub ravine: Vec<Path>,
    /// Per optimizer kind, per learning rate of [`SWEEP_LRS`], the loss after
    /// the same number of steps (infinite when the run diverged).
    pub sweep: Vec<(Opt, Vec<f64>)>,
    /// The largest coordinate difference between the notes' momentum
    /// (`α = GAMMA/(1 - β)`, `β = 0.9`) by hand and `Sgd` with `γ = GAMMA`,
    /// `μ = 0.9`.
    pub notes_momentum_max_diff: f64,
    /// One training run on the digits per optimizer and learning rate, in
    /// [`digit_runs`] order.
    pub digits: Vec<Curve>,
    /// The notes' first EMA example: β = 0.9, θ = 16, 24, 28.
    pub ema_09: Vec<EmaRow>,
    /// The notes' bias-correction example: β = 0.98, θ = 16, 24.
    pub ema_098: Vec<EmaRow>,
}

impl Report {
    /// The ravine run of `opt`.
    pub fn path(&self, opt: Opt) -> &Path {
        self.ravine
            .iter()
            .find(|p| p.opt == opt)
            .expect("a plotted run")
    }

    /// The digits run of the kind of `opt` with the smallest area under its
    /// loss curve (the sum of its losses over the epochs): fast and low.
    pub fn best_digits(&self, opt: Opt) -> &Curve {
        self.digits
            .iter()
            .filter(|c| same_kind(c.opt, opt))
            .min_by(|a, b| a.area().total_cmp(&b.area()))
            .expect("in the sweep")
    }

    /// The digits run of `opt`.
    pub fn digits_run(&self, opt: Opt) -> &Curve {
        self.digits
            .iter()
            .find(|c| c.opt == opt)
            .expect("in the sweep")
    }

    /// The best loss of the sweep for the optimizer kind of `opt`.
    pub fn best(&self, opt: Opt) -> f64 {
        let (_, losses) = self
            .sweep
            .iter()
            .find(|(o, _)| same_kind(*o, opt))
            .expect("in the sweep");
        losses.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// The four optimizers compared (the learning rate is set per run).
pub const KINDS: [Opt; 4] = [
    Opt::Sgd { lr: 0.0 },
    Opt::Momentum { lr: 0.0, mu: 0.9 },
    Opt::RmsProp { lr: 0.0 },
    Opt::Adam { lr: 0.0 },
];

/// Whether `a` and `b` are the same optimizer, whatever their learning rates.
pub fn same_kind(a: Opt, b: Opt) -> bool {
    a.with_lr(0.0) == b.with_lr(0.0)
}

/// The learning rate shared by SGD, momentum and RMSProp on the ravine.
pub const GAMMA: f64 = 0.15;

/// Steps on the ravine.
pub const RAVINE_STEPS: usize = 100;

/// The ravine runs that are plotted.
pub fn ravine_runs() -> Vec<Opt> {
    vec![
        Opt::Sgd { lr: GAMMA },
        Opt::Sgd { lr: 0.19 },
        Opt::Sgd { lr: 0.21 },
        Opt::Momentum { lr: GAMMA, mu: 0.9 },
        Opt::Momentum { lr: GAMMA, mu: 1.0 },
        Opt::RmsProp { lr: GAMMA },
        Opt::Adam { lr: 0.3 },
    ]
}

/// The digits runs: each optimizer at five learning rates. Momentum's grid is
/// SGD's divided by 10, so that `γ/(1 - μ)` matches SGD's `γ` row by row.
pub fn digit_runs() -> Vec<Opt> {
    let mut out = Vec::new();
    for lr in [0.03, 0.1, 0.3, 1.0, 3.0] {
        out.push(Opt::Sgd { lr });
    }
    for lr in [0.003, 0.01, 0.03, 0.1, 0.3] {
        out.push(Opt::Momentum { lr, mu: 0.9 });
    }
    for lr in [0.001, 0.003, 0.01, 0.03, 0.1] {
        out.push(Opt::RmsProp { lr });
    }
    for lr in [0.001, 0.003, 0.01, 0.03, 0.1] {
        out.push(Opt::Adam { lr });
    }
    out
}

/// Runs the example: the ravine, the sweep, the digits, the EMA table.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let ravine = ravine_runs()
        .into_iter()
        .map(|o| descend(o, RAVINE_STEPS))
        .collect::<Result<Vec<_>, _>>()?;
    let mut sweep = Vec::new();
    for kind in KINDS {
        let mut finals = Vec::new();
        for lr in SWEEP_LRS {
            let p = descend(kind.with_lr(lr), RAVINE_STEPS)?;
            let f = p.last_loss();
            finals.push(if p.losses.len() == RAVINE_STEPS + 1 && f.is_finite() {
                f
            } else {
                f64::INFINITY
            });
        }
        sweep.push((kind, finals));
    }
    let by_hand = notes_momentum(GAMMA / (1.0 - 0.9), 0.9, RAVINE_STEPS)?;
    let by_sgd = descend(Opt::Momentum { lr: GAMMA, mu: 0.9 }, RAVINE_STEPS)?;
    let notes_momentum_max_diff = by_hand
        .iter()
        .zip(&by_sgd.points)
        .flat_map(|(a, b)| [(a[0] - b[0]).abs(), (a[1] - b[1]).abs()])
        .fold(0.0, f64::max);

    let data = wengert::data::digits()?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let splits = data.split(0.8, 0.0, 0.2, &mut rng)?;
    let epochs = args.epochs.unwrap_or(if args.quick { 3 } else { 20 });
    let digits = digit_runs()
        .into_iter()
        .map(|o| train_digits(o, &splits, epochs, args.seed, args))
        .collect::<Result<Vec<_>, _>>()?;

    let report = Report {
        ravine,
        sweep,
        notes_momentum_max_diff,
        digits,
        ema_09: ema_table(0.9, &[16.0, 24.0, 28.0])?,
        ema_098: ema_table(0.98, &[16.0, 24.0])?,
    };
    if print {
        print_report(&report, args, epochs, &splits)?;
    }
    Ok(report)
}

fn print_report(
    r: &Report,
    args: &Args,
    epochs: usize,
    splits: &wengert::data::Splits,
) -> Result<(), BoxError> {
    println!(
        "1. The ravine f(x, y) = x²/{A} + {B}·y² from ({}, {}), {RAVINE_STEPS} steps; plain SGD is stable for γ < 2/{}\n",
        START[0],
        START[1],
        2.0 * B
    );
    println!(
        "{:<28}{:>12}{:>12}{:>12}{:>12}{:>12}",
        "optimizer", "1st move", "f(10 steps)", "f(50)", "f(100)", "final |y|"
    );
    for p in &r.ravine {
        let at = |i: usize| p.losses.get(i).copied().unwrap_or(f64::INFINITY);
        println!(
            "{:<28}{:>12.3}{:>12.3e}{:>12.3e}{:>12.3e}{:>12.3e}",
            p.opt.label(),
            p.first_move(),
            at(10),
            at(50),
            at(RAVINE_STEPS),
            p.points.last().expect("start")[1].abs()
        );
    }
    println!(
        "(1st move: largest coordinate change of step 1; RMSProp's is γ/√(1 - α) = 10·γ, Adam's γ;\n \
         momentum 1: Aula 21's rule m ← m - η∇E with no decay: it never settles)\n\
         the notes' momentum (α = {:.1}, β = 0.9) by hand vs Sgd(γ = {GAMMA}, μ = 0.9): largest difference {:.1e}\n",
        GAMMA / (1.0 - 0.9),
        r.notes_momentum_max_diff
    );
    println!("learning-rate sweep: f after {RAVINE_STEPS} steps (inf = diverged)");
    print!("{:<14}", "γ");
    for lr in SWEEP_LRS {
        print!("{lr:>11}");
    }
    println!();
    for (kind, finals) in &r.sweep {
        print!("{:<14}", kind.name());
        for f in finals {
            print!("{f:>11.2e}");
        }
        println!();
    }
    let p = plot_paths(&args.out, &r.ravine)?;
    println!("\nplot: {}", p.display());
    let p = plot_losses(
        args,
        "06-ravine-loss.svg",
        "the ravine: f against step",
        ("step", "f(x, y)"),
        r.ravine.iter().map(|p| (p.opt, &p.losses[..])),
        common::Legend::LowerLeft,
    )?;
    println!("plot: {}", p.display());

    println!(
        "\n2. Digits, MLP 64-64-10 ReLU, batches of 32, {} training / {} held-out images, {epochs} epochs\n",
        splits.train.len(),
        splits.test.len()
    );
    println!("learning-rate sweep: training loss after epoch 1 / after epoch {epochs}");
    for kind in KINDS {
        print!("{:<14}", kind.name());
        for c in r.digits.iter().filter(|c| same_kind(c.opt, kind)) {
            print!(
                "  γ = {:<7}{:.3} / {:.3}",
                c.opt.lr(),
                c.losses[1],
                c.losses[epochs]
            );
        }
        println!();
    }
    println!("\neach optimizer at its best γ (smallest sum of the losses over the epochs)");
    print!("{:<28}", "optimizer");
    let shown: Vec<usize> = [0, 1, 2, 3, 5, 10, 20, epochs]
        .into_iter()
        .filter(|&e| e <= epochs)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for e in &shown {
        print!("{:>9}", format!("ep {e}"));
    }
    println!("{:>10}", "accuracy");
    let best: Vec<&Curve> = KINDS.iter().map(|&k| r.best_digits(k)).collect();
    for c in &best {
        print!("{:<28}", c.opt.label());
        for &e in &shown {
            print!("{:>9.4}", c.losses[e]);
        }
        println!("{:>9.1}%", 100.0 * c.test_accuracy);
    }
    println!(
        "(training loss: mean cross-entropy on the whole training split; accuracy on the held-out split)"
    );
    let p = plot_losses(
        args,
        "06-digits-loss.svg",
        "digits MLP: training loss per epoch, each optimizer at its best γ",
        ("epoch", "cross-entropy"),
        best.iter().map(|c| (c.opt, &c.losses[..])),
        common::Legend::UpperRight,
    )?;
    println!("plot: {}", p.display());

    println!("\n3. The notes' exponential moving averages, v_t = β·v_(t-1) + (1 - β)·θ_t, v_0 = 0");
    for (beta, rows) in [(0.9, &r.ema_09), (0.98, &r.ema_098)] {
        println!(
            "\nβ = {beta} (horizon 1/(1 - β) = {:.0} values)",
            1.0 / (1.0 - beta)
        );
        println!(
            "{:>3}{:>8}{:>12}{:>16}{:>14}{:>16}",
            "t", "θ_t", "v_t", "v_t/(1 - β^t)", "Adam m_t", "Adam m̂_t"
        );
        for (t, row) in (1..).zip(rows.iter()) {
            println!(
                "{t:>3}{:>8}{:>12.6}{:>16.6}{:>14.6}{:>16.6}",
                row.theta, row.v, row.v_hat, row.adam_m, row.adam_m_hat
            );
        }
    }
    println!(
        "\nThe notes' bias-correction slide prints 0.00196·θ₁ + 0.02·θ₂ = 0.51136 and divides by\n\
         0.00396 (= 129.1): the right factors are 0.98·0.02 = 0.0196 and 1 - 0.98² = 0.0396,\n\
         v₂ = 0.7936 and v̂₂ = 20.04, between θ₁ and θ₂ as a weighted mean must be."
    );
    Ok(())
}

/// Plots one loss curve per optimizer against its index (step or epoch), on
/// a log scale.
fn plot_losses<'a>(
    args: &Args,
    file: &str,
    title: &str,
    axes: (&str, &str),
    curves: impl Iterator<Item = (Opt, &'a [f64])>,
    legend: common::Legend,
) -> Result<std::path::PathBuf, BoxError> {
    let series: Vec<Series> = curves
        .map(|(opt, losses)| Series {
            label: opt.label(),
            points: (0..).map(f64::from).zip(losses.iter().copied()).collect(),
        })
        .collect();
    common::plot_lines(&args.out, file, title, axes, &series, true, legend)
}

/// Draws the ravine's level sets and every path on one SVG.
fn plot_paths(dir: &std::path::Path, paths: &[Path]) -> Result<std::path::PathBuf, BoxError> {
    std::fs::create_dir_all(dir)?;
    let file = dir.join("06-ravine-paths.svg");
    let (x0, x1, y0, y1) = (-11.0, 4.0, -2.2, 2.2);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "paths on f(x, y) = x²/{A} + {B}·y² from ({}, {})",
                    START[0], START[1]
                ),
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart.configure_mesh().x_desc("x").y_desc("y").draw()?;
        for level in [0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0] {
            let ellipse = (0..=200).map(|k| {
                let t = f64::from(k) / 200.0 * std::f64::consts::TAU;
                ((level * A).sqrt() * t.cos(), (level / B).sqrt() * t.sin())
            });
            chart.draw_series(LineSeries::new(ellipse, RGBColor(200, 200, 200)))?;
        }
        for (i, p) in paths.iter().enumerate() {
            let c = Palette99::pick(i).to_rgba();
            // A diverging path is drawn until it leaves the frame.
            let inside = |q: &[f64; 2]| (x0..x1).contains(&q[0]) && (y0..y1).contains(&q[1]);
            let n = p.points.iter().take_while(|q| inside(q)).count();
            let pts = p.points[..n].iter().map(|q| (q[0], q[1]));
            chart
                .draw_series(LineSeries::new(pts, c.stroke_width(2)))?
                .label(p.opt.label())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
        }
        chart
            .configure_series_labels()
            .position(common::Legend::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    std::fs::write(&file, svg)?;
    Ok(file)
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("6. optimizers: SGD, momentum, RMSProp, Adam");
    run(&args, true)?;
    Ok(())
}
