//! Activation statistics: a [`Monitor`] hands out [`Probe`] layers that wrap
//! a module, pass its output through unchanged, and record summary
//! statistics of that output on every forward.
//!
//! A *unit* is one position of the output without its batch axis: a feature
//! of a `[N, F]` output, a channel-and-pixel of a `[N, C, H, W]` one. An
//! output of rank 0 or 1 counts as one example. Statistics accumulate over
//! every forward since the last [`Monitor::reset`]; when the number of units
//! changes, a probe's record starts over.
//!
//! - *zero fraction*: the fraction of outputs exactly `0`;
//! - *dead units*: units that were `0` for every example seen (a ReLU unit
//!   whose pre-activation is negative on the whole batch gets no gradient);
//! - *saturated fraction*: for [`ActivationKind::Sigmoid`] the fraction of
//!   outputs below 0.01 or above 0.99, for [`ActivationKind::Tanh`] the
//!   fraction with `|y| > 0.99` (where the derivative is below about 0.02).

use std::fmt;
use std::sync::{Arc, Mutex};

use wengert_core::{Float, Tensor};

use crate::error::Result;
use crate::module::Module;

/// What a probed output is, which decides what counts as saturated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivationKind {
    /// A ReLU (or any output whose zeros mean "off"): no saturation measure.
    Relu,
    /// A logistic sigmoid: saturated below 0.01 or above 0.99.
    Sigmoid,
    /// A hyperbolic tangent: saturated where `|y| > 0.99`.
    Tanh,
    /// Anything else: zeros and moments only.
    Other,
}

impl ActivationKind {
    fn saturated(self, y: f64) -> bool {
        match self {
            ActivationKind::Sigmoid => !(0.01..=0.99).contains(&y),
            ActivationKind::Tanh => y.abs() > 0.99,
            ActivationKind::Relu | ActivationKind::Other => false,
        }
    }

    fn has_saturation(self) -> bool {
        matches!(self, ActivationKind::Sigmoid | ActivationKind::Tanh)
    }
}

/// What one probe has seen since the last reset.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationStats {
    /// The probe's name.
    pub name: String,
    /// The kind it was built with.
    pub kind: ActivationKind,
    /// The number of units (output elements per example).
    pub units: usize,
    /// The number of examples seen.
    pub examples: usize,
    /// The number of forwards recorded.
    pub forwards: usize,
    /// The mean of every output seen.
    pub mean: f64,
    /// The population standard deviation of every output seen.
    pub std: f64,
    /// The fraction of outputs exactly zero.
    pub zero_fraction: f64,
    /// The number of units that were zero for every example seen.
    pub dead_units: usize,
    /// `dead_units / units`.
    pub dead_fraction: f64,
    /// The fraction of saturated outputs, for sigmoid and tanh; `None` for
    /// the other kinds.
    pub saturated_fraction: Option<f64>,
}

impl fmt::Display for ActivationStats {
    /// One line: name, kind, examples, mean ± std, zero and dead fractions,
    /// saturation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:?} over {} examples, mean {:.4} std {:.4}, zeros {:.1}%, dead {}/{} units",
            self.name,
            self.kind,
            self.examples,
            self.mean,
            self.std,
            100.0 * self.zero_fraction,
            self.dead_units,
            self.units
        )?;
        if let Some(s) = self.saturated_fraction {
            write!(f, ", saturated {:.1}%", 100.0 * s)?;
        }
        Ok(())
    }
}

/// The running sums behind one probe's [`ActivationStats`].
#[derive(Clone, Debug)]
struct Record {
    name: String,
    kind: ActivationKind,
    examples: usize,
    forwards: usize,
    sum: f64,
    sum_sq: f64,
    zeros: usize,
    saturated: usize,
    /// Per unit: was it zero for every example so far.
    all_zero: Vec<bool>,
}

impl Record {
    fn new(name: String, kind: ActivationKind) -> Self {
        Record {
            name,
            kind,
            examples: 0,
            forwards: 0,
            sum: 0.0,
            sum_sq: 0.0,
            zeros: 0,
            saturated: 0,
            all_zero: Vec::new(),
        }
    }

