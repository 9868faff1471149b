//! Gradient checking: analytic gradients against central finite differences.
//!
//! [`gradcheck`] runs a closure of one or more `f64` tensors, reduces its output
//! with a random cotangent `v` (never a plain sum: the gradient of
//! `sum(softmax(x))` is zero and would test nothing), and compares the gradient
//! of `L = <f(x), v>` from [`backward`](crate::Tensor::backward) with
//!
//! ```text
//! (L(x + eps e_k) - L(x - eps e_k)) / (2 eps)
//! ```
//!
//! for every element `k` of every input when the inputs are small, and along a
//! few random directions `d` (`<grad, d>` against the difference quotient along
//! `d`) when they are large. An element passes when
//! `|analytic - numeric| <= atol + rtol * |numeric|`.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `eps` | 1e-6 | finite-difference step |
//! | `atol` | 1e-5 | absolute tolerance |
//! | `rtol` | 1e-3 | relative tolerance |
//! | `max_elementwise` | 512 | above this many input elements, check random directions |
//! | `directions` | 8 | random directions for large inputs |
//! | `seed` | 0 | seeds the cotangent and the directions |

use std::fmt;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::error::{Error, Result};
use crate::{BackwardOptions, Shape, Tensor, no_grad};

/// Tolerances and sizes of a gradient check; see the module docs for defaults.
///
/// # Examples
///
/// ```
/// use wengert_core::GradCheckOptions;
/// let opts = GradCheckOptions { rtol: 1e-4, ..Default::default() };
/// assert_eq!(opts.eps, 1e-6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheckOptions {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance, scaled by the numeric value.
    pub rtol: f64,
    /// Inputs with at most this many elements in total are checked element by
    /// element; larger ones along random directions.
    pub max_elementwise: usize,
    /// Number of random directions for large inputs.
    pub directions: usize,
    /// Seed of the random cotangent and directions.
    pub seed: u64,
}

impl Default for GradCheckOptions {
    fn default() -> Self {
        GradCheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            max_elementwise: 512,
            directions: 8,
            seed: 0,
        }
    }
}

/// Where and by how much a gradient check failed.
///
/// # Examples
///
/// ```
/// use wengert_core::{gradcheck, Error, Tensor};
/// let x = Tensor::from_vec(vec![1.0, 2.0], [2]).unwrap();
/// // A wrong "gradient": detach hides the dependence on x from the tape.
/// let err = gradcheck(|xs| &xs[0] * &xs[0].detach().exp(), &[x]).unwrap_err();
/// let Error::GradCheck(f) = err else { panic!() };
/// assert_eq!((f.input, f.index), (0, Some(0)));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheckFailure {
    /// Which input (position in the slice given to `gradcheck`).
    pub input: usize,
    /// The input's shape.
    pub shape: Shape,
    /// The flat (row-major) element index; `None` for a directional check.
    pub index: Option<usize>,
    /// The element's multi-index, empty for a directional check.
    pub position: Vec<usize>,
    /// The gradient from backward (or `<grad, d>` along a direction).
    pub analytic: f64,
    /// The central difference quotient.
    pub numeric: f64,
    /// The tolerances used.
    pub atol: f64,
    /// The tolerances used.
    pub rtol: f64,
}

impl fmt::Display for GradCheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(k) => write!(
                f,
                "gradcheck: input {} (shape {}), element {} at {:?}: analytic {:e} vs numeric {:e}",
                self.input, self.shape, k, self.position, self.analytic, self.numeric
            )?,
            None => write!(
                f,
                "gradcheck: input {} (shape {}), along a random direction: analytic {:e} vs numeric {:e}",
                self.input, self.shape, self.analytic, self.numeric
            )?,
        }
        write!(
            f,
            " (|diff| {:e} > atol {:e} + rtol {:e} * |numeric|)",
            (self.analytic - self.numeric).abs(),
            self.atol,
            self.rtol
        )
    }
}

