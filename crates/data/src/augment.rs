//! Image augmentation on `[n, c, h, w]` tensors: shifts with zero fill,
//! horizontal flips and Gaussian noise, each random variant drawn from an RNG
//! you pass in.
//!
//! The functions return new tensors (detached from any tape: augmentation
//! is data preparation, not part of the model).

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Normal};
use wengert_core::Tensor;

use crate::{Error, Result};

/// Checks that `images` is `[n, c, h, w]` and returns the dimensions.
fn dims4(what: &'static str, images: &Tensor<f32>) -> Result<[usize; 4]> {
    match *images.dims() {
        [n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(Error::Rank {
            what,
            expected: 4,
            dims: images.dims().to_vec(),
        }),
    }
}

/// Shifts one `h × w` plane by `(dy, dx)` into `dst`, filling with zeros.
fn shift_plane(src: &[f32], dst: &mut [f32], h: usize, w: usize, dy: isize, dx: isize) {
    for y in 0..h {
        let Some(sy) = y.checked_add_signed(-dy).filter(|&sy| sy < h) else {
            continue;
        };
        for x in 0..w {
            if let Some(sx) = x.checked_add_signed(-dx).filter(|&sx| sx < w) {
                dst[y * w + x] = src[sy * w + sx];
            }
        }
    }
}

/// Shifts every image by `dy` rows down and `dx` columns right (negative
/// values shift up and left); pixels shifted in from outside are zero.
///
/// # Errors
///
/// [`Error::Rank`] unless `images` is `[n, c, h, w]`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_data::augment::shift;
/// let img = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2])?;
/// assert_eq!(shift(&img, 1, 0)?.to_vec(), vec![0.0, 0.0, 1.0, 2.0]);
/// assert_eq!(shift(&img, 0, -1)?.to_vec(), vec![2.0, 0.0, 4.0, 0.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn shift(images: &Tensor<f32>, dy: isize, dx: isize) -> Result<Tensor<f32>> {
    let [n, c, h, w] = dims4("shift", images)?;
    let src = images.as_slice();
    let mut out = vec![0.0; src.len()];
    let plane = h * w;
    for p in 0..n * c {
        let r = p * plane..(p + 1) * plane;
        shift_plane(&src[r.clone()], &mut out[r], h, w, dy, dx);
    }
    Ok(Tensor::from_vec(out, images.dims()).expect("BUG: same shape as the input"))
}

/// Shifts each image by its own random offset, rows and columns each drawn
/// uniformly from `-max_shift..=max_shift` (the same offset for all channels
/// of an image), with zero fill.
///
/// # Errors
///
/// [`Error::Rank`] unless `images` is `[n, c, h, w]`.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// use wengert_core::Tensor;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let img = Tensor::<f32>::ones([2, 1, 8, 8]);
/// let out = wengert_data::augment::random_shift(&img, 2, &mut rng)?;
/// assert_eq!(out.dims(), &[2, 1, 8, 8]);
/// // At least 36 of 64 pixels survive a shift of at most 2 in each direction.
/// assert!(out.to_vec()[..64].iter().sum::<f32>() >= 36.0);
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn random_shift<R: Rng + ?Sized>(
    images: &Tensor<f32>,
    max_shift: usize,
    rng: &mut R,
) -> Result<Tensor<f32>> {
    let [n, c, h, w] = dims4("random_shift", images)?;
    // |offset| <= isize::MAX, so the casts below are exact.
    let m = max_shift.min(isize::MAX as usize) as i64;
    let src = images.as_slice();
    let mut out = vec![0.0; src.len()];
    let plane = h * w;
    for i in 0..n {
        let dy = rng.random_range(-m..=m) as isize;
        let dx = rng.random_range(-m..=m) as isize;
        for p in i * c..(i + 1) * c {
            let r = p * plane..(p + 1) * plane;
            shift_plane(&src[r.clone()], &mut out[r], h, w, dy, dx);
        }
    }
    Ok(Tensor::from_vec(out, images.dims()).expect("BUG: same shape as the input"))
}

/// Flips every image left to right.
///
/// # Errors
///
/// [`Error::Rank`] unless `images` is `[n, c, h, w]`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// let img = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1, 1, 2, 3])?;
/// let flipped = wengert_data::augment::hflip(&img)?;
/// assert_eq!(flipped.to_vec(), vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn hflip(images: &Tensor<f32>) -> Result<Tensor<f32>> {
    dims4("hflip", images)?;
    flip_where(images, |_| true)
}

/// Flips each image left to right with probability `p`, independently.
///
/// # Errors
///
/// [`Error::Rank`] unless `images` is `[n, c, h, w]`;
/// [`Error::InvalidParameter`] unless `0 ≤ p ≤ 1`.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// use wengert_core::Tensor;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let img = Tensor::from_vec(vec![1.0, 2.0], [1, 1, 1, 2])?;
/// let always = wengert_data::augment::random_hflip(&img, 1.0, &mut rng)?;
/// assert_eq!(always.to_vec(), vec![2.0, 1.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn random_hflip<R: Rng + ?Sized>(
    images: &Tensor<f32>,
    p: f64,
    rng: &mut R,
) -> Result<Tensor<f32>> {
    let [n, ..] = dims4("random_hflip", images)?;
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::InvalidParameter {
            what: "random_hflip",
            name: "p",
            value: p,
            expected: "in [0, 1]",
        });
    }
    let flips: Vec<bool> = (0..n).map(|_| rng.random_bool(p)).collect();
    flip_where(images, |i| flips[i])
}

/// Flips image `i` when `flip(i)`; `images` is known to be rank 4.
fn flip_where(images: &Tensor<f32>, flip: impl Fn(usize) -> bool) -> Result<Tensor<f32>> {
    let &[n, c, h, w] = images.dims() else {
        unreachable!("BUG: callers check the rank")
    };
    let mut out = images.to_vec();
    let image = c * h * w;
    for i in 0..n {
        if flip(i) {
            for row in out[i * image..(i + 1) * image].chunks_exact_mut(w.max(1)) {
                row.reverse();
            }
        }
    }
    Ok(Tensor::from_vec(out, images.dims()).expect("BUG: same shape as the input"))
}

/// Adds independent Gaussian noise of standard deviation `std` to every pixel
/// (no clamping: the result may leave `[0, 1]`).
///
/// # Errors
///
/// [`Error::Rank`] unless `images` is `[n, c, h, w]`;
/// [`Error::InvalidParameter`] when `std` is negative or not finite.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// use wengert_core::Tensor;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let img = Tensor::<f32>::zeros([1, 1, 2, 2]);
/// let same = wengert_data::augment::gaussian_noise(&img, 0.0, &mut rng)?;
/// assert_eq!(same.to_vec(), vec![0.0; 4]);
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn gaussian_noise<R: Rng + ?Sized>(
    images: &Tensor<f32>,
    std: f64,
    rng: &mut R,
) -> Result<Tensor<f32>> {
    dims4("gaussian_noise", images)?;
    let dist = Normal::new(0.0, std)
        .ok()
        .filter(|_| std.is_finite() && std >= 0.0)
        .ok_or(Error::InvalidParameter {
            what: "gaussian_noise",
            name: "std",
            value: std,
            expected: "finite and >= 0",
        })?;
    let out = images
        .as_slice()
        .iter()
        .map(|&v| v + dist.sample(rng) as f32)
        .collect();
    Ok(Tensor::from_vec(out, images.dims()).expect("BUG: same shape as the input"))
}
