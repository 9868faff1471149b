//! Convolution layers: [`Conv1d`] and [`Conv2d`] here, and
//! [`ConvTranspose2d`](crate::ConvTranspose2d) in `conv_transpose.rs`: thin
//! owners of a weight and a bias around the core ops [`Tensor::conv1d`],
//! [`Tensor::conv2d`] and [`Tensor::conv_transpose2d`].
//!
//! Weights are in PyTorch's layout: `[out, in / groups, k...]` for a
//! convolution, `[in, out / groups, kh, kw]` for a transposed one. The default
//! initialisation is PyTorch's: `kaiming_uniform` with `a = √5` (gain
//! `√(2 / (1 + 5)) = √(1/3)`), i.e. U(−1/√fan_in, 1/√fan_in) with `fan_in` read
//! from the weight's shape by [`fans`] (`weight[1] · Πk`), and the bias from the
//! same U(−1/√fan_in, 1/√fan_in). For a transposed convolution `fan_in` is thus
//! `out / groups · kh · kw`, as in PyTorch.
//!
//! Constructors reject impossible configurations with [`Error::InvalidConfig`];
//! `try_forward` checks the input's rank, channels and spatial size and returns
//! [`Error::InputShape`] (naming the layer, the expected pattern and the actual
//! shape) before calling the op.

use rand::Rng;
use wengert_core::{Conv1dParams, Conv2dParams, Float, Tensor};

use crate::error::{Error, Result};
use crate::init::{FanMode, Init, fans};
use crate::module::{Module, check_spatial};

/// The channel and window settings every convolution layer validates.
pub(crate) struct ConvConfig<'a> {
    pub(crate) layer: &'static str,
    pub(crate) in_channels: usize,
    pub(crate) out_channels: usize,
    pub(crate) kernel: &'a [usize],
    pub(crate) stride: &'a [usize],
    pub(crate) dilation: &'a [usize],
    pub(crate) groups: usize,
}

impl ConvConfig<'_> {
    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |what: String| {
            Err(Error::InvalidConfig {
                layer: self.layer,
                what,
            })
        };
        let (i, o, g) = (self.in_channels, self.out_channels, self.groups);
        if i == 0 || o == 0 {
            return invalid(format!(
                "in_channels and out_channels must be at least 1, got {i} and {o}"
            ));
        }
        if g == 0 || i % g != 0 || o % g != 0 {
            return invalid(format!(
                "groups must divide in_channels and out_channels, got groups {g} for {i} and {o}"
            ));
        }
        for (name, v) in [
            ("kernel", self.kernel),
            ("stride", self.stride),
            ("dilation", self.dilation),
        ] {
            if v.contains(&0) {
                return invalid(format!("{name} must be positive, got {v:?}"));
            }
        }
        Ok(())
    }
}

/// Draws PyTorch's default weight and bias for a weight of `shape` (see the
/// module docs); the bias has `bias_len` elements. Both are trainable.
pub(crate) fn default_init<T: Float, R: Rng + ?Sized>(
    shape: &[usize],
    bias_len: Option<usize>,
    rng: &mut R,
) -> Result<(Tensor<T>, Option<Tensor<T>>)> {
    let init = Init::KaimingUniform {
        gain: (1.0f64 / 3.0).sqrt(),
        mode: FanMode::FanIn,
    };
    let weight = init.sample::<T, R>(shape, rng)?.requires_grad();
    let (fan_in, _) = fans(weight.shape())?;
    let bound = 1.0 / (fan_in as f64).sqrt();
    let bias = match bias_len {
        Some(n) => Some(
            Init::Uniform {
                low: -bound,
                high: bound,
            }
            .sample::<T, R>([n], rng)?
            .requires_grad(),
        ),
        None => None,
    };
    Ok((weight, bias))
}

/// The smallest input length for which a convolution window fits: `d(k − 1) +
/// 1 − 2p`.
fn conv_min_len(kernel: usize, padding: usize, dilation: usize) -> usize {
    (dilation * (kernel - 1) + 1).saturating_sub(2 * padding)
}

