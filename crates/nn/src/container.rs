//! Containers and shape layers: [`Sequential`], [`Residual`] and [`Flatten`].

use wengert_core::{Float, Tensor};

use crate::error::{Error, Result};
use crate::module::{
    Module, visit_child, visit_child_buffers, visit_child_buffers_mut, visit_child_mut,
};

/// Layers applied one after the other. Parameters are named `layers.{i}.{name}`
/// after the position `i` of the layer (parameter-free layers keep their
/// position, so names stay stable when an activation is added at the end).
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Linear, Module, Relu, Sequential};
/// let net = Sequential::new()
///     .add(Linear::<f64>::from_tensors(Tensor::from_vec(vec![1.0, -1.0], [2, 1]).unwrap(), None).unwrap())
///     .add(Relu);
/// assert_eq!(net.forward(&Tensor::from_vec(vec![3.0], [1, 1]).unwrap()).to_vec(), vec![3.0, 0.0]);
/// assert_eq!(net.len(), 2);
/// ```
pub struct Sequential<T: Float = f32> {
    /// Each layer with its name prefix `layers.{i}`, formatted once rather
    /// than on every visit.
    layers: Vec<(String, Box<dyn Module<T>>)>,
}

impl<T: Float> Default for Sequential<T> {
    fn default() -> Self {
        Sequential { layers: Vec::new() }
    }
}

impl<T: Float> Sequential<T> {
    /// Builds an empty container (the identity).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::{Module, Sequential};
    /// let x = wengert_core::Tensor::<f32>::ones([2]);
    /// assert_eq!(Sequential::new().forward(&x).to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a layer and returns the container (builder style).
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::{Sequential, Tanh};
    /// assert_eq!(Sequential::<f32>::new().add(Tanh).len(), 1);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Module<T> + 'static) -> Self {
        self.push(layer);
        self
    }

    /// Appends a layer.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_nn::{Sequential, Relu};
    /// let mut s = Sequential::<f32>::new();
    /// s.push(Relu);
    /// assert!(!s.is_empty());
    /// ```
    pub fn push(&mut self, layer: impl Module<T> + 'static) {
        let prefix = format!("layers.{}", self.layers.len());
        self.layers.push((prefix, Box::new(layer)));
    }

    /// Returns the number of layers.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(wengert_nn::Sequential::<f32>::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Returns true when there are no layers.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(wengert_nn::Sequential::<f64>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl<T: Float> Module<T> for Sequential<T> {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let mut y = x.clone();
        for (_, l) in &self.layers {
            y = l.try_forward(&y)?;
        }
        Ok(y)
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        for (prefix, l) in &self.layers {
            visit_child(prefix, l.as_ref(), f);
        }
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        for (prefix, l) in &mut self.layers {
            visit_child_mut(prefix, l.as_mut(), f);
        }
    }
    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        for (prefix, l) in &self.layers {
            visit_child_buffers(prefix, l.as_ref(), f);
        }
    }
    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        for (prefix, l) in &mut self.layers {
            visit_child_buffers_mut(prefix, l.as_mut(), f);
        }
    }
    fn set_training(&mut self, training: bool) {
        for (_, l) in &mut self.layers {
            l.set_training(training);
        }
    }
}

/// A residual block: `y = x + f(x)`, or `y = p(x) + f(x)` with a projection
/// `p` (usually a [`Linear`](crate::Linear) without activation) when `f`
/// changes the shape. Parameters are named `inner.*` and `projection.*`.
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Module, Relu, Residual};
/// let block = Residual::<f64>::new(Relu);
/// let x = Tensor::from_vec(vec![-1.0, 2.0], [2]).unwrap();
/// assert_eq!(block.forward(&x).to_vec(), vec![-1.0, 4.0]);
/// ```
pub struct Residual<T: Float = f32> {
    inner: Box<dyn Module<T>>,
    projection: Option<Box<dyn Module<T>>>,
}

