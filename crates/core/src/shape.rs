//! [`Shape`]: the dimensions of a tensor, with checked element counts and the
//! NumPy broadcasting rule.
//!
//! Shapes of rank 0 (scalars) and zero-size dimensions are allowed. Shapes up to
//! rank 4 are stored inline, without a heap allocation.

use std::fmt;

use smallvec::SmallVec;

use crate::error::{Error, Result};

/// The dimensions of a tensor, outermost first (row-major).
///
/// # Examples
///
/// ```
/// use wengert_core::Shape;
/// let s = Shape::from([2, 3, 4]);
/// assert_eq!(s.rank(), 3);
/// assert_eq!(s.numel(), 24);
/// assert_eq!(s.to_string(), "[2, 3, 4]");
/// assert_eq!(Shape::scalar().numel(), 1);
/// ```
#[derive(Eq, Default)]
pub struct Shape(SmallVec<[usize; 4]>);

// The replay compares each gradient's shape with its value's; the derived
// comparison calls `memcmp`, where ranks up to 4 compare inline.
impl PartialEq for Shape {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (self.dims(), other.dims()) {
            ([], []) => true,
            ([a], [b]) => a == b,
            ([a, b], [c, d]) => (a, b) == (c, d),
            ([a, b, c], [d, e, f]) => (a, b, c) == (d, e, f),
            ([a, b, c, d], [e, f, g, h]) => (a, b, c, d) == (e, f, g, h),
            (x, y) => x == y,
        }
    }
}

impl std::hash::Hash for Shape {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.dims().hash(state);
    }
}

// SmallVec's own `clone` goes through the generic `extend` (about 100
// instructions); every op clones a shape or two, so copy the dimensions into
// the inline buffer directly.
impl Clone for Shape {
    #[inline]
    fn clone(&self) -> Self {
        // One fixed-size copy per rank: no per-element bounds checks.
        let (buf, n) = match *self.dims() {
            [] => ([0; 4], 0),
            [a] => ([a, 0, 0, 0], 1),
            [a, b] => ([a, b, 0, 0], 2),
            [a, b, c] => ([a, b, c, 0], 3),
            [a, b, c, d] => ([a, b, c, d], 4),
            ref dims => return clone_long(dims),
        };
        Shape(SmallVec::from_buf_and_len(buf, n))
    }
}

/// The clone of a shape of rank 5 or more (on the heap), kept out of line so
/// that the common clone inlines without saving registers.
#[cold]
#[inline(never)]
fn clone_long(dims: &[usize]) -> Shape {
    Shape(SmallVec::from_slice(dims))
}

impl Shape {
    /// Returns the shape of rank 0, which holds one element.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Shape::scalar().rank(), 0);
    /// ```
    pub fn scalar() -> Self {
        Shape(SmallVec::new())
    }

    /// Builds a shape from its dimensions, checking that the element count fits
    /// in `usize`.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeOverflow`] when the product of the dimensions overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Shape;
    /// assert!(Shape::try_new(&[2, 3]).is_ok());
    /// assert!(Shape::try_new(&[usize::MAX, 2]).is_err());
    /// ```
    pub fn try_new(dims: &[usize]) -> Result<Self> {
        let shape = Shape(SmallVec::from_slice(dims));
        shape.checked_numel("shape")?;
        Ok(shape)
    }

