//! What machine the numbers came from: CPU model, logical CPUs, OS, kernel, compiler and
//! build profile, and when. Read from `/proc`, `/etc/os-release` and `rustc --version`;
//! anything unreadable is reported as `unknown` rather than failing the run.

use std::fs;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::table::Table;

/// A description of the machine and build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `std::thread::available_parallelism()`.
    pub logical_cpus: usize,
    /// `PRETTY_NAME` from `/etc/os-release`.
    pub os: String,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: String,
    /// `rustc --version` (the `RUSTC` cargo sets, else `rustc` on `PATH`).
    pub rustc: String,
    /// `release` or `debug` (debug numbers are meaningless).
    pub profile: String,
    /// UTC time of the run, `YYYY-MM-DD HH:MM`.
    pub utc: String,
    /// `/proc/loadavg`'s 1, 5 and 15 minute load averages when the run started: a load
    /// near the core count means something else was competing for the CPUs.
    pub load: String,
}

const UNKNOWN: &str = "unknown";

impl Machine {
    /// A made-up machine for the report's and the targets' unit tests.
    #[cfg(test)]
    pub(crate) fn fixture() -> Machine {
        Machine {
            cpu_model: "cpu".into(),
            logical_cpus: 2,
            os: "os".into(),
            kernel: "k".into(),
            rustc: "rustc".into(),
            profile: "release".into(),
            utc: "2026-01-01 00:00".into(),
            load: "0.00 0.00 0.00".into(),
        }
    }

    /// Reads the current machine.
    pub fn detect() -> Machine {
        let read = |path: &str| fs::read_to_string(path).ok();
        Machine {
            cpu_model: read("/proc/cpuinfo")
                .and_then(|s| parse_cpu_model(&s))
                .unwrap_or_else(|| UNKNOWN.to_string()),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: read("/etc/os-release")
                .and_then(|s| parse_os_release(&s))
                .unwrap_or_else(|| std::env::consts::OS.to_string()),
            kernel: read("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|| UNKNOWN.to_string()),
            rustc: rustc_version().unwrap_or_else(|| UNKNOWN.to_string()),
            profile: if cfg!(debug_assertions) {
                "debug (numbers are meaningless: use --release)".to_string()
            } else {
                "release".to_string()
            },
            utc: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| utc_string(d.as_secs()))
                .unwrap_or_else(|_| UNKNOWN.to_string()),
            load: read("/proc/loadavg")
                .and_then(|s| parse_loadavg(&s))
                .unwrap_or_else(|| UNKNOWN.to_string()),
        }
    }

    /// A two-column table of the fields.
    pub fn table(&self, threads: usize) -> Table {
        let mut t = Table::new(["machine", ""]);
        t.push_row(["CPU".to_string(), self.cpu_model.clone()]);
        t.push_row(["logical CPUs".to_string(), self.logical_cpus.to_string()]);
        t.push_row(["pool threads".to_string(), threads.to_string()]);
        t.push_row(["OS".to_string(), self.os.clone()]);
        t.push_row(["kernel".to_string(), self.kernel.clone()]);
        t.push_row(["rustc".to_string(), self.rustc.clone()]);
        t.push_row(["profile".to_string(), self.profile.clone()]);
        t.push_row(["date (UTC)".to_string(), self.utc.clone()]);
        t.push_row(["load average at start".to_string(), self.load.clone()]);
        t.align[1] = crate::table::Align::Left;
        t
    }
}

/// The first `model name` in `/proc/cpuinfo` text.
pub fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_string())
    })
}

/// `PRETTY_NAME` (unquoted) from `/etc/os-release` text.
pub fn parse_os_release(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix("PRETTY_NAME=")?;
        Some(value.trim().trim_matches('"').to_string())
    })
}

/// The three load averages of `/proc/loadavg` text, e.g. `1.25 0.79 0.34`.
pub fn parse_loadavg(text: &str) -> Option<String> {
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

fn rustc_version() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `YYYY-MM-DD HH:MM` for seconds since the Unix epoch (UTC), by the civil-from-days
/// algorithm (Howard Hinnant's), so no date crate is needed.
pub fn utc_string(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let secs_of_day = unix_secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        secs_of_day / 3_600,
        secs_of_day % 3_600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_is_the_first_model_name() {
        let text = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) @ 2.10GHz\nflags: x\n\
                    processor\t: 1\nmodel name\t: other\n";
        assert_eq!(
            parse_cpu_model(text).as_deref(),
            Some("Intel(R) Xeon(R) @ 2.10GHz")
        );
        assert_eq!(parse_cpu_model("nothing"), None);
    }

    #[test]
    fn os_release_pretty_name_is_unquoted() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(
            parse_os_release(text).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn load_average_keeps_three_fields() {
        assert_eq!(
            parse_loadavg("1.25 0.79 0.34 1/77 18289\n").as_deref(),
            Some("1.25 0.79 0.34")
        );
        assert_eq!(parse_loadavg("1.0"), None);
    }

    #[test]
    fn utc_dates_are_civil_dates() {
        assert_eq!(utc_string(0), "1970-01-01 00:00");
        assert_eq!(utc_string(951_782_400), "2000-02-29 00:00");
        assert_eq!(utc_string(1_700_000_000), "2023-11-14 22:13");
    }
}
