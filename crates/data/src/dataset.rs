//! [`Dataset`]: inputs with the examples along the first axis, and their
//! targets (class labels or regression values).

use wengert_core::Tensor;

use crate::{Error, Result};

/// The targets of a [`Dataset`]: class labels or regression values.
///
/// # Examples
///
/// ```
/// use wengert_data::Targets;
/// let t = Targets::Labels(vec![0, 1, 1]);
/// assert_eq!(t.len(), 3);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Targets {
    /// One class index per example.
    Labels(Vec<usize>),
    /// One row of values per example: a tensor whose first dimension is the
    /// number of examples (`[n, 1]` for a scalar regression target).
    Values(Tensor<f32>),
}

impl Targets {
    /// Returns the number of examples.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_data::Targets;
    /// let t = Targets::Values(Tensor::zeros([5, 1]));
    /// assert_eq!(t.len(), 5);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Targets::Labels(l) => l.len(),
            Targets::Values(v) => v.dims().first().copied().unwrap_or(0),
        }
    }

    /// Returns whether there are no examples.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_data::Targets::Labels(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the targets of the examples at `indices`, in that order.
    ///
    /// # Panics
    ///
    /// When an index is not below [`Targets::len`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_data::Targets;
    /// let t = Targets::Labels(vec![4, 5, 6]).select(&[2, 0]);
    /// assert!(matches!(t, Targets::Labels(l) if l == vec![6, 4]));
    /// ```
    #[track_caller]
    pub fn select(&self, indices: &[usize]) -> Targets {
        match self {
            Targets::Labels(l) => Targets::Labels(indices.iter().map(|&i| l[i]).collect()),
            Targets::Values(v) => Targets::Values(take_rows(v, indices)),
        }
    }
}

/// Copies the rows (slices along the first axis) at `indices` into a new tensor.
#[track_caller]
pub(crate) fn take_rows(t: &Tensor<f32>, indices: &[usize]) -> Tensor<f32> {
    let dims = t.dims();
    let n = dims[0];
    let row: usize = dims[1..].iter().product();
    let src = t.as_slice();
    let mut data = Vec::with_capacity(indices.len() * row);
    for &i in indices {
        assert!(i < n, "select: index {i} is out of range for {n} examples");
        data.extend_from_slice(&src[i * row..(i + 1) * row]);
    }
    let mut shape = dims.to_vec();
    shape[0] = indices.len();
    Tensor::from_vec(data, shape).expect("BUG: rows copied with the source's row length")
}

/// A data set: inputs with the examples along the first axis, and one target
/// per example.
///
/// Inputs are `Tensor<f32>` of rank at least 1: `[n, features]` for vectors,
/// `[n, c, h, w]` for images. Iterate over mini-batches with
/// [`Dataset::batches`]; split with [`Dataset::split`].
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_data::Dataset;
/// let x = Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [3, 2])?;
/// let data = Dataset::classification(x, vec![0, 1, 0])?;
/// assert_eq!(data.len(), 3);
/// assert_eq!(data.num_classes(), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dataset {
    inputs: Tensor<f32>,
    targets: Targets,
}

impl Dataset {
    fn new(what: &'static str, inputs: Tensor<f32>, targets: Targets) -> Result<Self> {
        let Some(&n) = inputs.dims().first() else {
            return Err(Error::Rank {
                what,
                expected: 1,
                dims: inputs.dims().to_vec(),
            });
        };
        if n != targets.len() {
            return Err(Error::LengthMismatch {
                what,
                inputs: n,
                targets: targets.len(),
            });
        }
        // Data sets hold data, not parameters: never record their ops.
        Ok(Self {
            inputs: inputs.detach(),
            targets,
        })
    }

    /// Builds a classification data set from inputs and one class index per
    /// example.
    ///
    /// # Errors
    ///
    /// [`Error::Rank`] for rank-0 inputs; [`Error::LengthMismatch`] when the
    /// first dimension of the inputs differs from the number of labels.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_data::{Dataset, Error};
    /// let e = Dataset::classification(Tensor::zeros([3, 2]), vec![0, 1]).unwrap_err();
    /// assert_eq!(e.to_string(), "classification: inputs hold 3 examples but targets hold 2");
    /// ```
    pub fn classification(inputs: Tensor<f32>, labels: Vec<usize>) -> Result<Self> {
        Self::new("classification", inputs, Targets::Labels(labels))
    }

    /// Builds a regression data set from inputs and targets whose first
    /// dimensions agree.
    ///
    /// # Errors
    ///
    /// [`Error::Rank`] when either tensor has rank 0; [`Error::LengthMismatch`]
    /// when their first dimensions differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_data::Dataset;
    /// let data = Dataset::regression(Tensor::zeros([4, 1]), Tensor::ones([4, 1]))?;
    /// assert_eq!(data.values().unwrap().dims(), &[4, 1]);
    /// # Ok::<(), wengert_data::Error>(())
    /// ```
    pub fn regression(inputs: Tensor<f32>, targets: Tensor<f32>) -> Result<Self> {
        if targets.rank() == 0 {
            return Err(Error::Rank {
                what: "regression",
                expected: 1,
                dims: Vec::new(),
            });
        }
        Self::new("regression", inputs, Targets::Values(targets.detach()))
    }

    /// Returns the number of examples.
    ///
    /// # Examples
    ///
    /// ```
    /// let data = wengert_data::synthetic::xor();
    /// assert_eq!(data.len(), 4);
    /// ```
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Returns whether the data set has no examples.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!wengert_data::synthetic::xor().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the inputs, examples along the first axis.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_data::synthetic::xor().inputs().dims(), &[4, 2]);
    /// ```
    pub fn inputs(&self) -> &Tensor<f32> {
        &self.inputs
    }

    /// Returns the targets.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_data::Targets;
    /// assert!(matches!(wengert_data::synthetic::xor().targets(), Targets::Labels(_)));
    /// ```
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// Returns the class labels of a classification data set, `None` for
    /// regression.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_data::synthetic::xor().labels(), Some(&[0, 1, 1, 0][..]));
    /// ```
    pub fn labels(&self) -> Option<&[usize]> {
        match &self.targets {
            Targets::Labels(l) => Some(l),
            Targets::Values(_) => None,
        }
    }

    /// Returns the target values of a regression data set, `None` for
    /// classification.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_data::synthetic::xor().values().is_none());
    /// ```
    pub fn values(&self) -> Option<&Tensor<f32>> {
        match &self.targets {
            Targets::Values(v) => Some(v),
            Targets::Labels(_) => None,
        }
    }

    /// Returns one more than the largest label (`None` for regression or an
    /// empty set).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_data::synthetic::xor().num_classes(), Some(2));
    /// ```
    pub fn num_classes(&self) -> Option<usize> {
        self.labels()?.iter().max().map(|m| m + 1)
    }

    /// Returns the examples at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    ///
    /// When an index is not below [`Dataset::len`].
    ///
    /// # Examples
    ///
    /// ```
    /// let data = wengert_data::synthetic::xor().select(&[3, 1]);
    /// assert_eq!(data.inputs().to_vec(), vec![1.0, 1.0, 0.0, 1.0]);
    /// assert_eq!(data.labels(), Some(&[0, 1][..]));
    /// ```
    #[track_caller]
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            inputs: take_rows(&self.inputs, indices),
            targets: self.targets.select(indices),
        }
    }
}
