// franz-go's schema registry client (pkg/sr) against broker-sim's embedded registry on the
// control port: Avro registration and BACKWARD evolution, values framed by sr.Serde in
// Confluent's wire format produced with kgo and checked by the control API's decoding
// and schema audit, and a Protobuf schema referencing another subject.
package compat

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

const srModule = "github.com/twmb/franz-go/pkg/sr"

// registry is franz-go's schema registry client pointed at the control API.
func registry(t *testing.T, test string) *sr.Client {
	compat(t, "franz-go sr", srModule, test)
	url := os.Getenv("BROKER_SIM_CONTROL")
	if url == "" {
		t.Fatal("BROKER_SIM_CONTROL is not set: run client-tests/go/run.sh")
	}
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// greetingV1 is an Avro record with one string field: its binary encoding is the
// zigzag varint of the string's length, then its bytes.
const greetingV1 = `{"type":"record","name":"Greeting","namespace":"brokersim.go","fields":[{"name":"text","type":"string"}]}`

type greeting struct{ Text string }

func encodeGreeting(v any) ([]byte, error) {
	g, ok := v.(greeting)
	if !ok {
		return nil, fmt.Errorf("not a greeting: %T", v)
	}
	return append(binary.AppendVarint(nil, int64(len(g.Text))), g.Text...), nil
}

func decodeGreeting(b []byte, v any) error {
	n, read := binary.Varint(b)
	if read <= 0 || n < 0 || int64(len(b)-read) != n {
		return fmt.Errorf("not an Avro Greeting: % x", b)
	}
	v.(*greeting).Text = string(b[read:])
	return nil
}

func TestSRAvroSchemaRegistersOnceAndReadsBackByVersionIDAndSubjects(t *testing.T) {
	cl := registry(t, "Avro schema registers once, reads back by version, id and in subjects")
	ctx := context.Background()
	subject := unique(t, "topic") + "-value"
	id, err := cl.RegisterSchema(ctx, subject, sr.Schema{Schema: greetingV1, Type: sr.TypeAvro}, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	if id <= 0 {
		t.Fatalf("registered id %d, want a positive id", id)
	}
	again, err := cl.RegisterSchema(ctx, subject, sr.Schema{Schema: greetingV1, Type: sr.TypeAvro}, -1, -1)
	if err != nil || again != id {
		t.Fatalf("registering the same schema again gave id %d (%v), want %d", again, err, id)
	}
	versions, err := cl.SubjectVersions(ctx, subject)
	if err != nil || !slices.Equal(versions, []int{1}) {
		t.Fatalf("versions %v (%v), want [1]", versions, err)
	}
	ss, err := cl.SchemaByVersion(ctx, subject, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Subject != subject || ss.Version != 1 || ss.ID != id || ss.Type != sr.TypeAvro {
		t.Fatalf("version 1 is %+v, want subject %s, version 1, id %d, AVRO", ss, subject, id)
	}
	if !strings.Contains(ss.Schema.Schema, `"Greeting"`) {
		t.Fatalf("version 1's schema is %s", ss.Schema.Schema)
	}
	latest, err := cl.SchemaByVersion(ctx, subject, -1)
	if err != nil || latest.ID != id || latest.Version != 1 {
		t.Fatalf("latest is %+v (%v), want version 1 with id %d", latest, err, id)
	}
	byID, err := cl.SchemaByID(ctx, id)
	if err != nil || byID.Type != sr.TypeAvro || byID.Schema != ss.Schema.Schema {
		t.Fatalf("schema %d is %+v (%v), want version 1's", id, byID, err)
	}
	subjects, err := cl.Subjects(ctx)
	if err != nil || !slices.Contains(subjects, subject) {
		t.Fatalf("subjects %v (%v) lack %s", subjects, err, subject)
	}
	found, err := cl.LookupSchema(ctx, subject, sr.Schema{Schema: greetingV1, Type: sr.TypeAvro})
	if err != nil || found.ID != id || found.Version != 1 {
		t.Fatalf("lookup gave %+v (%v), want id %d version 1", found, err, id)
	}
}

func TestSRBackwardRefusesFieldWithoutDefaultWith409AndAcceptsOneWithDefault(t *testing.T) {
	cl := registry(t, "BACKWARD refuses a field without default (409), accepts one with a default as version 2")
	ctx := context.Background()
	subject := unique(t, "topic") + "-value"
	if _, err := cl.RegisterSchema(ctx, subject, sr.Schema{Schema: greetingV1, Type: sr.TypeAvro}, -1, -1); err != nil {
		t.Fatal(err)
	}
	set := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatBackward}, subject)
	if len(set) != 1 || set[0].Err != nil || set[0].Level != sr.CompatBackward {
		t.Fatalf("setting BACKWARD gave %+v", set)
	}
	got := cl.Compatibility(ctx, subject)
	if len(got) != 1 || got[0].Err != nil || got[0].Level != sr.CompatBackward {
		t.Fatalf("subject compatibility is %+v, want BACKWARD", got)
	}

	withoutDefault := sr.Schema{Type: sr.TypeAvro, Schema: `{"type":"record","name":"Greeting","namespace":"brokersim.go","fields":[` +
		`{"name":"text","type":"string"},{"name":"lang","type":"string"}]}`}
	check, err := cl.CheckCompatibility(ctx, subject, -1, withoutDefault)
	if err != nil || check.Is {
		t.Fatalf("compatibility check of a field without default gave %+v (%v), want incompatible", check, err)
	}
	_, err = cl.RegisterSchema(ctx, subject, withoutDefault, -1, -1)
	var re *sr.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("registering a field without default gave %v, want a *sr.ResponseError", err)
	}
	if re.ErrorCode != 409 || re.StatusCode != 409 || re.SchemaError() != sr.ErrIncompatibleSchema {
		t.Fatalf("registering a field without default gave HTTP %d, error_code %d (%s), want 409/409", re.StatusCode, re.ErrorCode, re.Raw)
	}

	withDefault := sr.Schema{Type: sr.TypeAvro, Schema: `{"type":"record","name":"Greeting","namespace":"brokersim.go","fields":[` +
		`{"name":"text","type":"string"},{"name":"lang","type":"string","default":"en"}]}`}
	check, err = cl.CheckCompatibility(ctx, subject, -1, withDefault)
	if err != nil || !check.Is {
		t.Fatalf("compatibility check of a field with a default gave %+v (%v), want compatible", check, err)
	}
	id, err := cl.RegisterSchema(ctx, subject, withDefault, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := cl.SchemaByVersion(ctx, subject, 2)
	if err != nil || v2.ID != id || !strings.Contains(v2.Schema.Schema, `"lang"`) {
		t.Fatalf("version 2 is %+v (%v), want the schema with lang, id %d", v2, err, id)
	}
	versions, err := cl.SubjectVersions(ctx, subject)
	if err != nil || !slices.Equal(versions, []int{1, 2}) {
		t.Fatalf("versions %v (%v), want [1 2]", versions, err)
	}
}

func TestSRSerdeFramedAvroValueDecodesAndBrokenOneIsTheOnlyViolation(t *testing.T) {
	reg := registry(t, "Serde-framed Avro value decodes; a header without payload is the only violation (does_not_decode)")
	ctx := context.Background()
	producer := franz(t, "produce Confluent wire-format values", kgo.RequiredAcks(kgo.AllISRAcks()))
	topic := franzTopic(t, producer, 1)
	id, err := reg.RegisterSchema(ctx, topic+"-value", sr.Schema{Schema: greetingV1, Type: sr.TypeAvro}, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	var serde sr.Serde
	serde.Register(id, greeting{}, sr.EncodeFn(encodeGreeting), sr.DecodeFn(decodeGreeting))
	good, err := serde.Encode(greeting{Text: "hello from go"})
	if err != nil {
		t.Fatal(err)
	}
	// The right header and no payload: the record's string field is missing.
	broken, err := (&sr.ConfluentHeader{}).AppendEncode(nil, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := producer.ProduceSync(ctx,
		&kgo.Record{Topic: topic, Value: good},
		&kgo.Record{Topic: topic, Value: broken},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}

	var records struct {
		Records []struct {
			Offset       int64 `json:"offset"`
			ValueDecoded *struct {
				SchemaID   int            `json:"schema_id"`
				Subject    string         `json:"subject"`
				SchemaType string         `json:"schema_type"`
				Value      map[string]any `json:"value"`
				Error      string         `json:"error"`
			} `json:"value_decoded"`
		} `json:"records"`
	}
	control(t, "/v1/topics/"+topic+"/records?limit=10", &records)
	if len(records.Records) != 2 {
		t.Fatalf("the topic holds %d records, want 2", len(records.Records))
	}
	d := records.Records[0].ValueDecoded
	if d == nil || d.SchemaID != id || d.Subject != topic+"-value" || d.SchemaType != "AVRO" || d.Value["text"] != "hello from go" {
		t.Fatalf("offset 0 decodes as %+v, want schema %d of %s-value, AVRO, text \"hello from go\"", d, id, topic)
	}

	var audit struct {
		Topic      string `json:"topic"`
		Checked    int    `json:"checked"`
		Violations []struct {
			Partition int    `json:"partition"`
			Offset    int64  `json:"offset"`
			Part      string `json:"part"`
			SchemaID  int    `json:"schema_id"`
			Reason    string `json:"reason"`
			Message   string `json:"message"`
		} `json:"violations"`
	}
	control(t, "/v1/topics/"+topic+"/schema-violations", &audit)
	if audit.Topic != topic || audit.Checked != 2 || len(audit.Violations) != 1 {
		t.Fatalf("audit %+v, want 2 checked and one violation", audit)
	}
	v := audit.Violations[0]
	if v.Partition != 0 || v.Offset != 1 || v.Part != "value" || v.SchemaID != id || v.Reason != "does_not_decode" {
		t.Fatalf("violation %+v, want the value at offset 1, schema %d, does_not_decode", v, id)
	}
	if v.Message == "" {
		t.Fatal("the violation does not say why the value does not decode")
	}

	// And franz-go's own Serde reads back what it framed.
	var back greeting
	if err := serde.Decode(good, &back); err != nil || back.Text != "hello from go" {
		t.Fatalf("Serde decoded %+v (%v)", back, err)
	}
}

const moneyProto = `syntax = "proto3";
package brokersim.go.common;

message Money {
  string currency = 1;
  int64 units = 2;
}
`

const orderProto = `syntax = "proto3";
package brokersim.go.orders;

import "brokersim/go/common/money.proto";

message Order {
  string id = 1;
  brokersim.go.common.Money total = 2;
}
`

func TestSRProtobufSchemaWithReferenceRegistersAndReadsBackByID(t *testing.T) {
	cl := registry(t, "Protobuf schema referencing another subject registers and reads back by id")
	ctx := context.Background()
	base := unique(t, "topic")
	common := base + "-money"
	if _, err := cl.RegisterSchema(ctx, common, sr.Schema{Schema: moneyProto, Type: sr.TypeProtobuf}, -1, -1); err != nil {
		t.Fatal(err)
	}
	ref := sr.SchemaReference{Name: "brokersim/go/common/money.proto", Subject: common, Version: 1}
	order := sr.Schema{Schema: orderProto, Type: sr.TypeProtobuf, References: []sr.SchemaReference{ref}}
	id, err := cl.RegisterSchema(ctx, base+"-value", order, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	byID, err := cl.SchemaByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if byID.Type != sr.TypeProtobuf || !slices.Equal(byID.References, []sr.SchemaReference{ref}) {
		t.Fatalf("schema %d is %+v, want PROTOBUF referencing %+v", id, byID, ref)
	}
	if byID.Schema != orderProto {
		t.Fatalf("schema %d's text is %q, want the .proto as registered", id, byID.Schema)
	}
	users, err := cl.SchemaReferences(ctx, common, 1)
	if err != nil || len(users) != 1 || users[0].ID != id || users[0].Subject != base+"-value" {
		t.Fatalf("money v1 is referenced by %+v (%v), want schema %d of %s-value", users, err, id, base)
	}
	// A reference to a version that does not exist makes the schema invalid (42201).
	missing := sr.Schema{Schema: orderProto, Type: sr.TypeProtobuf,
		References: []sr.SchemaReference{{Name: ref.Name, Subject: common, Version: 7}}}
	_, err = cl.RegisterSchema(ctx, base+"-other-value", missing, -1, -1)
	var re *sr.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 422 || re.SchemaError() != sr.ErrInvalidSchema {
		t.Fatalf("registering with a missing reference gave %v, want HTTP 422, error_code 42201", err)
	}
}
