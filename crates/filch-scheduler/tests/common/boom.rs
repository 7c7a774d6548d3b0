//! Provoked panics for the panic tests: a payload that is not a string (so
//! "original payload" means the very value), a hook that keeps them quiet,
//! and helpers that catch one and check it.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// A non-string payload, so that "original payload" means the very value.
#[derive(Debug, PartialEq)]
pub(crate) struct Boom(pub(crate) u32);

/// Silences the panics these tests provoke (payload [`Boom`], or a message
/// starting with `expected:`); any other panic prints as usual.
pub(crate) fn quiet_expected_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let expected = payload.is::<Boom>()
                || payload
                    .downcast_ref::<&str>()
                    .is_some_and(|s| s.starts_with("expected:"))
                || payload
                    .downcast_ref::<String>()
                    .is_some_and(|s| s.starts_with("expected:"));
            if !expected {
                default(info);
            }
        }));
    });
}

/// Panics with `Boom(n)`.
pub(crate) fn boom(n: u32) -> ! {
    panic::panic_any(Boom(n))
}

/// Runs `f`, which must panic, and returns the payload.
pub(crate) fn payload_of<R>(f: impl FnOnce() -> R) -> Box<dyn Any + Send> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("the call was expected to panic but returned"),
        Err(payload) => payload,
    }
}

/// Asserts the payload is `Boom(n)`.
pub(crate) fn assert_boom(payload: Box<dyn Any + Send>, n: u32) {
    match payload.downcast::<Boom>() {
        Ok(b) => assert_eq!(*b, Boom(n)),
        Err(other) => panic!(
            "wrong payload: {:?}",
            filch_scheduler::panic_message(&*other)
        ),
    }
}

/// The second half of a join whose first half panics, if a thief started
/// it, must be over before the join unwinds past its frame (it may borrow
/// the caller's stack); unstarted, it is dropped unrun. So the property is
/// "started implies finished". `call` runs such a join: a first half that
/// sleeps 5 ms and panics with `Boom(7)`, a second half that sets
/// `started`, sleeps 20 ms and sets `finished` (and may panic). Whether a
/// thief takes the second half depends on timing, so this runs `call` 20
/// times and requires at least one steal.
pub(crate) fn assert_a_stolen_half_is_waited_for<R>(
    mut call: impl FnMut(&std::sync::atomic::AtomicBool, &std::sync::atomic::AtomicBool) -> R,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut stolen = 0;
    for _ in 0..20 {
        let started = AtomicBool::new(false);
        let finished = AtomicBool::new(false);
        let payload = payload_of(|| call(&started, &finished));
        let (started, finished) = (
            started.load(Ordering::SeqCst),
            finished.load(Ordering::SeqCst),
        );
        assert!(
            !started || finished,
            "join returned while its second half was still running"
        );
        stolen += usize::from(started);
        assert_boom(payload, 7);
    }
    assert!(
        stolen > 0,
        "no second half was ever stolen: the waiting path went untested"
    );
}
