//! # wengert-data
//!
//! Data for wengert: an IDX (MNIST) reader, the embedded UCI digits, synthetic
//! data sets, mini-batches and splits, and image augmentation.
//!
//! ```
//! use rand::SeedableRng;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let data = wengert_data::digits()?; // embedded: works offline
//! let splits = data.split(0.8, 0.0, 0.2, &mut rng)?;
//! for batch in splits.train.batches(64)?.shuffle(&mut rng) {
//!     assert_eq!(batch.inputs.dims()[1], 64);
//! }
//! # Ok::<(), wengert_data::Error>(())
//! ```
//!
//! ## Data sets
//!
//! A [`Dataset`] holds inputs (`Tensor<f32>`, examples along the first axis)
//! and [`Targets`]: class labels or regression values.
//!
//! - [`digits()`]: the UCI "Optical Recognition of Handwritten Digits" test set
//!   (E. Alpaydin and C. Kaynak, 1998; UCI Machine Learning Repository; CC BY
//!   4.0), as distributed with scikit-learn: 1797 8x8 images, embedded in the
//!   crate.
//! - [`idx`]: the IDX format of MNIST, raw or gzip-compressed, validated before
//!   anything is allocated; [`idx::load_mnist`] pairs images with labels.
//! - [`synthetic`]: XOR, two moons, spirals, Gaussian blobs, a noisy sine and a
//!   noisy polynomial, all drawn from an RNG you seed.
//!
//! ## Batches and splits
//!
//! [`Dataset::batches`] iterates over one epoch of mini-batches, optionally
//! shuffled by a seeded RNG and dropping the last short batch;
//! [`Dataset::split`] makes a seeded train/validation/test split.
//!
//! ## Augmentation
//!
//! [`augment`] shifts (with zero fill), flips and adds Gaussian noise to
//! `[n, c, h, w]` images.
//!
//! ## Errors
//!
//! Everything that reads data or takes parameters returns [`Result`]; each
//! failure is a named [`Error`] variant carrying the numbers involved.

#![forbid(unsafe_code)]

pub mod augment;
mod batch;
mod dataset;
mod digits;
mod error;
pub mod idx;
pub mod synthetic;

pub use batch::{Batch, Batches, Splits};
pub use dataset::{Dataset, Targets};
pub use digits::{
    DIGITS_CLASSES, DIGITS_LEN, DIGITS_MAX_PIXEL, DIGITS_PIXELS, digits, parse_digits_csv,
};
pub use error::{Error, Result};
