//! Dropping an `imap` or `imap_unordered` cancels the chunks not yet
//! started: after the drop, the mapped function runs only for the rest of
//! the chunks already running (at most one per worker).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{pool, watchdog};

/// Each item's cost: long enough that the whole window (`4 × threads`
/// chunks) cannot have finished by the time the consumer drops it.
const ITEM: Duration = Duration::from_millis(20);

#[test]
fn dropping_imap_runs_only_the_chunks_already_running() {
    watchdog("imap drop cancels", || {
        for threads in [1, 2, 4] {
            for chunk in [1, 2] {
                for ordered in [true, false] {
                    let calls = Arc::new(AtomicUsize::new(0));
                    let f = {
                        let calls = Arc::clone(&calls);
                        move |x: u64| {
                            calls.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(ITEM);
                            x
                        }
                    };
                    let chunked = pool(threads).with_chunk_size(chunk).unwrap();
                    let mut iter: Box<dyn Iterator<Item = u64>> = if ordered {
                        Box::new(chunked.imap(0u64.., f))
                    } else {
                        Box::new(chunked.imap_unordered(0u64.., f))
                    };
                    assert!(iter.next().is_some());
                    drop(iter);
                    let at_drop = calls.load(Ordering::SeqCst);
                    // Let the running chunks finish.
                    std::thread::sleep(ITEM * (chunk as u32 + 2) * 2);
                    let after = calls.load(Ordering::SeqCst);
                    let what = format!("{threads} threads, chunk {chunk}, ordered {ordered}");
                    // Each worker finishes at most the chunk it had started.
                    assert!(
                        after <= at_drop + threads * chunk,
                        "{what}: {at_drop} calls at the drop, {after} after: pending chunks ran"
                    );
                }
            }
        }
    });
}
