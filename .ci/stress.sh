#!/usr/bin/env bash
# The concurrency-heavy test binaries, each run several times while another
# process keeps one core busy: a scheduler whose tests pass only on an idle
# machine has a race the tests cannot see there (a wake-up lost under
# preemption, a timing assumption). Any failure fails CI with the binary's
# output. Sized to stay within a few minutes on the 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
export RUST_BACKTRACE=1
RUNS=${FILCH_STRESS_RUNS:-5}

busy_pid=
# shellcheck source=.ci/test_executables.sh
source .ci/test_executables.sh
cleanup() {
  rm -f "$json"
  if [ -n "$busy_pid" ]; then kill "$busy_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

# package target: the binaries whose tests race threads against each other.
selection=(
  "filch-scheduler lost_wakeups"
  "filch-scheduler shutdown"
  "filch-scheduler runs_every_job_once"
  "filch-scheduler outside_submitters"
  "filch-scheduler nested_scopes"
  "filch-scheduler panics"
  "filch-scheduler blocking_spares"
  "filch imap_keeps_python_pool_promises"
  "filch imap_panics_reach_the_consumer"
  "filch imap_drop_cancels_pending_work"
  "filch imap_scope_borrows_safely"
  "filch async_results_belong_to_their_pool"
  "filch scope_and_apply_async_panics_reach_the_caller"
  "filch maps_on_a_worker_wake_parked_peers"
  "filch long_first_items_share_at_once"
  "filch blocking_first_item"
)

# One core kept busy by another process for the whole step.
( while :; do :; done ) &
busy_pid=$!

failed=0
started=$(date +%s)
for entry in "${selection[@]}"; do
  read -r package target <<<"$entry"
  exe=$(executable_of "$package" "$target")
  t0=$(date +%s)
  for run in $(seq 1 "$RUNS"); do
    out=$(mktemp)
    if ! "$exe" -q >"$out" 2>&1; then
      echo "FAILED under load: $package/$target, run $run of $RUNS"
      cat "$out"
      failed=1
    fi
    rm -f "$out"
  done
  echo "--- $package/$target: $RUNS runs beside a busy core, $(( $(date +%s) - t0 )) s"
done
echo "stress step: $(( $(date +%s) - started )) s"
exit "$failed"
