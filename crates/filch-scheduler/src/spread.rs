//! Keeping a woken worker off the CPU a peer of its pool is running jobs on.
//!
//! Linux places a woken thread by the CPUs it sees busy at that instant. A
//! worker woken to take half of a peer's work while another thread briefly
//! ran on the remaining CPU (the caller finishing its wait, another pool's
//! worker going to sleep) lands on its waker's CPU; the other CPU then goes
//! idle, and Linux leaves the two workers sharing one CPU for milliseconds,
//! because both ran there a moment ago and count as cache-hot. On the 2-core
//! VM a `map` of 1000 items of 3 µs, made 100 µs after another pool's
//! `map`, ran at serial speed in about a third of the calls, both workers on
//! one CPU and the other idle (their run times from `schedstat`); with the
//! workers pinned it never did.
//!
//! So each worker publishes the CPU it runs jobs on when it leaves its idle
//! loop with a job and withdraws it when it goes idle, and a worker that was
//! parked and woken looks at its own CPU: if a busy peer is on it, it moves
//! itself. It narrows its affinity to the CPUs it may use minus this one,
//! which makes Linux migrate it at once, and then restores its mask, which
//! leaves it where it landed. Two system calls, only on a wake-up that
//! collided; pools whose workers are pinned never move. Elsewhere than on
//! Linux (and under loom) all of this does nothing.

#[cfg(all(target_os = "linux", not(loom)))]
use std::sync::atomic::{AtomicUsize, Ordering};

/// The CPU each worker of a pool runs jobs on, if it is running any.
#[derive(Debug)]
pub(crate) struct BusyCpus {
    /// Per worker slot: its CPU plus one while it runs jobs, else 0.
    #[cfg(all(target_os = "linux", not(loom)))]
    slots: Box<[AtomicUsize]>,
}

#[cfg(all(target_os = "linux", not(loom)))]
impl BusyCpus {
    /// `slots` workers, none busy.
    pub(crate) fn new(slots: usize) -> BusyCpus {
        BusyCpus {
            slots: (0..slots).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// Worker `index` starts running jobs.
    #[inline]
    pub(crate) fn mark_busy(&self, index: usize) {
        let cpu = os::current_cpu().map_or(0, |cpu| cpu + 1);
        self.slots[index].store(cpu, Ordering::Relaxed);
    }

    /// Worker `index` has run out of jobs.
    #[inline]
    pub(crate) fn mark_idle(&self, index: usize) {
        self.slots[index].store(0, Ordering::Relaxed);
    }

    /// Worker `index` was just woken: if a busy peer runs on its CPU, it
    /// moves to another CPU it may use. Whether it moved.
    pub(crate) fn move_off_busy_peers(&self, index: usize) -> bool {
        let Some(cpu) = os::current_cpu() else {
            return false;
        };
        let taken = self
            .slots
            .iter()
            .enumerate()
            .any(|(peer, slot)| peer != index && slot.load(Ordering::Relaxed) == cpu + 1);
        taken && os::move_off(cpu)
    }
}

#[cfg(not(all(target_os = "linux", not(loom))))]
impl BusyCpus {
    /// Does nothing here: see the module docs.
    pub(crate) fn new(_slots: usize) -> BusyCpus {
        BusyCpus {}
    }

    /// Does nothing here.
    #[inline]
    pub(crate) fn mark_busy(&self, _index: usize) {}

    /// Does nothing here.
    #[inline]
    pub(crate) fn mark_idle(&self, _index: usize) {}

    /// Does nothing here.
    pub(crate) fn move_off_busy_peers(&self, _index: usize) -> bool {
        false
    }
}

/// The two Linux calls this needs.
#[cfg(all(target_os = "linux", not(loom)))]
mod os {
    use std::mem;

    /// The CPU the calling thread runs on now.
    pub(super) fn current_cpu() -> Option<usize> {
        // SAFETY: `sched_getcpu` takes no arguments and only reads the
        // calling thread's state.
        let cpu = unsafe { libc::sched_getcpu() };
        usize::try_from(cpu).ok()
    }

    /// Moves the calling thread off `cpu` to another CPU it may use, and
    /// leaves its affinity as it was; whether it moved.
    pub(super) fn move_off(cpu: usize) -> bool {
        // SAFETY: an all-zero `cpu_set_t` is a valid, empty set (it is a
        // plain bit array).
        let mut allowed: libc::cpu_set_t = unsafe { mem::zeroed() };
        let size = mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `allowed` is a live `cpu_set_t` of `size` bytes for the
        // call to fill; pid 0 is the calling thread.
        if unsafe { libc::sched_getaffinity(0, size, &mut allowed) } != 0 {
            return false;
        }
        if cpu >= libc::CPU_SETSIZE as usize {
            return false;
        }
        // SAFETY: `CPU_ISSET` only reads the bit array it is given, and
        // `cpu` is below `CPU_SETSIZE` (checked above).
        let here = unsafe { libc::CPU_ISSET(cpu, &allowed) };
        // SAFETY: `CPU_COUNT` only reads the bit array it is given.
        let count = unsafe { libc::CPU_COUNT(&allowed) };
        if !here || count < 2 {
            return false;
        }
        let mut elsewhere = allowed;
        // SAFETY: `CPU_CLR` only writes the bit array it is given, and
        // `cpu` is below `CPU_SETSIZE`.
        unsafe { libc::CPU_CLR(cpu, &mut elsewhere) };
        // SAFETY: both sets are live `cpu_set_t`s of `size` bytes; `elsewhere`
        // is non-empty (at least two CPUs were allowed, one removed), so the
        // kernel accepts it and migrates the thread before returning.
        let moved = unsafe { libc::sched_setaffinity(0, size, &elsewhere) } == 0;
        // SAFETY: as above; restoring the mask the thread had.
        unsafe { libc::sched_setaffinity(0, size, &allowed) };
        moved
    }
}

#[cfg(all(test, target_os = "linux", not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_worker_on_a_busy_peers_cpu_moves_and_keeps_its_affinity() {
        let Some(cpu) = os::current_cpu() else {
            return;
        };
        let before = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        let mask = |status: &str| {
            status
                .lines()
                .find(|line| line.starts_with("Cpus_allowed_list"))
                .map(str::to_owned)
        };
        let busy = BusyCpus::new(2);
        // Peer 1 is busy on this thread's CPU.
        busy.slots[1].store(cpu + 1, Ordering::Relaxed);
        let allowed = std::thread::available_parallelism().map_or(1, |n| n.get());
        let moved = busy.move_off_busy_peers(0);
        let after = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        assert_eq!(mask(&before), mask(&after), "the affinity was not restored");
        if allowed >= 2 {
            assert!(
                moved,
                "a thread allowed {allowed} CPUs did not move off CPU {cpu}"
            );
        } else {
            assert!(!moved, "a thread allowed one CPU cannot move");
        }
        // Nobody busy there any more: no move.
        busy.mark_idle(1);
        assert!(!busy.move_off_busy_peers(0));
    }
}
