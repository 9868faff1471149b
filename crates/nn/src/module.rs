//! The [`Module`] trait: forward passes, named parameters, buffers, train and
//! eval mode, and freezing.
//!
//! ## Parameters and their names
//!
//! A parameter is a [`Tensor`] stored in a layer. A *trainable* parameter is a
//! leaf that requires a gradient ([`Tensor::is_leaf`]); a *frozen* one is a plain
//! constant, so nothing that depends only on frozen tensors is recorded and
//! [`backward`](Tensor::backward) returns no gradient for it. An optimizer visits
//! the parameters with [`Module::visit_parameters_mut`], skips the frozen ones
//! (no [`Tensor::leaf_id`]), and replaces each trainable one by its update with
//! [`Tensor::with_data`], which keeps the leaf identity that gradients are keyed
//! by.
//!
//! Names are dotted paths, stable across runs and independent of the values:
//! a layer names its own tensors (`weight`, `bias`), and a container prefixes
//! its children's names with the field that holds them, so the weight of the
//! first layer of a [`Sequential`](crate::Sequential) is `layers.0.weight`.
//! Every visit goes in the same order, which
//! [`Module::set_parameters`] relies on.
//!
//! ## Buffers
//!
//! Buffers are state that is saved with a model but not trained: the running
//! mean and variance of batch normalisation. They are never tracked.
//!
//! ## Freezing
//!
//! [`Module::freeze`] and [`Module::unfreeze`] act on every parameter of a
//! module (and its children); [`Module::set_parameter_frozen`] on one, by name.
//! Unfreezing makes a *new* leaf: gradients and optimizer state keyed by the old
//! leaf identity no longer apply to it.

use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};

/// A differentiable layer or network: a function of one tensor with named
/// parameters, built from core ops (it carries no backward code of its own).
///
/// Implementors provide [`try_forward`](Module::try_forward) and
/// [`visit_parameters`](Module::visit_parameters) /
/// [`visit_parameters_mut`](Module::visit_parameters_mut); layers with buffers or
/// a training mode also override the buffer visitors and
/// [`set_training`](Module::set_training). Everything else is provided.
///
/// # Examples
///
/// ```
/// use rand::SeedableRng;
/// use wengert_core::Tensor;
/// use wengert_nn::{Linear, Module, Relu, Sequential};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let mut net = Sequential::new()
///     .add(Linear::<f32>::new(3, 4, true, &mut rng).unwrap())
///     .add(Relu)
///     .add(Linear::new(4, 2, true, &mut rng).unwrap());
/// let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]);
/// assert_eq!(net.num_parameters(), 3 * 4 + 4 + 4 * 2 + 2);
/// net.set_parameter_frozen("layers.0.weight", true).unwrap();
/// assert_eq!(net.num_trainable_parameters(), 4 + 4 * 2 + 2);
/// assert_eq!(net.forward(&Tensor::zeros([5, 3])).dims(), &[5, 2]);
/// ```
pub trait Module<T: Float = f32> {
    /// Runs the layer on `x`.
    ///
    /// # Errors
    ///
    /// [`Error::InputShape`] naming the layer, the expected and the actual shape
    /// when `x` does not fit; other variants as the layer documents.
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>>;

