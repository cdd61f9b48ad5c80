#!/usr/bin/env bash
# The Go clients against the broker-sim binary: franz-go (kgo, kadm), IBM/sarama and
# segmentio/kafka-go produce with keys, share a group and commit, and use their admin
# calls, and franz-go's schema registry client (pkg/sr) uses the registry on the control
# port (go test; modules from the Go module proxy, pinned in go.mod and go.sum). Every
# test writes a row of the compatibility table when COMPAT_RESULTS is set
# (helpers_test.go). GO_PORT moves the cluster (default 19400-19402); its log is
# /tmp/broker-sim-go.log. Prints "go: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "go: $1"; echo "go: 0 passed, 1 failed"; exit 1; }
command -v go >/dev/null || fail "go is missing (the polyglot machine has Go)"
(cd client-tests/go && go mod download) || fail "cannot download the Go modules"
GO_MODULE_VERSIONS=$(cd client-tests/go && go list -m -f '{{.Path}}={{.Version}}' all | tr '\n' ',')
export GO_MODULE_VERSIONS

. client-tests/broker.sh
trap stop_broker EXIT
log=/tmp/broker-sim-go.log
# SASL_PLAINTEXT and SSL listeners (ephemeral ports, GET /v1/listeners) with user alice,
# for security_test.go.
start_broker "${GO_PORT:-19400}" "$log" --log-level "${BROKER_SIM_LOG_LEVEL:-info}" \
  --listener PLAINTEXT --listener SASL:SASL_PLAINTEXT --listener TLS:SSL \
  --sasl-user alice:alice-secret \
  || fail "no cluster to test"

out=$(mktemp)
(cd client-tests/go && timeout 600 go test -count=1 -v ./...) 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
passed=$(grep -c -- '^--- PASS' "$out")
failed=$(grep -c -- '^--- FAIL' "$out")
rm -f "$out"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$failed" -ne 0 ]; then
  echo "--- last lines of the broker-sim log ($log)"
  tail -n 20 "$log"
fi
echo "go: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
