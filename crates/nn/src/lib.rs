//! # wengert-nn
//!
//! Modules, layers, activations, initialisers and losses built from the
//! differentiable ops of [`wengert_core`]. Layers compose core ops and carry no
//! backward code of their own: every gradient comes from the tape.
//!
//! ## A quick example
//!
//! ```
//! use rand::SeedableRng;
//! use wengert_core::Tensor;
//! use wengert_nn::{Linear, Module, Reduction, Sequential, Tanh, loss};
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let net = Sequential::new()
//!     .add(Linear::<f64>::new(2, 8, true, &mut rng)?)
//!     .add(Tanh)
//!     .add(Linear::new(8, 3, true, &mut rng)?);
//! let x = Tensor::randn([4, 2], 0.0, 1.0, &mut rng)?;
//! let l = loss::cross_entropy(&net.forward(&x), &[0, 2, 1, 0], Reduction::Mean)?;
//! let grads = l.backward()?;
//! for (name, p) in net.named_parameters() {
//!     assert_eq!(grads.get(&p).unwrap().shape(), p.shape(), "{name}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Modules and parameters
//!
//! [`Module`] is the trait of layers and networks: `try_forward` and its
//! panicking twin `forward`, named parameters (`layers.0.weight`), buffers,
//! train and eval mode, parameter counts and freezing. See the [`module`] docs
//! for how an optimizer visits and updates parameters.
//!
//! ## Layers
//!
//! [`Linear`]; the activations of [`activation`] as layers; [`Sequential`],
//! [`Residual`] and [`Flatten`]; [`Dropout`]; [`LayerNorm`] and
//! [`BatchNorm1d`]; [`Embedding`]. Each documents its default initialisation.
//!
//! ## Initialisers and losses
//!
//! [`init::Init`] lists the schemes with their variances; [`loss`] the loss
//! functions with their [`Reduction`].
//!
//! ## Errors
//!
//! One [`Error`] enum: a layer given the wrong shape names itself, the expected
//! and the actual shape; losses name bad labels, batch-size mismatches and
//! targets out of range; core errors pass through as [`Error::Core`].

#![forbid(unsafe_code)]

pub mod activation;
pub mod clip;
mod container;
mod dropout;
mod embedding;
mod error;
pub mod init;
mod linear;
pub mod loss;
pub mod module;
mod norm;
pub mod optim;
pub mod penalty;
pub mod schedule;
#[cfg(test)]
mod testing;

pub use activation::{
    Elu, Gelu, LeakyRelu, LogSoftmax, Prelu, Relu, Selu, Sigmoid, Softmax, Softplus, Tanh, prelu,
};
pub use container::{Flatten, Residual, Sequential};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use error::{Error, Result};
pub use linear::Linear;
pub use loss::Reduction;
pub use module::Module;
pub use norm::{BatchNorm1d, LayerNorm};
