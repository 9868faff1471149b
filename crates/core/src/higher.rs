//! Gradients as functions: [`grad`] with respect to any tracked values, and
//! with `create_graph` the derivatives of derivatives: [`hvp`], [`jacobian`],
//! [`hessian`].
//!
//! A backward pass with `create_graph` runs every op's backward rule with
//! recording on. Because the rules are written with tensor ops, the gradients
//! it returns are recorded values on the same tape, and a second backward over
//! them gives second derivatives (and so on). An op whose backward is not
//! differentiable makes that second backward fail with
//! [`Error::Unsupported`], never a silent zero.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::modes::with_grad_mode;
use crate::replay::replay;
use crate::tape::{Node, Tape};
use crate::{BackwardOptions, Float, Tensor};

/// Returns the gradients of `Σ_i <outputs[i], seeds[i]>` with respect to each
/// of `inputs` (leaves or recorded values), `None` where an input is not
/// reached. Seeds default to ones for one-element outputs.
///
/// With `create_graph`, the backward pass is recorded: the gradients are
/// tracked and can be differentiated again. The tape is kept either way, so
/// `grad` can be called repeatedly on the same outputs.
///
/// # Errors
///
/// [`Error::NonScalarBackward`] for a multi-element output without a seed,
/// [`Error::SeedShapeMismatch`], [`Error::NotRecorded`] when no output was
/// recorded, [`Error::MixedTapes`] when outputs come from different tapes,
/// [`Error::TapeConsumed`], [`Error::Unsupported`].
///
/// # Examples
///
/// ```
/// use wengert_core::{grad, Tensor};
/// // y = x³ at x = 2: dy/dx = 3x² = 12, d²y/dx² = 6x = 12.
/// let x = Tensor::from_vec(vec![2.0f64], [1]).unwrap().requires_grad();
/// let y = (&(&x * &x) * &x).sum();
/// let dy = grad(&[&y], &[&x], None, true).unwrap()[0].clone().unwrap();
/// assert_eq!(dy.to_vec(), vec![12.0]);
/// let d2y = grad(&[&dy.sum()], &[&x], None, false).unwrap()[0].clone().unwrap();
/// assert_eq!(d2y.to_vec(), vec![12.0]);
/// ```
pub fn grad<T: Float>(
    outputs: &[&Tensor<T>],
    inputs: &[&Tensor<T>],
    seeds: Option<&[Tensor<T>]>,
    create_graph: bool,
) -> Result<Vec<Option<Tensor<T>>>> {
    let mut tape: Option<Arc<Tape<T>>> = None;
    let mut starts = Vec::new();
    let mut leaf_seeds: Vec<(crate::LeafId, Tensor<T>)> = Vec::new();
    for (k, y) in outputs.iter().enumerate() {
        let seed = match seeds.and_then(|s| s.get(k)) {
            Some(s) if s.shape() != y.shape() => {
                return Err(Error::SeedShapeMismatch {
                    seed: s.shape().clone(),
                    output: y.shape().clone(),
                });
            }
            Some(s) => s.clone(),
            None if y.numel() == 1 => y.ones_like(),
            None => {
                return Err(Error::NonScalarBackward {
                    shape: y.shape().clone(),
                });
            }
        };
        let seed = if create_graph { seed } else { seed.detach() };
        match &y.node {
            Node::Constant => {}
            Node::Leaf(id) => leaf_seeds.push((*id, seed)),
            Node::Recorded(r, i) => {
                let t = r.upgrade().ok_or(Error::TapeConsumed)?;
                if tape.as_ref().is_some_and(|known| !Arc::ptr_eq(known, &t)) {
                    return Err(Error::MixedTapes { op: "grad" });
                }
                tape = Some(t);
                starts.push((*i, seed));
            }
        }
    }
    let mut results: Vec<Option<Tensor<T>>> = vec![None; inputs.len()];
    if let Some(tape) = tape {
        let wanted: Vec<usize> = inputs
            .iter()
            .filter_map(|x| match &x.node {
                Node::Recorded(r, i) if r.upgrade().is_some_and(|t| Arc::ptr_eq(&t, &tape)) => {
                    Some(*i)
                }
                _ => None,
            })
            .collect();
        let opts = BackwardOptions {
            retain_graph: true,
            create_graph,
        };
        let r = replay(&tape, starts, &wanted, opts)?;
        for (slot, x) in results.iter_mut().zip(inputs) {
            *slot = match &x.node {
                Node::Leaf(id) => r.by_leaf.get(id).cloned(),
                Node::Recorded(_, i) if wanted.contains(i) => r.by_entry.get(i).cloned(),
                _ => None,
            };
        }
    } else if leaf_seeds.is_empty() {
        return Err(Error::NotRecorded);
    }
    // An output that is itself one of the inputs contributes its seed directly.
    for (id, seed) in leaf_seeds {
        for (slot, x) in results.iter_mut().zip(inputs) {
            if x.leaf_id() == Some(id) {
                *slot = Some(match slot.take() {
                    Some(g) => &g + &seed,
                    None => seed.clone(),
                });
            }
        }
    }
    Ok(results)
}

