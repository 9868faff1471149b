//! The Wengert tape: where operations are recorded in execution order.
//!
//! # Life cycle
//!
//! 1. **Recording.** An op whose inputs include a tensor that requires a gradient
//!    (a *leaf* made with [`Tensor::requires_grad`], or a value already recorded)
//!    computes its value, then calls [`Tensor::from_op`]. That appends one
//!    entry to the tape: the op's [`Backward`] struct (its saved state) and
//!    the entry indices of its inputs. Values that depend only on constants or
//!    frozen leaves, and everything computed under [`no_grad`], are not recorded.
//! 2. **Replay.** [`Tensor::backward`] walks the entries from the output down to
//!    index 0, once each, calling each op's own backward; gradients of values used
//!    more than once are summed (see `replay.rs`).
//! 3. **Freeing.** A plain backward *consumes* the tape: each entry's saved state
//!    is dropped right after it has run, and each intermediate gradient as soon as
//!    it has been passed on. The tape itself is a `Vec`, so dropping it never
//!    recurses, however long the chain. The thread keeps that `Vec`'s buffer,
//!    emptied, for its next tape (up to 4 MiB; see `spare.rs`), so a training
//!    loop does not regrow it every step.
//!
//! Which tape an op records on: the tape of its first recorded input, or else the
//! thread's *current* tape, which is created on demand and held weakly, so that a
//! tape lives exactly as long as some tensor recorded on it.
//!
//! # Why saved tensors do not keep their tape alive
//!
//! A backward struct that saves a recorded tensor would hold the tape that holds
//! the struct: a reference cycle, and a leak. While [`Tensor::from_op`] builds the
//! backward struct, clones of recorded tensors therefore hold the tape weakly. Op
//! authors simply `clone()` what they save.

use std::cell::RefCell;
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// The lock around a tape: a spin lock that yields its time slice while it
/// waits. Each recorded op locks its tape once, and each replayed entry
/// once; a tape is nearly always used by one thread, and held for a push or
/// a few reads. `std::sync::Mutex` releases with an atomic swap (it must
/// look for sleeping waiters), this one with a plain store: two atomic
/// read-modify-writes fewer per op. W6 (a chain of element-wise ops, 6
/// alternating processes): 2.50-2.64 → 2.27-2.51 ms per 10,000 ops.
type Mutex<T> = spin::mutex::SpinMutex<T, spin::relax::Yield>;
type MutexGuard<'a, T> = spin::mutex::SpinMutexGuard<'a, T, spin::relax::Yield>;
use std::thread::LocalKey;

use smallvec::SmallVec;

use crate::error::{Error, Phase, Result};
use crate::modes::{self, is_anomaly_enabled, is_grad_enabled, watched, with_saving};
#[cfg(doc)]
use crate::modes::{detect_anomaly, no_grad, watch_values};
use crate::spare;
use crate::storage::WeakStorage;
use crate::{Float, Shape, Tensor};

/// The gradients an op's backward returns: one per input, in input order;
/// `None` for an input that needs none.
pub type Grads<T> = SmallVec<[Option<Tensor<T>>; 2]>;

/// The backward rule of one recorded op; its fields are exactly the saved state.
///
/// Write the rule with tensor operations (not loops over slices), so that with
/// `create_graph` the backward pass is itself recorded and can be differentiated
/// again.
///
/// # Examples
///
/// A user-defined op, `cube(x) = x³`, with its own backward:
///
/// ```
/// use wengert_core::{Backward, Grads, Result, Tensor};
///
/// struct CubeBackward { x: Tensor<f64> }
///
/// impl Backward<f64> for CubeBackward {
///     fn name(&self) -> &'static str { "cube" }
///     fn backward(&self, grad_out: &Tensor<f64>, _needs: &[bool]) -> Result<Grads<f64>> {
///         // grad_x = grad_out * 3x²
///         Ok([Some(grad_out * &(self.x.square() * 3.0))].into_iter().collect())
///     }
/// }
///
/// fn cube(x: &Tensor<f64>) -> Tensor<f64> {
///     let value = x.map(|v| v * v * v);
///     Tensor::from_op(value, &[x], || CubeBackward { x: x.clone() })
/// }
///
/// let x = Tensor::from_vec(vec![2.0], [1]).unwrap().requires_grad();
/// let g = cube(&x).sum().backward().unwrap();
/// assert_eq!(g.get(&x).unwrap().to_vec(), vec![12.0]);
/// ```
pub trait Backward<T: Float>: Send + Sync {
    /// The op's name, as it appears in tape dumps and errors.
    fn name(&self) -> &'static str;

