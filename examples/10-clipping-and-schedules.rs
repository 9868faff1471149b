//! # 10. Gradient clipping and learning-rate schedules
//!
//! What it teaches: two ways to control the size of a step.
//!
//! **Clipping.** A deep ReLU network with N(0, 1) weights (example 4's
//! exploding configuration: 6 hidden layers of 64 units) starts with enormous
//! logits and gradients. Trained on the embedded UCI digits with plain SGD, the
//! first steps throw the weights so far that the loss becomes non-finite.
//! The same training with the gradient clipped (`clip::clip_grad_value`, every
//! element to `[−c, c]`; `clip::clip_grad_norm`, the whole gradient rescaled to
//! a global L2 norm of at most `c`) stays finite and the loss falls. Clipping by
//! norm multiplies every gradient by the same factor, so the joint gradient
//! keeps its direction (cosine similarity 1 with the raw one); clipping by
//! value clamps the large elements and not the small ones, which turns the
//! gradient (the example prints the cosine similarity at the first step).
//!
//! **Schedules.** A small network (64 → 64 → 10, ReLU) trained with SGD with
//! momentum 0.9 at a large constant learning rate (0.3: an effective step of
//! about `0.3 / (1 − 0.9) = 3`), then with each of the six schedules of
//! `schedule` starting from the same rate: `StepLr`, `MultiStepLr`,
//! `ExponentialLr`, `CosineAnnealingLr`, `LinearWarmup` (into a cosine), and
//! `ReduceLrOnPlateau` on the training loss. It plots the learning rate and the
//! loss against the epoch, and prints the final training and validation
//! losses. What we measured (the chapter has the numbers): the constant rate's
//! mean loss goes up again in more epochs than the cosine's (8 of 40 against
//! 3); the cosine schedules end with a
//! validation loss about half the constant rate's, in both the quick and the
//! full run. The training loss depends on the budget: after 10 epochs every
//! decaying schedule is below the constant rate, after 40 the constant rate has
//! driven the training loss lowest, but its validation loss is the highest.
//!
//! Lectures: "Aula 21 - Treinando redes neurais" (exploding gradients: "passo
//! exagerado ⇒ rede diverge"; gradient clipping; "mexer na taxa de
//! aprendizado"), "Aula 6 - Introdução a deep learning" ("cortar os
//! gradientes (ex abs(gradients) ≤ 1)"), "Módulo 8 - Redes neuronales
//! profundas" ("recortar los gradientes"), "INF721 A10: Otimização" (a rate
//! small enough not to diverge).
//!
//! Where the notes differ: Aula 6's example, `abs(gradients) ≤ 1`, is clipping
//! by value, which changes the direction of the step (below, the cosine
//! similarity with the raw gradient is far from 1); clipping by the global norm
//! (Pascanu et al., 2013; `torch.nn.utils.clip_grad_norm_`) only shortens it,
//! and is the usual choice. Aula 21 draws the exploding step as
//! `θ − η ∇L / ε`; clipping bounds the step `η ‖g‖` by `η c`, it does not
//! cure the cause (here the initialisation: He initialisation, example 4, is
//! the fix).
//!
//! Run it with `cargo run --release --example 10-clipping-and-schedules`
//! (flags: `--epochs N` for the schedules, `--seed N`, `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError, Series};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::Gradients;
use wengert::data::Dataset;
use wengert::nn::init::Init;
use wengert::nn::optim::{Optimizer, Sgd, SgdConfig};
use wengert::nn::schedule::{
    CosineAnnealingLr, ExponentialLr, LinearWarmup, LrSchedule, Mode, MultiStepLr,
    ReduceLrOnPlateau, StepLr,
};
use wengert::nn::{Linear, Module, Reduction, Relu, Sequential, clip, loss};

/// The learning rate of the clipping experiment.
pub const CLIP_LR: f64 = 0.01;
/// The clipping threshold `c`, for both kinds.
pub const CLIP: f64 = 1.0;
/// The large learning rate every schedule starts from.
pub const BASE_LR: f64 = 0.3;
/// The momentum of the schedule runs (the effective step is about
/// `lr / (1 − momentum)`, 3 at the start).
pub const MOMENTUM: f64 = 0.9;

