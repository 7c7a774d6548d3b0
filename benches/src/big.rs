//! Big inputs: one cheap function over millions of items, the case a parallel library is
//! judged on first. Seed 000's polynomial over 10^6 and 10^7 items (10^8 with `--full`),
//! given as a slice (`&v`), an owned `Vec` and an integer range, each called from outside
//! the pool and on one of its workers (`pool.install(|| pool.map(..))`, as a map nested in
//! another map's item, a `join` or a library built on filch makes it), beside rayon and
//! `std::thread::scope` pieces that write straight into one output (no scheduler, no copy:
//! what the machine's cores and memory allow a plain loop). Then the other eager forms
//! (`starmap`, `try_map`, `map_init`, an explicit chunk size) at the largest quick size,
//! the two shapes big-array users reach for next (`for_each` in place over `&mut [f64]`,
//! `map_reduce` summing without a mapped vector), and the peak memory of one map of that
//! size.
//!
//! Every row maps the same items to the same `Vec<f64>`, checked against the serial loop.
//! Rows over an owned `Vec` clone the input inside the timed run, on the calling thread, in
//! every system including serial (whose `into_iter().map().collect()` then reuses the
//! clone's buffer, as Rust's in-place collect does): the clone is part of what each row
//! measures.

use std::hint::black_box;

use rayon::prelude::*;

use crate::alloc_count::peak_during;
use crate::comparison::Comparison;
use crate::config::BigConfig;
use crate::measure::{compare, Case, Plan};
use crate::progress::Progress;
use crate::systems::std_threads::{fill_pieces, piece_len, run_pieces};
use crate::systems::{Pools, FILCH_ON_WORKER};
use crate::units::fmt_count;
use crate::workloads::poly;

/// Title prefix of the comparisons over one input shape at one size.
pub const SHAPE_TITLE: &str = "big input";

/// Title prefix of the comparisons of the other eager forms.
pub const FORM_TITLE: &str = "big input, form";

/// Label of the std rows.
pub const STD_PIECES: &str = "std::scope pieces";

/// What the owned-`Vec` rows show besides the map.
pub const VEC_NOTE: &str = "Serial maps the clone in place (`into_iter().map().collect()` \
    reuses its buffer), so it writes one block of fresh memory, the clone; every other row \
    writes two, the clone and a new output, and the clone's pages cost as much as the map's \
    own work, so no system gets much past 1x here.";

/// What every map row shows about memory pages.
pub const PAGES_NOTE: &str = "Every row writes its output with the system's default pages, as a \
    plain loop does; `filch::set_huge_page_outputs(true)` makes filch ask for 2 MiB pages for an \
    output of 4 MiB or more instead (off by default: its documentation says when that pays).";

/// The explicit chunk size of the chunk-size form.
pub const CHUNK: usize = 65_536;

/// How an input is handed to the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `&v`: a slice's iterator.
    Slice,
    /// `v`: an owned `Vec`, moved into the call.
    Vec,
    /// `0..n`: an integer range.
    Range,
}

impl Shape {
    /// Every shape, in report order.
    pub const ALL: [Shape; 3] = [Shape::Slice, Shape::Vec, Shape::Range];

    /// The shape's name in titles.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Slice => "slice",
            Shape::Vec => "Vec",
            Shape::Range => "range",
        }
    }
}

/// The title of the comparison of `shape` at `n` items.
pub fn shape_title(shape: Shape, n: usize) -> String {
    format!(
        "{SHAPE_TITLE}: {}, {} items",
        shape.name(),
        fmt_count(n as u64)
    )
}

/// The other eager forms, over the slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `starmap` over owned pairs.
    Starmap,
    /// `try_map` with no error.
    TryMap,
    /// `map_init` with a per-piece counter.
    MapInit,
    /// `with_chunk_size(CHUNK)?.map`.
    Chunked,
}

impl Form {
    /// Every form, in report order.
    pub const ALL: [Form; 4] = [Form::Starmap, Form::TryMap, Form::MapInit, Form::Chunked];

    /// The form's name in titles.
    pub fn name(self) -> &'static str {
        match self {
            Form::Starmap => "starmap",
            Form::TryMap => "try_map",
            Form::MapInit => "map_init",
            Form::Chunked => "chunk size 65536",
        }
    }
}

