//! The borrowing form of `imap`: iterators whose chunk jobs run on a scope.
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
use crate::imap_jobs::ScopeJobs;

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
            ScopeJobs::new(self.scope),
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
            ScopeJobs::new(self.scope),
            items.into_iter(),
            f,
            self.chunking,
        )
    }
}