/// How the gradient is clipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clip {
    /// Not at all.
    None,
    /// Every element to `[−CLIP, CLIP]`.
    Value,
    /// The global norm to at most `CLIP`.
    Norm,
}

/// One clipping run.
pub struct ClipRun {
    /// The kind of clipping.
    pub clip: Clip,
    /// The training loss of each step, until the first non-finite one
    /// (included).
    pub losses: Vec<f64>,
    /// The global gradient norm at the first step, before clipping.
    pub first_norm: f64,
    /// Cosine similarity of the clipped and the raw gradient at the first step.
    pub cosine: f64,
}

impl ClipRun {
    /// True when every recorded loss is finite.
    pub fn finite(&self) -> bool {
        self.losses.iter().all(|l| l.is_finite())
    }
}

/// One schedule run.
pub struct ScheduleRun {
    /// The schedule's name.
    pub name: &'static str,
    /// The learning rate of each epoch.
    pub lrs: Vec<f64>,
    /// The mean training loss of each epoch (over its batches).
    pub losses: Vec<f64>,
    /// The final model's loss on the whole training set.
    pub final_train: f64,
    /// The final model's loss on the validation set.
    pub final_val: f64,
}

impl ScheduleRun {
    /// How many epochs ended with a higher mean loss than the one before.
    pub fn rises(&self) -> usize {
        self.losses.windows(2).filter(|w| w[1] > w[0]).count()
    }
}

/// What the example found.
pub struct Report {
    /// No clipping, by value, by norm.
    pub clipping: Vec<ClipRun>,
    /// The constant rate first, then the six schedules.
    pub schedules: Vec<ScheduleRun>,
}

/// The deep ReLU network with N(0, 1) weights and zero biases.
pub fn exploding_network(rng: &mut StdRng) -> Result<Sequential, BoxError> {
    let mut net = Sequential::new();
    let sizes = [64, 64, 64, 64, 64, 64, 64, 10];
    for (l, pair) in sizes.windows(2).enumerate() {
        let w = Init::Normal {
            mean: 0.0,
            std: 1.0,
        }
        .sample::<f32, _>([pair[1], pair[0]], rng)?
        .requires_grad();
        let b = wengert::Tensor::zeros([pair[1]]).requires_grad();
        net.push(Linear::from_tensors(w, Some(b))?);
        if l + 2 < sizes.len() {
            net.push(Relu);
        }
    }
    Ok(net)
}

/// The gradients of `net`'s parameters, concatenated.
fn flat(net: &Sequential, g: &Gradients<f32>) -> Vec<f64> {
    let mut out = Vec::new();
    net.visit_parameters(&mut |_, p| {
        if let Some(g) = g.get(p) {
            out.extend(g.as_slice().iter().map(|&v| f64::from(v)));
        }
    });
    out
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (n(a) * n(b))
}

/// Trains the exploding network for `epochs` epochs with `clip`; stops at the
/// first non-finite loss.
pub fn train_clipped(
    clip_kind: Clip,
    data: &Dataset,
    epochs: usize,
    seed: u64,
) -> Result<ClipRun, BoxError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut net = exploding_network(&mut rng)?;
    let mut opt = Sgd::new(SgdConfig {
        lr: CLIP_LR,
        ..Default::default()
    })?;
    let (mut losses, mut first_norm, mut cos) = (Vec::new(), f64::NAN, f64::NAN);
    'epochs: for _ in 0..epochs {
        for batch in data.batches(32)?.shuffle(&mut rng) {
            let z = net.try_forward(&batch.inputs)?;
            let l = loss::cross_entropy(&z, batch.labels().expect("labelled"), Reduction::Mean)?;
            let l_value = f64::from(l.item());
            losses.push(l_value);
            if !l_value.is_finite() {
                break 'epochs;
            }
            let mut g = l.backward()?;
            let raw = (losses.len() == 1).then(|| flat(&net, &g));
            match clip_kind {
                Clip::None => {}
                Clip::Value => {
                    clip::clip_grad_value(&net, &mut g, CLIP)?;
                }
                Clip::Norm => {
                    clip::clip_grad_norm(&net, &mut g, CLIP)?;
                }
            }
            if let Some(raw) = raw {
                first_norm = raw.iter().map(|v| v * v).sum::<f64>().sqrt();
                cos = cosine(&raw, &flat(&net, &g));
            }
            opt.step(&mut net, &g)?;
        }
    }
    Ok(ClipRun {
        clip: clip_kind,
        losses,
        first_norm,
        cosine: cos,
    })
}