    /// Returns the number of dimensions.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Shape::from([5, 1]).rank(), 2);
    /// ```
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Returns the dimensions as a slice.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Shape::from([5, 1]).dims(), &[5, 1]);
    /// ```
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Returns the number of elements: the product of the dimensions.
    ///
    /// Every shape held by a tensor was checked when it was made, so this cannot
    /// overflow for those; for an unchecked shape it saturates at `usize::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Shape::from([2, 0, 3]).numel(), 0);
    /// ```
    pub fn numel(&self) -> usize {
        self.checked_numel("numel").unwrap_or(usize::MAX)
    }

    /// Returns the number of elements, or [`Error::ShapeOverflow`] naming `op`.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeOverflow`] when the product of the dimensions overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Shape;
    /// assert_eq!(Shape::from([2, 3]).checked_numel("demo").unwrap(), 6);
    /// ```
    pub fn checked_numel(&self, op: &'static str) -> Result<usize> {
        // A zero dimension makes the product zero whatever the others are, but the
        // others must still be representable: check them all.
        let mut n: usize = 1;
        let mut overflow = false;
        for &d in self.0.iter() {
            match n.checked_mul(d) {
                Some(m) => n = m,
                None => overflow = true,
            }
        }
        if overflow && !self.0.contains(&0) {
            return Err(Error::ShapeOverflow {
                op,
                shape: self.clone(),
            });
        }
        if overflow { Ok(0) } else { Ok(n) }
    }

    /// Returns the row-major strides, in elements.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Shape::from([2, 3, 4]).strides().as_slice(), &[12, 4, 1]);
    /// ```
    pub fn strides(&self) -> SmallVec<[usize; 4]> {
        let mut strides: SmallVec<[usize; 4]> = SmallVec::from_elem(0, self.rank());
        let mut acc = 1usize;
        for i in (0..self.rank()).rev() {
            strides[i] = acc;
            acc = acc.saturating_mul(self.0[i]);
        }
        strides
    }

    /// Resolves a possibly negative axis (`-1` is the last) against this rank.
    ///
    /// # Errors
    ///
    /// [`Error::AxisOutOfRange`] naming `op` when the axis does not exist.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Shape;
    /// assert_eq!(Shape::from([2, 3]).axis("demo", -1).unwrap(), 1);
    /// assert!(Shape::from([2, 3]).axis("demo", 2).is_err());
    /// ```
    pub fn axis(&self, op: &'static str, axis: isize) -> Result<usize> {
        resolve_axis(op, axis, self.rank(), self)
    }

    /// Returns the broadcast of two shapes under the NumPy rule: align from the
    /// right; each pair of dimensions must be equal or one of them 1.
    ///
    /// # Errors
    ///
    /// [`Error::BroadcastMismatch`] naming `op` and both shapes.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Shape;
    /// let s = Shape::from([2, 1, 3]).broadcast("add", &Shape::from([4, 1])).unwrap();
    /// assert_eq!(s, Shape::from([2, 4, 3]));
    /// ```
    pub fn broadcast(&self, op: &'static str, other: &Shape) -> Result<Shape> {
        let rank = self.rank().max(other.rank());
        let mut dims: SmallVec<[usize; 4]> = SmallVec::from_elem(0, rank);
        for i in 0..rank {
            let a = dim_from_right(self, rank - 1 - i);
            let b = dim_from_right(other, rank - 1 - i);
            dims[i] = match (a, b) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => {
                    return Err(Error::BroadcastMismatch {
                        op,
                        lhs: self.clone(),
                        rhs: other.clone(),
                    });
                }
            };
        }
        Ok(Shape(dims))
    }

    /// Returns the same shape with the dimension at `axis` replaced by 1
    /// (`keepdim = true`) or removed (`keepdim = false`).
    pub(crate) fn reduced(&self, axis: usize, keepdim: bool) -> Shape {
        let mut dims = self.0.clone();
        if keepdim {
            dims[axis] = 1;
        } else {
            dims.remove(axis);
        }
        Shape(dims)
    }

    /// Splits the shape around `axis` into (outer, len, inner) element counts.
    pub(crate) fn split_at_axis(&self, axis: usize) -> (usize, usize, usize) {
        let outer = self.0[..axis].iter().product();
        let inner = self.0[axis + 1..].iter().product();
        (outer, self.0[axis], inner)
    }
}

/// The dimension `k` places from the right, or 1 past the rank (for broadcasting).
fn dim_from_right(s: &Shape, k: usize) -> usize {
    if k < s.rank() {
        s.0[s.rank() - 1 - k]
    } else {
        1
    }
}

