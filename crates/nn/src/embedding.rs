//! [`Embedding`]: a lookup table of trainable vectors.

use rand::Rng;
use wengert_core::{Float, Shape, Tensor};

use crate::error::{Error, Result};
use crate::init::Init;
use crate::module::Module;

/// A table of `num_embeddings` vectors of length `dim`: index `i` maps to row
/// `i` of `weight` (`[num_embeddings, dim]`). The gradient of a row is the sum
/// of the output gradients of every position that looked it up (through
/// [`Tensor::index_select`]).
///
/// As a [`Module`], the input tensor holds the indices as integral floats (any
/// shape `S`) and the output has shape `S + [dim]`; [`Embedding::lookup`] takes
/// `usize` indices directly. Default initialisation, PyTorch's: N(0, 1).
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Embedding, Module};
/// let w = Tensor::from_vec(vec![0.0f64, 0.5, 1.0, 1.5, 2.0, 2.5], [3, 2]).unwrap();
/// let e = Embedding::from_tensor(w).unwrap();
/// assert_eq!(e.lookup(&[2, 0], [2]).to_vec(), vec![2.0, 2.5, 0.0, 0.5]);
/// let ids = Tensor::from_vec(vec![1.0, 1.0], [1, 2]).unwrap();
/// assert_eq!(e.forward(&ids).dims(), &[1, 2, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Embedding<T: Float = f32> {
    /// The table, `[num_embeddings, dim]`.
    pub weight: Tensor<T>,
}

impl<T: Float> Embedding<T> {
    /// Builds a table of `num_embeddings` vectors of length `dim` drawn from
    /// N(0, 1) with `rng`, trainable.
    ///
    /// # Errors
    ///
    /// [`Error::Core`] when the table size overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let e = wengert_nn::Embedding::<f32>::new(10, 4, &mut rng).unwrap();
    /// assert_eq!(e.weight.dims(), &[10, 4]);
    /// ```
    pub fn new<R: Rng + ?Sized>(num_embeddings: usize, dim: usize, rng: &mut R) -> Result<Self> {
        let w = Init::Normal {
            mean: 0.0,
            std: 1.0,
        }
        .sample::<T, R>([num_embeddings, dim], rng)?;
        Ok(Embedding {
            weight: w.requires_grad(),
        })
    }

    /// Builds a table from a `[num_embeddings, dim]` tensor, stored as given.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when `weight` is not a matrix.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::Embedding::<f32>::from_tensor(wengert_core::Tensor::zeros([3])).is_err());
    /// ```
    pub fn from_tensor(weight: Tensor<T>) -> Result<Self> {
        if weight.rank() != 2 {
            return Err(Error::InvalidConfig {
                layer: "embedding",
                what: format!(
                    "weight must be [num_embeddings, dim], got {}",
                    weight.shape()
                ),
            });
        }
        Ok(Embedding { weight })
    }

    /// Looks up `indices`, laid out with `index_shape`; the result has shape
    /// `index_shape + [dim]`.
    ///
    /// # Errors
    ///
    /// [`Error::LabelOutOfRange`] for an index `>= num_embeddings`;
    /// [`Error::Core`] when `indices` does not fill `index_shape`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = wengert_nn::Embedding::<f32>::from_tensor(wengert_core::Tensor::zeros([3, 2])).unwrap();
    /// let err = e.try_lookup(&[3], [1]).unwrap_err();
    /// assert_eq!(err.to_string(), "embedding: label 3 at position 0 is out of range for 3 classes");
    /// ```
    pub fn try_lookup(
        &self,
        indices: &[usize],
        index_shape: impl Into<Shape>,
    ) -> Result<Tensor<T>> {
        let n = self.weight.dims()[0];
        if let Some(index) = indices.iter().position(|&i| i >= n) {
            return Err(Error::LabelOutOfRange {
                loss: "embedding",
                label: indices[index],
                index,
                classes: n,
            });
        }
        let mut dims = index_shape.into().dims().to_vec();
        dims.push(self.weight.dims()[1]);
        let rows = self.weight.try_index_select(0, indices)?;
        Ok(rows.try_reshape(dims)?)
    }

    /// Panicking twin of [`Embedding::try_lookup`].
    ///
    /// # Panics
    ///
    /// When an index is out of range or `indices` does not fill `index_shape`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = wengert_nn::Embedding::<f32>::from_tensor(wengert_core::Tensor::ones([3, 2])).unwrap();
    /// assert_eq!(e.lookup(&[1], [1]).to_vec(), vec![1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn lookup(&self, indices: &[usize], index_shape: impl Into<Shape>) -> Tensor<T> {
        match self.try_lookup(indices, index_shape) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

impl<T: Float> Module<T> for Embedding<T> {
    /// # Errors
    ///
    /// [`Error::NonIntegerIndex`] for a value that is not a non-negative
    /// integer; as [`Embedding::try_lookup`] otherwise.
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let mut idx = Vec::with_capacity(x.numel());
        for (index, v) in x.as_slice().iter().enumerate() {
            let v = v.to_f64();
            if !(v >= 0.0 && v.fract() == 0.0 && v < usize::MAX as f64) {
                return Err(Error::NonIntegerIndex {
                    layer: "embedding",
                    value: v,
                    index,
                });
            }
            idx.push(v as usize);
        }
        self.try_lookup(&idx, x.shape().clone())
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        f("weight", &self.weight);
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        f("weight", &mut self.weight);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use wengert_core::gradcheck;

    #[test]
    fn embedding_grad_matches_finite_differences_with_repeated_indices() {
        let mut rng = StdRng::seed_from_u64(0);
        let w = Tensor::<f64>::randn([4, 3], 0.0, 1.0, &mut rng).unwrap();
        let f = |xs: &[Tensor<f64>]| {
            let e = Embedding::from_tensor(xs[0].clone()).unwrap();
            e.lookup(&[1, 3, 1, 0, 1, 2], [2, 3]).tanh()
        };
        gradcheck(f, &[w]).unwrap();
    }

    #[test]
    fn repeated_indices_accumulate_gradients() {
        // hand-derived: d(sum of lookups)/dW row i = number of times i was looked up.
        let e = Embedding::<f64>::from_tensor(Tensor::zeros([3, 1]).requires_grad()).unwrap();
        let g = e.lookup(&[2, 2, 0], [3]).sum().backward().unwrap();
        assert_eq!(g.get(&e.weight).unwrap().to_vec(), vec![1.0, 0.0, 2.0]);
    }

    #[test]
    fn non_integer_indices_are_errors() {
        let e = Embedding::<f32>::from_tensor(Tensor::zeros([3, 2])).unwrap();
        let x = Tensor::from_vec(vec![0.0, 1.5], [2]).unwrap();
        let err = e.try_forward(&x).unwrap_err();
        assert_eq!(
            err.to_string(),
            "embedding: index 1.5 at position 1 is not a non-negative integer"
        );
        assert!(
            e.try_forward(&Tensor::from_vec(vec![-1.0], [1]).unwrap())
                .is_err()
        );
    }
}