/// A 2-D convolution layer (PyTorch's `Conv2d`): `y = conv2d(x, W) + b` on
/// `[N, in, H, W]` inputs, giving `[N, out, oh, ow]` with, per axis, `o =
/// floor((w + 2p − d(k − 1) − 1) / s) + 1`.
///
/// `weight` is `[out, in / groups, kh, kw]`, `bias` `[out]`. Default
/// initialisation: PyTorch's, U(−1/√fan_in, 1/√fan_in) for both, `fan_in = in
/// / groups · kh · kw` (PyTorch's `kaiming_uniform` with `a = √5`).
///
/// # Errors
///
/// `try_forward` returns [`Error::InputShape`] unless the input is `[N, in, H,
/// W]` with the padded input at least as large as the dilated kernel.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// use wengert_core::{Conv2dParams, Tensor};
/// use wengert_nn::{Conv2d, Module};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let p = Conv2dParams { padding: [1, 1], stride: [2, 2], ..Default::default() };
/// let conv = Conv2d::<f32>::new(3, 8, [3, 3], p, true, &mut rng).unwrap();
/// assert_eq!(conv.weight.dims(), &[8, 3, 3, 3]);
/// assert_eq!(conv.forward(&Tensor::zeros([2, 3, 9, 9])).dims(), &[2, 8, 5, 5]);
/// let e = conv.try_forward(&Tensor::zeros([2, 4, 9, 9])).unwrap_err();
/// assert_eq!(e.to_string(), "conv2d: expected input of shape [N, 3, H, W], got [2, 4, 9, 9]");
/// ```
#[derive(Clone, Debug)]
pub struct Conv2d<T: Float = f32> {
    /// The weight, `[out, in / groups, kh, kw]`.
    pub weight: Tensor<T>,
    /// The bias, `[out]`, if any.
    pub bias: Option<Tensor<T>>,
    params: Conv2dParams,
}

impl<T: Float> Conv2d<T> {
    /// Builds a layer from `in_channels` to `out_channels` with a `kernel`
    /// (`[kh, kw]`) window and the stride, padding, dilation and groups of
    /// `params`, initialised as PyTorch (see the type docs) from `rng`. The
    /// parameters are trainable.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for zero channels, groups that are zero or do
    /// not divide both channel counts, or a zero kernel, stride or dilation.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use wengert_core::Conv2dParams;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let p = Conv2dParams { groups: 2, ..Default::default() };
    /// let e = wengert_nn::Conv2d::<f32>::new(4, 3, [3, 3], p, true, &mut rng).unwrap_err();
    /// assert_eq!(e.to_string(),
    ///     "conv2d: groups must divide in_channels and out_channels, got groups 2 for 4 and 3");
    /// ```
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        params: Conv2dParams,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self> {
        ConvConfig {
            layer: "conv2d",
            in_channels,
            out_channels,
            kernel: &kernel,
            stride: &params.stride,
            dilation: &params.dilation,
            groups: params.groups,
        }
        .validate()?;
        let shape = [
            out_channels,
            in_channels / params.groups,
            kernel[0],
            kernel[1],
        ];
        let (weight, bias) = default_init(&shape, bias.then_some(out_channels), rng)?;
        Ok(Conv2d {
            weight,
            bias,
            params,
        })
    }

    /// Returns the stride, padding, dilation and groups.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let c = wengert_nn::Conv2d::<f32>::new(1, 1, [2, 2], Default::default(), false, &mut rng).unwrap();
    /// assert_eq!(c.params().stride, [1, 1]);
    /// ```
    pub fn params(&self) -> Conv2dParams {
        self.params
    }

    /// Returns the number of input channels, `weight[1] · groups`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let c = wengert_nn::Conv2d::<f32>::new(3, 2, [2, 2], Default::default(), false, &mut rng).unwrap();
    /// assert_eq!((c.in_channels(), c.out_channels()), (3, 2));
    /// ```
    pub fn in_channels(&self) -> usize {
        self.weight.dims()[1] * self.params.groups
    }

    /// Returns the number of output channels, `weight[0]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let c = wengert_nn::Conv2d::<f32>::new(3, 2, [2, 2], Default::default(), false, &mut rng).unwrap();
    /// assert_eq!(c.out_channels(), 2);
    /// ```
    pub fn out_channels(&self) -> usize {
        self.weight.dims()[0]
    }
}

