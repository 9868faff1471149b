//! Training-loop tests across the parts of wengert-nn: optimizers on a real
//! network, an interrupted run resumed from exported state, and the helpers
//! (schedule, clipping, penalty, early stopping, history) working together.

use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_core::{Float, Tensor};
use wengert_nn::early_stopping::{Decision, EarlyStopping};
use wengert_nn::history::History;
use wengert_nn::optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
    WeightDecay,
};
use wengert_nn::penalty::{Penalty, penalty, weights_only};
use wengert_nn::schedule::{LinearWarmup, LrSchedule, Mode, StepLr};
use wengert_nn::{Linear, Module, Reduction, Sequential, Tanh, clip, loss};

fn net<T: Float>(seed: u64) -> Sequential<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new()
        .add(Linear::new(2, 6, true, &mut rng).unwrap())
        .add(Tanh)
        .add(Linear::new(6, 1, true, &mut rng).unwrap())
}

/// y = x0·x1 on a small grid.
fn data<T: Float>() -> (Tensor<T>, Tensor<T>) {
    let mut xs = vec![];
    let mut ys = vec![];
    for i in 0..5 {
        for j in 0..5 {
            let (a, b) = (i as f64 / 2.0 - 1.0, j as f64 / 2.0 - 1.0);
            xs.extend([T::from_f64(a), T::from_f64(b)]);
            ys.push(T::from_f64(a * b));
        }
    }
    (
        Tensor::from_vec(xs, [25, 2]).unwrap(),
        Tensor::from_vec(ys, [25, 1]).unwrap(),
    )
}

/// One epoch: warm-up schedule, loss plus L2 penalty, clipping, step.
fn epoch<T: Float>(
    model: &mut Sequential<T>,
    opt: &mut dyn Optimizer<T>,
    schedule: &impl LrSchedule,
    e: usize,
) -> f64 {
    let (x, y) = data::<T>();
    schedule.apply(opt, e).unwrap();
    let data_loss = loss::mse_loss(&model.forward(&x), &y, Reduction::Mean).unwrap();
    let l = &data_loss + &penalty(model, Penalty::L2(1e-3), weights_only).unwrap();
    let mut grads = l.backward().unwrap();
    clip::clip_grad_norm(model, &mut grads, 1.0).unwrap();
    let report = opt.step(model, &grads).unwrap();
    assert_eq!(report.updated.len(), 4);
    data_loss.item().to_f64()
}

fn optimizers<T: Float>() -> Vec<Box<dyn Optimizer<T>>> {
    vec![
        Box::new(
            Sgd::new(SgdConfig {
                lr: 0.2,
                momentum: 0.9,
                nesterov: true,
                weight_decay: WeightDecay::L2(1e-4),
                ..Default::default()
            })
            .unwrap(),
        ),
        Box::new(
            RmsProp::new(RmsPropConfig {
                lr: 0.01,
                momentum: 0.5,
                centered: true,
                ..Default::default()
            })
            .unwrap(),
        ),
        Box::new(Adam::new(AdamConfig::adamw(0.05, 1e-2)).unwrap()),
        Box::new(
            Adagrad::new(AdagradConfig {
                lr: 0.2,
                lr_decay: 1e-3,
                ..Default::default()
            })
            .unwrap(),
        ),
    ]
}

fn schedule() -> LinearWarmup<StepLr> {
    // The base rate is taken from each optimizer's construction rate.
    LinearWarmup::new(3, 0.1, StepLr::new(1.0, 40, 0.5).unwrap()).unwrap()
}

/// Scales a unit schedule by the optimizer's own base rate.
struct Scaled<S>(f64, S);
impl<S: LrSchedule> LrSchedule for Scaled<S> {
    fn lr_at(&self, epoch: usize) -> f64 {
        self.0 * self.1.lr_at(epoch)
    }
}

