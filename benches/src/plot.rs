//! SVG charts with plotters' SVG backend: speed-up over serial against work per item (one
//! file per N, one line per system) and break-even work per item against N.
//!
//! Both axes are logarithmic: work sizes step by decades and speed-ups span from 0.001x
//! (a pool on 10 items of 1 ns) to the core count, so a linear axis would show one point.

use std::path::Path;

use plotters::prelude::*;

use crate::sweep::SweepResult;
use crate::units::fmt_count;

/// Line colours, one per system in sweep order (serial is never plotted).
const COLOURS: [RGBColor; 8] = [
    RGBColor(0xd6, 0x27, 0x28), // filch: red
    RGBColor(0xff, 0x7f, 0x0e), // filch c=1: orange
    RGBColor(0x1f, 0x77, 0xb4), // blue
    RGBColor(0x2c, 0xa0, 0x2c), // green
    RGBColor(0x94, 0x67, 0xbd), // purple
    RGBColor(0x8c, 0x56, 0x4b), // brown
    RGBColor(0xe3, 0x77, 0xc2), // pink
    RGBColor(0x7f, 0x7f, 0x7f), // grey
];

/// One line of a chart: a label and its (x, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points, ascending in x.
    pub points: Vec<(f64, f64)>,
}

/// A log-log line chart with a legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Caption.
    pub title: String,
    /// X axis description.
    pub x_label: String,
    /// Y axis description.
    pub y_label: String,
    /// Lines.
    pub series: Vec<Series>,
    /// Dashed horizontal reference lines at these y values (speed-up 1, the thread count).
    pub reference_ys: Vec<f64>,
    /// Put the legend in the upper right corner instead of the upper left (for curves
    /// that start high on the left).
    pub legend_right: bool,
}

/// Axis range over all points (and `extra`), widened by a factor on each side so markers
/// are not cut off.
fn log_range(values: impl Iterator<Item = f64>, extra: Option<f64>) -> (f64, f64) {
    let (lo, hi) = values
        .chain(extra)
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return (0.1, 10.0);
    }
    (lo / 1.6, hi * 1.6)
}

impl Chart {
    /// Renders the chart as an SVG file of 800×500 px.
    ///
    /// # Errors
    /// plotters' drawing or I/O error, as text.
    pub fn write_svg(&self, path: &Path) -> Result<(), String> {
        let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1));
        let (x0, x1) = log_range(xs, None);
        let (y0, y1) = log_range(ys.chain(self.reference_ys.iter().copied()), None);
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v| short_number(*v))
            .y_label_formatter(&|v| short_number(*v))
            .draw()
            .map_err(|e| err(&e))?;
        for &y in &self.reference_ys {
            for (a, b) in dashed_segments(x0, x1, 40) {
                chart
                    .draw_series(LineSeries::new([(a, y), (b, y)], BLACK.mix(0.5)))
                    .map_err(|e| err(&e))?;
            }
        }
        for (i, s) in self.series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(|e| err(&e))?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(|e| err(&e))?;
        }
        chart
            .configure_series_labels()
            .position(if self.legend_right {
                SeriesLabelPosition::UpperRight
            } else {
                SeriesLabelPosition::UpperLeft
            })
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
        Ok(())
    }
}

/// `count` dash segments evenly spaced on a log axis between `x0` and `x1`.
fn dashed_segments(x0: f64, x1: f64, count: usize) -> Vec<(f64, f64)> {
    let (l0, l1) = (x0.ln(), x1.ln());
    let step = (l1 - l0) / count as f64;
    (0..count)
        .step_by(2)
        .map(|i| {
            let a = l0 + step * i as f64;
            (a.exp(), (a + step).exp())
        })
        .collect()
}

/// Axis labels: `0.01`, `1`, `1k`, `1M`.
fn short_number(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The per-N speed-up chart of the sweep, with dashed lines at 1 (break-even) and at the
/// thread count (the best a pool of `threads` can do).
pub fn speedup_chart(result: &SweepResult, n: usize, threads: usize) -> Chart {
    Chart {
        title: format!(
            "Speed-up over serial, N = {} items (dashed: 1x and {threads}x)",
            fmt_count(n as u64)
        ),
        x_label: "work per item (ns)".to_string(),
        y_label: "speed-up (serial time ÷ time)".to_string(),
        series: result
            .parallel_systems()
            .iter()
            .map(|system| Series {
                name: system.clone(),
                points: result
                    .curve(n, system)
                    .into_iter()
                    .map(|(w, s)| (w as f64, s))
                    .collect(),
            })
            .collect(),
        reference_ys: vec![1.0, threads as f64],
        legend_right: false,
    }
}

/// Break-even work per item against N, one line per system (points where the system never
/// broke even are left out).
pub fn break_even_chart(result: &SweepResult) -> Chart {
    Chart {
        title: "Break-even work per item".to_string(),
        x_label: "items N".to_string(),
        y_label: "work per item where speed-up crosses 1 (ns)".to_string(),
        series: result
            .parallel_systems()
            .iter()
            .map(|system| Series {
                name: system.clone(),
                points: result
                    .ns
                    .iter()
                    .filter_map(|&n| Some((n as f64, result.break_even(n, system).plot_value()?)))
                    .collect(),
            })
            .collect(),
        reference_ys: Vec::new(),
        legend_right: true,
    }
}

/// The file name of the speed-up chart for `n` items.
pub fn speedup_file_name(n: usize) -> String {
    format!("speedup_n{n}.svg")
}

/// The file name of the break-even chart.
pub const BREAK_EVEN_FILE: &str = "break_even.svg";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ranges_pad_and_include_the_reference() {
        let (lo, hi) = log_range([0.5, 2.0].into_iter(), Some(1.0));
        assert!((lo - 0.5 / 1.6).abs() < 1e-12 && (hi - 3.2).abs() < 1e-12);
        let (lo, hi) = log_range([0.01, 0.02].into_iter(), Some(1.0));
        assert!(lo < 0.01 && hi > 1.0);
        assert_eq!(log_range(std::iter::empty(), None), (0.1, 10.0));
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(short_number(1_000_000.0), "1M");
        assert_eq!(short_number(10_000.0), "10k");
        assert_eq!(short_number(0.25), "0.25");
        assert_eq!(short_number(1.0), "1");
    }

    #[test]
    fn a_chart_renders_to_an_svg_file() {
        let chart = Chart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![Series {
                name: "filch".into(),
                points: vec![(1.0, 0.01), (10.0, 0.5), (100.0, 1.8)],
            }],
            reference_ys: vec![1.0, 2.0],
            legend_right: false,
        };
        let path =
            std::env::temp_dir().join(format!("filch-bench-plot-{}.svg", std::process::id()));
        chart.write_svg(&path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).ok();
        assert!(
            svg.starts_with("<svg") || svg.contains("<svg"),
            "{svg:.100}"
        );
        assert!(svg.contains("filch"));
    }
}
