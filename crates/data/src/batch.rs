//! Mini-batches with seeded shuffling and drop-last, and a seeded
//! train/validation/test split.
//!
//! Randomness always comes from an RNG you pass in: seed a
//! `rand::rngs::StdRng` with `seed_from_u64` and the order is reproducible.
//! Passing the same RNG to [`Batches::shuffle`] every epoch gives a new,
//! still reproducible, order each epoch.

use rand::Rng;
use rand::seq::SliceRandom;
use wengert_core::Tensor;

use crate::{Dataset, Error, Result, Targets};

/// One mini-batch: the inputs and targets of some examples, and which ones.
///
/// # Examples
///
/// ```
/// let data = wengert_data::synthetic::xor();
/// let batch = data.batches(3)?.next().unwrap();
/// assert_eq!(batch.inputs.dims(), &[3, 2]);
/// assert_eq!(batch.indices, vec![0, 1, 2]);
/// # Ok::<(), wengert_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Batch {
    /// The inputs, examples along the first axis.
    pub inputs: Tensor<f32>,
    /// The targets of the same examples.
    pub targets: Targets,
    /// The positions of the examples in the data set.
    pub indices: Vec<usize>,
}

impl Batch {
    /// Returns the class labels of the batch, `None` for regression.
    ///
    /// # Examples
    ///
    /// ```
    /// let data = wengert_data::synthetic::xor();
    /// let batch = data.batches(4)?.next().unwrap();
    /// assert_eq!(batch.labels(), Some(&[0, 1, 1, 0][..]));
    /// # Ok::<(), wengert_data::Error>(())
    /// ```
    pub fn labels(&self) -> Option<&[usize]> {
        match &self.targets {
            Targets::Labels(l) => Some(l),
            Targets::Values(_) => None,
        }
    }
}

/// An iterator over the mini-batches of one epoch of a [`Dataset`].
///
/// Built by [`Dataset::batches`]; in order unless [shuffled](Batches::shuffle);
/// the last, smaller batch is kept unless [dropped](Batches::drop_last).
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// let data = wengert_data::digits()?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let sizes: Vec<usize> = data
///     .batches(500)?
///     .shuffle(&mut rng)
///     .drop_last(true)
///     .map(|b| b.indices.len())
///     .collect();
/// assert_eq!(sizes, vec![500, 500, 500]); // 1797 = 3 * 500 + 297, dropped
/// # Ok::<(), wengert_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    data: &'a Dataset,
    order: Vec<usize>,
    batch_size: usize,
    drop_last: bool,
    next: usize,
}

impl<'a> Batches<'a> {
    /// Shuffles the order of the examples with `rng` (a Fisher–Yates shuffle of
    /// the remaining examples).
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let data = wengert_data::synthetic::xor();
    /// let order = |seed| {
    ///     let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    ///     data.batches(4).unwrap().shuffle(&mut rng).next().unwrap().indices
    /// };
    /// assert_eq!(order(7), order(7));
    /// ```
    pub fn shuffle<R: Rng + ?Sized>(mut self, rng: &mut R) -> Self {
        self.order[self.next..].shuffle(rng);
        self
    }

