//! Initialisers: the distributions new parameters are drawn from.
//!
//! Every scheme draws from an explicit RNG, so a seeded RNG gives the same
//! weights on every run. The fan-based schemes read the fans from the shape as
//! PyTorch does (see [`fans`]): a weight `[out, in, k...]` has
//! `fan_in = in · Πk` and `fan_out = out · Πk`.
//!
//! | scheme | distribution | variance |
//! |---|---|---|
//! | `Zeros`, `Constant(c)` | the constant | 0 |
//! | `Normal { mean, std }` | N(mean, std²) (the notes' N(0, 0.1) and N(0, 1)) | std² |
//! | `Uniform { low, high }` | U(low, high) | (high − low)² / 12 |
//! | `XavierUniform { gain }` | U(−a, a), a = gain · √(6 / (fan_in + fan_out)) | gain² · 2 / (fan_in + fan_out) |
//! | `XavierNormal { gain }` | N(0, std²), std = gain · √(2 / (fan_in + fan_out)) | gain² · 2 / (fan_in + fan_out) |
//! | `KaimingUniform { gain, mode }` | U(−b, b), b = gain · √(3 / fan) | gain² / fan |
//! | `KaimingNormal { gain, mode }` | N(0, std²), std = gain / √fan | gain² / fan |
//! | `LeCunNormal { gain }` | N(0, std²), std = gain / √fan_in | gain² / fan_in |
//!
//! `fan` is `fan_in` or `fan_out` as [`FanMode`] says. Usual gains: 1 for
//! linear, sigmoid and SELU (LeCun normal with gain 1 is the SELU scheme), √2
//! for ReLU ([`RELU_GAIN`]), 5/3 for tanh ([`TANH_GAIN`]).

use rand::Rng;
use wengert_core::{Float, Shape, Tensor};

use crate::error::{Error, Result};

/// The gain for ReLU layers, `√2` (He et al., 2015).
///
/// # Examples
///
/// ```
/// assert_eq!(wengert_nn::init::RELU_GAIN, 2f64.sqrt());
/// ```
pub const RELU_GAIN: f64 = std::f64::consts::SQRT_2;

/// The gain for tanh layers, `5/3`, as PyTorch's `calculate_gain("tanh")`.
///
/// # Examples
///
/// ```
/// assert_eq!(wengert_nn::init::TANH_GAIN, 5.0 / 3.0);
/// ```
pub const TANH_GAIN: f64 = 5.0 / 3.0;

/// Which fan the Kaiming schemes scale by.
///
/// `FanIn` preserves the variance of activations in the forward pass, `FanOut`
/// that of gradients in the backward pass.
///
/// # Examples
///
/// ```
/// use wengert_nn::init::{FanMode, Init};
/// let i = Init::KaimingNormal { gain: 1.0, mode: FanMode::FanOut };
/// assert_eq!(i.variance(&[4, 2].into()).unwrap(), 0.25);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// Scale by the number of inputs of a unit.
    FanIn,
    /// Scale by the number of outputs of a unit.
    FanOut,
}

/// An initialisation scheme; see the module docs for the formulas.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// use wengert_nn::init::Init;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let w = Init::XavierUniform { gain: 1.0 }.sample::<f32, _>([3, 5], &mut rng).unwrap();
/// let a = (6.0f32 / 8.0).sqrt();
/// assert!(w.to_vec().iter().all(|v| v.abs() <= a));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// Every element equal to the value.
    Constant(f64),
    /// The normal distribution N(mean, std²).
    Normal {
        /// The mean.
        mean: f64,
        /// The standard deviation.
        std: f64,
    },
    /// The uniform distribution on `[low, high)`.
    Uniform {
        /// The lower bound.
        low: f64,
        /// The upper bound.
        high: f64,
    },
    /// Glorot and Bengio (2010), uniform.
    XavierUniform {
        /// The gain.
        gain: f64,
    },
    /// Glorot and Bengio (2010), normal.
    XavierNormal {
        /// The gain.
        gain: f64,
    },
    /// He et al. (2015), uniform.
    KaimingUniform {
        /// The gain (√2 for ReLU).
        gain: f64,
        /// The fan scaled by.
        mode: FanMode,
    },
    /// He et al. (2015), normal.
    KaimingNormal {
        /// The gain (√2 for ReLU).
        gain: f64,
        /// The fan scaled by.
        mode: FanMode,
    },
    /// LeCun normal, the scheme for SELU networks (gain 1).
    LeCunNormal {
        /// The gain.
        gain: f64,
    },
}

