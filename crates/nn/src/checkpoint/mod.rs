//! Checkpoints on disk: a model's parameters and buffers, and an optimizer's
//! state, as safetensors files with a verified checksum.
//!
//! ```
//! use wengert_core::Tensor;
//! use wengert_nn::{Linear, Module, checkpoint};
//! let dir = std::env::temp_dir().join(format!("wengert-doc-ckpt-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("model.safetensors");
//! let a = Linear::<f32>::from_tensors(Tensor::from_vec(vec![1.0, -0.0], [1, 2])?, None)?;
//! checkpoint::save_module(&a, &path)?;
//! let mut b = Linear::<f32>::from_tensors(Tensor::zeros([1, 2]), None)?;
//! checkpoint::load_module(&mut b, &path)?;
//! assert_eq!(b.weight.to_vec()[1].to_bits(), (-0.0f32).to_bits());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Format
//!
//! Standard safetensors (see [`format`](mod@format) for the metadata keys): PyTorch's
//! `safetensors.torch.load_file` and candle read the tensors under the
//! module's parameter names (`layers.0.weight`), row-major, `F32` or `F64`.
//! `__metadata__` holds a CRC-32 checksum of the names, dtypes, shapes,
//! offsets, data and the other metadata entries, which the loaders verify.
//!
//! ## Guarantees
//!
//! - **Atomic saves**: a temporary file in the target's directory is written,
//!   flushed and renamed over the target, so a crash or an error during a save
//!   leaves the previous checkpoint intact.
//! - **Exact values**: the bits are stored as they are (NaN payloads, signed
//!   zeros, subnormals), and a load either restores exactly the saved values
//!   or changes nothing and returns an error.
//! - **Every mismatch at once**: loading into a model of another architecture
//!   is an [`Error::CheckpointMismatch`] listing every missing, unexpected and
//!   mis-shaped tensor by name.
//! - **Damaged files are errors, not panics**: a truncated, corrupted or
//!   foreign file is an [`Error::Checkpoint`] naming the problem. The header
//!   length is checked against the file size before the header is read, and
//!   every size in the header against the data before anything is allocated.
//!
//! ## Resuming training
//!
//! Save the model with [`save_module`] and the optimizer with
//! [`save_optimizer_state`] (its [`Optimizer::state`](crate::optim::Optimizer::state)),
//! then rebuild both with the same configuration, [`load_module`] and
//! [`Optimizer::load_state`](crate::optim::Optimizer::load_state) the result
//! of [`load_optimizer_state`]: the run continues bit for bit. Parameters keep
//! their leaf identity and frozen state when loaded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};
use crate::module::Module;
use crate::optim::OptimizerState;

mod atomic;
pub mod format;
#[cfg(test)]
mod tests;

use format::{Decoded, KIND_KEY, STEP_PREFIX};

/// The name used in errors about in-memory buffers.
const BYTES: &str = "<bytes>";

/// Formats the lists of a [`Error::CheckpointMismatch`].
pub(crate) fn describe_mismatch(
    missing: &[String],
    unexpected: &[String],
    mismatched: &[String],
) -> String {
    let mut parts = Vec::new();
    for (label, list) in [
        ("missing", missing),
        ("unexpected", unexpected),
        ("mismatched", mismatched),
    ] {
        if !list.is_empty() {
            parts.push(format!("{label} [{}]", list.join(", ")));
        }
    }
    parts.join("; ")
}

fn base_metadata(kind: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("format".to_string(), "pt".to_string()),
        (KIND_KEY.to_string(), kind.to_string()),
    ])
}

fn check_kind(decoded: &Decoded<'_>, kind: &str, source: &str) -> Result<()> {
    match decoded.metadata.get(KIND_KEY) {
        Some(k) if k == kind => Ok(()),
        found => Err(Error::Checkpoint {
            path: source.to_string(),
            what: format!("holds {KIND_KEY} {found:?}, expected {kind:?}"),
        }),
    }
}

/// Returns every parameter and buffer of `module` by name.
fn module_tensors<T: Float>(module: &dyn Module<T>) -> Vec<(String, Tensor<T>)> {
    let mut out = module.named_parameters();
    out.extend(module.named_buffers());
    out
}

/// Encodes every parameter and buffer of `module` as checkpoint bytes: what
/// [`save_module`] writes.
///
/// # Errors
///
/// [`Error::Checkpoint`] when two tensors share a name.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Linear, checkpoint};
/// let l = Linear::<f64>::from_tensors(Tensor::ones([2, 1]), Some(Tensor::zeros([2])))?;
/// let bytes = checkpoint::module_to_bytes(&l)?;
/// let header_len = u64::from_le_bytes(bytes[..8].try_into()?) as usize;
/// let header = std::str::from_utf8(&bytes[8..8 + header_len])?;
/// assert!(header.contains(r#""weight":{"dtype":"F64","shape":[2,1]"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn module_to_bytes<T: Float>(module: &dyn Module<T>) -> Result<Vec<u8>> {
    format::encode(&module_tensors(module), base_metadata("module"), BYTES)
}

