//! The threshold sweep: N items of w ns of work each, for every (N, w) cell, on every map
//! system; the speed-up of each system over the serial loop in that cell; and, per N and
//! system, the **break-even work per item** — the smallest w at which the system beats the
//! serial loop.
//!
//! This answers the question the Python seeds circle around ("for 10 inputs the pool is
//! slower, for 10^7 it is faster"): how much work must an item carry before a pool pays?

use std::hint::black_box;

use crate::calibrate::Spin;
use crate::config::SweepConfig;
use crate::measure::{compare, paired_speedup, Outcome, Plan};
use crate::progress::Progress;
use crate::systems::{map_cases, MapSystem};
use crate::table::Table;
use crate::units::{fmt_count, fmt_ns, fmt_ratio, fmt_work};
use crate::workloads::spin_item;

/// One measured (N, w) cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Items.
    pub n: usize,
    /// Work per item, ns.
    pub w: u64,
    /// One outcome per system; `outcomes[0]` is serial.
    pub outcomes: Vec<Outcome>,
}

impl Cell {
    fn index_of(&self, system: &str) -> Option<usize> {
        self.outcomes.iter().position(|o| o.name == system)
    }

    /// Serial time ÷ the system's time, round by round ([`paired_speedup`]).
    pub fn speedup(&self, system: &str) -> Option<f64> {
        let i = self.index_of(system)?;
        Some(paired_speedup(
            &self.outcomes[0].stats,
            &self.outcomes[i].stats,
        ))
    }

    /// Whether the system's ratio is unreliable: its rounds or the serial rounds were noisy.
    pub fn is_noisy(&self, system: &str) -> bool {
        self.index_of(system)
            .is_some_and(|i| self.outcomes[i].stats.is_noisy() || self.outcomes[0].stats.is_noisy())
    }

    /// Whether the system's output differed from the serial output.
    pub fn is_wrong(&self, system: &str) -> bool {
        self.index_of(system)
            .is_some_and(|i| !self.outcomes[i].agrees)
    }
}

/// Break-even work per item for one N and one system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BreakEven {
    /// Already faster than serial at the smallest measured w.
    AtOrBelow {
        /// The smallest measured w.
        w: u64,
    },
    /// The smallest measured w with a speed-up above 1.
    At {
        /// That w.
        w: u64,
        /// Where the speed-up crosses 1, interpolated on log w between this point and the
        /// previous one (an estimate; the measured grid is by decades).
        crossing_ns: f64,
        /// Whether every larger measured w also has a speed-up above 1; `false` means the
        /// curve dips below 1 again (usually noise: see the noisy flags).
        sustained: bool,
    },
    /// Never faster than serial up to the largest measured w.
    Never {
        /// The largest measured w.
        max_w: u64,
    },
    /// No measured cell for this N.
    NoData,
}

impl BreakEven {
    /// Short text for tables: `≤ 1 ns`, `1 µs (≈ 420 ns)`, `> 10 µs`, `—`.
    pub fn render(&self) -> String {
        match *self {
            BreakEven::AtOrBelow { w } => format!("≤ {}", fmt_work(w)),
            BreakEven::At {
                w,
                crossing_ns,
                sustained,
            } => format!(
                "{} (≈ {}){}",
                fmt_work(w),
                fmt_ns(crossing_ns),
                if sustained { "" } else { " *" }
            ),
            BreakEven::Never { max_w } => format!("> {}", fmt_work(max_w)),
            BreakEven::NoData => "—".to_string(),
        }
    }

    /// A work size to plot: the interpolated crossing, or the smallest measured w.
    pub fn plot_value(&self) -> Option<f64> {
        match *self {
            BreakEven::AtOrBelow { w } => Some(w as f64),
            BreakEven::At { crossing_ns, .. } => Some(crossing_ns),
            BreakEven::Never { .. } | BreakEven::NoData => None,
        }
    }
}

/// The break-even point of a speed-up curve given as `(w, speed-up)` in ascending `w`:
/// the smallest `w` whose speed-up exceeds 1.
pub fn break_even(curve: &[(u64, f64)]) -> BreakEven {
    let Some(first_above) = curve.iter().position(|&(_, s)| s > 1.0) else {
        return match curve.last() {
            Some(&(max_w, _)) => BreakEven::Never { max_w },
            None => BreakEven::NoData,
        };
    };
    let (w1, s1) = curve[first_above];
    if first_above == 0 {
        return BreakEven::AtOrBelow { w: w1 };
    }
    let (w0, s0) = curve[first_above - 1];
    // Linear in log w between (w0, s0 <= 1) and (w1, s1 > 1).
    let t = ((1.0 - s0) / (s1 - s0)).clamp(0.0, 1.0);
    let (l0, l1) = ((w0.max(1) as f64).ln(), (w1.max(1) as f64).ln());
    let crossing_ns = (l0 + t * (l1 - l0)).exp();
    let sustained = curve[first_above..].iter().all(|&(_, s)| s > 1.0);
    BreakEven::At {
        w: w1,
        crossing_ns,
        sustained,
    }
}

