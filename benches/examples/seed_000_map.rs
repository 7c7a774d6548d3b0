//! Seed 000, "Mapping - Python Multiprocessing": `Pool(4).map(computation, range(10_000_000))`
//! against the built-in `map`, where the pool won 1.7x (52.8 s against 89.4 s), and the same
//! for 10 inputs, where it lost ~900x (0.157 s against 0.00018 s).
//!
//! The main job's port of it, alone: `pool.map(&inputs, computation)` over 10^7 floats on
//! filch, from outside the pool and on one of its workers, beside the plain loop, rayon and
//! `std::thread::scope`, interleaved over rounds, each row checked against the loop. The same
//! table is in the report of `cargo run --release -p filch-bench`; its threshold sweep shows
//! the 10-input end of the seed (a map of 10 cheap items stays within tens of ns of the loop).
//!
//! ```sh
//! cargo run --release -p filch-bench --example seed_000_map
//! ```

fn main() -> Result<(), String> {
    filch_bench::run::print_seed(filch_bench::seeds::Seed::Polynomial)
}
