#!/usr/bin/env bash
# filch-mpi under MPI: installs OpenMPI and libclang (for rsmpi's bindgen)
# from Debian's packages when they are missing, lints and builds the crate
# with its `mpi` feature, runs the cluster checks under
# `mpirun -np 3`, the killed-rank check (it starts its own mpirun), a
# smoke run of the cluster-threshold bench under `mpirun -np 2`, and the
# same checks across two hosts over TCP (two loopback addresses that mpirun
# reaches through a stand-in for ssh, crates/filch-mpi/launch).
# The README's "Across machines" section points here; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

need_install=0
command -v mpicc >/dev/null 2>&1 || need_install=1
command -v mpirun >/dev/null 2>&1 || need_install=1
dpkg -s libclang-dev >/dev/null 2>&1 || need_install=1
if [ "$need_install" = 1 ]; then
  echo "installing libopenmpi-dev openmpi-bin libclang-dev"
  export DEBIAN_FRONTEND=noninteractive
  packages=(libopenmpi-dev openmpi-bin libclang-dev)
  apt-get install -y --no-install-recommends "${packages[@]}" \
    || { apt-get update && apt-get install -y --no-install-recommends "${packages[@]}"; }
fi

# OpenMPI refuses to run as root without these (CI runs as root).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Shared memory between ranks without the kernel's cross-memory attach,
# which containers often forbid (ptrace); a plain copy works everywhere.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# mpirun's own guard against a hang, in seconds; the test programs also
# carry a watchdog that fails a stuck check in 60 s.
MPIRUN=(mpirun --oversubscribe --timeout 300)

echo "--- clippy with the mpi feature"
cargo clippy -p filch-mpi --all-targets --features mpi -- -D warnings

echo "--- unit tests and doctests with the mpi feature"
cargo test -p filch-mpi --features mpi --lib
cargo test -p filch-mpi --features mpi --doc

echo "--- build the MPI test programs"
json=$(cargo test -p filch-mpi --features mpi --no-run --message-format=json)
test_binary() {
  printf '%s\n' "$json" | grep "\"name\":\"$1\"" | grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | tail -n 1
}
cluster_bin=$(test_binary cluster)
killed_bin=$(test_binary killed_rank_aborts_the_job)
if [ -z "$cluster_bin" ] || [ -z "$killed_bin" ]; then
  echo "could not find the test binaries in cargo's output" >&2
  exit 1
fi

echo "--- cluster checks: ${MPIRUN[*]} -np 3 $cluster_bin"
"${MPIRUN[@]}" -np 3 "$cluster_bin"

echo "--- a killed rank aborts the job: $killed_bin"
"$killed_bin"

echo "--- cluster-threshold bench, smoke run: ${MPIRUN[*]} -np 2"
cargo build --release -p filch-mpi --features mpi --bin cluster-threshold
# --bind-to none: with 2 ranks OpenMPI would bind each to one core, and rank
# 0's 2-thread local pool (the comparison) would share one.
"${MPIRUN[@]}" -np 2 --bind-to none target/release/cluster-threshold --smoke

echo "--- two hosts on one machine, over TCP (crates/filch-mpi/launch)"
launch=crates/filch-mpi/launch
bash -n "$launch/slurm.sbatch"
# rtc_hwloc_vmhole none: each daemon otherwise maps its hardware topology
# into a hole it picks in its address space, and OpenMPI 4.1's daemon
# sometimes segfaults there (hwloc_shmem_topology_write) when two of them
# start at once on one machine.
TWO_HOSTS=(--hostfile "$launch/two-hosts-on-one-machine"
  --mca plm_rsh_agent "$PWD/$launch/ssh-here.sh"
  --mca btl tcp,self --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo
  --mca rtc_hwloc_vmhole none)
for ranks in 3 4; do
  echo "--- cluster checks, $ranks ranks on 2 hosts: ${MPIRUN[*]} ${TWO_HOSTS[*]} -np $ranks --display-map"
  # (Printed after the run rather than through `tee /dev/stderr`, which
  # reopens a redirected log and truncates it.)
  map=$("${MPIRUN[@]}" "${TWO_HOSTS[@]}" -np "$ranks" --display-map "$cluster_bin")
  printf '%s\n' "$map"
  # The job map must show ranks started on both hosts, through the agent.
  for host in 127.0.0.2 127.0.0.3; do
    if ! printf '%s\n' "$map" | grep -q "Data for node: $host.*Num procs: [1-9]"; then
      echo "no rank was started on host $host" >&2
      exit 1
    fi
  done
done
echo "--- cluster-threshold bench over TCP, one rank per host, smoke run"
"${MPIRUN[@]}" "${TWO_HOSTS[@]}" -np 2 --map-by node --bind-to none \
  target/release/cluster-threshold --smoke

echo "--- stress: the cluster checks 3 more times per set-up beside a busy core"
# The protocol's races (requests answered late, endings told in batches,
# the imap progress thread) and the launcher's only show under load.
( while :; do :; done ) &
busy=$!
trap 'kill $busy 2>/dev/null' EXIT
for round in 1 2 3; do
  for setup in "shm 2" "shm 3" "tcp 3" "tcp 4"; do
    set -- $setup
    if [ "$1" = tcp ]; then hosts=("${TWO_HOSTS[@]}"); else hosts=(); fi
    if ! out=$("${MPIRUN[@]}" "${hosts[@]}" -np "$2" "$cluster_bin" 2>&1); then
      printf '%s\n' "$out"
      echo "stress round $round: the cluster checks failed with $2 ranks over $1" >&2
      exit 1
    fi
  done
  echo "stress round $round: ok"
done
kill $busy
trap - EXIT
