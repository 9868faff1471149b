//! The IDX format of the MNIST files, raw or gzip-compressed, and an MNIST
//! loader.
//!
//! An IDX file is a big-endian `u32` magic `00 00 TT RR` (`TT` the element type,
//! `RR` the rank), one big-endian `u32` per dimension, then the elements in
//! row-major order. Only type `0x08` (unsigned byte) is read: it is the type of
//! every MNIST file.
//!
//! The reader validates before it allocates: the magic, the type code, the
//! rank, and the product of the dimensions (checked arithmetic) are checked
//! from the header alone. The data is then streamed with a limit of the
//! declared size plus one byte (to detect trailing data), so the buffer grows
//! only as bytes actually arrive: a header that lies about its size cannot make
//! the reader allocate far beyond what the file holds. A gzip stream (detected
//! by its magic `1f 8b`) is decompressed on the fly under the same limit; like
//! `gzip -d`, it may consist of several concatenated members, and anything
//! after the last member that is not another member is a [`Error::Gzip`].
//! When there is trailing data, the rest of the stream is read (and counted,
//! not stored) to report its length.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;
use wengert_core::Tensor;

use crate::{Dataset, Error, Result};

/// The element type code of unsigned bytes, the only one supported.
const TYPE_U8: u8 = 0x08;
/// The number of classes of MNIST.
pub const MNIST_CLASSES: usize = 10;

/// A decoded IDX file of unsigned bytes: its dimensions and its data.
///
/// # Examples
///
/// ```
/// use wengert_data::idx::read_idx;
/// // Magic 00 00 08 02 (u8, rank 2), dims 2 and 3, then 6 bytes.
/// let bytes = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6];
/// let idx = read_idx(&bytes)?;
/// assert_eq!(idx.dims(), &[2, 3]);
/// assert_eq!(idx.data(), &[1, 2, 3, 4, 5, 6]);
/// # Ok::<(), wengert_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    dims: Vec<usize>,
    data: Vec<u8>,
}

impl Idx {
    /// Returns the dimensions from the header.
    ///
    /// # Examples
    ///
    /// ```
    /// let idx = wengert_data::idx::read_idx(&[0, 0, 8, 1, 0, 0, 0, 2, 7, 9])?;
    /// assert_eq!(idx.dims(), &[2]);
    /// # Ok::<(), wengert_data::Error>(())
    /// ```
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// Returns the elements in row-major order.
    ///
    /// # Examples
    ///
    /// ```
    /// let idx = wengert_data::idx::read_idx(&[0, 0, 8, 1, 0, 0, 0, 2, 7, 9])?;
    /// assert_eq!(idx.data(), &[7, 9]);
    /// # Ok::<(), wengert_data::Error>(())
    /// ```
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Returns the dimensions and the data, consuming the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let idx = wengert_data::idx::read_idx(&[0, 0, 8, 1, 0, 0, 0, 1, 5])?;
    /// assert_eq!(idx.into_parts(), (vec![1], vec![5]));
    /// # Ok::<(), wengert_data::Error>(())
    /// ```
    pub fn into_parts(self) -> (Vec<usize>, Vec<u8>) {
        (self.dims, self.data)
    }
}

/// Returns whether `bytes` start with the gzip magic `1f 8b`.
fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decodes an IDX file held in memory, raw or gzip-compressed.
///
/// # Errors
///
/// [`Error::Gzip`] for a corrupt or truncated gzip stream;
/// [`Error::IdxTruncatedHeader`], [`Error::IdxBadMagic`],
/// [`Error::IdxUnsupportedType`], [`Error::IdxDimsOverflow`] for a bad header;
/// [`Error::IdxShortData`] and [`Error::IdxTrailingBytes`] when the data length
/// differs from the product of the dimensions.
///
/// # Examples
///
/// ```
/// use wengert_data::{Error, idx::read_idx};
/// // The header promises 4 bytes; only 3 follow.
/// let e = read_idx(&[0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3]).unwrap_err();
/// assert!(matches!(e, Error::IdxShortData { expected: 4, actual: 3, .. }));
/// ```
pub fn read_idx(bytes: &[u8]) -> Result<Idx> {
    let gzip_error = |e: io::Error, decoded| Error::Gzip {
        decoded,
        message: e.to_string(),
    };
    if is_gzip(bytes) {
        read_stream(MultiGzDecoder::new(bytes), &gzip_error)
    } else {
        // Reading from a slice cannot fail.
        read_stream(bytes, &gzip_error)
    }
}

