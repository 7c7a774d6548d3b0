//! What the scheduler reports to `tracing` (feature `tracing`): steals,
//! parks, wake-ups and spares started or handed work, as TRACE events on target `filch_scheduler`. Without
//! the feature these expand to nothing, so they cost nothing.

/// Emits a TRACE event when the `tracing` feature is on; nothing otherwise.
macro_rules! event {
    ($($arg:tt)*) => {
        #[cfg(feature = "tracing")]
        tracing::trace!(target: "filch_scheduler", $($arg)*);
    };
}

pub(crate) use event;