fn resumed_run_matches_uninterrupted_run<T: Float>() {
    for (k, mut opt) in optimizers::<T>().into_iter().enumerate() {
        let s = Scaled(opt.lr(), schedule());
        let mut straight = net::<T>(7);
        for e in 0..20 {
            epoch(&mut straight, &mut *opt, &s, e);
        }

        // The same run, interrupted after 8 epochs: parameters and optimizer
        // state copied out by name, everything rebuilt, state loaded.
        let mut first = net::<T>(7);
        let mut opt = optimizers::<T>().remove(k);
        for e in 0..8 {
            epoch(&mut first, &mut *opt, &s, e);
        }
        let params: Vec<Tensor<T>> = first
            .named_parameters()
            .into_iter()
            .map(|(_, p)| Tensor::from_vec(p.to_vec(), p.shape().clone()).unwrap())
            .collect();
        let state = opt.state();
        drop((first, opt));
        let mut resumed = net::<T>(99);
        resumed
            .set_parameters(
                &params
                    .into_iter()
                    .map(|p| p.requires_grad())
                    .collect::<Vec<_>>(),
            )
            .unwrap();
        let mut opt = optimizers::<T>().remove(k);
        opt.load_state(&resumed, &state).unwrap();
        for e in 8..20 {
            epoch(&mut resumed, &mut *opt, &s, e);
        }

        let bits = |m: &Sequential<T>| {
            m.named_parameters()
                .into_iter()
                .flat_map(|(_, p)| p.to_vec().into_iter().map(|v| v.to_bits_u64()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bits(&straight),
            bits(&resumed),
            "{} {}",
            opt.name(),
            T::NAME
        );
    }
}

#[test]
fn an_interrupted_run_resumed_from_exported_state_ends_bit_for_bit_equal() {
    resumed_run_matches_uninterrupted_run::<f32>();
    resumed_run_matches_uninterrupted_run::<f64>();
}

#[test]
fn every_optimizer_fits_a_small_network() {
    for mut opt in optimizers::<f64>() {
        let s = Scaled(opt.lr(), schedule());
        let mut model = net::<f64>(3);
        let first = epoch(&mut model, &mut *opt, &s, 0);
        let mut last = first;
        for e in 1..150 {
            last = epoch(&mut model, &mut *opt, &s, e);
        }
        assert!(last < first / 20.0, "{}: {first} -> {last}", opt.name());
    }
}

#[test]
fn early_stopping_and_history_drive_a_training_loop() {
    let mut model = net::<f64>(5);
    let mut opt = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    })
    .unwrap();
    let s = Scaled(0.05, schedule());
    let mut stop = EarlyStopping::new(Mode::Min, 5, 1e-4).unwrap();
    let mut history = History::new(&["grad_norm"]).unwrap();
    let (x, y) = data::<f64>();
    let mut stopped_at = None;
    for e in 0..500 {
        let train = epoch(&mut model, &mut opt, &s, e);
        // The "validation" loss is the training loss of a shifted target,
        // which stops improving once the model fits the real one.
        let val = loss::mse_loss(&model.forward(&x), &y.add_scalar(0.3), Reduction::Mean)
            .unwrap()
            .item();
        let grads = loss::mse_loss(&model.forward(&x), &y, Reduction::Mean)
            .unwrap()
            .backward()
            .unwrap();
        history
            .push(train, Some(val), &[clip::grad_norm(&model, &grads)])
            .unwrap();
        if stop.update(val, &model) == Decision::Stop {
            stopped_at = Some(e);
            break;
        }
    }
    let stopped_at = stopped_at.expect("validation loss kept improving for 500 epochs");
    let best = stop.best_epoch().unwrap();
    assert_eq!(stopped_at, best + 5);
    assert!(stop.restore_best(&mut model).unwrap());
    let val = loss::mse_loss(&model.forward(&x), &y.add_scalar(0.3), Reduction::Mean)
        .unwrap()
        .item();
    assert_eq!(val, stop.best().unwrap());
    assert_eq!(history.records().len(), stopped_at + 1);
    assert_eq!(history.records()[best].val_loss, stop.best());
    let back = History::from_csv(&history.to_csv()).unwrap();
    assert_eq!(back, history);
}
