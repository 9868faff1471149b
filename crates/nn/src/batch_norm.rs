//! Batch normalisation: [`BatchNorm1d`] and [`BatchNorm2d`].
//!
//! Both compute `x̂ = (x − mean) / √(var + eps)` per channel with the *biased*
//! variance over every axis but the channel axis, then `y = γ · x̂ + β`,
//! composing core ops (the gradient through the mean and the variance comes from
//! the tape). A constant input has variance 0; `eps > 0` keeps `√(var + eps)`
//! away from 0, so outputs and gradients stay finite.

use std::sync::Mutex;

use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};
use crate::module::Module;
use crate::norm::check_eps;

/// The state both batch-normalisation layers share: the options and the
/// running statistics, and the normalisation itself. The layers differ only in
/// the input layouts they accept.
#[derive(Debug)]
struct BatchStats<T: Float> {
    layer: &'static str,
    num_features: usize,
    eps: f64,
    momentum: f64,
    // Behind a mutex so that `try_forward(&self)` can update them in training.
    running_mean: Mutex<Tensor<T>>,
    running_var: Mutex<Tensor<T>>,
}

impl<T: Float> Clone for BatchStats<T> {
    fn clone(&self) -> Self {
        BatchStats {
            layer: self.layer,
            num_features: self.num_features,
            eps: self.eps,
            momentum: self.momentum,
            running_mean: Mutex::new(self.lock_mean().clone()),
            running_var: Mutex::new(self.lock_var().clone()),
        }
    }
}

impl<T: Float> BatchStats<T> {
    /// Validates the options; returns the state and the trainable γ = 1, β = 0.
    fn new(
        layer: &'static str,
        num_features: usize,
        eps: f64,
        momentum: f64,
    ) -> Result<(Self, Tensor<T>, Tensor<T>)> {
        check_eps(layer, eps)?;
        if !(0.0..=1.0).contains(&momentum) {
            return Err(Error::InvalidConfig {
                layer,
                what: format!("momentum must be in [0, 1], got {momentum}"),
            });
        }
        if num_features == 0 {
            return Err(Error::InvalidConfig {
                layer,
                what: "num_features must be at least 1".to_string(),
            });
        }
        let c = [num_features];
        let stats = BatchStats {
            layer,
            num_features,
            eps,
            momentum,
            running_mean: Mutex::new(Tensor::zeros(c)),
            running_var: Mutex::new(Tensor::ones(c)),
        };
        Ok((
            stats,
            Tensor::ones(c).requires_grad(),
            Tensor::zeros(c).requires_grad(),
        ))
    }

