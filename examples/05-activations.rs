//! # 5. Activation functions and their derivatives
//!
//! What it teaches: the "-lu family" of the lecture "Aula 21 - Treinando redes
//! neurais" (relu, leaky relu, elu, selu, gelu, prelu), next to the sigmoid they
//! replace, with their derivatives computed by autodiff rather than by hand.
//! Because each activation acts element by element, the gradient of
//! `Σᵢ f(xᵢ)` with respect to `x` is the vector of derivatives `f'(xᵢ)`: one
//! backward pass differentiates a whole grid of points. The example prints the
//! values and derivatives at a few points, checks the derivatives against the
//! closed forms, and plots both over `[-4, 4]`.
//!
//! What to read in the derivatives: the sigmoid's never exceeds 1/4 and tends to
//! 0 on both sides (a product of many such factors vanishes); the rectifiers'
//! derivative is 1 on the whole positive half-line ("pelo menos em metade do
//! domínio a derivada não se anula", as the lecture says), and leaky relu, elu,
//! selu and prelu also keep a non-zero derivative on the negative side (relu's
//! is exactly 0 there: a unit whose input stays negative stops learning).
//! At the kink x = 0, wengert follows PyTorch: relu'(0) = 0, leaky_relu'(0) =
//! slope, elu'(0) = alpha; `wengert::nn::prelu`, composed as
//! `relu(x) - a relu(-x)`, has derivative 0 at 0 where PyTorch's gives `a`.
//! PReLU is a leaky relu whose slope `a` is a parameter: autodiff gives
//! `∂y/∂a = min(x, 0)` too. GELU's derivative is negative below about -0.75:
//! it is not monotonic.
//!
//! Run it with `cargo run --release --example 05-activations` (flags:
//! `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError, Series};
use wengert::Tensor;

/// The slope of leaky relu used here (PyTorch's default).
pub const LEAKY_SLOPE: f64 = 0.01;
/// The alpha of elu used here (PyTorch's default).
pub const ELU_ALPHA: f64 = 1.0;
/// The initial slope of prelu (PyTorch's default).
pub const PRELU_SLOPE: f64 = 0.25;
/// The SELU constants (Klambauer et al., 2017).
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
/// The SELU constants (Klambauer et al., 2017).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;

/// One activation: its name, the function through wengert's ops, and its
/// derivative in closed form, to check the tape against.
pub struct Activation {
    /// The name printed and plotted.
    pub name: &'static str,
    /// `f` through wengert's ops.
    pub f: fn(&Tensor<f64>) -> Tensor<f64>,
    /// `f'` by hand.
    pub df: fn(f64) -> f64,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn prelu(x: &Tensor<f64>) -> Tensor<f64> {
    let a = Tensor::from_vec(vec![PRELU_SLOPE], [1]).expect("one slope");
    wengert::nn::prelu(x, &a).expect("a one-element slope fits any input")
}

/// The derivative of the tanh approximation of GELU,
/// `y = x (1 + tanh u) / 2`, `u = √(2/π) (x + 0.044715 x³)`.
fn gelu_prime(x: f64) -> f64 {
    let k = (2.0 / std::f64::consts::PI).sqrt();
    let t = (k * (x + 0.044_715 * x.powi(3))).tanh();
    (1.0 + t) / 2.0 + x * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044_715 * x * x) / 2.0
}

/// The activations of the example, sigmoid first for comparison.
pub fn activations() -> Vec<Activation> {
    vec![
        Activation {
            name: "sigmoid",
            f: |x| x.sigmoid(),
            df: |x| sigmoid(x) * (1.0 - sigmoid(x)),
        },
        Activation {
            name: "relu",
            f: |x| x.relu(),
            df: |x| if x > 0.0 { 1.0 } else { 0.0 },
        },
        Activation {
            name: "leaky_relu",
            f: |x| x.leaky_relu(LEAKY_SLOPE),
            df: |x| if x > 0.0 { 1.0 } else { LEAKY_SLOPE },
        },
        Activation {
            name: "elu",
            f: |x| x.elu(ELU_ALPHA),
            df: |x| if x > 0.0 { 1.0 } else { ELU_ALPHA * x.exp() },
        },
        Activation {
            name: "selu",
            f: |x| x.selu(),
            df: |x| SELU_SCALE * if x > 0.0 { 1.0 } else { SELU_ALPHA * x.exp() },
        },
        Activation {
            name: "gelu",
            f: |x| x.gelu(),
            df: gelu_prime,
        },
        Activation {
            name: "prelu",
            f: prelu,
            // relu(x) - a relu(-x): at 0 both relus have derivative 0.
            df: |x| {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    PRELU_SLOPE
                } else {
                    0.0
                }
            },
        },
    ]
}

