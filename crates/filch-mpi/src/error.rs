//! `ClusterError`: everything a cluster call or `Cluster::init` can report
//! instead of hanging or panicking.

use std::fmt;

/// What went wrong in `Cluster::init` or in a cluster
/// call. Every rank taking part in a failed call gets the same error, so an
/// SPMD program takes the same branch on every rank.
///
/// ```
/// use filch_mpi::ClusterError;
///
/// let err = ClusterError::Panicked { rank: 2, message: "bad item 7".into() };
/// assert_eq!(err.to_string(), "filch-mpi: a mapped function panicked on rank 2: bad item 7");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ClusterError {
    /// `Cluster::init` was called a second time in this process: MPI can be
    /// initialised only once per process, even after the first `Cluster` is
    /// dropped.
    AlreadyInitialized,
    /// The MPI library gives less thread support than filch-mpi needs
    /// (`MPI_THREAD_FUNNELED`: MPI called from the initialising thread while
    /// the pool's threads compute).
    ThreadSupport {
        /// The level the library provided, as rsmpi names it.
        provided: String,
    },
    /// The local pool could not be built (for example `threads_per_rank(0)`).
    Pool(filch::BuildError),
    /// The mapped function panicked on `rank`; `message` is the panic's
    /// payload when it was a string. No new chunks were handed out after it.
    Panicked {
        /// The rank whose function panicked.
        rank: usize,
        /// The panic message (`"<non-string panic payload>"` otherwise).
        message: String,
    },
    /// The ranks are not making the same call: SPMD programs must make the
    /// same sequence of cluster calls, with the same item and result types,
    /// on every rank.
    Mismatch {
        /// The rank found out of step.
        rank: usize,
        /// What rank 0 was in, and what that rank was in.
        detail: String,
    },
    /// Items or results could not be encoded or decoded (for example a
    /// `Serialize` impl that fails, or ranks built from different code).
    Wire {
        /// The rank that hit the problem.
        rank: usize,
        /// The codec's message.
        detail: String,
    },
    /// A call was made while an `imap` of the same cluster was still open on
    /// this rank; finish or drop the iterator first.
    Busy,
    /// Rank 0 dropped its `Cluster` while this rank was waiting in a call:
    /// this rank made a call that rank 0 never made.
    RootGone {
        /// This rank.
        rank: usize,
    },
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::AlreadyInitialized => write!(
                f,
                "filch-mpi: MPI is already initialised in this process (Cluster::init may be called once per process)"
            ),
            ClusterError::ThreadSupport { provided } => write!(
                f,
                "filch-mpi: the MPI library provides thread support {provided}, but at least Funneled is needed"
            ),
            ClusterError::Pool(err) => write!(f, "filch-mpi: could not build the local pool: {err}"),
            ClusterError::Panicked { rank, message } => {
                write!(f, "filch-mpi: a mapped function panicked on rank {rank}: {message}")
            }
            ClusterError::Mismatch { rank, detail } => write!(
                f,
                "filch-mpi: rank {rank} is not making the same call as rank 0 ({detail}); every rank must make the same sequence of calls"
            ),
            ClusterError::Wire { rank, detail } => {
                write!(f, "filch-mpi: encoding or decoding failed on rank {rank}: {detail}")
            }
            ClusterError::Busy => write!(
                f,
                "filch-mpi: a cluster call was made while an imap of the same cluster is still open; finish or drop it first"
            ),
            ClusterError::RootGone { rank } => write!(
                f,
                "filch-mpi: rank 0 shut its cluster down while rank {rank} was waiting in a call that rank 0 never made"
            ),
        }
    }
}

impl std::error::Error for ClusterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClusterError::Pool(err) => Some(err),
            _ => None,
        }
    }
}

impl From<filch::BuildError> for ClusterError {
    fn from(err: filch::BuildError) -> Self {
        ClusterError::Pool(err)
    }
}

/// The message of a panic payload: its `&str` or `String`, else a marker.
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("item {}", 3)).unwrap_err();
/// assert_eq!(filch_mpi::panic_message(&*payload), "item 3");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}