/// Returns `f(x)` and the Hessian-vector product `H v`, where `H` is the
/// Hessian of the scalar `f` at `x`: two backward passes, no Hessian formed.
///
/// # Errors
///
/// [`Error::NotScalar`] when `f(x)` has more than one element,
/// [`Error::ShapeMismatch`] when `v` differs in shape from `x`, and those of
/// [`grad`].
///
/// # Examples
///
/// ```
/// use wengert_core::{hvp, Tensor};
/// // f(x) = x0² x1: H = [[2 x1, 2 x0], [2 x0, 0]]; at x = (1, 3), H·(1, 0) = (6, 2).
/// let x = Tensor::from_vec(vec![1.0f64, 3.0], [2]).unwrap();
/// let v = Tensor::from_vec(vec![1.0, 0.0], [2]).unwrap();
/// let f = |x: &Tensor<f64>| {
///     let x0 = x.narrow(0, 0, 1);
///     (&(&x0 * &x0) * &x.narrow(0, 1, 1)).sum()
/// };
/// let (fx, hv) = hvp(f, &x, &v).unwrap();
/// assert_eq!(fx.item(), 3.0);
/// assert_eq!(hv.to_vec(), vec![6.0, 2.0]);
/// ```
pub fn hvp<T: Float>(
    f: impl Fn(&Tensor<T>) -> Tensor<T>,
    x: &Tensor<T>,
    v: &Tensor<T>,
) -> Result<(Tensor<T>, Tensor<T>)> {
    if v.shape() != x.shape() {
        return Err(Error::ShapeMismatch {
            op: "hvp",
            expected: x.shape().clone(),
            actual: v.shape().clone(),
        });
    }
    with_grad_mode(true, || {
        let x = x.detach().requires_grad();
        let y = f(&x);
        if y.numel() != 1 {
            return Err(Error::NotScalar {
                op: "hvp",
                shape: y.shape().clone(),
            });
        }
        let g = grad(&[&y], &[&x], None, true)?.remove(0);
        let Some(g) = g else {
            return Ok((y.detach(), x.zeros_like()));
        };
        let hv = grad(&[&g], &[&x], Some(std::slice::from_ref(v)), false)?.remove(0);
        Ok((
            y.detach(),
            hv.map_or_else(|| x.zeros_like(), |t| t.detach()),
        ))
    })
}

/// Returns the Jacobian of `f` at `x`, of shape `f(x).shape ++ x.shape`: one
/// backward pass per output element, so meant for small functions.
///
/// # Errors
///
/// Those of [`grad`]; [`Error::ShapeOverflow`] for an impossibly large result.
///
/// # Examples
///
/// ```
/// use wengert_core::{jacobian, Tensor};
/// // f(x) = 3x: J = 3 I.
/// let x = Tensor::<f64>::ones([2]);
/// let j = jacobian(|x| x * 3.0, &x).unwrap();
/// assert_eq!(j.to_vec(), vec![3.0, 0.0, 0.0, 3.0]);
/// ```
pub fn jacobian<T: Float>(f: impl Fn(&Tensor<T>) -> Tensor<T>, x: &Tensor<T>) -> Result<Tensor<T>> {
    with_grad_mode(true, || {
        let x = x.detach().requires_grad();
        let y = f(&x);
        rows_of(&y, &x, false)
    })
}

