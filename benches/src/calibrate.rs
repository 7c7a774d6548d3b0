//! Calibration of the spin loop: how many [`workloads::spin_item`](crate::workloads::spin_item)
//! iterations make one nanosecond on this machine, measured once at start-up.
//!
//! The threshold sweep asks for items of `w` ns each. Reading the clock inside an item would
//! cost ~50 ns and distort every cell below a microsecond, so instead the sweep converts `w`
//! into an iteration count with the rate measured here, and the item only spins.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::workloads::spin_item;

/// How long one calibration run should last: long enough that the ~50 ns clock read is
/// noise (< 0.01%), shorter than a scheduler time slice (~3 ms) so that on a busy machine
/// some runs still go through without being descheduled.
const CALIBRATION_RUN: Duration = Duration::from_millis(2);

/// Calibration runs; the fastest is kept. Being descheduled or sharing the core can only
/// make a run slower, never faster, so the fastest run is the one closest to the loop's own
/// speed. (On the 2-core reference VM with a build running beside it, a median of five
/// 10 ms runs came out at 0.45 iterations/ns against 0.76–0.81 when idle.)
const CALIBRATION_RUNS: usize = 25;

/// A calibrated spin: converts nanoseconds of wanted work into loop iterations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spin {
    iters_per_ns: f64,
}

impl Spin {
    /// Measures the spin rate on the current thread.
    pub fn calibrate() -> Spin {
        // Grow the iteration count until one run lasts CALIBRATION_RUN.
        let mut iters: u64 = 1 << 10;
        loop {
            let elapsed = time_spin(iters);
            if elapsed >= CALIBRATION_RUN || iters >= 1 << 40 {
                break;
            }
            let grow =
                (CALIBRATION_RUN.as_secs_f64() / elapsed.as_secs_f64().max(1e-9)).clamp(2.0, 64.0);
            iters = (iters as f64 * grow) as u64;
        }
        let fastest = (0..CALIBRATION_RUNS)
            .map(|_| time_spin(iters))
            .min()
            .unwrap_or(CALIBRATION_RUN);
        Spin::with_rate(iters as f64 / fastest.as_nanos().max(1) as f64)
    }

    /// A spin with a known rate (for tests and for criterion benches that calibrate once).
    ///
    /// # Panics
    /// If `iters_per_ns` is not a positive finite number.
    pub fn with_rate(iters_per_ns: f64) -> Spin {
        assert!(
            iters_per_ns.is_finite() && iters_per_ns > 0.0,
            "spin rate must be positive and finite, got {iters_per_ns}"
        );
        Spin { iters_per_ns }
    }

    /// Iterations per nanosecond.
    pub fn iters_per_ns(&self) -> f64 {
        self.iters_per_ns
    }

    /// Iterations that take about `ns` nanoseconds (0 for 0 ns; 1 ns on a machine slower than
    /// one iteration per ns still rounds to one iteration, the least work an item can do).
    pub fn iters_for(&self, ns: u64) -> u64 {
        if ns == 0 {
            return 0;
        }
        ((ns as f64 * self.iters_per_ns).round() as u64).max(1)
    }
}

fn time_spin(iters: u64) -> Duration {
    let start = Instant::now();
    black_box(spin_item(black_box(iters), 1));
    start.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iteration_counts_scale_with_requested_work() {
        let s = Spin::with_rate(0.5);
        assert_eq!(s.iters_for(0), 0);
        assert_eq!(s.iters_for(1), 1);
        assert_eq!(s.iters_for(1_000), 500);
        assert_eq!(s.iters_for(1_000_000), 500_000);
    }

    #[test]
    #[should_panic(expected = "spin rate must be positive")]
    fn a_zero_rate_is_rejected() {
        Spin::with_rate(0.0);
    }

    /// Calibration sanity: a spin asked to last 1 ms lasts between 0.3 ms and 3 ms. The best
    /// of several tries is used so that one preemption by a parallel test cannot fail it; a
    /// failure means the calibration (not the machine) is off by more than 3x.
    #[test]
    fn one_millisecond_of_spin_takes_about_one_millisecond() {
        let spin_rate = Spin::calibrate();
        let iters = spin_rate.iters_for(1_000_000);
        let best = (0..7).map(|_| time_spin(iters)).min().unwrap();
        let ms = best.as_secs_f64() * 1e3;
        assert!(
            (0.3..=3.0).contains(&ms),
            "spin(1e6 ns) took {ms:.3} ms at {} iters/ns",
            spin_rate.iters_per_ns()
        );
    }
}
