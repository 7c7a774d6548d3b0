//! Large outputs are not advised for transparent huge pages by default, and
//! are advised before they are written once turned on: the kernel shows the
//! advice as the `hg` flag of the mapping that holds the output
//! (`/proc/self/smaps`), whatever the system then does with it.

#![cfg(target_os = "linux")]

use std::fs;

/// The `VmFlags` of the mapping that contains `address`.
fn vm_flags_at(address: usize) -> Vec<String> {
    let smaps = fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let mut inside = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-') {
            if let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) {
                inside = (start..end).contains(&address);
                continue;
            }
        }
        if inside {
            if let Some(flags) = line.strip_prefix("VmFlags:") {
                return flags.split_whitespace().map(str::to_string).collect();
            }
        }
    }
    panic!("no mapping holds {address:#x}");
}

/// The `VmFlags` of the mapping around the middle of `out` (inside a whole
/// 2 MiB page of it), and whether they carry the huge-page advice.
fn advice_of(out: &[u64]) -> (bool, Vec<String>) {
    let flags = vm_flags_at(out.as_ptr() as usize + out.len() * 4);
    (flags.iter().any(|f| f == "hg"), flags)
}

#[test]
fn a_large_output_is_advised_only_when_turned_on() {
    if fs::metadata("/sys/kernel/mm/transparent_hugepage").is_err() {
        // A kernel without transparent huge pages refuses the advice; the
        // maps below still work (every other test covers that).
        return;
    }
    let pool = filch::Pool::builder().threads(2).build().unwrap();
    // 2·10^6 `u64`s: 16 MB, four times the size that is advised.
    let n = 2_000_000u64;

    // The default: not advised.
    let plain = pool.map(0..n, |x| x + 1);
    assert_eq!(plain[12_345], 12_346);
    let (advice, flags) = advice_of(&plain);
    assert!(!advice, "advised by default: {flags:?}");
    drop(plain);

    filch::set_huge_page_outputs(true);
    let advised = pool.map(0..n, |x| x + 1);
    assert_eq!(advised[12_345], 12_346);
    assert_eq!(advised.len() as u64, n);
    let (advice, flags) = advice_of(&advised);
    assert!(
        advice,
        "a 16 MB output was not advised once turned on: {flags:?}"
    );
    drop(advised);

    // Above glibc's largest mmap threshold (32 MiB), so fresh from the
    // kernel: a block of the size just freed may come back from the heap
    // with the advice it had.
    filch::set_huge_page_outputs(false);
    let off_again = pool.map(0..5_000_000u64, |x| x + 1);
    let (advice, flags) = advice_of(&off_again);
    assert!(!advice, "advised after being turned off: {flags:?}");
}
