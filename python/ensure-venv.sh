# Sourced by the scripts that make Python venvs (python/build.sh, python/run.sh,
# client-tests/python/run.sh): a fresh CI machine may have python3 without its venv
# module, which Debian packages apart. `ensure_venv` installs python3-venv then, and
# fails (status 1) if it cannot.
venv_works() {
  local probe
  probe=$(mktemp -d) && python3 -m venv "$probe/venv" >/dev/null 2>&1
  local ok=$?
  rm -rf "$probe"
  return $ok
}

ensure_venv() {
  venv_works && return 0
  echo "installing python3-venv" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv) >/dev/null 2>&1
}
