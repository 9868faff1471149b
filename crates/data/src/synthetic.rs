//! Synthetic data sets for small experiments, all drawn from an RNG you pass
//! in (seed a `rand::rngs::StdRng` for reproducible data).
//!
//! Classification sets are 2-D points (`[n, 2]` inputs) with labels, grouped
//! by class in the order generated: shuffle when batching. Regression sets
//! have `[n, 1]` inputs and `[n, 1]` targets.
//!
//! | function | what it teaches |
//! |---|---|
//! | [`xor`], [`xor_cloud`] | a problem no linear model solves |
//! | [`two_moons`] | a curved decision boundary |
//! | [`spirals`] | a hard boundary that needs depth or width |
//! | [`blobs`] | linearly separable classes, softmax regression |
//! | [`noisy_sine`] | regression of a smooth function |
//! | [`noisy_polynomial`] | few noisy points: a big network overfits them |

use std::f64::consts::PI;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Normal};
use wengert_core::Tensor;

use crate::{Dataset, Error, Result};

/// A normal distribution with mean 0 and standard deviation `std`, checked.
fn noise_dist(what: &'static str, name: &'static str, std: f64) -> Result<Normal<f64>> {
    Normal::new(0.0, std)
        .ok()
        .filter(|_| std.is_finite() && std >= 0.0)
        .ok_or(Error::InvalidParameter {
            what,
            name,
            value: std,
            expected: "finite and >= 0",
        })
}

/// Builds a classification set from points and labels (lengths agree by
/// construction).
fn points(xy: Vec<f32>, labels: Vec<usize>) -> Dataset {
    let n = labels.len();
    let x = Tensor::from_vec(xy, [n, 2]).expect("BUG: two coordinates per label");
    Dataset::classification(x, labels).expect("BUG: one label per point")
}

/// Builds a regression set from `x` and `y` of equal length.
fn curve(x: Vec<f32>, y: Vec<f32>) -> Dataset {
    let n = x.len();
    let x = Tensor::from_vec(x, [n, 1]).expect("BUG: one input per example");
    let y = Tensor::from_vec(y, [n, 1]).expect("BUG: one target per example");
    Dataset::regression(x, y).expect("BUG: as many targets as inputs")
}

/// Returns the four XOR points `(0,0) (0,1) (1,0) (1,1)` with labels
/// `0 1 1 0`.
///
/// # Examples
///
/// ```
/// let data = wengert_data::synthetic::xor();
/// assert_eq!(data.inputs().to_vec(), vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
/// assert_eq!(data.labels(), Some(&[0, 1, 1, 0][..]));
/// ```
pub fn xor() -> Dataset {
    points(
        vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0],
        vec![0, 1, 1, 0],
    )
}

/// Returns `n_per_corner` points around each XOR corner, displaced by Gaussian
/// noise of standard deviation `noise`, labelled as XOR (label 1 where exactly
/// one coordinate's corner is 1): `4 * n_per_corner` points, half of each
/// class.
///
/// # Errors
///
/// [`Error::InvalidParameter`] when `noise` is negative or not finite.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let data = wengert_data::synthetic::xor_cloud(25, 0.1, &mut rng)?;
/// assert_eq!(data.inputs().dims(), &[100, 2]);
/// assert_eq!(data.labels().unwrap().iter().sum::<usize>(), 50);
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn xor_cloud<R: Rng + ?Sized>(n_per_corner: usize, noise: f64, rng: &mut R) -> Result<Dataset> {
    let dist = noise_dist("xor_cloud", "noise", noise)?;
    let mut xy = Vec::with_capacity(8 * n_per_corner);
    let mut labels = Vec::with_capacity(4 * n_per_corner);
    for (cx, cy) in [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)] {
        for _ in 0..n_per_corner {
            xy.push((cx + dist.sample(rng)) as f32);
            xy.push((cy + dist.sample(rng)) as f32);
            labels.push(usize::from((cx != cy) as u8));
        }
    }
    Ok(points(xy, labels))
}