/// Saves every parameter and buffer of `module` to `path`, atomically.
///
/// # Errors
///
/// [`Error::Io`] naming the file when writing fails (the previous file at
/// `path`, if any, is then intact); [`Error::Checkpoint`] when two tensors
/// share a name.
///
/// # Examples
///
/// See the [module docs](self).
pub fn save_module<T: Float>(module: &dyn Module<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = format::encode(
        &module_tensors(module),
        base_metadata("module"),
        &path.display().to_string(),
    )?;
    atomic::write_atomic(path, &bytes)
}

/// Loads checkpoint bytes (from [`module_to_bytes`]) into `module`'s
/// parameters and buffers; parameters keep their leaf identity and frozen
/// state.
///
/// # Errors
///
/// [`Error::Checkpoint`] for damaged or foreign bytes,
/// [`Error::CheckpointMismatch`] when the tensors do not fit the module; the
/// module is unchanged then.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Error, Linear, checkpoint};
/// let a = Linear::<f32>::from_tensors(Tensor::ones([2, 3]), None)?;
/// let mut b = Linear::<f32>::from_tensors(Tensor::zeros([3, 2]), Some(Tensor::zeros([3])))?;
/// let e = checkpoint::load_module_from_bytes(&mut b, &checkpoint::module_to_bytes(&a)?).unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "<bytes>: checkpoint does not fit the model: missing [bias]; \
///      mismatched [weight: file F32 [2, 3], model F32 [3, 2]]"
/// );
/// assert!(checkpoint::load_module_from_bytes(&mut b, b"not a checkpoint").is_err());
/// assert_eq!(b.weight.to_vec(), vec![0.0; 6]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_module_from_bytes<T: Float>(module: &mut dyn Module<T>, bytes: &[u8]) -> Result<()> {
    load_module_impl(module, bytes, BYTES)
}

/// Loads a checkpoint saved by [`save_module`] into `module`'s parameters
/// and buffers; parameters keep their leaf identity and frozen state.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Checkpoint`] when it
/// is truncated, corrupted or not a model checkpoint;
/// [`Error::CheckpointMismatch`] when its tensors do not fit the module. The
/// module is unchanged then.
///
/// # Examples
///
/// See the [module docs](self).
pub fn load_module<T: Float>(module: &mut dyn Module<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = atomic::read_checked(path)?;
    load_module_impl(module, &bytes, &path.display().to_string())
}

fn load_module_impl<T: Float>(
    module: &mut dyn Module<T>,
    bytes: &[u8],
    source: &str,
) -> Result<()> {
    let decoded = format::decode(bytes, source)?;
    check_kind(&decoded, "module", source)?;
    let want: BTreeMap<String, Tensor<T>> = module_tensors(module).into_iter().collect();
    let dtype = format::dtype_of::<T>();
    let mut missing = Vec::new();
    let mut mismatched = Vec::new();
    let mut values: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for (name, t) in &want {
        match decoded.tensors.get(name) {
            None => missing.push(name.clone()),
            Some(raw) if raw.dtype != dtype || raw.shape != t.dims() => mismatched.push(format!(
                "{name}: file {:?} {:?}, model {dtype:?} {:?}",
                raw.dtype,
                raw.shape,
                t.dims()
            )),
            Some(raw) => {
                values.insert(name.clone(), format::from_le_bytes(raw.data));
            }
        }
    }
    let unexpected: Vec<String> = decoded
        .tensors
        .keys()
        .filter(|n| !want.contains_key(*n))
        .cloned()
        .collect();
    if !(missing.is_empty() && unexpected.is_empty() && mismatched.is_empty()) {
        return Err(Error::CheckpointMismatch {
            path: source.to_string(),
            missing,
            unexpected,
            mismatched,
        });
    }
    let mut set = |n: &str, t: &mut Tensor<T>| {
        if let Some(v) = values.remove(n) {
            *t = t.with_data(v).expect("BUG: checkpoint shape checked");
        }
    };
    module.visit_parameters_mut(&mut set);
    module.visit_buffers_mut(&mut set);
    Ok(())
}

/// Encodes optimizer state as checkpoint bytes: what
/// [`save_optimizer_state`] writes. Step counts go to the metadata as exact
/// decimal integers.
///
/// # Errors
///
/// [`Error::Checkpoint`] when two tensors share a name.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{checkpoint, optim::OptimizerState};
/// let state = OptimizerState {
///     tensors: vec![("w.exp_avg".to_string(), Tensor::<f32>::ones([2]))],
///     steps: vec![("w".to_string(), u64::MAX)],
/// };
/// let back: OptimizerState<f32> =
///     checkpoint::optimizer_state_from_bytes(&checkpoint::optimizer_state_to_bytes(&state)?)?;
/// assert_eq!(back.steps, state.steps);
/// assert_eq!(back.tensor("w.exp_avg").unwrap().to_vec(), vec![1.0, 1.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn optimizer_state_to_bytes<T: Float>(state: &OptimizerState<T>) -> Result<Vec<u8>> {
    encode_state(state, BYTES)
}