    /// Returns one gradient per input given `grad_out`, the gradient of the
    /// output. `needs[i]` is false for inputs that need no gradient: skip them.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] when this rule is itself
    /// the result of a backward pass that cannot be differentiated again.
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>>;

    /// Like [`backward`](Backward::backward), with `grad_out` given by value:
    /// the replay calls this, once per entry, and has no further use for
    /// `grad_out`. An element-wise rule can then write its result into
    /// `grad_out`'s storage instead of allocating, when nothing is being
    /// recorded ([`Tensor::would_record`] is false for its operands). The
    /// default calls `backward`.
    ///
    /// # Errors
    ///
    /// As [`backward`](Backward::backward).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{Backward, Grads, Result, Tensor};
    ///
    /// /// y = 3x, whose gradient 3 · grad_out reuses grad_out's buffer.
    /// struct TripleBackward;
    /// impl Backward<f64> for TripleBackward {
    ///     fn name(&self) -> &'static str { "triple" }
    ///     fn backward(&self, g: &Tensor<f64>, _: &[bool]) -> Result<Grads<f64>> {
    ///         Ok([Some(g * 3.0)].into_iter().collect())
    ///     }
    ///     fn backward_owned(&self, mut g: Tensor<f64>, needs: &[bool]) -> Result<Grads<f64>> {
    ///         if Tensor::would_record(&[&g]) {
    ///             return self.backward(&g, needs); // keep second derivatives
    ///         }
    ///         g.as_mut_slice().iter_mut().for_each(|v| *v *= 3.0);
    ///         Ok([Some(g)].into_iter().collect())
    ///     }
    /// }
    /// let x = Tensor::from_vec(vec![1.0, 2.0], [2]).unwrap().requires_grad();
    /// let y = Tensor::from_op(x.map(|v| v * 3.0), &[&x], || TripleBackward);
    /// let g = y.sum().backward().unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![3.0, 3.0]);
    /// ```
    fn backward_owned(&self, grad_out: Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        self.backward(&grad_out, needs)
    }

    /// Returns false when [`backward`](Backward::backward) computes its
    /// gradients outside the tape (raw loops over slices). A backward pass with
    /// `create_graph` then records its gradients as values whose own backward is
    /// [`Error::Unsupported`]: a second derivative
    /// through this op is an error, never a silent zero.
    fn differentiable(&self) -> bool {
        true
    }
}

/// The identity of a leaf tensor: stable across tapes, unique in the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeafId(NonZeroU64);

impl LeafId {
    pub(crate) fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        LeafId(
            NonZeroU64::new(NEXT.fetch_add(1, Ordering::Relaxed))
                .expect("2^64 leaves were made in this process"),
        )
    }
}

/// How an entry refers to one of its inputs, in four bytes: the input's
/// entry index, or a marker for an input that needs no gradient or was
/// recorded on another tape whose history is gone. Four-byte slots keep an
/// [`Entry`] at 88 bytes, which `Vec::push` moves with inline instructions;
/// at 168 bytes it called `memcpy` once per recorded op.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Slot(u32);

impl Slot {
    /// An input that needs no gradient.
    pub(crate) const NONE: Slot = Slot(u32::MAX);
    /// An input recorded on another tape whose history is gone.
    pub(crate) const FOREIGN: Slot = Slot(u32::MAX - 1);
    /// The largest entry index a slot holds.
    const MAX_INDEX: u32 = u32::MAX - 2;

