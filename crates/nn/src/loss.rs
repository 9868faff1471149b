//! Loss functions, composed from core ops, with PyTorch's conventions.
//!
//! | loss | per element (or per sample) | gradient wrt the input |
//! |---|---|---|
//! | [`mse_loss`] | `(x − y)²` | `2 (x − y)` |
//! | [`l1_loss`] | `|x − y|` | `sign(x − y)`, 0 at 0 |
//! | [`huber_loss`] | `½ d²` for `|d| ≤ δ`, else `δ (|d| − ½ δ)` | `clamp(d, −δ, δ)` |
//! | [`binary_cross_entropy`] | `−(y ln p + (1 − y) ln(1 − p))`, logs clamped at −100 | `(p − y) / (p (1 − p))` inside the clamp, 0 where clamped |
//! | [`binary_cross_entropy_with_logits`] | `softplus(z) − y z` | `sigmoid(z) − y` |
//! | [`cross_entropy`] | `−log_softmax(z)[label]` | `softmax(z) − onehot(label)` |
//! | [`cross_entropy_probs`] | `−Σ_c t_c log_softmax(z)_c` | `softmax(z) · Σt − t` |
//! | [`nll_loss`] | `−x[label]` | `−onehot(label)` |
//! | [`kl_div`] | `t (ln t − x)`, 0 where `t = 0` | `−t` |
//!
//! Each takes a [`Reduction`]: `Mean` (PyTorch's default; over every element,
//! or every sample for the classification losses), `Sum`, or `None` (the
//! unreduced tensor: the input's shape, or `[N]` per sample).
//!
//! Stability: binary cross-entropy on probabilities clamps each log at −100, as
//! PyTorch, so `p = 0` or `1` gives a loss of 100, never inf or NaN, and a zero
//! gradient there (PyTorch's fused kernel instead returns
//! `(p − y) / max(p (1 − p), 1e-12)`). Inside the clamp the gradient is the
//! true `−y/p`, which exceeds the `f32` range for `0 < p < ~3e-39`; prefer the
//! logits form when probabilities can be that small. The logits form uses the stable
//! `softplus`, finite for logits of ±1000; cross-entropy goes through
//! `log_softmax`, which is fused through logsumexp.

use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};

/// How a loss reduces its per-element (or per-sample) values.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Reduction, loss::mse_loss};
/// let x = Tensor::from_vec(vec![1.0f64, 3.0], [2]).unwrap();
/// let y = Tensor::zeros([2]);
/// assert_eq!(mse_loss(&x, &y, Reduction::Sum).unwrap().item(), 10.0);
/// assert_eq!(mse_loss(&x, &y, Reduction::Mean).unwrap().item(), 5.0);
/// assert_eq!(mse_loss(&x, &y, Reduction::None).unwrap().to_vec(), vec![1.0, 9.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The mean (PyTorch's default). Empty input is an error.
    #[default]
    Mean,
    /// The sum.
    Sum,
    /// No reduction: one value per element or sample.
    None,
}

fn reduce<T: Float>(t: Tensor<T>, r: Reduction) -> Result<Tensor<T>> {
    Ok(match r {
        Reduction::Mean => t.try_mean()?,
        Reduction::Sum => t.sum(),
        Reduction::None => t,
    })
}

fn same_shape<T: Float>(loss: &'static str, x: &Tensor<T>, y: &Tensor<T>) -> Result<()> {
    if x.shape() != y.shape() {
        return Err(Error::TargetShape {
            loss,
            input: x.shape().clone(),
            target: y.shape().clone(),
        });
    }
    Ok(())
}

/// Checks `[N, C]` input and one in-range label per row.
fn check_labels<T: Float>(loss: &'static str, x: &Tensor<T>, labels: &[usize]) -> Result<()> {
    if x.rank() != 2 {
        return Err(Error::InputShape {
            layer: loss,
            expected: "[N, C]".to_string(),
            actual: x.shape().clone(),
        });
    }
    let (n, c) = (x.dims()[0], x.dims()[1]);
    if labels.len() != n {
        return Err(Error::BatchSizeMismatch {
            loss,
            input: x.shape().clone(),
            target: [labels.len()].into(),
        });
    }
    if let Some(index) = labels.iter().position(|&l| l >= c) {
        return Err(Error::LabelOutOfRange {
            loss,
            label: labels[index],
            index,
            classes: c,
        });
    }
    Ok(())
}