    fn clear(&mut self) {
        *self = Record::new(std::mem::take(&mut self.name), self.kind);
    }

    fn observe<T: Float>(&mut self, y: &Tensor<T>) {
        let (examples, units) = match y.dims() {
            [] => (1, 1),
            [n] => (1, *n),
            [n, ..] => (*n, y.numel() / (*n).max(1)),
        };
        if units != self.all_zero.len() || self.examples == 0 {
            self.clear();
            self.all_zero = vec![true; units];
        }
        self.forwards += 1;
        self.examples += examples;
        for (i, v) in y.as_slice().iter().enumerate() {
            let v = v.to_f64();
            self.sum += v;
            self.sum_sq += v * v;
            if v == 0.0 {
                self.zeros += 1;
            } else {
                self.all_zero[i % units] = false;
            }
            if self.kind.saturated(v) {
                self.saturated += 1;
            }
        }
    }

    fn stats(&self) -> ActivationStats {
        let units = self.all_zero.len();
        let count = (self.examples * units) as f64;
        let frac = |k: usize| if count > 0.0 { k as f64 / count } else { 0.0 };
        let mean = if count > 0.0 { self.sum / count } else { 0.0 };
        let var = if count > 0.0 {
            (self.sum_sq / count - mean * mean).max(0.0)
        } else {
            0.0
        };
        let dead_units = if self.examples > 0 {
            self.all_zero.iter().filter(|&&z| z).count()
        } else {
            0
        };
        ActivationStats {
            name: self.name.clone(),
            kind: self.kind,
            units,
            examples: self.examples,
            forwards: self.forwards,
            mean,
            std: var.sqrt(),
            zero_fraction: frac(self.zeros),
            dead_units,
            dead_fraction: if units > 0 {
                dead_units as f64 / units as f64
            } else {
                0.0
            },
            saturated_fraction: self.kind.has_saturation().then(|| frac(self.saturated)),
        }
    }
}

/// A shared register of activation statistics. Cloning a monitor shares the
/// register: probes keep recording into it after they are moved into a
/// network.
///
/// # Examples
///
/// A ReLU after a layer whose bias is very negative: every unit is dead.
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::diagnostics::{ActivationKind, Monitor};
/// use wengert_nn::{Linear, Module, Relu, Sequential};
/// let monitor = Monitor::new();
/// let layer = Linear::<f64>::from_tensors(Tensor::ones([3, 2]), Some(Tensor::full([3], -100.0)))?;
/// let net = Sequential::new()
///     .add(layer)
///     .add(monitor.probe("relu1", ActivationKind::Relu, Relu));
/// net.forward(&Tensor::ones([4, 2]));
/// let s = &monitor.stats()[0];
/// assert_eq!((s.name.as_str(), s.units, s.examples), ("relu1", 3, 4));
/// assert_eq!((s.dead_units, s.dead_fraction, s.zero_fraction), (3, 1.0, 1.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Monitor {
    records: Arc<Mutex<Vec<Record>>>,
}

impl Monitor {
    /// Creates an empty monitor.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::diagnostics::Monitor::new().stats().is_empty());
    /// ```
    pub fn new() -> Self {
        Monitor::default()
    }

