//! The element types a [`Tensor`](crate::Tensor) can hold: `f32` and `f64`.
//!
//! [`Float`] is sealed: the tape, the GEMM dispatch and the gradient checker are
//! written for exactly these two types. Gradient checks run in `f64`; training
//! usually runs in `f32`.

use std::fmt::{Debug, Display};
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::kernels::gemm::Gemm;
use crate::tape::TapeSlot;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: implemented for `f32` and `f64` only.
///
/// The methods mirror the inherent float methods of the standard library so that
/// kernels can be written once for both types.
///
/// # Examples
///
/// ```
/// use wengert_core::Float;
/// fn half<T: Float>(x: T) -> T { x * T::from_f64(0.5) }
/// assert_eq!(half(3.0f32), 1.5);
/// assert_eq!(half(3.0f64), 1.5);
/// ```
pub trait Float:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + Default
    + Debug
    + Display
    + PartialEq
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Gemm
    + TapeSlot
    + 'static
{
    /// The additive identity.
    const ZERO: Self;
    /// The multiplicative identity.
    const ONE: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// Negative infinity.
    const NEG_INFINITY: Self;
    /// Not a number.
    const NAN: Self;
    /// Machine epsilon.
    const EPSILON: Self;
    /// The name of the type, `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// Converts from `usize`, rounding to nearest.
    fn from_usize(n: usize) -> Self;
    /// `e^self`.
    fn exp(self) -> Self;
    /// The natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + self)`, accurate near zero.
    fn ln_1p(self) -> Self;
    /// `e^self - 1`, accurate near zero.
    fn exp_m1(self) -> Self;
    /// The square root.
    fn sqrt(self) -> Self;
    /// The absolute value.
    fn abs(self) -> Self;
    /// `self^p` for a float exponent.
    fn powf(self, p: Self) -> Self;
    /// The sine.
    fn sin(self) -> Self;
    /// The cosine.
    fn cos(self) -> Self;
    /// The hyperbolic tangent (for `f32` within one ulp of the exact value:
    /// [`tanh_f32`](crate::kernels::tanh::tanh_f32)).
    fn tanh(self) -> Self;
    /// [`tanh`](Float::tanh) of eight values, the same results bit for bit
    /// (for `f32` interleaved: [`tanh_f32x8`](crate::kernels::tanh::tanh_f32x8)).
    #[doc(hidden)]
    fn tanh_x8(x: [Self; 8]) -> [Self; 8];
    /// The error function.
    fn erf(self) -> Self;
    /// True for NaN.
    fn is_nan(self) -> bool;
    /// True for neither infinite nor NaN.
    fn is_finite(self) -> bool;
    /// True for a negative sign bit (also `-0.0` and negative NaN).
    fn is_sign_negative(self) -> bool;
    /// The raw bits widened to `u64`, for bit-exact comparisons.
    fn to_bits_u64(self) -> u64;
}

macro_rules! impl_float {
    ($t:ident, $erf:path, $tanh:path, $tanh_x8:path) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const INFINITY: Self = $t::INFINITY;
            const NEG_INFINITY: Self = $t::NEG_INFINITY;
            const NAN: Self = $t::NAN;
            const EPSILON: Self = $t::EPSILON;
            const NAME: &'static str = stringify!($t);

            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn from_usize(n: usize) -> Self {
                n as $t
            }
            #[inline]
            fn exp(self) -> Self {
                $t::exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                $t::ln(self)
            }
            #[inline]
            fn ln_1p(self) -> Self {
                $t::ln_1p(self)
            }
            #[inline]
            fn exp_m1(self) -> Self {
                $t::exp_m1(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                $t::sqrt(self)
            }
            #[inline]
            fn abs(self) -> Self {
                $t::abs(self)
            }
            #[inline]
            fn powf(self, p: Self) -> Self {
                $t::powf(self, p)
            }
            #[inline]
            fn sin(self) -> Self {
                $t::sin(self)
            }
            #[inline]
            fn cos(self) -> Self {
                $t::cos(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline]
            fn tanh_x8(x: [Self; 8]) -> [Self; 8] {
                $tanh_x8(x)
            }
            #[inline]
            fn erf(self) -> Self {
                $erf(self)
            }
            #[inline]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            #[inline]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline]
            fn is_sign_negative(self) -> bool {
                $t::is_sign_negative(self)
            }
            #[inline]
            fn to_bits_u64(self) -> u64 {
                self.to_bits() as u64
            }
        }
    };
}

// f32's tanh runs in f64 arithmetic: within one ulp, 2-3 times cheaper than
// the C library's tanhf (see kernels/tanh.rs).
impl_float!(
    f32,
    libm::erff,
    crate::kernels::tanh::tanh_f32,
    crate::kernels::tanh::tanh_f32x8
);
impl_float!(f64, libm::erf, f64::tanh, tanh_f64x8);

/// `f64`'s [`Float::tanh_x8`]: the standard library's `tanh`, lane by lane.
#[inline]
fn tanh_f64x8(x: [f64; 8]) -> [f64; 8] {
    x.map(f64::tanh)
}