impl<T: Float> Residual<T> {
    /// Builds `y = x + f(x)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = wengert_nn::Residual::<f32>::new(wengert_nn::Tanh);
    /// assert!(!r.has_projection());
    /// ```
    pub fn new(f: impl Module<T> + 'static) -> Self {
        Residual {
            inner: Box::new(f),
            projection: None,
        }
    }

    /// Builds `y = p(x) + f(x)`, for an `f` that changes the shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// use wengert_nn::{Linear, Module, Residual};
    /// let f = Linear::<f64>::from_tensors(Tensor::ones([3, 2]), None).unwrap();
    /// let p = Linear::from_tensors(Tensor::zeros([3, 2]), None).unwrap();
    /// let r = Residual::with_projection(f, p);
    /// assert_eq!(r.forward(&Tensor::ones([1, 2])).to_vec(), vec![2.0; 3]);
    /// ```
    pub fn with_projection(f: impl Module<T> + 'static, p: impl Module<T> + 'static) -> Self {
        Residual {
            inner: Box::new(f),
            projection: Some(Box::new(p)),
        }
    }

    /// Returns true when the skip path has a projection.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!wengert_nn::Residual::<f64>::new(wengert_nn::Relu).has_projection());
    /// ```
    pub fn has_projection(&self) -> bool {
        self.projection.is_some()
    }
}

impl<T: Float> Module<T> for Residual<T> {
    /// # Errors
    ///
    /// [`Error::InputShape`] when the skip path and `f(x)` differ in shape.
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let fx = self.inner.try_forward(x)?;
        let skip = match &self.projection {
            Some(p) => p.try_forward(x)?,
            None => x.clone(),
        };
        if skip.shape() != fx.shape() {
            return Err(Error::InputShape {
                layer: "residual",
                expected: format!("{} (the shape of f(x)) on the skip path", fx.shape()),
                actual: skip.shape().clone(),
            });
        }
        Ok(skip.try_add(&fx)?)
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        visit_child("inner", self.inner.as_ref(), f);
        if let Some(p) = &self.projection {
            visit_child("projection", p.as_ref(), f);
        }
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        visit_child_mut("inner", self.inner.as_mut(), f);
        if let Some(p) = &mut self.projection {
            visit_child_mut("projection", p.as_mut(), f);
        }
    }
    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        visit_child_buffers("inner", self.inner.as_ref(), f);
        if let Some(p) = &self.projection {
            visit_child_buffers("projection", p.as_ref(), f);
        }
    }
    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        visit_child_buffers_mut("inner", self.inner.as_mut(), f);
        if let Some(p) = &mut self.projection {
            visit_child_buffers_mut("projection", p.as_mut(), f);
        }
    }
    fn set_training(&mut self, training: bool) {
        self.inner.set_training(training);
        if let Some(p) = &mut self.projection {
            p.set_training(training);
        }
    }
}

/// Flattens every axis after the first: `[N, d1, d2, ...]` becomes
/// `[N, d1 · d2 · ...]` (a reshape: no copy, gradient reshaped back).
///
/// # Examples
///
/// ```
/// use wengert_core::Tensor;
/// use wengert_nn::{Flatten, Module};
/// assert_eq!(Flatten.forward(&Tensor::<f32>::zeros([2, 3, 4])).dims(), &[2, 12]);
/// let e = Flatten.try_forward(&Tensor::<f32>::zeros([5])).unwrap_err();
/// assert_eq!(e.to_string(), "flatten: expected input of shape [N, ...], got [5]");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Flatten;

impl<T: Float> Module<T> for Flatten {
    fn try_forward(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        if x.rank() < 2 {
            return Err(Error::InputShape {
                layer: "flatten",
                expected: "[N, ...]".to_string(),
                actual: x.shape().clone(),
            });
        }
        let n = x.dims()[0];
        let rest: usize = x.dims()[1..].iter().product();
        Ok(x.try_reshape([n, rest])?)
    }
    fn visit_parameters(&self, _f: &mut dyn FnMut(&str, &Tensor<T>)) {}
    fn visit_parameters_mut(&mut self, _f: &mut dyn FnMut(&str, &mut Tensor<T>)) {}
}
