#!/usr/bin/env bash
# Memory checks: valgrind's memcheck over a selected, fast set of test
# binaries (join, scope, spawn, panics, shutdown in the scheduler; map, imap,
# apply_async and their drop and panic paths in filch). Exits non-zero on any
# memcheck error (invalid read/write, use of uninitialised memory, bad free)
# or any *definitely* lost block. The global pool and thread-locals live as
# long as the process: they show up as "still reachable" or "possibly lost",
# which are reported but do not fail the step.
#
# Called from .ci/run after the tests; takes a few minutes on the 2-core
# machine (see docs/reliability.md for the measured time).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind || (apt-get update && apt-get install -y valgrind)
valgrind --version

export CARGO_TERM_COLOR=never
export RUST_BACKTRACE=0
# Property tests run ~30x slower under memcheck; 32 cases each keep every
# binary far inside its 60 s watchdog (one took 60.0 s with 256 cases).
export FILCH_TEST_MAX_CASES=32

# Build the test binaries and map each test target's name to its executable.
# shellcheck source=.ci/test_executables.sh
source .ci/test_executables.sh
trap 'rm -f "$json"' EXIT

# package target [test-name filters...] [--skip name...]: what runs under
# memcheck. Chosen to cover every unsafe path (stack jobs, heap jobs, latches,
# frames, context-join chains, scopes, the imap window and its pieces cut by
# index, apply_async cells, an
# owned Vec mapped in place on each path) at
# small sizes; the
# million-job and timing tests are left to the normal run.
selection=(
  "filch-scheduler panics"
  "filch-scheduler nested_scopes"
  "filch-scheduler join_recursion pool_join_from_outside join_in_a_worker_of_another_pool linear_chains"
  "filch-scheduler join_context a_panic_in_either_half every_closure_and_result a_stolen_second_half the_first_half mixes_with linear_chains"
  "filch-scheduler shutdown drop_with_work_queued dropping_the_pool_inside_its_own_worker"
  "filch-scheduler misuse --skip stack_overflow --skip overflows_its_stack --skip a_stack_the_os"
  "filch misuse"
  "filch apply_async_handle"
  "filch imap_drop_cancels_pending_work"
  "filch imap_panics_reach_the_consumer"
  "filch imap_scope_borrows_safely iter_mut_hands_each_element_to_one_item"
  "filch scope_and_apply_async_panics_reach_the_caller"
  "filch map_panics_reach_the_caller a_string_payload_arrives_intact a_panic_in_init_drops_every_input"
  "filch owned_vec_maps_in_place"
  "filch blocking_first_item order_and_drops"
)

failed=0
started=$(date +%s)
for entry in "${selection[@]}"; do
  read -r -a words <<<"$entry"
  package=${words[0]}
  target=${words[1]}
  exe=$(executable_of "$package" "$target")
  t0=$(date +%s)
  echo "--- memcheck: $package/$target ${words[*]:2}"
  if ! valgrind --quiet --error-exitcode=1 --leak-check=full \
      --errors-for-leak-kinds=definite --show-leak-kinds=definite \
      "$exe" --test-threads=1 "${words[@]:2}"; then
    echo "!!! memcheck failed: $package/$target"
    failed=1
  fi
  echo "    ($(( $(date +%s) - t0 )) s)"
done
echo "valgrind step: $(( $(date +%s) - started )) s in memcheck"
exit "$failed"
