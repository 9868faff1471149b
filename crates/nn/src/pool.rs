//! Pooling layers: [`MaxPool1d`], [`MaxPool2d`], [`AvgPool1d`], [`AvgPool2d`]
//! and [`GlobalAvgPool`], parameter-free wrappers of the core pooling ops
//! ([`Tensor::max_pool2d`], [`Tensor::avg_pool2d`],
//! [`Tensor::global_avg_pool`], ...), which document the gradient conventions
//! (max pooling sends each window's gradient to its first maximum).
//!
//! As in PyTorch the stride defaults to the kernel (non-overlapping windows)
//! and the padding to 0; the padding may be at most half the kernel. The output
//! length per axis is `floor((w + 2p − k) / s) + 1`. Constructors reject
//! impossible windows with [`Error::InvalidConfig`]; `try_forward` returns
//! [`Error::InputShape`] for an input of the wrong rank or smaller than the
//! padded window, before calling the op.

use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};
use crate::module::{Module, check_spatial};

/// Kernel, stride and padding of a pooling layer over `D` spatial axes,
/// validated at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window<const D: usize> {
    kernel: [usize; D],
    stride: [usize; D],
    padding: [usize; D],
}

impl<const D: usize> Window<D> {
    fn new(
        layer: &'static str,
        kernel: [usize; D],
        stride: [usize; D],
        padding: [usize; D],
    ) -> Result<Self> {
        let invalid = |what: String| Err(Error::InvalidConfig { layer, what });
        if kernel.contains(&0) {
            return invalid(format!("kernel must be positive, got {kernel:?}"));
        }
        if stride.contains(&0) {
            return invalid(format!("stride must be positive, got {stride:?}"));
        }
        if padding.iter().zip(&kernel).any(|(&p, &k)| 2 * p > k) {
            return invalid(format!(
                "padding must be at most half the kernel, got padding {padding:?} for kernel {kernel:?}"
            ));
        }
        Ok(Window {
            kernel,
            stride,
            padding,
        })
    }

    /// Checks that `x` is `[N, C, s...]` with room for one padded window.
    fn check(&self, layer: &'static str, x: &Tensor<impl Float>) -> Result<()> {
        let min: [usize; D] =
            std::array::from_fn(|a| self.kernel[a].saturating_sub(2 * self.padding[a]).max(1));
        check_spatial(layer, x, None, &min)
    }
}

/// 2-D max pooling (PyTorch's `MaxPool2d`): the maximum of each `kernel`
/// window of an `[N, C, H, W]` input; padding is never a candidate.
///
/// # Errors
///
/// `try_forward` returns [`Error::InputShape`] unless the input is `[N, C, H,
/// W]` with `H + 2p ≥ kh` and `W + 2p ≥ kw`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{MaxPool2d, Module};
/// let x = Tensor::from_vec((0..16).map(f64::from).collect(), [1, 1, 4, 4]).unwrap();
/// let y = MaxPool2d::new([2, 2]).unwrap().forward(&x);
/// assert_eq!(y.to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d {
    window: Window<2>,
}

impl MaxPool2d {
    /// Builds a layer with non-overlapping `kernel` windows (stride = kernel,
    /// no padding).
    ///
    /// # Errors
    ///
    /// As [`MaxPool2d::with_options`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::MaxPool2d::new([2, 0]).is_err());
    /// ```
    pub fn new(kernel: [usize; 2]) -> Result<Self> {
        Self::with_options(kernel, kernel, [0, 0])
    }

    /// Builds a layer with the given kernel, stride and padding.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a zero kernel or stride, or a padding over
    /// half the kernel.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = wengert_nn::MaxPool2d::with_options([3, 3], [1, 1], [2, 2]).unwrap_err();
    /// assert_eq!(e.to_string(),
    ///     "max_pool2d: padding must be at most half the kernel, got padding [2, 2] for kernel [3, 3]");
    /// ```
    pub fn with_options(
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Result<Self> {
        let window = Window::new("max_pool2d", kernel, stride, padding)?;
        Ok(MaxPool2d { window })
    }
}

impl<T: Float> Module<T> for MaxPool2d {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let w = &self.window;
        w.check("max_pool2d", x)?;
        Ok(x.try_max_pool2d(w.kernel, w.stride, w.padding)?)
    }
    fn visit_parameters(&self, _: &mut dyn FnMut(&str, &Tensor<T>)) {}
    fn visit_parameters_mut(&mut self, _: &mut dyn FnMut(&str, &mut Tensor<T>)) {}
}

