//! [`GradientReport`]: the per-parameter statistics of a backward pass
//! grouped by layer, with vanishing and exploding layers flagged, and a
//! table to print.
//!
//! A *layer* is the run of parameters that share a name up to the last dot
//! (`layers.0.weight` and `layers.0.bias` form `layers.0`); its gradient
//! norm is the L2 norm of all their gradients together. The *reference* is
//! the last layer with a finite, non-zero gradient norm (usually the output
//! layer), and each layer's gradient norm is also given relative to it.

use std::fmt;

use wengert_core::{Float, Gradients};

use super::stats::{ParamStats, param_stats};
use crate::error::{Error, Result};
use crate::module::Module;

/// The limits a [`GradientReport`] flags against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// A layer whose gradient norm is below this is vanishing (default
    /// `1e-7`).
    pub vanishing_norm: f64,
    /// A layer whose gradient norm relative to the reference layer's is
    /// below this is vanishing (default `1e-3`: three orders of magnitude).
    pub vanishing_ratio: f64,
    /// A layer whose gradient norm is above this, or not finite, is
    /// exploding (default `1e3`).
    pub exploding_norm: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            vanishing_norm: 1e-7,
            vanishing_ratio: 1e-3,
            exploding_norm: 1e3,
        }
    }
}

/// The verdict on one layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Within the thresholds.
    Healthy,
    /// Gradient norm below [`Thresholds::vanishing_norm`], or below
    /// [`Thresholds::vanishing_ratio`] times the reference layer's.
    Vanishing,
    /// Gradient norm above [`Thresholds::exploding_norm`], or not finite.
    Exploding,
    /// No parameter of the layer has a gradient (frozen, or unreached).
    NoGradient,
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Health::Healthy => "ok",
            Health::Vanishing => "VANISHING",
            Health::Exploding => "EXPLODING",
            Health::NoGradient => "no gradient",
        })
    }
}

/// One layer of a [`GradientReport`].
#[derive(Clone, Debug, PartialEq)]
pub struct LayerReport {
    /// The layer's name: its parameters' common prefix (empty for the
    /// parameters of a bare layer such as a lone `Linear`).
    pub name: String,
    /// Its parameters, in visiting order.
    pub params: Vec<ParamStats>,
    /// The L2 norm of all its parameters' gradients; `None` when none has a
    /// gradient.
    pub grad_norm: Option<f64>,
    /// `grad_norm` divided by the reference layer's.
    pub relative_to_reference: Option<f64>,
    /// The verdict.
    pub health: Health,
}

/// The gradient-flow diagnosis of a model after a backward pass.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::diagnostics::{GradientReport, Health};
/// use wengert_nn::{Linear, Module, Sequential, Sigmoid};
/// let net = Sequential::new()
///     .add(Linear::<f64>::from_tensors(Tensor::ones([2, 2]).requires_grad(), None)?)
///     .add(Sigmoid)
///     .add(Linear::from_tensors(Tensor::ones([1, 2]).requires_grad(), None)?);
/// let grads = net.forward(&Tensor::full([1, 2], 20.0)).sum().backward()?;
/// let report = GradientReport::new(&net, &grads);
/// // sigmoid(40) is saturated: its derivative, about 4e-18, stops the gradient.
/// assert_eq!(report.layers()[0].health, Health::Vanishing);
/// assert_eq!(report.vanishing(), ["layers.0"]);
/// assert!(report.exploding().is_empty());
/// println!("{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradientReport {
    layers: Vec<LayerReport>,
    thresholds: Thresholds,
}

/// The part of a parameter name before its last dot.
fn layer_of(name: &str) -> &str {
    name.rsplit_once('.').map_or("", |(prefix, _)| prefix)
}

