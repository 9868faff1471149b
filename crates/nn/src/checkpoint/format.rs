//! The byte format: safetensors with a CRC-32 checksum in `__metadata__`.
//!
//! A checkpoint is a plain safetensors file (8-byte little-endian header
//! length, JSON header, row-major little-endian data; dtypes `F32` or `F64`)
//! whose metadata holds:
//!
//! - `format` = `pt`, which PyTorch-side loaders look for;
//! - `wengert.kind` = `module` or `optimizer`;
//! - `wengert.step.{parameter}` = the exact decimal step count of each
//!   parameter (optimizer state only);
//! - `wengert.crc32` = 8 lowercase hex digits.
//!
//! ## The checksum
//!
//! CRC-32 (IEEE, as `crc32fast` computes it) of a canonical, length-prefixed
//! encoding of everything a loaded value depends on: every metadata entry but
//! the checksum (sorted by key), then for every tensor sorted by name its name,
//! dtype, shape, data offsets and data bytes. Every length is a `u64` prefix,
//! so the encoding is injective. CRC-32 detects every single-bit error and
//! every burst of up to 32 bits in its input, and a random corruption with
//! probability `1 - 2⁻³²`; it guards against damage, not against tampering
//! (use a signature for that).
//!
//! The checksum does not depend on the order of the JSON keys: safetensors
//! takes the metadata as a hash map, so two saves of the same values may
//! order the `__metadata__` keys differently, with the same checksum and the
//! same loaded values.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use safetensors::tensor::{Dtype, Metadata, SafeTensorError, View};
use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};

/// The metadata key of the checksum.
pub(crate) const CHECKSUM_KEY: &str = "wengert.crc32";
/// The metadata key of the checkpoint kind.
pub(crate) const KIND_KEY: &str = "wengert.kind";
/// The prefix of the metadata keys holding optimizer step counts.
pub(crate) const STEP_PREFIX: &str = "wengert.step.";

/// A tensor read from a checkpoint, borrowing its bytes from the buffer.
#[derive(Debug)]
pub(crate) struct RawTensor<'a> {
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) offsets: (usize, usize),
    pub(crate) data: &'a [u8],
}

/// A decoded and verified checkpoint: tensors and metadata (without the
/// checksum), both sorted by name.
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    pub(crate) tensors: BTreeMap<String, RawTensor<'a>>,
    pub(crate) metadata: BTreeMap<String, String>,
}

/// The safetensors dtype of `T`.
pub(crate) fn dtype_of<T: Float>() -> Dtype {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// The little-endian bytes of `values`, bit for bit (NaN payloads included).
fn to_le_bytes<T: Float>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(std::mem::size_of_val(values));
    for v in values {
        let bits = v.to_bits_u64();
        if dtype_of::<T>() == Dtype::F32 {
            out.extend_from_slice(&(bits as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&bits.to_le_bytes());
        }
    }
    out
}

/// The values of little-endian `bytes` of `T`'s dtype, bit for bit.
///
/// `bytes.len()` is a multiple of `T`'s size: safetensors checked it against
/// the shape.
pub(crate) fn from_le_bytes<T: Float>(bytes: &[u8]) -> Vec<T> {
    // `Float` is sealed to f32 and f64; going through `Any` keeps the bits
    // exactly (a round trip through f64 would quiet signalling NaNs).
    let values: Box<dyn Any> = if dtype_of::<T>() == Dtype::F32 {
        Box::new(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("BUG: chunk of 4")))
                .collect::<Vec<f32>>(),
        )
    } else {
        Box::new(
            bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("BUG: chunk of 8")))
                .collect::<Vec<f64>>(),
        )
    };
    *values
        .downcast::<Vec<T>>()
        .expect("BUG: Float is f32 or f64")
}