/// Checks the gradients of `f` at `inputs` against central finite differences,
/// with the default [`GradCheckOptions`].
///
/// `f` must be deterministic and may use every input any number of times. The
/// inputs' own tracking is ignored: each is checked as a fresh leaf.
///
/// # Errors
///
/// [`Error::GradCheck`] naming the input, element, analytic and numeric values
/// of the first disagreement; any error `backward` returns.
///
/// # Examples
///
/// ```
/// use wengert_core::{gradcheck, Tensor};
/// let a = Tensor::from_vec(vec![0.5, -1.0, 2.0], [3]).unwrap();
/// let b = Tensor::from_vec(vec![1.5], [1]).unwrap();
/// gradcheck(|xs| (&xs[0] * &xs[1]).tanh(), &[a, b]).unwrap();
/// ```
pub fn gradcheck<F>(f: F, inputs: &[Tensor<f64>]) -> Result<()>
where
    F: Fn(&[Tensor<f64>]) -> Tensor<f64>,
{
    gradcheck_with(f, inputs, GradCheckOptions::default())
}

/// [`gradcheck`] with explicit options.
///
/// # Errors
///
/// As [`gradcheck`].
///
/// # Examples
///
/// ```
/// use wengert_core::{gradcheck_with, GradCheckOptions, Tensor};
/// let x = Tensor::<f64>::linspace(-1.0, 1.0, 2000).unwrap();
/// // 2000 elements: checked along 8 random directions.
/// gradcheck_with(|xs| xs[0].sin(), &[x], GradCheckOptions::default()).unwrap();
/// ```
pub fn gradcheck_with<F>(f: F, inputs: &[Tensor<f64>], opts: GradCheckOptions) -> Result<()>
where
    F: Fn(&[Tensor<f64>]) -> Tensor<f64>,
{
    let leaves: Vec<Tensor<f64>> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let y = f(&leaves);
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let v = Tensor::<f64>::rand_uniform(y.shape().clone(), -1.0, 1.0, &mut rng)?;
    let analytic = analytic_grads(&y, &v, &leaves)?;
    let loss = |xs: &[Tensor<f64>]| -> f64 { dot(f(xs).as_slice(), v.as_slice()) };
    let total: usize = inputs.iter().map(Tensor::numel).sum();
    no_grad(|| {
        if total <= opts.max_elementwise {
            check_elements(&loss, inputs, &analytic, &opts)
        } else {
            check_directions(&loss, inputs, &analytic, &opts, &mut rng)
        }
    })
}

/// Checks second derivatives of `f` at `inputs`: the gradient of
/// `G(x) = ∇ₓ <f(x), v>` (a backward pass with `create_graph`, `v` a random
/// cotangent) is compared with central finite differences of `G` itself, in
/// f64, with the same report as [`gradcheck`].
///
/// # Errors
///
/// [`Error::GradCheck`] on a disagreement; [`Error::Unsupported`] when an op
/// on the path has no differentiable backward; errors of `backward`.
///
/// # Examples
///
/// ```
/// use wengert_core::{gradgradcheck, Tensor};
/// let x = Tensor::from_vec(vec![0.5, -1.0, 2.0], [3]).unwrap();
/// gradgradcheck(|xs| (&xs[0] * &xs[0]).exp(), &[x]).unwrap();
/// ```
pub fn gradgradcheck<F>(f: F, inputs: &[Tensor<f64>]) -> Result<()>
where
    F: Fn(&[Tensor<f64>]) -> Tensor<f64>,
{
    gradgradcheck_with(f, inputs, GradCheckOptions::default())
}