fn encode_state<T: Float>(state: &OptimizerState<T>, source: &str) -> Result<Vec<u8>> {
    let mut meta = base_metadata("optimizer");
    for (name, step) in &state.steps {
        if meta
            .insert(format!("{STEP_PREFIX}{name}"), step.to_string())
            .is_some()
        {
            return Err(Error::Checkpoint {
                path: source.to_string(),
                what: format!("step count of {name} given twice"),
            });
        }
    }
    format::encode(&state.tensors, meta, source)
}

/// Saves optimizer state to `path`, atomically.
///
/// # Errors
///
/// [`Error::Io`] naming the file when writing fails (the previous file at
/// `path`, if any, is then intact); [`Error::Checkpoint`] when a name appears
/// twice.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::optim::{Adam, AdamConfig, Optimizer};
/// use wengert_nn::{Linear, Module, checkpoint};
/// let dir = std::env::temp_dir().join(format!("wengert-doc-opt-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("adam.safetensors");
/// let mut model = Linear::<f64>::from_tensors(Tensor::ones([1, 1]).requires_grad(), None)?;
/// let mut opt = Adam::new(AdamConfig::default())?;
/// let grads = model.forward(&Tensor::ones([1, 1])).sum().backward()?;
/// opt.step(&mut model, &grads)?;
/// checkpoint::save_optimizer_state(&opt.state(), &path)?;
/// let state = checkpoint::load_optimizer_state::<f64>(&path)?;
/// assert_eq!(state.steps, [("weight".to_string(), 1)]);
/// let mut resumed = Adam::new(AdamConfig::default())?;
/// resumed.load_state(&model, &state)?;
/// assert_eq!(resumed.state().tensors.len(), 2);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_optimizer_state<T: Float>(
    state: &OptimizerState<T>,
    path: impl AsRef<Path>,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_state(state, &path.display().to_string())?;
    atomic::write_atomic(path, &bytes)
}

/// Decodes optimizer state from checkpoint bytes (from
/// [`optimizer_state_to_bytes`]). Pass the result to
/// [`Optimizer::load_state`](crate::optim::Optimizer::load_state), which
/// checks it against the optimizer and the model.
///
/// # Errors
///
/// [`Error::Checkpoint`] for damaged or foreign bytes, a tensor of another
/// dtype than `T`, or a malformed step count.
///
/// # Examples
///
/// See [`optimizer_state_to_bytes`].
pub fn optimizer_state_from_bytes<T: Float>(bytes: &[u8]) -> Result<OptimizerState<T>> {
    decode_state(bytes, BYTES)
}

/// Loads optimizer state saved by [`save_optimizer_state`].
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Checkpoint`] when it
/// is truncated, corrupted, not an optimizer checkpoint, holds a tensor of
/// another dtype than `T`, or a malformed step count.
///
/// # Examples
///
/// See [`save_optimizer_state`].
pub fn load_optimizer_state<T: Float>(path: impl AsRef<Path>) -> Result<OptimizerState<T>> {
    let path = path.as_ref();
    let bytes = atomic::read_checked(path)?;
    decode_state(&bytes, &path.display().to_string())
}

fn decode_state<T: Float>(bytes: &[u8], source: &str) -> Result<OptimizerState<T>> {
    let decoded = format::decode(bytes, source)?;
    check_kind(&decoded, "optimizer", source)?;
    let mut state = OptimizerState::default();
    let mut wrong_dtype = BTreeSet::new();
    for (name, raw) in &decoded.tensors {
        if raw.dtype != format::dtype_of::<T>() {
            wrong_dtype.insert(format!("{name} ({:?})", raw.dtype));
            continue;
        }
        state
            .tensors
            .push((name.clone(), format::to_tensor(name, raw, source)?));
    }
    if !wrong_dtype.is_empty() {
        return Err(Error::Checkpoint {
            path: source.to_string(),
            what: format!(
                "tensors of another dtype than {:?}: {}",
                format::dtype_of::<T>(),
                wrong_dtype.into_iter().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    for (key, value) in &decoded.metadata {
        let Some(name) = key.strip_prefix(STEP_PREFIX) else {
            continue;
        };
        // Only the canonical decimal form: no sign, no leading zeros.
        let step = value
            .parse::<u64>()
            .ok()
            .filter(|s| s.to_string() == *value)
            .ok_or_else(|| Error::Checkpoint {
                path: source.to_string(),
                what: format!("step count of {name} is {value:?}, not a decimal u64"),
            })?;
        state.steps.push((name.to_string(), step));
    }
    Ok(state)
}