impl<T: Float> Module<T> for Conv2d<T> {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let (k, p) = (&self.weight.dims()[2..], &self.params);
        let min = [0, 1].map(|a| conv_min_len(k[a], p.padding[a], p.dilation[a]));
        check_spatial("conv2d", x, Some(self.in_channels()), &min)?;
        Ok(x.try_conv2d(&self.weight, self.bias.as_ref(), self.params)?)
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

pub(crate) fn visit_weight_bias<T: Float>(
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    f: &mut dyn FnMut(&str, &Tensor<T>),
) {
    f("weight", weight);
    if let Some(b) = bias {
        f("bias", b);
    }
}

/// A 1-D convolution layer (PyTorch's `Conv1d`): `y = conv1d(x, W) + b` on
/// `[N, in, L]` inputs, giving `[N, out, floor((L + 2p − d(k − 1) − 1) / s) +
/// 1]`.
///
/// `weight` is `[out, in / groups, k]`, `bias` `[out]`. Default
/// initialisation: PyTorch's, U(−1/√fan_in, 1/√fan_in) for both, `fan_in = in
/// / groups · k` (PyTorch's `kaiming_uniform` with `a = √5`).
///
/// # Errors
///
/// `try_forward` returns [`Error::InputShape`] unless the input is `[N, in, L]`
/// with the padded input at least as long as the dilated kernel.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// use wengert_core::{Conv1dParams, Tensor};
/// use wengert_nn::{Conv1d, Module};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let conv = Conv1d::<f64>::new(2, 4, 3, Conv1dParams::default(), false, &mut rng).unwrap();
/// assert_eq!(conv.forward(&Tensor::zeros([1, 2, 10])).dims(), &[1, 4, 8]);
/// let e = conv.try_forward(&Tensor::zeros([1, 2, 2])).unwrap_err();
/// assert_eq!(e.to_string(), "conv1d: expected input of shape [N, 2, L ≥ 3], got [1, 2, 2]");
/// ```
#[derive(Clone, Debug)]
pub struct Conv1d<T: Float = f32> {
    /// The weight, `[out, in / groups, k]`.
    pub weight: Tensor<T>,
    /// The bias, `[out]`, if any.
    pub bias: Option<Tensor<T>>,
    params: Conv1dParams,
}

impl<T: Float> Conv1d<T> {
    /// Builds a layer from `in_channels` to `out_channels` with a window of
    /// length `kernel` and the stride, padding, dilation and groups of
    /// `params`, initialised as PyTorch (see the type docs) from `rng`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for zero channels, groups that are zero or do
    /// not divide both channel counts, or a zero kernel, stride or dilation.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let e = wengert_nn::Conv1d::<f32>::new(2, 2, 0, Default::default(), true, &mut rng).unwrap_err();
    /// assert_eq!(e.to_string(), "conv1d: kernel must be positive, got [0]");
    /// ```
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        params: Conv1dParams,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self> {
        ConvConfig {
            layer: "conv1d",
            in_channels,
            out_channels,
            kernel: &[kernel],
            stride: &[params.stride],
            dilation: &[params.dilation],
            groups: params.groups,
        }
        .validate()?;
        let shape = [out_channels, in_channels / params.groups, kernel];
        let (weight, bias) = default_init(&shape, bias.then_some(out_channels), rng)?;
        Ok(Conv1d {
            weight,
            bias,
            params,
        })
    }

    /// Returns the stride, padding, dilation and groups.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let c = wengert_nn::Conv1d::<f32>::new(1, 1, 2, Default::default(), false, &mut rng).unwrap();
    /// assert_eq!(c.params().groups, 1);
    /// ```
    pub fn params(&self) -> Conv1dParams {
        self.params
    }

    /// Returns the number of input channels, `weight[1] · groups`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let p = wengert_core::Conv1dParams { groups: 2, ..Default::default() };
    /// let c = wengert_nn::Conv1d::<f32>::new(4, 6, 2, p, false, &mut rng).unwrap();
    /// assert_eq!((c.in_channels(), c.weight.dims()[1]), (4, 2));
    /// ```
    pub fn in_channels(&self) -> usize {
        self.weight.dims()[1] * self.params.groups
    }
}

impl<T: Float> Module<T> for Conv1d<T> {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let p = &self.params;
        let min = [conv_min_len(self.weight.dims()[2], p.padding, p.dilation)];
        check_spatial("conv1d", x, Some(self.in_channels()), &min)?;
        Ok(x.try_conv1d(&self.weight, self.bias.as_ref(), self.params)?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConvTranspose2d;
    use crate::testing::check_module;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use wengert_core::ConvTranspose2dParams;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn conv2d_grad_matches_finite_differences_for_any_configuration(
            groups in 1usize..3, in_per in 1usize..3, out_per in 1usize..3,
            kh in 1usize..4, kw in 1usize..3, stride in 1usize..3, padding in 0usize..2,
            dilation in 1usize..3, extra in 0usize..3, bias: bool, seed: u64,
        ) {
            let p = Conv2dParams {
                stride: [stride, 1],
                padding: [padding, 0],
                dilation: [dilation, 1],
                groups,
            };
            let (i, o) = (in_per * groups, out_per * groups);
            let conv = Conv2d::<f64>::new(i, o, [kh, kw], p, bias, &mut rng(seed)).unwrap();
            let h = conv_min_len(kh, padding, dilation).max(1) + extra;
            let x = randn(&[2, i, h, kw + extra], seed ^ 1);
            check_module(conv, &x);
        }
    }