/// Reads an IDX file, raw or gzip-compressed (detected by its first two bytes,
/// not by its name).
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be opened or read; otherwise as
/// [`read_idx`].
///
/// # Examples
///
/// ```
/// use wengert_data::{Error, idx::read_idx_file};
/// let e = read_idx_file("/no/such/file-idx1-ubyte").unwrap_err();
/// assert!(matches!(e, Error::Io { .. }));
/// ```
pub fn read_idx_file(path: impl AsRef<Path>) -> Result<Idx> {
    let path = path.as_ref();
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = BufReader::new(File::open(path).map_err(io_error)?);
    let gzip = is_gzip(file.fill_buf().map_err(io_error)?);
    if gzip {
        // The decompressor's read errors do not say whether the file or the
        // stream failed; report them as a damaged stream naming the file.
        let gzip_error = |e: io::Error, decoded| Error::Gzip {
            decoded,
            message: format!("{}: {e}", path.display()),
        };
        read_stream(MultiGzDecoder::new(file), &gzip_error)
    } else {
        read_stream(file, &|e, _| io_error(e))
    }
}

/// Reads `limit` bytes or up to the end of the stream, growing `buf` as the
/// bytes arrive.
fn read_limited<R: Read>(r: &mut R, limit: usize, buf: &mut Vec<u8>) -> io::Result<()> {
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    r.take(limit).read_to_end(buf).map(|_| ())
}

/// Decodes an IDX stream; `fail` turns a read error into an [`Error`], given
/// the number of (decompressed) bytes read before it.
fn read_stream<R: Read>(mut r: R, fail: &dyn Fn(io::Error, usize) -> Error) -> Result<Idx> {
    let mut magic = Vec::with_capacity(4);
    read_limited(&mut r, 4, &mut magic).map_err(|e| fail(e, magic.len()))?;
    if magic.len() < 4 {
        return Err(Error::IdxTruncatedHeader {
            needed: 4,
            actual: magic.len(),
        });
    }
    if magic[0] != 0 || magic[1] != 0 {
        return Err(Error::IdxBadMagic {
            bytes: [magic[0], magic[1]],
        });
    }
    if magic[2] != TYPE_U8 {
        return Err(Error::IdxUnsupportedType { code: magic[2] });
    }
    let rank = usize::from(magic[3]);
    let header = 4 + 4 * rank; // at most 1024 bytes
    let mut dim_bytes = Vec::with_capacity(4 * rank);
    read_limited(&mut r, 4 * rank, &mut dim_bytes).map_err(|e| fail(e, 4 + dim_bytes.len()))?;
    if dim_bytes.len() < 4 * rank {
        return Err(Error::IdxTruncatedHeader {
            needed: header,
            actual: 4 + dim_bytes.len(),
        });
    }
    let dims32: Vec<u32> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let dims: Option<Vec<usize>> = dims32.iter().map(|&d| usize::try_from(d).ok()).collect();
    let Some((dims, expected)) = dims.and_then(|dims| {
        let n = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
        Some((dims, n))
    }) else {
        return Err(Error::IdxDimsOverflow { dims: dims32 });
    };

    // Stream at most one byte past the declared size: enough to tell trailing
    // data from none, and never more than the stream really holds.
    let mut data = Vec::new();
    if let Err(e) = read_limited(&mut r, expected.saturating_add(1), &mut data) {
        return Err(fail(e, header + data.len()));
    }
    if data.len() < expected {
        return Err(Error::IdxShortData {
            dims,
            expected,
            actual: data.len(),
        });
    }
    if data.len() > expected {
        // Count the rest without storing it.
        let rest = io::copy(&mut r, &mut io::sink()).map_err(|e| fail(e, header + data.len()))?;
        let rest = usize::try_from(rest).unwrap_or(usize::MAX);
        return Err(Error::IdxTrailingBytes {
            dims,
            expected,
            actual: data.len().saturating_add(rest),
        });
    }
    Ok(Idx { dims, data })
}

