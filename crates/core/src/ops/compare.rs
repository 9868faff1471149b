//! Comparisons `eq`, `ne`, `lt`, `le`, `gt`, `ge`, and the selection `where_`.
//!
//! - `m = cmp(a, b)` with NumPy broadcasting: `1` where the comparison holds,
//!   `0` elsewhere. Masks are never tracked: a comparison is piecewise constant,
//!   so it carries no gradient. IEEE semantics for NaN: every comparison with a
//!   NaN is false, except `ne`, which is true.
//! - `y = where_(cond, t, f)`: `t` where `cond` is nonzero, `f` elsewhere, all
//!   three broadcast together. With `mask = (cond != 0)` broadcast to the output:
//!   `grad_t = sum_to(grad_out * mask, t)`,
//!   `grad_f = sum_to(grad_out * (1 - mask), f)`; `cond` gets no gradient. A NaN
//!   in `cond` counts as nonzero (true), as PyTorch's conversion to bool does.
//!
//! # The NaN gotcha of `where_`
//!
//! As in PyTorch, the branch that is not selected still receives a gradient: a
//! zero one. Multiplying that zero by an infinite local derivative gives NaN, so
//! `where_(x > 0, sqrt(x), 0)` at `x = 0` has gradient `0 * inf = NaN` through
//! `sqrt`, although `sqrt(0)` was never selected. Make the unselected branch
//! harmless instead: `sqrt(where_(x > 0, x, 1))`.
//!
//! `where_` is linear in `(t, f)` for a fixed `cond`: no kinks.

use smallvec::smallvec;

use crate::error::Result;
use crate::kernels::elementwise::broadcast_copy;
use crate::ops::arith::broadcast_value;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// Returns the untracked 0/1 mask of `f(a, b)` over `a` and `b` broadcast.
fn compare<T: Float>(
    op: &'static str,
    a: &Tensor<T>,
    b: &Tensor<T>,
    f: impl Fn(T, T) -> bool,
) -> Result<Tensor<T>> {
    broadcast_value(op, a, b, |x, y| if f(x, y) { T::ONE } else { T::ZERO })
}

/// Defines `try_<name>` and its panicking twin `<name>` for one comparison.
macro_rules! comparison {
    ($try_name:ident, $name:ident, $op:literal, $sym:literal, $f:expr, $want:literal) => {
        #[doc = concat!("Returns the mask of `self ", $sym, " rhs` element-wise with broadcasting: ")]
        #[doc = "`1` where it holds, `0` elsewhere (false for a NaN operand, except in `ne`)."]
        #[doc = ""]
        #[doc = "The mask is never tracked: it carries no gradient."]
        #[doc = ""]
        #[doc = "# Errors"]
        #[doc = ""]
        #[doc = "[`Error::BroadcastMismatch`](crate::Error::BroadcastMismatch) when the"]
        #[doc = "shapes do not broadcast together."]
        #[doc = ""]
        #[doc = "# Examples"]
        #[doc = ""]
        #[doc = "```"]
        #[doc = "use wengert_core::Tensor;"]
        #[doc = "let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]).unwrap();"]
        #[doc = concat!("let m = a.", stringify!($try_name), "(&Tensor::scalar(2.0)).unwrap();")]
        #[doc = concat!("assert_eq!(m.to_vec(), vec!", $want, ");")]
        #[doc = "assert!(!m.is_tracked());"]
        #[doc = "```"]
        pub fn $try_name(&self, rhs: &Tensor<T>) -> Result<Tensor<T>> {
            compare($op, self, rhs, $f)
        }

        #[doc = concat!("Panicking twin of [`Tensor::", stringify!($try_name), "`].")]
        #[doc = ""]
        #[doc = "# Panics"]
        #[doc = ""]
        #[doc = "When the shapes do not broadcast together."]
        #[doc = ""]
        #[doc = "# Examples"]
        #[doc = ""]
        #[doc = "```"]
        #[doc = "use wengert_core::Tensor;"]
        #[doc = "let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3]).unwrap();"]
        #[doc = concat!("assert_eq!(a.", stringify!($name), "(&Tensor::scalar(2.0)).to_vec(), vec!", $want, ");")]
        #[doc = "```"]
        #[track_caller]
        pub fn $name(&self, rhs: &Tensor<T>) -> Tensor<T> {
            match self.$try_name(rhs) {
                Ok(t) => t,
                Err(e) => panic!("{e}"),
            }
        }
    };
}

