# Sourced by the CI scripts that run test binaries directly (valgrind.sh,
# stress.sh): builds the test binaries of filch and filch-scheduler once and
# defines `executable_of PACKAGE TARGET`, the path of that test target's
# executable. Needs bash and python3; `$json` is removed by the caller's trap.

json=$(mktemp)
cargo test -p filch-scheduler -p filch --no-run --message-format=json >"$json"

executable_of() {
  python3 - "$json" "$1" "$2" <<'PY'
import json, os, sys
path, package, target = sys.argv[1:]
found = set()
for line in open(path):
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
        continue
    # Each package lives in crates/<package name>/.
    crate_dir = os.path.basename(os.path.dirname(msg["manifest_path"]))
    if crate_dir == package and msg["target"]["name"] == target and msg["target"]["kind"] == ["test"]:
        found.add(msg["executable"])
if len(found) != 1:
    sys.exit(f"expected one test executable for {package}/{target}, found {sorted(found)}")
print(found.pop())
PY
}
