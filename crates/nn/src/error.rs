//! [`Error`]: everything that can go wrong in `wengert-nn`, by name.
//!
//! Every variant carries the layer or loss that failed and the shapes or numbers
//! involved, so that the message alone says what to fix.

use wengert_core::Shape;

/// The result type of `wengert-nn`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from `wengert-nn`.
///
/// Messages are lowercase and start with the layer's or loss's name:
/// `linear: expected input of shape [*, 3], got [2, 4]`.
///
/// # Examples
///
/// ```
/// use wengert_nn::{Error, Linear, Module};
/// use wengert_core::Tensor;
/// let layer = Linear::<f32>::from_tensors(Tensor::zeros([2, 3]), None).unwrap();
/// let e = layer.try_forward(&Tensor::zeros([2, 4])).unwrap_err();
/// assert!(matches!(e, Error::InputShape { layer: "linear", .. }));
/// assert_eq!(e.to_string(), "linear: expected input of shape [*, 3], got [2, 4]");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A layer was given an input of the wrong shape. `expected` is a pattern in
    /// which `*` stands for any number of leading dimensions and `N` for any
    /// length. Reshape the input, or build the layer for this shape.
    #[error("{layer}: expected input of shape {expected}, got {actual}")]
    InputShape {
        /// The layer.
        layer: &'static str,
        /// The shape pattern the layer accepts, such as `[*, 3]` or `[N, 4, L]`.
        expected: String,
        /// The input's shape.
        actual: Shape,
    },

    /// A layer, initialiser or loss was configured with an impossible value (a
    /// dropout probability outside `[0, 1]`, a negative eps, a weight of the
    /// wrong shape...). The message names the value; pick one in range.
    #[error("{layer}: {what}")]
    InvalidConfig {
        /// The layer, initialiser or loss.
        layer: &'static str,
        /// What was wrong, with the numbers involved.
        what: String,
    },

    /// Batch normalisation in training mode saw one value per channel: its
    /// variance is undefined. Use a batch of two or more values per channel, or
    /// switch the layer to eval mode.
    #[error("{layer}: expected more than 1 value per channel when training, got input {shape}")]
    SingleValuePerChannel {
        /// The layer.
        layer: &'static str,
        /// The input's shape.
        shape: Shape,
    },

    /// A class label (or an embedding index) is not below the number of classes.
    /// Labels count from 0.
    #[error("{loss}: label {label} at position {index} is out of range for {classes} classes")]
    LabelOutOfRange {
        /// The loss or layer.
        loss: &'static str,
        /// The offending label.
        label: usize,
        /// Its position in the label list.
        index: usize,
        /// The number of classes.
        classes: usize,
    },

    /// An embedding was given an index tensor holding a value that is not a
    /// non-negative integer.
    #[error("{layer}: index {value} at position {index} is not a non-negative integer")]
    NonIntegerIndex {
        /// The layer.
        layer: &'static str,
        /// The offending value.
        value: f64,
        /// Its position.
        index: usize,
    },

    /// A classification loss was given a different number of labels (or target
    /// rows) from the number of samples `N`. Pass one label per sample.
    #[error("{loss}: batch sizes differ (input {input}, target {target})")]
    BatchSizeMismatch {
        /// The loss.
        loss: &'static str,
        /// The input's shape.
        input: Shape,
        /// The target's shape (labels: `[number of labels]`).
        target: Shape,
    },

    /// A binary cross-entropy target lies outside `[0, 1]` (or is NaN). Targets
    /// are probabilities.
    #[error("{loss}: target {value} at element {index} is outside [0, 1]")]
    TargetOutOfRange {
        /// The loss.
        loss: &'static str,
        /// The offending value.
        value: f64,
        /// Its flat index.
        index: usize,
    },

    /// A loss input that must be a probability (binary cross-entropy) lies
    /// outside `[0, 1]` (or is NaN). Apply a sigmoid first, or use the logits
    /// form.
    #[error("{loss}: input {value} at element {index} is outside [0, 1]")]
    InputOutOfRange {
        /// The loss.
        loss: &'static str,
        /// The offending value.
        value: f64,
        /// Its flat index.
        index: usize,
    },

    /// An element-wise loss was given an input and a target of different
    /// shapes. Pass a target of the input's shape.
    #[error("{loss}: input and target shapes differ (input {input}, target {target})")]
    TargetShape {
        /// The loss.
        loss: &'static str,
        /// The input's shape.
        input: Shape,
        /// The target's shape.
        target: Shape,
    },

    /// No parameter has this name. List the names with
    /// [`Module::named_parameters`](crate::Module::named_parameters).
    #[error("no parameter named {name:?}")]
    UnknownParameter {
        /// The name asked for.
        name: String,
    },

    /// An op of `wengert-core` failed inside a layer.
    #[error(transparent)]
    Core(#[from] wengert_core::Error),

    /// An optimizer, learning-rate schedule, penalty or early-stopping rule was
    /// given an impossible hyper-parameter: a negative or non-finite learning
    /// rate or eps, a beta outside `[0, 1)`, a negative momentum, Nesterov
    /// momentum without momentum... `name` is the hyper-parameter as the
    /// constructor spells it; pick a value in the range the message states.
    #[error("{owner}: {name} {what}")]
    InvalidHyperParameter {
        /// The optimizer, schedule or rule (`"adam"`, `"step_lr"`, ...).
        owner: &'static str,
        /// The hyper-parameter (`"lr"`, `"beta2"`, `"nesterov"`, ...).
        name: &'static str,
        /// What is wrong with it, with the value given.
        what: String,
    },

    /// An optimizer step found trainable parameters (leaves, not frozen) that
    /// received no gradient: the loss does not depend on them, or the
    /// gradients come from another model or an older copy of the parameters.
    /// Nothing was updated. Freeze the parameters that should not train, or
    /// compute the gradients from this model's loss.
    #[error("{optimizer}: no gradient for trainable parameters {names:?}")]
    MissingGradient {
        /// The optimizer.
        optimizer: &'static str,
        /// Every trainable parameter without a gradient, in visiting order.
        names: Vec<String>,
    },

    /// Optimizer state does not fit the optimizer or the model: an unknown
    /// parameter or slot name, a missing slot, a shape that differs from the
    /// parameter's, or a gradient whose shape differs from its parameter's.
    /// Every problem is listed. Load state saved from the same optimizer
    /// configuration and model.
    #[error("{optimizer}: state does not fit: {}", problems.join("; "))]
    StateMismatch {
        /// The optimizer (or `"early_stopping"` for a weight snapshot).
        optimizer: &'static str,
        /// Each problem, naming the tensor involved.
        problems: Vec<String>,
    },

    /// Reading or writing a file failed. The message is the operating
    /// system's; check the path and permissions.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The error reported by the operating system.
        message: String,
    },

    /// A training-history CSV text is malformed. The message names the line
    /// (counting from 1) and what is wrong with it.
    #[error("history csv: line {line}: {what}")]
    HistoryCsv {
        /// The line, counting from 1.
        line: usize,
        /// What is wrong.
        what: String,
    },

    /// A checkpoint file (or byte buffer) is truncated, corrupted, not a
    /// safetensors file, not a wengert checkpoint, of the other kind (model
    /// versus optimizer state), or holds a tensor of an unsupported dtype.
    /// `what` names the problem; nothing was loaded. Save the checkpoint again,
    /// or load the file it was meant for.
    #[error("{path}: {what}")]
    Checkpoint {
        /// The file (`"<bytes>"` for an in-memory buffer).
        path: String,
        /// What is wrong, with the numbers involved.
        what: String,
    },

    /// A valid checkpoint does not fit the model: every tensor the model has
    /// and the file lacks, every tensor the file has and the model lacks, and
    /// every tensor whose shape or dtype differs, by name. Nothing was loaded.
    /// Load a checkpoint saved from the same architecture and element type.
    #[error(
        "{path}: checkpoint does not fit the model: {}",
        crate::checkpoint::describe_mismatch(missing, unexpected, mismatched)
    )]
    CheckpointMismatch {
        /// The file (`"<bytes>"` for an in-memory buffer).
        path: String,
        /// Tensors of the model absent from the file, sorted by name.
        missing: Vec<String>,
        /// Tensors of the file absent from the model, sorted by name.
        unexpected: Vec<String>,
        /// Tensors present in both with a different shape or dtype, each as
        /// `name: file F32 [2, 3], model F32 [3, 2]`, sorted by name.
        mismatched: Vec<String>,
    },
}