/// Pairs an MNIST images file (rank 3: `[n, rows, cols]`) with its labels file
/// (rank 1: `[n]`), both already decoded.
///
/// Pixels are divided by 255, so the images lie in `[0, 1]`, with shape
/// `[n, 1, rows, cols]` (one channel); labels are class indices below
/// [`MNIST_CLASSES`].
///
/// # Errors
///
/// [`Error::IdxRank`] when the images are not rank 3 or the labels not rank 1;
/// [`Error::CountMismatch`] when their counts differ;
/// [`Error::LabelOutOfRange`] for a label of 10 or more.
///
/// # Examples
///
/// ```
/// use wengert_data::idx::{mnist_from_idx, read_idx};
/// // Two 1x2 images and their labels.
/// let images = read_idx(&[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255, 51, 0])?;
/// let labels = read_idx(&[0, 0, 8, 1, 0, 0, 0, 2, 7, 3])?;
/// let data = mnist_from_idx(&images, &labels)?;
/// assert_eq!(data.inputs().dims(), &[2, 1, 1, 2]);
/// assert_eq!(data.inputs().to_vec(), vec![0.0, 1.0, 0.2, 0.0]);
/// assert_eq!(data.labels(), Some(&[7, 3][..]));
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn mnist_from_idx(images: &Idx, labels: &Idx) -> Result<Dataset> {
    let rank = |idx: &Idx, what, expected| {
        if idx.dims.len() == expected {
            Ok(())
        } else {
            Err(Error::IdxRank {
                what,
                expected,
                rank: idx.dims.len(),
            })
        }
    };
    rank(images, "mnist images", 3)?;
    rank(labels, "mnist labels", 1)?;
    let (n, rows, cols) = (images.dims[0], images.dims[1], images.dims[2]);
    if labels.dims[0] != n {
        return Err(Error::CountMismatch {
            images: n,
            labels: labels.dims[0],
        });
    }
    if let Some((index, &label)) = labels
        .data
        .iter()
        .enumerate()
        .find(|&(_, &l)| usize::from(l) >= MNIST_CLASSES)
    {
        return Err(Error::LabelOutOfRange {
            what: "mnist",
            index,
            label: usize::from(label),
            classes: MNIST_CLASSES,
        });
    }
    let pixels = images.data.iter().map(|&p| f32::from(p) / 255.0).collect();
    let inputs = Tensor::from_vec(pixels, [n, 1, rows, cols])
        .expect("BUG: the idx reader checked the element count");
    let labels = labels.data.iter().map(|&l| usize::from(l)).collect();
    Dataset::classification(inputs, labels)
}