    /// Wraps `inner` in a probe called `name` that records `inner`'s output
    /// into this monitor. The probe's parameters, buffers and training mode
    /// are `inner`'s, under the same names: wrapping changes neither the
    /// model's maths nor its parameter names.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::diagnostics::{ActivationKind, Monitor};
    /// use wengert_nn::{Linear, Module};
    /// let monitor = Monitor::new();
    /// let inner = Linear::<f32>::from_tensors(Tensor::ones([1, 2]), None).unwrap();
    /// let probe = monitor.probe("fc", ActivationKind::Other, inner);
    /// assert_eq!(probe.named_parameters()[0].0, "weight");
    /// assert_eq!(probe.forward(&Tensor::ones([1, 2])).to_vec(), vec![2.0]);
    /// assert_eq!(monitor.stats()[0].mean, 2.0);
    /// ```
    pub fn probe<T: Float, M: Module<T> + 'static>(
        &self,
        name: &str,
        kind: ActivationKind,
        inner: M,
    ) -> Probe<T> {
        let mut records = self.records.lock().expect("BUG: monitor poisoned");
        records.push(Record::new(name.to_string(), kind));
        Probe {
            inner: Box::new(inner),
            monitor: self.clone(),
            index: records.len() - 1,
        }
    }

    /// Returns the statistics of every probe, in the order they were made.
    /// A probe that has seen nothing reports zero examples and zero units.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::diagnostics::{ActivationKind, Monitor};
    /// use wengert_nn::{Module, Sigmoid};
    /// let monitor = Monitor::new();
    /// let p = monitor.probe("s", ActivationKind::Sigmoid, Sigmoid);
    /// p.forward(&Tensor::<f64>::from_vec(vec![-10.0, 0.0, 10.0, 0.5], [2, 2]).unwrap());
    /// assert_eq!(monitor.stats()[0].saturated_fraction, Some(0.5));
    /// ```
    pub fn stats(&self) -> Vec<ActivationStats> {
        let records = self.records.lock().expect("BUG: monitor poisoned");
        records.iter().map(Record::stats).collect()
    }

    /// Returns the statistics of the probe called `name` (the first one, if
    /// several share it).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::diagnostics::{ActivationKind, Monitor};
    /// let monitor = Monitor::new();
    /// let _p = monitor.probe::<f32, _>("a", ActivationKind::Tanh, wengert_nn::Tanh);
    /// assert_eq!(monitor.get("a").unwrap().examples, 0);
    /// assert!(monitor.get("b").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<ActivationStats> {
        let records = self.records.lock().expect("BUG: monitor poisoned");
        records.iter().find(|r| r.name == name).map(Record::stats)
    }

    /// Forgets everything recorded; the probes stay registered.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::diagnostics::{ActivationKind, Monitor};
    /// use wengert_nn::{Module, Relu};
    /// let monitor = Monitor::new();
    /// let p = monitor.probe("r", ActivationKind::Relu, Relu);
    /// p.forward(&Tensor::<f32>::ones([3, 2]));
    /// monitor.reset();
    /// assert_eq!(monitor.stats()[0].forwards, 0);
    /// ```
    pub fn reset(&self) {
        let mut records = self.records.lock().expect("BUG: monitor poisoned");
        records.iter_mut().for_each(Record::clear);
    }
}

/// A layer that runs `inner` and records statistics of its output into a
/// [`Monitor`]; made by [`Monitor::probe`]. The output is `inner`'s, tracked
/// as it is: gradients are unchanged.
pub struct Probe<T: Float = f32> {
    inner: Box<dyn Module<T>>,
    monitor: Monitor,
    index: usize,
}

