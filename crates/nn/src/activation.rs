//! Activations as layers. As functions they are the core tensor methods
//! ([`Tensor::sigmoid`], [`Tensor::relu`], [`Tensor::softmax`], ...), plus
//! [`prelu`] here, whose slope is a learnable parameter.
//!
//! Every layer but [`Prelu`] is parameter-free and works on any shape; the
//! softmax layers need their axis to exist.

use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};
use crate::module::Module;

/// Defines a parameter-free activation layer that applies one core method.
macro_rules! stateless {
    ($(#[$doc:meta])* $name:ident, |$x:ident, $s:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name;

        impl<T: Float> Module<T> for $name {
            fn try_forward(&self, $x: &Tensor<T>) -> Result<Tensor<T>> {
                let $s = self;
                let _ = $s;
                Ok($body)
            }
            fn visit_parameters(&self, _f: &mut dyn FnMut(&str, &Tensor<T>)) {}
            fn visit_parameters_mut(&mut self, _f: &mut dyn FnMut(&str, &mut Tensor<T>)) {}
        }
    };
}

stateless!(
    /// The logistic function `1 / (1 + e^-x)` ([`Tensor::sigmoid`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Module, Sigmoid};
    /// assert_eq!(Sigmoid.forward(&Tensor::<f64>::zeros([1])).to_vec(), vec![0.5]);
    /// ```
    Sigmoid, |x, s| x.sigmoid()
);
stateless!(
    /// The hyperbolic tangent ([`Tensor::tanh`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Module, Tanh};
    /// assert_eq!(Tanh.forward(&Tensor::<f64>::zeros([1])).to_vec(), vec![0.0]);
    /// ```
    Tanh, |x, s| x.tanh()
);
stateless!(
    /// `max(x, 0)` ([`Tensor::relu`]; gradient 0 at 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Module, Relu};
    /// let x = Tensor::from_vec(vec![-1.0f32, 2.0], [2]).unwrap();
    /// assert_eq!(Relu.forward(&x).to_vec(), vec![0.0, 2.0]);
    /// ```
    Relu, |x, s| x.relu()
);
stateless!(
    /// SELU with the constants of Klambauer et al. ([`Tensor::selu`]); pair it
    /// with `Init::LeCunNormal { gain: 1.0 }`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Module, Selu};
    /// assert_eq!(Selu.forward(&Tensor::<f64>::zeros([1])).to_vec(), vec![0.0]);
    /// ```
    Selu, |x, s| x.selu()
);
stateless!(
    /// `ln(1 + e^x)`, computed stably ([`Tensor::softplus`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Module, Softplus};
    /// let y = Softplus.forward(&Tensor::<f64>::from_vec(vec![0.0, 1000.0], [2]).unwrap());
    /// assert_eq!(y.to_vec(), vec![2f64.ln(), 1000.0]);
    /// ```
    Softplus, |x, s| x.softplus()
);

/// `x` for `x > 0`, `slope · x` otherwise ([`Tensor::leaky_relu`]).
/// The default slope is 0.01, as PyTorch.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{LeakyRelu, Module};
/// let x = Tensor::from_vec(vec![-2.0f64, 3.0], [2]).unwrap();
/// assert_eq!(LeakyRelu { slope: 0.5 }.forward(&x).to_vec(), vec![-1.0, 3.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    /// The slope for negative inputs.
    pub slope: f64,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu { slope: 0.01 }
    }
}

/// `x` for `x > 0`, `alpha · (e^x − 1)` otherwise ([`Tensor::elu`]). The
/// default alpha is 1.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Elu, Module};
/// let y = Elu::default().forward(&Tensor::<f64>::from_vec(vec![1.0], [1]).unwrap());
/// assert_eq!(y.to_vec(), vec![1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    /// The scale of the negative branch.
    pub alpha: f64,
}

impl Default for Elu {
    fn default() -> Self {
        Elu { alpha: 1.0 }
    }
}

