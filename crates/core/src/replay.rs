//! The replay loop: the tape's entries walked from the seeds down to entry
//! 0 (`docs/architecture.md`, "Replay" and "Freeing").
//!
//! The replay is a loop over entry indices in reverse order (no recursion), so a
//! chain of a million ops runs on a small stack. Each entry runs at most once,
//! and only if some gradient reached it; a value used several times receives the
//! sum of its gradients before its own entry runs, which is guaranteed because
//! every consumer was recorded after it. A consumed gradient is dropped right
//! after use, and in a consuming backward so is the entry's saved state.

use std::collections::HashMap;
use std::sync::Arc;

use crate::autograd::BackwardOptions;
use crate::error::{Error, Phase, Result};
use crate::modes::{is_anomaly_enabled, with_grad_mode};
use crate::spare;
use crate::tape::{
    Entry, Kind, LeafId, LeafMap, Node, Rule, Slot, Tape, non_finite, record_unsupported,
};
use crate::{Float, Shape, Tensor};

/// What the replay loop needs of one entry.
struct Step<T> {
    op: Option<Rule<T>>,
    inputs: smallvec::SmallVec<[Slot; 4]>,
    leaf: Option<LeafId>,
    name: &'static str,
}

/// The result of one replay: gradients of the leaves reached, and of the
/// requested recorded entries.
pub(crate) struct Replayed<T: Float> {
    pub(crate) by_leaf: LeafMap<Tensor<T>>,
    pub(crate) by_entry: HashMap<usize, Tensor<T>>,
}

/// Replays `tape` backward from the `starts` (entry index, seed), keeping the
/// gradients of the entries in `wanted` as well as those of all leaves.
pub(crate) fn replay<T: Float>(
    tape: &Arc<Tape<T>>,
    starts: Vec<(usize, Tensor<T>)>,
    wanted: &[usize],
    opts: BackwardOptions,
) -> Result<Replayed<T>> {
    let consume = !(opts.retain_graph || opts.create_graph);
    let (leaves, lent) = {
        let mut inner = tape.lock();
        if inner.consumed {
            return Err(Error::TapeConsumed);
        }
        inner.forward_anomaly()?;
        let lent = consume.then(|| inner.lend());
        (inner.leaves.len(), lent)
    };
    // The list goes back to the tape when the replay ends, also when a
    // broken backward rule panics (no lock is held then: rules run outside
    // it).
    let mut reading = Reading {
        tape,
        entries: match lent {
            Some(v) => Entries::Lent(v),
            None => Entries::InPlace,
        },
    };
    replay_entries(tape, &mut reading.entries, starts, wanted, opts, leaves)
}

/// The entries a replay reads, given back to their tape when dropped.
struct Reading<'a, T> {
    tape: &'a Tape<T>,
    entries: Entries<T>,
}

impl<T> Drop for Reading<'_, T> {
    fn drop(&mut self) {
        if let Entries::Lent(v) = std::mem::replace(&mut self.entries, Entries::InPlace) {
            self.tape.lock().give_back(v);
        }
    }
}

/// Where the replay reads its entries. A consuming replay borrows the
/// tape's whole list under one lock (nothing else may run a consumed tape's
/// rules), instead of locking the tape once per entry; a retaining one
/// reads them in place, under the lock, and shares each rule (see
/// [`Rule`]).
enum Entries<T> {
    Lent(Vec<Entry<T>>),
    InPlace,
}