/// [`gradgradcheck`] with explicit options.
///
/// # Errors
///
/// As [`gradgradcheck`].
///
/// # Examples
///
/// ```
/// use wengert_core::{gradgradcheck_with, GradCheckOptions, Tensor};
/// let x = Tensor::from_vec(vec![0.3, 0.7], [2]).unwrap();
/// let opts = GradCheckOptions { seed: 7, ..Default::default() };
/// gradgradcheck_with(|xs| xs[0].exp().sum(), &[x], opts).unwrap();
/// ```
pub fn gradgradcheck_with<F>(f: F, inputs: &[Tensor<f64>], opts: GradCheckOptions) -> Result<()>
where
    F: Fn(&[Tensor<f64>]) -> Tensor<f64>,
{
    let probe = no_grad(|| f(&inputs.iter().map(Tensor::detach).collect::<Vec<_>>()));
    let mut rng = StdRng::seed_from_u64(opts.seed ^ 0x9e37_79b9_7f4a_7c15);
    let v = Tensor::<f64>::rand_uniform(probe.shape().clone(), -1.0, 1.0, &mut rng)?;
    let failure = std::cell::RefCell::new(None);
    // G(x) = ∇ₓ <f(x), v>, flattened into one vector; differentiable in x when x is tracked.
    let first = |xs: &[Tensor<f64>]| -> Tensor<f64> {
        crate::modes::with_grad_mode(true, || {
            let leaves: Vec<Tensor<f64>> = xs
                .iter()
                .map(|x| {
                    if x.is_tracked() {
                        x.clone()
                    } else {
                        x.detach().requires_grad()
                    }
                })
                .collect();
            let y = f(&leaves);
            let refs: Vec<&Tensor<f64>> = leaves.iter().collect();
            let gs = if y.is_tracked() {
                match crate::grad(&[&y], &refs, Some(std::slice::from_ref(&v)), true) {
                    Ok(gs) => gs,
                    Err(e) => {
                        *failure.borrow_mut() = Some(e);
                        vec![None; leaves.len()]
                    }
                }
            } else {
                vec![None; leaves.len()]
            };
            let parts: Vec<Tensor<f64>> = gs
                .into_iter()
                .zip(&leaves)
                .map(|(g, x)| g.unwrap_or_else(|| x.zeros_like()).reshape([x.numel()]))
                .collect();
            parts
                .iter()
                .fold(Tensor::zeros([0]), |acc, p| concat_flat(&acc, p))
        })
    };
    let result = gradcheck_with(first, inputs, opts);
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    result
}

/// Joins two 1-D tensors, differentiably, with the ops of this crate only:
/// each is padded with zeros to the joint length and the two are added.
fn concat_flat(a: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    if a.numel() == 0 {
        return b.clone();
    }
    let (n, m) = (a.numel(), b.numel());
    &a.pad(&[(0, m)], 0.0) + &b.pad(&[(n, 0)], 0.0)
}

