//! The thread's modes: whether ops are recorded ([`no_grad`]), checked for
//! non-finite values ([`detect_anomaly`]) and watched for dumps
//! ([`watch_values`]), and whether clones are being saved by a backward
//! rule (which makes them hold their tape weakly; see `tape.rs`). Each is a
//! thread-local flag, set for the length of a closure and restored after
//! it, also when it panics.

use std::cell::Cell;
use std::thread::LocalKey;

use crate::storage::WeakStorage;
#[cfg(doc)]
use crate::{Error, Phase};
use crate::{Float, Tensor};

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static SAVING: Cell<bool> = const { Cell::new(false) };
    static ANOMALY: Cell<bool> = const { Cell::new(false) };
    static WATCH: Cell<bool> = const { Cell::new(false) };
}

/// Returns true unless the calling thread is inside [`no_grad`].
///
/// # Examples
///
/// ```
/// assert!(wengert_core::is_grad_enabled());
/// wengert_core::no_grad(|| assert!(!wengert_core::is_grad_enabled()));
/// ```
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Runs `f` with recording switched off on this thread: nothing computed inside
/// is recorded, whatever its inputs. The previous mode is restored afterwards,
/// also when `f` panics.
///
/// # Examples
///
/// ```
/// use wengert_core::{no_grad, Tensor};
/// let w = Tensor::<f32>::ones([2]).requires_grad();
/// let y = no_grad(|| &w * 2.0);
/// assert!(!y.is_tracked());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    with_grad_mode(false, f)
}

/// Runs `f` with the thread's `flag` set to `value`, restoring the previous
/// value afterwards, also when `f` panics. Always inlined: through a
/// `LocalKey` reference each access would be a call through a function
/// pointer (W6: 21 instructions per op more) instead of a direct read.
#[inline(always)]
fn with_flag<R>(flag: &'static LocalKey<Cell<bool>>, value: bool, f: impl FnOnce() -> R) -> R {
    struct Restore(&'static LocalKey<Cell<bool>>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            self.0.with(|g| g.set(self.1));
        }
    }
    let _restore = Restore(flag, flag.with(|g| g.replace(value)));
    f()
}

/// Runs `f` with recording switched on or off, restoring the previous mode.
pub(crate) fn with_grad_mode<R>(enabled: bool, f: impl FnOnce() -> R) -> R {
    with_flag(&GRAD_ENABLED, enabled, f)
}

/// Returns true inside [`detect_anomaly`] on this thread.
///
/// # Examples
///
/// ```
/// assert!(!wengert_core::is_anomaly_enabled());
/// wengert_core::detect_anomaly(|| assert!(wengert_core::is_anomaly_enabled()));
/// ```
pub fn is_anomaly_enabled() -> bool {
    ANOMALY.with(Cell::get)
}

/// Runs `f` in anomaly mode: every forward value an op records and every
/// gradient a backward rule returns is checked for NaN and infinity. Costs a
/// scan of every value: use it to find where a NaN comes from, not in
/// production.
///
/// When each kind of anomaly surfaces:
///
/// - **Forward.** The op does not fail: it returns its value as usual (IEEE
///   arithmetic), and its tape remembers the first entry whose value holds a
///   NaN or an infinity. That entry surfaces as [`Error::Anomaly`] with
///   [`Phase::Forward`] from the next `backward` over that tape
///   ([`Tensor::backward`], [`Tensor::backward_with`], [`grad`](crate::grad),
///   ...), before anything is replayed and whether or not that call is itself
///   inside `detect_anomaly`; or at once from [`Tensor::check_anomaly`] on any
///   value recorded on that tape. A forward pass that is neither
///   differentiated nor checked reports nothing. Only recorded ops are checked
///   (some input requires a gradient, outside [`no_grad`]), and a tape is
///   shared by everything recorded on the thread while it lives, so the first
///   anomaly may come from a computation the value does not depend on.
/// - **Backward.** During a replay inside `detect_anomaly`, the first backward
///   rule that returns a non-finite gradient stops the pass with
///   [`Error::Anomaly`] and [`Phase::Backward`].
///
/// # Examples
///
/// ```
/// use wengert_core::{detect_anomaly, Error, Phase, Tensor};
/// let x = Tensor::from_vec(vec![-1.0f64, 4.0], [2]).unwrap().requires_grad();
/// let err = detect_anomaly(|| x.sqrt().sum().backward()).unwrap_err();
/// assert!(matches!(err, Error::Anomaly { entry: 1, op: "sqrt", phase: Phase::Forward, .. }));
/// assert_eq!(err.to_string(), "anomaly: entry #1 (sqrt) produced 1 non-finite value in the forward pass");
///
/// // Forward only: nothing is differentiated, so ask the value.
/// let y = detect_anomaly(|| x.log().sum()); // ln(-1) is NaN, at entry 1
/// assert!(y.item().is_nan());
/// let err = y.check_anomaly().unwrap_err();
/// assert!(matches!(err, Error::Anomaly { entry: 1, op: "log", phase: Phase::Forward, count: 1 }));
/// ```
pub fn detect_anomaly<R>(f: impl FnOnce() -> R) -> R {
    with_flag(&ANOMALY, true, f)
}

/// Runs `f` with the tape watching the values it records: the tape keeps a
/// weak reference to each op's output, so that [`Tensor::tape_dump`] can
/// summarize every value some tensor still holds and mark the others
/// `(freed)`. Outside `watch_values` an op's entry shows `(not watched)`
/// (leaves are always watched). The previous mode is restored afterwards,
/// also when `f` panics.
///
/// Off by default because it is not free: taking and dropping the weak
/// reference are two atomic operations per op, and a small value's
/// allocation then lives until the tape is dropped instead of being reused
/// at once (a chain of 10,000 small element-wise ops, W6 of
/// docs/benchmarks.md, runs about 10% longer watched).
///
/// # Examples
///
/// ```
/// use wengert_core::{watch_values, Tensor};
/// let x = Tensor::from_vec(vec![1.0f32, 3.0], [2]).unwrap().requires_grad();
/// let y = watch_values(|| (&x * 2.0).sum());
/// let dump = y.tape_dump();
/// let lines: Vec<&str> = dump.lines().collect();
/// assert!(lines[1].starts_with("#1  mul_scalar(#0)") && lines[1].ends_with("(freed)"));
/// assert!(lines[2].ends_with("min 8.0000e0 max 8.0000e0 mean 8.0000e0"));
/// let z = (&x * 2.0).sum();
/// assert!(z.tape_dump().lines().last().unwrap().ends_with("(not watched)"));
/// ```
pub fn watch_values<R>(f: impl FnOnce() -> R) -> R {
    with_flag(&WATCH, true, f)
}

/// The weak reference the tape keeps to `t`'s value inside [`watch_values`].
pub(crate) fn watched<T: Float>(t: &Tensor<T>) -> Option<WeakStorage<T>> {
    WATCH.with(Cell::get).then(|| t.data_weak())
}

/// Runs `f` while a backward rule's saved state is built (see the module
/// docs).
pub(crate) fn with_saving<R>(f: impl FnOnce() -> R) -> R {
    with_flag(&SAVING, true, f)
}

/// True while a backward rule's saved state is being built (inside
/// `with_saving`).
pub(crate) fn is_saving() -> bool {
    SAVING.with(Cell::get)
}
