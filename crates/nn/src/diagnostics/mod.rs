//! Gradient-flow diagnostics: see the vanishing- and exploding-gradient
//! problems happen in your own network.
//!
//! - [`param_stats`]: for every parameter after a backward pass, the
//!   gradient norm `‖g‖`, the weight norm `‖θ‖` and their ratio `‖g‖/‖θ‖`;
//! - [`Snapshot`] and [`update_ratios`]: the update-to-weight ratio
//!   `‖Δθ‖/‖θ‖` of an optimizer step (for plain SGD, `lr·‖g‖/‖θ‖`);
//! - [`Monitor`] and [`Probe`]: activation statistics recorded on every
//!   forward without changing the model's maths: the fraction of dead ReLU
//!   units and of saturated sigmoid or tanh outputs;
//! - [`GradientReport`]: all of it per layer in one call, with vanishing and
//!   exploding layers flagged against [`Thresholds`], printable as a table.
//!
//! All norms are L2 norms accumulated in `f64`.
//!
//! ```
//! use rand::SeedableRng;
//! use wengert_core::Tensor;
//! use wengert_nn::diagnostics::{ActivationKind, GradientReport, Monitor};
//! use wengert_nn::{Linear, Module, Reduction, Sequential, Sigmoid, loss};
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let monitor = Monitor::new();
//! let mut net = Sequential::new();
//! for i in 0..4 {
//!     net.push(Linear::<f64>::new(16, 16, true, &mut rng)?);
//!     net.push(monitor.probe(&format!("sigmoid{i}"), ActivationKind::Sigmoid, Sigmoid));
//! }
//! net.push(Linear::new(16, 3, true, &mut rng)?);
//! let x = Tensor::randn([8, 16], 0.0, 1.0, &mut rng)?;
//! let l = loss::cross_entropy(&net.forward(&x), &[0, 1, 2, 0, 1, 2, 0, 1], Reduction::Mean)?;
//! let report = GradientReport::new(&net, &l.backward()?);
//! println!("{report}");
//! for s in monitor.stats() {
//!     println!("{s}");
//! }
//! // Each sigmoid scales the gradient by at most 1/4: the first layer gets less.
//! assert!(report.first_to_last_ratio().unwrap() < 1.0);
//! assert_eq!(monitor.stats().len(), 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod probe;
mod report;
mod stats;
#[cfg(test)]
mod tests;

pub use probe::{ActivationKind, ActivationStats, Monitor, Probe};
pub use report::{GradientReport, Health, LayerReport, Thresholds};
pub use stats::{ParamStats, Snapshot, UpdateStats, param_stats, update_ratios};
