//! Shared by the MPI test programs: a watchdog that turns a hang into a
//! failure within seconds, and a panic hook that keeps the panics the tests
//! inject on purpose out of the output.

// Each MPI test program uses a different subset of these helpers.
#![allow(dead_code)]

use std::panic;
use std::process;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

/// Fails the whole MPI job (this rank exits non-zero, and mpirun then stops
/// every rank) when one check runs longer than its limit.
#[derive(Debug)]
pub(crate) struct Watchdog {
    arm: Sender<(String, Duration)>,
}

impl Watchdog {
    /// Starts the watchdog thread of rank `rank`.
    pub(crate) fn start(rank: usize) -> Watchdog {
        let (arm, armed) = mpsc::channel::<(String, Duration)>();
        thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                let mut current = (String::from("start-up"), Duration::from_secs(60));
                loop {
                    match armed.recv_timeout(current.1) {
                        Ok(next) => current = next,
                        Err(RecvTimeoutError::Disconnected) => return,
                        Err(RecvTimeoutError::Timeout) => {
                            eprintln!(
                                "WATCHDOG: rank {rank}: check `{}` still running after {:?}: a hang; failing the job",
                                current.0, current.1
                            );
                            process::exit(124);
                        }
                    }
                }
            })
            .expect("start the watchdog thread");
        Watchdog { arm }
    }

    /// Gives check `name` at most `limit` from now.
    pub(crate) fn arm(&self, name: &str, limit: Duration) {
        self.arm
            .send((name.to_owned(), limit))
            .expect("the watchdog thread is running");
    }
}

/// Marks panics the tests cause on purpose; the hook keeps them quiet.
pub(crate) const INJECTED: &str = "injected:";

/// Installs a panic hook that prints every panic but the injected ones.
pub(crate) fn quiet_injected_panics() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let message = filch_mpi::panic_message(info.payload());
        if !message.starts_with(INJECTED) {
            default(info);
        }
    }));
}
