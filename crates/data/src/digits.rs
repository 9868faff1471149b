//! The UCI handwritten digits, embedded in the crate: 1797 images of 8x8
//! pixels, so that every example runs offline on a fresh machine.
//!
//! The data is the test set of the UCI "Optical Recognition of Handwritten
//! Digits" data set (E. Alpaydin and C. Kaynak, 1998; UCI Machine Learning
//! Repository; licensed CC BY 4.0), as distributed with scikit-learn. The
//! embedded file `data/digits.csv.gz` (57 KB) holds one row per image: 64
//! integer pixels in `0..=16` (row-major), then the label `0..=9`.

use std::io::Read;

use flate2::read::GzDecoder;
use wengert_core::Tensor;

use crate::{Dataset, Error, Result};

/// The embedded, gzip-compressed CSV.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
/// Pixels per image (8x8).
pub const DIGITS_PIXELS: usize = 64;
/// The largest pixel value of the raw data.
pub const DIGITS_MAX_PIXEL: u32 = 16;
/// The number of classes.
pub const DIGITS_CLASSES: usize = 10;
/// The number of images.
pub const DIGITS_LEN: usize = 1797;

/// Loads the embedded digits: inputs `[1797, 64]` (each row an 8x8 image,
/// row-major) with every pixel divided by 16 so that it lies in `[0, 1]`, and
/// labels `0..=9`.
///
/// Reshape the inputs to `[1797, 1, 8, 8]` for a convolutional network.
///
/// # Errors
///
/// None in practice: the embedded data is validated by this crate's tests. The
/// `Result` reports a damaged build (see [`parse_digits_csv`]).
///
/// # Examples
///
/// ```
/// let data = wengert_data::digits()?;
/// assert_eq!(data.inputs().dims(), &[1797, 64]);
/// assert_eq!(data.labels().unwrap()[0], 0);
/// assert!(data.inputs().to_vec().iter().all(|p| (0.0..=1.0).contains(p)));
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn digits() -> Result<Dataset> {
    let mut csv = String::new();
    GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut csv)
        .map_err(|e| Error::Gzip {
            decoded: csv.len(),
            message: e.to_string(),
        })?;
    parse_digits_csv(&csv)
}

/// Parses digits in the CSV layout of the embedded file: per line, 64 pixels
/// in `0..=16` then a label in `0..=9`, comma separated; blank lines are
/// skipped. Pixels are divided by 16.
///
/// # Errors
///
/// [`Error::CsvColumns`] for a line without 65 fields; [`Error::CsvValue`] for
/// a field that is not an integer in range.
///
/// # Examples
///
/// ```
/// use wengert_data::{Error, parse_digits_csv};
/// let row = format!("{}16,3\n", "0,".repeat(63));
/// let data = parse_digits_csv(&row)?;
/// assert_eq!(data.inputs().to_vec()[63], 1.0);
/// assert_eq!(data.labels(), Some(&[3][..]));
///
/// let e = parse_digits_csv("1,2,3\n").unwrap_err();
/// assert_eq!(e.to_string(), "csv: line 1 has 3 columns, expected 65");
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn parse_digits_csv(csv: &str) -> Result<Dataset> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in csv.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != DIGITS_PIXELS + 1 {
            return Err(Error::CsvColumns {
                line: line_no,
                expected: DIGITS_PIXELS + 1,
                found: fields.len(),
            });
        }
        for (j, field) in fields.iter().enumerate() {
            let max = if j < DIGITS_PIXELS {
                DIGITS_MAX_PIXEL
            } else {
                DIGITS_CLASSES as u32 - 1
            };
            let value = field
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|&v| v <= max)
                .ok_or_else(|| Error::CsvValue {
                    line: line_no,
                    column: j + 1,
                    value: (*field).to_string(),
                    max,
                })?;
            if j < DIGITS_PIXELS {
                pixels.push(value as f32 / DIGITS_MAX_PIXEL as f32);
            } else {
                labels.push(value as usize);
            }
        }
    }
    let n = labels.len();
    let inputs = Tensor::from_vec(pixels, [n, DIGITS_PIXELS])
        .expect("BUG: every row pushed 64 pixels and one label");
    Dataset::classification(inputs, labels)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn row(pixel: &str, label: &str) -> String {
        format!("{}{pixel},{label}\n", "0,".repeat(63))
    }

    #[test]
    fn embedded_digits_have_1797_images_of_64_pixels() {
        let d = digits().unwrap();
        assert_eq!(d.inputs().dims(), &[DIGITS_LEN, DIGITS_PIXELS]);
        assert_eq!(d.len(), 1797);
        assert_eq!(d.num_classes(), Some(DIGITS_CLASSES));
        let px = d.inputs().as_slice();
        assert!(px.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!(px.contains(&1.0), "some pixel is 16");
    }

    #[test]
    fn embedded_label_histogram_sums_to_1797_with_every_class_present() {
        let d = digits().unwrap();
        let mut hist = [0usize; DIGITS_CLASSES];
        for &l in d.labels().unwrap() {
            hist[l] += 1;
        }
        assert_eq!(hist.iter().sum::<usize>(), 1797);
        // scikit-learn's digits: between 174 and 183 images per class.
        assert!(hist.iter().all(|&c| (174..=183).contains(&c)), "{hist:?}");
    }

    #[test]
    fn first_embedded_row_is_a_zero() {
        let d = digits().unwrap();
        assert_eq!(d.labels().unwrap()[0], 0);
        // Its first row of pixels (from the CSV): 0 0 5 13 9 1 0 0, divided by 16.
        let first: Vec<f32> = d.inputs().as_slice()[..8].to_vec();
        let expected: Vec<f32> = [0., 0., 5., 13., 9., 1., 0., 0.]
            .iter()
            .map(|v| v / 16.0)
            .collect();
        assert_eq!(first, expected);
    }

    #[test]
    fn wrong_column_count_names_the_line() {
        let long = format!("{}{}0\n", row("1", "2"), "0,".repeat(65));
        let e = parse_digits_csv(&long).unwrap_err();
        assert!(
            matches!(
                e,
                Error::CsvColumns {
                    line: 2,
                    expected: 65,
                    found: 66
                }
            ),
            "{e}"
        );
        let short = format!("{}{}\n", row("1", "2"), "0,".repeat(60) + "0");
        let e = parse_digits_csv(&short).unwrap_err();
        assert!(
            matches!(
                e,
                Error::CsvColumns {
                    line: 2,
                    expected: 65,
                    found: 61
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn out_of_range_pixel_and_label_name_line_and_column() {
        let e = parse_digits_csv(&row("17", "1")).unwrap_err();
        assert!(
            matches!(&e, Error::CsvValue { line: 1, column: 64, value, max: 16 } if value == "17"),
            "{e}"
        );
        let e = parse_digits_csv(&row("3", "10")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::CsvValue {
                    column: 65,
                    max: 9,
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_digits_csv(&row("-1", "1")).unwrap_err();
        assert!(matches!(e, Error::CsvValue { column: 64, .. }), "{e}");
        let e = parse_digits_csv(&row("x", "1")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "csv: line 1, column 64: \"x\" is not an integer in 0..=16"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(csv in "[0-9,\n -]{0,300}") {
            if let Ok(d) = parse_digits_csv(&csv) {
                prop_assert_eq!(d.inputs().numel(), d.len() * DIGITS_PIXELS);
            }
        }
    }
}