/// 1-D max pooling (PyTorch's `MaxPool1d`) over `[N, C, L]` inputs;
/// conventions as [`MaxPool2d`].
///
/// # Errors
///
/// `try_forward` returns [`Error::InputShape`] unless the input is `[N, C, L]`
/// with `L + 2p ≥ k`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{MaxPool1d, Module};
/// let x = Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 0.0, 5.0], [1, 1, 5]).unwrap();
/// let y = MaxPool1d::with_options(3, 2, 1).unwrap().forward(&x);
/// assert_eq!(y.to_vec(), vec![3.0, 3.0, 5.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool1d {
    window: Window<1>,
}

impl MaxPool1d {
    /// Builds a layer with non-overlapping windows of length `kernel`.
    ///
    /// # Errors
    ///
    /// As [`MaxPool1d::with_options`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::MaxPool1d::new(0).is_err());
    /// ```
    pub fn new(kernel: usize) -> Result<Self> {
        Self::with_options(kernel, kernel, 0)
    }

    /// Builds a layer with the given kernel, stride and padding.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a zero kernel or stride, or a padding over
    /// half the kernel.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = wengert_nn::MaxPool1d::with_options(2, 0, 0).unwrap_err();
    /// assert_eq!(e.to_string(), "max_pool1d: stride must be positive, got [0]");
    /// ```
    pub fn with_options(kernel: usize, stride: usize, padding: usize) -> Result<Self> {
        let window = Window::new("max_pool1d", [kernel], [stride], [padding])?;
        Ok(MaxPool1d { window })
    }
}

impl<T: Float> Module<T> for MaxPool1d {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let w = &self.window;
        w.check("max_pool1d", x)?;
        Ok(x.try_max_pool1d(w.kernel[0], w.stride[0], w.padding[0])?)
    }
    fn visit_parameters(&self, _: &mut dyn FnMut(&str, &Tensor<T>)) {}
    fn visit_parameters_mut(&mut self, _: &mut dyn FnMut(&str, &mut Tensor<T>)) {}
}

/// 2-D average pooling (PyTorch's `AvgPool2d`): the mean of each `kernel`
/// window of an `[N, C, H, W]` input. With `count_include_pad` (PyTorch's
/// default, and [`AvgPool2d::new`]'s) the padding's zeros count in the mean;
/// without, only the real pixels do.
///
/// # Errors
///
/// `try_forward` returns [`Error::InputShape`] unless the input is `[N, C, H,
/// W]` with `H + 2p ≥ kh` and `W + 2p ≥ kw`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{AvgPool2d, Module};
/// let x = Tensor::from_vec((0..16).map(f64::from).collect(), [1, 1, 4, 4]).unwrap();
/// let y = AvgPool2d::new([2, 2]).unwrap().forward(&x);
/// assert_eq!(y.to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
/// // A 3×3 window around a corner holds 4 real pixels of 9.
/// let ones = Tensor::<f64>::ones([1, 1, 2, 2]);
/// let with = AvgPool2d::with_options([3, 3], [1, 1], [1, 1], true).unwrap().forward(&ones);
/// let without = AvgPool2d::with_options([3, 3], [1, 1], [1, 1], false).unwrap().forward(&ones);
/// assert!((with.to_vec()[0] - 4.0 / 9.0).abs() < 1e-15);
/// assert_eq!(without.to_vec()[0], 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    window: Window<2>,
    count_include_pad: bool,
}

impl AvgPool2d {
    /// Builds a layer with non-overlapping `kernel` windows (stride = kernel,
    /// no padding).
    ///
    /// # Errors
    ///
    /// As [`AvgPool2d::with_options`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::AvgPool2d::new([0, 2]).is_err());
    /// ```
    pub fn new(kernel: [usize; 2]) -> Result<Self> {
        Self::with_options(kernel, kernel, [0, 0], true)
    }

    /// Builds a layer with the given kernel, stride, padding and
    /// `count_include_pad`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a zero kernel or stride, or a padding over
    /// half the kernel.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = wengert_nn::AvgPool2d::with_options([2, 2], [0, 1], [0, 0], true).unwrap_err();
    /// assert_eq!(e.to_string(), "avg_pool2d: stride must be positive, got [0, 1]");
    /// ```
    pub fn with_options(
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        count_include_pad: bool,
    ) -> Result<Self> {
        let window = Window::new("avg_pool2d", kernel, stride, padding)?;
        Ok(AvgPool2d {
            window,
            count_include_pad,
        })
    }
}

impl<T: Float> Module<T> for AvgPool2d {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let w = &self.window;
        w.check("avg_pool2d", x)?;
        Ok(x.try_avg_pool2d(w.kernel, w.stride, w.padding, self.count_include_pad)?)
    }
    fn visit_parameters(&self, _: &mut dyn FnMut(&str, &Tensor<T>)) {}
    fn visit_parameters_mut(&mut self, _: &mut dyn FnMut(&str, &mut Tensor<T>)) {}
}