    /// The slot of entry `i`.
    ///
    /// # Panics
    ///
    /// For an index past the last of 4,294,967,294 entries (over 500 GB of
    /// entries on one tape).
    pub(crate) fn entry(i: usize) -> Slot {
        match u32::try_from(i) {
            Ok(i) if i <= Self::MAX_INDEX => Slot(i),
            _ => panic!(
                "a tape holds at most {} entries; entry {i} cannot be an input",
                Self::MAX_INDEX as u64 + 1
            ),
        }
    }

    /// The entry index, for an input that needs a gradient.
    pub(crate) fn index(self) -> Option<usize> {
        (self.0 <= Self::MAX_INDEX).then_some(self.0 as usize)
    }
}

/// Hashes [`LeafId`]s, which come from a counter: one multiplication by an
/// odd constant (Fibonacci hashing) spreads them over the table, where the
/// standard library's SipHash spends about a hundred instructions on each
/// (its resistance to chosen keys buys nothing against a counter).
#[derive(Default, Clone, Copy)]
pub(crate) struct LeafHasher(u64);

impl std::hash::Hasher for LeafHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by [`LeafId`].
pub(crate) type LeafMap<V> = HashMap<LeafId, V, std::hash::BuildHasherDefault<LeafHasher>>;

/// What an entry is: a leaf, or an op with its backward rule (until a
/// consuming backward has run and freed it).
pub(crate) enum Kind<T> {
    Leaf(LeafId),
    Op(Rule<T>),
    /// The rule has run and been freed; its name stays.
    Spent(&'static str),
}

/// The backward rule of an op. Recorded as `Owned`: freeing a `Box` takes
/// no atomic operations, where an `Arc` takes two, and a consuming backward
/// frees one rule per entry. The first replay that keeps the tape
/// (`retain_graph`, `create_graph`) makes it `Shared`, so that replays
/// running at the same time, or one inside another, each hold the rule.
pub(crate) enum Rule<T> {
    Owned(Box<dyn Backward<T>>),
    Shared(Arc<dyn Backward<T>>),
}

impl<T: Float> Kind<T> {
    /// The leaf's identity, for a leaf entry.
    pub(crate) fn leaf(&self) -> Option<LeafId> {
        match self {
            Kind::Leaf(id) => Some(*id),
            _ => None,
        }
    }

    /// The rule, leaving the entry spent (a consuming backward).
    pub(crate) fn take(&mut self) -> Option<Rule<T>> {
        match std::mem::replace(self, Kind::Spent("")) {
            Kind::Op(rule) => {
                *self = Kind::Spent(rule.name());
                Some(rule)
            }
            other => {
                *self = other;
                None
            }
        }
    }

    /// A shared handle on the rule, which stays in the entry (made `Shared`
    /// first if it is not yet).
    pub(crate) fn share(&mut self) -> Option<Rule<T>> {
        let arc = match std::mem::replace(self, Kind::Spent("")) {
            Kind::Op(Rule::Owned(b)) => Arc::from(b),
            Kind::Op(Rule::Shared(a)) => a,
            other => {
                *self = other;
                return None;
            }
        };
        *self = Kind::Op(Rule::Shared(arc.clone()));
        Some(Rule::Shared(arc))
    }
}

impl<T> std::ops::Deref for Rule<T> {
    type Target = dyn Backward<T>;
    fn deref(&self) -> &Self::Target {
        match self {
            Rule::Owned(b) => &**b,
            Rule::Shared(a) => &**a,
        }
    }
}

/// One recorded operation.
pub(crate) struct Entry<T> {
    /// A leaf, or the op's backward rule with its saved state.
    pub(crate) kind: Kind<T>,
    /// How the op reads each of its inputs.
    pub(crate) inputs: SmallVec<[Slot; 4]>,
    /// The shape of the recorded value.
    pub(crate) shape: Shape,
}

impl<T: Float> Entry<T> {
    /// The op's name (`"leaf"` for a leaf), for dumps and errors; kept when
    /// a consuming backward frees the rule.
    pub(crate) fn name(&self) -> &'static str {
        match &self.kind {
            Kind::Leaf(_) => "leaf",
            Kind::Op(rule) => rule.name(),
            Kind::Spent(name) => name,
        }
    }
}