    /// Panicking twin of [`Module::try_forward`].
    ///
    /// # Panics
    ///
    /// With the message of the error `try_forward` would return.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Module, Tanh};
    /// let y = Tanh.forward(&Tensor::<f64>::zeros([2]));
    /// assert_eq!(y.to_vec(), vec![0.0, 0.0]);
    /// ```
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        match self.try_forward(x) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Calls `f` with the name and value of every parameter, frozen or not, in
    /// a fixed order.
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>));

    /// Calls `f` with the name of every parameter and a mutable reference to it,
    /// in the same order as [`Module::visit_parameters`]: how optimizers and
    /// checkpoint loaders replace parameters.
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>));

    /// Calls `f` with the name and value of every buffer (untrained state such as
    /// running statistics). The default visits nothing.
    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        let _ = f;
    }

    /// Calls `f` with the name of every buffer and a mutable reference to it, in
    /// the same order as [`Module::visit_buffers`]. The default visits nothing.
    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        let _ = f;
    }

    /// Switches training mode on or off for this module and its children. Only
    /// layers that behave differently (dropout, batch normalisation) care; the
    /// default does nothing. Modules start in training mode.
    fn set_training(&mut self, training: bool) {
        let _ = training;
    }

    /// Switches to training mode: `set_training(true)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Dropout, Module};
    /// let mut d = Dropout::<f32>::new(0.5, 0).unwrap();
    /// d.eval();
    /// assert_eq!(d.forward(&Tensor::ones([4])).to_vec(), vec![1.0; 4]);
    /// d.train();
    /// assert!(d.is_training());
    /// ```
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Switches to evaluation mode: `set_training(false)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::{Dropout, Module};
    /// let mut d = Dropout::<f32>::new(0.5, 0).unwrap();
    /// d.eval();
    /// assert!(!d.is_training());
    /// ```
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Returns the name and a (cheap, storage-sharing) clone of every parameter.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Linear, Module};
    /// let l = Linear::<f32>::from_tensors(Tensor::zeros([2, 3]), Some(Tensor::zeros([2]))).unwrap();
    /// let p = l.named_parameters();
    /// assert_eq!((p[0].0.as_str(), p[0].1.dims()), ("weight", &[2usize, 3][..]));
    /// ```
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let mut out = Vec::new();
        self.visit_parameters(&mut |n, t| out.push((n.to_string(), t.clone())));
        out
    }

    /// Returns the name and value of every buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::{BatchNorm1d, Module};
    /// let bn = BatchNorm1d::<f32>::new(3).unwrap();
    /// let names: Vec<String> = bn.named_buffers().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["running_mean", "running_var"]);
    /// ```
    fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
        let mut out = Vec::new();
        self.visit_buffers(&mut |n, t| out.push((n.to_string(), t.clone())));
        out
    }

    /// Returns the total number of parameter elements, frozen ones included.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Linear, Module};
    /// let l = Linear::<f32>::from_tensors(Tensor::zeros([2, 3]), Some(Tensor::zeros([2]))).unwrap();
    /// assert_eq!(l.num_parameters(), 8);
    /// ```
    fn num_parameters(&self) -> usize {
        let mut n = 0;
        self.visit_parameters(&mut |_, t| n += t.numel());
        n
    }

    /// Returns the number of trainable (not frozen) parameter elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Linear, Module};
    /// let mut l = Linear::<f32>::from_tensors(Tensor::zeros([2, 3]), Some(Tensor::zeros([2]))).unwrap();
    /// l.freeze();
    /// assert_eq!(l.num_trainable_parameters(), 0);
    /// ```
    fn num_trainable_parameters(&self) -> usize {
        let mut n = 0;
        self.visit_parameters(&mut |_, t| {
            if t.is_leaf() {
                n += t.numel();
            }
        });
        n
    }

    /// Freezes every parameter: none gets a gradient or an update any more.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Linear, Module};
    /// let mut l = Linear::<f64>::from_tensors(Tensor::ones([1, 2]), None).unwrap();
    /// l.freeze();
    /// let x = Tensor::ones([1, 2]).requires_grad();
    /// let g = l.forward(&x).sum().backward().unwrap();
    /// assert!(g.get(&l.weight).is_none());
    /// assert_eq!(g.get(&x).unwrap().to_vec(), vec![1.0, 1.0]);
    /// ```
    fn freeze(&mut self) {
        self.visit_parameters_mut(&mut |_, t| t.set_requires_grad(false));
    }

    /// Makes every frozen parameter trainable again, as a new leaf; parameters
    /// that are already trainable keep their identity.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Linear, Module};
    /// let mut l = Linear::<f32>::from_tensors(Tensor::ones([1, 2]), None).unwrap();
    /// l.freeze();
    /// l.unfreeze();
    /// assert_eq!(l.num_trainable_parameters(), 2);
    /// ```
    fn unfreeze(&mut self) {
        self.visit_parameters_mut(&mut |_, t| {
            if !t.is_leaf() {
                t.set_requires_grad(true);
            }
        });
    }

    /// Freezes (`true`) or unfreezes (`false`) the parameter called `name`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownParameter`] when no parameter has this name.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Linear, Module};
    /// let w = Tensor::ones([1, 2]).requires_grad();
    /// let mut l = Linear::<f32>::from_tensors(w, Some(Tensor::ones([1]).requires_grad())).unwrap();
    /// l.set_parameter_frozen("bias", true).unwrap();
    /// assert_eq!(l.num_trainable_parameters(), 2);
    /// assert!(l.set_parameter_frozen("gamma", true).is_err());
    /// ```
    fn set_parameter_frozen(&mut self, name: &str, frozen: bool) -> Result<()> {
        let mut found = false;
        self.visit_parameters_mut(&mut |n, t| {
            if n == name {
                found = true;
                if frozen {
                    t.set_requires_grad(false);
                } else if !t.is_leaf() {
                    t.set_requires_grad(true);
                }
            }
        });
        if found {
            Ok(())
        } else {
            Err(Error::UnknownParameter {
                name: name.to_string(),
            })
        }
    }

    /// Replaces every parameter, in visiting order, by the given tensors, which
    /// are stored as they are (their tracking included): for loading weights,
    /// and for gradient-checking a layer over its parameters.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the number of tensors differs from the
    /// number of parameters, or a shape differs from the parameter's; nothing is
    /// replaced then.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Linear, Module};
    /// let mut l = Linear::<f32>::from_tensors(Tensor::zeros([1, 2]), None).unwrap();
    /// l.set_parameters(&[Tensor::ones([1, 2])]).unwrap();
    /// assert_eq!(l.weight.to_vec(), vec![1.0, 1.0]);
    /// assert!(l.set_parameters(&[Tensor::ones([2, 1])]).is_err());
    /// ```
    fn set_parameters(&mut self, values: &[Tensor<T>]) -> Result<()> {
        let mut problem = None;
        let mut k = 0;
        self.visit_parameters(&mut |n, t| {
            if problem.is_none() {
                match values.get(k) {
                    Some(v) if v.shape() == t.shape() => {}
                    Some(v) => {
                        problem = Some(format!(
                            "parameter {n} has shape {} but the value given has shape {}",
                            t.shape(),
                            v.shape()
                        ))
                    }
                    None => problem = Some(format!("no value given for parameter {n}")),
                }
            }
            k += 1;
        });
        if problem.is_none() && k != values.len() {
            problem = Some(format!("{} values given for {k} parameters", values.len()));
        }
        if let Some(what) = problem {
            return Err(Error::InvalidConfig {
                layer: "set_parameters",
                what,
            });
        }
        let mut k = 0;
        self.visit_parameters_mut(&mut |_, t| {
            *t = values[k].clone();
            k += 1;
        });
        Ok(())
    }
}

