#!/bin/sh
# A stand-in for ssh that runs the command on this machine: mpirun's rsh
# launcher calls `AGENT [options] HOST COMMAND...`; this drops the options and
# the host name and runs COMMAND here. With the hostfile
# `two-hosts-on-one-machine` it lets one machine rehearse a two-host job:
# mpirun takes both hosts for remote ones, starts its daemon on each through
# this agent, and the ranks talk over TCP as they would across a network.
#
#   mpirun --hostfile crates/filch-mpi/launch/two-hosts-on-one-machine \
#     --mca plm_rsh_agent "$PWD/crates/filch-mpi/launch/ssh-here.sh" \
#     --mca btl tcp,self --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
#     --mca rtc_hwloc_vmhole none -np 4 target/release/my-program
while [ $# -gt 0 ]; do
  case "$1" in
    -*) shift ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ]; then
  echo "ssh-here.sh: expected HOST COMMAND..., got: $*" >&2
  exit 255
fi
host=$1
shift
# Each "host" gets its own temporary directory: OpenMPI's daemons name their
# working directories after the machine's hostname, which both share here,
# and two daemons creating the same directory at once sometimes failed
# ("mkdir ... File exists", orte_session_dir failed).
TMPDIR="${TMPDIR:-/tmp}/ssh-here-$host"
export TMPDIR
mkdir -p "$TMPDIR"
exec /bin/sh -c "$*"
