//! Core pinning: which core each worker runs on, checked against the cores
//! the OS lets this process use.

use crate::error::BuildError;

/// Where workers run.
///
/// ```
/// use filch_scheduler::{Pinning, ThreadPoolBuilder};
///
/// let pool = ThreadPoolBuilder::new().num_threads(2).pinning(Pinning::PerCore).build().unwrap();
/// assert_eq!(pool.num_threads(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Pinning {
    /// No pinning: the OS schedules workers wherever it likes (the default).
    #[default]
    Off,
    /// One worker per allowed core, in order, wrapping round-robin when there
    /// are more workers than cores.
    PerCore,
    /// Worker `i` runs on `cores[i % cores.len()]`; every id must be one the
    /// building thread is allowed to run on.
    Cores(Vec<usize>),
}

/// The cores the building thread may run on, in ascending order. On Linux a
/// new thread inherits its creator's mask, so this is what workers could use;
/// a pool built from a thread pinned to fewer cores sees only those.
pub(crate) fn allowed_cores() -> Option<Vec<usize>> {
    let mut ids: Vec<usize> = core_affinity::get_core_ids()?
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    (!ids.is_empty()).then_some(ids)
}

/// The core of each of `workers` workers, or `None` per worker when off.
pub(crate) fn plan(pinning: &Pinning, workers: usize) -> Result<Vec<Option<usize>>, BuildError> {
    match pinning {
        Pinning::Off => Ok(vec![None; workers]),
        Pinning::PerCore => {
            let allowed = allowed_cores().ok_or(BuildError::AffinityUnavailable)?;
            Ok((0..workers)
                .map(|i| Some(allowed[i % allowed.len()]))
                .collect())
        }
        Pinning::Cores(cores) => {
            if cores.is_empty() {
                return Err(BuildError::EmptyCoreList);
            }
            let allowed = allowed_cores().ok_or(BuildError::AffinityUnavailable)?;
            if let Some(&core) = cores.iter().find(|c| !allowed.contains(c)) {
                return Err(BuildError::CoreNotAllowed { core, allowed });
            }
            Ok((0..workers).map(|i| Some(cores[i % cores.len()])).collect())
        }
    }
}

/// Pins the calling thread to `core`; `false` if the OS refused.
pub(crate) fn pin_current(core: usize) -> bool {
    core_affinity::set_for_current(core_affinity::CoreId { id: core })
}