/// 1-D average pooling (PyTorch's `AvgPool1d`) over `[N, C, L]` inputs;
/// conventions as [`AvgPool2d`].
///
/// # Errors
///
/// `try_forward` returns [`Error::InputShape`] unless the input is `[N, C, L]`
/// with `L + 2p ≥ k`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{AvgPool1d, Module};
/// let x = Tensor::from_vec(vec![1.0f64, 3.0, 2.0, 6.0], [1, 1, 4]).unwrap();
/// assert_eq!(AvgPool1d::new(2).unwrap().forward(&x).to_vec(), vec![2.0, 4.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool1d {
    window: Window<1>,
    count_include_pad: bool,
}

impl AvgPool1d {
    /// Builds a layer with non-overlapping windows of length `kernel`.
    ///
    /// # Errors
    ///
    /// As [`AvgPool1d::with_options`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::AvgPool1d::new(0).is_err());
    /// ```
    pub fn new(kernel: usize) -> Result<Self> {
        Self::with_options(kernel, kernel, 0, true)
    }

    /// Builds a layer with the given kernel, stride, padding and
    /// `count_include_pad`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a zero kernel or stride, or a padding over
    /// half the kernel.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::AvgPool1d::with_options(2, 1, 2, false).is_err());
    /// ```
    pub fn with_options(
        kernel: usize,
        stride: usize,
        padding: usize,
        count_include_pad: bool,
    ) -> Result<Self> {
        let window = Window::new("avg_pool1d", [kernel], [stride], [padding])?;
        Ok(AvgPool1d {
            window,
            count_include_pad,
        })
    }
}

impl<T: Float> Module<T> for AvgPool1d {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let w = &self.window;
        w.check("avg_pool1d", x)?;
        Ok(x.try_avg_pool1d(
            w.kernel[0],
            w.stride[0],
            w.padding[0],
            self.count_include_pad,
        )?)
    }
    fn visit_parameters(&self, _: &mut dyn FnMut(&str, &Tensor<T>)) {}
    fn visit_parameters_mut(&mut self, _: &mut dyn FnMut(&str, &mut Tensor<T>)) {}
}

/// Global average pooling: the mean over every spatial axis, `[N, C, ...]`
/// (rank 3 or more) to `[N, C]`, as PyTorch's `AdaptiveAvgPool2d(1)` followed
/// by a flatten.
///
/// # Errors
///
/// `try_forward` returns [`Error::InputShape`] below rank 3 or when a spatial
/// axis is empty.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{GlobalAvgPool, Module};
/// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 8.0], [1, 2, 2, 2]).unwrap();
/// assert_eq!(GlobalAvgPool.forward(&x).to_vec(), vec![2.5, 2.0]);
/// let e = GlobalAvgPool.try_forward(&Tensor::<f64>::zeros([2, 3])).unwrap_err();
/// assert_eq!(e.to_string(),
///     "global_avg_pool: expected input of shape [N, C, S, ...] with no empty spatial axis, got [2, 3]");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlobalAvgPool;