/// Returns `(fan_in, fan_out)` of a weight shape `[out, in, k...]`:
/// `(in · Πk, out · Πk)`, as PyTorch's `_calculate_fan_in_and_fan_out`.
///
/// # Errors
///
/// [`Error::InvalidConfig`] for a shape of rank below 2 (no fans).
///
/// # Examples
///
/// ```
/// assert_eq!(wengert_nn::init::fans(&[8, 3, 5, 5].into()).unwrap(), (75, 200));
/// ```
pub fn fans(shape: &Shape) -> Result<(usize, usize)> {
    let d = shape.dims();
    if d.len() < 2 {
        return Err(Error::InvalidConfig {
            layer: "init",
            what: format!("fans need a weight shape of rank 2 or more, got {shape}"),
        });
    }
    let receptive: usize = d[2..].iter().product();
    Ok((d[1] * receptive, d[0] * receptive))
}

impl Init {
    /// Returns the variance of one element under this scheme for `shape`.
    ///
    /// # Errors
    ///
    /// As [`fans`], for the fan-based schemes.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::init::Init;
    /// let v = Init::XavierNormal { gain: 1.0 }.variance(&[3, 5].into()).unwrap();
    /// assert!((v - 0.25).abs() < 1e-15);
    /// ```
    pub fn variance(&self, shape: &Shape) -> Result<f64> {
        let fan = |mode: FanMode| -> Result<f64> {
            let (fi, fo) = fans(shape)?;
            Ok(match mode {
                FanMode::FanIn => fi,
                FanMode::FanOut => fo,
            } as f64)
        };
        Ok(match *self {
            Init::Zeros | Init::Constant(_) => 0.0,
            Init::Normal { std, .. } => std * std,
            Init::Uniform { low, high } => (high - low).powi(2) / 12.0,
            Init::XavierUniform { gain } | Init::XavierNormal { gain } => {
                let (fi, fo) = fans(shape)?;
                gain * gain * 2.0 / (fi + fo) as f64
            }
            Init::KaimingUniform { gain, mode } | Init::KaimingNormal { gain, mode } => {
                gain * gain / fan(mode)?
            }
            Init::LeCunNormal { gain } => gain * gain / fan(FanMode::FanIn)?,
        })
    }