    fn lock_mean(&self) -> std::sync::MutexGuard<'_, Tensor<T>> {
        self.running_mean
            .lock()
            .expect("BUG: running_mean poisoned")
    }

    fn lock_var(&self) -> std::sync::MutexGuard<'_, Tensor<T>> {
        self.running_var.lock().expect("BUG: running_var poisoned")
    }

    /// Updates one running statistic in place: `(1 − m) · running + m · batch`.
    fn update(&self, running: &mut Tensor<T>, batch: &[T], scale: f64) {
        let m = self.momentum;
        let new: Vec<T> = running
            .as_slice()
            .iter()
            .zip(batch)
            .map(|(&r, &b)| T::from_f64((1.0 - m) * r.to_f64() + m * scale * b.to_f64()))
            .collect();
        *running = Tensor::from_vec(new, running.shape().clone())
            .expect("BUG: running statistic keeps its shape");
    }

    /// Normalises `x`, whose channel axis is 1, over every other axis, then
    /// applies `weight` and `bias`; `x` has been checked to have `C` channels.
    fn normalize(
        &self,
        x: &Tensor<T>,
        training: bool,
        weight: &Tensor<T>,
        bias: &Tensor<T>,
    ) -> Result<Tensor<T>> {
        let d = x.dims();
        // Statistics have shape [1, C, 1, ...] to broadcast against x.
        let mut stat_shape = vec![1; d.len()];
        stat_shape[1] = self.num_features;
        let axes: Vec<isize> = (0..d.len() as isize).filter(|&a| a != 1).collect();
        let eps = T::from_f64(self.eps);
        let (mean, var) = if training {
            let count = x.numel() / self.num_features;
            if count <= 1 {
                return Err(Error::SingleValuePerChannel {
                    layer: self.layer,
                    shape: x.shape().clone(),
                });
            }
            let mean = x.try_mean_axes(&axes, true)?;
            let var = x.try_var_axes(&axes, false, true)?;
            let unbias = count as f64 / (count as f64 - 1.0);
            self.update(&mut self.lock_mean(), mean.as_slice(), 1.0);
            self.update(&mut self.lock_var(), var.as_slice(), unbias);
            (mean, var)
        } else {
            let m = self.lock_mean().try_reshape(stat_shape.clone())?;
            let v = self.lock_var().try_reshape(stat_shape.clone())?;
            (m, v)
        };
        let xhat = x.try_sub(&mean)?.try_div(&var.add_scalar(eps).sqrt())?;
        let w = weight.try_reshape(stat_shape.clone())?;
        let b = bias.try_reshape(stat_shape)?;
        Ok(xhat.try_mul(&w)?.try_add(&b)?)
    }

    fn visit(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        f("running_mean", &self.lock_mean());
        f("running_var", &self.lock_var());
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        f(
            "running_mean",
            self.running_mean
                .get_mut()
                .expect("BUG: running_mean poisoned"),
        );
        f(
            "running_var",
            self.running_var
                .get_mut()
                .expect("BUG: running_var poisoned"),
        );
    }
}

/// Implements [`Module`] for a batch-normalisation layer given the function
/// that checks its input layout; everything else is [`BatchStats`]'.
macro_rules! batch_norm_module {
    ($layer:ident, $check:ident) => {
        impl<T: Float> Module<T> for $layer<T> {
            fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
                $check(self.stats.layer, self.stats.num_features, x)?;
                self.stats
                    .normalize(x, self.training, &self.weight, &self.bias)
            }
            fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
                f("weight", &self.weight);
                f("bias", &self.bias);
            }
            fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
                f("weight", &mut self.weight);
                f("bias", &mut self.bias);
            }
            fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
                self.stats.visit(f);
            }
            fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
                self.stats.visit_mut(f);
            }
            fn set_training(&mut self, training: bool) {
                self.training = training;
            }
        }

        impl<T: Float> $layer<T> {
            /// Returns true in training mode.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert!(wengert_nn::", stringify!($layer), "::<f32>::new(2).unwrap().is_training());")]
            /// ```
            pub fn is_training(&self) -> bool {
                self.training
            }

            /// Returns the number of channels `C`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert_eq!(wengert_nn::", stringify!($layer), "::<f32>::new(3).unwrap().num_features(), 3);")]
            /// ```
            pub fn num_features(&self) -> usize {
                self.stats.num_features
            }
        }
    };
}