impl<T: Float> Module<T> for GlobalAvgPool {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        if x.rank() < 3 || x.dims()[2..].contains(&0) {
            return Err(Error::InputShape {
                layer: "global_avg_pool",
                expected: "[N, C, S, ...] with no empty spatial axis".to_string(),
                actual: x.shape().clone(),
            });
        }
        Ok(x.try_global_avg_pool()?)
    }
    fn visit_parameters(&self, _: &mut dyn FnMut(&str, &Tensor<T>)) {}
    fn visit_parameters_mut(&mut self, _: &mut dyn FnMut(&str, &mut Tensor<T>)) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_module;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;

    /// Distinct values 0.37 apart in random order: no ties for max pooling,
    /// and far from every kink at the finite-difference step.
    fn distinct(shape: &[usize], seed: u64) -> Tensor<f64> {
        let n: usize = shape.iter().product();
        let mut v: Vec<f64> = (0..n).map(|i| 0.37 * i as f64 - 2.0).collect();
        v.shuffle(&mut StdRng::seed_from_u64(seed));
        Tensor::from_vec(v, shape).unwrap()
    }

    #[test]
    fn pool_grads_match_finite_differences() {
        check_module(MaxPool2d::new([2, 2]).unwrap(), &distinct(&[2, 2, 4, 5], 1));
        check_module(
            MaxPool2d::with_options([3, 2], [1, 2], [1, 1]).unwrap(),
            &distinct(&[1, 2, 4, 4], 2),
        );
        check_module(
            MaxPool1d::with_options(3, 2, 1).unwrap(),
            &distinct(&[2, 3, 7], 3),
        );
        for include in [true, false] {
            check_module(
                AvgPool2d::with_options([3, 3], [2, 1], [1, 1], include).unwrap(),
                &distinct(&[2, 2, 5, 4], 4),
            );
            check_module(
                AvgPool1d::with_options(2, 1, 1, include).unwrap(),
                &distinct(&[1, 2, 5], 5),
            );
        }
        check_module(GlobalAvgPool, &distinct(&[2, 3, 2, 3], 6));
        check_module(GlobalAvgPool, &distinct(&[2, 3, 4], 7));
    }

    #[test]
    fn layers_equal_the_core_ops_called_directly() {
        let x = distinct(&[2, 3, 6, 5], 8);
        assert_eq!(
            MaxPool2d::with_options([3, 3], [2, 2], [1, 1])
                .unwrap()
                .forward(&x)
                .to_vec(),
            x.max_pool2d([3, 3], [2, 2], [1, 1]).to_vec()
        );
        assert_eq!(
            AvgPool2d::with_options([2, 3], [1, 2], [1, 0], false)
                .unwrap()
                .forward(&x)
                .to_vec(),
            x.avg_pool2d([2, 3], [1, 2], [1, 0], false).to_vec()
        );
        assert_eq!(
            Module::<f64>::forward(&GlobalAvgPool, &x).to_vec(),
            x.global_avg_pool().to_vec()
        );
        let x = distinct(&[2, 3, 7], 9);
        assert_eq!(
            MaxPool1d::new(2).unwrap().forward(&x).to_vec(),
            x.max_pool1d(2, 2, 0).to_vec()
        );
        assert_eq!(
            AvgPool1d::with_options(3, 2, 1, true)
                .unwrap()
                .forward(&x)
                .to_vec(),
            x.avg_pool1d(3, 2, 1, true).to_vec()
        );
    }

    #[test]
    fn max_pool_sends_the_gradient_to_the_first_maximum() {
        // Hand-derived: the window [1, 4, 4, 2] has its first maximum at index 1.
        let x = Tensor::from_vec(vec![1.0f64, 4.0, 4.0, 2.0], [1, 1, 2, 2])
            .unwrap()
            .requires_grad();
        let y = MaxPool2d::new([2, 2]).unwrap().forward(&x);
        assert_eq!(y.to_vec(), vec![4.0]);
        let g = y.sum().backward().unwrap();
        assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn pooling_layers_have_no_parameters() {
        let layers: Vec<Box<dyn Module<f32>>> = vec![
            Box::new(MaxPool1d::new(2).unwrap()),
            Box::new(MaxPool2d::new([2, 2]).unwrap()),
            Box::new(AvgPool1d::new(2).unwrap()),
            Box::new(AvgPool2d::new([2, 2]).unwrap()),
            Box::new(GlobalAvgPool),
        ];
        for l in &layers {
            assert_eq!(l.num_parameters(), 0);
            assert!(l.named_parameters().is_empty() && l.named_buffers().is_empty());
        }
    }

    #[test]
    fn impossible_windows_and_wrong_inputs_are_named() {
        assert_eq!(
            MaxPool2d::new([0, 2]).unwrap_err().to_string(),
            "max_pool2d: kernel must be positive, got [0, 2]"
        );
        assert_eq!(
            AvgPool1d::with_options(3, 1, 2, true)
                .unwrap_err()
                .to_string(),
            "avg_pool1d: padding must be at most half the kernel, got padding [2] for kernel [3]"
        );
        let mp = MaxPool2d::with_options([3, 2], [1, 1], [1, 0]).unwrap();
        let e = Module::<f32>::try_forward(&mp, &Tensor::zeros([1, 2, 3, 1])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "max_pool2d: expected input of shape [N, C, H, W ≥ 2], got [1, 2, 3, 1]"
        );
        let e = Module::<f32>::try_forward(&mp, &Tensor::zeros([2, 4, 4])).unwrap_err();
        assert!(matches!(
            e,
            Error::InputShape {
                layer: "max_pool2d",
                ..
            }
        ));
        let ap = AvgPool1d::new(3).unwrap();
        let e = Module::<f32>::try_forward(&ap, &Tensor::zeros([1, 1, 2])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "avg_pool1d: expected input of shape [N, C, L ≥ 3], got [1, 1, 2]"
        );
        let e = Module::<f32>::try_forward(&GlobalAvgPool, &Tensor::zeros([1, 1, 0, 2]));
        assert!(matches!(
            e,
            Err(Error::InputShape {
                layer: "global_avg_pool",
                ..
            })
        ));
    }
}
