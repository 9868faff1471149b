//! Backward: the entry points ([`Tensor::backward`], [`Tensor::backward_with`])
//! and the gradients they return; the loop itself is in `replay.rs`.

use crate::error::{Error, Result};
use crate::replay::replay;
use crate::tape::{LeafId, LeafMap, Node};
use crate::{Float, Tensor};

/// Options of [`Tensor::backward_with`].
///
/// # Examples
///
/// ```
/// use wengert_core::{BackwardOptions, Tensor};
/// let x = Tensor::from_vec(vec![3.0f64], [1]).unwrap().requires_grad();
/// let y = (&x * &x).sum();
/// let opts = BackwardOptions { retain_graph: true, ..Default::default() };
/// let g1 = y.backward_with(None, opts).unwrap();
/// let g2 = y.backward().unwrap(); // allowed: the first one kept the tape
/// assert_eq!(g1.get(&x).unwrap().to_vec(), g2.get(&x).unwrap().to_vec());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackwardOptions {
    /// Keep the tape and its saved values, so that backward can run again.
    pub retain_graph: bool,
    /// Record the backward pass itself on the tape, so that the returned
    /// gradients can be differentiated again. Implies `retain_graph`.
    pub create_graph: bool,
}

/// The gradients a backward pass computed, keyed by leaf.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// let a = Tensor::from_vec(vec![2.0f32], [1]).unwrap().requires_grad();
/// let b = Tensor::from_vec(vec![5.0f32], [1]).unwrap().requires_grad();
/// let g = (&a * &b).sum().backward().unwrap();
/// assert_eq!(g.get(&a).unwrap().to_vec(), vec![5.0]);
/// assert_eq!(g.get(&b).unwrap().to_vec(), vec![2.0]);
/// ```
#[derive(Clone, Debug)]
pub struct Gradients<T: Float = f32> {
    by_leaf: LeafMap<Tensor<T>>,
}

impl<T: Float> Gradients<T> {
    /// Returns the gradient of `leaf`, or `None` when `leaf` is not a tracked
    /// leaf or the output does not depend on it.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::<f32>::ones([1]).requires_grad();
    /// let unused = Tensor::<f32>::ones([1]).requires_grad();
    /// let g = a.exp().sum().backward().unwrap();
    /// assert!(g.get(&unused).is_none());
    /// ```
    pub fn get(&self, leaf: &Tensor<T>) -> Option<&Tensor<T>> {
        leaf.leaf_id().and_then(|id| self.by_leaf.get(&id))
    }

    /// Returns the gradient for a leaf identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::<f32>::ones([1]).requires_grad();
    /// let g = a.sum().backward().unwrap();
    /// assert!(g.get_by_id(a.leaf_id().unwrap()).is_some());
    /// ```
    pub fn get_by_id(&self, id: LeafId) -> Option<&Tensor<T>> {
        self.by_leaf.get(&id)
    }

    /// Removes and returns the gradient of `leaf`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::<f32>::ones([1]).requires_grad();
    /// let mut g = a.sum().backward().unwrap();
    /// assert!(g.remove(&a).is_some());
    /// assert!(g.is_empty());
    /// ```
    pub fn remove(&mut self, leaf: &Tensor<T>) -> Option<Tensor<T>> {
        leaf.leaf_id().and_then(|id| self.by_leaf.remove(&id))
    }

    /// Returns a mutable reference to the gradient of `leaf`: how gradient
    /// clipping rescales gradients in place before an optimizer step.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::<f64>::ones([2]).requires_grad();
    /// let mut g = a.sum().backward().unwrap();
    /// let ga = g.get_mut(&a).unwrap();
    /// *ga = ga.mul_scalar(0.5);
    /// assert_eq!(g.get(&a).unwrap().to_vec(), vec![0.5, 0.5]);
    /// ```
    pub fn get_mut(&mut self, leaf: &Tensor<T>) -> Option<&mut Tensor<T>> {
        leaf.leaf_id().and_then(|id| self.by_leaf.get_mut(&id))
    }

    /// Returns the number of leaves with a gradient.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::<f32>::ones([1]).requires_grad();
    /// assert_eq!(a.sum().backward().unwrap().len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.by_leaf.len()
    }

    /// Returns true when no leaf received a gradient.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::<f32>::ones([1]).requires_grad();
    /// assert!(!a.sum().backward().unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.by_leaf.is_empty()
    }

    /// Iterates over (leaf identity, gradient) pairs in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let a = Tensor::<f32>::ones([1]).requires_grad();
    /// assert_eq!(a.sum().backward().unwrap().iter().count(), 1);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (LeafId, &Tensor<T>)> {
        self.by_leaf.iter().map(|(k, v)| (*k, v))
    }
}

