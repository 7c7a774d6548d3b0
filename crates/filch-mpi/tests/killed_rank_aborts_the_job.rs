//! What happens when a rank's process is killed mid-call: MPI cannot carry
//! on without it, so OpenMPI aborts the whole job and `mpirun` exits
//! non-zero, promptly; rank 0's call never returns (its results are lost),
//! but nothing hangs either.
//!
//! Run directly (`cargo test -p filch-mpi --features mpi --test
//! killed_rank_aborts_the_job`, or `bash .ci/mpi.sh`): this program then
//! starts itself under `mpirun -np 3` and checks how that job ends. Inside
//! the job (marked by `CHILD_MARK`), rank 1 sends itself SIGKILL on its
//! first item.

use std::env;
use std::io::Read;
use std::process::{self, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Set for the ranks of the job this test starts.
const CHILD_MARK: &str = "FILCH_MPI_KILLED_RANK_CHILD";

/// Printed by rank 0 if its call returned, which it must not.
const SURVIVED: &str = "rank 0's map returned";

/// mpirun's own limit: a hang ends there, which the test tells apart from
/// a prompt abort by the time taken.
const MPIRUN_TIMEOUT_S: u64 = 45;

/// How soon the abort must come. OpenMPI notices a dead rank within a
/// second or two here; this leaves room for a slow, loaded machine.
const PROMPT: Duration = Duration::from_secs(30);

fn main() {
    if env::var_os(CHILD_MARK).is_some() {
        rank_main();
    } else {
        check_the_job_aborts();
    }
}

/// One rank of the job.
fn rank_main() {
    let cluster = filch_mpi::Cluster::builder()
        .threads_per_rank(1)
        .init()
        .expect("MPI initialises");
    let me = cluster.rank();
    let result = cluster.map(0..100_000u32, move |x| {
        if me == 1 {
            // SIGKILL cannot be caught: the process vanishes mid-chunk, as
            // with the OOM killer or a lost host.
            let _ = Command::new("kill")
                .args(["-KILL", &process::id().to_string()])
                .status();
            thread::sleep(Duration::from_secs(10));
        }
        thread::sleep(Duration::from_millis(1));
        x
    });
    if cluster.is_root() {
        println!("{SURVIVED}: {:?}", result.map(|r| r.map(|v| v.len())));
    }
}

/// Starts the job and checks it ends non-zero, promptly, with no results.
fn check_the_job_aborts() {
    let exe = env::current_exe().expect("the test binary's path");
    let start = Instant::now();
    let mut child = Command::new("mpirun")
        .args(["--oversubscribe", "-np", "3", "--timeout"])
        .arg(MPIRUN_TIMEOUT_S.to_string())
        .args(["-x", CHILD_MARK])
        .arg(&exe)
        .env(CHILD_MARK, "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mpirun starts (is OpenMPI installed? `bash .ci/mpi.sh` installs it)");
    // Drained while mpirun runs, so a chatty job cannot fill a pipe and stall.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for mpirun") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(MPIRUN_TIMEOUT_S + 15) {
            let _ = child.kill();
            eprintln!(
                "FAILED: mpirun still running after {:?}: the job hung",
                start.elapsed()
            );
            process::exit(1);
        }
        thread::sleep(Duration::from_millis(50));
    };
    let took = start.elapsed();
    let output = format!(
        "{}{}",
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default()
    );
    println!("mpirun exited with {status} after {took:?}; its output:\n{output}");
    let mut failures = Vec::new();
    if status.success() {
        failures.push("mpirun exited 0 although a rank was killed".to_owned());
    }
    if took > PROMPT {
        failures.push(format!(
            "the job took {took:?} to end (a hang caught by --timeout?), more than {PROMPT:?}"
        ));
    }
    if output.contains(SURVIVED) {
        failures.push("rank 0's call returned without the killed rank".to_owned());
    }
    if failures.is_empty() {
        println!("ok killed_rank_aborts_the_job");
        println!("1 passed, 0 failed");
    } else {
        for failure in &failures {
            eprintln!("FAILED: {failure}");
        }
        println!("0 passed, 1 failed");
        process::exit(1);
    }
}

/// Reads a child's pipe to the end on a thread.
fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}
