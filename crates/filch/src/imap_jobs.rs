//! Where an `imap`'s chunk jobs run: detached on the pool ([`PoolJobs`],
//! for `'static` data) or on a scope that waits for them ([`ScopeJobs`],
//! for borrowed data: see `imap_scope.rs`).

use std::fmt;

use filch_scheduler::{Scope, ThreadPool};

/// How an `imap` queues a chunk job that may borrow for `'s`.
pub trait Jobs<'s>: sealed::Sealed {
    /// Queues `job`.
    #[doc(hidden)]
    fn queue<J: FnOnce() + Send + 's>(&self, job: J);
}

mod sealed {
    pub trait Sealed {}
}

/// Chunk jobs detached on a pool: the default of [`Imap`](crate::Imap) and
/// [`ImapUnordered`](crate::ImapUnordered), for `'static` data.
///
/// ```
/// let pool = filch::Pool::new();
/// let it: filch::Imap<'_, std::ops::Range<u64>, _, u64, filch::PoolJobs<'_>> =
///     pool.imap(0..3u64, |x| x + 1);
/// assert_eq!(it.collect::<Vec<_>>(), [1, 2, 3]);
/// ```
#[derive(Clone, Copy)]
pub struct PoolJobs<'p>(pub(crate) &'p ThreadPool);

/// Chunk jobs on a scope, which waits for them: the jobs of an `imap`
/// made by [`ImapScope`](crate::ImapScope).
///
/// ```
/// let pool = filch::Pool::new();
/// let data = vec![1u64, 2, 3];
/// let sum: u64 = pool.imap_scope(|s| s.imap(&data, |x| x * 10).sum());
/// assert_eq!(sum, 60);
/// ```
#[derive(Clone, Copy)]
pub struct ScopeJobs<'p, 's>(&'p Scope<'s>);

impl<'p, 's> ScopeJobs<'p, 's> {
    pub(crate) fn new(scope: &'p Scope<'s>) -> Self {
        ScopeJobs(scope)
    }
}

impl fmt::Debug for PoolJobs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PoolJobs")
    }
}

impl fmt::Debug for ScopeJobs<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ScopeJobs")
    }
}

impl sealed::Sealed for PoolJobs<'_> {}
impl sealed::Sealed for ScopeJobs<'_, '_> {}

impl Jobs<'static> for PoolJobs<'_> {
    fn queue<J: FnOnce() + Send + 'static>(&self, job: J) {
        self.0.spawn(job);
    }
}

impl<'s> Jobs<'s> for ScopeJobs<'_, 's> {
    fn queue<J: FnOnce() + Send + 's>(&self, job: J) {
        self.0.spawn(move |_| job());
    }
}