impl<T: Float> Tensor<T> {
    comparison!(try_eq, eq, "eq", "==", |a, b| a == b, "[0.0, 1.0, 0.0]");
    comparison!(try_ne, ne, "ne", "!=", |a, b| a != b, "[1.0, 0.0, 1.0]");
    comparison!(try_lt, lt, "lt", "<", |a, b| a < b, "[1.0, 0.0, 0.0]");
    comparison!(try_le, le, "le", "<=", |a, b| a <= b, "[1.0, 1.0, 0.0]");
    comparison!(try_gt, gt, "gt", ">", |a, b| a > b, "[0.0, 0.0, 1.0]");
    comparison!(try_ge, ge, "ge", ">=", |a, b| a >= b, "[0.0, 1.0, 1.0]");

    /// Returns `on_true` where `cond` is nonzero and `on_false` elsewhere, all
    /// three broadcast together (NumPy rule). `cond` carries no gradient; a NaN
    /// in it counts as true.
    ///
    /// Beware: the unselected branch still receives a zero gradient, so an
    /// infinite derivative there turns into NaN (see the module docs).
    ///
    /// # Errors
    ///
    /// [`Error::BroadcastMismatch`](crate::Error::BroadcastMismatch) naming the
    /// first pair of operands, in the order (cond, on_true), (cond, on_false),
    /// (on_true, on_false), whose shapes do not broadcast together;
    /// [`Error::ShapeOverflow`](crate::Error::ShapeOverflow).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![-1.0f64, 2.0, -3.0], [3]).unwrap();
    /// let cond = x.gt(&Tensor::scalar(0.0));
    /// let y = Tensor::try_where_(&cond, &x, &Tensor::scalar(0.0)).unwrap();
    /// assert_eq!(y.to_vec(), vec![0.0, 2.0, 0.0]);
    /// ```
    pub fn try_where_(
        cond: &Tensor<T>,
        on_true: &Tensor<T>,
        on_false: &Tensor<T>,
    ) -> Result<Tensor<T>> {
        const OP: &str = "where";
        for (a, b) in [(cond, on_true), (cond, on_false), (on_true, on_false)] {
            a.shape().broadcast(OP, b.shape())?;
        }
        let out = cond
            .shape()
            .broadcast(OP, on_true.shape())?
            .broadcast(OP, on_false.shape())?;
        out.checked_numel(OP)?;
        let c = broadcast_copy(cond.as_slice(), cond.shape(), &out);
        let t = broadcast_copy(on_true.as_slice(), on_true.shape(), &out);
        let f = broadcast_copy(on_false.as_slice(), on_false.shape(), &out);
        // `c != 0` is true for NaN: NaN counts as true.
        let y = c
            .iter()
            .zip(t.iter().zip(&f))
            .map(|(&c, (&t, &f))| if c != T::ZERO { t } else { f });
        let y = Tensor::from_parts(y.collect(), out.clone());
        let mask: Vec<T> = c
            .iter()
            .map(|&c| if c != T::ZERO { T::ONE } else { T::ZERO })
            .collect();
        let mask = Tensor::from_parts(mask, out);
        Ok(Tensor::from_op(y, &[on_true, on_false], || WhereBackward {
            mask,
            on_true: on_true.shape().clone(),
            on_false: on_false.shape().clone(),
        }))
    }

