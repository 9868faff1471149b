//! Per-parameter statistics: gradient norm, weight norm, gradient-to-weight
//! ratio ([`param_stats`]), and the update-to-weight ratio of an optimizer
//! step ([`Snapshot`], [`update_ratios`]). Norms are L2 norms over every
//! element, accumulated in `f64`.

use wengert_core::{Float, Gradients, Tensor};

use crate::error::{Error, Result};
use crate::module::Module;

/// Returns `√(Σ v²)` over the elements of `t`, accumulated in `f64`.
pub(crate) fn l2_norm<T: Float>(t: &Tensor<T>) -> f64 {
    t.as_slice()
        .iter()
        .map(|v| v.to_f64() * v.to_f64())
        .sum::<f64>()
        .sqrt()
}

/// The statistics of one parameter after a backward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamStats {
    /// The parameter's dotted name (`layers.0.weight`).
    pub name: String,
    /// The parameter's shape, as its dimensions.
    pub dims: Vec<usize>,
    /// `‖θ‖`, the L2 norm of the parameter.
    pub weight_norm: f64,
    /// `‖g‖`, the L2 norm of its gradient; `None` when the gradients hold
    /// none for it (a frozen parameter, or one the loss does not reach).
    pub grad_norm: Option<f64>,
    /// `‖g‖ / ‖θ‖`; `None` without a gradient or when `‖θ‖ = 0` (a bias
    /// initialised to zero has no meaningful ratio).
    pub grad_to_weight: Option<f64>,
}

/// Returns the statistics of every parameter of `model`, in visiting order,
/// with the gradients found in `grads`.
///
/// # Examples
///
/// `L = sum(W x)` with `W = [[3, 4]]` and `x = [[1, 2]]`: the gradient is
/// `x`, so `‖g‖ = √5` and `‖θ‖ = 5`.
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::diagnostics::param_stats;
/// use wengert_nn::{Linear, Module};
/// let w = Tensor::<f64>::from_vec(vec![3.0, 4.0], [1, 2])?.requires_grad();
/// let model = Linear::from_tensors(w, None)?;
/// let grads = model.forward(&Tensor::from_vec(vec![1.0, 2.0], [1, 2])?).sum().backward()?;
/// let s = &param_stats(&model, &grads)[0];
/// assert_eq!((s.name.as_str(), s.weight_norm), ("weight", 5.0));
/// assert!((s.grad_norm.unwrap() - 5f64.sqrt()).abs() < 1e-15);
/// assert!((s.grad_to_weight.unwrap() - 5f64.sqrt() / 5.0).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn param_stats<T: Float>(model: &dyn Module<T>, grads: &Gradients<T>) -> Vec<ParamStats> {
    let mut out = Vec::new();
    model.visit_parameters(&mut |name, p| {
        let weight_norm = l2_norm(p);
        // A frozen parameter has no leaf id, so it never matches a gradient.
        let grad_norm = p.leaf_id().and_then(|_| grads.get(p)).map(|g| l2_norm(g));
        let grad_to_weight = grad_norm
            .filter(|_| weight_norm > 0.0)
            .map(|g| g / weight_norm);
        out.push(ParamStats {
            name: name.to_string(),
            dims: p.dims().to_vec(),
            weight_norm,
            grad_norm,
            grad_to_weight,
        });
    });
    out
}

/// A copy of a model's parameters, taken before an optimizer step so that
/// [`update_ratios`] can measure the step afterwards. Copying shares
/// storage: optimizers replace parameters by new tensors, so the snapshot
/// keeps the old values.
#[derive(Clone, Debug)]
pub struct Snapshot<T: Float = f32> {
    params: Vec<(String, Tensor<T>)>,
}