pub(crate) struct TapeInner<T> {
    pub(crate) entries: Vec<Entry<T>>,
    /// Each leaf's entry index, and a weak reference to its value (for dumps).
    pub(crate) leaves: LeafMap<(usize, WeakStorage<T>)>,
    pub(crate) consumed: bool,
    /// How many entries a consuming backward has borrowed ([`TapeInner::lend`]);
    /// `entries[k]` is entry `lent + k` meanwhile.
    pub(crate) lent: usize,
    /// The first entry whose forward value was not finite, seen in anomaly mode.
    pub(crate) anomaly: Option<(usize, &'static str, usize)>,
    /// Weak references to the values of ops recorded inside
    /// [`watch_values`], by entry index in increasing order, for dumps. Kept
    /// here and in `leaves` rather than in each entry, which then takes 88
    /// bytes instead of 128: W6 writes and reads 10,000 entries per step.
    pub(crate) watched: Vec<(usize, WeakStorage<T>)>,
}

/// A Wengert list of recorded operations. Tensors refer to it by entry index.
pub struct Tape<T> {
    inner: Mutex<TapeInner<T>>,
    /// Keeps the entry buffer for the thread's next tape (see `spare.rs`):
    /// [`spare::keep`] for `Entry<T>`, stored here because it needs
    /// `T: 'static`, which the `Drop` impl cannot ask for.
    recycle: fn(Vec<Entry<T>>),
}

impl<T> Drop for Tape<T> {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        (self.recycle)(std::mem::take(&mut inner.entries));
    }
}

impl<T: 'static> Tape<T> {
    fn new() -> Self {
        spare::raise_give_back_threshold();
        Tape {
            inner: Mutex::new(TapeInner {
                entries: spare::take(),
                leaves: LeafMap::default(),
                consumed: false,
                lent: 0,
                anomaly: None,
                watched: Vec::new(),
            }),
            recycle: spare::keep::<Entry<T>>,
        }
    }
}

impl<T> Tape<T> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, TapeInner<T>> {
        // Not poisoned by a panic: a panic while the lock was held (inside our
        // own bookkeeping) would be a bug, and the data is still a consistent
        // Vec.
        self.inner.lock()
    }
}

/// Access to the thread's current tape for an element type (one per type).
#[doc(hidden)]
pub trait TapeSlot: Sized + 'static {
    #[doc(hidden)]
    fn current_tape() -> &'static LocalKey<RefCell<Weak<Tape<Self>>>>;
}

thread_local! {
    static CURRENT_F32: RefCell<Weak<Tape<f32>>> = const { RefCell::new(Weak::new()) };
    static CURRENT_F64: RefCell<Weak<Tape<f64>>> = const { RefCell::new(Weak::new()) };
}

impl TapeSlot for f32 {
    fn current_tape() -> &'static LocalKey<RefCell<Weak<Tape<f32>>>> {
        &CURRENT_F32
    }
}

impl TapeSlot for f64 {
    fn current_tape() -> &'static LocalKey<RefCell<Weak<Tape<f64>>>> {
        &CURRENT_F64
    }
}

/// Where a tensor's value came from, as far as the tape is concerned.
pub(crate) enum Node<T> {
    /// Needs no gradient.
    Constant,
    /// A leaf that requires a gradient; registered on each tape that uses it.
    Leaf(LeafId),
    /// The output of a recorded op.
    Recorded(TapeRef<T>, usize),
}

pub(crate) enum TapeRef<T> {
    Strong(Arc<Tape<T>>),
    Weak(Weak<Tape<T>>),
}

impl<T> TapeRef<T> {
    pub(crate) fn upgrade(&self) -> Option<Arc<Tape<T>>> {
        match self {
            TapeRef::Strong(a) => Some(a.clone()),
            TapeRef::Weak(w) => w.upgrade(),
        }
    }

    /// True when this refers to `tape` (which is alive).
    fn points_to(&self, tape: &Arc<Tape<T>>) -> bool {
        match self {
            TapeRef::Strong(a) => Arc::ptr_eq(a, tape),
            TapeRef::Weak(w) => std::ptr::eq(w.as_ptr(), Arc::as_ptr(tape)),
        }
    }
}

