//! Helpers shared by the tutorial examples: flags, SVG line plots and progress
//! bars. Each example includes this file with `mod common;`; not every example
//! uses every helper, hence the `allow(dead_code)` at the inclusion sites.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;

/// Any error an example can meet: wengert's, I/O, or the plotting backend's.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The flags every example understands.
///
/// `--quick` (or `WENGERT_QUICK=1` in the environment) asks for the short mode
/// CI runs; `--epochs N` and `--seed N` override the example's defaults;
/// `--out DIR` is where SVG plots go (default `target/plots`, never the
/// source tree); `--data DIR` points a training example at MNIST IDX files;
/// `--min-accuracy X` makes it fail when its final test accuracy is lower.
#[derive(Clone, Debug)]
pub struct Args {
    /// Short mode: fewer epochs and sizes, same claims.
    pub quick: bool,
    /// Training epochs, when the example trains; `None` keeps its default.
    pub epochs: Option<usize>,
    /// Seed of every random number the example draws.
    pub seed: u64,
    /// Folder for the plots.
    pub out: PathBuf,
    /// Folder holding MNIST's `t10k-images-idx3-ubyte.gz` and
    /// `t10k-labels-idx1-ubyte.gz`, for examples that can train on MNIST.
    pub data: Option<PathBuf>,
    /// The test accuracy, in `[0, 1]`, below which a training example exits
    /// with an error.
    pub min_accuracy: Option<f64>,
}

impl Args {
    /// The flags of a test run: quick, seed 0, plots under `target/plots/tests`.
    pub fn for_tests() -> Args {
        Args {
            quick: true,
            epochs: None,
            seed: 0,
            out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/plots/tests"),
            data: None,
            min_accuracy: None,
        }
    }

    /// Parses the process's flags; prints the usage and exits on `--help` or on
    /// a flag it does not know.
    pub fn parse(about: &str) -> Args {
        let quick_env = std::env::var("WENGERT_QUICK").is_ok_and(|v| v == "1");
        match Args::parse_from(std::env::args().skip(1), quick_env) {
            Ok(a) => a,
            Err(msg) => {
                let usage = format!(
                    "{about}\n\nflags: --quick (or WENGERT_QUICK=1), --epochs N, --seed N, --out DIR (default target/plots), --data DIR (MNIST IDX files), --min-accuracy X"
                );
                if msg.is_empty() {
                    println!("{usage}");
                    std::process::exit(0);
                }
                eprintln!("{msg}\n\n{usage}");
                std::process::exit(2);
            }
        }
    }

    /// Parses `args` (without the program name); `Err("")` means `--help`.
    pub fn parse_from(args: impl IntoIterator<Item = String>, quick: bool) -> Result<Args, String> {
        let mut out = Args {
            quick,
            epochs: None,
            seed: 0,
            out: PathBuf::from("target/plots"),
            data: None,
            min_accuracy: None,
        };
        let mut it = args.into_iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
            match flag.as_str() {
                "--quick" => out.quick = true,
                "--epochs" => {
                    let v = value("--epochs")?;
                    out.epochs = Some(
                        v.parse()
                            .map_err(|_| format!("--epochs: not a count: {v}"))?,
                    );
                }
                "--seed" => {
                    let v = value("--seed")?;
                    out.seed = v
                        .parse()
                        .map_err(|_| format!("--seed: not an integer: {v}"))?;
                }
                "--out" => out.out = PathBuf::from(value("--out")?),
                "--data" => out.data = Some(PathBuf::from(value("--data")?)),
                "--min-accuracy" => {
                    let v = value("--min-accuracy")?;
                    out.min_accuracy = Some(
                        v.parse()
                            .ok()
                            .filter(|a| (0.0..=1.0).contains(a))
                            .ok_or(format!("--min-accuracy: not a fraction in [0, 1]: {v}"))?,
                    );
                }
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown flag {other}")),
            }
        }
        Ok(out)
    }
}

/// One named curve of a line plot.
pub struct Series {
    /// The legend entry.
    pub label: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A curve through `(1, values[0]), (2, values[1]), ...`: a value per
    /// epoch, step or layer, counted from 1.
    pub fn indexed(label: impl Into<String>, values: &[f64]) -> Series {
        Series {
            label: label.into(),
            points: (1..).map(f64::from).zip(values.iter().copied()).collect(),
        }
    }
}

/// Where a plot's legend goes (plotters' type, re-exported for the examples).
pub use plotters::chart::SeriesLabelPosition as Legend;

/// Writes `series` as an SVG line plot `dir/file` and returns its path. With
/// `log_y`, the y axis is logarithmic (every y must then be positive); the
/// legend goes where `legend` says (pick a corner the curves leave empty).
pub fn plot_lines(
    dir: &Path,
    file: &str,
    title: &str,
    (x_label, y_label): (&str, &str),
    series: &[Series],
    log_y: bool,
    legend: Legend,
) -> Result<PathBuf, BoxError> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(file);
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all() {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 >= x1 {
        x1 = x0 + 1.0;
    }
    if log_y {
        (y0, y1) = (y0 / 2.0, y1 * 2.0);
    } else {
        let pad = 0.05 * (y1 - y0).max(1e-9);
        (y0, y1) = (y0 - pad, y1 + pad);
    }
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, (800, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    let colour = |i: usize| Palette99::pick(i).to_rgba();
    // The two axis kinds are different types: one macro draws the series and
    // the legend on either.
    macro_rules! series_and_legend {
        ($chart:ident) => {
            for (i, s) in series.iter().enumerate() {
                let c = colour(i);
                $chart
                    .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))?
                    .label(s.label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
            }
            $chart
                .configure_series_labels()
                .position(legend.clone())
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()?;
        };
    }
    if log_y {
        let mut chart = builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()?;
        series_and_legend!(chart);
    } else {
        let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()?;
        series_and_legend!(chart);
    }
    root.present()?;
    drop(root);
    std::fs::write(&path, svg)?;
    Ok(path)
}

/// A progress bar of `len` steps on standard error; hidden in quick mode (CI
/// logs need no bars) and whenever standard error is not a terminal.
pub fn progress(len: u64, args: &Args, what: &str) -> ProgressBar {
    if args.quick {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}
