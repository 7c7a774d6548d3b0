//! Whole programs in the style of rayon's demos, written the way a user of either library
//! writes them (a parallel map over rows, bodies or segments, the serial rest around it),
//! each run three ways: from outside the pool, inside `pool.install` (the habit every rayon
//! user brings, and how a library built on filch calls it), and with rayon inside its own
//! pool. Each program's result is checked against the serial program.
//!
//! | program | the parallel part |
//! |---|---|
//! | n-body | per step, every body's acceleration from all others (`map` over body indices) |
//! | matrix multiply | one output row per item (`map` over row indices) |
//! | game of life | per generation, one new row per item |
//! | segmented sieve | primes counted per 32 Ki-number segment, then summed |
//! | Pythagorean triples | triples with a given shortest side per item, then summed |

use rayon::prelude::*;

use crate::comparison::Comparison;
use crate::config::ProgramsConfig;
use crate::measure::{compare, Case, Plan};
use crate::progress::Progress;
use crate::systems::Pools;

/// Title prefix of every program's comparison.
pub const TITLE: &str = "program";

/// Label of the rows run inside `pool.install`.
pub const FILCH_INSTALL: &str = "filch, inside install";

/// Steps the section reports to the progress bar.
pub const STEPS: u64 = 5;

/// How a program's parallel maps are run: `map(n, f)` is `(0..n).map(f).collect()`.
trait Mapper: Sync {
    fn map<R: Send, F: Fn(usize) -> R + Sync + Send>(&self, n: usize, f: F) -> Vec<R>;
}

struct Serial;

impl Mapper for Serial {
    fn map<R: Send, F: Fn(usize) -> R + Sync + Send>(&self, n: usize, f: F) -> Vec<R> {
        (0..n).map(f).collect()
    }
}

struct Filch<'p>(&'p filch::Pool);

impl Mapper for Filch<'_> {
    fn map<R: Send, F: Fn(usize) -> R + Sync + Send>(&self, n: usize, f: F) -> Vec<R> {
        self.0.map(0..n, f)
    }
}

struct Rayon;

impl Mapper for Rayon {
    fn map<R: Send, F: Fn(usize) -> R + Sync + Send>(&self, n: usize, f: F) -> Vec<R> {
        (0..n).into_par_iter().map(f).collect()
    }
}

/// One body: position, velocity, mass.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Body {
    pos: [f64; 3],
    vel: [f64; 3],
    mass: f64,
}

/// `bodies` bodies on a deterministic spiral, moved `steps` steps; the final positions.
fn nbody<M: Mapper>(m: &M, bodies: usize, steps: usize) -> Vec<[f64; 3]> {
    let mut state: Vec<Body> = (0..bodies)
        .map(|i| {
            let t = i as f64 * 0.1;
            Body {
                pos: [
                    t.cos() * (1.0 + t),
                    t.sin() * (1.0 + t),
                    (i % 7) as f64 * 0.1,
                ],
                vel: [0.0; 3],
                mass: 1.0 + (i % 3) as f64,
            }
        })
        .collect();
    let dt = 0.001;
    for _ in 0..steps {
        let now = &state;
        let acc = m.map(bodies, |i| {
            let me = now[i].pos;
            let mut a = [0.0; 3];
            for other in now {
                let d = [
                    other.pos[0] - me[0],
                    other.pos[1] - me[1],
                    other.pos[2] - me[2],
                ];
                let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + 0.01;
                let f = other.mass / (r2 * r2.sqrt());
                for k in 0..3 {
                    a[k] += d[k] * f;
                }
            }
            a
        });
        for (b, a) in state.iter_mut().zip(&acc) {
            for ((v, p), a) in b.vel.iter_mut().zip(&mut b.pos).zip(a) {
                *v += a * dt;
                *p += *v * dt;
            }
        }
    }
    state.iter().map(|b| b.pos).collect()
}

