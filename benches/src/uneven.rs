//! Uneven work: where a static split loses and dynamic load balancing earns its keep.
//! Items whose costs vary a hundredfold, maps nested in maps, and the rows of a
//! Mandelbrot image (cheap outside the set, expensive inside), each on the serial loop,
//! filch, rayon and (where it is a single map) `std::thread::scope` with a static split.

use rayon::prelude::*;

use crate::comparison::Comparison;
use crate::measure::{compare, Case, Plan};
use crate::systems::{map_cases, MapSystem, Pools};
use crate::units::fmt_count;
use crate::workloads::log_loop;

/// `log_loop` iterations for about 10 µs of work (10^5 iterations ≈ 400 µs here).
const LIGHT_ITERS: u64 = 2_500;

/// A hundred times [`LIGHT_ITERS`]: about 1 ms.
const HEAVY_ITERS: u64 = 100 * LIGHT_ITERS;

/// Every this-many-th item of the uneven map is heavy.
const HEAVY_EVERY: u64 = 16;

/// Sizes of the uneven-work experiments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnevenConfig {
    /// Items of the uneven map.
    pub items: usize,
    /// Outer × inner items of the nested map.
    pub nested: (usize, usize),
    /// Rows × columns of the Mandelbrot image.
    pub mandelbrot: (usize, usize),
}

impl UnevenConfig {
    /// Sizes for a run of the given scale (`true`: quick or full; `false`: smoke).
    pub fn new(big: bool) -> Self {
        if big {
            UnevenConfig {
                items: 256,
                nested: (32, 256),
                mandelbrot: (192, 256),
            }
        } else {
            UnevenConfig {
                items: 32,
                nested: (8, 32),
                mandelbrot: (24, 32),
            }
        }
    }
}

/// The cost of item `i` of the uneven map: heavy on every sixteenth item.
pub fn uneven_item(i: u64) -> f64 {
    let iters = if i % HEAVY_EVERY == 0 {
        HEAVY_ITERS
    } else {
        LIGHT_ITERS
    };
    log_loop(1.0 + i as f64, iters)
}

/// Iteration counts of one row of a `cols`-wide Mandelbrot image of `rows` rows over
/// [-2, 1] × [-1.2, 1.2], summed (at most [`MANDEL_MAX`] per pixel).
///
/// Never inlined, like [`log_loop`]: every system runs the same machine code for a row,
/// so the comparison measures scheduling, not each instantiation's register allocation.
#[inline(never)]
pub fn mandelbrot_row(row: u64, rows: usize, cols: usize) -> u64 {
    let y = -1.2 + 2.4 * row as f64 / rows as f64;
    (0..cols)
        .map(|col| {
            let x = -2.0 + 3.0 * col as f64 / cols as f64;
            let (mut zr, mut zi, mut n) = (0.0f64, 0.0f64, 0u64);
            while n < MANDEL_MAX && zr * zr + zi * zi <= 4.0 {
                let t = zr * zr - zi * zi + x;
                zi = 2.0 * zr * zi + y;
                zr = t;
                n += 1;
            }
            n
        })
        .sum()
}

/// Iteration cap per Mandelbrot pixel.
pub const MANDEL_MAX: u64 = 512;

/// Runs the three comparisons.
pub fn run(cfg: UnevenConfig, plan: &Plan, pools: &Pools) -> Vec<Comparison> {
    let systems = [
        MapSystem::Serial,
        MapSystem::Filch(&pools.filch),
        MapSystem::Rayon(&pools.rayon),
        MapSystem::StdScope(pools.threads()),
    ];
    let mut out = Vec::new();

    let items: Vec<u64> = (0..cfg.items as u64).collect();
    out.push(
        Comparison::new(
            "uneven items",
            format!(
                "{} items of ~10 µs, every {HEAVY_EVERY}th ~1 ms (a hundredfold), {} threads",
                cfg.items,
                pools.threads()
            ),
            compare(map_cases(&systems, &items, |&i| uneven_item(i)), plan),
        )
        .per(cfg.items as f64, "item")
        .note(
            "A static split hands one thread more heavy items than the other; a dynamic one \
             balances them.",
        ),
    );

    let (outer_n, inner_n) = cfg.nested;
    let outer: Vec<u64> = (0..outer_n as u64).collect();
    let inner: Vec<u64> = (0..inner_n as u64).collect();
    let leaf = |o: u64, i: u64| log_loop(1.0 + (o * 1_000 + i) as f64, LIGHT_ITERS / 10);
    let (outer_ref, inner_ref) = (&outer, &inner);
    let filch = &pools.filch;
    let rayon = &pools.rayon;
    let nested_cases = vec![
        Case::new("serial", move || {
            outer_ref
                .iter()
                .map(|&o| inner_ref.iter().map(|&i| leaf(o, i)).collect::<Vec<f64>>())
                .collect::<Vec<_>>()
        }),
        Case::new("filch", move || {
            filch.map(outer_ref, |&o| filch::map(inner_ref, |&i| leaf(o, i)))
        }),
        Case::new("rayon", move || {
            rayon.install(|| {
                (outer_ref.par_iter())
                    .map(|&o| {
                        inner_ref
                            .par_iter()
                            .map(|&i| leaf(o, i))
                            .collect::<Vec<f64>>()
                    })
                    .collect::<Vec<_>>()
            })
        }),
    ];
    out.push(
        Comparison::new(
            "nested maps",
            format!(
                "{outer_n} outer items, each a map over {inner_n} inner items of ~1 µs, {} threads",
                pools.threads()
            ),
            compare(nested_cases, plan),
        )
        .per((outer_n * inner_n) as f64, "inner item")
        .note("The inner calls run on the outer call's pool: no new threads, no deadlock."),
    );

    let (rows, cols) = cfg.mandelbrot;
    let row_ids: Vec<u64> = (0..rows as u64).collect();
    out.push(
        Comparison::new(
            "Mandelbrot rows",
            format!(
                "{rows} rows × {cols} columns, at most {MANDEL_MAX} iterations a pixel, one item a row, {} threads; {} pixels",
                pools.threads(),
                fmt_count((rows * cols) as u64)
            ),
            compare(
                map_cases(&systems, &row_ids, move |&r| mandelbrot_row(r, rows, cols)),
                plan,
            ),
        )
        .per(rows as f64, "row")
        .note("Rows through the set cost up to a hundred times the rows outside it."),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_items_are_exactly_every_sixteenth() {
        assert_ne!(uneven_item(0), uneven_item(16));
        let heavy = (0..64).filter(|i| i % HEAVY_EVERY == 0).count();
        assert_eq!(heavy, 4);
    }

    #[test]
    fn mandelbrot_rows_inside_the_set_cost_more_than_rows_outside() {
        let (rows, cols) = (24, 32);
        let edge = mandelbrot_row(0, rows, cols);
        let middle = mandelbrot_row(rows as u64 / 2, rows, cols);
        assert!(middle > 10 * edge, "middle {middle}, edge {edge}");
    }
}