/// The constant rate, as a schedule.
struct Constant(f64);

impl LrSchedule for Constant {
    fn lr_at(&self, _: usize) -> f64 {
        self.0
    }
}

/// The small network of the schedule runs.
fn small_network(rng: &mut StdRng) -> Result<Sequential, BoxError> {
    Ok(Sequential::new()
        .add(Linear::new(64, 64, true, rng)?)
        .add(Relu)
        .add(Linear::new(64, 10, true, rng)?))
}

fn mean_loss(net: &Sequential, data: &Dataset) -> Result<f64, BoxError> {
    let z = net.try_forward(data.inputs())?;
    let l = loss::cross_entropy(&z, data.labels().expect("labelled"), Reduction::Mean)?;
    Ok(f64::from(l.item()))
}

/// How a run sets its rate: a function of the epoch, or on a plateau.
enum Rate {
    Epoch(Box<dyn LrSchedule>),
    Plateau(ReduceLrOnPlateau),
}

fn by_epoch<S: LrSchedule + 'static>(s: S) -> Rate {
    Rate::Epoch(Box::new(s))
}

/// Trains the small network with each schedule for `epochs` epochs.
pub fn train_schedules(
    train: &Dataset,
    val: &Dataset,
    epochs: usize,
    seed: u64,
    base_lr: f64,
    bar: &indicatif::ProgressBar,
) -> Result<Vec<ScheduleRun>, BoxError> {
    let third = (epochs / 3).max(1);
    let runs: Vec<(&'static str, Rate)> = vec![
        ("constant", by_epoch(Constant(base_lr))),
        ("step", by_epoch(StepLr::new(base_lr, third, 0.1)?)),
        (
            "multi-step",
            by_epoch(MultiStepLr::new(
                base_lr,
                &[epochs / 2, 3 * epochs / 4],
                0.1,
            )?),
        ),
        (
            "exponential",
            // Down to 1% of the base rate at the last epoch.
            by_epoch(ExponentialLr::new(
                base_lr,
                0.01f64.powf(1.0 / epochs as f64),
            )?),
        ),
        (
            "cosine",
            by_epoch(CosineAnnealingLr::new(base_lr, epochs, 0.0)?),
        ),
        (
            "warmup + cosine",
            by_epoch(LinearWarmup::new(
                (epochs / 10).max(1),
                0.1,
                CosineAnnealingLr::new(base_lr, epochs, 0.0)?,
            )?),
        ),
        (
            "on plateau",
            Rate::Plateau(ReduceLrOnPlateau::new(Mode::Min, 0.3, 1)?),
        ),
    ];
    let mut out = Vec::new();
    for (name, mut rate) in runs {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut net = small_network(&mut rng)?;
        let mut opt = Sgd::new(SgdConfig {
            lr: base_lr,
            momentum: MOMENTUM,
            ..Default::default()
        })?;
        let (mut lrs, mut losses) = (Vec::new(), Vec::new());
        for epoch in 0..epochs {
            if let Rate::Epoch(s) = &rate {
                Optimizer::<f32>::set_lr(&mut opt, s.lr_at(epoch))?;
            }
            lrs.push(Optimizer::<f32>::lr(&opt));
            let (mut sum, mut steps) = (0.0, 0);
            for batch in train.batches(32)?.shuffle(&mut rng) {
                let z = net.try_forward(&batch.inputs)?;
                let l =
                    loss::cross_entropy(&z, batch.labels().expect("labelled"), Reduction::Mean)?;
                opt.step(&mut net, &l.backward()?)?;
                sum += f64::from(l.item());
                steps += 1;
            }
            let epoch_loss = sum / steps as f64;
            losses.push(epoch_loss);
            if let Rate::Plateau(p) = &mut rate {
                p.step(epoch_loss, &mut opt)?;
            }
            bar.inc(1);
        }
        out.push(ScheduleRun {
            name,
            lrs,
            losses,
            final_train: mean_loss(&net, train)?,
            final_val: mean_loss(&net, val)?,
        });
    }
    Ok(out)
}