    /// Draws an (untracked) tensor of `shape` from this scheme with `rng`. An
    /// empty shape gives an empty tensor and draws nothing.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a fan-based scheme on a shape of rank below
    /// 2, a negative or non-finite std or gain, or bounds with `low >= high`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use wengert_nn::init::Init;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    /// let c = Init::Constant(0.5).sample::<f64, _>([2], &mut rng).unwrap();
    /// assert_eq!(c.to_vec(), vec![0.5, 0.5]);
    /// assert!(Init::Normal { mean: 0.0, std: -1.0 }.sample::<f32, _>([2], &mut rng).is_err());
    /// ```
    pub fn sample<T: Float, R: Rng + ?Sized>(
        &self,
        shape: impl Into<Shape>,
        rng: &mut R,
    ) -> Result<Tensor<T>> {
        let shape = shape.into();
        let invalid = |what: String| Error::InvalidConfig {
            layer: "init",
            what,
        };
        match *self {
            Init::Zeros => return Ok(Tensor::try_full(shape, T::ZERO)?),
            Init::Constant(c) => return Ok(Tensor::try_full(shape, T::from_f64(c))?),
            Init::Uniform { low, high } => {
                if !(low.is_finite() && high.is_finite() && low < high) {
                    return Err(invalid(format!(
                        "uniform needs finite bounds with low < high (low {low}, high {high})"
                    )));
                }
                return Ok(Tensor::rand_uniform(
                    shape,
                    T::from_f64(low),
                    T::from_f64(high),
                    rng,
                )?);
            }
            Init::Normal { mean, std } => {
                if !(mean.is_finite() && std.is_finite() && std >= 0.0) {
                    return Err(invalid(format!(
                        "normal needs a finite mean and a finite std >= 0 (mean {mean}, std {std})"
                    )));
                }
                return Ok(Tensor::randn(
                    shape,
                    T::from_f64(mean),
                    T::from_f64(std),
                    rng,
                )?);
            }
            Init::XavierUniform { gain }
            | Init::XavierNormal { gain }
            | Init::KaimingUniform { gain, .. }
            | Init::KaimingNormal { gain, .. }
            | Init::LeCunNormal { gain } => {
                if !(gain.is_finite() && gain >= 0.0) {
                    return Err(invalid(format!("gain must be finite and >= 0, got {gain}")));
                }
            }
        }
        let var = self.variance(&shape)?;
        if shape.numel() == 0 {
            return Ok(Tensor::zeros(shape));
        }
        let std = var.sqrt();
        let t = match self {
            Init::XavierUniform { .. } | Init::KaimingUniform { .. } => {
                // U(-a, a) has variance a² / 3.
                let a = (3.0 * var).sqrt();
                if a == 0.0 {
                    Tensor::zeros(shape)
                } else {
                    Tensor::rand_uniform(shape, T::from_f64(-a), T::from_f64(a), rng)?
                }
            }
            _ => Tensor::randn(shape, T::ZERO, T::from_f64(std), rng)?,
        };
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn empirical(t: &Tensor<f64>) -> (f64, f64) {
        let v = t.as_slice();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    #[test]
    fn every_scheme_has_the_variance_of_its_formula() {
        // [out, in, k] = [40, 30, 5]: fan_in 150, fan_out 200, 6000 samples,
        // so the relative standard error of the sample variance is about 2-3 %.
        let shape: Shape = [40, 30, 5].into();
        let (fi, fo) = (150.0, 200.0);
        let cases = [
            (
                Init::Normal {
                    mean: 0.0,
                    std: 0.1,
                },
                0.01,
            ),
            (
                Init::Normal {
                    mean: 0.0,
                    std: 1.0,
                },
                1.0,
            ),
            (
                Init::Uniform {
                    low: -0.5,
                    high: 1.5,
                },
                4.0 / 12.0,
            ),
            (Init::XavierUniform { gain: 2.0 }, 4.0 * 2.0 / (fi + fo)),
            (Init::XavierNormal { gain: 1.0 }, 2.0 / (fi + fo)),
            (
                Init::KaimingUniform {
                    gain: RELU_GAIN,
                    mode: FanMode::FanIn,
                },
                2.0 / fi,
            ),
            (
                Init::KaimingUniform {
                    gain: 1.0,
                    mode: FanMode::FanOut,
                },
                1.0 / fo,
            ),
            (
                Init::KaimingNormal {
                    gain: RELU_GAIN,
                    mode: FanMode::FanIn,
                },
                2.0 / fi,
            ),
            (
                Init::KaimingNormal {
                    gain: TANH_GAIN,
                    mode: FanMode::FanOut,
                },
                25.0 / 9.0 / fo,
            ),
            (Init::LeCunNormal { gain: 1.0 }, 1.0 / fi),
        ];
        let mut rng = StdRng::seed_from_u64(42);
        for (init, want) in cases {
            assert!(
                (init.variance(&shape).unwrap() - want).abs() < 1e-12 * want,
                "{init:?}"
            );
            let t = init.sample::<f64, _>(shape.clone(), &mut rng).unwrap();
            let (mean, var) = empirical(&t);
            assert!(
                (var - want).abs() < 0.1 * want,
                "{init:?}: variance {var}, formula {want}"
            );
            let expect_mean = if let Init::Uniform { low, high } = init {
                (low + high) / 2.0
            } else {
                0.0
            };
            assert!(
                (mean - expect_mean).abs() < 4.0 * (want / 6000.0).sqrt() + 1e-12,
                "{init:?}: mean {mean}"
            );
        }
    }

    #[test]
    fn constant_schemes_are_exact() {
        let mut rng = StdRng::seed_from_u64(0);
        assert_eq!(
            Init::Zeros
                .sample::<f32, _>([3], &mut rng)
                .unwrap()
                .to_vec(),
            vec![0.0; 3]
        );
        assert_eq!(
            Init::Constant(2.5)
                .sample::<f32, _>([2], &mut rng)
                .unwrap()
                .to_vec(),
            vec![2.5; 2]
        );
    }

    #[test]
    fn seeded_samples_are_reproducible() {
        let i = Init::KaimingNormal {
            gain: 1.0,
            mode: FanMode::FanIn,
        };
        let a = i
            .sample::<f32, _>([4, 4], &mut StdRng::seed_from_u64(3))
            .unwrap();
        let b = i
            .sample::<f32, _>([4, 4], &mut StdRng::seed_from_u64(3))
            .unwrap();
        assert_eq!(a.to_vec(), b.to_vec());
    }

    #[test]
    fn fan_schemes_reject_vectors_and_bad_gains() {
        let mut rng = StdRng::seed_from_u64(0);
        let e = Init::XavierNormal { gain: 1.0 }
            .sample::<f32, _>([5], &mut rng)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "init: fans need a weight shape of rank 2 or more, got [5]"
        );
        assert!(
            Init::LeCunNormal { gain: f64::NAN }
                .sample::<f32, _>([2, 2], &mut rng)
                .is_err()
        );
        assert!(
            Init::Uniform {
                low: 1.0,
                high: 1.0
            }
            .sample::<f32, _>([2], &mut rng)
            .is_err()
        );
        assert_eq!(
            Init::XavierNormal { gain: 1.0 }
                .sample::<f32, _>([0, 3], &mut rng)
                .unwrap()
                .numel(),
            0
        );
    }
}