/// Batch normalisation over `[N, C]` or `[N, C, L]` inputs, one statistic per
/// channel `C`.
///
/// - Training: normalises with the batch mean and the *biased* batch variance
///   (over `N`, or `N · L`, values per channel), and updates the running
///   statistics as PyTorch: `running = (1 − momentum) · running + momentum ·
///   batch`, with the *unbiased* batch variance for `running_var`.
/// - Eval: normalises with the running statistics.
///
/// Defaults, PyTorch's: `eps = 1e-5`, `momentum = 0.1`, γ ones, β zeros,
/// running mean zeros, running variance ones. Buffers: `running_mean`,
/// `running_var` (both `[C]`).
///
/// # Errors
///
/// `try_forward` returns [`Error::InputShape`] unless `x` is `[N, C]` or
/// `[N, C, L]`, and [`Error::SingleValuePerChannel`] in training when
/// `N · L == 1`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{BatchNorm1d, Module};
/// let mut bn = BatchNorm1d::<f64>::new(1).unwrap();
/// let y = bn.forward(&Tensor::from_vec(vec![1.0, 3.0], [2, 1]).unwrap());
/// assert!((y.to_vec()[0] + 1.0).abs() < 1e-5);
/// // running_mean = 0.9 · 0 + 0.1 · 2; running_var = 0.9 · 1 + 0.1 · 2 (unbiased).
/// let b = bn.named_buffers();
/// assert!((b[0].1.to_vec()[0] - 0.2).abs() < 1e-12);
/// assert!((b[1].1.to_vec()[0] - 1.1).abs() < 1e-12);
/// bn.eval();
/// let y = bn.forward(&Tensor::from_vec(vec![0.2], [1, 1]).unwrap());
/// assert!(y.to_vec()[0].abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct BatchNorm1d<T: Float = f32> {
    stats: BatchStats<T>,
    training: bool,
    /// γ, `[C]`.
    pub weight: Tensor<T>,
    /// β, `[C]`.
    pub bias: Tensor<T>,
}

impl<T: Float> BatchNorm1d<T> {
    /// Builds a layer for `num_features` channels with PyTorch's defaults.
    ///
    /// # Errors
    ///
    /// As [`BatchNorm1d::with_options`].
    ///
    /// # Examples
    ///
    /// ```
    /// let bn = wengert_nn::BatchNorm1d::<f32>::new(4).unwrap();
    /// assert_eq!(bn.weight.to_vec(), vec![1.0; 4]);
    /// ```
    pub fn new(num_features: usize) -> Result<Self> {
        Self::with_options(num_features, 1e-5, 0.1)
    }

    /// Builds a layer with the given `eps` and `momentum`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for `num_features == 0`, an `eps` that is not
    /// finite and positive, or a `momentum` outside `[0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = wengert_nn::BatchNorm1d::<f32>::with_options(4, 1e-5, 2.0).unwrap_err();
    /// assert_eq!(e.to_string(), "batch_norm1d: momentum must be in [0, 1], got 2");
    /// ```
    pub fn with_options(num_features: usize, eps: f64, momentum: f64) -> Result<Self> {
        let (stats, weight, bias) = BatchStats::new("batch_norm1d", num_features, eps, momentum)?;
        Ok(BatchNorm1d {
            stats,
            training: true,
            weight,
            bias,
        })
    }
}

fn check_1d<T: Float>(layer: &'static str, c: usize, x: &Tensor<T>) -> Result<()> {
    let d = x.dims();
    if !(d.len() == 2 || d.len() == 3) || d[1] != c {
        return Err(Error::InputShape {
            layer,
            expected: format!("[N, {c}] or [N, {c}, L]"),
            actual: x.shape().clone(),
        });
    }
    Ok(())
}

batch_norm_module!(BatchNorm1d, check_1d);

/// Batch normalisation over `[N, C, H, W]` inputs, one statistic per channel
/// `C` computed over `N · H · W` values: PyTorch's `BatchNorm2d`.
///
/// Conventions as [`BatchNorm1d`]: the biased batch variance normalises in
/// training, the unbiased one enters `running_var`, eval mode uses the running
/// statistics; defaults `eps = 1e-5`, `momentum = 0.1`, γ ones, β zeros.
/// Buffers: `running_mean`, `running_var` (both `[C]`).
///
/// # Errors
///
/// `try_forward` returns [`Error::InputShape`] unless `x` is `[N, C, H, W]`,
/// and [`Error::SingleValuePerChannel`] in training when `N · H · W == 1`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{BatchNorm2d, Module};
/// let mut bn = BatchNorm2d::<f64>::new(1).unwrap();
/// // One channel, values 1, 3 in one image and 5, 7 in the other: mean 4, biased var 5.
/// let x = Tensor::from_vec(vec![1.0, 3.0, 5.0, 7.0], [2, 1, 1, 2]).unwrap();
/// let y = bn.forward(&x);
/// assert!((y.to_vec()[0] + 3.0 / (5.0f64 + 1e-5).sqrt()).abs() < 1e-12);
/// // running_var = 0.9 · 1 + 0.1 · 20/3 (unbiased).
/// let b = bn.named_buffers();
/// assert!((b[0].1.to_vec()[0] - 0.4).abs() < 1e-12);
/// assert!((b[1].1.to_vec()[0] - (0.9 + 2.0 / 3.0)).abs() < 1e-12);
/// bn.eval();
/// assert!(bn.forward(&Tensor::full([1, 1, 1, 1], 0.4)).to_vec()[0].abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct BatchNorm2d<T: Float = f32> {
    stats: BatchStats<T>,
    training: bool,
    /// γ, `[C]`.
    pub weight: Tensor<T>,
    /// β, `[C]`.
    pub bias: Tensor<T>,
}