/// GELU: `x · Φ(x)` with the exact normal CDF ([`Tensor::gelu_erf`], PyTorch's
/// default) or, with `approximate`, the tanh form ([`Tensor::gelu`]).
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Gelu, Module};
/// let y = Gelu::default().forward(&Tensor::<f64>::from_vec(vec![0.0], [1]).unwrap());
/// assert_eq!(y.to_vec(), vec![0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Gelu {
    /// Use the tanh approximation instead of the exact erf form.
    pub approximate: bool,
}

/// Softmax along `axis` ([`Tensor::softmax`]); negative axes count from the end.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Module, Softmax};
/// let y = Softmax { axis: -1 }.forward(&Tensor::<f64>::zeros([1, 4]));
/// assert_eq!(y.to_vec(), vec![0.25; 4]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softmax {
    /// The axis that sums to 1.
    pub axis: isize,
}

/// Log-softmax along `axis` ([`Tensor::log_softmax`], fused through logsumexp).
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{LogSoftmax, Module};
/// let y = LogSoftmax { axis: 1 }.forward(&Tensor::<f64>::zeros([1, 2]));
/// assert_eq!(y.to_vec(), vec![-(2f64.ln()); 2]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogSoftmax {
    /// The axis normalised over.
    pub axis: isize,
}

/// Implements [`Module`] for a parameter-free layer with configuration.
macro_rules! configured {
    ($name:ident, |$s:ident, $x:ident| $body:expr) => {
        impl<T: Float> Module<T> for $name {
            fn try_forward(&self, $x: &Tensor<T>) -> Result<Tensor<T>> {
                let $s = self;
                $body
            }
            fn visit_parameters(&self, _f: &mut dyn FnMut(&str, &Tensor<T>)) {}
            fn visit_parameters_mut(&mut self, _f: &mut dyn FnMut(&str, &mut Tensor<T>)) {}
        }
    };
}

configured!(LeakyRelu, |s, x| Ok(x.leaky_relu(T::from_f64(s.slope))));
configured!(Elu, |s, x| Ok(x.elu(T::from_f64(s.alpha))));
configured!(Gelu, |s, x| Ok(if s.approximate {
    x.gelu()
} else {
    x.gelu_erf()
}));
configured!(Softmax, |s, x| Ok(x.try_softmax(s.axis)?));
configured!(LogSoftmax, |s, x| Ok(x.try_log_softmax(s.axis)?));

/// Returns PReLU, `max(x, 0) + a · min(x, 0)`, computed as
/// `relu(x) − a · relu(−x)`. A one-element `weight` is shared by all elements;
/// a weight of `C` elements gives one slope per channel along axis 1 of `x`.
///
/// # Errors
///
/// [`Error::InputShape`] when `weight` has `C > 1` elements and `x` has no
/// axis 1 of length `C`; [`Error::InvalidConfig`] for an empty or non-vector
/// weight.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// let x = Tensor::from_vec(vec![-2.0f64, 3.0, -4.0, 5.0], [2, 2]).unwrap();
/// let a = Tensor::from_vec(vec![0.5, 0.25], [2]).unwrap();
/// assert_eq!(wengert_nn::prelu(&x, &a).unwrap().to_vec(), vec![-1.0, 3.0, -2.0, 5.0]);
/// ```
pub fn prelu<T: Float>(x: &Tensor<T>, weight: &Tensor<T>) -> Result<Tensor<T>> {
    let c = weight.numel();
    if weight.rank() != 1 || c == 0 {
        return Err(Error::InvalidConfig {
            layer: "prelu",
            what: format!("weight must be a non-empty vector, got {}", weight.shape()),
        });
    }
    let a = if c == 1 {
        weight.try_reshape(())?
    } else {
        if x.rank() < 2 || x.dims()[1] != c {
            return Err(Error::InputShape {
                layer: "prelu",
                expected: format!("[N, {c}, ...]"),
                actual: x.shape().clone(),
            });
        }
        let mut dims = vec![c];
        dims.resize(x.rank() - 1, 1);
        weight.try_reshape(dims)?
    };
    Ok(x.relu().try_sub(&x.neg().relu().try_mul(&a)?)?)
}

