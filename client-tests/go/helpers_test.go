// The Go clients against the broker-sim binary: franz-go (kgo, kadm), IBM/sarama and
// segmentio/kafka-go, one test file each, and franz-go's schema registry client (sr_test.go).
// run.sh starts one cluster (3 brokers) and exports BROKER_SIM_BOOTSTRAP and
// BROKER_SIM_CONTROL; tests share it, each with its own topics and groups (unique). With COMPAT_RESULTS set, every test appends a row of the
// compatibility table: client, version (from the build's module list), test, result.
package compat

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// deadline bounds every wait; only a broken broker or client gets near it.
const deadline = 60 * time.Second

var (
	run     = fmt.Sprintf("%06d", time.Now().UnixNano()%1_000_000)
	counter atomic.Int64
)

func brokers(t *testing.T) []string {
	servers := os.Getenv("BROKER_SIM_BOOTSTRAP")
	if servers == "" {
		t.Fatal("BROKER_SIM_BOOTSTRAP is not set: run client-tests/go/run.sh")
	}
	return strings.Split(servers, ",")
}

// unique is a topic or group name no other test uses, readable in the broker's log.
func unique(t *testing.T, what string) string {
	name := strings.NewReplacer("/", ".", "_", "-").Replace(t.Name())
	return fmt.Sprintf("go.%s.%s.%s.%d", name, what, run, counter.Add(1))
}

// compat registers the test's row for the compatibility table: `client` at the version
// of `module` this build uses.
func compat(t *testing.T, client, module, test string) {
	version := "-"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == module {
				version = strings.TrimPrefix(dep.Version, "v")
			}
		}
	}
	// A test binary may carry no module list; run.sh passes `go list -m` instead.
	for _, pair := range strings.Split(os.Getenv("GO_MODULE_VERSIONS"), ",") {
		if path, v, ok := strings.Cut(pair, "="); ok && path == module && version == "-" {
			version = strings.TrimPrefix(v, "v")
		}
	}
	t.Cleanup(func() {
		file := os.Getenv("COMPAT_RESULTS")
		if file == "" {
			return
		}
		result := "pass"
		if t.Failed() {
			result = "fail"
		} else if t.Skipped() {
			result = "skipped"
		}
		f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Errorf("cannot write %s: %v", file, err)
			return
		}
		defer f.Close()
		fmt.Fprintf(f, "%s\t%s\t%s\t%s\n", client, version, test, result)
	})
}

// waitUntil polls `done` until it holds, failing the test at the deadline.
func waitUntil(t *testing.T, what string, done func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !done() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// control GETs a control API path and decodes its JSON into `into`.
func control(t *testing.T, path string, into any) {
	t.Helper()
	resp, err := http.Get(os.Getenv("BROKER_SIM_CONTROL") + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// storedRecords is what the control API says a topic holds: partition of each value.
func storedRecords(t *testing.T, topic string) map[string]int {
	var body struct {
		Records []struct {
			Partition int    `json:"partition"`
			Value     string `json:"value"`
		} `json:"records"`
	}
	control(t, "/v1/topics/"+topic+"/records?limit=10000", &body)
	out := map[string]int{}
	for _, r := range body.Records {
		out[r.Value] = r.Partition
	}
	return out
}

// placedAsJava fails the test if any keyed record of `topic` is not in the partition
// Java's murmur2 partitioner gives its key (the control API's audit).
func placedAsJava(t *testing.T, topic string) {
	t.Helper()
	var audit struct {
		Misplaced int `json:"misplaced"`
	}
	control(t, "/v1/topics/"+topic, &audit)
	if audit.Misplaced != 0 {
		t.Fatalf("%d keyed records are not where Java's murmur2 puts them", audit.Misplaced)
	}
}
