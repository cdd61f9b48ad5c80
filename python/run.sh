#!/usr/bin/env bash
# The Python package end to end, as a user gets it: builds the sdist and the wheel
# (python/build.sh), installs the wheel into a fresh venv with the example service's
# pinned clients, then runs the package's own tests (python/tests) and the example
# service's suite (examples/python-service) with no Rust toolchain on PATH, so the wheel
# must carry everything. Prints "python-package: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
venv=$target/python-package-venv
fail() { echo "python-package: $1"; echo "python-package: 0 passed, 1 failed"; exit 1; }

wheel=$(python/build.sh | tail -n 1) || fail "cannot build the wheel"
[ -f "$wheel" ] || fail "no wheel built"
. python/ensure-venv.sh
ensure_venv || fail "cannot install python3-venv"
rm -rf "$venv"
python3 -m venv "$venv" || fail "cannot create $venv"
"$venv/bin/pip" install -q --disable-pip-version-check "$wheel" -r examples/python-service/requirements.txt \
  -r python/requirements-test.txt \
  || fail "pip install failed"

# PATH without cargo, rustc or rustup: the tests can only use the wheel's binary.
path=$(tr ':' '\n' <<<"$PATH" | grep -v -e cargo -e rustup | paste -sd: -)
if PATH=$path command -v cargo >/dev/null; then fail "cargo is still on PATH"; fi
passed=0 failed=0
for suite in python/tests examples/python-service; do
  report=$(mktemp)
  (cd "$suite" && env -u CARGO_TARGET_DIR PATH="$path" PYTHONDONTWRITEBYTECODE=1 timeout 600 \
    "$venv/bin/python" -m pytest -p no:cacheprovider -q -rA --junitxml="$report" .)
  status=$?
  read -r p f < <("$venv/bin/python" - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1); sys.exit()
cases = [c for c in root.iter("testcase") if c.find("skipped") is None]
bad = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
print(len(cases) - bad, bad)
PY
)
  rm -f "$report"
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)) failed=$((failed + f))
done
echo "python-package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