impl<T: Float> Snapshot<T> {
    /// Records the current parameters of `model`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::diagnostics::Snapshot;
    /// use wengert_nn::Linear;
    /// let model = Linear::<f32>::from_tensors(Tensor::ones([2, 3]), None).unwrap();
    /// assert_eq!(Snapshot::new(&model).len(), 1);
    /// ```
    pub fn new(model: &dyn Module<T>) -> Self {
        Snapshot {
            params: model.named_parameters(),
        }
    }

    /// Returns the number of parameters recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::diagnostics::Snapshot;
    /// use wengert_nn::Linear;
    /// let model = Linear::<f32>::from_tensors(Tensor::ones([2, 3]), Some(Tensor::ones([2]))).unwrap();
    /// assert_eq!(Snapshot::new(&model).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Returns true when the model had no parameters.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::diagnostics::Snapshot;
    /// assert!(Snapshot::<f32>::new(&wengert_nn::Relu).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }
}

/// The size of one parameter's update relative to the parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateStats {
    /// The parameter's dotted name.
    pub name: String,
    /// `‖θ_before‖`.
    pub weight_norm: f64,
    /// `‖θ_after − θ_before‖`.
    pub update_norm: f64,
    /// `‖θ_after − θ_before‖ / ‖θ_before‖`; `None` when `‖θ_before‖ = 0`.
    /// Around 1e-3 per step is the usual rule of thumb for a healthy rate.
    pub update_to_weight: Option<f64>,
}

