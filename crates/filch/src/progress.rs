//! Progress bars that count **finished** items (feature `progress`): the
//! Rust answer to `tqdm(pool.imap(...))`. A bar that counted started items
//! would race ahead of the work (a common complaint about such wrappers);
//! this one advances when an item's function returns.

pub use indicatif::ProgressBar;

/// Wraps `f` so that `bar` advances by one each time an item finishes.
/// Works with every combinator that takes a one-argument function (`map`,
/// `try_map`, `imap`, `imap_unordered`; for `starmap`, `map` over the tuples).
/// Each finished item costs one atomic increment on the bar.
///
/// ```
/// use filch::progress::{tracked, ProgressBar};
///
/// let pool = filch::Pool::new();
/// let bar = ProgressBar::hidden(); // `ProgressBar::new(len)` draws on stderr
/// let doubled: Vec<u64> = pool.map(0..1000u64, tracked(bar.clone(), |x| x * 2));
/// assert_eq!(doubled[999], 1998);
/// assert_eq!(bar.position(), 1000);
///
/// let bar = ProgressBar::hidden();
/// let first: Vec<u64> = pool.imap(0u64.., tracked(bar.clone(), |x| x + 1)).take(5).collect();
/// assert_eq!(first, [1, 2, 3, 4, 5]);
/// assert!(bar.position() >= 5, "counts finished items, including ones computed ahead");
/// ```
pub fn tracked<T, R, F>(bar: ProgressBar, f: F) -> impl Fn(T) -> R + Send + Sync
where
    F: Fn(T) -> R + Send + Sync,
{
    move |item| {
        let result = f(item);
        bar.inc(1);
        result
    }
}