impl GradientReport {
    /// Diagnoses `model` with the gradients `grads` and the default
    /// [`Thresholds`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::diagnostics::GradientReport;
    /// use wengert_nn::{Linear, Module};
    /// let model = Linear::<f32>::from_tensors(Tensor::ones([1, 2]).requires_grad(), None)?;
    /// let grads = model.forward(&Tensor::ones([1, 2])).sum().backward()?;
    /// assert!(GradientReport::new(&model, &grads).is_healthy());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new<T: Float>(model: &dyn Module<T>, grads: &Gradients<T>) -> Self {
        Self::build(model, grads, Thresholds::default())
    }

    /// Diagnoses `model` with the gradients `grads` and the given thresholds.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperParameter`] naming the threshold that is
    /// negative or not finite.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::diagnostics::{GradientReport, Thresholds};
    /// use wengert_nn::{Linear, Module};
    /// let model = Linear::<f64>::from_tensors(Tensor::ones([1, 2]).requires_grad(), None)?;
    /// let grads = model.forward(&Tensor::full([1, 2], 3.0)).sum().backward()?;
    /// let strict = Thresholds { exploding_norm: 1.0, ..Default::default() };
    /// let report = GradientReport::with_thresholds(&model, &grads, strict)?;
    /// assert_eq!(report.exploding(), [""]); // ‖[3, 3]‖ > 1; a bare layer has no prefix
    /// let bad = Thresholds { vanishing_ratio: -1.0, ..Default::default() };
    /// assert!(GradientReport::with_thresholds(&model, &grads, bad).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_thresholds<T: Float>(
        model: &dyn Module<T>,
        grads: &Gradients<T>,
        thresholds: Thresholds,
    ) -> Result<Self> {
        for (name, v) in [
            ("vanishing_norm", thresholds.vanishing_norm),
            ("vanishing_ratio", thresholds.vanishing_ratio),
            ("exploding_norm", thresholds.exploding_norm),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidHyperParameter {
                    owner: "gradient_report",
                    name,
                    what: format!("must be finite and >= 0, got {v}"),
                });
            }
        }
        Ok(Self::build(model, grads, thresholds))
    }

    fn build<T: Float>(model: &dyn Module<T>, grads: &Gradients<T>, th: Thresholds) -> Self {
        let mut layers: Vec<LayerReport> = Vec::new();
        for p in param_stats(model, grads) {
            let name = layer_of(&p.name);
            match layers.last_mut() {
                Some(l) if l.name == name => l.params.push(p),
                _ => layers.push(LayerReport {
                    name: name.to_string(),
                    params: vec![p],
                    grad_norm: None,
                    relative_to_reference: None,
                    health: Health::NoGradient,
                }),
            }
        }
        for l in &mut layers {
            let norms: Vec<f64> = l.params.iter().filter_map(|p| p.grad_norm).collect();
            if !norms.is_empty() {
                l.grad_norm = Some(norms.iter().map(|n| n * n).sum::<f64>().sqrt());
            }
        }
        let reference = layers
            .iter()
            .rev()
            .filter_map(|l| l.grad_norm)
            .find(|n| n.is_finite() && *n > 0.0);
        for l in &mut layers {
            let Some(norm) = l.grad_norm else { continue };
            l.relative_to_reference = reference.map(|r| norm / r);
            l.health = if !norm.is_finite() || norm > th.exploding_norm {
                Health::Exploding
            } else if norm < th.vanishing_norm
                || l.relative_to_reference
                    .is_some_and(|r| r < th.vanishing_ratio)
            {
                Health::Vanishing
            } else {
                Health::Healthy
            };
        }
        GradientReport {
            layers,
            thresholds: th,
        }
    }

    /// Returns the layers, in visiting order.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::diagnostics::GradientReport;
    /// use wengert_nn::{Linear, Module};
    /// let w = Tensor::ones([1, 2]).requires_grad();
    /// let model = Linear::<f32>::from_tensors(w, Some(Tensor::ones([1]))).unwrap();
    /// let grads = model.forward(&Tensor::ones([1, 2])).sum().backward().unwrap();
    /// let report = GradientReport::new(&model, &grads);
    /// let layer = &report.layers()[0];
    /// assert_eq!(layer.params.len(), 2);
    /// assert_eq!(layer.grad_norm, Some(2f64.sqrt())); // the frozen bias has none
    /// ```
    pub fn layers(&self) -> &[LayerReport] {
        &self.layers
    }

    /// Returns the thresholds used.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::diagnostics::{GradientReport, Thresholds};
    /// use wengert_core::Tensor;
    /// let grads = Tensor::<f32>::ones([1]).requires_grad().sum().backward().unwrap();
    /// let report = GradientReport::new(&wengert_nn::Relu, &grads);
    /// assert_eq!(*report.thresholds(), Thresholds::default());
    /// ```
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    fn named(&self, health: Health) -> Vec<&str> {
        self.layers
            .iter()
            .filter(|l| l.health == health)
            .map(|l| l.name.as_str())
            .collect()
    }

    /// Returns the names of the vanishing layers.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::diagnostics::GradientReport;
    /// use wengert_core::Tensor;
    /// let grads = Tensor::<f32>::ones([1]).requires_grad().sum().backward().unwrap();
    /// let report = GradientReport::new(&wengert_nn::Relu, &grads);
    /// assert!(report.vanishing().is_empty());
    /// ```
    pub fn vanishing(&self) -> Vec<&str> {
        self.named(Health::Vanishing)
    }

    /// Returns the names of the exploding layers.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::diagnostics::GradientReport;
    /// use wengert_core::Tensor;
    /// let grads = Tensor::<f32>::ones([1]).requires_grad().sum().backward().unwrap();
    /// let report = GradientReport::new(&wengert_nn::Relu, &grads);
    /// assert!(report.exploding().is_empty());
    /// ```
    pub fn exploding(&self) -> Vec<&str> {
        self.named(Health::Exploding)
    }

    /// Returns true when no layer vanishes or explodes.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::diagnostics::GradientReport;
    /// use wengert_core::Tensor;
    /// let grads = Tensor::<f64>::ones([1]).requires_grad().sum().backward().unwrap();
    /// assert!(GradientReport::new(&wengert_nn::Tanh, &grads).is_healthy());
    /// ```
    pub fn is_healthy(&self) -> bool {
        self.layers
            .iter()
            .all(|l| !matches!(l.health, Health::Vanishing | Health::Exploding))
    }

    /// Returns the first layer's gradient norm over the last layer's (the
    /// first and last layers that have a gradient), the number the
    /// vanishing-gradient lecture is about.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::diagnostics::GradientReport;
    /// use wengert_nn::{Linear, Module, Sequential};
    /// let net = Sequential::new()
    ///     .add(Linear::<f64>::from_tensors(Tensor::ones([1, 1]).requires_grad(), None)?)
    ///     .add(Linear::from_tensors(Tensor::full([1, 1], 4.0).requires_grad(), None)?);
    /// // y = 4·w₀·x with x = 1: dy/dw₀ = 4, dy/dw₁ = w₀·x = 1.
    /// let grads = net.forward(&Tensor::ones([1, 1])).sum().backward()?;
    /// assert_eq!(GradientReport::new(&net, &grads).first_to_last_ratio(), Some(4.0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first_to_last_ratio(&self) -> Option<f64> {
        let mut with_grad = self.layers.iter().filter_map(|l| l.grad_norm);
        let first = with_grad.next()?;
        let last = with_grad.next_back().unwrap_or(first);
        Some(first / last)
    }
}