/// The title of the comparison of `form` at `n` items.
pub fn form_title(form: Form, n: usize) -> String {
    format!(
        "{FORM_TITLE}: {}, {} items",
        form.name(),
        fmt_count(n as u64)
    )
}

/// The most bytes one map held at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Peak {
    /// The system's label.
    pub name: String,
    /// Bytes above what was live before the call (`None`: not counted in this build).
    pub bytes: Option<usize>,
}

/// What the section measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BigResult {
    /// One comparison per shape and size, then one per form.
    pub comparisons: Vec<Comparison>,
    /// Items of the peak-memory maps.
    pub peak_items: usize,
    /// The peak memory of one map of `peak_items` items over a slice, per system.
    pub peaks: Vec<Peak>,
}

/// Title of the in-place comparison.
pub const IN_PLACE_TITLE: &str = "big input, in place: for_each over &mut [f64]";

/// Title of the reducing comparison.
pub const REDUCE_TITLE: &str = "big input, reducing: map_reduce (a sum over &[u64])";

/// Steps the section reports to the progress bar.
pub fn steps(cfg: &BigConfig) -> u64 {
    (cfg.sizes.len() * Shape::ALL.len() + Form::ALL.len() + 3) as u64
}

/// The in-place update every `for_each` row makes: cheap, and bounded under repetition.
#[inline]
fn update(x: &mut f64) {
    *x = (*x * 0.5 + 1.0).fract();
}

/// [`update`] over `buf` cut into `threads` contiguous pieces, one scoped thread each (the
/// first piece on the calling thread): the in-place loop split by hand, no scheduler.
fn for_each_pieces(threads: usize, buf: &mut [f64]) {
    let len = piece_len(buf.len(), threads);
    run_pieces(buf.chunks_mut(len), |piece| {
        piece.iter_mut().for_each(update)
    });
}

/// `f` folded with `add` over `items` cut into `threads` contiguous pieces, one scoped thread
/// each (the first piece on the calling thread), the pieces' sums added in order.
fn fold_pieces<F, A>(threads: usize, items: &[u64], f: F, add: A) -> u64
where
    F: Fn(&u64) -> u64 + Sync,
    A: Fn(u64, u64) -> u64 + Sync + Copy,
{
    // `add` stays generic: as a `fn` pointer it was an indirect call per item, and the
    // pieces ran at 0.67x the loop's speed.
    let len = piece_len(items.len(), threads);
    run_pieces(items.chunks(len), |piece| piece.iter().map(&f).fold(0, add))
        .into_iter()
        .fold(0, add)
}

/// The five rows of a big-input comparison: the serial loop; `call` on filch from outside the
/// pool and the same call made on one of its workers; rayon's; and the loop split by hand
/// over std threads, given the thread count.
fn rows<'a, O: Send + 'a>(
    pools: &'a Pools,
    serial: impl FnMut() -> O + 'a,
    call: impl Fn(&filch::Pool) -> O + Copy + Send + Sync + 'a,
    mut rayon: impl FnMut(&rayon::ThreadPool) -> O + 'a,
    mut pieces: impl FnMut(usize) -> O + 'a,
) -> Vec<Case<'a, O>> {
    let (filch, pool, threads) = (&pools.filch, &pools.rayon, pools.threads());
    vec![
        Case::new("serial", serial),
        Case::new("filch", move || call(filch)),
        Case::new(FILCH_ON_WORKER, move || filch.install(|| call(filch))),
        Case::new("rayon", move || rayon(pool)),
        Case::new(STD_PIECES, move || pieces(threads)),
    ]
}

/// `item` of every input, written into one output by `threads` std threads.
fn pieces_over<T: Sync, R: Send>(
    threads: usize,
    inputs: &[T],
    item: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    fill_pieces(threads, inputs.len(), |range, out| {
        for (slot, x) in out.iter_mut().zip(&inputs[range]) {
            slot.write(item(x));
        }
    })
}

