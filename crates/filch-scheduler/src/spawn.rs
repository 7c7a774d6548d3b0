//! `spawn`: fire-and-forget `'static` jobs. Nobody waits for them in place,
//! so they are boxed; a panic goes to the pool's panic handler.

use crate::job::HeapJob;
use crate::registry::Registry;
use crate::sync::Arc;
use crate::worker::WorkerThread;

/// Queues `job` on `registry`: on the spawning worker's own deque when it is
/// one of the pool's, through the injector otherwise.
pub(crate) fn spawn_in<F>(registry: &Arc<Registry>, job: F)
where
    F: FnOnce() + Send + 'static,
{
    // The job holds the pool alive until it has run: shutdown waits for it.
    let owner = Arc::clone(registry);
    let heap_job = HeapJob::new(move || {
        if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)) {
            owner.handle_panic(payload);
        }
    });
    // SAFETY: the closure is 'static, so it borrows nothing that could die
    // before it runs.
    let job_ref = unsafe { heap_job.into_job_ref() };
    match WorkerThread::current() {
        Some(worker) if std::ptr::eq(worker.registry(), &**registry) => worker.push(job_ref),
        _ => registry.inject(job_ref),
    }
}