fn replay_entries<T: Float>(
    tape: &Arc<Tape<T>>,
    entries: &mut Entries<T>,
    starts: Vec<(usize, Tensor<T>)>,
    wanted: &[usize],
    opts: BackwardOptions,
    leaves: usize,
) -> Result<Replayed<T>> {
    let check = is_anomaly_enabled();
    let top = starts.iter().map(|(i, _)| *i).max().unwrap_or(0);
    let mut grads = Pending::new(top + 1);
    for (i, seed) in starts {
        grads.add(i, seed, opts.create_graph);
    }
    let mut out = Replayed {
        // Room for every leaf up front: growing the map rehashed it twice
        // per W3 step.
        by_leaf: LeafMap::with_capacity_and_hasher(leaves, Default::default()),
        by_entry: HashMap::new(),
    };
    let replayed = with_grad_mode(opts.create_graph, || {
        // The gradient of entry `i - 1` while entry `i` is its first
        // consumer (a chain): handed to the next iteration in a local. Through
        // `grads`, the next iteration read the slot right after this one wrote
        // it, a stall per entry.
        let mut next: Option<Tensor<T>> = None;
        for i in (0..=top).rev() {
            let Some(grad_out) = next.take().or_else(|| grads.take(i)) else {
                continue;
            };
            let step = read_step(tape, entries, i, grad_out.shape())?;
            if wanted.contains(&i) {
                out.by_entry.insert(i, grad_out.clone());
            }
            if let Some(id) = step.leaf {
                out.by_leaf.insert(id, grad_out);
                continue;
            }
            if step.inputs.contains(&Slot::FOREIGN) {
                return Err(Error::MixedTapes { op: step.name });
            }
            let op = step
                .op
                .expect("BUG: a recorded entry without its backward rule");
            let mut needs = smallvec::SmallVec::<[bool; 4]>::new();
            for slot in &step.inputs {
                needs.push(slot.index().is_some());
            }
            // By value: the gradient is not needed after this, so an op may
            // write its result into `grad_out`'s storage.
            // Matched in place: `?` moved the whole SmallVec of gradients
            // out of the `Result` (a `memcpy` call per entry).
            let mut result = op.backward_owned(grad_out, &needs);
            let input_grads = match &mut result {
                Ok(grads) => grads,
                Err(_) => return result.map(drop),
            };
            let differentiable = op.differentiable();
            drop(op);
            if opts.create_graph && !differentiable {
                for g in input_grads.iter_mut().flatten() {
                    *g = record_unsupported(tape, g, &step.inputs, step.name);
                }
            }
            if check {
                let count: usize = input_grads.iter().flatten().map(non_finite).sum();
                if count > 0 {
                    return Err(Error::Anomaly {
                        entry: i,
                        op: step.name,
                        phase: Phase::Backward,
                        count,
                    });
                }
            }
            // `iter_mut` and `take`: moving the SmallVec into an iterator
            // copied all of it (a `memcpy` call per entry).
            for (slot, g) in step.inputs.iter().zip(input_grads.iter_mut()) {
                let (Some(j), Some(g)) = (slot.index(), g.take()) else {
                    continue;
                };
                if j + 1 == i && grads.is_empty_at(j) {
                    accumulate(&mut next, g, opts.create_graph);
                } else {
                    grads.add(j, g, opts.create_graph);
                }
            }
        }
        Ok(())
    });
    grads.recycle();
    replayed.map(|()| out)
}

/// The gradients that have reached entries the replay has not run yet: four
/// bytes per entry, the gradient's place in a short list of tensors. An
/// `Option<Tensor>` per entry took 80 bytes: W6's backward (10,000 entries)
/// cleared 800 KB and read it again, for the one or two gradients pending at
/// any time in a chain.
struct Pending<T: Float> {
    /// Each entry's place in `list`, or [`Pending::NONE`].
    place: Vec<u32>,
    list: Vec<Option<Tensor<T>>>,
    /// Places in `list` that are free again.
    free: Vec<u32>,
}

impl<T: Float> Pending<T> {
    const NONE: u32 = u32::MAX;

    /// No gradient yet for any of `len` entries.
    fn new(len: usize) -> Self {
        let mut place: Vec<u32> = spare::take();
        place.resize(len, Self::NONE);
        Pending {
            place,
            list: Vec::new(),
            free: Vec::new(),
        }
    }