/// An owned tensor ready for safetensors' serializer.
struct Owned {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Owned {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// Appends `bytes` with a `u64` length prefix.
fn push_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// One tensor as the checksum sees it.
struct Entry<'a> {
    name: &'a str,
    dtype: Dtype,
    shape: &'a [usize],
    offsets: (usize, usize),
    data: &'a [u8],
}

/// The CRC-32 of the canonical encoding described in the module docs.
/// `tensors` must be sorted by name.
fn checksum(metadata: &BTreeMap<String, String>, tensors: &[Entry<'_>]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    let mut buf = Vec::new();
    buf.extend_from_slice(b"wengert-checkpoint-v1\0");
    buf.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
    for (k, v) in metadata {
        push_field(&mut buf, k.as_bytes());
        push_field(&mut buf, v.as_bytes());
    }
    buf.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    h.update(&buf);
    for t in tensors {
        buf.clear();
        push_field(&mut buf, t.name.as_bytes());
        push_field(&mut buf, format!("{:?}", t.dtype).as_bytes());
        buf.extend_from_slice(&(t.shape.len() as u64).to_le_bytes());
        for d in t.shape {
            buf.extend_from_slice(&(*d as u64).to_le_bytes());
        }
        buf.extend_from_slice(&(t.offsets.0 as u64).to_le_bytes());
        buf.extend_from_slice(&(t.offsets.1 as u64).to_le_bytes());
        buf.extend_from_slice(&(t.data.len() as u64).to_le_bytes());
        h.update(&buf);
        h.update(t.data);
    }
    h.finalize()
}

/// Encodes `tensors` with `metadata` (which must not hold the checksum key)
/// as a checkpoint, then decodes the result to verify it.
///
/// # Errors
///
/// [`Error::Checkpoint`] when a name appears twice or safetensors refuses the
/// data (a header over its size limit).
pub(crate) fn encode<T: Float>(
    tensors: &[(String, Tensor<T>)],
    mut metadata: BTreeMap<String, String>,
    source: &str,
) -> Result<Vec<u8>> {
    let err = |what: String| Error::Checkpoint {
        path: source.to_string(),
        what,
    };
    let mut owned: BTreeMap<&str, Owned> = BTreeMap::new();
    for (name, t) in tensors {
        let o = Owned {
            dtype: dtype_of::<T>(),
            shape: t.dims().to_vec(),
            data: to_le_bytes(t.as_slice()),
        };
        if owned.insert(name, o).is_some() {
            return Err(err(format!("tensor name {name:?} appears twice")));
        }
    }
    // All tensors share one dtype, so safetensors lays them out by name, as
    // the BTreeMap iterates; the decode below checks this.
    let mut entries = Vec::with_capacity(owned.len());
    let mut offset = 0;
    for (name, o) in &owned {
        entries.push(Entry {
            name,
            dtype: o.dtype,
            shape: &o.shape,
            offsets: (offset, offset + o.data.len()),
            data: &o.data,
        });
        offset += o.data.len();
    }
    let crc = checksum(&metadata, &entries);
    metadata.insert(CHECKSUM_KEY.to_string(), format!("{crc:08x}"));
    let info: HashMap<String, String> = metadata.into_iter().collect();
    let bytes = safetensors::serialize(owned.iter().map(|(n, o)| (*n, o)), Some(info))
        .map_err(|e| err(format!("safetensors cannot encode the tensors: {e}")))?;
    decode(&bytes, source)?;
    Ok(bytes)
}

/// Decodes and verifies a checkpoint held in `bytes`.
///
/// # Errors
///
/// [`Error::Checkpoint`] naming the problem: shorter than the length field, a
/// header length past the end, an invalid safetensors header or layout, no or
/// a malformed checksum, a checksum mismatch.
pub(crate) fn decode<'a>(bytes: &'a [u8], source: &str) -> Result<Decoded<'a>> {
    let err = |what: String| Error::Checkpoint {
        path: source.to_string(),
        what,
    };
    let len = bytes.len();
    let Some(n) = bytes.get(..8) else {
        return Err(err(format!(
            "truncated: {len} bytes, fewer than the 8-byte header length"
        )));
    };
    let n = u64::from_le_bytes(n.try_into().expect("BUG: 8 bytes"));
    if n > (len - 8) as u64 {
        return Err(err(format!(
            "header length {n} exceeds the {} bytes that follow it (truncated, or not a safetensors file)",
            len - 8
        )));
    }
    let (n, meta): (usize, Metadata) =
        safetensors::SafeTensors::read_metadata(bytes).map_err(|e| match e {
            // The most common damage, a cut-off file: say how much is there.
            SafeTensorError::MetadataIncompleteBuffer => err(format!(
                "the {n}-byte header describes tensors that do not exactly cover the {} data bytes after it (truncated, or bytes appended)",
                (len - 8) as u64 - n
            )),
            e => err(format!("not a valid safetensors file: {e}")),
        })?;
    let data = &bytes[8 + n..];
    let mut metadata: BTreeMap<String, String> = meta
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let Some(stored) = metadata.remove(CHECKSUM_KEY) else {
        return Err(err(format!(
            "no {CHECKSUM_KEY} checksum in the metadata (not a wengert checkpoint)"
        )));
    };
    let stored = parse_crc(&stored).ok_or_else(|| {
        err(format!(
            "malformed checksum {stored:?} (expected 8 lowercase hex digits)"
        ))
    })?;
    let tensors: BTreeMap<String, RawTensor<'a>> = meta
        .tensors()
        .into_iter()
        .map(|(name, info)| {
            let (s, e) = info.data_offsets;
            // read_metadata checked that the offsets tile the data exactly.
            let raw = RawTensor {
                dtype: info.dtype,
                shape: info.shape.clone(),
                offsets: (s, e),
                data: &data[s..e],
            };
            (name, raw)
        })
        .collect();
    let entries: Vec<Entry<'_>> = tensors
        .iter()
        .map(|(name, t)| Entry {
            name,
            dtype: t.dtype,
            shape: &t.shape,
            offsets: t.offsets,
            data: t.data,
        })
        .collect();
    let computed = checksum(&metadata, &entries);
    if computed != stored {
        return Err(err(format!(
            "checksum mismatch: stored crc32 {stored:08x}, computed {computed:08x} (the file is corrupted)"
        )));
    }
    Ok(Decoded { tensors, metadata })
}

/// Parses exactly 8 lowercase hex digits.
fn parse_crc(s: &str) -> Option<u32> {
    let ok = s.len() == 8 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        u32::from_str_radix(s, 16).ok()
    } else {
        None
    }
}

/// Converts a verified raw tensor of `T`'s dtype to a tensor.
///
/// # Errors
///
/// [`Error::Checkpoint`] when the dtype is not `T`'s or core refuses the shape.
pub(crate) fn to_tensor<T: Float>(
    name: &str,
    raw: &RawTensor<'_>,
    source: &str,
) -> Result<Tensor<T>> {
    if raw.dtype != dtype_of::<T>() {
        return Err(Error::Checkpoint {
            path: source.to_string(),
            what: format!(
                "tensor {name} has dtype {:?}, expected {:?}",
                raw.dtype,
                dtype_of::<T>()
            ),
        });
    }
    Tensor::from_vec(from_le_bytes::<T>(raw.data), raw.shape.clone()).map_err(|e| {
        Error::Checkpoint {
            path: source.to_string(),
            what: format!("tensor {name}: {e}"),
        }
    })
}