impl<T: Float> BatchNorm2d<T> {
    /// Builds a layer for `num_features` channels with PyTorch's defaults.
    ///
    /// # Errors
    ///
    /// As [`BatchNorm2d::with_options`].
    ///
    /// # Examples
    ///
    /// ```
    /// let bn = wengert_nn::BatchNorm2d::<f32>::new(4).unwrap();
    /// assert_eq!(bn.bias.to_vec(), vec![0.0; 4]);
    /// ```
    pub fn new(num_features: usize) -> Result<Self> {
        Self::with_options(num_features, 1e-5, 0.1)
    }

    /// Builds a layer with the given `eps` and `momentum`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for `num_features == 0`, an `eps` that is not
    /// finite and positive, or a `momentum` outside `[0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = wengert_nn::BatchNorm2d::<f32>::with_options(0, 1e-5, 0.1).unwrap_err();
    /// assert_eq!(e.to_string(), "batch_norm2d: num_features must be at least 1");
    /// ```
    pub fn with_options(num_features: usize, eps: f64, momentum: f64) -> Result<Self> {
        let (stats, weight, bias) = BatchStats::new("batch_norm2d", num_features, eps, momentum)?;
        Ok(BatchNorm2d {
            stats,
            training: true,
            weight,
            bias,
        })
    }
}

fn check_2d<T: Float>(layer: &'static str, c: usize, x: &Tensor<T>) -> Result<()> {
    let d = x.dims();
    if d.len() != 4 || d[1] != c {
        return Err(Error::InputShape {
            layer,
            expected: format!("[N, {c}, H, W]"),
            actual: x.shape().clone(),
        });
    }
    Ok(())
}

