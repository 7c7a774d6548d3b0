//! Seed 003, "Using Multiprocessing to Make Python Code Faster": ten items that each square a
//! number, sleep 2 s and name the square's parity, run by a for-loop (20 s), by one
//! `multiprocessing.Process` per item (2.2 s) and by `Pool().map` (4.2 s).
//!
//! The main job's port of it, alone, with 50 ms sleeps: the loop, one `std::thread` per item,
//! `pool.map` with automatic chunks and with chunk size 1, rayon, and the same maps (and `imap`,
//! `imap_unordered`) with each sleep wrapped in `filch::blocking`, which lets spare threads
//! stand in for sleeping workers: about one sleep instead of one per wave of workers.
//!
//! ```sh
//! cargo run --release -p filch-bench --example seed_003_sleeping_items
//! ```

fn main() -> Result<(), String> {
    filch_bench::run::print_seed(filch_bench::seeds::Seed::SleepingItems)
}
