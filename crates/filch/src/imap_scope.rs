//! Where an `imap`'s chunk jobs run, and the borrowing form that needs it.
//!
//! `Pool::imap` queues each chunk as a detached pool job, which may outlive
//! anything but `'static` data: the iterator can be leaked (`mem::forget`)
//! while a job still runs. [`Pool::imap_scope`](crate::Pool::imap_scope)
//! queues them on a [`Scope`] instead, which does not return before every
//! job it started has finished, leaked iterator or not: so inside it `imap`
//! may borrow its items, its function and its results' contents from the
//! caller, for as long as the scope lasts.

use std::fmt;

use filch_scheduler::{Scope, ThreadPool};

use crate::driver::Chunking;
use crate::imap::{Imap, ImapUnordered};

/// How an `imap` queues a chunk job that may borrow for `'s`.
pub trait Jobs<'s>: sealed::Sealed {
    /// Queues `job`.
    #[doc(hidden)]
    fn queue<J: FnOnce() + Send + 's>(&self, job: J);
}

mod sealed {
    pub trait Sealed {}
}

/// Chunk jobs detached on a pool: the default of [`Imap`] and
/// [`ImapUnordered`], for `'static` data.
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
/// made by [`ImapScope`].
///
/// ```
/// let pool = filch::Pool::new();
/// let data = vec![1u64, 2, 3];
/// let sum: u64 = pool.imap_scope(|s| s.imap(&data, |x| x * 10).sum());
/// assert_eq!(sum, 60);
/// ```
#[derive(Clone, Copy)]
pub struct ScopeJobs<'p, 's>(&'p Scope<'s>);

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

/// The handle [`Pool::imap_scope`](crate::Pool::imap_scope) passes to its
/// closure: makes `imap`s whose items, function and results may borrow
/// anything that outlives the scope.
///
/// ```
/// let pool = filch::Pool::new();
/// let words = vec!["a".to_string(), "bb".to_string(), "ccc".to_string()];
/// let suffix = String::from("!");
/// let shouted: Vec<String> = pool.imap_scope(|s| {
///     s.imap(words.iter(), |w| format!("{w}{suffix}")).collect()
/// });
/// assert_eq!(shouted, ["a!", "bb!", "ccc!"]);
/// ```
pub struct ImapScope<'p, 's> {
    pub(crate) pool: &'p ThreadPool,
    pub(crate) scope: &'p Scope<'s>,
    pub(crate) chunking: Chunking,
}

impl fmt::Debug for ImapScope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapScope").finish_non_exhaustive()
    }
}

impl<'p, 's> ImapScope<'p, 's> {
    /// [`Pool::imap`](crate::Pool::imap) over borrowed data: lazy and
    /// ordered, read a bounded distance ahead, as there.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let data: Vec<u64> = (0..100).collect();
    /// let firsts: Vec<u64> = pool.imap_scope(|s| s.imap(&data, |&x| x * x).take(3).collect());
    /// assert_eq!(firsts, [0, 1, 4]);
    /// ```
    pub fn imap<I, F, R>(&self, items: I, f: F) -> Imap<'p, I::IntoIter, F, R, ScopeJobs<'p, 's>>
    where
        I: IntoIterator,
        I::Item: Send + 's,
        F: Fn(I::Item) -> R + Send + Sync + 's,
        R: Send + 's,
    {
        Imap::with_jobs(
            self.pool,
            ScopeJobs(self.scope),
            items.into_iter(),
            f,
            self.chunking,
        )
    }

    /// [`Pool::imap_unordered`](crate::Pool::imap_unordered) over borrowed
    /// data.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let data: Vec<u64> = (0..100).collect();
    /// let mut all: Vec<u64> = pool.imap_scope(|s| s.imap_unordered(&data, |&x| x).collect());
    /// all.sort();
    /// assert_eq!(all, data);
    /// ```
    pub fn imap_unordered<I, F, R>(
        &self,
        items: I,
        f: F,
    ) -> ImapUnordered<'p, I::IntoIter, F, R, ScopeJobs<'p, 's>>
    where
        I: IntoIterator,
        I::Item: Send + 's,
        F: Fn(I::Item) -> R + Send + Sync + 's,
        R: Send + 's,
    {
        ImapUnordered::with_jobs(
            self.pool,
            ScopeJobs(self.scope),
            items.into_iter(),
            f,
            self.chunking,
        )
    }
}
