//! [`History`]: per-epoch training and validation loss and metrics, written
//! as CSV.
//!
//! The CSV has a header `epoch,train_loss,val_loss,<metric>...` and one row
//! per epoch. Numbers are written with Rust's shortest round-trip formatting
//! (so reading the file back gives the same `f64` bits; `NaN`, `inf` and
//! `-inf` as such), and a missing validation loss as an empty field.
//! [`History::write_csv`] is atomic: it writes a temporary file next to the
//! target, flushes it to disk, then renames it over the target, so a crash
//! never leaves a half-written history.
//!
//! ```
//! use wengert_nn::history::History;
//! let mut h = History::new(&["val_accuracy"])?;
//! h.push(0.9, Some(1.0), &[0.5])?;
//! h.push(0.5, None, &[0.75])?;
//! assert_eq!(h.to_csv(), "epoch,train_loss,val_loss,val_accuracy\n0,0.9,1,0.5\n1,0.5,,0.75\n");
//! assert_eq!(History::from_csv(&h.to_csv())?, h);
//! # Ok::<(), wengert_nn::Error>(())
//! ```

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// One epoch of a [`History`].
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// The epoch, counted from 0.
    pub epoch: usize,
    /// The training loss.
    pub train_loss: f64,
    /// The validation loss, if one was computed.
    pub val_loss: Option<f64>,
    /// One value per metric name of the history, in order.
    pub metrics: Vec<f64>,
}

/// A training history: one [`EpochRecord`] per epoch with the metrics named
/// at construction.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    metric_names: Vec<String>,
    records: Vec<EpochRecord>,
}

const FIXED: [&str; 3] = ["epoch", "train_loss", "val_loss"];

fn invalid(what: String) -> Error {
    Error::InvalidConfig {
        layer: "history",
        what,
    }
}

impl History {
    /// Creates an empty history with these metric columns.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when a name is empty, repeated, one of
    /// `epoch`, `train_loss`, `val_loss`, or holds a comma, quote or line
    /// break (names are written unquoted).
    pub fn new(metric_names: &[&str]) -> Result<Self> {
        for (k, n) in metric_names.iter().enumerate() {
            if n.is_empty() || n.contains([',', '"', '\n', '\r']) {
                return Err(invalid(format!(
                    "metric name {n:?} must be non-empty without commas, quotes or line breaks"
                )));
            }
            if FIXED.contains(n) || metric_names[..k].contains(n) {
                return Err(invalid(format!("metric name {n:?} is used twice")));
            }
        }
        Ok(History {
            metric_names: metric_names.iter().map(|s| s.to_string()).collect(),
            records: Vec::new(),
        })
    }

    /// Appends the next epoch.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when `metrics` does not hold one value per
    /// metric name.
    pub fn push(&mut self, train_loss: f64, val_loss: Option<f64>, metrics: &[f64]) -> Result<()> {
        if metrics.len() != self.metric_names.len() {
            return Err(invalid(format!(
                "{} metric values given for {} metrics {:?}",
                metrics.len(),
                self.metric_names.len(),
                self.metric_names
            )));
        }
        self.records.push(EpochRecord {
            epoch: self.records.len(),
            train_loss,
            val_loss,
            metrics: metrics.to_vec(),
        });
        Ok(())
    }

    /// Returns the metric names.
    pub fn metric_names(&self) -> &[String] {
        &self.metric_names
    }

    /// Returns the epochs recorded so far.
    pub fn records(&self) -> &[EpochRecord] {
        &self.records
    }

    /// Returns the history as CSV text (see the [module docs](self)).
    pub fn to_csv(&self) -> String {
        let mut s = FIXED.join(",");
        for n in &self.metric_names {
            s.push(',');
            s.push_str(n);
        }
        s.push('\n');
        for r in &self.records {
            s.push_str(&format!("{},{},", r.epoch, r.train_loss));
            if let Some(v) = r.val_loss {
                s.push_str(&v.to_string());
            }
            for m in &r.metrics {
                s.push_str(&format!(",{m}"));
            }
            s.push('\n');
        }
        s
    }

