//! A cheap clock for the adaptive probe. `Instant::now()` costs ~25-50 ns on
//! the machines filch is measured on; reading the TSC costs ~12 ns, which is what
//! lets a 100-item `map` stay within a few times a plain loop.
//!
//! Ticks are converted to nanoseconds with a ratio calibrated once per
//! process against `Instant` (200 µs of spinning, done when the first pool
//! is built, so never inside a timed call). Off x86_64 a tick is a
//! nanosecond from `Instant`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long calibration spins: long enough that `Instant`'s own cost (tens of
/// ns) is a 0.1% error on the ratio, short enough to hide in pool start-up.
const CALIBRATION: Duration = Duration::from_micros(200);

static TICKS_PER_NS: OnceLock<f64> = OnceLock::new();

/// The current tick count.
#[inline]
pub(crate) fn now() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` exists on every x86_64 CPU and only reads the time
        // stamp counter; it touches no memory.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// Measures the tick rate once per process; later calls return at once.
pub(crate) fn calibrate() -> f64 {
    *TICKS_PER_NS.get_or_init(|| {
        if cfg!(not(target_arch = "x86_64")) {
            return 1.0;
        }
        let (t0, c0) = (Instant::now(), now());
        while t0.elapsed() < CALIBRATION {
            std::hint::spin_loop();
        }
        let (t1, c1) = (Instant::now(), now());
        let ns = (t1 - t0).as_nanos().max(1) as f64;
        let ratio = c1.wrapping_sub(c0) as f64 / ns;
        // A TSC that does not advance (some VMs) would make every item look
        // free; fall back to a plausible rate rather than never going parallel.
        if ratio.is_finite() && ratio > 0.01 {
            ratio
        } else {
            1.0
        }
    })
}

/// Converts nanoseconds to ticks.
#[inline]
pub(crate) fn ticks(ns: u64) -> u64 {
    (ns as f64 * calibrate()) as u64
}

/// Converts ticks to nanoseconds.
#[inline]
pub(crate) fn nanos(ticks: u64) -> u64 {
    (ticks as f64 / calibrate()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_track_wall_time_within_a_factor_of_two() {
        calibrate();
        let (t0, c0) = (Instant::now(), now());
        std::thread::sleep(Duration::from_millis(20));
        let wall = t0.elapsed().as_nanos() as f64;
        let measured = nanos(now() - c0) as f64;
        assert!(
            measured > wall * 0.5 && measured < wall * 2.0,
            "clock says {measured} ns for {wall} ns of wall time"
        );
    }

    #[test]
    fn conversion_round_trips() {
        let t = ticks(1_000_000);
        let back = nanos(t);
        assert!((999_000..=1_001_000).contains(&back), "{back}");
    }
}
