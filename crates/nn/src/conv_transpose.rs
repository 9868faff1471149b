//! [`ConvTranspose2d`]: the transposed 2-D convolution layer, a thin owner of
//! a weight and a bias around [`Tensor::conv_transpose2d`]; configuration,
//! initialisation and input checks are shared with the convolutions of
//! `conv.rs`.

use rand::Rng;
use wengert_core::{ConvTranspose2dParams, Float, Tensor};

use crate::conv::{ConvConfig, default_init, visit_weight_bias};
use crate::error::{Error, Result};
use crate::module::{Module, check_spatial};

/// A transposed 2-D convolution layer (PyTorch's `ConvTranspose2d`), the
/// gradient of [`Conv2d`](crate::Conv2d) with respect to its input: `[N, in,
/// H, W]` to `[N, out, oh, ow]` with, per axis, `o = (h − 1)·s − 2p + d(k − 1)
/// + output_padding + 1`.
///
/// `weight` is `[in, out / groups, kh, kw]`, `bias` `[out]`. Default
/// initialisation: PyTorch's, U(−1/√fan_in, 1/√fan_in) for both, with `fan_in =
/// weight[1] · kh · kw = out / groups · kh · kw` as PyTorch computes it (PyTorch's
/// `kaiming_uniform` with `a = √5`).
///
/// # Errors
///
/// `try_forward` returns [`Error::InputShape`] unless the input is `[N, in, H,
/// W]` with a positive output size.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// use wengert_core::{ConvTranspose2dParams, Tensor};
/// use wengert_nn::{ConvTranspose2d, Module};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let p = ConvTranspose2dParams { stride: [2, 2], padding: [1, 1], output_padding: [1, 1], ..Default::default() };
/// let up = ConvTranspose2d::<f32>::new(4, 2, [3, 3], p, true, &mut rng).unwrap();
/// assert_eq!(up.weight.dims(), &[4, 2, 3, 3]);
/// // (5 − 1)·2 − 2 + 2 + 1 + 1 = 10: the stride-2 convolution's input size.
/// assert_eq!(up.forward(&Tensor::zeros([1, 4, 5, 5])).dims(), &[1, 2, 10, 10]);
/// ```
#[derive(Clone, Debug)]
pub struct ConvTranspose2d<T: Float = f32> {
    /// The weight, `[in, out / groups, kh, kw]`.
    pub weight: Tensor<T>,
    /// The bias, `[out]`, if any.
    pub bias: Option<Tensor<T>>,
    params: ConvTranspose2dParams,
}

impl<T: Float> ConvTranspose2d<T> {
    /// Builds a layer from `in_channels` to `out_channels` with a `kernel`
    /// (`[kh, kw]`) window and the stride, padding, output padding, dilation
    /// and groups of `params`, initialised as PyTorch (see the type docs) from
    /// `rng`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for zero channels, groups that are zero or do
    /// not divide both channel counts, a zero kernel, stride or dilation, or an
    /// output padding not smaller than the stride.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use wengert_core::ConvTranspose2dParams;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let p = ConvTranspose2dParams { output_padding: [1, 1], ..Default::default() };
    /// let e = wengert_nn::ConvTranspose2d::<f32>::new(1, 1, [2, 2], p, true, &mut rng).unwrap_err();
    /// assert_eq!(e.to_string(),
    ///     "conv_transpose2d: output_padding must be smaller than the stride, got [1, 1] for stride [1, 1]");
    /// ```
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        params: ConvTranspose2dParams,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self> {
        const NAME: &str = "conv_transpose2d";
        ConvConfig {
            layer: NAME,
            in_channels,
            out_channels,
            kernel: &kernel,
            stride: &params.stride,
            dilation: &params.dilation,
            groups: params.groups,
        }
        .validate()?;
        let (op, s) = (params.output_padding, params.stride);
        if op[0] >= s[0] || op[1] >= s[1] {
            return Err(Error::InvalidConfig {
                layer: NAME,
                what: format!(
                    "output_padding must be smaller than the stride, got {op:?} for stride {s:?}"
                ),
            });
        }
        let shape = [
            in_channels,
            out_channels / params.groups,
            kernel[0],
            kernel[1],
        ];
        let (weight, bias) = default_init(&shape, bias.then_some(out_channels), rng)?;
        Ok(ConvTranspose2d {
            weight,
            bias,
            params,
        })
    }

    /// Returns the stride, padding, output padding, dilation and groups.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let c = wengert_nn::ConvTranspose2d::<f32>::new(1, 1, [2, 2], Default::default(), false, &mut rng).unwrap();
    /// assert_eq!(c.params().output_padding, [0, 0]);
    /// ```
    pub fn params(&self) -> ConvTranspose2dParams {
        self.params
    }

    /// Returns the number of output channels, `weight[1] · groups`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let c = wengert_nn::ConvTranspose2d::<f32>::new(3, 5, [2, 2], Default::default(), false, &mut rng).unwrap();
    /// assert_eq!(c.out_channels(), 5);
    /// ```
    pub fn out_channels(&self) -> usize {
        self.weight.dims()[1] * self.params.groups
    }
}

impl<T: Float> Module<T> for ConvTranspose2d<T> {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let (k, p) = (&self.weight.dims()[2..], &self.params);
        // The output (h − 1)·s + d(k − 1) + op + 1 − 2p must be positive.
        let min = [0, 1].map(|a| {
            let reach = p.dilation[a] * (k[a] - 1) + p.output_padding[a];
            1 + (2 * p.padding[a])
                .saturating_sub(reach)
                .div_ceil(p.stride[a])
        });
        check_spatial("conv_transpose2d", x, Some(self.weight.dims()[0]), &min)?;
        Ok(x.try_conv_transpose2d(&self.weight, self.bias.as_ref(), self.params)?)
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        visit_weight_bias(&self.weight, self.bias.as_ref(), f);
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        f("weight", &mut self.weight);
        if let Some(b) = &mut self.bias {
            f("bias", b);
        }
    }
}
