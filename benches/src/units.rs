//! Formatting of the numbers the report prints: durations in nanoseconds, ratios, work sizes
//! and item counts. Kept in one place so the text tables, the Markdown report and the plots
//! agree on how a number reads.

/// Formats a duration given in nanoseconds with a unit that keeps three significant digits:
/// `812 ns`, `1.23 µs`, `45.6 ms`, `1.20 s`.
pub fn fmt_ns(ns: f64) -> String {
    if !ns.is_finite() {
        return "n/a".to_string();
    }
    let (value, unit) = if ns.abs() < 1e3 {
        (ns, "ns")
    } else if ns.abs() < 1e6 {
        (ns / 1e3, "µs")
    } else if ns.abs() < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", three_digits(value))
}

/// Formats a ratio such as a speed-up: `0.052x`, `1.93x`, `12.4x`.
pub fn fmt_ratio(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "n/a".to_string();
    }
    format!("{}x", three_digits(ratio))
}

/// Formats a per-item work size given in whole nanoseconds, using the round unit the sweep
/// steps through: `1 ns`, `100 ns`, `10 µs`, `1 ms`.
pub fn fmt_work(ns: u64) -> String {
    if ns >= 1_000_000 && ns % 1_000_000 == 0 {
        format!("{} ms", ns / 1_000_000)
    } else if ns >= 1_000 && ns % 1_000 == 0 {
        format!("{} µs", ns / 1_000)
    } else {
        format!("{ns} ns")
    }
}

/// Formats an item count the way the report names sizes: `10`, `1000`, `10^5`, `10^6`;
/// counts that are not a power of ten above 1000 are printed with `_` separators.
pub fn fmt_count(n: u64) -> String {
    if n >= 10_000 && is_power_of_ten(n) {
        format!("10^{}", n.ilog10())
    } else if n >= 10_000 {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push('_');
            }
            out.push(c);
        }
        out
    } else {
        n.to_string()
    }
}

fn is_power_of_ten(n: u64) -> bool {
    n > 0 && 10u64.pow(n.ilog10()) == n
}

/// Three significant digits without scientific notation (`0.0523`, `1.23`, `45.6`, `812`).
fn three_digits(value: f64) -> String {
    let magnitude = value.abs();
    let decimals = if magnitude == 0.0 || magnitude >= 100.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        // 0.0523 -> 4 decimals; more leading zeros -> more decimals, capped for sanity.
        let leading_zeros = (-magnitude.log10()).floor() as usize;
        (leading_zeros + 3).min(9)
    };
    format!("{value:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_unit_with_three_significant_digits() {
        assert_eq!(fmt_ns(812.0), "812 ns");
        assert_eq!(fmt_ns(1_234.0), "1.23 µs");
        assert_eq!(fmt_ns(45_600_000.0), "45.6 ms");
        assert_eq!(fmt_ns(1.2e9), "1.20 s");
        assert_eq!(fmt_ns(3.456), "3.46 ns");
        assert_eq!(fmt_ns(f64::NAN), "n/a");
    }

    #[test]
    fn ratios_keep_small_values_readable() {
        assert_eq!(fmt_ratio(1.934), "1.93x");
        assert_eq!(fmt_ratio(0.05234), "0.0523x");
        assert_eq!(fmt_ratio(12.44), "12.4x");
        assert_eq!(fmt_ratio(f64::INFINITY), "n/a");
    }

    #[test]
    fn work_sizes_use_round_units() {
        assert_eq!(fmt_work(1), "1 ns");
        assert_eq!(fmt_work(100), "100 ns");
        assert_eq!(fmt_work(10_000), "10 µs");
        assert_eq!(fmt_work(1_000_000), "1 ms");
        assert_eq!(fmt_work(1_500), "1500 ns");
    }

    #[test]
    fn counts_use_powers_of_ten_when_round() {
        assert_eq!(fmt_count(10), "10");
        assert_eq!(fmt_count(1000), "1000");
        assert_eq!(fmt_count(100_000), "10^5");
        assert_eq!(fmt_count(123_456), "123_456");
    }
}