/// `for_each` over a buffer of `inputs`' values, updated in place on every run. Each case
/// owns its buffer and returns nothing: its output is the buffer, checked in the tests.
pub fn in_place_cases<'a>(inputs: &[f64], pools: &'a Pools) -> Vec<Case<'a, ()>> {
    let (filch, pool, threads) = (&pools.filch, &pools.rayon, pools.threads());
    let buf = || inputs.to_vec();
    let (mut s, mut f, mut w, mut r, mut p) = (buf(), buf(), buf(), buf(), buf());
    vec![
        Case::new("serial", move || s.iter_mut().for_each(update)),
        Case::new("filch", move || filch.for_each(&mut f, update)),
        Case::new(FILCH_ON_WORKER, move || {
            filch.install(|| filch.for_each(&mut w, update))
        }),
        Case::new("rayon", move || {
            pool.install(|| r.par_iter_mut().for_each(update))
        }),
        Case::new(STD_PIECES, move || for_each_pieces(threads, &mut p)),
    ]
}

/// A cheap integer hash summed over `inputs` with no mapped vector: a serial `map().fold()`,
/// filch's `map_reduce`, rayon's `map().reduce()`, and the fold split by hand. Integers, so
/// every order of combining gives the same sum.
pub fn reduce_cases<'a>(inputs: &'a [u64], pools: &'a Pools) -> Vec<Case<'a, u64>> {
    let f = |&x: &u64| x.wrapping_mul(x) ^ (x >> 3);
    let add = u64::wrapping_add;
    rows(
        pools,
        move || inputs.iter().map(f).fold(0, add),
        move |filch| filch.map_reduce(inputs, f, || 0, add),
        move |pool| pool.install(|| inputs.par_iter().map(f).reduce(|| 0, add)),
        move |threads| fold_pieces(threads, inputs, f, add),
    )
}

/// The polynomial of item `i`, as every range row computes it.
fn poly_at(i: usize) -> f64 {
    poly(i as f64)
}

/// The comparison of `shape` at `n` items. Rows over an owned `Vec` clone the input inside
/// the timed run, on the calling thread.
pub fn shape_cases<'a>(
    shape: Shape,
    inputs: &'a [f64],
    n: usize,
    pools: &'a Pools,
) -> Vec<Case<'a, Vec<f64>>> {
    let f = |&z: &f64| poly(z);
    match shape {
        Shape::Slice => rows(
            pools,
            move || inputs.iter().map(f).collect(),
            move |filch| filch.map(inputs, f),
            move |pool| pool.install(|| inputs.par_iter().map(f).collect()),
            move |threads| pieces_over(threads, inputs, f),
        ),
        Shape::Vec => rows(
            pools,
            move || {
                let owned = inputs.to_vec();
                owned.into_iter().map(poly).collect()
            },
            move |filch| filch.map(inputs.to_vec(), poly),
            move |pool| {
                let owned = inputs.to_vec();
                pool.install(|| owned.into_par_iter().map(poly).collect())
            },
            move |threads| {
                let owned = inputs.to_vec();
                pieces_over(threads, &owned, f)
            },
        ),
        Shape::Range => rows(
            pools,
            move || (0..n).map(poly_at).collect(),
            move |filch| filch.map(0..n, poly_at),
            move |pool| pool.install(|| (0..n).into_par_iter().map(poly_at).collect()),
            move |threads| {
                fill_pieces(threads, n, |range, out| {
                    for (slot, i) in out.iter_mut().zip(range) {
                        slot.write(poly_at(i));
                    }
                })
            },
        ),
    }
}

