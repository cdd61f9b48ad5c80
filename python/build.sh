#!/usr/bin/env bash
# Builds the `broker-sim` Python package: an sdist (maturin sdist), then the wheel from
# that sdist (pip wheel, maturin as the PEP 517 backend), so every build also proves the
# sdist builds from source. Both land in $target/wheels; the wheel's path is the last
# line of stdout.
#
# BROKER_SIM_WHEEL_PROFILE picks the cargo profile of the binary the wheel carries: dev
# (default: shares CI's compiled dependencies, a build of about a minute) or release
# (what a published wheel carries; several minutes from scratch). maturin itself is
# pinned (requirements-build.txt) in a venv under the target directory.
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
venv=$target/maturin-venv
wheels=$target/wheels
profile=${BROKER_SIM_WHEEL_PROFILE:-dev}

if ! cmp -s python/requirements-build.txt "$venv/requirements.txt"; then
  echo "installing python/requirements-build.txt into $venv" >&2
  . python/ensure-venv.sh
  ensure_venv || { echo "python/build.sh: cannot install python3-venv" >&2; exit 1; }
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r python/requirements-build.txt
  cp python/requirements-build.txt "$venv/requirements.txt"
fi

rm -rf "$wheels" && mkdir -p "$wheels/sdist"
(cd python && "$venv/bin/maturin" sdist --out "$wheels/sdist") >&2
sdist=$(ls "$wheels"/sdist/broker_sim-*.tar.gz)
# The sdist unpacks into a temporary directory; the shared target directory keeps the
# build incremental.
PATH="$venv/bin:$PATH" CARGO_TARGET_DIR=$target MATURIN_PEP517_ARGS="--profile $profile" \
  "$venv/bin/pip" wheel -q --disable-pip-version-check --no-build-isolation --no-deps \
  "$sdist" -w "$wheels" >&2
ls "$wheels"/broker_sim-*.whl