/// `n × n` matrices multiplied, one output row per item.
fn matmul<M: Mapper>(m: &M, a: &[f64], b_t: &[f64], n: usize) -> Vec<Vec<f64>> {
    m.map(n, |i| {
        let row = &a[i * n..(i + 1) * n];
        (0..n)
            .map(|j| {
                let col = &b_t[j * n..(j + 1) * n];
                row.iter().zip(col).map(|(x, y)| x * y).sum()
            })
            .collect()
    })
}

/// Conway's game of life on a `size × size` torus, `generations` generations from a
/// deterministic start; the final grid.
fn life<M: Mapper>(m: &M, size: usize, generations: usize) -> Vec<Vec<u8>> {
    let mut grid: Vec<Vec<u8>> = (0..size)
        .map(|y| {
            (0..size)
                .map(|x| u8::from((x * 7 + y * 13) % 5 == 0))
                .collect()
        })
        .collect();
    for _ in 0..generations {
        let now = &grid;
        grid = m.map(size, |y| {
            let (up, down) = (&now[(y + size - 1) % size], &now[(y + 1) % size]);
            let row = &now[y];
            (0..size)
                .map(|x| {
                    let (l, r) = ((x + size - 1) % size, (x + 1) % size);
                    let n = up[l] + up[x] + up[r] + row[l] + row[r] + down[l] + down[x] + down[r];
                    u8::from(n == 3 || (n == 2 && row[x] == 1))
                })
                .collect()
        });
    }
    grid
}

/// Numbers per sieve segment.
const SEGMENT: usize = 1 << 15;

/// The primes below `limit`, counted by a segmented sieve, one segment per item.
fn sieve<M: Mapper>(m: &M, limit: usize) -> usize {
    let root = (limit as f64).sqrt() as usize + 1;
    let mut small = vec![true; root + 1];
    let mut base = Vec::new();
    for p in 2..=root {
        if small[p] {
            base.push(p);
            for q in (p * p..=root).step_by(p) {
                small[q] = false;
            }
        }
    }
    let base = &base;
    let counts = m.map(limit.div_ceil(SEGMENT), |s| {
        let (lo, hi) = (s * SEGMENT, ((s + 1) * SEGMENT).min(limit));
        let mut prime = vec![true; hi - lo];
        for &p in base {
            let first = (p * p).max(lo.div_ceil(p) * p);
            for q in (first..hi).step_by(p) {
                prime[q - lo] = false;
            }
        }
        (lo..hi)
            .zip(&prime)
            .filter(|&(n, &ok)| ok && n >= 2)
            .count()
    });
    counts.iter().sum()
}

/// Pythagorean triples `a < b < c ≤ limit`, counted per shortest side `a`.
fn pythagoras<M: Mapper>(m: &M, limit: usize) -> usize {
    let counts = m.map(limit, |a| {
        let a = a as u64 + 1;
        let limit = limit as u64;
        let mut count = 0;
        let mut b = a + 1;
        while b <= limit {
            let c2 = a * a + b * b;
            let c = (c2 as f64).sqrt() as u64;
            if c > limit {
                break;
            }
            if c * c == c2 {
                count += 1;
            }
            b += 1;
        }
        count
    });
    counts.iter().sum()
}

/// The four rows of one program: serial, filch from outside, filch inside `install`, rayon.
fn cases<'a, O, P>(pools: &'a Pools, program: P) -> Vec<Case<'a, O>>
where
    O: Send + 'a,
    P: Fn(&dyn Run) -> O + Copy + Send + Sync + 'a,
{
    let (filch, rayon) = (&pools.filch, &pools.rayon);
    vec![
        Case::new("serial", move || program(&Serial)),
        Case::new("filch", move || program(&Filch(filch))),
        Case::new(FILCH_INSTALL, move || {
            filch.install(|| program(&Filch(filch)))
        }),
        Case::new("rayon", move || rayon.install(|| program(&Rayon))),
    ]
}

/// A program over any [`Mapper`], for [`cases`] (which cannot be generic over one).
trait Run: Sync {
    fn nbody(&self, bodies: usize, steps: usize) -> Vec<[f64; 3]>;
    fn matmul(&self, a: &[f64], b_t: &[f64], n: usize) -> Vec<Vec<f64>>;
    fn life(&self, size: usize, generations: usize) -> Vec<Vec<u8>>;
    fn sieve(&self, limit: usize) -> usize;
    fn pythagoras(&self, limit: usize) -> usize;
}

