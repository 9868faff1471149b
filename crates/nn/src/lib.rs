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
//! [`Linear`]; the convolutions [`Conv1d`], [`Conv2d`] and
//! [`ConvTranspose2d`]; the pooling layers [`MaxPool1d`], [`MaxPool2d`],
//! [`AvgPool1d`], [`AvgPool2d`] and [`GlobalAvgPool`]; the activations of
//! [`activation`] as layers; [`Sequential`], [`Residual`] and [`Flatten`];
//! [`Dropout`]; [`LayerNorm`], [`BatchNorm1d`] and [`BatchNorm2d`];
//! [`Embedding`]. Each documents its default initialisation.
//!
//! ## Initialisers and losses
//!
//! [`init::Init`] lists the schemes with their variances; [`loss`] the loss
//! functions with their [`Reduction`].
//!
//! ## Training
//!
//! [`optim`] holds the optimizers ([`optim::Sgd`], [`optim::RmsProp`],
//! [`optim::Adam`] and AdamW, [`optim::Adagrad`]) behind the
//! [`optim::Optimizer`] trait, with state keyed by parameter name that can be
//! exported and reloaded; [`schedule`] the learning-rate schedules; [`clip`]
//! gradient clipping by value and by global norm; [`penalty`] L1, L2 and
//! elastic-net penalties; [`early_stopping`] early stopping with the best
//! weights restored; [`history`] a per-epoch history written as CSV;
//! [`checkpoint`] saves and loads models and optimizer state as checksummed
//! safetensors files, atomically. They are parts for the user's own training
//! loop:
//!
//! ```
//! use wengert_core::Tensor;
//! use wengert_nn::optim::{Adam, AdamConfig, Optimizer};
//! use wengert_nn::penalty::{Penalty, penalty, weights_only};
//! use wengert_nn::schedule::{CosineAnnealingLr, LrSchedule};
//! use wengert_nn::{Linear, Module, Reduction, clip, loss};
//! let mut model = Linear::<f64>::from_tensors(Tensor::zeros([1, 1]).requires_grad(), None)?;
//! let mut opt = Adam::new(AdamConfig { lr: 0.2, ..Default::default() })?;
//! let schedule = CosineAnnealingLr::new(0.2, 200, 0.0)?;
//! let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3, 1])?;
//! let y = Tensor::from_vec(vec![2.0, 4.0, 6.0], [3, 1])?;
//! for epoch in 0..200 {
//!     schedule.apply(&mut opt, epoch)?;
//!     let data_loss = loss::mse_loss(&model.forward(&x), &y, Reduction::Mean)?;
//!     let l = &data_loss + &penalty(&model, Penalty::L2(1e-4), weights_only)?;
//!     let mut grads = l.backward()?;
//!     clip::clip_grad_norm(&model, &mut grads, 10.0)?;
//!     opt.step(&mut model, &grads)?;
//! }
//! assert!((model.weight.item() - 2.0).abs() < 1e-2, "{}", model.weight.item());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Diagnostics
//!
//! [`diagnostics`] shows gradient flow after a backward pass: per-parameter
//! gradient and weight norms, update-to-weight ratios of an optimizer step,
//! dead ReLU and saturated sigmoid or tanh units recorded by probe layers, and
//! a one-call [`diagnostics::GradientReport`] that flags vanishing and
//! exploding layers.
//!
//! ## Errors
//!
//! One [`Error`] enum: a layer given the wrong shape names itself, the expected
//! and the actual shape; losses name bad labels, batch-size mismatches and
//! targets out of range; optimizers and schedules name invalid
//! hyper-parameters ([`Error::InvalidHyperParameter`]) and trainable
//! parameters left without a gradient ([`Error::MissingGradient`]); core
//! errors pass through as [`Error::Core`].

#![forbid(unsafe_code)]

pub mod activation;
mod batch_norm;
pub mod checkpoint;
pub mod clip;
mod container;
mod conv;
mod conv_transpose;
pub mod diagnostics;
mod dropout;
pub mod early_stopping;
mod embedding;
mod error;
pub mod history;
pub mod init;
mod linear;
pub mod loss;
pub mod module;
mod norm;
pub mod optim;
pub mod penalty;
mod pool;
pub mod schedule;
#[cfg(test)]
mod testing;

pub use activation::{
    Elu, Gelu, LeakyRelu, LogSoftmax, Prelu, Relu, Selu, Sigmoid, Softmax, Softplus, Tanh, prelu,
};
pub use batch_norm::{BatchNorm1d, BatchNorm2d};
pub use container::{Flatten, Residual, Sequential};
pub use conv::{Conv1d, Conv2d};
pub use conv_transpose::ConvTranspose2d;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use error::{Error, Result};
pub use linear::Linear;
pub use loss::Reduction;
pub use module::Module;
pub use norm::LayerNorm;
pub use pool::{AvgPool1d, AvgPool2d, GlobalAvgPool, MaxPool1d, MaxPool2d};