impl<T> Clone for Node<T> {
    fn clone(&self) -> Self {
        match self {
            Node::Constant => Node::Constant,
            Node::Leaf(id) => Node::Leaf(*id),
            Node::Recorded(TapeRef::Strong(a), i) => {
                if modes::is_saving() {
                    Node::Recorded(TapeRef::Weak(Arc::downgrade(a)), *i)
                } else {
                    Node::Recorded(TapeRef::Strong(a.clone()), *i)
                }
            }
            Node::Recorded(TapeRef::Weak(w), i) => Node::Recorded(TapeRef::Weak(w.clone()), *i),
        }
    }
}

/// The number of NaN and infinite elements of `t`.
pub(crate) fn non_finite<T: Float>(t: &Tensor<T>) -> usize {
    t.as_slice().iter().filter(|v| !v.is_finite()).count()
}

fn current_tape<T: Float>() -> Arc<Tape<T>> {
    T::current_tape().with(|slot| {
        if let Some(t) = slot.borrow().upgrade()
            && !t.lock().consumed
        {
            return t;
        }
        let t = Arc::new(Tape::new());
        *slot.borrow_mut() = Arc::downgrade(&t);
        t
    })
}

impl<T> TapeInner<T> {
    /// The index the next entry gets.
    pub(crate) fn next_index(&self) -> usize {
        self.lent + self.entries.len()
    }

    /// Marks the tape consumed and hands its entries to the backward that
    /// consumes it, which then reads them without locking the tape once per
    /// entry. Entries recorded meanwhile (only by another thread, on a value
    /// of this tape; backward through them is [`Error::TapeConsumed`]) keep
    /// their indices.
    pub(crate) fn lend(&mut self) -> Vec<Entry<T>> {
        self.consumed = true;
        self.lent = self.entries.len();
        std::mem::take(&mut self.entries)
    }

    /// Takes back what [`lend`](TapeInner::lend) handed out.
    pub(crate) fn give_back(&mut self, mut entries: Vec<Entry<T>>) {
        entries.append(&mut self.entries);
        self.entries = entries;
        self.lent = 0;
    }

    /// The first forward anomaly recorded on this tape, as the error that
    /// `backward` and [`Tensor::check_anomaly`] return.
    pub(crate) fn forward_anomaly(&self) -> Result<()> {
        match self.anomaly {
            Some((entry, op, count)) => Err(Error::Anomaly {
                entry,
                op,
                phase: Phase::Forward,
                count,
            }),
            None => Ok(()),
        }
    }
}

impl<T: Float> Tensor<T> {
    /// Checks the tape this value was recorded on for a forward anomaly: the
    /// first op that produced a NaN or an infinity while recording inside
    /// [`detect_anomaly`]. This is how a forward pass that is never
    /// differentiated reports one (`backward` reports it too). Only a read of
    /// what recording found; the check runs inside `detect_anomaly` or not.
    ///
    /// # Errors
    ///
    /// [`Error::Anomaly`] with [`Phase::Forward`] naming the entry and its op,
    /// the first found on the tape (see [`detect_anomaly`] for which entries
    /// that covers). A value that was not recorded has nothing to report.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{detect_anomaly, Tensor};
    /// let x = Tensor::from_vec(vec![0.0f32, 2.0], [2]).unwrap().requires_grad();
    /// let y = detect_anomaly(|| x.exp().sum()); // entries #1 exp, #2 sum
    /// assert!(y.check_anomaly().is_ok());
    /// let z = detect_anomaly(|| (x.log() * 2.0).sum()); // ln 0 = -inf at #3
    /// let err = z.check_anomaly().unwrap_err();
    /// assert_eq!(err.to_string(), "anomaly: entry #3 (log) produced 1 non-finite value in the forward pass");
    /// // `y` was recorded on the same (thread's) tape, so it reports #3 too.
    /// assert_eq!(y.check_anomaly().unwrap_err(), err);
    /// ```
    pub fn check_anomaly(&self) -> Result<()> {
        match &self.node {
            Node::Recorded(r, _) => r.upgrade().map_or(Ok(()), |t| t.lock().forward_anomaly()),
            _ => Ok(()),
        }
    }