    #[test]
    fn f32_layers_agree_with_the_f64_path() {
        let p = Conv2dParams {
            padding: [1, 1],
            ..Default::default()
        };
        let c64 = Conv2d::<f64>::new(2, 3, [3, 3], p, true, &mut rng(20)).unwrap();
        let mut c32 = Conv2d::<f32>::new(2, 3, [3, 3], p, true, &mut rng(20)).unwrap();
        let to32 = |t: &Tensor<f64>| {
            Tensor::from_vec(
                t.to_vec().iter().map(|&v| v as f32).collect(),
                t.shape().clone(),
            )
            .unwrap()
        };
        let params: Vec<Tensor<f32>> = c64
            .named_parameters()
            .iter()
            .map(|(_, t)| to32(t))
            .collect();
        c32.set_parameters(&params).unwrap();
        let x = randn(&[2, 2, 4, 5], 21);
        let (y64, y32) = (c64.forward(&x).to_vec(), c32.forward(&to32(&x)).to_vec());
        for (a, b) in y64.iter().zip(y32) {
            assert!(
                (a - f64::from(b)).abs() < 1e-5 * (1.0 + a.abs()),
                "{a} vs {b}"
            );
        }
    }

    fn rng(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    fn randn(shape: &[usize], seed: u64) -> Tensor<f64> {
        Tensor::randn(shape, 0.0, 1.0, &mut rng(seed)).unwrap()
    }

    #[test]
    fn conv2d_grad_matches_finite_differences_over_input_and_parameters() {
        let configs = [
            (2, 3, [3, 3], Conv2dParams::default(), true),
            (
                2,
                4,
                [2, 3],
                Conv2dParams {
                    stride: [2, 1],
                    padding: [1, 1],
                    dilation: [1, 2],
                    groups: 2,
                },
                true,
            ),
            (
                3,
                3,
                [3, 3],
                Conv2dParams {
                    groups: 3,
                    ..Default::default()
                },
                false,
            ),
        ];
        for (seed, (i, o, k, p, bias)) in configs.into_iter().enumerate() {
            let conv = Conv2d::<f64>::new(i, o, k, p, bias, &mut rng(seed as u64)).unwrap();
            check_module(conv, &randn(&[2, i, 5, 6], 10 + seed as u64));
        }
    }

    #[test]
    fn conv1d_grad_matches_finite_differences_over_input_and_parameters() {
        let p = Conv1dParams {
            stride: 2,
            padding: 1,
            dilation: 2,
            groups: 2,
        };
        check_module(
            Conv1d::<f64>::new(4, 2, 3, p, true, &mut rng(1)).unwrap(),
            &randn(&[3, 4, 9], 2),
        );
        check_module(
            Conv1d::<f64>::new(1, 3, 2, Conv1dParams::default(), false, &mut rng(3)).unwrap(),
            &randn(&[2, 1, 5], 4),
        );
    }

    #[test]
    fn conv_transpose2d_grad_matches_finite_differences_over_input_and_parameters() {
        let p = ConvTranspose2dParams {
            stride: [2, 3],
            padding: [1, 0],
            output_padding: [1, 2],
            dilation: [1, 1],
            groups: 2,
        };
        check_module(
            ConvTranspose2d::<f64>::new(2, 4, [3, 2], p, true, &mut rng(5)).unwrap(),
            &randn(&[2, 2, 3, 2], 6),
        );
        check_module(
            ConvTranspose2d::<f64>::new(3, 1, [2, 2], Default::default(), false, &mut rng(7))
                .unwrap(),
            &randn(&[1, 3, 2, 3], 8),
        );
    }

    #[test]
    fn layers_equal_the_core_ops_called_directly() {
        let p2 = Conv2dParams {
            stride: [2, 2],
            padding: [1, 0],
            dilation: [1, 1],
            groups: 1,
        };
        let c2 = Conv2d::<f32>::new(3, 5, [3, 2], p2, true, &mut rng(9)).unwrap();
        let x = Tensor::randn([2, 3, 7, 6], 0.0, 1.0, &mut rng(10)).unwrap();
        let want = x.conv2d(&c2.weight, c2.bias.as_ref(), p2);
        assert_eq!(c2.forward(&x).to_vec(), want.to_vec());

        let p1 = Conv1dParams {
            padding: 2,
            ..Default::default()
        };
        let c1 = Conv1d::<f32>::new(2, 3, 4, p1, true, &mut rng(11)).unwrap();
        let x = Tensor::randn([2, 2, 5], 0.0, 1.0, &mut rng(12)).unwrap();
        let want = x.conv1d(&c1.weight, c1.bias.as_ref(), p1);
        assert_eq!(c1.forward(&x).to_vec(), want.to_vec());

        let pt = ConvTranspose2dParams {
            stride: [2, 2],
            output_padding: [1, 0],
            ..Default::default()
        };
        let ct = ConvTranspose2d::<f32>::new(2, 3, [3, 3], pt, true, &mut rng(13)).unwrap();
        let x = Tensor::randn([1, 2, 3, 4], 0.0, 1.0, &mut rng(14)).unwrap();
        let want = x.conv_transpose2d(&ct.weight, ct.bias.as_ref(), pt);
        assert_eq!(ct.forward(&x).dims(), &[1, 3, 8, 9]);
        assert_eq!(ct.forward(&x).to_vec(), want.to_vec());
    }

    #[test]
    fn conv2d_computes_the_lecture_edge_filter_plus_bias() {
        // Hand-derived (the lecture notes' 4×4 input and vertical-edge filter,
        // as in the core conv2d doctest), plus a bias of 0.5.
        let mut conv =
            Conv2d::<f64>::new(1, 1, [2, 2], Conv2dParams::default(), true, &mut rng(0)).unwrap();
        let w = Tensor::from_vec(vec![-1.0, 1.0, -1.0, 1.0], [1, 1, 2, 2]).unwrap();
        conv.set_parameters(&[w, Tensor::full([1], 0.5)]).unwrap();
        let x = Tensor::from_vec(
            vec![
                1.0, 3.0, 6.0, 4.0, 2.0, 2.0, 0.0, 4.0, 5.0, 0.0, 1.0, 4.0, 4.0, 4.0, 1.0, 3.0,
            ],
            [1, 1, 4, 4],
        )
        .unwrap();
        let want = [2.0, 1.0, 2.0, -5.0, -1.0, 7.0, -5.0, -2.0, 5.0].map(|v| v + 0.5);
        assert_eq!(conv.forward(&x).to_vec(), want);
    }

    #[test]
    fn impossible_configurations_are_named() {
        let d2 = Conv2dParams::default();
        let msg = |r: Result<Conv2d<f32>>| r.unwrap_err().to_string();
        assert_eq!(
            msg(Conv2d::new(0, 2, [3, 3], d2, true, &mut rng(0))),
            "conv2d: in_channels and out_channels must be at least 1, got 0 and 2"
        );
        let g0 = Conv2dParams { groups: 0, ..d2 };
        assert_eq!(
            msg(Conv2d::new(2, 2, [3, 3], g0, true, &mut rng(0))),
            "conv2d: groups must divide in_channels and out_channels, got groups 0 for 2 and 2"
        );
        assert_eq!(
            msg(Conv2d::new(2, 2, [3, 0], d2, true, &mut rng(0))),
            "conv2d: kernel must be positive, got [3, 0]"
        );
        let s0 = Conv2dParams {
            stride: [0, 1],
            ..d2
        };
        assert_eq!(
            msg(Conv2d::new(2, 2, [3, 3], s0, true, &mut rng(0))),
            "conv2d: stride must be positive, got [0, 1]"
        );
        let dil0 = Conv2dParams {
            dilation: [1, 0],
            ..d2
        };
        assert_eq!(
            msg(Conv2d::new(2, 2, [3, 3], dil0, true, &mut rng(0))),
            "conv2d: dilation must be positive, got [1, 0]"
        );
        let g3 = Conv1dParams {
            groups: 3,
            ..Default::default()
        };
        assert!(matches!(
            Conv1d::<f32>::new(3, 4, 2, g3, true, &mut rng(0)),
            Err(Error::InvalidConfig {
                layer: "conv1d",
                ..
            })
        ));
        let t = ConvTranspose2dParams {
            stride: [0, 1],
            ..Default::default()
        };
        assert!(matches!(
            ConvTranspose2d::<f32>::new(1, 1, [2, 2], t, true, &mut rng(0)),
            Err(Error::InvalidConfig {
                layer: "conv_transpose2d",
                ..
            })
        ));
    }

    #[test]
    fn wrong_inputs_name_the_layer_and_both_shapes_before_the_op_runs() {
        let p = Conv2dParams {
            padding: [1, 0],
            dilation: [1, 2],
            ..Default::default()
        };
        let conv = Conv2d::<f32>::new(2, 3, [3, 3], p, true, &mut rng(0)).unwrap();
        // Height: 3 − 2 = 1 (never binding); width: 2·2 + 1 = 5.
        let e = conv.try_forward(&Tensor::zeros([1, 2, 4, 4])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "conv2d: expected input of shape [N, 2, H, W ≥ 5], got [1, 2, 4, 4]"
        );
        assert!(conv.try_forward(&Tensor::zeros([1, 2, 1, 5])).is_ok());
        let e = conv.try_forward(&Tensor::zeros([2, 5, 5])).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InputShape {
                    layer: "conv2d",
                    ..
                }
            ),
            "{e}"
        );