    /// Parses CSV text written by [`History::to_csv`].
    ///
    /// # Errors
    ///
    /// [`Error::HistoryCsv`] naming the line of a bad header, a row with the
    /// wrong number of fields, a number that does not parse, or epochs that
    /// do not count 0, 1, 2...
    pub fn from_csv(text: &str) -> Result<Self> {
        let bad = |line: usize, what: String| Error::HistoryCsv { line, what };
        let mut lines = text.lines();
        let header: Vec<&str> = lines
            .next()
            .ok_or_else(|| bad(1, "empty text, expected a header".into()))?
            .split(',')
            .collect();
        if header.len() < 3 || header[..3] != FIXED {
            return Err(bad(
                1,
                format!("header must start with {}", FIXED.join(",")),
            ));
        }
        let mut h = History::new(&header[3..]).map_err(|e| bad(1, format!("bad header: {e}")))?;
        for (k, line) in lines.enumerate() {
            let n = k + 2;
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != header.len() {
                return Err(bad(
                    n,
                    format!("{} fields, expected {}", fields.len(), header.len()),
                ));
            }
            let num = |i: usize| -> Result<f64> {
                fields[i]
                    .parse::<f64>()
                    .map_err(|_| bad(n, format!("{} {:?} is not a number", header[i], fields[i])))
            };
            if fields[0] != h.records.len().to_string() {
                return Err(bad(
                    n,
                    format!("epoch {:?}, expected {}", fields[0], h.records.len()),
                ));
            }
            let train = num(1)?;
            let val = if fields[2].is_empty() {
                None
            } else {
                Some(num(2)?)
            };
            let metrics = (3..fields.len()).map(num).collect::<Result<Vec<_>>>()?;
            h.push(train, val, &metrics)?;
        }
        Ok(h)
    }

    /// Writes the history as CSV to `path`, atomically: a temporary file in
    /// the same directory is written and flushed to disk, then renamed over
    /// `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the file when creating, writing, flushing or
    /// renaming fails; `path` is then unchanged (the temporary file is removed
    /// when possible).
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let io = |p: &Path, e: std::io::Error| Error::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| Error::Io {
                path: path.display().to_string(),
                message: "not a file path".into(),
            })?
            .to_string_lossy();
        let tmp = path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(self.to_csv().as_bytes())?;
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            return Err(io(&tmp, e));
        }
        if let Err(e) = fs::rename(&tmp, path) {
            let _ = fs::remove_file(&tmp);
            return Err(io(path, e));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        let mut h = History::new(&["train_acc", "val_acc"]).unwrap();
        h.push(std::f64::consts::LN_10, Some(2.1), &[0.1, 0.125])
            .unwrap();
        h.push(0.1 + 0.2, None, &[f64::NAN, 1.0]).unwrap();
        h.push(-0.0, Some(f64::INFINITY), &[5e-324, 1e300]).unwrap();
        h
    }

    fn bits(h: &History) -> Vec<u64> {
        h.records()
            .iter()
            .flat_map(|r| {
                let v = r.val_loss.map(f64::to_bits).unwrap_or(1);
                [r.train_loss.to_bits(), v]
                    .into_iter()
                    .chain(r.metrics.iter().map(|m| m.to_bits()))
            })
            .collect()
    }

    #[test]
    fn csv_round_trip_keeps_every_value_bit_for_bit() {
        let h = sample();
        let text = h.to_csv();
        assert!(text.starts_with(
            "epoch,train_loss,val_loss,train_acc,val_acc\n\
             0,2.302585092994046,2.1,0.1,0.125\n\
             1,0.30000000000000004,,NaN,1\n\
             2,-0,inf,0.0000"
        ));
        assert_eq!(text.lines().count(), 4);
        let back = History::from_csv(&text).unwrap();
        assert_eq!(back.metric_names(), h.metric_names());
        assert_eq!(bits(&back), bits(&h));
    }

    #[test]
    fn write_csv_replaces_the_file_atomically_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("wengert-history-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.csv");
        fs::write(&path, "old").unwrap();
        let h = sample();
        h.write_csv(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), h.to_csv());
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["history.csv"]);
        let e = h
            .write_csv(dir.join("missing-dir").join("h.csv"))
            .unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_csv_names_the_line() {
        let line = |t: &str| match History::from_csv(t).unwrap_err() {
            Error::HistoryCsv { line, .. } => line,
            e => panic!("{e}"),
        };
        assert_eq!(line(""), 1);
        assert_eq!(line("epoch,loss\n"), 1);
        assert_eq!(line("epoch,train_loss,val_loss,a,a\n"), 1);
        assert_eq!(line("epoch,train_loss,val_loss\n0,1,2\n0,1,2\n"), 3);
        assert_eq!(line("epoch,train_loss,val_loss\n0,1\n"), 2);
        assert_eq!(line("epoch,train_loss,val_loss,acc\n0,1,,x\n"), 2);
    }

    #[test]
    fn bad_names_and_metric_counts_are_rejected() {
        assert!(History::new(&["a,b"]).is_err());
        assert!(History::new(&["val_loss"]).is_err());
        assert!(History::new(&[""]).is_err());
        let mut h = History::new(&["acc"]).unwrap();
        assert!(h.push(1.0, None, &[]).is_err());
        assert!(h.records().is_empty());
    }
}
