//! The operators `+ - * /` and unary `-` on tensors and scalars: panicking forms
//! of [`Tensor::try_add`] and friends (broadcasting), and of the scalar ops.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::{Float, Tensor};

macro_rules! tensor_tensor {
    ($Trait:ident, $method:ident, $inherent:ident) => {
        impl<T: Float> $Trait<&Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                Tensor::$inherent(self, rhs)
            }
        }
        impl<T: Float> $Trait<Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                Tensor::$inherent(self, &rhs)
            }
        }
        impl<T: Float> $Trait<&Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                Tensor::$inherent(&self, rhs)
            }
        }
        impl<T: Float> $Trait<Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                Tensor::$inherent(&self, &rhs)
            }
        }
    };
}

tensor_tensor!(Add, add, add);
tensor_tensor!(Sub, sub, sub);
tensor_tensor!(Mul, mul, mul);
tensor_tensor!(Div, div, div);

macro_rules! tensor_scalar {
    ($Trait:ident, $method:ident, |$x:ident, $s:ident| $body:expr) => {
        impl<T: Float> $Trait<T> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, $s: T) -> Tensor<T> {
                let $x = self;
                $body
            }
        }
        impl<T: Float> $Trait<T> for Tensor<T> {
            type Output = Tensor<T>;
            fn $method(self, $s: T) -> Tensor<T> {
                let $x = &self;
                $body
            }
        }
    };
}

tensor_scalar!(Add, add, |x, s| x.add_scalar(s));
tensor_scalar!(Sub, sub, |x, s| x.add_scalar(-s));
tensor_scalar!(Mul, mul, |x, s| x.mul_scalar(s));
tensor_scalar!(Div, div, |x, s| x.div_scalar(s));

macro_rules! scalar_tensor {
    ($t:ty) => {
        impl Add<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn add(self, x: &Tensor<$t>) -> Tensor<$t> {
                x.add_scalar(self)
            }
        }
        impl Add<Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn add(self, x: Tensor<$t>) -> Tensor<$t> {
                x.add_scalar(self)
            }
        }
        impl Sub<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn sub(self, x: &Tensor<$t>) -> Tensor<$t> {
                x.neg().add_scalar(self)
            }
        }
        impl Sub<Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn sub(self, x: Tensor<$t>) -> Tensor<$t> {
                x.neg().add_scalar(self)
            }
        }
        impl Mul<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn mul(self, x: &Tensor<$t>) -> Tensor<$t> {
                x.mul_scalar(self)
            }
        }
        impl Mul<Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn mul(self, x: Tensor<$t>) -> Tensor<$t> {
                x.mul_scalar(self)
            }
        }
        impl Div<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn div(self, x: &Tensor<$t>) -> Tensor<$t> {
                x.rdiv_scalar(self)
            }
        }
        impl Div<Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn div(self, x: Tensor<$t>) -> Tensor<$t> {
                x.rdiv_scalar(self)
            }
        }
    };
}

scalar_tensor!(f32);
scalar_tensor!(f64);

impl<T: Float> Neg for &Tensor<T> {
    type Output = Tensor<T>;
    fn neg(self) -> Tensor<T> {
        Tensor::neg(self)
    }
}

impl<T: Float> Neg for Tensor<T> {
    type Output = Tensor<T>;
    fn neg(self) -> Tensor<T> {
        Tensor::neg(&self)
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn operators_cover_owned_borrowed_and_scalars() {
        let a = Tensor::from_vec(vec![1.0f32, 2.0], [2]).unwrap();
        let b = Tensor::from_vec(vec![4.0f32, 8.0], [2]).unwrap();
        assert_eq!((&a + &b).to_vec(), vec![5.0, 10.0]);
        assert_eq!((a.clone() - b.clone()).to_vec(), vec![-3.0, -6.0]);
        assert_eq!((&a * b.clone()).to_vec(), vec![4.0, 16.0]);
        assert_eq!((b.clone() / &a).to_vec(), vec![4.0, 4.0]);
        assert_eq!((&a + 1.0).to_vec(), vec![2.0, 3.0]);
        assert_eq!((&a - 1.0).to_vec(), vec![0.0, 1.0]);
        assert_eq!((1.0 - &a).to_vec(), vec![0.0, -1.0]);
        assert_eq!((8.0 / &b).to_vec(), vec![2.0, 1.0]);
        assert_eq!((-&a).to_vec(), vec![-1.0, -2.0]);
    }

    #[test]
    #[should_panic(expected = "add: shapes cannot be broadcast together (lhs [2], rhs [3])")]
    fn operator_panics_with_the_shapes() {
        let _ = Tensor::<f32>::zeros([2]) + Tensor::<f32>::zeros([3]);
    }
}
