//! The synchronisation primitives the scheduler is built from, in one place so
//! that `cfg(loom)` can swap them for loom's model-checked versions.
//!
//! Outside loom: `std` atomics and `parking_lot`'s `Mutex`/`Condvar`. Under
//! `--cfg loom`: loom's, wrapped to expose the same (parking_lot-shaped) API.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

#[cfg(not(loom))]
pub(crate) use parking_lot::{Condvar, Mutex};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
// Under loom too, `Arc` stays `std`'s: loom's `Arc` cannot be a method
// receiver (`self: &Arc<Self>` in `Registry`) on stable Rust, and no modelled
// protocol depends on reference counts. (With loom's `Arc` here the crate did
// not compile under `--cfg loom`.)
#[cfg(loom)]
pub(crate) use std::sync::Arc;

#[cfg(loom)]
pub(crate) use self::loom_shim::{Condvar, Mutex};

/// loom's `Mutex`/`Condvar` behind parking_lot's signatures (no poisoning,
/// `wait(&mut guard)`), so the protocol code is identical in both builds.
#[cfg(loom)]
mod loom_shim {
    /// A loom mutex with parking_lot's `lock()` signature.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// The guard of [`Mutex`]; an `Option` so [`Condvar::wait`] can move it.
    #[derive(Debug)]
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().expect("loom mutex poisoned")))
        }
    }

    impl<T> std::ops::Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().expect("guard present")
        }
    }

    impl<T> std::ops::DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("guard present")
        }
    }

    /// A loom condvar with parking_lot's `wait(&mut guard)` signature.
    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("guard present");
            guard.0 = Some(self.0.wait(inner).expect("loom mutex poisoned"));
        }

        /// loom has no clock: waits as if the deadline were never reached.
        pub(crate) fn wait_until<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            _deadline: std::time::Instant,
        ) {
            self.wait(guard);
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}
