//! [`Tensor`]: an n-dimensional array of `f32` or `f64`, row-major, whose storage
//! is shared cheaply on clone, and which may be recorded on a tape.

use std::fmt;

use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::error::{Error, Result};
use crate::storage::{Storage, VEC_FROM, WeakStorage};
use crate::tape::{LeafId, Node};
use crate::{Float, Shape};

/// An n-dimensional array of `f32` (the default) or `f64`.
///
/// Storage is contiguous and row-major, and shared between clones: cloning a
/// tensor copies no data. Ops never modify their inputs. A tensor that
/// [requires a gradient](Tensor::requires_grad), and every value computed from
/// one, is recorded on a tape so that [`backward`](Tensor::backward) can replay it.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap();
/// assert_eq!(x.shape().dims(), &[2, 2]);
/// assert_eq!((&x + &x).to_vec(), vec![2.0, 4.0, 6.0, 8.0]);
/// ```
pub struct Tensor<T: Float = f32> {
    data: Storage<T>,
    shape: Shape,
    pub(crate) node: Node<T>,
}

impl<T: Float> Clone for Tensor<T> {
    fn clone(&self) -> Self {
        Tensor {
            data: self.data.clone(),
            shape: self.shape.clone(),
            node: self.node.clone(),
        }
    }
}

impl<T: Float> Tensor<T> {
    /// Builds an untracked tensor from data whose length is already known to
    /// match the (checked) shape.
    pub(crate) fn from_parts(data: Vec<T>, shape: Shape) -> Self {
        debug_assert_eq!(
            data.len(),
            shape.numel(),
            "BUG: length of data for shape {shape}"
        );
        Tensor {
            data: Storage::from_vec(data),
            shape,
            node: Node::Constant,
        }
    }

    /// Builds an untracked tensor from an iterator yielding exactly
    /// `shape.numel()` values, in one allocation: the element-wise ops'
    /// constructor.
    pub(crate) fn from_iter_parts(values: impl Iterator<Item = T>, shape: Shape) -> Self {
        let data = Storage::collect(values);
        debug_assert_eq!(
            data.as_slice().len(),
            shape.numel(),
            "BUG: length of data for shape {shape}"
        );
        Tensor {
            data,
            shape,
            node: Node::Constant,
        }
    }

    pub(crate) fn data_weak(&self) -> WeakStorage<T> {
        self.data.downgrade()
    }

    pub(crate) fn with_node(mut self, node: Node<T>) -> Self {
        self.node = node;
        self
    }