fn check_unit_interval<T: Float>(t: &Tensor<T>, err: impl Fn(f64, usize) -> Error) -> Result<()> {
    match t
        .as_slice()
        .iter()
        .position(|v| !(T::ZERO <= *v && *v <= T::ONE))
    {
        Some(k) => Err(err(t.as_slice()[k].to_f64(), k)),
        None => Ok(()),
    }
}

/// Returns the mean squared error `(x − y)²`, reduced.
///
/// # Errors
///
/// [`Error::TargetShape`] when the shapes differ; [`Error::Core`] for `Mean`
/// of an empty input.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Reduction, loss::mse_loss};
/// let x = Tensor::from_vec(vec![1.0f64, 2.0], [2]).unwrap();
/// let y = Tensor::from_vec(vec![0.0, 4.0], [2]).unwrap();
/// assert_eq!(mse_loss(&x, &y, Reduction::Mean).unwrap().item(), 2.5);
/// ```
pub fn mse_loss<T: Float>(x: &Tensor<T>, y: &Tensor<T>, r: Reduction) -> Result<Tensor<T>> {
    same_shape("mse_loss", x, y)?;
    match r {
        // One recorded op instead of four, with the same value and
        // gradients to the bit (`Tensor::try_mean_squared_error`).
        Reduction::Mean => Ok(x.try_mean_squared_error(y)?),
        _ => reduce(x.try_sub(y)?.square(), r),
    }
}

/// Returns the mean absolute error `|x − y|`, reduced (gradient 0 where
/// `x = y`, as PyTorch).
///
/// # Errors
///
/// As [`mse_loss`].
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Reduction, loss::l1_loss};
/// let x = Tensor::from_vec(vec![1.0f64, 2.0], [2]).unwrap();
/// let y = Tensor::from_vec(vec![0.0, 4.0], [2]).unwrap();
/// assert_eq!(l1_loss(&x, &y, Reduction::Sum).unwrap().item(), 3.0);
/// ```
pub fn l1_loss<T: Float>(x: &Tensor<T>, y: &Tensor<T>, r: Reduction) -> Result<Tensor<T>> {
    same_shape("l1_loss", x, y)?;
    reduce(x.try_sub(y)?.abs(), r)
}

/// Returns the Huber loss with threshold `delta`: `½ d²` for `|d| ≤ delta`,
/// `delta · (|d| − ½ delta)` beyond, with `d = x − y`; computed as
/// `½ q² + delta · (|d| − q)` with `q = min(|d|, delta)`.
///
/// # Errors
///
/// [`Error::InvalidConfig`] unless `delta` is finite and positive; as
/// [`mse_loss`] otherwise.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Reduction, loss::huber_loss};
/// let x = Tensor::from_vec(vec![0.5f64, 2.0, -3.0], [3]).unwrap();
/// let l = huber_loss(&x, &Tensor::zeros([3]), 1.0, Reduction::None).unwrap();
/// assert_eq!(l.to_vec(), vec![0.125, 1.5, 2.5]);
/// ```
pub fn huber_loss<T: Float>(
    x: &Tensor<T>,
    y: &Tensor<T>,
    delta: f64,
    r: Reduction,
) -> Result<Tensor<T>> {
    if !(delta.is_finite() && delta > 0.0) {
        return Err(Error::InvalidConfig {
            layer: "huber_loss",
            what: format!("delta must be finite and > 0, got {delta}"),
        });
    }
    same_shape("huber_loss", x, y)?;
    let dl = T::from_f64(delta);
    let a = x.try_sub(y)?.abs();
    let q = a.clamp(T::ZERO, dl);
    let quad = q.square().mul_scalar(T::from_f64(0.5));
    let lin = a.try_sub(&q)?.mul_scalar(dl);
    reduce(quad.try_add(&lin)?, r)
}

/// `ln(p)` clamped below at −100, with a zero (never NaN) gradient where
/// clamped, even at `p = 0`: the log only ever sees a positive value.
fn clamped_log<T: Float>(p: &Tensor<T>) -> Tensor<T> {
    let positive = p.gt(&Tensor::scalar(T::ZERO));
    let safe = Tensor::where_(&positive, p, &Tensor::scalar(T::ONE));
    let floor = T::from_f64(-100.0);
    Tensor::where_(&positive, &safe.log(), &Tensor::scalar(floor)).clamp(floor, T::INFINITY)
}

