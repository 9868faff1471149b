//! [`Linear`]: the fully connected layer (the notes' Dense), `y = x Wᵀ + b`.

use rand::Rng;
use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};
use crate::init::{FanMode, Init};
use crate::module::{Module, check_trailing};

/// A fully connected layer: `y = x Wᵀ + b` over the last axis of `x`.
///
/// `weight` is stored `[out, in]` as in PyTorch and enters the product
/// transposed through GEMM strides (no copy); `bias` is `[out]`. The input is
/// `[*, in]` (any leading dimensions, including none), the output `[*, out]`.
///
/// Default initialisation ([`Linear::new`]), PyTorch's: the weight from
/// `Init::KaimingUniform { gain: √(1/3), mode: FanIn }`, which is
/// U(−1/√in, 1/√in), and the bias from U(−1/√in, 1/√in).
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Linear, Module};
/// let w = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]).unwrap();
/// let b = Tensor::from_vec(vec![0.5, -0.5], [2]).unwrap();
/// let layer = Linear::from_tensors(w, Some(b)).unwrap();
/// let y = layer.forward(&Tensor::from_vec(vec![1.0, 0.0, -1.0], [1, 3]).unwrap());
/// assert_eq!(y.to_vec(), vec![1.0 - 3.0 + 0.5, 4.0 - 6.0 - 0.5]);
/// ```
#[derive(Clone, Debug)]
pub struct Linear<T: Float = f32> {
    /// The weight, `[out, in]`.
    pub weight: Tensor<T>,
    /// The bias, `[out]`, if any.
    pub bias: Option<Tensor<T>>,
}

impl<T: Float> Linear<T> {
    /// Builds a layer from `in_features` to `out_features` with PyTorch's default
    /// initialisation (see the type docs), drawn from `rng`. The parameters are
    /// trainable.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when `in_features` is 0 (the initialisation
    /// bound 1/√in is infinite).
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let l = wengert_nn::Linear::<f32>::new(4, 2, true, &mut rng).unwrap();
    /// assert_eq!(l.weight.dims(), &[2, 4]);
    /// assert!(l.weight.to_vec().iter().all(|w| w.abs() <= 0.5));
    /// ```
    pub fn new<R: Rng + ?Sized>(
        in_features: usize,
        out_features: usize,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self> {
        if in_features == 0 {
            return Err(Error::InvalidConfig {
                layer: "linear",
                what: "in_features must be at least 1".to_string(),
            });
        }
        let init = Init::KaimingUniform {
            gain: (1.0f64 / 3.0).sqrt(),
            mode: FanMode::FanIn,
        };
        let weight = init
            .sample::<T, R>([out_features, in_features], rng)?
            .requires_grad();
        let bound = 1.0 / (in_features as f64).sqrt();
        let bias = if bias {
            let b = Init::Uniform {
                low: -bound,
                high: bound,
            };
            Some(b.sample::<T, R>([out_features], rng)?.requires_grad())
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }

    /// Builds a layer from a weight `[out, in]` and an optional bias `[out]`,
    /// stored as given (their tracking included).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the weight is not a matrix or the bias does
    /// not have shape `[out]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let e = wengert_nn::Linear::<f32>::from_tensors(Tensor::zeros([2, 3]), Some(Tensor::zeros([3])));
    /// assert_eq!(e.unwrap_err().to_string(), "linear: bias must have shape [2], got [3]");
    /// ```
    pub fn from_tensors(weight: Tensor<T>, bias: Option<Tensor<T>>) -> Result<Self> {
        if weight.rank() != 2 {
            return Err(Error::InvalidConfig {
                layer: "linear",
                what: format!("weight must be a matrix [out, in], got {}", weight.shape()),
            });
        }
        if let Some(b) = &bias
            && b.dims() != [weight.dims()[0]]
        {
            return Err(Error::InvalidConfig {
                layer: "linear",
                what: format!(
                    "bias must have shape [{}], got {}",
                    weight.dims()[0],
                    b.shape()
                ),
            });
        }
        Ok(Linear { weight, bias })
    }

    /// Returns the number of input features.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = wengert_nn::Linear::<f32>::from_tensors(wengert_core::Tensor::zeros([2, 3]), None).unwrap();
    /// assert_eq!((l.in_features(), l.out_features()), (3, 2));
    /// ```
    pub fn in_features(&self) -> usize {
        self.weight.dims()[1]
    }

    /// Returns the number of output features.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = wengert_nn::Linear::<f32>::from_tensors(wengert_core::Tensor::zeros([2, 3]), None).unwrap();
    /// assert_eq!(l.out_features(), 2);
    /// ```
    pub fn out_features(&self) -> usize {
        self.weight.dims()[0]
    }
}

impl<T: Float> Module<T> for Linear<T> {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        check_trailing("linear", x, &[self.in_features()])?;
        // One op, the bias added by the GEMM (`Tensor::try_linear`).
        Ok(x.try_linear(&self.weight, self.bias.as_ref())?)
    }

    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        f("weight", &self.weight);
        if let Some(b) = &self.bias {
            f("bias", b);
        }
    }

    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        f("weight", &mut self.weight);
        if let Some(b) = &mut self.bias {
            f("bias", b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_module;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn linear_grad_matches_finite_differences_at_any_size(
            batch in 0usize..4, fan_in in 1usize..5, fan_out in 0usize..4, bias: bool, seed: u64,
        ) {
            let mut rng = StdRng::seed_from_u64(seed);
            let layer = Linear::<f64>::new(fan_in, fan_out, bias, &mut rng).unwrap();
            let x = Tensor::randn([batch, fan_in], 0.0, 1.0, &mut rng).unwrap();
            let y = layer.forward(&x);
            prop_assert_eq!(y.dims(), &[batch, fan_out]);
            check_module(layer, &x);
        }
    }

    #[test]
    fn linear_grad_matches_finite_differences_over_input_and_parameters() {
        let mut rng = StdRng::seed_from_u64(0);
        let layer = Linear::<f64>::new(3, 4, true, &mut rng).unwrap();
        let x = Tensor::randn([5, 3], 0.0, 1.0, &mut rng).unwrap();
        check_module(layer.clone(), &x);
        let x3 = Tensor::randn([2, 2, 3], 0.0, 1.0, &mut rng).unwrap();
        check_module(layer, &x3);
        let nobias = Linear::<f64>::new(3, 2, false, &mut rng).unwrap();
        check_module(nobias, &Tensor::randn([3], 0.0, 1.0, &mut rng).unwrap());
    }

    #[test]
    fn wrong_input_width_names_the_layer_and_both_shapes() {
        let layer = Linear::<f32>::from_tensors(Tensor::zeros([4, 3]), None).unwrap();
        let e = layer.try_forward(&Tensor::zeros([2, 4])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "linear: expected input of shape [*, 3], got [2, 4]"
        );
        let e = layer.try_forward(&Tensor::scalar(1.0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "linear: expected input of shape [*, 3], got []"
        );
    }

    #[test]
    fn default_init_is_pytorchs_bound() {
        let mut rng = StdRng::seed_from_u64(5);
        let l = Linear::<f64>::new(16, 64, true, &mut rng).unwrap();
        let all = l
            .weight
            .to_vec()
            .into_iter()
            .chain(l.bias.unwrap().to_vec());
        assert!(all.clone().all(|w| w.abs() < 0.25));
        assert!(all.map(f64::abs).fold(0.0, f64::max) > 0.2);
    }
}