impl<T: Float> Tensor<T> {
    /// Computes the gradients of this scalar with respect to every leaf it
    /// depends on, consuming the tape.
    ///
    /// # Errors
    ///
    /// [`Error::NonScalarBackward`] when the output has more than one element
    /// (use [`Tensor::backward_with`] and a seed); [`Error::NotRecorded`] when
    /// nothing was recorded; [`Error::TapeConsumed`] on a second backward over
    /// the same tape; [`Error::MixedTapes`] when the graph joins a consumed tape;
    /// [`Error::Anomaly`] for a non-finite value found by
    /// [`detect_anomaly`](crate::detect_anomaly), in the forward pass (before
    /// anything is replayed) or in a backward rule's gradients.
    ///
    /// # Panics
    ///
    /// When a backward rule returns a gradient whose shape differs from its
    /// input's: a bug in that rule (for instance in a user-defined [`Backward`](crate::Backward)).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0], [2]).unwrap().requires_grad();
    /// let y = (&x * &x).sum();          // y = Σ x²
    /// let g = y.backward().unwrap();    // dy/dx = 2x
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![2.0, 4.0]);
    /// assert!(y.backward().is_err());   // the tape was consumed
    /// ```
    pub fn backward(&self) -> Result<Gradients<T>> {
        self.backward_with(None, BackwardOptions::default())
    }

    /// Computes gradients from this output with an explicit seed (`grad_out` of
    /// the output's shape; `None` means 1 for a one-element output) and options.
    ///
    /// # Errors
    ///
    /// As [`Tensor::backward`], plus [`Error::SeedShapeMismatch`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{BackwardOptions, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], [2]).unwrap().requires_grad();
    /// let y = &x * 3.0;
    /// let seed = Tensor::from_vec(vec![1.0, 10.0], [2]).unwrap();
    /// let g = y.backward_with(Some(&seed), BackwardOptions::default()).unwrap();
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![3.0, 30.0]);
    /// ```
    pub fn backward_with(
        &self,
        seed: Option<&Tensor<T>>,
        opts: BackwardOptions,
    ) -> Result<Gradients<T>> {
        let seed = match seed {
            Some(s) if s.shape() != self.shape() => {
                return Err(Error::SeedShapeMismatch {
                    seed: s.shape().clone(),
                    output: self.shape().clone(),
                });
            }
            Some(s) => s.clone(),
            None if self.numel() == 1 => self.ones_like(),
            None => {
                return Err(Error::NonScalarBackward {
                    shape: self.shape().clone(),
                });
            }
        };
        let (tape, index) = match &self.node {
            Node::Constant => return Err(Error::NotRecorded),
            Node::Leaf(id) => {
                let mut by_leaf = LeafMap::default();
                by_leaf.insert(*id, seed);
                return Ok(Gradients { by_leaf });
            }
            Node::Recorded(r, i) => (r.upgrade().ok_or(Error::TapeConsumed)?, *i),
        };
        let seed = if opts.create_graph {
            seed
        } else {
            seed.detach()
        };
        let r = replay(&tape, vec![(index, seed)], &[], opts)?;
        Ok(Gradients { by_leaf: r.by_leaf })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_place_accumulation_copies_shared_gradients() {
        // y = x + x + x: the adds hand the same gradient buffer to x three
        // times; summing into a shared buffer in place would give 4, not 3.
        let x = Tensor::from_vec(vec![1.5f64, -2.0], [2])
            .unwrap()
            .requires_grad();
        let y = (&(&x + &x) + &x).sum();
        assert_eq!(
            y.backward().unwrap().get(&x).unwrap().to_vec(),
            vec![3.0, 3.0]
        );
    }

    #[test]
    fn in_place_backward_leaves_the_seed_untouched() {
        let x = Tensor::from_vec(vec![0.1f32, -0.2], [2])
            .unwrap()
            .requires_grad();
        let seed = Tensor::from_vec(vec![1.0f32, 10.0], [2]).unwrap();
        let y = x.mul_scalar(3.0).tanh().neg();
        let g = y
            .backward_with(Some(&seed), BackwardOptions::default())
            .unwrap();
        assert_eq!(seed.to_vec(), vec![1.0, 10.0]);
        let want: Vec<f32> = [0.1f32, -0.2]
            .iter()
            .zip([1.0f32, 10.0])
            .map(|(&x, s)| -s * (1.0 - (3.0 * x).tanh().powi(2)) * 3.0)
            .collect();
        let got = g.get(&x).unwrap().to_vec();
        for (a, b) in got.iter().zip(&want) {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn in_place_backward_rules_match_the_recorded_rules_exactly() {
        // The plain backward takes the in-place paths; with create_graph the
        // same rules run as recorded tensor ops. Same arithmetic, same bits.
        let f = |x: &Tensor<f32>| {
            let a = x.mul_scalar(1.25).add_scalar(0.5).tanh();
            let b = a.div_scalar(3.0).neg().tanh();
            (&(&a * &b) + &b.mul_scalar(2.0)).sum()
        };
        let x = Tensor::from_vec(vec![-1.5f32, -0.2, 0.3, 2.0], [4])
            .unwrap()
            .requires_grad();
        let plain = f(&x).backward().unwrap();
        let opts = BackwardOptions {
            create_graph: true,
            ..Default::default()
        };
        let recorded = f(&x).backward_with(None, opts).unwrap();
        let bits = |g: &Gradients<f32>| -> Vec<u32> {
            g.get(&x)
                .unwrap()
                .to_vec()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        };
        assert_eq!(bits(&plain), bits(&recorded));
    }

    #[test]
    fn ops_recorded_onto_one_tape_from_several_threads_all_reach_the_gradient() {
        // Four threads extend the same tape at once (each op locks it):
        // every entry must land whole, at its own index.
        let x = Tensor::from_vec(vec![0.5f64, -1.0], [2])
            .unwrap()
            .requires_grad();
        let h = x.mul_scalar(2.0);
        let parts: Vec<Tensor<f64>> = std::thread::scope(|s| {
            let jobs: Vec<_> = (0..4)
                .map(|t| {
                    let h = &h;
                    s.spawn(move || {
                        let mut y = h.clone();
                        for _ in 0..300 {
                            y = y.add_scalar(0.01 * t as f64).mul_scalar(1.0001);
                        }
                        y.sum()
                    })
                })
                .collect();
            jobs.into_iter().map(|j| j.join().unwrap()).collect()
        });
        let total = parts.iter().skip(1).fold(parts[0].clone(), |a, b| &a + b);
        let g = total.backward().unwrap().get(&x).unwrap().to_vec();
        // Each chain is (h + c)·m repeated: d/dx = 2·m³⁰⁰ per thread.
        let want = 4.0 * 2.0 * 1.0001f64.powi(300);
        for v in g {
            assert!((v - want).abs() <= 1e-12 * want, "{v} vs {want}");
        }
    }

    #[test]
    fn fan_out_accumulates() {
        // y = x*x + x at x = 3: value 12, dy/dx = 2x + 1 = 7 (hand-derived).
        let x = Tensor::from_vec(vec![3.0f64], [1]).unwrap().requires_grad();
        let y = (&(&x * &x) + &x).sum();
        assert_eq!(y.item(), 12.0);
        assert_eq!(y.backward().unwrap().get(&x).unwrap().to_vec(), vec![7.0]);
    }

    #[test]
    fn contributions_to_one_value_are_summed_last_consumer_first() {
        // a feeds b = 1e16·a, c = a, d = a, recorded in that order: the replay
        // meets d, c, b, and (1 + 1) + 1e16 = 1e16 + 2 exactly, where b, c, d
        // would round 1e16 + 1 to 1e16 twice. Through the pending list and
        // through a chain's hand-over (b is entry a + 1).
        let x = Tensor::from_vec(vec![0.5f64], [1]).unwrap().requires_grad();
        let a = x.mul_scalar(1.0);
        let b = a.mul_scalar(1e16);
        let c = a.mul_scalar(1.0);
        let d = a.mul_scalar(1.0);
        let y = (&(&b + &c) + &d).sum();
        let g = y.backward().unwrap().get(&x).unwrap().item();
        assert_eq!(g, 1e16 + 2.0);
        assert_ne!(1e16 + 1.0 + 1.0, 1e16 + 2.0);
    }

    #[test]
    fn second_backward_over_a_consumed_tape_is_an_error() {
        let x = Tensor::<f32>::ones([2]).requires_grad();
        let y = x.exp().sum();
        y.backward().unwrap();
        assert_eq!(y.backward().unwrap_err(), Error::TapeConsumed);
    }

    #[test]
    fn non_scalar_backward_needs_a_seed() {
        let x = Tensor::<f32>::ones([2]).requires_grad();
        let e = x.exp().backward().unwrap_err();
        assert_eq!(
            e.to_string(),
            "backward: output of shape [2] is not a scalar; pass a seed of that shape"
        );
    }

    #[test]
    fn frozen_leaves_record_nothing() {
        let mut w = Tensor::<f32>::ones([2]).requires_grad();
        w.set_requires_grad(false);
        let y = w.exp().sum();
        assert!(!y.is_tracked());
        assert_eq!(y.backward().unwrap_err(), Error::NotRecorded);
    }

    #[test]
    fn using_a_consumed_value_again_is_an_error_not_a_silent_zero() {
        let x = Tensor::<f64>::ones([1]).requires_grad();
        let y = x.exp().sum();
        y.backward().unwrap();
        let z = (&y * 2.0).sum();
        assert_eq!(z.backward().unwrap_err(), Error::TapeConsumed);
        let w = (&x.exp() + &y).sum();
        assert!(matches!(
            w.backward().unwrap_err(),
            Error::MixedTapes { .. }
        ));
    }

    #[test]
    fn a_consumed_tape_gets_its_entries_back_in_order() {
        // The consuming backward borrows the entry list and returns it: the
        // dump still shows every entry, and a value recorded afterwards on
        // the consumed tape comes after them.
        let x = Tensor::<f64>::ones([2]).requires_grad();
        let y = x.exp().sum();
        y.backward().unwrap();
        let z = &y * 2.0;
        let dump = z.tape_dump();
        let ops: Vec<&str> = dump
            .lines()
            .map(|l| l.split_whitespace().nth(1).unwrap())
            .collect();
        assert_eq!(
            ops,
            ["leaf", "exp(#0)", "sum(#1)", "mul_scalar(#2)"],
            "{dump}"
        );
    }

    #[test]
    fn entries_recorded_while_a_backward_holds_the_list_keep_their_indices() {
        // What another thread sees while a consuming backward has the
        // entries: an op recorded meanwhile gets the index after them, and
        // the list comes back whole, in order.
        let x = Tensor::<f64>::ones([2]).requires_grad();
        let y = x.exp();
        let Node::Recorded(r, 1) = &y.node else {
            panic!("y is entry #1")
        };
        let tape = r.upgrade().unwrap();
        let lent = tape.lock().lend();
        assert_eq!(lent.len(), 2);
        let z = &y * 2.0;
        assert!(matches!(z.node, Node::Recorded(_, 2)));
        assert!(z.tape_dump().starts_with("#2  mul_scalar(#1)"));
        tape.lock().give_back(lent);
        let dump = z.tape_dump();
        assert_eq!(dump.lines().count(), 3, "{dump}");
        assert!(
            dump.lines()
                .nth(2)
                .unwrap()
                .starts_with("#2  mul_scalar(#1)")
        );
        // The tape is consumed: backward through z says so.
        assert_eq!(z.sum().backward().unwrap_err(), Error::TapeConsumed);
    }

    #[test]
    fn a_rule_that_panics_still_gives_the_entry_list_back() {
        struct Broken;
        impl crate::Backward<f64> for Broken {
            fn name(&self) -> &'static str {
                "broken"
            }
            fn backward(&self, _: &Tensor<f64>, _: &[bool]) -> Result<crate::Grads<f64>> {
                panic!("a broken rule")
            }
        }
        let x = Tensor::<f64>::ones([2]).requires_grad();
        let y = Tensor::from_op(x.exp(), &[&x.exp()], || Broken).sum();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| y.backward()));
        assert!(caught.is_err());
        let dump = y.tape_dump();
        assert_eq!(dump.lines().count(), 5, "{dump}");
        assert!(
            dump.lines().nth(3).unwrap().starts_with("#3  broken(#2)"),
            "{dump}"
        );
        assert_eq!(y.backward().unwrap_err(), Error::TapeConsumed);
    }

    #[test]
    fn retaining_backwards_share_the_rules_across_threads() {
        // A retaining replay turns each rule into a shared one, so that
        // replays on several threads at once each hold it; a consuming one
        // afterwards still finds every rule, and a second one is an error.
        let x = Tensor::from_vec(vec![0.3f64, -1.2, 2.0], [3])
            .unwrap()
            .requires_grad();
        let mut y = x.clone();
        for _ in 0..50 {
            y = y.tanh().mul_scalar(1.5);
        }
        let y = y.sum();
        let retain = BackwardOptions {
            retain_graph: true,
            create_graph: false,
        };
        let expected = y
            .backward_with(None, retain)
            .unwrap()
            .get(&x)
            .unwrap()
            .to_vec();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..20 {
                        let g = y.backward_with(None, retain).unwrap();
                        assert_eq!(g.get(&x).unwrap().to_vec(), expected);
                    }
                });
            }
        });
        assert_eq!(y.backward().unwrap().get(&x).unwrap().to_vec(), expected);
        assert_eq!(y.backward().unwrap_err(), Error::TapeConsumed);
        assert_eq!(
            y.backward_with(None, retain).unwrap_err(),
            Error::TapeConsumed
        );
    }

    #[test]
    fn anomaly_mode_names_the_first_non_finite_gradient() {
        use crate::{Phase, detect_anomaly};
        // sqrt(0) = 0 is finite, but its gradient 1/(2·0) is not.
        let x = Tensor::from_vec(vec![0.0f64, 1.0], [2])
            .unwrap()
            .requires_grad();
        let e = detect_anomaly(|| (x.sqrt() * 2.0).sum().backward()).unwrap_err();
        assert_eq!(
            e,
            Error::Anomaly {
                entry: 1,
                op: "sqrt",
                phase: Phase::Backward,
                count: 1
            }
        );
        // Outside anomaly mode the same pass follows IEEE and returns inf.
        let g = (x.sqrt() * 2.0).sum().backward().unwrap();
        assert_eq!(g.get(&x).unwrap().to_vec()[0], f64::INFINITY);
    }

    #[test]
    fn anomaly_mode_reports_the_first_non_finite_forward_value() {
        use crate::{Phase, detect_anomaly};
        let x = Tensor::from_vec(vec![0.0f64, 1.0], [2])
            .unwrap()
            .requires_grad();
        let e = detect_anomaly(|| {
            let y = x.log(); // -inf at 0: entry 1
            let z = y.exp(); // finite again
            (z / 0.0).sum().backward() // inf, but the first anomaly is log's
        })
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Anomaly {
                    entry: 1,
                    op: "log",
                    phase: Phase::Forward,
                    count: 1
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn anomaly_mode_reports_a_forward_only_anomaly_through_check_anomaly() {
        use crate::{Phase, detect_anomaly};
        let x = Tensor::from_vec(vec![-1.0f64, 4.0], [2])
            .unwrap()
            .requires_grad();
        // No backward anywhere: the op returns IEEE's NaN, the tape keeps the entry.
        let y = detect_anomaly(|| {
            let r = x.sqrt(); // NaN at -1: entry 1
            &r * &r
        });
        assert!(y.to_vec()[0].is_nan());
        let forward = Error::Anomaly {
            entry: 1,
            op: "sqrt",
            phase: Phase::Forward,
            count: 1,
        };
        // Asked after detect_anomaly returned, and asked again: same answer.
        assert_eq!(y.check_anomaly(), Err(forward.clone()));
        assert_eq!(y.check_anomaly(), Err(forward.clone()));
        // A later backward, even outside anomaly mode, reports it before replaying.
        assert_eq!(y.sum().backward().unwrap_err(), forward);
        // Outside anomaly mode nothing is recorded as an anomaly (on a fresh
        // tape: while `y` lives, its tape is the thread's and would still
        // report entry 1).
        drop(y);
        let z = x.sqrt();
        assert!(z.to_vec()[0].is_nan());
        assert_eq!(z.check_anomaly(), Ok(()));
        // Unrecorded values have nothing to report.
        let c = Tensor::from_vec(vec![f64::NAN], [1]).unwrap();
        assert_eq!(detect_anomaly(|| c.exp()).check_anomaly(), Ok(()));
    }

    #[test]
    fn unused_leaf_has_no_gradient_and_the_tape_is_freed() {
        let x = Tensor::<f32>::ones([1]).requires_grad();
        let weak = {
            let y = x.exp().sum();
            let Node::Recorded(r, _) = &y.node else {
                panic!("not recorded")
            };
            let w = std::sync::Arc::downgrade(&r.upgrade().unwrap());
            y.backward().unwrap();
            w
        };
        assert!(
            weak.upgrade().is_none(),
            "the tape outlived every tensor recorded on it"
        );
    }
}
