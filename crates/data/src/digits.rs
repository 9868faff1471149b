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
