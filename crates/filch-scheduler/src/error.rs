//! Why a pool could not be built. Every message names the bad value and what
//! would have been accepted.

use std::fmt;
use std::io;

/// The reason [`ThreadPoolBuilder::build`](crate::ThreadPoolBuilder::build)
/// failed.
///
/// ```
/// use filch_scheduler::{BuildError, ThreadPoolBuilder};
///
/// let err = ThreadPoolBuilder::new().num_threads(0).build().unwrap_err();
/// assert!(matches!(err, BuildError::ZeroThreads));
/// assert!(err.to_string().contains("0 threads"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// `num_threads(0)`: a pool needs at least one worker.
    ZeroThreads,
    /// `Pinning::Cores(vec![])`: an explicit core list must name a core.
    EmptyCoreList,
    /// A core id in `Pinning::Cores` that this process may not run on.
    CoreNotAllowed {
        /// The id asked for.
        core: usize,
        /// The ids the building thread (and so its workers) may run on.
        allowed: Vec<usize>,
    },
    /// Pinning was asked for but the OS would not report the allowed cores.
    AffinityUnavailable,
    /// The OS refused to pin worker `index` to `core`.
    PinRefused {
        /// The worker.
        index: usize,
        /// The core it was to run on.
        core: usize,
    },
    /// A stack size below what a worker needs to run its own loop.
    StackTooSmall {
        /// The size asked for, in bytes.
        requested: usize,
        /// The smallest size accepted, in bytes.
        minimum: usize,
    },
    /// The OS refused to start worker `index`.
    Spawn {
        /// The worker that failed to start.
        index: usize,
        /// The OS's error.
        source: io::Error,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::ZeroThreads => {
                write!(f, "a pool of 0 threads cannot run anything: ask for at least 1 thread")
            }
            BuildError::EmptyCoreList => write!(
                f,
                "the core list for pinning is empty: name at least one core, or use Pinning::PerCore"
            ),
            BuildError::CoreNotAllowed { core, allowed } => write!(
                f,
                "core {core} is not one this thread may run on; allowed cores: {allowed:?}"
            ),
            BuildError::AffinityUnavailable => write!(
                f,
                "pinning was requested but the OS did not report which cores this process may use"
            ),
            BuildError::PinRefused { index, core } => {
                write!(f, "the OS refused to pin worker {index} to core {core}")
            }
            BuildError::StackTooSmall { requested, minimum } => write!(
                f,
                "a stack of {requested} bytes is too small for a worker: ask for at least {minimum} bytes"
            ),
            BuildError::Spawn { index, source } => {
                write!(f, "the OS refused to start worker thread {index}: {source}")
            }
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Spawn { source, .. } => Some(source),
            _ => None,
        }
    }
}