/// Returns binary cross-entropy on probabilities,
/// `−(y ln p + (1 − y) ln(1 − p))`, each log clamped below at −100 as PyTorch:
/// `p = 0` or `1` against the opposite target gives 100, never inf or NaN.
///
/// # Errors
///
/// [`Error::TargetShape`]; [`Error::TargetOutOfRange`] for a target outside
/// `[0, 1]`; [`Error::InputOutOfRange`] for a probability outside `[0, 1]`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Reduction, loss::binary_cross_entropy};
/// let p = Tensor::from_vec(vec![0.0f64, 1.0, 0.5], [3]).unwrap();
/// let y = Tensor::from_vec(vec![1.0, 0.0, 1.0], [3]).unwrap();
/// let l = binary_cross_entropy(&p, &y, Reduction::None).unwrap().to_vec();
/// assert_eq!(&l[..2], &[100.0, 100.0]);
/// assert!((l[2] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn binary_cross_entropy<T: Float>(
    p: &Tensor<T>,
    y: &Tensor<T>,
    r: Reduction,
) -> Result<Tensor<T>> {
    const NAME: &str = "binary_cross_entropy";
    same_shape(NAME, p, y)?;
    check_unit_interval(y, |value, index| Error::TargetOutOfRange {
        loss: NAME,
        value,
        index,
    })?;
    check_unit_interval(p, |value, index| Error::InputOutOfRange {
        loss: NAME,
        value,
        index,
    })?;
    let one_minus = |t: &Tensor<T>| t.neg().add_scalar(T::ONE);
    let log_p = clamped_log(p);
    let log_q = clamped_log(&one_minus(p));
    let l = y.try_mul(&log_p)?.try_add(&one_minus(y).try_mul(&log_q)?)?;
    reduce(l.neg(), r)
}

/// Returns binary cross-entropy on logits, `softplus(z) − y z`
/// (= `−(y ln σ(z) + (1 − y) ln(1 − σ(z)))`), stable: finite for logits of
/// ±1000, with gradient `σ(z) − y`.
///
/// # Errors
///
/// [`Error::TargetShape`]; [`Error::TargetOutOfRange`] for a target outside
/// `[0, 1]`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Reduction, loss::binary_cross_entropy_with_logits};
/// let z = Tensor::from_vec(vec![1000.0f64, -1000.0, 0.0], [3]).unwrap();
/// let y = Tensor::from_vec(vec![0.0, 1.0, 1.0], [3]).unwrap();
/// let l = binary_cross_entropy_with_logits(&z, &y, Reduction::None).unwrap().to_vec();
/// assert_eq!(&l[..2], &[1000.0, 1000.0]);
/// assert!((l[2] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn binary_cross_entropy_with_logits<T: Float>(
    z: &Tensor<T>,
    y: &Tensor<T>,
    r: Reduction,
) -> Result<Tensor<T>> {
    const NAME: &str = "binary_cross_entropy_with_logits";
    same_shape(NAME, z, y)?;
    check_unit_interval(y, |value, index| Error::TargetOutOfRange {
        loss: NAME,
        value,
        index,
    })?;
    reduce(z.softplus().try_sub(&z.try_mul(y)?)?, r)
}

/// Returns the negative log-likelihood `−x[i, labels[i]]` of log-probabilities
/// `x` (`[N, C]`), per sample, reduced over the batch.
///
/// # Errors
///
/// [`Error::InputShape`] unless `x` is `[N, C]`; [`Error::BatchSizeMismatch`]
/// unless there are `N` labels; [`Error::LabelOutOfRange`] for a label `>= C`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Reduction, loss::nll_loss};
/// let x = Tensor::from_vec(vec![-1.0f64, -2.0, -3.0, -4.0], [2, 2]).unwrap();
/// assert_eq!(nll_loss(&x, &[1, 0], Reduction::None).unwrap().to_vec(), vec![2.0, 3.0]);
/// let e = nll_loss(&x, &[1, 2], Reduction::Mean).unwrap_err();
/// assert_eq!(e.to_string(), "nll_loss: label 2 at position 1 is out of range for 2 classes");
/// ```
pub fn nll_loss<T: Float>(x: &Tensor<T>, labels: &[usize], r: Reduction) -> Result<Tensor<T>> {
    check_labels("nll_loss", x, labels)?;
    pick(x, labels, r)
}