/// Formats an optional number in scientific notation, `-` for none.
fn sci(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.3e}"))
}

impl fmt::Display for GradientReport {
    /// A table with one row per parameter (norms, ratio, the layer's norm
    /// relative to the reference and its verdict), then the flagged layers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .layers
            .iter()
            .flat_map(|l| &l.params)
            .map(|p| p.name.chars().count())
            .max()
            .unwrap_or(0)
            .max("parameter".len());
        writeln!(
            f,
            "{:<width$}  {:<12}  {:>10}  {:>10}  {:>10}  {:>10}  layer",
            "parameter", "shape", "|w|", "|g|", "|g|/|w|", "layer/ref"
        )?;
        for l in &self.layers {
            for p in &l.params {
                let shape = format!("{:?}", p.dims);
                writeln!(
                    f,
                    "{:<width$}  {:<12}  {:>10}  {:>10}  {:>10}  {:>10}  {}",
                    p.name,
                    shape,
                    sci(Some(p.weight_norm)),
                    sci(p.grad_norm),
                    sci(p.grad_to_weight),
                    sci(l.relative_to_reference),
                    l.health
                )?;
            }
        }
        let list = |names: Vec<&str>| {
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        };
        writeln!(f, "vanishing: {}", list(self.vanishing()))?;
        write!(f, "exploding: {}", list(self.exploding()))
    }
}
