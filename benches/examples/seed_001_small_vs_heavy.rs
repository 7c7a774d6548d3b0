//! Seed 001, "Multiprocessing In Python": `Pool(processes=12).map(f, ...)` against a for-loop
//! on an 8-core laptop, for `f(x) = x * x` over 100 random ints (the pool ~190x slower: 0.47 s
//! against 0.0025 s) and for 10^5 logarithms per item over 100 items (1.39 s against 1.99 s).
//!
//! The main job's port of it, alone: the squares of 100 and of 1000 random ints, on running
//! pools and on a 12-thread pool built for the call (what `Pool(12)` pays in Python), then the
//! log loop on the shared pools, through `map`, `imap` and `imap_unordered`, and on pools of 12
//! threads, beside the plain loop, rayon and `std::thread::scope`.
//!
//! ```sh
//! cargo run --release -p filch-bench --example seed_001_small_vs_heavy
//! ```

fn main() -> Result<(), String> {
    filch_bench::run::print_seed(filch_bench::seeds::Seed::SmallVsHeavy)
}