/// Returns two interleaving half circles (scikit-learn's `make_moons`):
/// `n_per_moon` points evenly spaced along each, displaced by Gaussian noise
/// of standard deviation `noise`. Moon 0 is the upper arc `(cos t, sin t)`,
/// moon 1 the lower `(1 - cos t, 0.5 - sin t)`, `t` in `[0, π]`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] when `noise` is negative or not finite.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let data = wengert_data::synthetic::two_moons(3, 0.0, &mut rng)?;
/// // Without noise, the first point of moon 0 is (cos 0, sin 0).
/// assert_eq!(&data.inputs().to_vec()[..2], &[1.0, 0.0]);
/// assert_eq!(data.labels(), Some(&[0, 0, 0, 1, 1, 1][..]));
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn two_moons<R: Rng + ?Sized>(n_per_moon: usize, noise: f64, rng: &mut R) -> Result<Dataset> {
    let dist = noise_dist("two_moons", "noise", noise)?;
    let mut xy = Vec::with_capacity(4 * n_per_moon);
    let mut labels = Vec::with_capacity(2 * n_per_moon);
    let step = if n_per_moon > 1 {
        PI / (n_per_moon - 1) as f64
    } else {
        0.0
    };
    for moon in 0..2 {
        for i in 0..n_per_moon {
            let t = i as f64 * step;
            let (x, y) = if moon == 0 {
                (t.cos(), t.sin())
            } else {
                (1.0 - t.cos(), 0.5 - t.sin())
            };
            xy.push((x + dist.sample(rng)) as f32);
            xy.push((y + dist.sample(rng)) as f32);
            labels.push(moon);
        }
    }
    Ok(points(xy, labels))
}

/// Returns `arms` interleaved spiral arms of `n_per_arm` points each, labelled
/// by arm. Point `i` of arm `k` has radius `r = i / n_per_arm` and angle
/// `2πk / arms + 3πr` (one and a half turns), and is displaced by Gaussian
/// noise of standard deviation `noise`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] when `arms` is 0 or `noise` is negative or not
/// finite.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let data = wengert_data::synthetic::spirals(100, 3, 0.02, &mut rng)?;
/// assert_eq!(data.inputs().dims(), &[300, 2]);
/// assert_eq!(data.num_classes(), Some(3));
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn spirals<R: Rng + ?Sized>(
    n_per_arm: usize,
    arms: usize,
    noise: f64,
    rng: &mut R,
) -> Result<Dataset> {
    if arms == 0 {
        return Err(Error::InvalidParameter {
            what: "spirals",
            name: "arms",
            value: 0.0,
            expected: "at least 1",
        });
    }
    let dist = noise_dist("spirals", "noise", noise)?;
    let mut xy = Vec::with_capacity(2 * n_per_arm * arms);
    let mut labels = Vec::with_capacity(n_per_arm * arms);
    for k in 0..arms {
        for i in 0..n_per_arm {
            let r = i as f64 / n_per_arm as f64;
            let angle = 2.0 * PI * k as f64 / arms as f64 + 3.0 * PI * r;
            xy.push((r * angle.cos() + dist.sample(rng)) as f32);
            xy.push((r * angle.sin() + dist.sample(rng)) as f32);
            labels.push(k);
        }
    }
    Ok(points(xy, labels))
}

/// Returns `n_per_class` points drawn from an isotropic Gaussian of standard
/// deviation `std` around each of `centers`; class `k` is the blob around
/// `centers[k]`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] when `std` is negative or not finite.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let centers = [[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]];
/// let data = wengert_data::synthetic::blobs(50, &centers, 0.5, &mut rng)?;
/// assert_eq!(data.inputs().dims(), &[150, 2]);
/// assert_eq!(data.labels().unwrap()[50], 1);
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn blobs<R: Rng + ?Sized>(
    n_per_class: usize,
    centers: &[[f32; 2]],
    std: f64,
    rng: &mut R,
) -> Result<Dataset> {
    let dist = noise_dist("blobs", "std", std)?;
    let mut xy = Vec::with_capacity(2 * n_per_class * centers.len());
    let mut labels = Vec::with_capacity(n_per_class * centers.len());
    for (k, c) in centers.iter().enumerate() {
        for _ in 0..n_per_class {
            xy.push((f64::from(c[0]) + dist.sample(rng)) as f32);
            xy.push((f64::from(c[1]) + dist.sample(rng)) as f32);
            labels.push(k);
        }
    }
    Ok(points(xy, labels))
}