    /// Builds a tensor from row-major data and a shape.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] when `data.len()` differs from the number of
    /// elements of `shape`; [`Error::ShapeOverflow`] when that number overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3]).unwrap();
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0]);
    /// let e = Tensor::from_vec(vec![1.0f32, 2.0], [3]).unwrap_err();
    /// assert_eq!(e.to_string(), "from_vec: data has 2 elements but shape [3] holds 3");
    /// ```
    pub fn from_vec(data: Vec<T>, shape: impl Into<Shape>) -> Result<Self> {
        let shape = shape.into();
        let numel = shape.checked_numel("from_vec")?;
        if data.len() != numel {
            return Err(Error::LengthMismatch {
                op: "from_vec",
                len: data.len(),
                shape,
                numel,
            });
        }
        Ok(Self::from_parts(data, shape))
    }

    /// Builds a tensor by copying a slice; see [`Tensor::from_vec`].
    ///
    /// # Errors
    ///
    /// As [`Tensor::from_vec`].
    ///
    /// # Examples
    ///
    /// ```
    /// let t = wengert_core::Tensor::from_slice(&[1.0f32, 2.0], [2, 1]).unwrap();
    /// assert_eq!(t.shape().dims(), &[2, 1]);
    /// ```
    pub fn from_slice(data: &[T], shape: impl Into<Shape>) -> Result<Self> {
        Self::from_vec(data.to_vec(), shape)
    }

    /// Builds a rank-0 tensor holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = wengert_core::Tensor::scalar(2.5f32);
    /// assert_eq!(t.rank(), 0);
    /// assert_eq!(t.item(), 2.5);
    /// ```
    pub fn scalar(value: T) -> Self {
        Self::from_parts(vec![value], Shape::scalar())
    }

    /// Builds a tensor of the given shape filled with `value`.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeOverflow`] when the number of elements overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = wengert_core::Tensor::try_full([2, 2], 7.0f32).unwrap();
    /// assert_eq!(t.to_vec(), vec![7.0; 4]);
    /// ```
    pub fn try_full(shape: impl Into<Shape>, value: T) -> Result<Self> {
        let shape = shape.into();
        let n = shape.checked_numel("full")?;
        Ok(Self::from_parts(vec![value; n], shape))
    }

    /// Panicking twin of [`Tensor::try_full`].
    ///
    /// # Panics
    ///
    /// When the number of elements overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Tensor::full([3], 1.5f64).to_vec(), vec![1.5; 3]);
    /// ```
    #[track_caller]
    pub fn full(shape: impl Into<Shape>, value: T) -> Self {
        match Self::try_full(shape, value) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Builds a tensor of zeros.
    ///
    /// # Panics
    ///
    /// When the number of elements overflows; [`Tensor::try_full`] returns an
    /// error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Tensor::<f32>::zeros([2]).to_vec(), vec![0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn zeros(shape: impl Into<Shape>) -> Self {
        Self::full(shape, T::ZERO)
    }

    /// Builds a tensor of ones.
    ///
    /// # Panics
    ///
    /// When the number of elements overflows; [`Tensor::try_full`] returns an
    /// error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Tensor::<f64>::ones([2]).to_vec(), vec![1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn ones(shape: impl Into<Shape>) -> Self {
        Self::full(shape, T::ONE)
    }

    /// Builds a tensor of zeros with the shape of `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::ones([2, 3]);
    /// assert_eq!(x.zeros_like().shape(), x.shape());
    /// ```
    pub fn zeros_like(&self) -> Self {
        Self::from_parts(vec![T::ZERO; self.numel()], self.shape.clone())
    }

    /// Builds a tensor of ones with the shape of `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::zeros([2]);
    /// assert_eq!(x.ones_like().to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn ones_like(&self) -> Self {
        Self::from_parts(vec![T::ONE; self.numel()], self.shape.clone())
    }

    /// Builds the 1-D tensor `start, start + step, ...` of the values below `end`
    /// (above `end` for a negative step).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a zero or non-finite step, or non-finite
    /// bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = wengert_core::Tensor::arange(0.0f32, 2.0, 0.5).unwrap();
    /// assert_eq!(t.to_vec(), vec![0.0, 0.5, 1.0, 1.5]);
    /// ```
    pub fn arange(start: T, end: T, step: T) -> Result<Self> {
        let (s, e, d) = (start.to_f64(), end.to_f64(), step.to_f64());
        if d == 0.0 || !d.is_finite() || !s.is_finite() || !e.is_finite() {
            return Err(Error::InvalidArgument {
                op: "arange",
                what: format!(
                    "needs finite bounds and a finite non-zero step (start {s}, end {e}, step {d})"
                ),
            });
        }
        let count = ((e - s) / d).ceil().max(0.0);
        if count > (isize::MAX as f64) / 8.0 {
            return Err(Error::InvalidArgument {
                op: "arange",
                what: format!("{count} elements is too many (start {s}, end {e}, step {d})"),
            });
        }
        let n = count as usize;
        let data = (0..n).map(|i| T::from_f64(s + d * i as f64)).collect();
        Ok(Self::from_parts(data, Shape::from([n])))
    }

    /// Builds `n` evenly spaced values from `start` to `end`, both included.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for non-finite bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = wengert_core::Tensor::linspace(0.0f64, 1.0, 5).unwrap();
    /// assert_eq!(t.to_vec(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    /// ```
    pub fn linspace(start: T, end: T, n: usize) -> Result<Self> {
        let (s, e) = (start.to_f64(), end.to_f64());
        if !s.is_finite() || !e.is_finite() {
            return Err(Error::InvalidArgument {
                op: "linspace",
                what: format!("needs finite bounds (start {s}, end {e})"),
            });
        }
        let data = match n {
            0 => Vec::new(),
            1 => vec![start],
            _ => {
                let step = (e - s) / (n - 1) as f64;
                // The last value is exactly `end`, not start + (n-1)*step.
                (0..n)
                    .map(|i| {
                        if i + 1 == n {
                            end
                        } else {
                            T::from_f64(s + step * i as f64)
                        }
                    })
                    .collect()
            }
        };
        Ok(Self::from_parts(data, Shape::from([n])))
    }

    /// Builds the `n` by `n` identity matrix.
    ///
    /// # Panics
    ///
    /// When `n * n` overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = wengert_core::Tensor::<f32>::eye(2);
    /// assert_eq!(t.to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn eye(n: usize) -> Self {
        let mut t = Self::zeros([n, n]);
        let data = t.data.make_mut();
        for i in 0..n {
            data[i * n + i] = T::ONE;
        }
        t
    }

    /// Builds a tensor of samples from the normal distribution N(mean, std²),
    /// drawn from `rng` in row-major order.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a negative or non-finite `std` or a
    /// non-finite mean; [`Error::ShapeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let t = wengert_core::Tensor::<f32>::randn([1000], 0.0, 0.1, &mut rng).unwrap();
    /// let mean = t.mean().item();
    /// assert!(mean.abs() < 0.02);
    /// ```
    pub fn randn<R: Rng + ?Sized>(
        shape: impl Into<Shape>,
        mean: T,
        std: T,
        rng: &mut R,
    ) -> Result<Self> {
        let shape = shape.into();
        let n = shape.checked_numel("randn")?;
        let (m, s) = (mean.to_f64(), std.to_f64());
        let dist = Normal::new(m, s)
            .ok()
            .filter(|_| m.is_finite() && s.is_finite() && s >= 0.0);
        let Some(dist) = dist else {
            return Err(Error::InvalidArgument {
                op: "randn",
                what: format!("needs a finite mean and a finite std >= 0 (mean {m}, std {s})"),
            });
        };
        let data = (0..n).map(|_| T::from_f64(dist.sample(rng))).collect();
        Ok(Self::from_parts(data, shape))
    }

    /// Builds a tensor of samples from the uniform distribution on `[low, high)`,
    /// drawn from `rng` in row-major order.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] unless `low < high`, both finite;
    /// [`Error::ShapeOverflow`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let t = wengert_core::Tensor::<f64>::rand_uniform([100], -1.0, 1.0, &mut rng).unwrap();
    /// assert!(t.to_vec().iter().all(|v| (-1.0..1.0).contains(v)));
    /// ```
    pub fn rand_uniform<R: Rng + ?Sized>(
        shape: impl Into<Shape>,
        low: T,
        high: T,
        rng: &mut R,
    ) -> Result<Self> {
        let shape = shape.into();
        let n = shape.checked_numel("rand_uniform")?;
        let (lo, hi) = (low.to_f64(), high.to_f64());
        let dist = Uniform::new(lo, hi)
            .ok()
            .filter(|_| lo.is_finite() && hi.is_finite());
        let Some(dist) = dist else {
            return Err(Error::InvalidArgument {
                op: "rand_uniform",
                what: format!("needs finite bounds with low < high (low {lo}, high {hi})"),
            });
        };
        let data = (0..n)
            .map(|_| {
                // Rounding to f32 can land on `high`; keep the interval half-open.
                let v = T::from_f64(dist.sample(rng));
                if v < high { v } else { low }
            })
            .collect();
        Ok(Self::from_parts(data, shape))
    }

    /// Returns the shape.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Tensor::<f32>::zeros([2, 3]).shape().dims(), &[2, 3]);
    /// ```
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// Returns the dimensions (same as `shape().dims()`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Tensor::<f32>::zeros([4]).dims(), &[4]);
    /// ```
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// Returns the number of dimensions.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Tensor::scalar(1.0f32).rank(), 0);
    /// ```
    pub fn rank(&self) -> usize {
        self.shape.rank()
    }

    /// Returns the number of elements.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Tensor::<f32>::zeros([2, 0]).numel(), 0);
    /// ```
    pub fn numel(&self) -> usize {
        self.data.as_slice().len()
    }

    /// Returns the elements in row-major order, without copying.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Tensor::<f32>::ones([2]).as_slice(), &[1.0, 1.0]);
    /// ```
    pub fn as_slice(&self) -> &[T] {
        self.data.as_slice()
    }

    /// Returns the elements in row-major order for writing in place, keeping
    /// the tensor's identity (a leaf stays the same leaf), like
    /// [`Tensor::with_data`] without a new buffer.
    ///
    /// Storage is copied first when another tensor shares it (copy on write),
    /// so no other tensor, and no value saved on a tape for backward, ever
    /// sees the change: gradients of ops recorded before the write still use
    /// the old values.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let mut w = Tensor::<f32>::ones([2]).requires_grad();
    /// let id = w.leaf_id();
    /// let old = w.clone();
    /// w.as_mut_slice()[0] = 5.0;
    /// assert_eq!(w.to_vec(), vec![5.0, 1.0]);
    /// assert_eq!(old.to_vec(), vec![1.0, 1.0]); // the shared storage was copied
    /// assert_eq!(w.leaf_id(), id);
    /// ```
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.data.make_mut()
    }

    /// Returns a copy of the elements in row-major order.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Tensor::<f64>::eye(1).to_vec(), vec![1.0]);
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.data.as_slice().to_vec()
    }

    /// Returns the only element of a tensor with exactly one element.
    ///
    /// # Errors
    ///
    /// [`Error::NotScalar`] for any other number of elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// assert_eq!(Tensor::from_vec(vec![3.0f32], [1, 1]).unwrap().try_item().unwrap(), 3.0);
    /// assert!(Tensor::<f32>::zeros([2]).try_item().is_err());
    /// ```
    pub fn try_item(&self) -> Result<T> {
        if self.numel() != 1 {
            return Err(Error::NotScalar {
                op: "item",
                shape: self.shape.clone(),
            });
        }
        Ok(self.as_slice()[0])
    }

    /// Panicking twin of [`Tensor::try_item`].
    ///
    /// # Panics
    ///
    /// When the tensor does not have exactly one element.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_core::Tensor::scalar(4.0f64).item(), 4.0);
    /// ```
    #[track_caller]
    pub fn item(&self) -> T {
        match self.try_item() {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// Makes this tensor a leaf that requires a gradient: every value computed
    /// from it is recorded, and [`backward`](Tensor::backward) returns its
    /// gradient. A recorded value passed here loses its history and becomes a
    /// new leaf.
    ///
    /// # Examples
    ///
    /// ```
    /// let w = wengert_core::Tensor::<f32>::ones([3]).requires_grad();
    /// assert!(w.is_tracked() && w.is_leaf());
    /// ```
    pub fn requires_grad(self) -> Self {
        self.with_node(Node::Leaf(LeafId::fresh()))
    }

    /// Turns gradient tracking of this tensor on (as a new leaf) or off (frozen:
    /// nothing that depends only on frozen tensors is recorded).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut w = wengert_core::Tensor::<f32>::ones([3]).requires_grad();
    /// w.set_requires_grad(false);
    /// assert!(!(&w * 2.0).is_tracked());
    /// ```
    pub fn set_requires_grad(&mut self, on: bool) {
        self.node = if on {
            Node::Leaf(LeafId::fresh())
        } else {
            Node::Constant
        };
    }

    /// Returns true when gradients flow through this tensor: it is a leaf that
    /// requires a gradient or a recorded value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!wengert_core::Tensor::<f32>::ones([1]).is_tracked());
    /// ```
    pub fn is_tracked(&self) -> bool {
        !matches!(self.node, Node::Constant)
    }

    /// Returns true for a leaf that requires a gradient.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::ones([1]).requires_grad();
    /// assert!(x.is_leaf());
    /// assert!(!x.exp().is_leaf());
    /// ```
    pub fn is_leaf(&self) -> bool {
        matches!(self.node, Node::Leaf(_))
    }

    /// Returns the leaf identity that [`Gradients`](crate::Gradients) are keyed by,
    /// for a leaf that requires a gradient.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::ones([1]).requires_grad();
    /// assert!(x.leaf_id().is_some());
    /// ```
    pub fn leaf_id(&self) -> Option<LeafId> {
        match self.node {
            Node::Leaf(id) => Some(id),
            _ => None,
        }
    }

    /// Returns the same values with no history: a constant that shares this
    /// tensor's storage.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::ones([1]).requires_grad();
    /// assert!(!x.detach().is_tracked());
    /// ```
    pub fn detach(&self) -> Self {
        Tensor {
            data: self.data.clone(),
            shape: self.shape.clone(),
            node: Node::Constant,
        }
    }

    /// Returns a new leaf with the same identity and tracking as `self` holding
    /// `data` instead: how an optimizer updates a parameter.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] when `data` does not fit the shape.
    ///
    /// # Examples
    ///
    /// ```
    /// let w = wengert_core::Tensor::<f32>::ones([2]).requires_grad();
    /// let w2 = w.with_data(vec![0.5, 0.5]).unwrap();
    /// assert_eq!(w.leaf_id(), w2.leaf_id());
    /// ```
    pub fn with_data(&self, data: Vec<T>) -> Result<Self> {
        if data.len() != self.numel() {
            return Err(Error::LengthMismatch {
                op: "with_data",
                len: data.len(),
                shape: self.shape.clone(),
                numel: self.numel(),
            });
        }
        Ok(Tensor {
            data: Storage::from_vec(data),
            shape: self.shape.clone(),
            node: self.node.clone(),
        })
    }

    /// Applies `f` to every element and returns an untracked tensor of the
    /// results: a building block for forward kernels of new ops.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = wengert_core::Tensor::<f32>::ones([2]).map(|v| v * 3.0);
    /// assert_eq!(t.to_vec(), vec![3.0, 3.0]);
    /// ```
    pub fn map(&self, f: impl Fn(T) -> T) -> Self {
        Self::from_iter_parts(self.as_slice().iter().map(|&v| f(v)), self.shape.clone())
    }

    /// Like [`Tensor::map`], with `f8` applied to whole blocks of eight
    /// elements and `f` to the rest: for kernels whose eight-lane form runs
    /// faster (`f8` must give what `f` gives, lane by lane). Below
    /// `VEC_FROM` (64) elements this is `map` (one allocation, `f`
    /// throughout); from there on the blocks are written straight into the
    /// `Vec` that `map` would collect into.
    pub(crate) fn map_x8(&self, f8: impl Fn([T; 8]) -> [T; 8], f: impl Fn(T) -> T) -> Self {
        let src = self.as_slice();
        if src.len() < VEC_FROM {
            return self.map(f);
        }
        // Appended block by block, never zero-filled first: `vec![0.0; n]`
        // goes to `calloc`, which glibc serves without its per-thread cache
        // and then clears (W3: 2,400 instructions per `tanh` of 512 values).
        let mut out = Vec::with_capacity(src.len());
        let mut blocks = src.chunks_exact(8);
        for s in &mut blocks {
            out.extend_from_slice(&f8(s.try_into().expect("BUG: a block of eight")));
        }
        out.extend(blocks.remainder().iter().map(|&s| f(s)));
        Self::from_parts(out, self.shape.clone())
    }

    /// Returns a tensor with the same data and a new shape of equal element count,
    /// keeping the history (used by reshape-like ops).
    pub(crate) fn share_with_shape(&self, shape: Shape) -> Self {
        Tensor {
            data: self.data.clone(),
            shape,
            node: Node::Constant,
        }
    }
}

impl<T: Float> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor<{}>{} ", T::NAME, self.shape)?;
        const SHOW: usize = 8;
        let d = self.as_slice();
        f.write_str("[")?;
        for (i, v) in d.iter().take(SHOW).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{v}")?;
        }
        if d.len() > SHOW {
            write!(f, ", ... {} more", d.len() - SHOW)?;
        }
        f.write_str("]")?;
        match self.node {
            Node::Constant => Ok(()),
            Node::Leaf(_) => f.write_str(" (leaf)"),
            Node::Recorded(_, i) => write!(f, " (tape entry {i})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_shares_storage() {
        let a = Tensor::<f32>::ones([1000]);
        let b = a.clone();
        assert!(std::ptr::eq(a.as_slice().as_ptr(), b.as_slice().as_ptr()));
    }

    #[test]
    fn overflowing_shape_is_an_error_not_an_allocation() {
        let e = Tensor::<f32>::try_full([usize::MAX / 2, 3], 0.0).unwrap_err();
        assert!(matches!(e, Error::ShapeOverflow { op: "full", .. }), "{e}");
        let e = Tensor::<f32>::from_vec(vec![], [usize::MAX, 2]).unwrap_err();
        assert!(matches!(e, Error::ShapeOverflow { .. }), "{e}");
    }

    #[test]
    fn zero_size_and_rank_zero_tensors_exist() {
        let t = Tensor::<f64>::zeros([3, 0, 2]);
        assert_eq!(t.numel(), 0);
        assert_eq!(t.to_vec(), Vec::<f64>::new());
        let s = Tensor::scalar(1.0f32);
        assert_eq!(s.rank(), 0);
        assert_eq!(s.numel(), 1);
    }

    #[test]
    fn constructors_validate_their_arguments() {
        assert!(Tensor::<f32>::arange(0.0, 1.0, 0.0).is_err());
        assert!(Tensor::<f32>::arange(0.0, f32::INFINITY, 1.0).is_err());
        assert_eq!(
            Tensor::<f32>::arange(3.0, 0.0, -1.0).unwrap().to_vec(),
            vec![3.0, 2.0, 1.0]
        );
        assert_eq!(Tensor::<f32>::arange(1.0, 0.0, 1.0).unwrap().numel(), 0);
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
        assert!(Tensor::<f32>::randn([2], 0.0, -1.0, &mut rng).is_err());
        assert!(Tensor::<f32>::rand_uniform([2], 1.0, 1.0, &mut rng).is_err());
        assert!(Tensor::<f32>::linspace(0.0, f32::NAN, 3).is_err());
    }

    #[test]
    fn seeded_random_tensors_are_reproducible() {
        let mut r1 = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
        let mut r2 = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
        let a = Tensor::<f64>::randn([16], 0.0, 1.0, &mut r1).unwrap();
        let b = Tensor::<f64>::randn([16], 0.0, 1.0, &mut r2).unwrap();
        assert_eq!(a.to_vec(), b.to_vec());
    }
}
