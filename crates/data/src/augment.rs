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
    // Only isize::MIN has no negation, and it shifts everything out of frame.
    let (Some(ndy), Some(ndx)) = (dy.checked_neg(), dx.checked_neg()) else {
        return;
    };
    for y in 0..h {
        let Some(sy) = y.checked_add_signed(ndy).filter(|&sy| sy < h) else {
            continue;
        };
        for x in 0..w {
            if let Some(sx) = x.checked_add_signed(ndx).filter(|&sx| sx < w) {
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    /// `[n, c, h, w]` images whose pixels are 1, 2, 3, ... (all distinct).
    fn counting(n: usize, c: usize, h: usize, w: usize) -> Tensor<f32> {
        let len = n * c * h * w;
        Tensor::from_vec((1..=len).map(|v| v as f32).collect(), [n, c, h, w]).unwrap()
    }

    #[test]
    fn shift_by_one_row_moves_every_pixel_down_and_zero_fills_the_top() {
        let img = counting(2, 2, 3, 4);
        let out = shift(&img, 1, 0).unwrap();
        let (src, dst) = (img.as_slice(), out.as_slice());
        for p in 0..4 {
            let (s, d) = (&src[p * 12..(p + 1) * 12], &dst[p * 12..(p + 1) * 12]);
            assert_eq!(
                &d[..4],
                &[0.0; 4],
                "plane {p}: top row is filled with zeros"
            );
            for y in 1..3 {
                for x in 0..4 {
                    assert_eq!(d[y * 4 + x], s[(y - 1) * 4 + x], "plane {p} ({y}, {x})");
                }
            }
        }
    }

    #[test]
    fn shifts_compose_and_shifting_out_of_frame_gives_zeros() {
        let img = counting(1, 1, 5, 5);
        let two = shift(&shift(&img, 1, -1).unwrap(), 1, -1).unwrap();
        assert_eq!(two.to_vec(), shift(&img, 2, -2).unwrap().to_vec());
        assert_eq!(shift(&img, 0, 0).unwrap().to_vec(), img.to_vec());
        assert_eq!(shift(&img, -5, 0).unwrap().to_vec(), vec![0.0; 25]);
        assert_eq!(shift(&img, 0, isize::MAX).unwrap().to_vec(), vec![0.0; 25]);
        assert_eq!(shift(&img, isize::MIN, 0).unwrap().to_vec(), vec![0.0; 25]);
    }

    #[test]
    fn random_shift_moves_each_image_by_one_offset_within_range() {
        let img = counting(20, 2, 6, 6);
        let mut rng = StdRng::seed_from_u64(4);
        let out = random_shift(&img, 1, &mut rng).unwrap();
        for i in 0..20 {
            let one = |t: &Tensor<f32>| {
                Tensor::from_slice(&t.as_slice()[i * 72..(i + 1) * 72], [1, 2, 6, 6]).unwrap()
            };
            let (src, dst) = (one(&img), one(&out));
            let matches = (-1..=1)
                .flat_map(|dy| (-1..=1).map(move |dx| (dy, dx)))
                .filter(|&(dy, dx)| shift(&src, dy, dx).unwrap().to_vec() == dst.to_vec())
                .count();
            assert_eq!(matches, 1, "image {i} is one shift of its source");
        }
        let again = random_shift(&img, 1, &mut StdRng::seed_from_u64(4)).unwrap();
        assert_eq!(again.to_vec(), out.to_vec());
    }

    #[test]
    fn flipping_twice_is_the_identity() {
        let img = counting(3, 2, 4, 5);
        let once = hflip(&img).unwrap();
        assert_ne!(once.to_vec(), img.to_vec());
        assert_eq!(hflip(&once).unwrap().to_vec(), img.to_vec());
        assert_eq!(hflip(&counting(0, 1, 2, 2)).unwrap().dims(), &[0, 1, 2, 2]);
    }

    #[test]
    fn random_hflip_flips_whole_images_about_half_the_time() {
        let img = counting(400, 1, 2, 3);
        let mut rng = StdRng::seed_from_u64(9);
        let out = random_hflip(&img, 0.5, &mut rng).unwrap();
        let flipped = hflip(&img).unwrap();
        let mut n_flipped = 0;
        for i in 0..400 {
            let r = i * 6..(i + 1) * 6;
            if out.as_slice()[r.clone()] == flipped.as_slice()[r.clone()] {
                n_flipped += 1;
            } else {
                assert_eq!(out.as_slice()[r.clone()], img.as_slice()[r]);
            }
        }
        // Binomial(400, 0.5): mean 200, sd 10.
        assert!((150..=250).contains(&n_flipped), "{n_flipped}");
        let never = random_hflip(&img, 0.0, &mut rng).unwrap();
        assert_eq!(never.to_vec(), img.to_vec());
        assert!(random_hflip(&img, 1.5, &mut rng).is_err());
    }

    #[test]
    fn noise_has_the_requested_standard_deviation() {
        let img = Tensor::<f32>::full([10, 1, 20, 20], 0.5);
        let mut rng = StdRng::seed_from_u64(1);
        let out = gaussian_noise(&img, 0.2, &mut rng).unwrap();
        let d: Vec<f64> = out.as_slice().iter().map(|&v| f64::from(v) - 0.5).collect();
        let n = d.len() as f64;
        let mean = d.iter().sum::<f64>() / n;
        let std = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        // 4000 samples: standard errors 0.0032 (mean) and 0.0022 (std).
        assert!(mean.abs() < 0.015, "mean {mean}");
        assert!((std - 0.2).abs() < 0.01, "std {std}");
        assert!(matches!(
            gaussian_noise(&img, -0.1, &mut rng),
            Err(Error::InvalidParameter { name: "std", .. })
        ));
    }

    #[test]
    fn non_image_tensors_are_rejected_with_their_shape() {
        let flat = Tensor::<f32>::zeros([4, 64]);
        let e = shift(&flat, 1, 0).unwrap_err();
        assert_eq!(e.to_string(), "shift: expected rank 4, got shape [4, 64]");
        assert!(hflip(&flat).is_err());
        let mut rng = StdRng::seed_from_u64(0);
        assert!(random_shift(&flat, 1, &mut rng).is_err());
        assert!(random_hflip(&flat, 0.5, &mut rng).is_err());
        assert!(gaussian_noise(&flat, 0.1, &mut rng).is_err());
    }
}
