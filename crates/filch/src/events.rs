//! What the combinators report to `tracing` (feature `tracing`): a DEBUG
//! span per call, on target `filch`, named after the combinator. Without the
//! feature the span is a zero-sized value and costs nothing.

/// The guard of a call's span: the real one with `tracing`, a unit struct
/// without it.
#[cfg(not(feature = "tracing"))]
#[derive(Debug)]
pub(crate) struct NoSpan;

/// Enters a DEBUG span named `$name` for the rest of the scope.
macro_rules! call_span {
    ($name:literal) => {{
        #[cfg(feature = "tracing")]
        let guard = tracing::debug_span!(target: "filch", $name).entered();
        #[cfg(not(feature = "tracing"))]
        let guard = $crate::events::NoSpan;
        guard
    }};
}

pub(crate) use call_span;