/// Runs the example: the clipping runs, the schedule runs, the plots.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let split = wengert::data::digits()?.split(0.8, 0.2, 0.0, &mut rng)?;
    let clip_epochs = if args.quick { 1 } else { 3 };
    let clipping = [Clip::None, Clip::Value, Clip::Norm]
        .into_iter()
        .map(|c| train_clipped(c, &split.train, clip_epochs, args.seed))
        .collect::<Result<Vec<_>, _>>()?;
    let epochs = args.epochs.unwrap_or(if args.quick { 10 } else { 40 });
    let bar = common::progress(7 * epochs as u64, args, "schedules");
    let schedules = train_schedules(
        &split.train,
        &split.validation,
        epochs,
        args.seed,
        BASE_LR,
        &bar,
    )?;
    bar.finish_and_clear();
    let report = Report {
        clipping,
        schedules,
    };
    if print {
        print_report(&report, args)?;
    }
    Ok(report)
}

fn print_report(r: &Report, args: &Args) -> Result<(), BoxError> {
    println!(
        "clipping: 6 hidden ReLU layers of 64, N(0, 1) weights, SGD lr {CLIP_LR}, batches of 32, c = {CLIP}\n"
    );
    println!(
        "{:<10}{:>14}{:>14}{:>14}{:>16}{:>12}",
        "clip", "first loss", "last loss", "steps", "first ‖g‖", "cos(g, ĝ)"
    );
    for run in &r.clipping {
        println!(
            "{:<10}{:>14.4e}{:>14.4e}{:>14}{:>16.3e}{:>12.6}",
            format!("{:?}", run.clip).to_lowercase(),
            run.losses[0],
            run.losses.last().expect("at least one step"),
            run.losses.len(),
            run.first_norm,
            run.cosine
        );
    }
    if let Some(bad) = r.clipping.iter().find(|c| !c.finite()) {
        println!(
            "without clipping the loss went {} at step {}",
            bad.losses.last().expect("recorded"),
            bad.losses.len()
        );
    }
    let clip_series: Vec<Series> = r
        .clipping
        .iter()
        .map(|c| {
            // Log axis: the finite losses only.
            let finite = c.losses.iter().take_while(|l| l.is_finite()).count();
            Series::indexed(format!("{:?}", c.clip).to_lowercase(), &c.losses[..finite])
        })
        .collect();
    let p = common::plot_lines(
        &args.out,
        "10-clipping.svg",
        "N(0, 1) deep ReLU network: training loss per step",
        ("step", "cross-entropy"),
        &clip_series,
        true,
        common::Legend::UpperRight,
    )?;
    println!("plot: {}", p.display());

    let base = &r.schedules[0];
    println!(
        "\nschedules: 64 → 64 → 10 ReLU, SGD from lr {BASE_LR}, momentum {MOMENTUM}, {} epochs\n",
        base.lrs.len()
    );
    println!(
        "{:<18}{:>12}{:>14}{:>12}{:>8}",
        "schedule", "last lr", "train loss", "val loss", "rises"
    );
    for s in &r.schedules {
        println!(
            "{:<18}{:>12.2e}{:>14.4}{:>12.4}{:>8}",
            s.name,
            s.lrs.last().expect("epochs > 0"),
            s.final_train,
            s.final_val,
            s.rises()
        );
    }
    println!("(rises: epochs whose mean training loss was higher than the epoch before)");
    let lrs: Vec<Series> = r
        .schedules
        .iter()
        .map(|s| Series::indexed(s.name, &s.lrs))
        .collect();
    let p = common::plot_lines(
        &args.out,
        "10-learning-rates.svg",
        "learning rate per epoch",
        ("epoch", "learning rate"),
        &lrs,
        false,
        common::Legend::UpperRight,
    )?;
    println!("\nplot: {}", p.display());
    let losses: Vec<Series> = r
        .schedules
        .iter()
        .map(|s| Series::indexed(s.name, &s.losses))
        .collect();
    let p = common::plot_lines(
        &args.out,
        "10-schedule-losses.svg",
        "training loss per epoch by schedule",
        ("epoch", "cross-entropy"),
        &losses,
        true,
        common::Legend::UpperRight,
    )?;
    println!("plot: {}", p.display());
    Ok(())
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("10. gradient clipping and learning-rate schedules");
    run(&args, true)?;
    Ok(())
}