pub(crate) fn resolve_axis(
    op: &'static str,
    axis: isize,
    rank: usize,
    shape: &Shape,
) -> Result<usize> {
    let r = rank as isize;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        return Err(Error::AxisOutOfRange {
            op,
            axis,
            shape: shape.clone(),
        });
    }
    Ok(a as usize)
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(dims: [usize; N]) -> Self {
        Shape(SmallVec::from_slice(&dims))
    }
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Self {
        Shape(SmallVec::from_slice(dims))
    }
}

impl From<Vec<usize>> for Shape {
    fn from(dims: Vec<usize>) -> Self {
        // Up to four dimensions inline, as every other constructor makes
        // them (`from_vec` would keep the heap buffer).
        if dims.len() <= 4 {
            Shape(SmallVec::from_slice(&dims))
        } else {
            Shape(SmallVec::from_vec(dims))
        }
    }
}

/// Collects dimensions into a shape, without an intermediate `Vec`.
///
/// # Examples
///
/// ```
/// use wengert_core::Shape;
/// let s: Shape = [2, 3, 4].iter().map(|d| d * 2).collect();
/// assert_eq!(s.dims(), &[4, 6, 8]);
/// ```
impl FromIterator<usize> for Shape {
    fn from_iter<I: IntoIterator<Item = usize>>(dims: I) -> Self {
        Shape(dims.into_iter().collect())
    }
}

impl From<&Shape> for Shape {
    fn from(s: &Shape) -> Self {
        s.clone()
    }
}

impl From<()> for Shape {
    fn from(_: ()) -> Self {
        Shape::scalar()
    }
}

impl std::ops::Index<usize> for Shape {
    type Output = usize;
    fn index(&self, i: usize) -> &usize {
        &self.0[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_equal_the_original_at_every_rank() {
        for rank in 0..8 {
            let dims: Vec<usize> = (0..rank).map(|i| 7 * i + 1).collect();
            for s in [Shape::from(&dims[..]), Shape::from(dims.clone())] {
                let c = s.clone();
                assert_eq!(c, s);
                assert_eq!(c.dims(), &dims[..], "rank {rank}");
            }
        }
    }

    #[test]
    fn shapes_are_equal_exactly_when_their_dimensions_are() {
        use std::hash::{BuildHasher, RandomState};
        let hasher = RandomState::new();
        let all: Vec<Vec<usize>> = (0..7)
            .flat_map(|rank| {
                (0..rank).map(move |at| {
                    let mut d: Vec<usize> = (0..rank).map(|i| i + 2).collect();
                    d[at] = 9;
                    d
                })
            })
            .chain((0..7).map(|rank| (0..rank).map(|i| i + 2).collect()))
            .collect();
        for a in &all {
            for b in &all {
                let (sa, sb) = (Shape::from(&a[..]), Shape::from(&b[..]));
                assert_eq!(sa == sb, a == b, "{a:?} and {b:?}");
                if a == b {
                    assert_eq!(hasher.hash_one(&sa), hasher.hash_one(&sb));
                }
            }
        }
    }

    #[test]
    fn overflowing_shape_is_an_error() {
        let e = Shape::try_new(&[1 << 40, 1 << 40]).unwrap_err();
        assert!(matches!(e, Error::ShapeOverflow { .. }), "{e}");
        assert!(e.to_string().contains("[1099511627776, 1099511627776]"));
    }

    #[test]
    fn zero_dimension_absorbs_a_large_product() {
        assert_eq!(Shape::try_new(&[0, usize::MAX, 2]).unwrap().numel(), 0);
    }

    #[test]
    fn broadcast_mismatch_names_both_shapes() {
        let e = Shape::from([2, 3])
            .broadcast("add", &Shape::from([4]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "add: shapes cannot be broadcast together (lhs [2, 3], rhs [4])"
        );
    }

    #[test]
    fn broadcast_with_scalar_and_zero_size() {
        let s = Shape::scalar()
            .broadcast("add", &Shape::from([0, 3]))
            .unwrap();
        assert_eq!(s, Shape::from([0, 3]));
        let s = Shape::from([1, 3])
            .broadcast("add", &Shape::from([0, 1]))
            .unwrap();
        assert_eq!(s, Shape::from([0, 3]));
    }
}