    /// Returns `value` as the output of an op with the given inputs, recording
    /// the op on the tape when recording is on and some input is tracked.
    ///
    /// `make` builds the op's [`Backward`] struct; it runs only when the op is
    /// recorded. Tensors cloned inside `make` hold the tape weakly (see the
    /// module docs), so saving inputs or the output by `clone()` is safe.
    ///
    /// # Examples
    ///
    /// See [`Backward`] for a complete user-defined op.
    pub fn from_op<B, F>(value: Tensor<T>, inputs: &[&Tensor<T>], make: F) -> Tensor<T>
    where
        B: Backward<T> + 'static,
        F: FnOnce() -> B,
    {
        Self::record(value, inputs, |_| make())
    }

    /// Like [`Tensor::from_op`], for an op whose backward saves its own output:
    /// `make` receives the recorded output, so that a second derivative can
    /// flow through the saved value (a clone of the value taken *before*
    /// recording would be a constant).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{Backward, Grads, Result, Tensor};
    ///
    /// /// y = e^x, whose backward uses the saved output: grad_x = grad_out * y.
    /// struct MyExpBackward { y: Tensor<f64> }
    /// impl Backward<f64> for MyExpBackward {
    ///     fn name(&self) -> &'static str { "my_exp" }
    ///     fn backward(&self, g: &Tensor<f64>, _: &[bool]) -> Result<Grads<f64>> {
    ///         Ok([Some(g * &self.y)].into_iter().collect())
    ///     }
    /// }
    /// fn my_exp(x: &Tensor<f64>) -> Tensor<f64> {
    ///     Tensor::from_op_with_output(x.map(f64::exp), &[x], |y| MyExpBackward { y: y.clone() })
    /// }
    /// // The second derivative of e^x is e^x again.
    /// wengert_core::gradgradcheck(|xs| my_exp(&xs[0]), &[Tensor::from_vec(vec![0.5], [1]).unwrap()]).unwrap();
    /// ```
    pub fn from_op_with_output<B, F>(value: Tensor<T>, inputs: &[&Tensor<T>], make: F) -> Tensor<T>
    where
        B: Backward<T> + 'static,
        F: FnOnce(&Tensor<T>) -> B,
    {
        Self::record(value, inputs, make)
    }

    fn record<B, F>(value: Tensor<T>, inputs: &[&Tensor<T>], make: F) -> Tensor<T>
    where
        B: Backward<T> + 'static,
        F: FnOnce(&Tensor<T>) -> B,
    {
        let value = value.with_node(Node::Constant);
        if !is_grad_enabled() || inputs.iter().all(|t| matches!(t.node, Node::Constant)) {
            return value;
        }
        // The tape of the first recorded input, borrowed where the input
        // holds it strongly: a clone and a drop of the `Arc` are two atomic
        // operations, a tenth of the cost of a small op.
        let mut upgraded = None;
        let mut held = None;
        for t in inputs {
            match &t.node {
                Node::Recorded(TapeRef::Strong(a), _) => {
                    held = Some(a);
                    break;
                }
                Node::Recorded(TapeRef::Weak(w), _) => {
                    upgraded = w.upgrade();
                    if upgraded.is_some() {
                        break;
                    }
                }
                _ => {}
            }
        }
        let owned;
        let tape = match held {
            Some(a) => a,
            None => {
                owned = upgraded.unwrap_or_else(current_tape::<T>);
                &owned
            }
        };
        let mut inner = tape.lock();
        let mut ids: SmallVec<[Slot; 4]> = SmallVec::new();
        for t in inputs {
            ids.push(match &t.node {
                Node::Constant => Slot::NONE,
                Node::Leaf(id) => Slot::entry(register_leaf(&mut inner, *id, t)),
                // A pointer comparison, no upgrade: while `tape` is alive no
                // other tape can have its address.
                Node::Recorded(r, i) if r.points_to(tape) => Slot::entry(*i),
                Node::Recorded(..) => Slot::FOREIGN,
            });
        }
        let index = inner.next_index();
        let output = value.with_node(Node::Recorded(TapeRef::Strong(tape.clone()), index));
        let anomaly = if is_anomaly_enabled() && inner.anomaly.is_none() {
            non_finite(&output)
        } else {
            0
        };
        // `make` only clones tensors (which never locks a tape), so building the
        // backward struct under the lock is safe.
        let op: Box<dyn Backward<T>> = with_saving(|| Box::new(make(&output)));

        if anomaly > 0 {
            inner.anomaly = Some((index, op.name(), anomaly));
        }
        if let Some(w) = watched(&output) {
            inner.watched.push((index, w));
        }
        inner.entries.push(Entry {
            kind: Kind::Op(Rule::Owned(op)),
            inputs: ids,
            shape: output.shape().clone(),
        });
        drop(inner);
        output
    }
}