/// Calls `f` with `prefix.name`, built on the stack when it is short: the
/// optimizers visit every parameter by name on every step, and a heap
/// allocation per name and visit was a measurable part of a small network's
/// step.
pub(crate) fn joined<R>(prefix: &str, name: &str, f: impl FnOnce(&str) -> R) -> R {
    const CAP: usize = 128;
    let len = prefix.len() + 1 + name.len();
    if len > CAP {
        return f(&format!("{prefix}.{name}"));
    }
    let mut buf = [0u8; CAP];
    buf[..prefix.len()].copy_from_slice(prefix.as_bytes());
    buf[prefix.len()] = b'.';
    buf[prefix.len() + 1..len].copy_from_slice(name.as_bytes());
    // Two `str`s joined by an ASCII byte are UTF-8.
    f(std::str::from_utf8(&buf[..len]).expect("BUG: joined names are UTF-8"))
}

/// Calls `f` with `prefix.name` for every parameter of `child`: how containers
/// name their children's parameters.
pub(crate) fn visit_child<T: Float>(
    prefix: &str,
    child: &dyn Module<T>,
    f: &mut dyn FnMut(&str, &Tensor<T>),
) {
    child.visit_parameters(&mut |n, t| joined(prefix, n, |full| f(full, t)));
}

