//! Proptest strategies for gradient-checking tests: shapes (rank 0, size-1
//! dimensions, non-square), broadcastable pairs, value domains kept away from
//! kinks, and unique values for max-like ops.
//!
//! Enabled by the `proptest` feature.
//!
//! # Examples
//!
//! ```
//! use proptest::prelude::*;
//! use wengert_core::strategies::{tensor, any_shape, Domain};
//! use wengert_core::gradcheck;
//!
//! proptest!(ProptestConfig::with_cases(16), |(x in tensor(any_shape(), Domain::away_from(&[0.0], 0.1)))| {
//!     gradcheck(|xs| xs[0].abs(), &[x]).unwrap();
//! });
//! ```

use std::ops::Range;

use proptest::prelude::*;

use crate::{Shape, Tensor};

/// Shapes of rank 0 to `max_rank` with dimensions from `dims`.
///
/// # Examples
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// let mut runner = proptest::test_runner::TestRunner::default();
/// let s = wengert_core::strategies::shape(3, 1..4).new_tree(&mut runner).unwrap().current();
/// assert!(s.rank() <= 3);
/// ```
pub fn shape(max_rank: usize, dims: Range<usize>) -> impl Strategy<Value = Shape> + Clone {
    proptest::collection::vec(dims, 0..=max_rank).prop_map(Shape::from)
}

/// Shapes of rank 0 to 4 with dimensions 1 to 4: small enough for element-wise
/// gradient checks, with scalars and size-1 dimensions common.
///
/// # Examples
///
/// ```
/// let _ = wengert_core::strategies::any_shape();
/// ```
pub fn any_shape() -> impl Strategy<Value = Shape> + Clone {
    shape(4, 1..5)
}

/// Shapes of rank 1 to 4 with dimensions 1 to 4 (for ops that need an axis).
///
/// # Examples
///
/// ```
/// let _ = wengert_core::strategies::nonscalar_shape();
/// ```
pub fn nonscalar_shape() -> impl Strategy<Value = Shape> + Clone {
    proptest::collection::vec(1usize..5, 1..=4).prop_map(Shape::from)
}

/// Pairs of shapes that broadcast together: an output shape of rank 0 to 4,
/// each operand keeping a suffix of it with some dimensions set to 1.
///
/// # Examples
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// let mut runner = proptest::test_runner::TestRunner::default();
/// let (a, b) = wengert_core::strategies::broadcastable_pair().new_tree(&mut runner).unwrap().current();
/// assert!(a.broadcast("t", &b).is_ok());
/// ```
pub fn broadcastable_pair() -> impl Strategy<Value = (Shape, Shape)> + Clone {
    shape(4, 1..4).prop_flat_map(|out| {
        let r = out.rank();
        let side = move |out: Shape| {
            (0..=r, proptest::collection::vec(any::<bool>(), r)).prop_map(move |(drop, ones)| {
                let dims: Vec<usize> = (drop..r)
                    .map(|i| if ones[i] { 1 } else { out[i] })
                    .collect();
                Shape::from(dims)
            })
        };
        (side(out.clone()), side(out))
    })
}

/// Where random values come from: a range, with points to stay away from.
///
/// # Examples
///
/// ```
/// use wengert_core::strategies::Domain;
/// let d = Domain::away_from(&[0.0], 0.05);
/// assert_eq!(d.clamp_away(0.01), 0.05);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    /// The range of values.
    pub range: Range<f64>,
    /// Points (kinks, poles) that values keep `margin` away from.
    pub avoid: Vec<f64>,
    /// The distance kept from each point in `avoid`.
    pub margin: f64,
}

impl Domain {
    /// Values in `-3..3`, at least `margin` away from each of `points`.
    ///
    /// # Examples
    ///
    /// ```
    /// let d = wengert_core::strategies::Domain::away_from(&[1.0], 0.1);
    /// assert_eq!(d.range, -3.0..3.0);
    /// ```
    pub fn away_from(points: &[f64], margin: f64) -> Self {
        Domain {
            range: -3.0..3.0,
            avoid: points.to_vec(),
            margin,
        }
    }