impl<T: Float> Tensor<T> {
    /// Returns true when an op on `operands` would be recorded: recording is
    /// on and some operand is tracked. When false, the result of the op is a
    /// constant, and a backward rule may compute it in place (see
    /// [`Backward::backward_owned`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{no_grad, Tensor};
    /// let c = Tensor::<f32>::ones([1]);
    /// let w = Tensor::<f32>::ones([1]).requires_grad();
    /// assert!(!Tensor::would_record(&[&c]));
    /// assert!(Tensor::would_record(&[&c, &w]));
    /// assert!(!no_grad(|| Tensor::would_record(&[&w])));
    /// ```
    pub fn would_record(operands: &[&Tensor<T>]) -> bool {
        is_grad_enabled() && operands.iter().any(|t| t.is_tracked())
    }
}

fn register_leaf<T: Float>(inner: &mut TapeInner<T>, id: LeafId, leaf: &Tensor<T>) -> usize {
    if let Some(&(i, _)) = inner.leaves.get(&id) {
        return i;
    }
    let i = inner.next_index();
    inner.entries.push(Entry {
        kind: Kind::Leaf(id),
        inputs: SmallVec::new(),
        shape: leaf.shape().clone(),
    });
    inner.leaves.insert(id, (i, leaf.data_weak()));
    i
}

/// The backward of a gradient produced by a non-differentiable backward rule.
struct UnsupportedBackward {
    op: &'static str,
}

impl<T: Float> Backward<T> for UnsupportedBackward {
    fn name(&self) -> &'static str {
        self.op
    }
    fn backward(&self, _grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        Err(crate::Error::Unsupported { op: self.op })
    }
}

/// Records `g`, a gradient computed off the tape by op `name`, as depending on
/// that op's inputs through a backward that fails with `Unsupported`.
pub(crate) fn record_unsupported<T: Float>(
    tape: &Arc<Tape<T>>,
    g: &Tensor<T>,
    inputs: &[Slot],
    name: &'static str,
) -> Tensor<T> {
    let mut inner = tape.lock();
    let index = inner.next_index();
    inner.entries.push(Entry {
        kind: Kind::Op(Rule::Owned(Box::new(UnsupportedBackward { op: name }))),
        inputs: SmallVec::from_slice(inputs),
        shape: g.shape().clone(),
    });
    if let Some(w) = watched(g) {
        inner.watched.push((index, w));
    }
    drop(inner);
    g.detach()
        .with_node(Node::Recorded(TapeRef::Strong(tape.clone()), index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_hold_entry_indices_and_two_markers() {
        assert_eq!(Slot::entry(0).index(), Some(0));
        let last = u32::MAX as usize - 2;
        assert_eq!(Slot::entry(last).index(), Some(last));
        assert_eq!(Slot::NONE.index(), None);
        assert_eq!(Slot::FOREIGN.index(), None);
        assert_ne!(Slot::NONE, Slot::FOREIGN);
        // An entry is 88 bytes: `Vec::push` moves it without a `memcpy` call,
        // and a long tape is less memory to write and read back.
        #[cfg(target_pointer_width = "64")]
        assert_eq!(std::mem::size_of::<Entry<f32>>(), 88);
    }

    #[test]
    #[should_panic(expected = "a tape holds at most 4294967294 entries")]
    fn an_index_past_the_last_slot_panics() {
        let _ = Slot::entry(u32::MAX as usize - 1);
    }
}