/// Loads MNIST from an images file and a labels file (raw or gzip-compressed
/// IDX, such as `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz`);
/// see [`mnist_from_idx`] for the layout of the result.
///
/// # Errors
///
/// As [`read_idx_file`] for each file, then as [`mnist_from_idx`].
///
/// # Examples
///
/// ```no_run
/// let test = wengert_data::idx::load_mnist(
///     "data/t10k-images-idx3-ubyte.gz",
///     "data/t10k-labels-idx1-ubyte.gz",
/// )?;
/// assert_eq!(test.inputs().dims(), &[10_000, 1, 28, 28]);
/// # Ok::<(), wengert_data::Error>(())
/// ```
pub fn load_mnist(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Dataset> {
    // Labels first: the smaller file fails faster when the pair is wrong.
    let labels = read_idx_file(labels)?;
    let images = read_idx_file(images)?;
    mnist_from_idx(&images, &labels)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;
    use proptest::prelude::*;

    use super::*;

    /// Builds an IDX file byte by byte: magic `00 00 code rank`, the big-endian
    /// dimensions, then `data`.
    fn idx_bytes(code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, code, dims.len() as u8];
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend_from_slice(data);
        b
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    /// A file in the system's temporary folder, removed on drop.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, bytes: &[u8]) -> Self {
            let path =
                std::env::temp_dir().join(format!("wengert-data-{}-{name}", std::process::id()));
            std::fs::write(&path, bytes).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn raw_and_gzip_files_decode_to_the_same_array() {
        let bytes = idx_bytes(8, &[2, 3], &[1, 2, 3, 4, 5, 6]);
        let raw = read_idx(&bytes).unwrap();
        assert_eq!(raw.dims(), &[2, 3]);
        assert_eq!(raw.data(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(read_idx(&gzip(&bytes)).unwrap(), raw);
        let f = TempFile::new("ok.idx", &bytes);
        assert_eq!(read_idx_file(&f.0).unwrap(), raw);
        let g = TempFile::new("ok.idx.gz", &gzip(&bytes));
        assert_eq!(read_idx_file(&g.0).unwrap(), raw);
    }

    #[test]
    fn zero_sized_and_rank_zero_arrays_are_valid() {
        let empty = read_idx(&idx_bytes(8, &[0, 28, 28], &[])).unwrap();
        assert_eq!(empty.dims(), &[0, 28, 28]);
        assert!(empty.data().is_empty());
        // Rank 0: a scalar, one element.
        let scalar = read_idx(&idx_bytes(8, &[], &[42])).unwrap();
        assert_eq!((scalar.dims(), scalar.data()), (&[][..], &[42][..]));
    }

    #[test]
    fn bad_magic_is_rejected_with_its_bytes() {
        let mut bytes = idx_bytes(8, &[1], &[0]);
        bytes[1] = 0x42;
        let e = read_idx(&bytes).unwrap_err();
        assert!(matches!(e, Error::IdxBadMagic { bytes: [0, 0x42] }), "{e}");
        // Neither raw IDX nor gzip: text.
        let e = read_idx(b"hello world").unwrap_err();
        assert!(
            matches!(
                e,
                Error::IdxBadMagic {
                    bytes: [b'h', b'e']
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn unsupported_type_code_is_named() {
        // 0x0D is IDX's float type.
        let e = read_idx(&idx_bytes(0x0D, &[1], &[0, 0, 0, 0])).unwrap_err();
        assert!(matches!(e, Error::IdxUnsupportedType { code: 0x0D }), "{e}");
        assert_eq!(
            e.to_string(),
            "idx: unsupported type code 0x0d (only 0x08, unsigned byte, is supported)"
        );
    }

    #[test]
    fn truncated_header_reports_needed_and_actual_bytes() {
        let e = read_idx(&[0, 0, 8]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::IdxTruncatedHeader {
                    needed: 4,
                    actual: 3
                }
            ),
            "{e}"
        );
        // Rank 3 needs 16 header bytes; give 10.
        let e = read_idx(&[0, 0, 8, 3, 0, 0, 0, 1, 0, 0]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::IdxTruncatedHeader {
                    needed: 16,
                    actual: 10
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn short_data_reports_expected_and_actual_bytes() {
        let bytes = idx_bytes(8, &[2, 3], &[1, 2, 3, 4, 5]);
        for input in [bytes.clone(), gzip(&bytes)] {
            let e = read_idx(&input).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::IdxShortData {
                        expected: 6,
                        actual: 5,
                        ..
                    }
                ),
                "{e}"
            );
        }
        assert_eq!(
            read_idx(&bytes).unwrap_err().to_string(),
            "idx: dimensions [2, 3] need 6 data bytes but the input has 5"
        );
    }

    #[test]
    fn trailing_bytes_report_expected_and_actual_bytes() {
        let bytes = idx_bytes(8, &[2, 2], &[1, 2, 3, 4, 5, 6, 7]);
        for input in [bytes.clone(), gzip(&bytes)] {
            let e = read_idx(&input).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::IdxTrailingBytes {
                        expected: 4,
                        actual: 7,
                        ..
                    }
                ),
                "{e}"
            );
        }
        let f = TempFile::new("trailing.idx", &bytes);
        let e = read_idx_file(&f.0).unwrap_err();
        assert!(
            matches!(e, Error::IdxTrailingBytes { actual: 7, .. }),
            "{e}"
        );
    }

    #[test]
    fn a_second_gzip_member_is_read_as_trailing_data() {
        let mut gz = gzip(&idx_bytes(8, &[2], &[1, 2]));
        gz.extend(gzip(&[3, 4, 5]));
        let e = read_idx(&gz).unwrap_err();
        assert!(
            matches!(
                e,
                Error::IdxTrailingBytes {
                    expected: 2,
                    actual: 5,
                    ..
                }
            ),
            "{e}"
        );
        // A complete file split across two members is fine.
        let mut split = gzip(&idx_bytes(8, &[2], &[]));
        split.extend(gzip(&[1, 2]));
        assert_eq!(read_idx(&split).unwrap().data(), &[1, 2]);
    }

    #[test]
    fn garbage_after_the_gzip_stream_is_a_gzip_error() {
        let mut gz = gzip(&idx_bytes(8, &[2], &[1, 2]));
        gz.extend_from_slice(b"junk");
        assert!(matches!(read_idx(&gz), Err(Error::Gzip { .. })));
    }

    #[test]
    fn overflowing_dimensions_are_rejected_before_allocating() {
        let e = read_idx(&idx_bytes(8, &[u32::MAX; 4], &[])).unwrap_err();
        assert!(
            matches!(&e, Error::IdxDimsOverflow { dims } if dims == &[u32::MAX; 4]),
            "{e}"
        );
    }

    #[test]
    fn a_header_that_lies_about_its_size_allocates_only_what_arrives() {
        // (2^32 - 1)^2 bytes fit in a 64-bit usize but in no machine's memory:
        // a reader that pre-allocated the declared size would abort here.
        let huge = [u32::MAX, u32::MAX];
        let expected = (u32::MAX as usize).checked_mul(u32::MAX as usize);
        let bytes = idx_bytes(8, &huge, &[7; 10]);
        for input in [bytes.clone(), gzip(&bytes)] {
            match (read_idx(&input).unwrap_err(), expected) {
                (
                    Error::IdxShortData {
                        expected: e,
                        actual: 10,
                        ..
                    },
                    Some(x),
                ) => assert_eq!(e, x),
                (Error::IdxDimsOverflow { .. }, None) => {} // 32-bit targets
                (e, _) => panic!("unexpected error {e}"),
            }
        }
    }

    #[test]
    fn truncated_gzip_is_a_gzip_error() {
        let bytes = idx_bytes(8, &[100], &[3; 100]);
        let gz = gzip(&bytes);
        // Cut inside the deflate stream, then cut only the CRC/length trailer.
        for cut in [gz.len() / 2, gz.len() - 4, 3] {
            let e = read_idx(&gz[..cut]).unwrap_err();
            assert!(matches!(e, Error::Gzip { .. }), "cut at {cut}: {e}");
        }
        let f = TempFile::new("truncated.idx.gz", &gz[..gz.len() / 2]);
        assert!(matches!(read_idx_file(&f.0), Err(Error::Gzip { .. })));
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_path() {
        let e = read_idx_file("/definitely/not/here.idx").unwrap_err();
        assert!(
            e.to_string().starts_with("/definitely/not/here.idx: "),
            "{e}"
        );
    }

    fn images(n: u32, data: &[u8]) -> Idx {
        read_idx(&idx_bytes(8, &[n, 2, 2], data)).unwrap()
    }

    fn labels(data: &[u8]) -> Idx {
        read_idx(&idx_bytes(8, &[data.len() as u32], data)).unwrap()
    }

    #[test]
    fn mnist_pairs_images_with_labels_scaled_to_unit_interval() {
        let d = mnist_from_idx(&images(2, &[0, 255, 0, 51, 0, 0, 0, 0]), &labels(&[9, 0])).unwrap();
        assert_eq!(d.inputs().dims(), &[2, 1, 2, 2]);
        assert_eq!(&d.inputs().to_vec()[..4], &[0.0, 1.0, 0.0, 0.2]);
        assert_eq!(d.labels(), Some(&[9, 0][..]));
    }

    #[test]
    fn mnist_count_mismatch_is_named_with_both_counts() {
        let e = mnist_from_idx(&images(2, &[0; 8]), &labels(&[1, 2, 3])).unwrap_err();
        assert!(
            matches!(
                e,
                Error::CountMismatch {
                    images: 2,
                    labels: 3
                }
            ),
            "{e}"
        );
        assert_eq!(e.to_string(), "mnist: 2 images but 3 labels");
    }

    #[test]
    fn mnist_label_out_of_range_is_named_with_its_index() {
        let e = mnist_from_idx(&images(2, &[0; 8]), &labels(&[3, 10])).unwrap_err();
        assert!(
            matches!(
                e,
                Error::LabelOutOfRange {
                    index: 1,
                    label: 10,
                    classes: 10,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn mnist_files_of_the_wrong_rank_are_rejected() {
        let e = mnist_from_idx(&labels(&[1, 2]), &labels(&[1, 2])).unwrap_err();
        assert!(
            matches!(
                e,
                Error::IdxRank {
                    expected: 3,
                    rank: 1,
                    ..
                }
            ),
            "{e}"
        );
        let e = mnist_from_idx(&images(1, &[0; 4]), &images(1, &[0; 4])).unwrap_err();
        assert!(
            matches!(
                e,
                Error::IdxRank {
                    expected: 1,
                    rank: 3,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn load_mnist_reads_files_from_disk() {
        let im = TempFile::new("im.gz", &gzip(&idx_bytes(8, &[1, 2, 2], &[255, 0, 0, 255])));
        let lb = TempFile::new("lb", &idx_bytes(8, &[1], &[4]));
        let d = load_mnist(&im.0, &lb.0).unwrap();
        assert_eq!(d.inputs().to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(d.labels(), Some(&[4][..]));
    }

    #[test]
    fn real_mnist_test_set_loads_when_present() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
        let (im, lb) = (
            dir.join("t10k-images-idx3-ubyte.gz"),
            dir.join("t10k-labels-idx1-ubyte.gz"),
        );
        if !im.exists() || !lb.exists() {
            eprintln!("skipped: the MNIST test files are not in {}", dir.display());
            return;
        }
        let d = load_mnist(&im, &lb).unwrap();
        assert_eq!(d.inputs().dims(), &[10_000, 1, 28, 28]);
        let labels = d.labels().unwrap();
        assert_eq!(labels.len(), 10_000);
        assert!(labels.iter().all(|&l| l < 10));
        assert_eq!(labels[0], 7);
        let px = d.inputs().as_slice();
        assert!(px.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!(px.contains(&1.0), "some pixel is 255");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(idx) = read_idx(&bytes) {
                prop_assert_eq!(idx.data().len(), idx.dims().iter().product::<usize>());
            }
        }

        #[test]
        fn arbitrary_bytes_after_a_valid_magic_never_panic(
            rank in 0u8..5,
            rest in proptest::collection::vec(any::<u8>(), 0..64),
            compress in any::<bool>(),
        ) {
            let mut bytes = vec![0, 0, 8, rank];
            bytes.extend_from_slice(&rest);
            let input = if compress { gzip(&bytes) } else { bytes };
            if let Ok(idx) = read_idx(&input) {
                prop_assert_eq!(idx.dims().len(), usize::from(rank));
                prop_assert_eq!(idx.data().len(), idx.dims().iter().product::<usize>());
            }
        }

        #[test]
        fn corrupted_gzip_never_panics(
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        ) {
            let mut gz = gzip(&idx_bytes(8, &[3, 4], &[9; 12]));
            for (i, b) in flips {
                let i = 2 + i % (gz.len() - 2); // keep the gzip magic
                gz[i] ^= b;
            }
            if let Ok(idx) = read_idx(&gz) {
                prop_assert_eq!(idx.data().len(), idx.dims().iter().product::<usize>());
            }
        }
    }
}