fn pick<T: Float>(log_p: &Tensor<T>, labels: &[usize], r: Reduction) -> Result<Tensor<T>> {
    let n = labels.len();
    let picked = log_p.try_gather(1, labels, [n, 1])?.try_reshape([n])?;
    reduce(picked.neg(), r)
}

/// Returns cross-entropy from logits `z` (`[N, C]`) and integer labels:
/// `−log_softmax(z)[i, labels[i]]` per sample, reduced over the batch.
///
/// # Errors
///
/// As [`nll_loss`].
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Reduction, loss::cross_entropy};
/// let z = Tensor::from_vec(vec![1000.0f64, -1000.0], [1, 2]).unwrap();
/// assert_eq!(cross_entropy(&z, &[1], Reduction::Mean).unwrap().item(), 2000.0);
/// let e = cross_entropy(&z, &[0, 1], Reduction::Mean).unwrap_err();
/// assert_eq!(e.to_string(), "cross_entropy: batch sizes differ (input [1, 2], target [2])");
/// ```
pub fn cross_entropy<T: Float>(z: &Tensor<T>, labels: &[usize], r: Reduction) -> Result<Tensor<T>> {
    check_labels("cross_entropy", z, labels)?;
    pick(&z.try_log_softmax(1)?, labels, r)
}

/// Returns cross-entropy from logits `z` and target probabilities `t` (both
/// `[N, C]`): `−Σ_c t_c · log_softmax(z)_c` per sample, reduced over the batch.
///
/// # Errors
///
/// [`Error::InputShape`] unless `z` is `[N, C]`; [`Error::BatchSizeMismatch`]
/// when `t` has a different shape.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Reduction, loss::cross_entropy_probs};
/// let z = Tensor::zeros([1, 2]);
/// let t = Tensor::from_vec(vec![0.25f64, 0.75], [1, 2]).unwrap();
/// let l = cross_entropy_probs(&z, &t, Reduction::Mean).unwrap().item();
/// assert!((l - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn cross_entropy_probs<T: Float>(
    z: &Tensor<T>,
    t: &Tensor<T>,
    r: Reduction,
) -> Result<Tensor<T>> {
    const NAME: &str = "cross_entropy_probs";
    if z.rank() != 2 {
        return Err(Error::InputShape {
            layer: NAME,
            expected: "[N, C]".to_string(),
            actual: z.shape().clone(),
        });
    }
    if t.shape() != z.shape() {
        return Err(Error::BatchSizeMismatch {
            loss: NAME,
            input: z.shape().clone(),
            target: t.shape().clone(),
        });
    }
    let per = t
        .try_mul(&z.try_log_softmax(1)?)?
        .try_sum_axes(&[1], false)?;
    reduce(per.neg(), r)
}

/// Returns the Kullback-Leibler divergence as PyTorch's `kl_div`: `x` holds
/// log-probabilities, `t` probabilities, and each element is
/// `t · (ln t − x)`, taken as 0 where `t = 0`. `Mean` averages over every
/// element (PyTorch's `"mean"`); for the mathematical KL per sample, use `Sum`
/// and divide by the batch size (PyTorch's `"batchmean"`).
///
/// # Errors
///
/// [`Error::TargetShape`] when the shapes differ.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Reduction, loss::kl_div};
/// let x = Tensor::from_vec(vec![0.5f64.ln(), 0.5f64.ln()], [2]).unwrap();
/// let t = Tensor::from_vec(vec![0.5, 0.5], [2]).unwrap();
/// assert!(kl_div(&x, &t, Reduction::Sum).unwrap().item().abs() < 1e-15);
/// ```
pub fn kl_div<T: Float>(x: &Tensor<T>, t: &Tensor<T>, r: Reduction) -> Result<Tensor<T>> {
    same_shape("kl_div", x, t)?;
    // t · ln t with ln taken of 1 where t = 0: the value is 0 and no NaN
    // reaches the gradient.
    let positive = t.gt(&Tensor::scalar(T::ZERO));
    let safe = Tensor::where_(&positive, t, &Tensor::scalar(T::ONE));
    let t_log_t = t.try_mul(&safe.log())?;
    reduce(t_log_t.try_sub(&t.try_mul(x)?)?, r)
}

#[cfg(test)]
#[path = "loss_tests.rs"]
mod tests;