/// Returns, for every parameter of `model` in visiting order, how far it
/// moved since `before` was taken: `‖Δθ‖` and `‖Δθ‖ / ‖θ_before‖`.
///
/// # Errors
///
/// [`Error::InvalidConfig`] when `model`'s parameters do not match the
/// snapshot's names and shapes (a snapshot of another model).
///
/// # Examples
///
/// One plain SGD step moves `θ` by `lr·g`:
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::diagnostics::{Snapshot, update_ratios};
/// use wengert_nn::optim::{Optimizer, Sgd, SgdConfig};
/// use wengert_nn::{Linear, Module};
/// let w = Tensor::<f64>::from_vec(vec![3.0, 4.0], [1, 2])?.requires_grad();
/// let mut model = Linear::from_tensors(w, None)?;
/// let grads = model.forward(&Tensor::from_vec(vec![1.0, 2.0], [1, 2])?).sum().backward()?;
/// let before = Snapshot::new(&model);
/// Sgd::new(SgdConfig { lr: 0.5, ..Default::default() })?.step(&mut model, &grads)?;
/// let u = &update_ratios(&before, &model)?[0];
/// assert_eq!(u.update_norm, 0.5 * 5f64.sqrt()); // ‖[0.5, 1]‖
/// assert_eq!(u.update_to_weight, Some(0.5 * 5f64.sqrt() / 5.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn update_ratios<T: Float>(
    before: &Snapshot<T>,
    model: &dyn Module<T>,
) -> Result<Vec<UpdateStats>> {
    let after = model.named_parameters();
    let mismatch = |what: String| Error::InvalidConfig {
        layer: "update_ratios",
        what,
    };
    if after.len() != before.params.len() {
        return Err(mismatch(format!(
            "the snapshot has {} parameters but the model has {}",
            before.params.len(),
            after.len()
        )));
    }
    let mut out = Vec::with_capacity(after.len());
    for ((name, old), (new_name, new)) in before.params.iter().zip(&after) {
        if name != new_name || old.shape() != new.shape() {
            return Err(mismatch(format!(
                "snapshot parameter {name} {} does not match model parameter {new_name} {}",
                old.shape(),
                new.shape()
            )));
        }
        let weight_norm = l2_norm(old);
        let update_norm = old
            .as_slice()
            .iter()
            .zip(new.as_slice())
            .map(|(a, b)| {
                let d = b.to_f64() - a.to_f64();
                d * d
            })
            .sum::<f64>()
            .sqrt();
        out.push(UpdateStats {
            name: name.clone(),
            weight_norm,
            update_norm,
            update_to_weight: (weight_norm > 0.0).then(|| update_norm / weight_norm),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Linear;
    use crate::optim::{Optimizer, Sgd, SgdConfig};

    #[test]
    fn frozen_parameters_have_no_gradient_and_zero_weights_no_ratio() {
        let w = Tensor::<f64>::from_vec(vec![1.0, 2.0], [1, 2]).unwrap();
        let b = Tensor::<f64>::zeros([1]).requires_grad();
        let model = Linear::from_tensors(w, Some(b)).unwrap();
        let x = Tensor::from_vec(vec![1.0, 1.0], [1, 2]).unwrap();
        let grads = model.forward(&x).sum().backward().unwrap();
        let s = param_stats(&model, &grads);
        assert_eq!(s[0].grad_norm, None);
        assert_eq!(s[0].grad_to_weight, None);
        assert_eq!(s[1].grad_norm, Some(1.0));
        assert_eq!(s[1].weight_norm, 0.0);
        assert_eq!(s[1].grad_to_weight, None);
        assert_eq!(s[1].dims, vec![1]);
    }

    #[test]
    fn snapshot_of_another_model_is_refused() {
        let a = Linear::<f32>::from_tensors(Tensor::zeros([1, 2]), None).unwrap();
        let b = Linear::<f32>::from_tensors(Tensor::zeros([2, 2]), None).unwrap();
        let e = update_ratios(&Snapshot::new(&a), &b).unwrap_err();
        assert_eq!(
            e.to_string(),
            "update_ratios: snapshot parameter weight [1, 2] does not match model parameter weight [2, 2]"
        );
        let c =
            Linear::<f32>::from_tensors(Tensor::zeros([1, 2]), Some(Tensor::zeros([1]))).unwrap();
        assert!(update_ratios(&Snapshot::new(&a), &c).is_err());
    }

    #[test]
    fn sgd_update_to_weight_is_lr_times_grad_over_weight() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut model = Linear::<f64>::new(7, 5, true, &mut rng).unwrap();
        let x = Tensor::randn([11, 7], 0.0, 1.0, &mut rng).unwrap();
        let grads = model.forward(&x).tanh().sum().backward().unwrap();
        let stats = param_stats(&model, &grads);
        let before = Snapshot::new(&model);
        let lr = 0.03;
        let mut opt = Sgd::new(SgdConfig {
            lr,
            ..Default::default()
        })
        .unwrap();
        opt.step(&mut model, &grads).unwrap();
        let updates = update_ratios(&before, &model).unwrap();
        assert_eq!(updates.len(), 2);
        for (s, u) in stats.iter().zip(&updates) {
            assert_eq!(s.name, u.name);
            let expected = lr * s.grad_norm.unwrap() / s.weight_norm;
            let got = u.update_to_weight.unwrap();
            // Only the rounding of θ - lr·g separates the two.
            assert!(
                (got - expected).abs() <= 1e-13 * expected,
                "{got} vs {expected}"
            );
        }
    }

    #[test]
    fn sgd_update_is_exact_for_dyadic_values() {
        let w = Tensor::<f32>::from_vec(vec![3.0, 4.0], [1, 2])
            .unwrap()
            .requires_grad();
        let mut model = Linear::from_tensors(w, None).unwrap();
        let x = Tensor::from_vec(vec![6.0, 8.0], [1, 2]).unwrap();
        let grads = model.forward(&x).sum().backward().unwrap(); // g = [6, 8]
        let before = Snapshot::new(&model);
        let mut opt = Sgd::new(SgdConfig {
            lr: 0.25,
            ..Default::default()
        })
        .unwrap();
        opt.step(&mut model, &grads).unwrap();
        let u = &update_ratios(&before, &model).unwrap()[0];
        // ‖0.25 · [6, 8]‖ = 2.5, ‖θ‖ = 5.
        assert_eq!((u.weight_norm, u.update_norm), (5.0, 2.5));
        assert_eq!(u.update_to_weight, Some(0.5));
    }
}
