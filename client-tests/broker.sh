# Sourced by the cross-language suites (kcat/, python/, node/): builds the broker-sim
# binary and runs one cluster for a suite.
#
#   start_broker PORT LOG [BROKER-SIM ARGS...]
# starts brokers on PORT, PORT+1, PORT+2 with their log in LOG, waits (bounded) for the
# bootstrap list the binary prints once every broker listens, and exports it as
# BROKER_SIM_BOOTSTRAP, and the control API's base URL as BROKER_SIM_CONTROL. If the
# binary exits first (a port in use, say), it shows the log and returns 1, so a suite
# never tests a cluster it did not start.
#   stop_broker
# ends it; suites call it from their EXIT trap.

start_broker() {
  local port=$1 log=$2
  shift 2
  cargo build -q -p broker-sim || return 1
  local out
  out=$(mktemp)
  "${CARGO_TARGET_DIR:-target}/debug/broker-sim" --port "$port" --control-port 0 "$@" >"$out" 2>"$log" &
  broker_pid=$!
  for _ in $(seq 1 100); do
    [ -s "$out" ] && break
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.1
  done
  # The control API's line follows the bootstrap list at once (both are printed before
  # the binary serves anything).
  for _ in $(seq 1 50); do
    [ "$(wc -l <"$out")" -ge 2 ] && break
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.1
  done
  BROKER_SIM_BOOTSTRAP=$(head -n 1 "$out")
  BROKER_SIM_CONTROL=$(sed -n 's/^control=//p' "$out")
  rm -f "$out"
  export BROKER_SIM_BOOTSTRAP BROKER_SIM_CONTROL
  if [ -z "$BROKER_SIM_BOOTSTRAP" ]; then
    tail -n 20 "$log"
    echo "broker-sim did not start on port $port"
    return 1
  fi
}

stop_broker() {
  if [ -n "${broker_pid:-}" ]; then
    kill "$broker_pid" 2>/dev/null
    wait "$broker_pid" 2>/dev/null
  fi
}