impl<M: Mapper> Run for M {
    fn nbody(&self, bodies: usize, steps: usize) -> Vec<[f64; 3]> {
        nbody(self, bodies, steps)
    }
    fn matmul(&self, a: &[f64], b_t: &[f64], n: usize) -> Vec<Vec<f64>> {
        matmul(self, a, b_t, n)
    }
    fn life(&self, size: usize, generations: usize) -> Vec<Vec<u8>> {
        life(self, size, generations)
    }
    fn sieve(&self, limit: usize) -> usize {
        sieve(self, limit)
    }
    fn pythagoras(&self, limit: usize) -> usize {
        pythagoras(self, limit)
    }
}

/// Runs the section: one comparison per program.
pub fn run(
    cfg: &ProgramsConfig,
    plan: &Plan,
    pools: &Pools,
    progress: &mut Progress,
) -> Vec<Comparison> {
    let threads = pools.threads();
    let mut out = Vec::new();

    progress.step("program: n-body");
    let (bodies, steps) = (cfg.bodies, cfg.steps);
    out.push(Comparison::new(
        format!("{TITLE}: n-body"),
        format!("{bodies} bodies, {steps} steps, {threads} threads"),
        compare(cases(pools, move |r| r.nbody(bodies, steps)), plan),
    ));

    progress.step("program: matrix multiply");
    let n = cfg.matrix;
    let a: Vec<f64> = (0..n * n).map(|i| (i % 17) as f64 * 0.5).collect();
    let b_t: Vec<f64> = (0..n * n).map(|i| (i % 13) as f64 * 0.25).collect();
    let (a, b_t) = (&a, &b_t);
    out.push(Comparison::new(
        format!("{TITLE}: matrix multiply"),
        format!("{n} × {n} f64, one row per item, {threads} threads"),
        compare(cases(pools, move |r| r.matmul(a, b_t, n)), plan),
    ));

    progress.step("program: game of life");
    let (size, generations) = (cfg.life, cfg.generations);
    out.push(Comparison::new(
        format!("{TITLE}: game of life"),
        format!(
            "{size} × {size} torus, {generations} generations, one row per item, {threads} threads"
        ),
        compare(cases(pools, move |r| r.life(size, generations)), plan),
    ));

    progress.step("program: segmented sieve");
    let limit = cfg.sieve;
    out.push(Comparison::new(
        format!("{TITLE}: segmented sieve"),
        format!("primes below {limit}, one {SEGMENT}-number segment per item, {threads} threads"),
        compare(cases(pools, move |r| r.sieve(limit)), plan),
    ));

    progress.step("program: Pythagorean triples");
    let limit = cfg.pythagoras;
    out.push(Comparison::new(
        format!("{TITLE}: Pythagorean triples"),
        format!("c ≤ {limit}, one shortest side per item, {threads} threads"),
        compare(cases(pools, move |r| r.pythagoras(limit)), plan),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_give_known_answers_on_every_system() {
        let pools = Pools::new(2).expect("pools");
        for r in [&Serial as &dyn Run, &Filch(&pools.filch), &Rayon] {
            assert_eq!(r.sieve(100), 25);
            assert_eq!(r.sieve(1_000_000), 78_498);
            // (3,4,5) (6,8,10) (5,12,13) (9,12,15) (8,15,17) (12,16,20)
            assert_eq!(r.pythagoras(20), 6);
            let n = 3;
            let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
            let identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
            assert_eq!(r.matmul(&a, &identity, n)[1], vec![4.0, 5.0, 6.0]);
        }
        // Life and n-body: filch's result is the serial program's.
        assert_eq!(life(&Serial, 16, 4), life(&Filch(&pools.filch), 16, 4));
        assert_eq!(nbody(&Serial, 50, 3), nbody(&Filch(&pools.filch), 50, 3));
    }
}