/// Everything the sweep measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepResult {
    /// System labels; `systems[0]` is serial.
    pub systems: Vec<String>,
    /// Item counts, ascending.
    pub ns: Vec<usize>,
    /// Work sizes, ascending.
    pub ws: Vec<u64>,
    /// Measured cells (cells over the cap are absent).
    pub cells: Vec<Cell>,
    /// The serial-time cap in ns.
    pub cap_serial_ns: u64,
}

impl SweepResult {
    /// The measured cell (n, w), if any.
    pub fn cell(&self, n: usize, w: u64) -> Option<&Cell> {
        self.cells.iter().find(|c| c.n == n && c.w == w)
    }

    /// The system labels other than serial.
    pub fn parallel_systems(&self) -> &[String] {
        &self.systems[1..]
    }

    /// `(w, speed-up)` of `system` at `n`, ascending in w, measured cells only.
    pub fn curve(&self, n: usize, system: &str) -> Vec<(u64, f64)> {
        self.ws
            .iter()
            .filter_map(|&w| Some((w, self.cell(n, w)?.speedup(system)?)))
            .collect()
    }

    /// Break-even work per item of `system` at `n`.
    pub fn break_even(&self, n: usize, system: &str) -> BreakEven {
        break_even(&self.curve(n, system))
    }

    /// For one N: a row per measured w with the serial time and each system's speed-up.
    /// `~` marks a noisy ratio, `!` a wrong output.
    pub fn table_for(&self, n: usize) -> Table {
        let mut headers = vec!["work/item".to_string(), "serial time".to_string()];
        headers.extend(self.parallel_systems().iter().cloned());
        let mut table = Table::new(headers);
        for &w in &self.ws {
            let Some(cell) = self.cell(n, w) else {
                continue;
            };
            let mut row = vec![fmt_work(w), fmt_ns(cell.outcomes[0].stats.median_ns)];
            for system in self.parallel_systems() {
                row.push(match cell.speedup(system) {
                    Some(s) => format!(
                        "{}{}{}",
                        fmt_ratio(s),
                        if cell.is_noisy(system) { "~" } else { "" },
                        if cell.is_wrong(system) { "!" } else { "" }
                    ),
                    None => "—".to_string(),
                });
            }
            table.push_row(row);
        }
        table
    }

    /// For one N: a row per measured w with every system's median time per run.
    pub fn times_table_for(&self, n: usize) -> Table {
        let mut table = Table::new(
            std::iter::once("work/item".to_string()).chain(self.systems.iter().cloned()),
        );
        for &w in &self.ws {
            let Some(cell) = self.cell(n, w) else {
                continue;
            };
            let mut row = vec![fmt_work(w)];
            row.extend(self.systems.iter().map(
                |s| match cell.outcomes.iter().find(|o| &o.name == s) {
                    Some(o) => fmt_ns(o.stats.median_ns),
                    None => "—".to_string(),
                },
            ));
            table.push_row(row);
        }
        table
    }

    /// Every measured cell and system as CSV (one line per cell × system, with a header),
    /// for analysis outside the report. Times in ns.
    pub fn to_csv(&self) -> String {
        let mut out =
            String::from("n,w_ns,system,median_ns,min_ns,max_ns,reps,rounds,speedup,agrees\n");
        for cell in &self.cells {
            for o in &cell.outcomes {
                let s = &o.stats;
                out.push_str(&format!(
                    "{},{},{},{:.1},{:.1},{:.1},{},{},{:.4},{}\n",
                    cell.n,
                    cell.w,
                    csv_field(&o.name),
                    s.median_ns,
                    s.min_ns,
                    s.max_ns,
                    s.reps,
                    s.samples_ns.len(),
                    cell.speedup(&o.name).unwrap_or(f64::NAN),
                    o.agrees
                ));
            }
        }
        out
    }

    /// A row per N with each system's break-even work per item.
    pub fn break_even_table(&self) -> Table {
        let mut headers = vec!["items N".to_string()];
        headers.extend(self.parallel_systems().iter().cloned());
        let mut table = Table::new(headers);
        for &n in &self.ns {
            let mut row = vec![fmt_count(n as u64)];
            row.extend(
                self.parallel_systems()
                    .iter()
                    .map(|s| self.break_even(n, s).render()),
            );
            table.push_row(row);
        }
        table
    }

    /// Human-readable warnings: noisy or wrong cells.
    pub fn warnings(&self) -> Vec<String> {
        let cell_warnings = |cell: &Cell| {
            let at = format!("N={} w={}", fmt_count(cell.n as u64), fmt_work(cell.w));
            let warnings = cell.outcomes.iter().filter_map(|o| o.warning("serial"));
            warnings
                .map(move |w| format!("{at}: {w}"))
                .collect::<Vec<_>>()
        };
        self.cells.iter().flat_map(cell_warnings).collect()
    }
}

