//! [`Error`]: everything that can go wrong in `wengert-data`, by name.
//!
//! Every variant carries the numbers involved (byte counts, dimensions, line
//! and column), so that the message alone says what is wrong with the input.

use std::path::PathBuf;

/// The result type of `wengert-data`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from `wengert-data`.
///
/// Messages are lowercase and name the reader or function that failed.
///
/// # Examples
///
/// ```
/// use wengert_data::{Error, idx};
/// // The magic of an IDX file starts with two zero bytes.
/// let e = idx::read_idx(&[1, 0, 8, 1, 0, 0, 0, 0]).unwrap_err();
/// assert!(matches!(e, Error::IdxBadMagic { .. }));
/// assert_eq!(e.to_string(), "idx: the magic must start with two zero bytes, found [01, 00]");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read. Check the path and its permissions.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A gzip stream is corrupt or ends early. Download or copy the file again;
    /// `gzip -t FILE` confirms the damage.
    #[error(
        "gzip: the stream is corrupt or truncated after {decoded} decompressed bytes ({message})"
    )]
    Gzip {
        /// How many bytes were decompressed before the failure.
        decoded: usize,
        /// The decompressor's description of the failure.
        message: String,
    },

    /// The input ends inside the IDX header (4 bytes of magic, then 4 bytes per
    /// dimension). The file is truncated or is not an IDX file.
    #[error("idx: the header needs {needed} bytes but the input has {actual}")]
    IdxTruncatedHeader {
        /// The header length implied by what was read so far.
        needed: usize,
        /// The number of header bytes available.
        actual: usize,
    },

    /// The first two bytes of the magic are not zero: this is not an IDX file
    /// (or it is compressed with something other than gzip).
    #[error("idx: the magic must start with two zero bytes, found [{:02x}, {:02x}]", bytes[0], bytes[1])]
    IdxBadMagic {
        /// The first two bytes.
        bytes: [u8; 2],
    },

    /// The type code (third byte of the magic) is not supported. Only `0x08`
    /// (unsigned byte), the type of the MNIST files, is read; convert other
    /// files first.
    #[error("idx: unsupported type code 0x{code:02x} (only 0x08, unsigned byte, is supported)")]
    IdxUnsupportedType {
        /// The type code found.
        code: u8,
    },

    /// The rank (fourth byte of the magic) is not what the reader expects: 3
    /// for MNIST images, 1 for MNIST labels. Check that the right file was
    /// passed, in the right argument.
    #[error("idx: {what} must have rank {expected}, found rank {rank}")]
    IdxRank {
        /// What was being read ("mnist images", "mnist labels").
        what: &'static str,
        /// The expected rank.
        expected: usize,
        /// The rank found.
        rank: usize,
    },

    /// The product of the dimensions overflows `usize`: the header is corrupt.
    #[error("idx: the product of the dimensions {dims:?} overflows usize")]
    IdxDimsOverflow {
        /// The dimensions from the header.
        dims: Vec<u32>,
    },

    /// The data is shorter than the dimensions require. The file is truncated.
    #[error("idx: dimensions {dims:?} need {expected} data bytes but the input has {actual}")]
    IdxShortData {
        /// The dimensions from the header.
        dims: Vec<usize>,
        /// The number of data bytes the dimensions require.
        expected: usize,
        /// The number of data bytes present.
        actual: usize,
    },

    /// Bytes follow the data the dimensions describe. The header is wrong or
    /// two files were concatenated.
    #[error(
        "idx: dimensions {dims:?} need {expected} data bytes but the input has {actual} (trailing bytes)"
    )]
    IdxTrailingBytes {
        /// The dimensions from the header.
        dims: Vec<usize>,
        /// The number of data bytes the dimensions require.
        expected: usize,
        /// The number of data bytes present.
        actual: usize,
    },

    /// An images file and a labels file hold different numbers of examples.
    /// Pass files that belong together (`t10k-images` with `t10k-labels`).
    #[error("mnist: {images} images but {labels} labels")]
    CountMismatch {
        /// The number of images.
        images: usize,
        /// The number of labels.
        labels: usize,
    },

    /// A label is not below the number of classes. The labels file is corrupt
    /// or belongs to another data set.
    #[error("{what}: label {label} at index {index} is not below the class count {classes}")]
    LabelOutOfRange {
        /// The reader or constructor.
        what: &'static str,
        /// The position of the label.
        index: usize,
        /// The label.
        label: usize,
        /// The number of classes.
        classes: usize,
    },

    /// A CSV row does not have the expected number of columns.
    #[error("csv: line {line} has {found} columns, expected {expected}")]
    CsvColumns {
        /// The line, counting from 1.
        line: usize,
        /// The number of columns expected.
        expected: usize,
        /// The number of columns found.
        found: usize,
    },

    /// A CSV field is not an integer in the allowed range.
    #[error("csv: line {line}, column {column}: {value:?} is not an integer in 0..={max}")]
    CsvValue {
        /// The line, counting from 1.
        line: usize,
        /// The column, counting from 1.
        column: usize,
        /// The field as written.
        value: String,
        /// The largest value allowed.
        max: u32,
    },

    /// The inputs and the targets of a data set hold different numbers of
    /// examples (the first dimension of the inputs against the target count).
    #[error("{what}: inputs hold {inputs} examples but targets hold {targets}")]
    LengthMismatch {
        /// The constructor.
        what: &'static str,
        /// The first dimension of the inputs.
        inputs: usize,
        /// The number of targets.
        targets: usize,
    },

    /// A tensor has the wrong rank. Reshape it first (images are `[n, c, h, w]`,
    /// inputs have the examples along the first axis).
    #[error("{what}: expected rank {expected}, got shape {dims:?}")]
    Rank {
        /// The function.
        what: &'static str,
        /// The rank expected (for data sets: at least this rank).
        expected: usize,
        /// The dimensions given.
        dims: Vec<usize>,
    },

    /// A numeric parameter is out of its domain (a negative noise level, a
    /// batch size of zero, split fractions that sum to more than 1, ...).
    /// Pass a value in the stated range.
    #[error("{what}: {name} must be {expected}, got {value}")]
    InvalidParameter {
        /// The function.
        what: &'static str,
        /// The parameter.
        name: &'static str,
        /// The value given (converted to `f64`).
        value: f64,
        /// The allowed range, in words.
        expected: &'static str,
    },
}