    /// Panicking twin of [`Tensor::try_where_`].
    ///
    /// # Panics
    ///
    /// When the three shapes do not broadcast together.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let cond = Tensor::from_vec(vec![1.0f32, 0.0], [2, 1]).unwrap();
    /// let y = Tensor::where_(&cond, &Tensor::ones([3]), &Tensor::zeros([3]));
    /// assert_eq!(y.to_vec(), vec![1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn where_(cond: &Tensor<T>, on_true: &Tensor<T>, on_false: &Tensor<T>) -> Tensor<T> {
        match Tensor::try_where_(cond, on_true, on_false) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_where_`]: saves the 0/1 selection mask (output
/// shape, constant) and the shapes of the two branches.
struct WhereBackward<T: Float> {
    mask: Tensor<T>,
    on_true: Shape,
    on_false: Shape,
}

impl<T: Float> Backward<T> for WhereBackward<T> {
    fn name(&self) -> &'static str {
        "where"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        let grad_on_true = needs[0].then(|| (grad_out * &self.mask).sum_to(&self.on_true));
        let grad_on_false = needs[1].then(|| {
            let inverse = self.mask.map(|m| T::ONE - m);
            (grad_out * &inverse).sum_to(&self.on_false)
        });
        Ok(smallvec![grad_on_true, grad_on_false])
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Error, Shape, Tensor};

    #[test]
    fn comparisons_golden_values() {
        // Hand-derived, IEEE: every comparison with NaN is false except `ne`.
        let a = Tensor::from_vec(vec![1.0f64, 2.0, f64::NAN, -0.0], [4]).unwrap();
        let b = Tensor::from_vec(vec![2.0f64, 2.0, 1.0, 0.0], [4]).unwrap();
        assert_eq!(a.eq(&b).to_vec(), vec![0.0, 1.0, 0.0, 1.0]);
        assert_eq!(a.ne(&b).to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
        assert_eq!(a.lt(&b).to_vec(), vec![1.0, 0.0, 0.0, 0.0]);
        assert_eq!(a.le(&b).to_vec(), vec![1.0, 1.0, 0.0, 1.0]);
        assert_eq!(a.gt(&b).to_vec(), vec![0.0, 0.0, 0.0, 0.0]);
        assert_eq!(a.ge(&b).to_vec(), vec![0.0, 1.0, 0.0, 1.0]);
    }

    #[test]
    fn comparisons_broadcast_and_are_never_tracked() {
        let a = Tensor::from_vec(vec![1.0f32, 3.0], [2, 1])
            .unwrap()
            .requires_grad();
        let b = Tensor::from_vec(vec![0.0f32, 2.0, 4.0], [3])
            .unwrap()
            .requires_grad();
        let m = a.gt(&b);
        assert_eq!(m.dims(), &[2, 3]);
        assert_eq!(m.to_vec(), vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
        assert!(!m.is_tracked());
        assert!(!a.try_eq(&Tensor::scalar(1.0)).unwrap().is_tracked());
    }

    #[test]
    fn comparisons_of_rank_zero_and_empty_tensors() {
        let s = Tensor::scalar(1.0f64);
        assert_eq!(s.le(&s).dims(), &[] as &[usize]);
        assert_eq!(s.le(&s).item(), 1.0);
        let e = Tensor::<f64>::zeros([0, 3]);
        assert_eq!(e.lt(&Tensor::ones([3])).dims(), &[0, 3]);
    }

    #[test]
    fn comparison_broadcast_mismatch_names_the_op_and_shapes() {
        let e = Tensor::<f32>::zeros([2, 3])
            .try_ge(&Tensor::zeros([2]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "ge: shapes cannot be broadcast together (lhs [2, 3], rhs [2])"
        );
    }

    #[test]
    fn where_golden_value_and_gradient() {
        // Hand-derived: y = [t0, f, t2] with f broadcast; grad_t = g * mask, grad_f = Σ g * (1 - mask).
        let cond = Tensor::from_vec(vec![1.0f64, 0.0, f64::NAN], [3]).unwrap();
        let t = Tensor::from_vec(vec![10.0f64, 20.0, 30.0], [3])
            .unwrap()
            .requires_grad();
        let f = Tensor::scalar(-1.0f64).requires_grad();
        let y = Tensor::where_(&cond, &t, &f);
        assert_eq!(y.to_vec(), vec![10.0, -1.0, 30.0]);
        let g = Tensor::from_vec(vec![2.0f64, 3.0, 5.0], [3]).unwrap();
        let grads = y.backward_with(Some(&g), Default::default()).unwrap();
        assert_eq!(grads.get(&t).unwrap().to_vec(), vec![2.0, 0.0, 5.0]);
        assert_eq!(grads.get(&f).unwrap().item(), 3.0);
        assert_eq!(grads.get(&f).unwrap().dims(), &[] as &[usize]);
    }

    #[test]
    fn where_gives_nan_through_an_unselected_infinite_derivative() {
        // The documented gotcha: where(x > 0, sqrt-like(x), 0) at x = 0. The
        // unselected branch 1/x has derivative -1/x² = -inf at 0; 0 * -inf = NaN.
        let x = Tensor::from_vec(vec![0.0f64], [1]).unwrap().requires_grad();
        let y = Tensor::where_(
            &x.gt(&Tensor::scalar(0.0)),
            &x.rdiv_scalar(1.0),
            &Tensor::scalar(0.0),
        );
        assert_eq!(y.item(), 0.0);
        assert!(y.sum().backward().unwrap().get(&x).unwrap().item().is_nan());
    }

    #[test]
    fn where_of_empty_and_rank_zero_tensors() {
        let c = Tensor::scalar(1.0f32);
        let y = Tensor::where_(&c, &Tensor::scalar(2.0), &Tensor::scalar(3.0));
        assert_eq!((y.rank(), y.item()), (0, 2.0));
        let y = Tensor::<f32>::where_(
            &Tensor::zeros([0, 1]),
            &Tensor::ones([2]),
            &Tensor::zeros([1]),
        );
        assert_eq!(y.dims(), &[0, 2]);
    }

    #[test]
    fn where_broadcast_mismatch_names_the_failing_pair() {
        let e = Tensor::<f32>::try_where_(
            &Tensor::zeros([3]),
            &Tensor::zeros([2, 1]),
            &Tensor::zeros([4]),
        )
        .unwrap_err();
        assert!(matches!(e, Error::BroadcastMismatch { op: "where", .. }));
        assert_eq!(
            e.to_string(),
            "where: shapes cannot be broadcast together (lhs [3], rhs [4])"
        );
        let e = Tensor::<f32>::try_where_(
            &Tensor::zeros([1]),
            &Tensor::zeros([2]),
            &Tensor::zeros([3]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "where: shapes cannot be broadcast together (lhs [2], rhs [3])"
        );
    }

    #[test]
    fn where_and_its_backward_are_adjoint() {
        // For a fixed cond, A(t, f) = where(cond, t, f) is linear; its adjoint is the
        // backward. <A(t, f), g> = <t, grad_t> + <f, grad_f> for random t, f, g.
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for (sc, st, sf) in [
            (vec![2, 3], vec![3], vec![2, 1]),
            (vec![4], vec![2, 4], vec![]),
            (vec![], vec![3], vec![3]),
        ] {
            let (sc, st, sf) = (Shape::from(sc), Shape::from(st), Shape::from(sf));
            let cond = Tensor::<f64>::rand_uniform(sc, -1.0, 1.0, &mut rng)
                .unwrap()
                .gt(&Tensor::scalar(0.0));
            let t = Tensor::<f64>::randn(st, 0.0, 1.0, &mut rng).unwrap();
            let f = Tensor::<f64>::randn(sf, 0.0, 1.0, &mut rng).unwrap();
            let (tl, fl) = (t.clone().requires_grad(), f.clone().requires_grad());
            let y = Tensor::where_(&cond, &tl, &fl);
            let g = Tensor::<f64>::randn(y.shape().clone(), 0.0, 1.0, &mut rng).unwrap();
            let lhs = (&y.detach() * &g).sum().item();
            let grads = y.backward_with(Some(&g), Default::default()).unwrap();
            let rhs = (&t * grads.get(&tl).unwrap()).sum().item()
                + (&f * grads.get(&fl).unwrap()).sum().item();
            assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
        }
    }

    proptest! {
        #[test]
        fn where_grad_matches_finite_differences((sa, sb) in broadcastable_pair(), seed in 0u64..1000) {
            // cond enters as an input kept 0.5 away from 0 so that finite
            // differences never flip the selection; its gradient must be zero.
            use rand::SeedableRng;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let d = Domain::away_from(&[0.0], 0.5);
            let mut draw = |s: &Shape| {
                let t = Tensor::<f64>::rand_uniform(s.clone(), -2.0, 2.0, &mut rng).unwrap();
                t.map(|v| d.clamp_away(v))
            };
            let (t, f, c1, c2) = (draw(&sa), draw(&sb), draw(&sb), draw(&sa));
            check_grads!([t, f, c1], |x, y, c| Tensor::where_(&c.gt(&Tensor::scalar(0.0)), x, y))?;
            check_grads!([t, f, c2], |x, y, c| Tensor::where_(&c.lt(&Tensor::scalar(0.0)), &(x * y), y))?;
        }
    }
}