batch_norm_module!(BatchNorm2d, check_2d);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{check_module, randn, with_random_affine};
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn batch_norm_grads_match_finite_differences_at_any_size(
            n in 2usize..5, c in 1usize..4, l in 1usize..4, seed: u64,
        ) {
            let bn = with_random_affine(BatchNorm1d::new(c).unwrap(), seed ^ 2);
            check_module(bn, &randn(&[n, c, l], seed ^ 3));
        }
    }

    #[test]
    fn batch_norm_grad_matches_finite_differences_in_training_and_eval() {
        let bn = with_random_affine(BatchNorm1d::new(3).unwrap(), 5);
        check_module(bn.clone(), &randn(&[4, 3], 6));
        check_module(bn.clone(), &randn(&[2, 3, 5], 7));
        let mut ev = bn;
        ev.eval();
        check_module(ev, &randn(&[4, 3], 8));
    }

    #[test]
    fn batch_norm_matches_pytorch_running_statistics() {
        // torch: bn = nn.BatchNorm1d(2); bn(torch.tensor([[1., 2.], [3., 6.], [5., 1.]]))
        // -> running_mean [0.3, 0.3], running_var [0.9 + 0.1 * 4, 0.9 + 0.1 * 7]
        let bn = BatchNorm1d::<f64>::new(2).unwrap();
        let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 6.0, 5.0, 1.0], [3, 2]).unwrap();
        let y = bn.forward(&x).to_vec();
        let b = bn.named_buffers();
        let rm = b[0].1.to_vec();
        let rv = b[1].1.to_vec();
        assert!(
            (rm[0] - 0.3).abs() < 1e-12 && (rm[1] - 0.3).abs() < 1e-12,
            "{rm:?}"
        );
        assert!(
            (rv[0] - 1.3).abs() < 1e-12 && (rv[1] - 1.6).abs() < 1e-12,
            "{rv:?}"
        );
        // Column 0: mean 3, biased var 8/3: y = (x - 3) / sqrt(8/3 + 1e-5).
        let s = (8.0f64 / 3.0 + 1e-5).sqrt();
        assert!((y[0] + 2.0 / s).abs() < 1e-12 && (y[4] - 2.0 / s).abs() < 1e-12);
    }

    #[test]
    fn constant_batch_gives_finite_outputs_and_gradients() {
        let bn = BatchNorm1d::<f64>::new(2).unwrap();
        let x = Tensor::full([4, 2], 3.0).requires_grad();
        let y = bn.forward(&x);
        assert!(y.to_vec().iter().all(|v| *v == 0.0));
        let g = (&y * &Tensor::randn([4, 2], 0.0, 1.0, &mut StdRng::seed_from_u64(1)).unwrap())
            .sum()
            .backward()
            .unwrap();
        for t in [&x, &bn.weight, &bn.bias] {
            assert!(g.get(t).unwrap().to_vec().iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn one_value_per_channel_in_training_is_an_error_but_fine_in_eval() {
        let mut bn = BatchNorm1d::<f32>::new(3).unwrap();
        let e = bn.try_forward(&Tensor::zeros([1, 3])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "batch_norm1d: expected more than 1 value per channel when training, got input [1, 3]"
        );
        assert!(bn.try_forward(&Tensor::zeros([1, 3, 1])).is_err());
        bn.eval();
        assert!(bn.try_forward(&Tensor::zeros([1, 3])).is_ok());
    }

    #[test]
    fn wrong_shapes_name_the_layer() {
        let bn = BatchNorm1d::<f32>::new(3).unwrap();
        let e = bn.try_forward(&Tensor::zeros([2, 4])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "batch_norm1d: expected input of shape [N, 3] or [N, 3, L], got [2, 4]"
        );
    }

    #[test]
    fn batch_norm2d_grad_matches_finite_differences_in_training_and_eval() {
        let bn = with_random_affine(BatchNorm2d::new(3).unwrap(), 11);
        check_module(bn.clone(), &randn(&[2, 3, 2, 3], 12));
        check_module(bn.clone(), &randn(&[1, 3, 2, 2], 13));
        let mut ev = bn;
        ev.forward(&randn(&[4, 3, 2, 2], 14));
        ev.eval();
        check_module(ev, &randn(&[2, 3, 3, 1], 15));
    }

    #[test]
    fn batch_norm2d_matches_hand_computed_statistics_in_training_and_eval() {
        // Hand-derived. x is [N 2, C 2, H 1, W 2]: channel 0 holds 1, 2, 3, 6
        // (mean 3, sum of squares 14: biased var 3.5, unbiased 14/3), channel
        // 1 holds 4, 4, 2, 6 (mean 4, sum of squares 8: biased 2, unbiased 8/3).
        let mut bn = BatchNorm2d::<f64>::new(2).unwrap();
        let x =
            Tensor::from_vec(vec![1.0, 2.0, 4.0, 4.0, 3.0, 6.0, 2.0, 6.0], [2, 2, 1, 2]).unwrap();
        let y = bn.forward(&x).to_vec();
        let (s0, s1) = ((3.5f64 + 1e-5).sqrt(), (2.0f64 + 1e-5).sqrt());
        let want = [
            -2.0 / s0,
            -1.0 / s0,
            0.0,
            0.0,
            0.0,
            3.0 / s0,
            -2.0 / s1,
            2.0 / s1,
        ];
        for (a, b) in y.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{y:?}");
        }
        let b = bn.named_buffers();
        assert_eq!(b[0].0, "running_mean");
        assert_eq!(b[1].0, "running_var");
        let (rm, rv) = (b[0].1.to_vec(), b[1].1.to_vec());
        let want_rv = [0.9 + 0.1 * 14.0 / 3.0, 0.9 + 0.1 * 8.0 / 3.0];
        assert!(
            (rm[0] - 0.3).abs() < 1e-12 && (rm[1] - 0.4).abs() < 1e-12,
            "{rm:?}"
        );
        assert!((rv[0] - want_rv[0]).abs() < 1e-12 && (rv[1] - want_rv[1]).abs() < 1e-12);

        // Eval: the running statistics, and no update.
        bn.eval();
        let y = bn.forward(&x).to_vec();
        assert!((y[0] - (1.0 - 0.3) / (want_rv[0] + 1e-5).sqrt()).abs() < 1e-12);
        assert!((y[7] - (6.0 - 0.4) / (want_rv[1] + 1e-5).sqrt()).abs() < 1e-12);
        assert_eq!(bn.named_buffers()[0].1.to_vec(), rm);
    }

    #[test]
    fn batch_norm2d_agrees_with_batch_norm1d_on_flattened_images() {
        let bn2 = with_random_affine(BatchNorm2d::with_options(3, 1e-3, 0.3).unwrap(), 16);
        let mut bn1 = BatchNorm1d::with_options(3, 1e-3, 0.3).unwrap();
        bn1.set_parameters(&[bn2.weight.clone(), bn2.bias.clone()])
            .unwrap();
        let x = randn(&[2, 3, 2, 4], 17);
        let y2 = bn2.forward(&x);
        let y1 = bn1.forward(&x.reshape([2, 3, 8]));
        for (a, b) in y2.to_vec().iter().zip(y1.to_vec()) {
            assert!((a - b).abs() < 1e-12);
        }
        // The reductions run in different orders, so compare to rounding.
        for ((_, a), (_, b)) in bn2.named_buffers().iter().zip(bn1.named_buffers()) {
            for (u, v) in a.to_vec().iter().zip(b.to_vec()) {
                assert!((u - v).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn batch_norm2d_constant_batch_gives_finite_outputs_and_gradients() {
        let bn = BatchNorm2d::<f64>::new(2).unwrap();
        let x = Tensor::full([3, 2, 2, 2], -1.5).requires_grad();
        let y = bn.forward(&x);
        assert!(y.to_vec().iter().all(|v| *v == 0.0));
        let g = (&y * &randn(&[3, 2, 2, 2], 18)).sum().backward().unwrap();
        for t in [&x, &bn.weight, &bn.bias] {
            assert!(g.get(t).unwrap().to_vec().iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn batch_norm2d_errors_and_names() {
        let mut bn = BatchNorm2d::<f32>::new(3).unwrap();
        let names: Vec<String> = bn.named_parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["weight", "bias"]);
        assert_eq!((bn.num_parameters(), bn.named_buffers().len()), (6, 2));
        assert_eq!(bn.num_features(), 3);
        let e = bn.try_forward(&Tensor::zeros([1, 3, 1, 1])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "batch_norm2d: expected more than 1 value per channel when training, got input [1, 3, 1, 1]"
        );
        assert!(bn.try_forward(&Tensor::zeros([1, 3, 1, 2])).is_ok());
        let e = bn.try_forward(&Tensor::zeros([2, 3, 4])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "batch_norm2d: expected input of shape [N, 3, H, W], got [2, 3, 4]"
        );
        assert!(bn.try_forward(&Tensor::zeros([2, 2, 2, 2])).is_err());
        bn.eval();
        assert!(bn.try_forward(&Tensor::zeros([1, 3, 1, 1])).is_ok());
        assert!(BatchNorm2d::<f32>::with_options(2, 0.0, 0.1).is_err());
    }
}