/// Returns `n` points `x` drawn uniformly from `[-π, π)` with targets
/// `sin x` plus Gaussian noise of standard deviation `noise`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] when `noise` is negative or not finite.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let data = wengert_data::synthetic::noisy_sine(200, 0.0, &mut rng)?;
/// let (x, y) = (data.inputs().to_vec(), data.values().unwrap().to_vec());
/// assert!((y[0] - x[0].sin()).abs() < 1e-6);
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn noisy_sine<R: Rng + ?Sized>(n: usize, noise: f64, rng: &mut R) -> Result<Dataset> {
    let dist = noise_dist("noisy_sine", "noise", noise)?;
    let mut xs = Vec::with_capacity(n);
    let mut ys = Vec::with_capacity(n);
    for _ in 0..n {
        let x: f64 = rng.random_range(-PI..PI);
        xs.push(x as f32);
        ys.push((x.sin() + dist.sample(rng)) as f32);
    }
    Ok(curve(xs, ys))
}

/// Returns `n` evenly spaced points `x` in `[-1, 1]` with targets
/// `x³ - x/2` plus Gaussian noise of standard deviation `noise`.
///
/// With few points (say 20) and noise 0.1, a network with thousands of
/// parameters fits the noise: its training loss falls far below `noise²` while
/// its error on fresh points from the same curve grows. That is the set to
/// watch L2, dropout and early stopping on.
///
/// # Errors
///
/// [`Error::InvalidParameter`] when `noise` is negative or not finite.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let data = wengert_data::synthetic::noisy_polynomial(21, 0.0, &mut rng)?;
/// let y = data.values().unwrap().to_vec();
/// assert!((y[20] - 0.5).abs() < 1e-6); // x = 1: 1 - 1/2
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn noisy_polynomial<R: Rng + ?Sized>(n: usize, noise: f64, rng: &mut R) -> Result<Dataset> {
    let dist = noise_dist("noisy_polynomial", "noise", noise)?;
    let mut xs = Vec::with_capacity(n);
    let mut ys = Vec::with_capacity(n);
    for i in 0..n {
        let x = if n > 1 {
            -1.0 + 2.0 * i as f64 / (n - 1) as f64
        } else {
            0.0
        };
        xs.push(x as f32);
        ys.push((x * x * x - 0.5 * x + dist.sample(rng)) as f32);
    }
    Ok(curve(xs, ys))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn histogram(d: &Dataset) -> Vec<usize> {
        let mut h = vec![0; d.num_classes().unwrap_or(0)];
        for &l in d.labels().unwrap() {
            h[l] += 1;
        }
        h
    }

    /// Every generator, called with a fresh RNG from `seed`.
    fn all(seed: u64) -> Vec<Dataset> {
        let rng = &mut StdRng::seed_from_u64(seed);
        vec![
            xor_cloud(10, 0.1, rng).unwrap(),
            two_moons(20, 0.1, rng).unwrap(),
            spirals(15, 4, 0.05, rng).unwrap(),
            blobs(12, &[[0.0, 0.0], [3.0, 3.0], [-3.0, 3.0]], 0.5, rng).unwrap(),
            noisy_sine(30, 0.1, rng).unwrap(),
            noisy_polynomial(20, 0.1, rng).unwrap(),
        ]
    }

    #[test]
    fn shapes_and_label_balance() {
        let d = all(0);
        let dims: Vec<&[usize]> = d.iter().map(|d| d.inputs().dims()).collect();
        assert_eq!(
            dims,
            [
                &[40, 2][..],
                &[40, 2],
                &[60, 2],
                &[36, 2],
                &[30, 1],
                &[20, 1]
            ]
        );
        assert_eq!(histogram(&d[0]), vec![20, 20]);
        assert_eq!(histogram(&d[1]), vec![20, 20]);
        assert_eq!(histogram(&d[2]), vec![15; 4]);
        assert_eq!(histogram(&d[3]), vec![12; 3]);
        assert_eq!(d[4].values().unwrap().dims(), &[30, 1]);
        assert_eq!(d[5].values().unwrap().dims(), &[20, 1]);
        assert_eq!(histogram(&xor()), vec![2, 2]);
    }

    #[test]
    fn same_seed_gives_same_data_and_other_seeds_differ() {
        let flat = |ds: Vec<Dataset>| -> Vec<Vec<f32>> {
            ds.iter()
                .map(|d| {
                    let mut v = d.inputs().to_vec();
                    if let Some(y) = d.values() {
                        v.extend(y.to_vec());
                    }
                    v
                })
                .collect()
        };
        assert_eq!(flat(all(42)), flat(all(42)));
        let (a, b) = (flat(all(1)), flat(all(2)));
        for (x, y) in a.iter().zip(&b) {
            assert_ne!(x, y);
        }
    }

    #[test]
    fn noise_has_the_requested_spread() {
        let rng = &mut StdRng::seed_from_u64(3);
        let d = blobs(4000, &[[5.0, -1.0]], 0.3, rng).unwrap();
        let x = d.inputs().to_vec();
        let xs: Vec<f64> = x.iter().step_by(2).map(|&v| f64::from(v)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let std = (xs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / xs.len() as f64).sqrt();
        // Standard error of the mean 0.3/√4000 ≈ 0.005; of the std ≈ 0.0034.
        assert!((mean - 5.0).abs() < 0.025, "mean {mean}");
        assert!((std - 0.3).abs() < 0.02, "std {std}");
    }

    #[test]
    fn noiseless_sets_lie_on_their_curves() {
        let rng = &mut StdRng::seed_from_u64(0);
        let s = spirals(10, 2, 0.0, rng).unwrap();
        for (i, p) in s.inputs().to_vec().chunks(2).enumerate() {
            let r = (i % 10) as f32 / 10.0;
            assert!((p[0].hypot(p[1]) - r).abs() < 1e-5, "point {i}: {p:?}");
        }
        let m = two_moons(5, 0.0, rng).unwrap();
        let last = &m.inputs().to_vec()[18..];
        assert!(
            (last[0] - 2.0).abs() < 1e-6 && (last[1] - 0.5).abs() < 1e-6,
            "{last:?}"
        );
        let c = xor_cloud(3, 0.0, rng).unwrap();
        assert_eq!(&c.inputs().to_vec()[..2], &[0.0, 0.0]);
        let sine = noisy_sine(50, 0.0, rng).unwrap();
        let (x, y) = (sine.inputs().to_vec(), sine.values().unwrap().to_vec());
        assert!(
            x.iter()
                .all(|v| (-std::f32::consts::PI..std::f32::consts::PI).contains(v))
        );
        assert!(x.iter().zip(&y).all(|(x, y)| (x.sin() - y).abs() < 1e-6));
    }

    #[test]
    fn invalid_parameters_are_named() {
        let rng = &mut StdRng::seed_from_u64(0);
        let e = two_moons(3, -1.0, rng).unwrap_err();
        assert_eq!(
            e.to_string(),
            "two_moons: noise must be finite and >= 0, got -1"
        );
        assert!(matches!(
            spirals(3, 0, 0.1, rng),
            Err(Error::InvalidParameter { name: "arms", .. })
        ));
        assert!(matches!(
            blobs(3, &[[0.0, 0.0]], f64::INFINITY, rng),
            Err(Error::InvalidParameter { name: "std", .. })
        ));
        assert!(noisy_sine(3, f64::NAN, rng).is_err());
        assert!(noisy_polynomial(3, -0.5, rng).is_err());
        assert!(xor_cloud(3, -0.5, rng).is_err());
    }
}
