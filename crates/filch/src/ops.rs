//! The eager combinators, written once over a [`Target`] and a
//! [`Chunking`], so `Pool`, `Chunked` and the free functions share them.

use std::sync::Mutex;

use crate::args::Unpack;
use crate::driver::{drive, Chunking, Target};
use crate::events::call_span;
use crate::leaves::{FoldLeaf, InitLeaf, MapLeaf, TryLeaf};

/// Ordered `map`.
pub(crate) fn map<I, F, R>(target: Target<'_>, chunking: Chunking, items: I, f: F) -> Vec<R>
where
    I: IntoIterator,
    I::Item: Send,
    I::IntoIter: Send,
    F: Fn(I::Item) -> R + Sync + Send,
    R: Send,
{
    let _span = call_span!("map");
    match drive(target, chunking, items, &|| MapLeaf(&f)) {
        Ok(out) => out,
        Err(_) => unreachable!("map's leaf never stops a call"),
    }
}

/// Ordered `starmap`: each item is a tuple spread into `f`'s arguments.
pub(crate) fn starmap<I, F, R>(target: Target<'_>, chunking: Chunking, items: I, f: F) -> Vec<R>
where
    I: IntoIterator,
    I::Item: Unpack<F, Output = R> + Send,
    I::IntoIter: Send,
    F: Sync + Send,
    R: Send,
{
    let _span = call_span!("starmap");
    map(target, chunking, items, |args: I::Item| args.call(&f))
}

/// Ordered `try_map`: the first error (in time) stops the call.
pub(crate) fn try_map<I, F, R, E>(
    target: Target<'_>,
    chunking: Chunking,
    items: I,
    f: F,
) -> Result<Vec<R>, E>
where
    I: IntoIterator,
    I::Item: Send,
    I::IntoIter: Send,
    F: Fn(I::Item) -> Result<R, E> + Sync + Send,
    R: Send,
    E: Send,
{
    let _span = call_span!("try_map");
    let error = Mutex::new(None);
    match drive(target, chunking, items, &|| TryLeaf {
        f: &f,
        error: &error,
    }) {
        Ok(out) => Ok(out),
        Err(_) => {
            let stored = error
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Err(stored.expect("a stopped try_map stored its error"))
        }
    }
}

/// Ordered `map_init`: `init` makes a state per piece of work.
pub(crate) fn map_init<I, INIT, S, F, R>(
    target: Target<'_>,
    chunking: Chunking,
    items: I,
    init: INIT,
    f: F,
) -> Vec<R>
where
    I: IntoIterator,
    I::Item: Send,
    I::IntoIter: Send,
    INIT: Fn() -> S + Sync + Send,
    F: Fn(&mut S, I::Item) -> R + Sync + Send,
    R: Send,
{
    let _span = call_span!("map_init");
    let make_leaf = || InitLeaf {
        state: init(),
        f: &f,
    };
    match drive(target, chunking, items, &make_leaf) {
        Ok(out) => out,
        Err(_) => unreachable!("map_init's leaf never stops a call"),
    }
}

/// `for_each`: `map` to `()`, whose output takes no memory.
pub(crate) fn for_each<I, F>(target: Target<'_>, chunking: Chunking, items: I, f: F)
where
    I: IntoIterator,
    I::Item: Send,
    I::IntoIter: Send,
    F: Fn(I::Item) + Sync + Send,
{
    let _span = call_span!("for_each");
    match drive(target, chunking, items, &|| MapLeaf(&f)) {
        Ok(units) => drop::<Vec<()>>(units),
        Err(_) => unreachable!("for_each's leaf never stops a call"),
    }
}

/// `map_reduce`: each piece of work folds its items into its own
/// accumulator (`FoldLeaf`); the accumulators are combined at the end.
pub(crate) fn map_reduce<I, F, R, ID, C>(
    target: Target<'_>,
    chunking: Chunking,
    items: I,
    f: F,
    identity: ID,
    combine: C,
) -> R
where
    I: IntoIterator,
    I::Item: Send,
    I::IntoIter: Send,
    F: Fn(I::Item) -> R + Sync + Send,
    ID: Fn() -> R + Sync + Send,
    C: Fn(R, R) -> R + Sync + Send,
    R: Send,
{
    let _span = call_span!("map_reduce");
    let done = crate::sync::Mutex::new(Vec::new());
    let make_leaf = || FoldLeaf {
        acc: Some(identity()),
        f: &f,
        combine: &combine,
        done: &done,
    };
    match drive(target, chunking, items, &make_leaf) {
        Ok(units) => drop::<Vec<()>>(units),
        Err(_) => unreachable!("map_reduce's leaf never stops a call"),
    }
    // Every leaf has been dropped: the driver returns only after every
    // piece of work, its own included, has ended.
    done.into_inner().into_iter().fold(identity(), &combine)
}