impl<T: Float> fmt::Debug for Probe<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probe")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl<T: Float> Module<T> for Probe<T> {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let y = self.inner.try_forward(x)?;
        let mut records = self.monitor.records.lock().expect("BUG: monitor poisoned");
        records[self.index].observe(&y);
        Ok(y)
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        self.inner.visit_parameters(f);
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        self.inner.visit_parameters_mut(f);
    }
    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        self.inner.visit_buffers(f);
    }
    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        self.inner.visit_buffers_mut(f);
    }
    fn set_training(&mut self, training: bool) {
        self.inner.set_training(training);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Linear, Relu, Sigmoid, Tanh};

    #[test]
    fn probe_leaves_output_and_gradient_unchanged() {
        let monitor = Monitor::new();
        let leaf = || {
            Tensor::<f64>::from_vec(vec![-1.0, 2.0, 0.5, -3.0], [2, 2])
                .unwrap()
                .requires_grad()
        };
        let (x1, x2) = (leaf(), leaf());
        // One backward per recording: the second forward starts a new tape.
        let plain = Tanh.forward(&x1);
        let g1 = plain.sum().backward().unwrap();
        let probed = monitor.probe("t", ActivationKind::Tanh, Tanh).forward(&x2);
        let g2 = probed.sum().backward().unwrap();
        assert_eq!(plain.to_vec(), probed.to_vec());
        assert_eq!(g1.get(&x1).unwrap().to_vec(), g2.get(&x2).unwrap().to_vec());
        assert_eq!(monitor.stats()[0].examples, 2);
    }

    #[test]
    fn moments_and_zeros_match_hand_computation() {
        let monitor = Monitor::new();
        let p = monitor.probe("r", ActivationKind::Relu, Relu);
        // ReLU output [[0, 2, 0], [0, 4, 6]]: unit 0 is dead, unit 2 is not.
        let x = Tensor::<f64>::from_vec(vec![-1.0, 2.0, -5.0, -3.0, 4.0, 6.0], [2, 3]).unwrap();
        p.forward(&x);
        let s = monitor.get("r").unwrap();
        assert_eq!((s.units, s.examples, s.forwards), (3, 2, 1));
        assert_eq!(s.mean, 2.0); // 12 / 6
        // E[y²] = (4 + 16 + 36) / 6 = 56/6; var = 56/6 - 4 = 16/3.
        assert!((s.std - (16.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.zero_fraction, 0.5);
        assert_eq!(s.dead_units, 1);
        assert!((s.dead_fraction - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(s.saturated_fraction, None);
        // A later batch where unit 0 fires revives it; counts accumulate.
        p.forward(&Tensor::from_vec(vec![1.0, -1.0, -1.0], [1, 3]).unwrap());
        let s = monitor.get("r").unwrap();
        assert_eq!((s.examples, s.forwards, s.dead_units), (3, 2, 0));
        assert_eq!(s.zero_fraction, 5.0 / 9.0);
    }

    #[test]
    fn sigmoid_fed_large_inputs_is_saturated() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let monitor = Monitor::new();
        let layer =
            Linear::<f64>::from_tensors(Tensor::randn([16, 8], 0.0, 1.0, &mut rng).unwrap(), None)
                .unwrap();
        let net = crate::Sequential::new().add(layer).add(monitor.probe(
            "sig",
            ActivationKind::Sigmoid,
            Sigmoid,
        ));
        let small = Tensor::randn([32, 8], 0.0, 0.01, &mut rng).unwrap();
        net.forward(&small);
        assert_eq!(monitor.get("sig").unwrap().saturated_fraction, Some(0.0));
        monitor.reset();
        let large = Tensor::randn([32, 8], 0.0, 100.0, &mut rng).unwrap();
        net.forward(&large);
        let s = monitor.get("sig").unwrap();
        assert!(s.saturated_fraction.unwrap() > 0.95, "{s}");
    }

    #[test]
    fn tanh_saturation_counts_the_tails() {
        let monitor = Monitor::new();
        let p = monitor.probe("t", ActivationKind::Tanh, Tanh);
        // tanh(3) ≈ 0.995 and tanh(-3) are saturated; tanh(2) ≈ 0.964 is not.
        p.forward(&Tensor::<f32>::from_vec(vec![3.0, -3.0, 2.0, 0.0], [4, 1]).unwrap());
        assert_eq!(monitor.stats()[0].saturated_fraction, Some(0.5));
    }

    #[test]
    fn a_new_unit_count_starts_the_record_over() {
        let monitor = Monitor::new();
        let p = monitor.probe("r", ActivationKind::Relu, Relu);
        p.forward(&Tensor::<f32>::zeros([2, 3]));
        p.forward(&Tensor::<f32>::ones([5, 4]));
        let s = &monitor.stats()[0];
        assert_eq!(
            (s.units, s.examples, s.forwards, s.dead_units),
            (4, 5, 1, 0)
        );
    }

    #[test]
    fn a_monitor_is_read_from_another_thread() {
        let monitor = Monitor::new();
        let p = monitor.probe("r", ActivationKind::Relu, Relu);
        p.forward(&Tensor::<f32>::ones([2, 3]));
        let reader = monitor.clone();
        let examples = std::thread::spawn(move || reader.stats()[0].examples)
            .join()
            .unwrap();
        assert_eq!(examples, 2);
    }
}