    /// Strictly positive values in `0.1..3` (for log, sqrt, recip, pow bases).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_core::strategies::Domain::positive().range.start > 0.0);
    /// ```
    pub fn positive() -> Self {
        Domain::from(0.1..3.0)
    }

    /// Moves `v` out of the margin around any avoided point (to its edge, on
    /// the side `v` is on).
    ///
    /// # Examples
    ///
    /// ```
    /// let d = wengert_core::strategies::Domain::away_from(&[0.0], 0.1);
    /// assert_eq!(d.clamp_away(-0.05), -0.1);
    /// ```
    pub fn clamp_away(&self, mut v: f64) -> f64 {
        for &p in &self.avoid {
            if (v - p).abs() < self.margin {
                v = if v >= p {
                    p + self.margin
                } else {
                    p - self.margin
                };
            }
        }
        v
    }
}

impl From<Range<f64>> for Domain {
    fn from(range: Range<f64>) -> Self {
        Domain {
            range,
            avoid: Vec::new(),
            margin: 0.0,
        }
    }
}

/// `f64` tensors of shapes from `shape` with values from `domain`.
///
/// # Examples
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// use wengert_core::strategies::{any_shape, tensor};
/// let mut runner = proptest::test_runner::TestRunner::default();
/// let t = tensor(any_shape(), -1.0..1.0).new_tree(&mut runner).unwrap().current();
/// assert!(t.as_slice().iter().all(|v| (-1.0..1.0).contains(v)));
/// ```
pub fn tensor(
    shape: impl Strategy<Value = Shape> + Clone,
    domain: impl Into<Domain>,
) -> impl Strategy<Value = Tensor<f64>> + Clone {
    let domain = domain.into();
    shape.prop_flat_map(move |s| tensor_of(s, domain.clone()))
}

/// `f64` tensors of exactly `shape` with values from `domain`.
///
/// # Examples
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// let mut runner = proptest::test_runner::TestRunner::default();
/// let t = wengert_core::strategies::tensor_of([2, 3].into(), 0.0..1.0).new_tree(&mut runner).unwrap().current();
/// assert_eq!(t.dims(), &[2, 3]);
/// ```
pub fn tensor_of(
    shape: Shape,
    domain: impl Into<Domain>,
) -> impl Strategy<Value = Tensor<f64>> + Clone {
    let domain = domain.into();
    let n = shape.numel();
    let range = domain.range.clone();
    proptest::collection::vec(range, n).prop_map(move |v| {
        let v = v.into_iter().map(|x| domain.clamp_away(x)).collect();
        Tensor::from_vec(v, shape.clone()).expect("BUG: strategy length matches shape")
    })
}

/// `f64` tensors of shapes from `shape` whose values are all distinct, at least
/// 0.05 apart, in random order: ties never decide max, min or pooling.
///
/// # Examples
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// let mut runner = proptest::test_runner::TestRunner::default();
/// let t = wengert_core::strategies::unique_values(wengert_core::strategies::any_shape())
///     .new_tree(&mut runner).unwrap().current();
/// let mut v = t.to_vec();
/// v.sort_by(f64::total_cmp);
/// assert!(v.windows(2).all(|w| w[1] - w[0] >= 0.05 - 1e-12));
/// ```
pub fn unique_values(
    shape: impl Strategy<Value = Shape> + Clone,
) -> impl Strategy<Value = Tensor<f64>> + Clone {
    shape
        .prop_flat_map(|s| {
            let n = s.numel();
            (
                Just(s),
                Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
                -1.0f64..1.0,
            )
        })
        .prop_map(|(s, perm, offset)| {
            let v = perm.iter().map(|&p| offset + 0.1 * p as f64).collect();
            Tensor::from_vec(v, s).expect("BUG: strategy length matches shape")
        })
}
