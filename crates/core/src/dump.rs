//! Seeing the tape: a text dump of the Wengert list and a Graphviz DOT export.
//!
//! Each entry shows its index, the op, the entries it read, the shape of its
//! value, and a summary of the value (min, max, mean, count of non-finite
//! elements) while some tensor still holds that value; `(freed)` otherwise.
//! The tape keeps a weak reference to the values of leaves, and to those of
//! ops recorded inside [`watch_values`](crate::watch_values); other entries
//! show `(not watched)`.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::storage::WeakStorage;
use crate::tape::{Entry, Kind, Node, Tape, TapeInner};
use crate::{Float, Shape, Tensor};

/// One entry of a tape as the dump shows it.
struct Row {
    index: usize,
    name: &'static str,
    leaf: bool,
    inputs: Vec<Option<usize>>,
    shape: Shape,
    /// `None`: not watched; `Some(None)`: freed.
    summary: Option<Option<String>>,
}

fn summarize<T: Float>(v: &[T]) -> String {
    let finite: Vec<f64> = v
        .iter()
        .map(|x| x.to_f64())
        .filter(|x| x.is_finite())
        .collect();
    let bad = v.len() - finite.len();
    if finite.is_empty() {
        return format!("no finite values, {bad} non-finite");
    }
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    let mut s = format!("min {min:.4e} max {max:.4e} mean {mean:.4e}");
    if bad > 0 {
        let _ = write!(s, " NON-FINITE {bad}");
    }
    s
}

/// The weak reference to entry `index`'s value, if the tape keeps one: for
/// a leaf, and for an op recorded inside `watch_values`.
fn value_of<'a, T: Float>(
    inner: &'a TapeInner<T>,
    index: usize,
    e: &Entry<T>,
) -> Option<&'a WeakStorage<T>> {
    match e.kind {
        Kind::Leaf(id) => inner.leaves.get(&id).map(|(_, w)| w),
        _ => inner
            .watched
            .binary_search_by_key(&index, |&(i, _)| i)
            .ok()
            .map(|at| &inner.watched[at].1),
    }
}

fn rows<T: Float>(tape: &Arc<Tape<T>>, upto: usize) -> Vec<Row> {
    let inner = tape.lock();
    // While a backward consumes the tape it holds the entries before `lent`.
    let first = inner.lent;
    inner
        .entries
        .iter()
        .enumerate()
        .map(|(k, e)| (first + k, e))
        .take_while(|&(index, _)| index <= upto)
        .map(|(index, e)| Row {
            index,
            name: e.name(),
            leaf: matches!(e.kind, Kind::Leaf(_)),
            inputs: e.inputs.iter().map(|s| s.index()).collect(),
            shape: e.shape.clone(),
            summary: value_of(&inner, index, e)
                .map(|w| w.upgrade().map(|v| summarize(v.as_slice()))),
        })
        .collect()
}

impl<T: Float> Tensor<T> {
    fn tape_rows(&self) -> Option<(Vec<Row>, usize)> {
        match &self.node {
            Node::Recorded(r, i) => r.upgrade().map(|t| (rows(&t, *i), *i)),
            _ => None,
        }
    }

    /// Returns a text dump of the tape this value was recorded on, up to and
    /// including its own entry: one line per entry with its index, op, input
    /// entries (`-` for an input that needs no gradient), shape and a summary
    /// of its value: min, max, mean and non-finite count while some tensor
    /// holds the value, `(freed)` once none does. Values are summarized for
    /// leaves and for ops recorded inside [`watch_values`](crate::watch_values);
    /// other ops show `(not watched)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], [2]).unwrap().requires_grad();
    /// let y = (&x * &x).sum();
    /// let dump = y.tape_dump();
    /// assert!(dump.contains("#0  leaf"));
    /// assert!(dump.contains("#1  mul(#0, #0)"));
    /// assert!(dump.contains("#2  sum(#1)"));
    /// ```
    pub fn tape_dump(&self) -> String {
        let Some((rows, _)) = self.tape_rows() else {
            return String::from("(not recorded: no input requires a gradient)\n");
        };
        let mut out = String::new();
        for r in rows {
            let call = if r.leaf {
                String::from("leaf")
            } else {
                let args: Vec<String> = r
                    .inputs
                    .iter()
                    .map(|i| i.map_or("-".into(), |i| format!("#{i}")))
                    .collect();
                format!("{}({})", r.name, args.join(", "))
            };
            let id = format!("#{}", r.index);
            let _ = writeln!(
                out,
                "{id:<4}{call:<28} {:<16} {}",
                r.shape.to_string(),
                match &r.summary {
                    None => "(not watched)",
                    Some(None) => "(freed)",
                    Some(Some(s)) => s,
                }
            );
        }
        out
    }