/// Mutable twin of [`visit_child`].
pub(crate) fn visit_child_mut<T: Float>(
    prefix: &str,
    child: &mut dyn Module<T>,
    f: &mut dyn FnMut(&str, &mut Tensor<T>),
) {
    child.visit_parameters_mut(&mut |n, t| joined(prefix, n, |full| f(full, t)));
}

/// Buffer twin of [`visit_child`].
pub(crate) fn visit_child_buffers<T: Float>(
    prefix: &str,
    child: &dyn Module<T>,
    f: &mut dyn FnMut(&str, &Tensor<T>),
) {
    child.visit_buffers(&mut |n, t| joined(prefix, n, |full| f(full, t)));
}

/// Mutable buffer twin of [`visit_child`].
pub(crate) fn visit_child_buffers_mut<T: Float>(
    prefix: &str,
    child: &mut dyn Module<T>,
    f: &mut dyn FnMut(&str, &mut Tensor<T>),
) {
    child.visit_buffers_mut(&mut |n, t| joined(prefix, n, |full| f(full, t)));
}

/// Builds the `[*, d1, d2]` pattern used in shape errors.
pub(crate) fn pattern(dims: &[usize]) -> String {
    let mut s = String::from("[*");
    for d in dims {
        s.push_str(&format!(", {d}"));
    }
    s.push(']');
    s
}

/// Checks that the trailing dimensions of `x` are `dims` (any leading ones).
pub(crate) fn check_trailing<T: Float>(
    layer: &'static str,
    x: &Tensor<T>,
    dims: &[usize],
) -> Result<()> {
    let d = x.dims();
    if d.len() < dims.len() || d[d.len() - dims.len()..] != *dims {
        return Err(Error::InputShape {
            layer,
            expected: pattern(dims),
            actual: x.shape().clone(),
        });
    }
    Ok(())
}

/// Checks that `x` is `[N, channels, s...]` with each spatial length at least
/// `min[i]`; the error shows the pattern, such as `[N, 3, H ≥ 5, W ≥ 5]`.
pub(crate) fn check_spatial<T: Float>(
    layer: &'static str,
    x: &Tensor<T>,
    channels: Option<usize>,
    min: &[usize],
) -> Result<()> {
    let names: &[&str] = if min.len() == 1 { &["L"] } else { &["H", "W"] };
    let d = x.dims();
    let fits = d.len() == 2 + min.len()
        && channels.is_none_or(|c| d[1] == c)
        && d[2..].iter().zip(min).all(|(s, m)| s >= m);
    if fits {
        return Ok(());
    }
    let mut expected = String::from("[N, ");
    match channels {
        Some(c) => expected.push_str(&c.to_string()),
        None => expected.push('C'),
    }
    for (name, &m) in names.iter().zip(min) {
        if m > 1 {
            expected.push_str(&format!(", {name} ≥ {m}"));
        } else {
            expected.push_str(&format!(", {name}"));
        }
    }
    expected.push(']');
    Err(Error::InputShape {
        layer,
        expected,
        actual: x.shape().clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_names_equal_the_formatted_ones_short_and_long() {
        for (prefix, name) in [
            ("layers.0", "weight"),
            ("", ""),
            ("é", "ß"),
            (&*"p".repeat(126), "x"),
            (&*"p".repeat(127), "x"),
            (&*"p".repeat(300), "weight"),
        ] {
            assert_eq!(
                joined(prefix, name, str::to_string),
                format!("{prefix}.{name}")
            );
        }
    }
}
