//! The random-graph property: random programs of up to 8 ops over up to 3
//! leaves, each operand drawn from all earlier values (so values fan out and
//! shapes broadcast), gradient-checked against central finite differences with a
//! random cotangent. 1,000 graphs per default run.
//!
//! Leaf shapes come from one broadcast family (`[2, 3]`, `[1, 3]`, `[3]`,
//! `[2, 1]`, `[1, 1]`, `[]`), so any two values broadcast together; ops keep
//! values bounded and away from kinks, so finite differences are trustworthy.

use proptest::prelude::*;
use rand::SeedableRng;
use wengert::{BackwardOptions, Shape, Tensor, gradcheck, gradgradcheck};

const FAMILY: [&[usize]; 6] = [&[2, 3], &[1, 3], &[3], &[2, 1], &[1, 1], &[]];

/// One instruction; operands and axes are raw numbers reduced modulo what
/// exists when the instruction runs.
#[derive(Clone, Debug)]
struct Instr {
    op: u8,
    a: usize,
    b: usize,
    axis: usize,
}

const OPS: u8 = 14;

fn apply(i: &Instr, vals: &[Tensor<f64>]) -> Tensor<f64> {
    let a = &vals[i.a % vals.len()];
    let b = &vals[i.b % vals.len()];
    let axis = |t: &Tensor<f64>| (i.axis % t.rank().max(1)) as isize;
    match i.op % OPS {
        0 => a + b,
        1 => a - b,
        2 => a * b,
        // a / (1 + b²): a division whose denominator stays away from 0.
        3 => a / &b.square().add_scalar(1.0),
        4 => a.tanh(),
        5 => a.sin(),
        6 => a.sigmoid(),
        7 => a.mul_scalar(-0.5).add_scalar(0.25),
        8 if a.rank() > 0 => a.sum_axes(&[axis(a)], true),
        9 if a.rank() > 0 => a.mean_axes(&[axis(a)], true),
        10 if a.rank() > 0 => a.logsumexp_axes(&[axis(a)], true),
        11 if a.rank() > 0 => a.softmax(axis(a)),
        12 => a.maximum(&b.mul_scalar(0.5)),
        13 => a.exp().tanh(),
        _ => a.cos(),
    }
}

fn run(prog: &[Instr], leaves: &[Tensor<f64>]) -> Tensor<f64> {
    let mut vals: Vec<Tensor<f64>> = leaves.to_vec();
    for i in prog {
        let v = apply(i, &vals);
        vals.push(v);
    }
    vals.pop().expect("at least one value")
}

/// Leaves of the given family shapes, uniform in [-1, 1).
fn leaves(shapes: &[usize], rng: &mut rand::rngs::StdRng) -> Vec<Tensor<f64>> {
    shapes
        .iter()
        .map(|&s| Tensor::rand_uniform(Shape::from(FAMILY[s]), -1.0, 1.0, rng).unwrap())
        .collect()
}

fn program() -> impl Strategy<Value = (Vec<usize>, Vec<Instr>, u64)> {
    (
        proptest::collection::vec(0usize..FAMILY.len(), 1..=3),
        proptest::collection::vec(
            (0u8..OPS, 0usize..64, 0usize..64, 0usize..4).prop_map(|(op, a, b, axis)| Instr {
                op,
                a,
                b,
                axis,
            }),
            1..=8,
        ),
        any::<u64>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_graphs_match_finite_differences((shapes, prog, seed) in program()) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let leaves = leaves(&shapes, &mut rng);
        if let Err(e) = gradcheck(|xs| run(&prog, xs), &leaves) {
            return Err(TestCaseError::fail(format!("{e}\nprogram: {prog:?}\nleaves: {leaves:?}")));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The same generator, second derivatives: the backward pass of each random
    /// program, recorded, against finite differences of its gradient.
    #[test]
    fn random_graphs_second_derivatives_match((shapes, prog, seed) in program()) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let leaves = leaves(&shapes, &mut rng);
        if let Err(e) = gradgradcheck(|xs| run(&prog, xs), &leaves) {
            return Err(TestCaseError::fail(format!("{e}\nprogram: {prog:?}\nleaves: {leaves:?}")));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The same generator, three replays of one program: keeping the tape
    /// (`retain_graph`, which reads the entries in place), consuming it
    /// afterwards (which borrows the entry list), and recording the backward
    /// pass (`create_graph`, on a fresh tape). All three sum each value's
    /// contributions in the same order with the same arithmetic, so they
    /// agree bit for bit.
    #[test]
    fn random_graphs_give_the_same_gradients_in_every_replay((shapes, prog, seed) in program()) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let leaves: Vec<Tensor<f64>> =
            leaves(&shapes, &mut rng).into_iter().map(Tensor::requires_grad).collect();
        let y = run(&prog, &leaves);
        let cotangent = Tensor::rand_uniform(y.shape().clone(), -1.0, 1.0, &mut rng).unwrap();
        let loss = |y: &Tensor<f64>| (y * &cotangent).sum();
        let retain = BackwardOptions { retain_graph: true, ..Default::default() };
        let record = BackwardOptions { create_graph: true, ..Default::default() };

        let l = loss(&y);
        let kept = l.backward_with(None, retain).unwrap();
        let consumed = l.backward().unwrap();
        let recorded = loss(&run(&prog, &leaves)).backward_with(None, record).unwrap();
        for (k, x) in leaves.iter().enumerate() {
            let bits = |g: &wengert::Gradients<f64>| {
                g.get(x).map(|t| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            };
            prop_assert_eq!(bits(&kept), bits(&consumed), "leaf {}, program {:?}", k, prog);
            prop_assert_eq!(bits(&kept), bits(&recorded), "leaf {}, program {:?}", k, prog);
        }
    }
}