/// Runs the sweep: for every cell of `cfg`, items `0..N` mapped through `spin_item(w)` on every
/// system in `systems` (serial first), interleaved per [`compare`].
pub fn run(
    cfg: &SweepConfig,
    plan: &Plan,
    spin_rate: &Spin,
    systems: &[MapSystem<'_>],
    progress: &mut Progress,
) -> SweepResult {
    let mut cells = Vec::new();
    let mut items: Vec<u64> = Vec::new();
    for (n, w) in cfg.cells() {
        progress.step(&format!(
            "sweep N={} w={}",
            fmt_count(n as u64),
            fmt_work(w)
        ));
        if items.len() != n {
            items = (0..n as u64).collect();
        }
        let iters = spin_rate.iters_for(w);
        let f = move |&x: &u64| spin_item(black_box(iters), x);
        let outcomes = compare(map_cases(systems, &items, f), plan);
        cells.push(Cell { n, w, outcomes });
    }
    SweepResult {
        systems: systems.iter().map(MapSystem::label).collect(),
        ns: cfg.ns.clone(),
        ws: cfg.ws.clone(),
        cells,
        cap_serial_ns: cfg.cap_serial_ns,
    }
}

/// A CSV field: quoted (with inner quotes doubled) when it holds a comma, a quote or a line
/// break, as RFC 4180 has it, so that a system named "filch, on a worker" stays one column.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Stats;

    #[test]
    fn break_even_is_the_first_w_above_one_with_a_log_interpolated_crossing() {
        let curve = [(10, 0.1), (100, 0.5), (1_000, 1.5), (10_000, 1.9)];
        match break_even(&curve) {
            BreakEven::At {
                w,
                crossing_ns,
                sustained,
            } => {
                assert_eq!(w, 1_000);
                // halfway from 0.5 to 1.5 -> halfway between 100 and 1000 on a log axis
                assert!((crossing_ns - 316.227_766).abs() < 1e-3, "{crossing_ns}");
                assert!(sustained);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_dip_after_break_even_is_reported_as_not_sustained() {
        let curve = [(10, 0.9), (100, 1.2), (1_000, 0.95), (10_000, 1.8)];
        assert!(matches!(
            break_even(&curve),
            BreakEven::At {
                w: 100,
                sustained: false,
                ..
            }
        ));
        assert!(break_even(&curve).render().ends_with(" *"));
    }

    #[test]
    fn exactly_one_is_not_a_speed_up() {
        assert_eq!(
            break_even(&[(1, 1.0), (10, 1.0)]),
            BreakEven::Never { max_w: 10 }
        );
    }

    #[test]
    fn edge_cases_render_as_bounds() {
        assert_eq!(
            break_even(&[(1, 1.3), (10, 1.9)]),
            BreakEven::AtOrBelow { w: 1 }
        );
        assert_eq!(break_even(&[(1, 1.3)]).render(), "≤ 1 ns");
        assert_eq!(break_even(&[(1, 0.3), (10_000, 0.9)]).render(), "> 10 µs");
        assert_eq!(break_even(&[]), BreakEven::NoData);
        assert_eq!(BreakEven::NoData.render(), "—");
    }

    fn outcome(name: &str, median: f64) -> Outcome {
        Outcome {
            name: name.to_string(),
            stats: Stats::from_samples(vec![median; 3], 1),
            agrees: true,
        }
    }

    #[test]
    fn result_tables_use_measured_cells_only() {
        let cell = |n, w, serial, filch| Cell {
            n,
            w,
            outcomes: vec![outcome("serial", serial), outcome("filch", filch)],
        };
        let result = SweepResult {
            systems: vec!["serial".into(), "filch".into()],
            ns: vec![10, 1000],
            ws: vec![1, 1000],
            cells: vec![
                cell(10, 1, 100.0, 1000.0),
                cell(10, 1000, 10_000.0, 8_000.0),
                cell(1000, 1, 1000.0, 2000.0),
            ],
            cap_serial_ns: 1_000_000,
        };
        assert_eq!(result.curve(10, "filch"), vec![(1, 0.1), (1000, 1.25)]);
        let t = result.table_for(1000);
        assert_eq!(t.rows.len(), 1, "w=1000 at N=1000 was not measured");
        assert_eq!(t.rows[0], vec!["1 ns", "1.00 µs", "0.500x"]);
        let times = result.times_table_for(10);
        assert_eq!(times.headers, vec!["work/item", "serial", "filch"]);
        assert_eq!(times.rows[1], vec!["1 µs", "10.0 µs", "8.00 µs"]);
        let csv = result.to_csv();
        assert_eq!(csv.lines().count(), 1 + 3 * 2);
        assert_eq!(
            csv.lines().nth(4).unwrap(),
            "10,1000,filch,8000.0,8000.0,8000.0,1,3,1.2500,true"
        );
        assert_eq!(csv_field("filch, on a worker"), "\"filch, on a worker\"");
        assert_eq!(csv_field("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(csv_field("std::scope"), "std::scope");
        let be = result.break_even_table();
        assert_eq!(be.rows[0][0], "10");
        assert!(be.rows[0][1].starts_with("1 µs (≈"), "{:?}", be.rows[0]);
        assert_eq!(be.rows[1][1], "> 1 ns");
    }
}