        let c1 = Conv1d::<f32>::new(2, 3, 3, Conv1dParams::default(), true, &mut rng(0)).unwrap();
        let e = c1.try_forward(&Tensor::zeros([1, 2, 4, 4])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "conv1d: expected input of shape [N, 2, L ≥ 3], got [1, 2, 4, 4]"
        );

        // Output (h − 1)·1 − 2·2 + 1 + 0 + 1 > 0 needs h ≥ 4.
        let pt = ConvTranspose2dParams {
            padding: [2, 0],
            ..Default::default()
        };
        let ct = ConvTranspose2d::<f32>::new(1, 2, [2, 2], pt, true, &mut rng(0)).unwrap();
        let e = ct.try_forward(&Tensor::zeros([1, 1, 3, 1])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "conv_transpose2d: expected input of shape [N, 1, H ≥ 4, W], got [1, 1, 3, 1]"
        );
        assert_eq!(
            ct.forward(&Tensor::zeros([1, 1, 4, 1])).dims(),
            &[1, 2, 1, 2]
        );
    }

    #[test]
    fn default_init_is_pytorchs_bound_and_names_weight_and_bias() {
        // fan_in = in / groups · kh · kw = 8 / 2 · 3 · 3 = 36: bound 1/6.
        let p = Conv2dParams {
            groups: 2,
            ..Default::default()
        };
        let conv = Conv2d::<f64>::new(8, 32, [3, 3], p, true, &mut rng(3)).unwrap();
        let names: Vec<String> = conv
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["weight", "bias"]);
        assert_eq!(conv.num_parameters(), 32 * 4 * 9 + 32);
        assert_eq!(conv.num_trainable_parameters(), conv.num_parameters());
        let w = conv.weight.to_vec();
        let b = conv.bias.as_ref().unwrap().to_vec();
        for v in [&w, &b] {
            assert!(v.iter().all(|x| x.abs() <= 1.0 / 6.0));
        }
        assert!(w.iter().map(|x| x.abs()).fold(0.0, f64::max) > 0.16);

        // Transposed: weight [in, out / groups, k, k], fan_in = 2 · 2 · 2 = 8.
        let ct = ConvTranspose2d::<f64>::new(64, 2, [2, 2], Default::default(), false, &mut rng(4))
            .unwrap();
        assert_eq!(ct.named_parameters().len(), 1);
        let bound = 1.0 / 8f64.sqrt();
        let w = ct.weight.to_vec();
        assert!(w.iter().all(|x| x.abs() <= bound));
        assert!(w.iter().map(|x| x.abs()).fold(0.0, f64::max) > 0.9 * bound);

        let c1 = Conv1d::<f32>::new(3, 4, 5, Conv1dParams::default(), false, &mut rng(5)).unwrap();
        assert_eq!(
            (c1.num_parameters(), c1.weight.dims()),
            (60, &[4, 3, 5][..])
        );
    }
}