/// The comparison of `form` over `inputs`; the std rows split the plain loop over the same
/// inputs, what this machine's memory allows, which the promises judge a form against.
pub fn form_cases<'a>(
    form: Form,
    inputs: &'a [f64],
    pairs: &'a [(f64, f64)],
    pools: &'a Pools,
) -> Vec<Case<'a, Vec<f64>>> {
    let f = |&z: &f64| poly(z);
    let g = |a: f64, b: f64| poly(a) + b;
    let ok = |&z: &f64| Ok::<f64, ()>(poly(z));
    let counted = |count: &mut u64, &z: &f64| {
        *count += 1;
        poly(z) + black_box(0.0) * *count as f64
    };
    let chunked = move |filch: &filch::Pool| {
        filch
            .with_chunk_size(CHUNK)
            .unwrap_or_else(|e| panic!("chunk size {CHUNK}: {e}"))
            .map(inputs, f)
    };
    match form {
        Form::Starmap => rows(
            pools,
            move || {
                let owned = pairs.to_vec();
                owned.into_iter().map(|(a, b)| g(a, b)).collect()
            },
            move |filch| filch.starmap(pairs.to_vec(), g),
            move |pool| {
                let owned = pairs.to_vec();
                pool.install(|| owned.into_par_iter().map(|(a, b)| g(a, b)).collect())
            },
            move |threads| {
                let owned = pairs.to_vec();
                pieces_over(threads, &owned, |&(a, b)| g(a, b))
            },
        ),
        Form::TryMap => rows(
            pools,
            move || inputs.iter().map(ok).collect::<Result<_, _>>().unwrap(),
            move |filch| filch.try_map(inputs, ok).unwrap(),
            move |pool| {
                let all = pool.install(|| inputs.par_iter().map(ok).collect::<Result<_, _>>());
                all.unwrap()
            },
            move |threads| pieces_over(threads, inputs, f),
        ),
        Form::MapInit => rows(
            pools,
            move || {
                let mut count = 0;
                inputs.iter().map(|z| counted(&mut count, z)).collect()
            },
            move |filch| filch.map_init(inputs, || 0, counted),
            move |pool| pool.install(|| inputs.par_iter().map_init(|| 0, counted).collect()),
            move |threads| {
                fill_pieces(threads, inputs.len(), |range, out| {
                    let mut count = 0;
                    for (slot, z) in out.iter_mut().zip(&inputs[range]) {
                        slot.write(counted(&mut count, z));
                    }
                })
            },
        ),
        Form::Chunked => rows(
            pools,
            move || inputs.iter().map(f).collect(),
            chunked,
            move |pool| pool.install(|| inputs.par_iter().with_min_len(CHUNK).map(f).collect()),
            move |threads| pieces_over(threads, inputs, f),
        ),
    }
}

/// Runs the section.
pub fn run(cfg: &BigConfig, plan: &Plan, pools: &Pools, progress: &mut Progress) -> BigResult {
    let threads = pools.threads();
    let sizes = cfg.sizes.iter().copied();
    let largest = sizes.chain([cfg.forms_items, cfg.peak_items]).max();
    let all: Vec<f64> = (0..largest.unwrap_or(0)).map(|i| i as f64).collect();
    let mut comparisons = Vec::new();
    let mut add = |title: String, what: &str, n: usize, note: &str, outcomes| {
        let c = Comparison::new(title, format!("{what}, {threads} threads"), outcomes);
        let c = c.per(n as f64, "item");
        comparisons.push(if note.is_empty() { c } else { c.note(note) });
    };
    for &n in &cfg.sizes {
        for shape in Shape::ALL {
            let title = shape_title(shape, n);
            progress.step(&title);
            let outcomes = compare(shape_cases(shape, &all[..n], n, pools), plan);
            let note = match shape {
                Shape::Vec => format!("{PAGES_NOTE} {VEC_NOTE}"),
                _ => PAGES_NOTE.to_string(),
            };
            add(title, "seed 000's polynomial", n, &note, outcomes);
        }
    }
    let n = cfg.forms_items;
    let inputs = &all[..n];
    let pairs: Vec<(f64, f64)> = inputs.iter().map(|&z| (z, 1.0)).collect();
    for form in Form::ALL {
        let title = form_title(form, n);
        progress.step(&title);
        let outcomes = compare(form_cases(form, inputs, &pairs, pools), plan);
        add(
            title,
            "seed 000's polynomial over a slice",
            n,
            PAGES_NOTE,
            outcomes,
        );
    }
    progress.step(IN_PLACE_TITLE);
    let outcomes = compare(in_place_cases(inputs, pools), plan);
    let title = format!("{IN_PLACE_TITLE}, {} items", fmt_count(n as u64));
    add(title, "x = fract(x / 2 + 1) in place", n, "", outcomes);
    progress.step(REDUCE_TITLE);
    let ints: Vec<u64> = (0..n as u64).collect();
    let outcomes = compare(reduce_cases(&ints, pools), plan);
    let title = format!("{REDUCE_TITLE}, {} items", fmt_count(n as u64));
    add(title, "x² xor x/8 summed", n, "", outcomes);
    progress.step("big input: peak memory");
    let peaks = peak_memory(&all[..cfg.peak_items], pools);
    BigResult {
        comparisons,
        peak_items: cfg.peak_items,
        peaks,
    }
}