    /// True when no gradient has reached entry `i`.
    fn is_empty_at(&self, i: usize) -> bool {
        self.place[i] == Self::NONE
    }

    /// The gradient of entry `i`, which leaves the list.
    fn take(&mut self, i: usize) -> Option<Tensor<T>> {
        let p = std::mem::replace(&mut self.place[i], Self::NONE);
        if p == Self::NONE {
            return None;
        }
        self.free.push(p);
        self.list[p as usize].take()
    }

    /// Adds `g` to the gradient of entry `i` (see [`accumulate`]).
    fn add(&mut self, i: usize, g: Tensor<T>, create_graph: bool) {
        match self.place[i] {
            Self::NONE => {
                let p = match self.free.pop() {
                    Some(p) => {
                        self.list[p as usize] = Some(g);
                        p
                    }
                    None => {
                        self.list.push(Some(g));
                        u32::try_from(self.list.len() - 1)
                            .expect("BUG: more pending gradients than entries")
                    }
                };
                self.place[i] = p;
            }
            p => accumulate(&mut self.list[p as usize], g, create_graph),
        }
    }

    /// Keeps the per-entry buffer for the thread's next replay (the list
    /// is short: a spare of its own cost W3 as much as it saved).
    fn recycle(self) {
        spare::keep(self.place);
    }
}

/// Inlined, as is `accumulate`: a step returned through memory was read
/// back right after it was written, a stall per entry.
#[inline(always)]
fn read_step<T: Float>(
    tape: &Tape<T>,
    entries: &mut Entries<T>,
    i: usize,
    grad_shape: &Shape,
) -> Result<Step<T>> {
    let mut guard;
    let (e, op) = match entries {
        Entries::Lent(v) => {
            let e = &mut v[i];
            let op = e.kind.take();
            (e, op)
        }
        Entries::InPlace => {
            guard = tape.lock();
            // A consuming backward on another thread has the entries, or
            // has freed this rule: this tape's history is going.
            if guard.lent > 0 {
                return Err(Error::TapeConsumed);
            }
            let e = &mut guard.entries[i];
            let op = e.kind.share();
            if matches!(e.kind, Kind::Spent(_)) {
                return Err(Error::TapeConsumed);
            }
            (e, op)
        }
    };
    if &e.shape != grad_shape {
        wrong_shape(i, e.name(), &e.shape, grad_shape);
    }
    Ok(Step {
        op,
        // `from_slice` copies; SmallVec's `clone` runs the generic `extend`.
        inputs: smallvec::SmallVec::from_slice(&e.inputs),
        leaf: e.kind.leaf(),
        name: e.name(),
    })
}

/// The panic for a gradient whose shape is not its value's: only a broken
/// backward rule gets here.
#[cold]
#[inline(never)]
fn wrong_shape(i: usize, name: &str, expected: &Shape, got: &Shape) -> ! {
    panic!(
        "backward: the gradient reaching entry #{i} ({name}) has shape {got} instead of {expected}: a backward rule is broken"
    )
}

/// Adds `g` to the gradient in `slot`. With `create_graph` the sum is a
/// recorded op; otherwise it is added into the first gradient's storage,
/// which is usually owned by that gradient alone (else copied first).
#[inline(always)]
fn accumulate<T: Float>(slot: &mut Option<Tensor<T>>, g: Tensor<T>, create_graph: bool) {
    *slot = Some(match slot.take() {
        None => g,
        Some(acc) => {
            assert_eq!(
                acc.shape(),
                g.shape(),
                "backward: two gradients of one value differ in shape: a backward rule is broken"
            );
            if create_graph {
                &acc + &g
            } else {
                let mut acc = acc.with_node(Node::Constant);
                for (a, &b) in acc.as_mut_slice().iter_mut().zip(g.as_slice()) {
                    *a += b;
                }
                acc
            }
        }
    });
}