    /// Drops (`true`) or keeps (`false`, the default) a last batch smaller
    /// than the batch size.
    ///
    /// # Examples
    ///
    /// ```
    /// let data = wengert_data::synthetic::xor();
    /// assert_eq!(data.batches(3)?.count(), 2);
    /// assert_eq!(data.batches(3)?.drop_last(true).count(), 1);
    /// # Ok::<(), wengert_data::Error>(())
    /// ```
    pub fn drop_last(mut self, on: bool) -> Self {
        self.drop_last = on;
        self
    }
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let left = self.order.len() - self.next;
        if left == 0 || (self.drop_last && left < self.batch_size) {
            return None;
        }
        let end = self.next + left.min(self.batch_size);
        let indices = self.order[self.next..end].to_vec();
        self.next = end;
        let chosen = self.data.select(&indices);
        let (inputs, targets) = (chosen.inputs().clone(), chosen.targets().clone());
        Some(Batch {
            inputs,
            targets,
            indices,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.order.len() - self.next;
        let n = if self.drop_last {
            left / self.batch_size
        } else {
            left.div_ceil(self.batch_size)
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Batches<'_> {}

/// A data set split three ways, from [`Dataset::split`].
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let s = wengert_data::digits()?.split(0.6, 0.2, 0.2, &mut rng)?;
/// assert_eq!((s.train.len(), s.validation.len(), s.test.len()), (1078, 359, 360));
/// # Ok::<(), wengert_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Splits {
    /// The training set.
    pub train: Dataset,
    /// The validation set.
    pub validation: Dataset,
    /// The test set.
    pub test: Dataset,
}

impl Dataset {
    /// Returns an iterator over one epoch of mini-batches of `batch_size`
    /// examples, in order; chain [`Batches::shuffle`] and
    /// [`Batches::drop_last`] as needed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for a batch size of zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let data = wengert_data::synthetic::xor();
    /// let e = data.batches(0).unwrap_err();
    /// assert_eq!(e.to_string(), "batches: batch_size must be at least 1, got 0");
    /// ```
    pub fn batches(&self, batch_size: usize) -> Result<Batches<'_>> {
        if batch_size == 0 {
            return Err(Error::InvalidParameter {
                what: "batches",
                name: "batch_size",
                value: 0.0,
                expected: "at least 1",
            });
        }
        Ok(Batches {
            data: self,
            order: (0..self.len()).collect(),
            batch_size,
            drop_last: false,
            next: 0,
        })
    }

    /// Splits the examples at random into training, validation and test sets
    /// holding the given fractions of the examples (each rounded down).
    ///
    /// When the fractions sum to 1 every example is used, and the test set
    /// takes what rounding leaves; when they sum to less, the rest is left out.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when a fraction is negative or not finite,
    /// or when the fractions sum to more than 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let data = wengert_data::synthetic::xor();
    /// let e = data.split(0.8, 0.3, 0.0, &mut rng).unwrap_err();
    /// assert!(e.to_string().starts_with("split: train + validation + test must be at most 1"));
    /// ```
    pub fn split<R: Rng + ?Sized>(
        &self,
        train: f64,
        validation: f64,
        test: f64,
        rng: &mut R,
    ) -> Result<Splits> {
        for (name, value) in [("train", train), ("validation", validation), ("test", test)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::InvalidParameter {
                    what: "split",
                    name,
                    value,
                    expected: "a finite fraction >= 0",
                });
            }
        }
        let sum = train + validation + test;
        // Allow for rounding in fractions such as 0.7 + 0.2 + 0.1.
        const SLACK: f64 = 1e-9;
        if sum > 1.0 + SLACK {
            return Err(Error::InvalidParameter {
                what: "split",
                name: "train + validation + test",
                value: sum,
                expected: "at most 1",
            });
        }
        let n = self.len();
        let count = |f: f64| ((f * n as f64).floor() as usize).min(n);
        let n_train = count(train);
        let n_val = count(validation).min(n - n_train);
        let n_test = if sum >= 1.0 - SLACK {
            n - n_train - n_val
        } else {
            count(test).min(n - n_train - n_val)
        };
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(rng);
        let (a, rest) = order.split_at(n_train);
        let (b, rest) = rest.split_at(n_val);
        Ok(Splits {
            train: self.select(a),
            validation: self.select(b),
            test: self.select(&rest[..n_test]),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    /// Ten examples whose single input equals their index, labelled by parity.
    fn ten() -> Dataset {
        let x = Tensor::from_vec((0..10).map(|i| i as f32).collect(), [10, 1]).unwrap();
        Dataset::classification(x, (0..10).map(|i| i % 2).collect()).unwrap()
    }

    fn epoch(data: &Dataset, size: usize, rng: &mut StdRng, drop_last: bool) -> Vec<Batch> {
        data.batches(size)
            .unwrap()
            .shuffle(rng)
            .drop_last(drop_last)
            .collect()
    }

    #[test]
    fn every_example_appears_exactly_once_per_epoch() {
        let data = ten();
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..3 {
            let mut seen: Vec<usize> = epoch(&data, 3, &mut rng, false)
                .into_iter()
                .flat_map(|b| b.indices)
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn batches_carry_the_inputs_and_labels_of_their_indices() {
        let data = ten();
        let mut rng = StdRng::seed_from_u64(2);
        for b in epoch(&data, 4, &mut rng, false) {
            let xs: Vec<usize> = b.inputs.to_vec().iter().map(|&x| x as usize).collect();
            assert_eq!(xs, b.indices);
            let parity: Vec<usize> = b.indices.iter().map(|i| i % 2).collect();
            assert_eq!(b.labels().unwrap(), &parity[..]);
        }
    }

    #[test]
    fn same_seed_gives_same_order_and_epochs_differ() {
        let data = ten();
        let order = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let a: Vec<usize> = epoch(&data, 10, &mut rng, false).remove(0).indices;
            let b: Vec<usize> = epoch(&data, 10, &mut rng, false).remove(0).indices;
            (a, b)
        };
        let (a1, b1) = order(5);
        assert_eq!(order(5), (a1.clone(), b1.clone()));
        assert_ne!(a1, b1, "the second epoch is reshuffled");
        assert_ne!(a1, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn drop_last_keeps_only_full_batches() {
        let data = ten();
        let sizes = |size, drop| -> Vec<usize> {
            let it = data.batches(size).unwrap().drop_last(drop);
            let n = it.len();
            let sizes: Vec<usize> = it.map(|b| b.inputs.dims()[0]).collect();
            assert_eq!(sizes.len(), n, "exact size hint");
            sizes
        };
        assert_eq!(sizes(4, false), vec![4, 4, 2]);
        assert_eq!(sizes(4, true), vec![4, 4]);
        assert_eq!(sizes(5, true), vec![5, 5]);
        assert_eq!(sizes(11, true), Vec::<usize>::new());
        assert_eq!(sizes(11, false), vec![10]);
    }

    #[test]
    fn regression_batches_select_target_rows() {
        let x = Tensor::from_vec(vec![0.0, 1.0, 2.0], [3, 1]).unwrap();
        let y = Tensor::from_vec(vec![10.0, 11.0, 12.0, 13.0, 14.0, 15.0], [3, 2]).unwrap();
        let data = Dataset::regression(x, y).unwrap();
        let b = data.batches(2).unwrap().nth(1).unwrap();
        match b.targets {
            Targets::Values(v) => assert_eq!(v.to_vec(), vec![14.0, 15.0]),
            Targets::Labels(_) => panic!("regression batch with labels"),
        }
    }

    #[test]
    fn split_partitions_the_examples_reproducibly() {
        let data = ten();
        let split = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let s = data.split(0.6, 0.2, 0.2, &mut rng).unwrap();
            let ids = |d: &Dataset| -> Vec<usize> {
                d.inputs().to_vec().iter().map(|&x| x as usize).collect()
            };
            (ids(&s.train), ids(&s.validation), ids(&s.test))
        };
        let (train, val, test) = split(3);
        assert_eq!((train.len(), val.len(), test.len()), (6, 2, 2));
        let mut all: Vec<usize> = [train.clone(), val.clone(), test.clone()].concat();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(split(3), (train, val, test));
    }

    #[test]
    fn split_with_fractions_below_one_leaves_the_rest_out() {
        let mut rng = StdRng::seed_from_u64(0);
        let s = ten().split(0.5, 0.0, 0.2, &mut rng).unwrap();
        assert_eq!((s.train.len(), s.validation.len(), s.test.len()), (5, 0, 2));
    }

    #[test]
    fn split_rejects_negative_and_oversized_fractions() {
        let mut rng = StdRng::seed_from_u64(0);
        let e = ten().split(0.5, -0.1, 0.2, &mut rng).unwrap_err();
        assert!(
            matches!(e, Error::InvalidParameter { name: "validation", value, .. } if value == -0.1),
            "{e}"
        );
        let e = ten().split(0.5, 0.3, 0.3, &mut rng).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidParameter {
                    name: "train + validation + test",
                    ..
                }
            ),
            "{e}"
        );
        let e = ten().split(f64::NAN, 0.0, 0.0, &mut rng).unwrap_err();
        assert!(
            matches!(e, Error::InvalidParameter { name: "train", .. }),
            "{e}"
        );
        // Fractions that sum to 1 up to rounding are accepted.
        assert!(ten().split(0.7, 0.2, 0.1, &mut rng).is_ok());
    }

    #[test]
    fn zero_batch_size_is_rejected() {
        assert!(matches!(
            ten().batches(0),
            Err(Error::InvalidParameter {
                name: "batch_size",
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn any_size_and_seed_covers_each_example_once(
            n in 0usize..40,
            size in 1usize..12,
            seed in any::<u64>(),
            drop_last in any::<bool>(),
        ) {
            let x = Tensor::from_vec((0..n).map(|i| i as f32).collect(), [n, 1]).unwrap();
            let data = Dataset::classification(x, vec![0; n]).unwrap();
            let mut rng = StdRng::seed_from_u64(seed);
            let batches = epoch(&data, size, &mut rng, drop_last);
            prop_assert!(batches.iter().all(|b| b.indices.len() <= size));
            let full = if drop_last { n / size * size } else { n };
            let mut seen: Vec<usize> = batches.into_iter().flat_map(|b| b.indices).collect();
            prop_assert_eq!(seen.len(), full);
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen.len(), full);
        }
    }
}