/// The values and derivatives of one activation on a grid.
pub struct Curve {
    /// The activation's name.
    pub name: &'static str,
    /// `f(x)` at every grid point.
    pub values: Vec<f64>,
    /// `f'(x)` from one backward pass of `Σ f(x)`.
    pub derivatives: Vec<f64>,
    /// The largest |tape − closed form| over the grid.
    pub max_error: f64,
}

/// Evaluates `act` and its autodiff derivative at `xs`.
pub fn curve(act: &Activation, xs: &[f64]) -> Result<Curve, wengert::Error> {
    let x = Tensor::from_slice(xs, [xs.len()])?.requires_grad();
    let y = (act.f)(&x);
    let g = y.sum().backward()?;
    let derivatives = g.get(&x).expect("f depends on x").to_vec();
    let max_error = xs
        .iter()
        .zip(&derivatives)
        .map(|(&v, &d)| (d - (act.df)(v)).abs())
        .fold(0.0, f64::max);
    Ok(Curve {
        name: act.name,
        values: y.to_vec(),
        derivatives,
        max_error,
    })
}

/// What the example found.
pub struct Report {
    /// The grid points, `[-4, 4]`.
    pub grid: Vec<f64>,
    /// One curve per activation, in [`activations`] order.
    pub curves: Vec<Curve>,
    /// `∂/∂a Σ prelu(x; a)` at the grid, by autodiff.
    pub prelu_slope_grad: f64,
}

/// Points printed in the table (0 shows the kink conventions).
pub const POINTS: [f64; 7] = [-3.0, -1.0, -0.1, 0.0, 0.1, 1.0, 3.0];

/// Runs the example.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let n = if args.quick { 81 } else { 801 };
    // An odd count puts 0 (the kink) exactly on the grid.
    let grid = Tensor::<f64>::linspace(-4.0, 4.0, n)?.to_vec();
    let acts = activations();
    let curves = acts
        .iter()
        .map(|a| curve(a, &grid))
        .collect::<Result<Vec<_>, _>>()?;

    // PReLU's slope is a parameter: differentiate with respect to it as well.
    let x = Tensor::from_slice(&grid, [n])?;
    let a = Tensor::from_vec(vec![PRELU_SLOPE], [1])?.requires_grad();
    let g = wengert::nn::prelu(&x, &a)?.sum().backward()?;
    let prelu_slope_grad = g.get(&a).expect("prelu depends on its slope").item();

    if print {
        println!("values f(x)");
        print_table(&acts, |act| {
            let c = curve(act, &POINTS).expect("seven points");
            c.values
        });
        println!("\nderivatives f'(x) by autodiff (one backward pass of Σ f(x) per activation)");
        print_table(&acts, |act| {
            curve(act, &POINTS).expect("seven points").derivatives
        });
        println!("\nlargest |autodiff - closed form| over {n} points in [-4, 4]:");
        for c in &curves {
            println!("  {:<11} {:.1e}", c.name, c.max_error);
        }
        let by_hand: f64 = grid.iter().map(|&v| v.min(0.0)).sum();
        println!(
            "\nprelu: ∂/∂a Σ prelu(x; a) = {prelu_slope_grad:.6} by autodiff, Σ min(x, 0) = {by_hand:.6} by hand"
        );
        let series = |pick: fn(&Curve) -> &Vec<f64>| -> Vec<Series> {
            curves
                .iter()
                .map(|c| Series {
                    label: c.name.to_string(),
                    points: grid.iter().copied().zip(pick(c).iter().copied()).collect(),
                })
                .collect()
        };
        let p = common::plot_lines(
            &args.out,
            "05-activations.svg",
            "activations",
            ("x", "f(x)"),
            &series(|c| &c.values),
            false,
            common::Legend::UpperLeft,
        )?;
        println!("\nplot: {}", p.display());
        let p = common::plot_lines(
            &args.out,
            "05-derivatives.svg",
            "derivatives by autodiff",
            ("x", "f'(x)"),
            &series(|c| &c.derivatives),
            false,
            common::Legend::UpperLeft,
        )?;
        println!("plot: {}", p.display());
    }
    Ok(Report {
        grid,
        curves,
        prelu_slope_grad,
    })
}

fn print_table(acts: &[Activation], column: impl Fn(&Activation) -> Vec<f64>) {
    print!("{:>6}", "x");
    for a in acts {
        print!("{:>12}", a.name);
    }
    println!();
    let cols: Vec<Vec<f64>> = acts.iter().map(column).collect();
    for (i, x) in POINTS.iter().enumerate() {
        print!("{x:>6.1}");
        for c in &cols {
            print!("{:>12.6}", c[i]);
        }
        println!();
    }
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("5. activations and their derivatives");
    let report = run(&args, true)?;
    for c in &report.curves {
        assert!(
            c.max_error < 1e-12,
            "{}: autodiff and closed form disagree",
            c.name
        );
    }
    Ok(())
}