/// The peak memory of one map over `inputs` per system, each run once after a warm-up
/// run: every slice row, then filch over an owned `Vec` (whose peak includes the clone
/// it consumes).
fn peak_memory(inputs: &[f64], pools: &Pools) -> Vec<Peak> {
    let n = inputs.len();
    let slice = shape_cases(Shape::Slice, inputs, n, pools).into_iter();
    let owned = shape_cases(Shape::Vec, inputs, n, pools)
        .into_iter()
        .filter(|case| case.name() == "filch");
    slice
        .map(|case| (case.name().to_string(), case))
        .chain(owned.map(|case| ("filch, owned Vec (with its clone)".to_string(), case)))
        .map(|(name, mut case)| {
            drop(case.run_once());
            let (out, bytes) = peak_during(|| case.run_once());
            drop(black_box(out));
            Peak { name, bytes }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of every shape and form computes the serial loop's output, and the std
    /// pieces fill every slot (an odd length leaves a short last piece).
    #[test]
    fn every_row_maps_the_same_items_to_the_same_outputs() {
        let pools = Pools::new(2).expect("pools");
        let n = 10_001;
        let inputs: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let pairs: Vec<(f64, f64)> = inputs.iter().map(|&z| (z, 1.0)).collect();
        let want: Vec<f64> = inputs.iter().map(|&z| poly(z)).collect();
        for shape in Shape::ALL {
            for mut case in shape_cases(shape, &inputs, n, &pools) {
                assert!(
                    case.run_once() == want,
                    "{} over a {}",
                    case.name(),
                    shape.name()
                );
            }
        }
        for form in Form::ALL {
            let mut cases = form_cases(form, &inputs, &pairs, &pools);
            let expected = cases[0].run_once();
            for mut case in cases {
                assert!(
                    case.run_once() == expected,
                    "{}: {}",
                    form.name(),
                    case.name()
                );
            }
        }
    }

    /// Every in-place row updates its buffer as the serial loop does, and every
    /// reducing row returns the serial sum.
    #[test]
    fn in_place_and_reducing_rows_agree_with_serial() {
        let pools = Pools::new(2).expect("pools");
        let inputs: Vec<f64> = (0..10_001).map(|i| i as f64 * 0.37).collect();
        let mut want = inputs.clone();
        want.iter_mut().for_each(update);
        let filch = &pools.filch;
        let mut buf = inputs.clone();
        filch.for_each(&mut buf, update);
        assert!(buf == want, "filch's for_each");
        let mut buf = inputs.clone();
        filch.install(|| filch.for_each(&mut buf, update));
        assert!(buf == want, "filch's for_each on a worker");
        for threads in [1, 2, 3, 20_000] {
            let mut buf = inputs.clone();
            for_each_pieces(threads, &mut buf);
            assert!(buf == want, "std pieces, {threads} threads");
        }
        for mut case in in_place_cases(&inputs, &pools) {
            case.run_once();
        }
        let ints: Vec<u64> = (0..10_001).collect();
        let mut cases = reduce_cases(&ints, &pools);
        let expected = cases[0].run_once();
        for mut case in cases {
            assert_eq!(case.run_once(), expected, "{}", case.name());
        }
        let f = |&x: &u64| x.wrapping_mul(x) ^ (x >> 3);
        for threads in [1, 3, 20_000] {
            assert_eq!(fold_pieces(threads, &ints, f, u64::wrapping_add), expected);
        }
        assert_eq!(fold_pieces(2, &[], f, u64::wrapping_add), 0);
    }

    #[test]
    fn peaks_are_not_counted_without_the_counting_allocator() {
        let pools = Pools::new(2).expect("pools");
        let inputs: Vec<f64> = (0..1_000).map(|i| i as f64).collect();
        let peaks = peak_memory(&inputs, &pools);
        assert_eq!(peaks.len(), 6);
        assert!(peaks.iter().all(|p| p.bytes.is_none()), "{peaks:?}");
    }
}