/// PReLU: leaky ReLU with a learnable slope ([`prelu`]), one shared slope or
/// one per channel (axis 1). Default initialisation, PyTorch's: every slope
/// 0.25.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Module, Prelu};
/// let p = Prelu::<f64>::new(1).unwrap();
/// let x = Tensor::from_vec(vec![-4.0, 4.0], [2]).unwrap();
/// assert_eq!(p.forward(&x).to_vec(), vec![-1.0, 4.0]);
/// assert_eq!(p.named_parameters()[0].0, "weight");
/// ```
#[derive(Clone, Debug)]
pub struct Prelu<T: Float = f32> {
    /// The slopes, `[1]` or `[channels]`.
    pub weight: Tensor<T>,
}

impl<T: Float> Prelu<T> {
    /// Builds a PReLU with `num_parameters` slopes (1, or the channel count),
    /// each 0.25, trainable.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for `num_parameters == 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::Prelu::<f32>::new(0).is_err());
    /// ```
    pub fn new(num_parameters: usize) -> Result<Self> {
        if num_parameters == 0 {
            return Err(Error::InvalidConfig {
                layer: "prelu",
                what: "num_parameters must be at least 1".to_string(),
            });
        }
        Ok(Prelu {
            weight: Tensor::full([num_parameters], T::from_f64(0.25)).requires_grad(),
        })
    }
}

impl<T: Float> Module<T> for Prelu<T> {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        prelu(x, &self.weight)
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
    use crate::testing::check_module;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// Inputs away from the kink at 0 of relu, leaky relu, elu and prelu.
    fn away_from_zero(shape: &[usize], seed: u64) -> Tensor<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        Tensor::randn(shape, 0.0, 1.0, &mut rng).unwrap().map(|v| {
            if v.abs() < 0.1 {
                v + 0.2f64.copysign(v)
            } else {
                v
            }
        })
    }

    #[test]
    fn activation_layers_grad_match_finite_differences() {
        let x = away_from_zero(&[3, 4], 1);
        check_module(Sigmoid, &x);
        check_module(Tanh, &x);
        check_module(Relu, &x);
        check_module(Selu, &x);
        check_module(Softplus, &x);
        check_module(LeakyRelu { slope: 0.1 }, &x);
        check_module(Elu { alpha: 1.5 }, &x);
        check_module(Gelu { approximate: false }, &x);
        check_module(Gelu { approximate: true }, &x);
        check_module(Softmax { axis: 1 }, &x);
        check_module(LogSoftmax { axis: 0 }, &x);
    }

    #[test]
    fn prelu_grad_matches_finite_differences_over_input_and_slopes() {
        let shared = Prelu::<f64>::new(1).unwrap();
        check_module(shared, &away_from_zero(&[2, 3], 2));
        let mut per_channel = Prelu::<f64>::new(3).unwrap();
        per_channel
            .set_parameters(&[Tensor::from_vec(vec![0.1, 0.2, 0.3], [3]).unwrap()])
            .unwrap();
        check_module(per_channel, &away_from_zero(&[2, 3, 4], 3));
    }

    #[test]
    fn prelu_golden_and_shape_error() {
        // hand-derived: y = x for x > 0, a·x otherwise; dy/da = min(x, 0).
        let a = Tensor::from_vec(vec![0.25f64], [1])
            .unwrap()
            .requires_grad();
        let x = Tensor::from_vec(vec![-2.0, 3.0], [2]).unwrap();
        let y = prelu(&x, &a).unwrap();
        assert_eq!(y.to_vec(), vec![-0.5, 3.0]);
        assert_eq!(
            y.sum().backward().unwrap().get(&a).unwrap().to_vec(),
            vec![-2.0]
        );
        let p = Prelu::<f32>::new(3).unwrap();
        let e = p.try_forward(&Tensor::zeros([2, 4])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "prelu: expected input of shape [N, 3, ...], got [2, 4]"
        );
    }

    #[test]
    fn softmax_layer_with_a_missing_axis_is_an_error() {
        let e = Softmax { axis: 2 }.try_forward(&Tensor::<f32>::zeros([2, 2]));
        assert!(e.is_err());
    }
}