    /// Returns the tape this value was recorded on as a Graphviz DOT graph:
    /// leaves (parameters) as boxes, ops as ellipses, this value (the loss) as
    /// a double octagon. Render with `dot -Tsvg`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let w = Tensor::<f32>::ones([2]).requires_grad();
    /// let dot = w.exp().sum().tape_dot();
    /// assert!(dot.starts_with("digraph tape {"));
    /// assert!(dot.contains("n0 [shape=box"));
    /// assert!(dot.contains("n1 -> n2"));
    /// ```
    pub fn tape_dot(&self) -> String {
        let mut out = String::from("digraph tape {\n  rankdir=BT;\n");
        if let Some((rows, last)) = self.tape_rows() {
            for r in &rows {
                let (shape, label) = match (r.leaf, r.index == last) {
                    (true, _) => ("box", format!("#{} parameter\\n{}", r.index, r.shape)),
                    (false, true) => (
                        "doubleoctagon",
                        format!("#{} {} (loss)\\n{}", r.index, r.name, r.shape),
                    ),
                    (false, false) => ("ellipse", format!("#{} {}\\n{}", r.index, r.name, r.shape)),
                };
                let _ = writeln!(out, "  n{} [shape={shape}, label=\"{label}\"];", r.index);
                for j in r.inputs.iter().flatten() {
                    let _ = writeln!(out, "  n{j} -> n{};", r.index);
                }
            }
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn dump_reports_freed_values_and_non_finite_counts() {
        let x = Tensor::from_vec(vec![0.0f64, 1.0], [2])
            .unwrap()
            .requires_grad();
        let (l, y) = crate::watch_values(|| {
            let l = x.log(); // [-inf, 0]
            let y = l.exp().sum();
            (l, y)
        });
        let dump = y.tape_dump();
        assert!(dump.contains("NON-FINITE 1"), "{dump}");
        drop(l);
        let dump = y.tape_dump();
        // Nothing holds log's output any more (exp saves its own output).
        assert!(dump.lines().nth(1).unwrap().ends_with("(freed)"), "{dump}");
        assert!(!dump.contains("NON-FINITE"), "{dump}");
    }

    #[test]
    fn dump_lines_show_the_output_shape_and_exact_summary() {
        let x = Tensor::from_vec(vec![1.0f64, -2.0, 3.0, 6.0], [2, 2])
            .unwrap()
            .requires_grad();
        let (sq, y) = crate::watch_values(|| {
            let sq = &x * &x; // [1, 4, 9, 36]
            let y = sq.sum_axes(&[1], false); // [5, 45]
            (sq, y)
        });
        let dump = y.tape_dump();
        let lines: Vec<&str> = dump.lines().collect();
        // Hand-computed: min, max and mean of each value, in `{:.4e}`.
        assert_eq!(
            lines,
            [
                "#0  leaf                         [2, 2]           min -2.0000e0 max 6.0000e0 mean 2.0000e0",
                "#1  mul(#0, #0)                  [2, 2]           min 1.0000e0 max 3.6000e1 mean 1.2500e1",
                "#2  sum(#1)                      [2]              min 5.0000e0 max 4.5000e1 mean 2.5000e1",
            ],
            "{dump}"
        );
        drop(sq);
        assert!(y.tape_dump().lines().nth(1).unwrap().ends_with("(freed)"));
    }

    #[test]
    fn unwatched_ops_say_so_and_leaves_are_always_summarized() {
        let x = Tensor::from_vec(vec![1.0f64, 3.0], [2])
            .unwrap()
            .requires_grad();
        let y = (&x * 2.0).sum();
        let dump = y.tape_dump();
        let lines: Vec<&str> = dump.lines().collect();
        assert!(
            lines[0].ends_with("min 1.0000e0 max 3.0000e0 mean 2.0000e0"),
            "{dump}"
        );
        assert!(lines[1].ends_with("(not watched)"), "{dump}");
        assert!(lines[2].ends_with("(not watched)"), "{dump}");
        // The mode ends with the closure, also when it panics.
        let caught = std::panic::catch_unwind(|| crate::watch_values(|| panic!("inside")));
        assert!(caught.is_err());
        let z = (&x * 2.0).sum();
        assert!(
            z.tape_dump()
                .lines()
                .last()
                .unwrap()
                .ends_with("(not watched)")
        );
    }

    #[test]
    fn dot_marks_parameters_as_boxes_and_the_loss_as_a_double_octagon() {
        let w = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3])
            .unwrap()
            .requires_grad();
        let b = Tensor::scalar(0.5f32).requires_grad();
        let e = w.exp();
        let loss = (&e + &b).sum();
        let dot = loss.tape_dot();
        let lines: Vec<&str> = dot.lines().collect();
        assert_eq!(
            lines,
            [
                "digraph tape {",
                "  rankdir=BT;",
                r##"  n0 [shape=box, label="#0 parameter\n[3]"];"##,
                r##"  n1 [shape=ellipse, label="#1 exp\n[3]"];"##,
                "  n0 -> n1;",
                r##"  n2 [shape=box, label="#2 parameter\n[]"];"##,
                r##"  n3 [shape=ellipse, label="#3 add\n[3]"];"##,
                "  n1 -> n3;",
                "  n2 -> n3;",
                r##"  n4 [shape=doubleoctagon, label="#4 sum (loss)\n[]"];"##,
                "  n3 -> n4;",
                "}",
            ],
            "{dot}"
        );
        // From an intermediate value, the graph stops there and marks it.
        let partial = e.tape_dot();
        assert!(
            partial.ends_with(
                "  n1 [shape=doubleoctagon, label=\"#1 exp (loss)\\n[3]\"];\n  n0 -> n1;\n}\n"
            ),
            "{partial}"
        );
    }

    #[test]
    fn untracked_values_have_no_tape() {
        assert!(
            Tensor::<f32>::ones([1])
                .tape_dump()
                .contains("not recorded")
        );
    }
}
