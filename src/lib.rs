//! # wengert
//!
//! Reverse-mode automatic differentiation and neural networks on the CPU.
//!
//! This facade re-exports the workspace crates; [`core`] (also re-exported at
//! the top level) holds tensors, the Wengert tape and the differentiable ops;
//! [`nn`] holds modules, layers, initialisers and losses;
//! [`data`] holds the data sets (the embedded UCI digits, MNIST's IDX format,
//! synthetic sets), mini-batches and augmentation.
//!
//! ```
//! use wengert::Tensor;
//! let x = Tensor::from_vec(vec![3.0f64], [1])?.requires_grad();
//! let y = (&(&x * &x) + &x).sum();            // y = x² + x
//! assert_eq!(y.backward()?.get(&x).unwrap().item(), 7.0); // dy/dx = 2x + 1
//! # Ok::<(), wengert::Error>(())
//! ```

pub use wengert_core as core;
pub use wengert_core::*;
pub use wengert_data as data;
pub use wengert_nn as nn;
