//! A [`Comparison`]: one workload timed on several systems in one interleaved run, the first
//! system being the baseline every other is divided by. The seeds and the fork-join
//! experiments each produce a list of these; the report and stdout render them as tables.

use crate::measure::{paired_speedup, Outcome};
use crate::table::Table;
use crate::units::{fmt_ns, fmt_ratio};

/// Divides a run's time by a count to show a cost per unit (ns per node, per join, …).
#[derive(Debug, Clone, PartialEq)]
pub struct PerUnit {
    /// Units per run.
    pub count: f64,
    /// Unit name, singular: `node`, `join`, `item`.
    pub unit: String,
}

/// One workload on several systems.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Short title, e.g. `seed 001: squares of 100 random ints`.
    pub title: String,
    /// The parameters, e.g. `100 items, 2 threads`.
    pub setup: String,
    /// One outcome per system; `outcomes[0]` is the baseline.
    pub outcomes: Vec<Outcome>,
    /// Optional per-unit cost column.
    pub per: Option<PerUnit>,
    /// What the reader should take from it, or how it differs from the Python original.
    pub note: Option<String>,
}

impl Comparison {
    /// A comparison without per-unit column or note.
    pub fn new(title: impl Into<String>, setup: impl Into<String>, outcomes: Vec<Outcome>) -> Self {
        Comparison {
            title: title.into(),
            setup: setup.into(),
            outcomes,
            per: None,
            note: None,
        }
    }

    /// Adds a per-unit column.
    pub fn per(mut self, count: f64, unit: &str) -> Self {
        self.per = Some(PerUnit {
            count,
            unit: unit.to_string(),
        });
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The baseline's label.
    pub fn baseline_name(&self) -> &str {
        self.outcomes
            .first()
            .map_or("baseline", |o| o.name.as_str())
    }

    /// The outcome labelled `name`.
    pub fn row(&self, name: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.name == name)
    }

    /// Baseline median ÷ the `i`-th system's median: above 1 means faster than the baseline.
    pub fn speedup(&self, i: usize) -> f64 {
        paired_speedup(&self.outcomes[0].stats, &self.outcomes[i].stats)
    }

    /// Labels of systems whose rounds were noisy or whose output was wrong.
    pub fn warnings(&self) -> Vec<String> {
        let baseline = self.baseline_name();
        self.outcomes
            .iter()
            .filter_map(|o| o.warning(baseline))
            .collect()
    }

    /// The table: system, median, optional per-unit cost, fastest…slowest round, ratio to
    /// the baseline, batch size × rounds, and a flag column.
    pub fn table(&self) -> Table {
        let mut headers = vec!["system".to_string(), "median".to_string()];
        if let Some(per) = &self.per {
            headers.push(format!("per {}", per.unit));
        }
        headers.extend([
            "min … max".to_string(),
            format!("vs {}", self.baseline_name()),
            "reps×rounds".to_string(),
            "flag".to_string(),
        ]);
        let mut table = Table::new(headers);
        for (i, o) in self.outcomes.iter().enumerate() {
            let s = &o.stats;
            let mut row = vec![o.name.clone(), fmt_ns(s.median_ns)];
            if let Some(per) = &self.per {
                row.push(fmt_ns(s.median_ns / per.count));
            }
            row.extend([
                format!("{} … {}", fmt_ns(s.min_ns), fmt_ns(s.max_ns)),
                fmt_ratio(self.speedup(i)),
                format!("{}×{}", s.reps, s.samples_ns.len()),
                o.flag(),
            ]);
            table.push_row(row);
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Stats;

    fn outcome(name: &str, samples: Vec<f64>, agrees: bool) -> Outcome {
        Outcome {
            name: name.to_string(),
            stats: Stats::from_samples(samples, 4),
            agrees,
        }
    }

    #[test]
    fn speedup_is_baseline_over_system() {
        let c = Comparison::new(
            "t",
            "s",
            vec![
                outcome("serial", vec![100.0, 100.0, 100.0], true),
                outcome("filch", vec![50.0, 50.0, 50.0], true),
            ],
        );
        assert_eq!(c.speedup(0), 1.0);
        assert_eq!(c.speedup(1), 2.0);
    }

    #[test]
    fn table_shows_per_unit_cost_ratio_and_flags() {
        let c = Comparison::new(
            "t",
            "s",
            vec![
                outcome("serial", vec![1000.0, 1000.0, 1000.0], true),
                outcome("filch", vec![400.0, 500.0, 900.0], true),
                outcome("bad", vec![1000.0, 1000.0, 1000.0], false),
            ],
        )
        .per(10.0, "node");
        let t = c.table();
        assert_eq!(t.headers[2], "per node");
        assert_eq!(t.headers[4], "vs serial");
        assert_eq!(t.rows[1][2], "50.0 ns");
        assert_eq!(t.rows[1][4], "2.00x");
        assert_eq!(t.rows[1][5], "4×3");
        assert_eq!(t.rows[1][6], "noisy 100%");
        assert_eq!(t.rows[2][6], "WRONG OUTPUT");
        assert_eq!(c.warnings().len(), 2);
    }
}