/// The gradient of `<y, v>` with respect to each leaf; zeros where `y` does
/// not depend on it.
fn analytic_grads(
    y: &Tensor<f64>,
    v: &Tensor<f64>,
    leaves: &[Tensor<f64>],
) -> Result<Vec<Vec<f64>>> {
    let grads = match y.backward_with(Some(v), BackwardOptions::default()) {
        Ok(g) => Some(g),
        Err(Error::NotRecorded) => None,
        Err(e) => return Err(e),
    };
    Ok(leaves
        .iter()
        .map(|l| match grads.as_ref().and_then(|g| g.get(l)) {
            Some(g) => g.to_vec(),
            None => vec![0.0; l.numel()],
        })
        .collect())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn close(analytic: f64, numeric: f64, opts: &GradCheckOptions) -> bool {
    if analytic.is_nan() || numeric.is_nan() {
        return analytic.is_nan() && numeric.is_nan();
    }
    if analytic.is_infinite() || numeric.is_infinite() {
        return analytic == numeric;
    }
    (analytic - numeric).abs() <= opts.atol + opts.rtol * numeric.abs()
}

fn check_elements(
    loss: &dyn Fn(&[Tensor<f64>]) -> f64,
    inputs: &[Tensor<f64>],
    analytic: &[Vec<f64>],
    opts: &GradCheckOptions,
) -> Result<()> {
    let mut xs: Vec<Tensor<f64>> = inputs.iter().map(Tensor::detach).collect();
    for (i, input) in inputs.iter().enumerate() {
        let base = input.to_vec();
        for k in 0..base.len() {
            let mut probe = base.clone();
            probe[k] = base[k] + opts.eps;
            xs[i] = Tensor::from_vec(probe.clone(), input.shape().clone())?;
            let plus = loss(&xs);
            probe[k] = base[k] - opts.eps;
            xs[i] = Tensor::from_vec(probe, input.shape().clone())?;
            let minus = loss(&xs);
            let numeric = (plus - minus) / (2.0 * opts.eps);
            if !close(analytic[i][k], numeric, opts) {
                return Err(failure(
                    i,
                    input.shape(),
                    Some(k),
                    analytic[i][k],
                    numeric,
                    opts,
                ));
            }
        }
        xs[i] = input.detach();
    }
    Ok(())
}

fn check_directions(
    loss: &dyn Fn(&[Tensor<f64>]) -> f64,
    inputs: &[Tensor<f64>],
    analytic: &[Vec<f64>],
    opts: &GradCheckOptions,
    rng: &mut StdRng,
) -> Result<()> {
    for _ in 0..opts.directions {
        let dirs: Vec<Tensor<f64>> = inputs
            .iter()
            .map(|x| Tensor::rand_uniform(x.shape().clone(), -1.0, 1.0, rng))
            .collect::<Result<_>>()?;
        let shifted = |sign: f64| -> Result<Vec<Tensor<f64>>> {
            inputs
                .iter()
                .zip(&dirs)
                .map(|(x, d)| {
                    let v = x
                        .as_slice()
                        .iter()
                        .zip(d.as_slice())
                        .map(|(a, b)| a + sign * opts.eps * b)
                        .collect();
                    Tensor::from_vec(v, x.shape().clone())
                })
                .collect()
        };
        let numeric = (loss(&shifted(1.0)?) - loss(&shifted(-1.0)?)) / (2.0 * opts.eps);
        let a: f64 = analytic
            .iter()
            .zip(&dirs)
            .map(|(g, d)| dot(g, d.as_slice()))
            .sum();
        if !close(a, numeric, opts) {
            let worst = inputs
                .iter()
                .enumerate()
                .max_by_key(|(_, x)| x.numel())
                .map_or(0, |(i, _)| i);
            return Err(failure(
                worst,
                inputs[worst].shape(),
                None,
                a,
                numeric,
                opts,
            ));
        }
    }
    Ok(())
}

fn failure(
    input: usize,
    shape: &Shape,
    index: Option<usize>,
    analytic: f64,
    numeric: f64,
    opts: &GradCheckOptions,
) -> Error {
    let position = index.map_or_else(Vec::new, |k| unravel(k, shape));
    Error::GradCheck(Box::new(GradCheckFailure {
        input,
        shape: shape.clone(),
        index,
        position,
        analytic,
        numeric,
        atol: opts.atol,
        rtol: opts.rtol,
    }))
}

/// The multi-index of flat index `k` in a row-major tensor of `shape`.
fn unravel(mut k: usize, shape: &Shape) -> Vec<usize> {
    let mut pos = vec![0; shape.rank()];
    for ax in (0..shape.rank()).rev() {
        let d = shape[ax].max(1);
        pos[ax] = k % d;
        k /= d;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_backward_is_reported_with_its_element() {
        use crate::tape::{Backward, Grads};
        // sin with the derivative of -cos' = sin instead of cos: wrong on purpose.
        struct BadSin(Tensor<f64>);
        impl Backward<f64> for BadSin {
            fn name(&self) -> &'static str {
                "bad_sin"
            }
            fn backward(&self, g: &Tensor<f64>, _: &[bool]) -> Result<Grads<f64>> {
                Ok(smallvec::smallvec![Some(g * &self.0.map(f64::sin))])
            }
        }
        let x = Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0], [2, 2]).unwrap();
        let err = gradcheck(
            |xs| {
                let v = xs[0].map(f64::sin);
                Tensor::from_op(v, &[&xs[0]], || BadSin(xs[0].clone()))
            },
            &[x],
        )
        .unwrap_err();
        let Error::GradCheck(f) = err else {
            panic!("{err}")
        };
        assert_eq!(f.index, Some(0));
        assert_eq!(f.position, vec![0, 0]);
        assert!(f.analytic.abs() < 1e-12 && f.numeric.abs() > 0.01, "{f}");
        assert!(
            f.to_string()
                .starts_with("gradcheck: input 0 (shape [2, 2]), element 0 at [0, 0]"),
            "{f}"
        );
    }

    #[test]
    fn directional_check_catches_a_wrong_gradient_on_large_inputs() {
        let x = Tensor::<f64>::linspace(0.1, 1.0, 1000).unwrap();
        let err = gradcheck(|xs| &xs[0] * &xs[0].detach(), &[x]).unwrap_err();
        let Error::GradCheck(f) = err else {
            panic!("{err}")
        };
        assert_eq!(f.index, None);
    }

    #[test]
    fn outputs_independent_of_an_input_give_zero_gradients() {
        let a = Tensor::from_vec(vec![1.0], [1]).unwrap();
        let b = Tensor::from_vec(vec![2.0], [1]).unwrap();
        gradcheck(|xs| xs[0].exp(), &[a.clone(), b.clone()]).unwrap();
        // A detached output does depend on its input: the check must say so.
        assert!(gradcheck(|xs| xs[0].detach(), &[a]).is_err());
    }
}
