package compat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// listener is the bootstrap list of the run.sh cluster's listener called `name`.
func listener(t *testing.T, name string) []string {
	var body struct {
		Listeners []struct {
			Name      string `json:"name"`
			Bootstrap string `json:"bootstrap"`
		} `json:"listeners"`
	}
	control(t, "/v1/listeners", &body)
	for _, l := range body.Listeners {
		if l.Name == name {
			return strings.Split(l.Bootstrap, ",")
		}
	}
	t.Fatalf("no listener %s: run client-tests/go/run.sh", name)
	return nil
}

// roundTrip writes one record with `opts` (seed brokers and security) and reads it back.
func roundTrip(t *testing.T, what string, opts ...kgo.Opt) {
	topic := unique(t, what)
	cl, err := kgo.NewClient(append(opts, kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(what)}).FirstErr(); err != nil {
		t.Fatalf("%s: produce: %v", what, err)
	}
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: nothing read back", what)
		}
		for _, r := range fetches.Records() {
			if string(r.Value) == what {
				return
			}
		}
	}
}

// unsecuredToken is a JWS with alg "none" for `sub`, as Kafka's development validator takes.
func unsecuredToken(sub string) string {
	enc := base64.RawURLEncoding
	claims := fmt.Sprintf(`{"sub":%q,"exp":%d}`, sub, time.Now().Add(time.Hour).Unix())
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString([]byte(claims)) + "."
}

func TestFranzLogsInWithEachSaslMechanismAndOverTls(t *testing.T) {
	compat(t, "franz-go", "github.com/twmb/franz-go", "SASL PLAIN, SCRAM-SHA-256/512, OAUTHBEARER and TLS: write and read back; a wrong password is SASL_AUTHENTICATION_FAILED")
	seeds := kgo.SeedBrokers(listener(t, "SASL")...)
	mechanisms := map[string]sasl.Mechanism{
		"plain":       plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism(),
		"scram-256":   scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism(),
		"scram-512":   scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism(),
		"oauthbearer": oauth.Auth{Token: unsecuredToken("alice")}.AsMechanism(),
	}
	for what, mechanism := range mechanisms {
		roundTrip(t, what, seeds, kgo.SASL(mechanism))
	}

	resp, err := http.Get(os.Getenv("BROKER_SIM_CONTROL") + "/v1/tls/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		t.Fatalf("GET /v1/tls/ca.pem is not a PEM certificate: %q", ca)
	}
	roundTrip(t, "tls", kgo.SeedBrokers(listener(t, "TLS")...), kgo.DialTLSConfig(&tls.Config{RootCAs: roots}))

	cl, err := kgo.NewClient(seeds, kgo.SASL(plain.Auth{User: "alice", Pass: "wrong"}.AsMechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	err = cl.Ping(ctx)
	if !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("a wrong password: got %v, want SASL_AUTHENTICATION_FAILED", err)
	}
}
