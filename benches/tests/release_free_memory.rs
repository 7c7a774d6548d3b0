//! `release_free_memory` gives a hole in the heap back to the system, so a large block
//! allocated into it afterwards is written through fresh pages, as in a fresh process.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::hint::black_box;

/// Minor page faults of the calling thread so far.
fn thread_faults() -> i64 {
    // SAFETY: `rusage` is plain data, zeroes are a valid value, and `getrusage` only
    // writes into the struct it is given.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut usage), 0);
        usage.ru_minflt
    }
}

/// Faults taken while allocating `bytes` and writing every page of it.
fn faults_to_write(bytes: usize) -> i64 {
    let before = thread_faults();
    let block = black_box(vec![7u8; bytes]);
    let after = thread_faults();
    drop(block);
    after - before
}

#[test]
fn a_block_reusing_a_released_hole_faults_its_pages_again() {
    const MIB: usize = 1 << 20;
    // Freeing a 20 MiB mapped block raises glibc's mmap threshold to it, so the next
    // blocks of 15 MiB come from this thread's heap; freed beneath a live one, they
    // leave a 45 MiB hole there, already faulted in.
    drop(black_box(vec![1u8; 20 * MIB]));
    let parts: Vec<Vec<u8>> = (0..3).map(|_| black_box(vec![1u8; 15 * MIB])).collect();
    let pin = black_box(vec![1u8; 64]);
    drop(parts);

    let pages = (40 * MIB / 4096) as i64;
    let reused = faults_to_write(40 * MIB);
    assert!(
        reused < pages / 10,
        "the set-up should reuse faulted-in memory, yet writing 40 MiB took {reused} faults"
    );
    filch_bench::measure::release_free_memory();
    let released = faults_to_write(40 * MIB);
    assert!(
        released > pages / 2,
        "after the release, writing 40 MiB took only {released} faults of {pages} pages"
    );
    drop(pin);
}