/// Returns the Hessian of the scalar `f` at `x`, of shape `x.shape ++ x.shape`.
///
/// # Errors
///
/// [`Error::NotScalar`] when `f(x)` has more than one element; those of
/// [`grad`].
///
/// # Examples
///
/// ```
/// use wengert_core::{hessian, Tensor};
/// // f(x) = xᵀ A x has Hessian A + Aᵀ.
/// let a = Tensor::from_vec(vec![1.0f64, 2.0, 0.0, 3.0], [2, 2]).unwrap();
/// let x = Tensor::from_vec(vec![0.5, -1.0], [2]).unwrap();
/// let h = hessian(|x| x.matmul(&a).matmul(x), &x).unwrap();
/// assert_eq!(h.to_vec(), vec![2.0, 2.0, 2.0, 6.0]);
/// ```
pub fn hessian<T: Float>(f: impl Fn(&Tensor<T>) -> Tensor<T>, x: &Tensor<T>) -> Result<Tensor<T>> {
    with_grad_mode(true, || {
        let x = x.detach().requires_grad();
        let y = f(&x);
        if y.numel() != 1 {
            return Err(Error::NotScalar {
                op: "hessian",
                shape: y.shape().clone(),
            });
        }
        let g = grad(&[&y], &[&x], None, true)?
            .remove(0)
            .unwrap_or_else(|| x.zeros_like());
        rows_of(&g, &x, false)
    })
}

/// Stacks the gradients of each element of `y` with respect to `x`.
fn rows_of<T: Float>(y: &Tensor<T>, x: &Tensor<T>, create_graph: bool) -> Result<Tensor<T>> {
    let mut dims = y.dims().to_vec();
    dims.extend_from_slice(x.dims());
    let shape = crate::Shape::from(dims);
    let total = shape.checked_numel("jacobian")?;
    let mut data = Vec::with_capacity(total);
    for k in 0..y.numel() {
        let mut e = vec![T::ZERO; y.numel()];
        e[k] = T::ONE;
        let seed = Tensor::from_vec(e, y.shape().clone())?;
        let row = if y.is_tracked() {
            grad(&[y], &[x], Some(&[seed]), create_graph)?.remove(0)
        } else {
            None
        };
        match row {
            Some(r) => data.extend_from_slice(r.as_slice()),
            None => data.extend(std::iter::repeat_n(T::ZERO, x.numel())),
        }
    }
    Tensor::from_vec(data, shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_derivative_of_a_cube_is_6x() {
        let x = Tensor::from_vec(vec![-1.5f64, 0.0, 2.0], [3]).unwrap();
        let h = hessian(|x| (&(x * x) * x).sum(), &x).unwrap();
        assert_eq!(
            h.to_vec(),
            vec![-9.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 12.0]
        );
    }

    #[test]
    fn grad_with_respect_to_an_intermediate_value() {
        // y = h², h = 3x: dy/dh = 2h = 6x.
        let x = Tensor::from_vec(vec![1.0f64, 2.0], [2])
            .unwrap()
            .requires_grad();
        let h = &x * 3.0;
        let y = (&h * &h).sum();
        let g = grad(&[&y], &[&h, &x], None, false).unwrap();
        assert_eq!(g[0].as_ref().unwrap().to_vec(), vec![6.0, 12.0]);
        assert_eq!(g[1].as_ref().unwrap().to_vec(), vec![18.0, 36.0]);
    }

    #[test]
    fn a_non_differentiable_backward_fails_at_the_second_backward() {
        use crate::tape::{Backward, Grads};
        struct LoopSquare(Tensor<f64>);
        impl Backward<f64> for LoopSquare {
            fn name(&self) -> &'static str {
                "loop_square"
            }
            fn backward(&self, g: &Tensor<f64>, _: &[bool]) -> Result<Grads<f64>> {
                let v = g
                    .as_slice()
                    .iter()
                    .zip(self.0.as_slice())
                    .map(|(g, x)| 2.0 * g * x)
                    .collect();
                Ok(smallvec::smallvec![Some(Tensor::from_vec(
                    v,
                    g.shape().clone()
                )?)])
            }
            fn differentiable(&self) -> bool {
                false
            }
        }
        let x = Tensor::from_vec(vec![3.0f64], [1]).unwrap().requires_grad();
        let y = Tensor::from_op(x.map(|v| v * v), &[&x], || LoopSquare(x.clone())).sum();
        let g = grad(&[&y], &[&x], None, true).unwrap()[0].clone().unwrap();
        assert_eq!(g.to_vec(), vec![6.0]);
        let e = grad(&[&g.sum()], &[&x], None, false).unwrap_err();
        assert_eq!(e, Error::Unsupported { op: "loop_square" });
    }
}
