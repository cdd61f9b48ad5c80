//! The embedded schema registry over HTTP, as Confluent's clients call it: a real cluster
//! and its control API (in process, on free ports), requests with Confluent's media type,
//! answers checked against Confluent's fields and error codes. Then the records answer
//! decoding wire-format values, and the audit of a topic against its subjects.
//!
//! Nothing waits on time: every request is answered before the next is sent.

mod support;

use std::sync::Arc;
use std::time::Duration;

use apache_avro::Schema;
use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use broker_sim::{Cluster, NewRecord, NewSchema, SchemaType, ViolationReason};
use bytes::Bytes;
use serde_json::{Value, json};

const MEDIA_TYPE: &str = "application/vnd.schemaregistry.v1+json";

const USER_V1: &str = r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#;
const USER_V2_DEFAULT: &str = r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}"#;
const USER_V2_NO_DEFAULT: &str = r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string"}]}"#;
const USER_EMPTY: &str = r#"{"type":"record","name":"User","fields":[]}"#;

/// A cluster and its control API on a free port, served on a thread of its own.
struct Registry {
    cluster: Arc<Cluster>,
    base: String,
    http: ureq::Agent,
}

impl Registry {
    fn start() -> Registry {
        Self::with(
            Cluster::builder()
                .brokers(1)
                .topic("orders", 2)
                .topic("t", 1),
        )
    }

    fn with(builder: broker_sim::ClusterBuilder) -> Registry {
        let cluster = Arc::new(builder.start().expect("the cluster starts"));
        let addr = support::serve_control(cluster.clone());
        let http = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Registry {
            cluster,
            base: format!("http://{addr}"),
            http,
        }
    }

    fn get(&self, path: &str) -> (u16, Value) {
        answer(self.http.get(format!("{}{path}", self.base)).call())
    }

    fn get_text(&self, path: &str) -> String {
        let mut response = self
            .http
            .get(format!("{}{path}", self.base))
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        response.body_mut().read_to_string().unwrap()
    }

    fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let body = body.to_string();
        let request = match method {
            "POST" => self.http.post(url),
            "PUT" => self.http.put(url),
            other => panic!("no {other}"),
        };
        answer(request.header("content-type", MEDIA_TYPE).send(body))
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, body)
    }

    fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("PUT", path, body)
    }

    fn delete(&self, path: &str) -> (u16, Value) {
        answer(self.http.delete(format!("{}{path}", self.base)).call())
    }

    /// Registers an Avro schema, which must be accepted: its id.
    fn register(&self, subject: &str, schema: &str) -> i64 {
        let (status, body) = self.post(
            &format!("/subjects/{subject}/versions"),
            json!({ "schema": schema }),
        );
        assert_eq!(status, 200, "{body}");
        body["id"].as_i64().unwrap()
    }
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut response = response.expect("the control API answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = response.body_mut().read_to_string().unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    if body.get("error_code").is_some() || body.get("id").is_some() {
        assert_eq!(content_type, MEDIA_TYPE);
    }
    (status, body)
}

/// Asserts a Confluent error: the HTTP status and the `error_code`.
#[track_caller]
fn assert_refused(answer: (u16, Value), status: u16, code: i64) {
    let (got, body) = answer;
    assert_eq!(
        (got, body["error_code"].as_i64()),
        (status, Some(code)),
        "{body}"
    );
    assert!(body["message"].is_string(), "{body}");
}

/// An Avro value in the Confluent wire format.
fn wire(schema_id: i32, schema: &str, value: Avro) -> Bytes {
    let schema = Schema::parse_str(schema).unwrap();
    let payload = GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value_to_vec(value)
        .unwrap();
    let mut out = vec![0];
    out.extend(schema_id.to_be_bytes());
    out.extend(payload);
    out.into()
}

fn user(id: i64) -> Avro {
    Avro::Record(vec![("id".into(), Avro::Long(id))])
}

#[test]
fn registering_twice_gives_one_id_and_lookup_finds_the_version() {
    let r = Registry::start();
    assert_eq!(
        r.get("/schemas/types").1,
        json!(["AVRO", "JSON", "PROTOBUF"])
    );
    assert_eq!(r.get("/subjects").1, json!([]));
    assert_eq!(r.register("users-value", USER_V1), 1);
    // Whitespace does not make another schema.
    assert_eq!(r.register("users-value", &USER_V1.replace(',', ", ")), 1);
    assert_eq!(r.get("/subjects/users-value/versions").1, json!([1]));
    let (status, found) = r.post("/subjects/users-value", json!({ "schema": USER_V1 }));
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        (&found["subject"], &found["version"], &found["id"]),
        (&json!("users-value"), &json!(1), &json!(1))
    );
    assert_eq!(found["schema"], USER_V1);
    assert_refused(
        r.post(
            "/subjects/users-value",
            json!({ "schema": USER_V2_DEFAULT }),
        ),
        404,
        40403,
    );
    assert_refused(
        r.post("/subjects/nobody", json!({ "schema": USER_V1 })),
        404,
        40401,
    );
    assert_refused(
        r.post("/subjects/x/versions", json!({ "schema": "{not avro" })),
        422,
        42201,
    );
    assert_refused(
        r.post(
            "/subjects/x/versions",
            json!({ "schema": USER_V1, "schemaType": "XML" }),
        ),
        422,
        42201,
    );
}

#[test]
fn the_same_schema_under_two_subjects_has_one_id() {
    let r = Registry::start();
    assert_eq!(r.register("a", USER_V1), 1);
    assert_eq!(r.register("b", USER_V1), 1);
    assert_eq!(r.register("c", USER_EMPTY), 2);
    assert_eq!(r.get("/subjects").1, json!(["a", "b", "c"]));
    assert_eq!(r.get("/subjects?subjectPrefix=a").1, json!(["a"]));
    assert_eq!(r.get("/schemas/ids/1/subjects").1, json!(["a", "b"]));
    assert_eq!(
        r.get("/schemas/ids/1/versions").1,
        json!([{"subject": "a", "version": 1}, {"subject": "b", "version": 1}])
    );
    let (status, by_id) = r.get("/schemas/ids/2");
    assert_eq!(status, 200);
    assert_eq!(by_id, json!({ "schema": USER_EMPTY }));
    assert_eq!(r.get_text("/schemas/ids/2/schema"), USER_EMPTY);
    assert_refused(r.get("/schemas/ids/99"), 404, 40403);
    assert_refused(r.get("/schemas/ids/99/subjects"), 404, 40403);
}

#[test]
fn versions_count_from_one_and_latest_is_the_last() {
    let r = Registry::start();
    r.register("s", USER_V1);
    r.register("s", USER_V2_DEFAULT);
    assert_eq!(r.get("/subjects/s/versions").1, json!([1, 2]));
    for latest in ["latest", "-1"] {
        let (_, v) = r.get(&format!("/subjects/s/versions/{latest}"));
        assert_eq!((&v["version"], &v["id"]), (&json!(2), &json!(2)), "{v}");
    }
    assert_eq!(r.get_text("/subjects/s/versions/1/schema"), USER_V1);
    assert_refused(r.get("/subjects/s/versions/0"), 422, 42202);
    assert_refused(r.get("/subjects/s/versions/abc"), 422, 42202);
    assert_refused(r.get("/subjects/s/versions/9"), 404, 40402);
    assert_refused(r.get("/subjects/nobody/versions"), 404, 40401);
    assert_refused(r.get("/subjects/nobody/versions/1"), 404, 40401);
    // The Rust API sees the same registry.
    let registry = r.cluster.schema_registry();
    assert_eq!(registry.versions("s").unwrap(), vec![1, 2]);
    assert_eq!(registry.latest("s").unwrap().id, 2);
}

#[test]
fn a_subject_name_with_a_slash_is_percent_encoded() {
    let r = Registry::start();
    assert_eq!(r.register("team%2Fusers", USER_V1), 1);
    assert_eq!(r.get("/subjects").1, json!(["team/users"]));
    assert_eq!(r.get("/subjects/team%2Fusers/versions").1, json!([1]));
}

#[test]
fn references_resolve_and_a_referenced_version_cannot_be_deleted() {
    let r = Registry::start();
    let address = r#"{"type":"record","name":"Address","namespace":"t","fields":[{"name":"city","type":"string"}]}"#;
    let person = r#"{"type":"record","name":"Person","namespace":"t","fields":[{"name":"home","type":"t.Address"}]}"#;
    assert_eq!(r.register("address", address), 1);
    let reference = json!([{"name": "t.Address", "subject": "address", "version": 1}]);
    let (status, body) = r.post(
        "/subjects/person/versions",
        json!({ "schema": person, "references": reference }),
    );
    assert_eq!((status, &body["id"]), (200, &json!(2)), "{body}");
    let (_, v) = r.get("/subjects/person/versions/1");
    assert_eq!(v["references"], reference);
    assert_eq!(r.get("/schemas/ids/2").1["references"], reference);
    assert_eq!(
        r.get("/subjects/address/versions/1/referencedby").1,
        json!([2])
    );
    // Without its reference, the schema names an unknown type.
    assert_refused(
        r.post("/subjects/p2/versions", json!({ "schema": person })),
        422,
        42201,
    );
    let missing = json!([{"name": "t.Address", "subject": "address", "version": 7}]);
    assert_refused(
        r.post(
            "/subjects/p2/versions",
            json!({ "schema": person, "references": missing }),
        ),
        422,
        42201,
    );
    assert_refused(r.delete("/subjects/address/versions/1"), 422, 42206);
    assert_refused(r.delete("/subjects/address"), 422, 42206);
    // Once the referrer is gone, the reference may go.
    assert_eq!(r.delete("/subjects/person").1, json!([1]));
    assert_eq!(r.delete("/subjects/address/versions/1").1, json!(1));
}

#[test]
fn deletes_are_soft_first_and_permanent_after() {
    let r = Registry::start();
    r.register("s", USER_V1);
    assert_refused(
        r.delete("/subjects/s/versions/1?permanent=true"),
        404,
        40407,
    );
    assert_refused(r.delete("/subjects/s?permanent=true"), 404, 40405);
    assert_eq!(r.delete("/subjects/s/versions/1").1, json!(1));
    assert_refused(r.delete("/subjects/s/versions/1"), 404, 40406);
    // Hidden, unless deleted ones are asked for; the id still reads.
    assert_refused(r.get("/subjects/s/versions"), 404, 40401);
    assert_eq!(r.get("/subjects/s/versions?deleted=true").1, json!([1]));
    assert_eq!(r.get("/subjects").1, json!([]));
    assert_eq!(r.get("/subjects?deleted=true").1, json!(["s"]));
    assert_eq!(
        r.get("/subjects/s/versions/1?deleted=true").1["deleted"],
        true
    );
    assert_eq!(r.get("/schemas/ids/1").0, 200);
    // Registering it again adds a version with the old id.
    assert_eq!(r.register("s", USER_V1), 1);
    assert_eq!(r.get("/subjects/s/versions").1, json!([2]));
    assert_eq!(r.delete("/subjects/s").1, json!([2]));
    assert_refused(r.delete("/subjects/s"), 404, 40404);
    assert_eq!(r.delete("/subjects/s?permanent=true").1, json!([1, 2]));
    assert_refused(r.delete("/subjects/s?permanent=true"), 404, 40401);
    assert_refused(r.get("/schemas/ids/1"), 404, 40403);
    // Ids are never given twice.
    assert_eq!(r.register("s", USER_EMPTY), 2);
}

#[test]
fn compatibility_and_mode_are_set_per_subject_and_globally() {
    let r = Registry::start();
    assert_eq!(
        r.get("/config").1,
        json!({"compatibilityLevel": "BACKWARD"})
    );
    assert_eq!(
        r.put("/config", json!({"compatibility": "FULL"})).1,
        json!({"compatibility": "FULL"})
    );
    assert_refused(r.get("/config/s"), 404, 40408);
    assert_eq!(
        r.get("/config/s?defaultToGlobal=true").1,
        json!({"compatibilityLevel": "FULL"})
    );
    assert_eq!(
        r.put("/config/s", json!({"compatibility": "none"})).1,
        json!({"compatibility": "NONE"})
    );
    assert_eq!(r.get("/config/s").1, json!({"compatibilityLevel": "NONE"}));
    assert_eq!(
        r.delete("/config/s").1,
        json!({"compatibilityLevel": "NONE"})
    );
    assert_refused(r.delete("/config/s"), 404, 40408);
    assert_refused(
        r.put("/config", json!({"compatibility": "SIDEWAYS"})),
        422,
        42203,
    );
    assert_eq!(r.delete("/config").1, json!({"compatibilityLevel": "FULL"}));
    assert_eq!(
        r.get("/config").1,
        json!({"compatibilityLevel": "BACKWARD"})
    );

    assert_eq!(r.get("/mode").1, json!({"mode": "READWRITE"}));
    assert_refused(r.get("/mode/s"), 404, 40409);
    assert_eq!(
        r.put("/mode/s", json!({"mode": "READONLY"})).1,
        json!({"mode": "READONLY"})
    );
    assert_refused(
        r.post("/subjects/s/versions", json!({ "schema": USER_V1 })),
        422,
        42205,
    );
    r.register("other", USER_V1);
    assert_eq!(
        r.get("/mode/other?defaultToGlobal=true").1,
        json!({"mode": "READWRITE"})
    );
    assert_refused(r.put("/mode", json!({"mode": "SOMETIMES"})), 422, 42204);
    assert_eq!(r.delete("/mode/s").1, json!({"mode": "READONLY"}));
    r.register("s", USER_V1);
    assert_eq!(r.get("/contexts").1, json!(["."]));
}

#[test]
fn backward_needs_a_default_for_a_new_field() {
    let r = Registry::start();
    r.register("s", USER_V1);
    let (status, body) = r.post(
        "/subjects/s/versions",
        json!({ "schema": USER_V2_NO_DEFAULT }),
    );
    assert_eq!((status, &body["error_code"]), (409, &json!(409)), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("email"),
        "{body}"
    );
    assert_eq!(r.register("s", USER_V2_DEFAULT), 2);
}

#[test]
fn forward_and_full_check_the_other_directions() {
    let r = Registry::start();
    r.put("/config/fwd", json!({"compatibility": "FORWARD"}));
    r.register("fwd", USER_V2_NO_DEFAULT);
    // The old schema cannot read data without its `email`, which has no default.
    assert_refused(
        r.post("/subjects/fwd/versions", json!({ "schema": USER_V1 })),
        409,
        409,
    );
    // A new field without a default is fine forward: old readers ignore it.
    r.put("/config/fwd2", json!({"compatibility": "FORWARD"}));
    r.register("fwd2", USER_V1);
    r.register("fwd2", USER_V2_NO_DEFAULT);

    r.put("/config/full", json!({"compatibility": "FULL"}));
    r.register("full", USER_V1);
    assert_refused(
        r.post(
            "/subjects/full/versions",
            json!({ "schema": USER_V2_NO_DEFAULT }),
        ),
        409,
        409,
    );
    r.register("full", USER_V2_DEFAULT);

    r.put("/config/none", json!({"compatibility": "NONE"}));
    r.register("none", USER_V1);
    r.register("none", r#"{"type":"string"}"#);
}

#[test]
fn transitive_levels_compare_with_every_version_and_plain_ones_with_the_latest() {
    // v1 has `id: long`; v2 drops it; v3 brings it back as a string with a default:
    // v3 reads v2's data, not v1's (long does not promote to string).
    let v3 =
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"string","default":""}]}"#;
    let r = Registry::start();
    for (subject, level) in [("plain", "BACKWARD"), ("transitive", "BACKWARD_TRANSITIVE")] {
        r.put(
            &format!("/config/{subject}"),
            json!({ "compatibility": level }),
        );
        r.register(subject, USER_V1);
        r.register(subject, USER_EMPTY);
    }
    r.register("plain", v3);
    assert_refused(
        r.post("/subjects/transitive/versions", json!({ "schema": v3 })),
        409,
        409,
    );
}

#[test]
fn the_compatibility_endpoint_answers_without_registering() {
    let r = Registry::start();
    r.register("s", USER_V1);
    let path = "/compatibility/subjects/s/versions/latest";
    let (status, body) = r.post(path, json!({ "schema": USER_V2_NO_DEFAULT }));
    assert_eq!((status, body), (200, json!({"is_compatible": false})));
    let (_, verbose) = r.post(
        &format!("{path}?verbose=true"),
        json!({ "schema": USER_V2_NO_DEFAULT }),
    );
    assert_eq!(verbose["is_compatible"], false);
    assert!(
        !verbose["messages"].as_array().unwrap().is_empty(),
        "{verbose}"
    );
    let (_, ok) = r.post(
        "/compatibility/subjects/s/versions",
        json!({ "schema": USER_V2_DEFAULT }),
    );
    assert_eq!(ok, json!({"is_compatible": true}));
    assert_eq!(r.get("/subjects/s/versions").1, json!([1]));
    assert_refused(
        r.post(
            "/compatibility/subjects/s/versions/5",
            json!({ "schema": USER_V1 }),
        ),
        404,
        40402,
    );
    assert_refused(
        r.post(
            "/compatibility/subjects/nobody/versions/1",
            json!({ "schema": USER_V1 }),
        ),
        404,
        40401,
    );
    let (_, empty) = r.post(
        "/compatibility/subjects/nobody/versions/latest",
        json!({ "schema": USER_V1 }),
    );
    assert_eq!(empty["is_compatible"], true);
}

#[test]
fn import_mode_takes_explicit_ids_and_versions() {
    let r = Registry::start();
    assert_refused(
        r.post(
            "/subjects/s/versions",
            json!({ "schema": USER_V1, "id": 10 }),
        ),
        422,
        42205,
    );
    r.put("/mode", json!({"mode": "IMPORT"}));
    let (status, body) = r.post(
        "/subjects/s/versions",
        json!({ "schema": USER_V1, "id": 10, "version": 3 }),
    );
    assert_eq!((status, &body["id"]), (200, &json!(10)), "{body}");
    assert_eq!(r.get("/subjects/s/versions").1, json!([3]));
    // An id already given to another schema is refused.
    assert_refused(
        r.post(
            "/subjects/s/versions",
            json!({ "schema": USER_EMPTY, "id": 10 }),
        ),
        422,
        42205,
    );
    r.put("/mode", json!({"mode": "READWRITE"}));
    assert_eq!(r.register("s", USER_V2_DEFAULT), 11);
    // IMPORT is refused where subjects exist, unless forced.
    assert_refused(r.put("/mode", json!({"mode": "IMPORT"})), 422, 42205);
    assert_eq!(r.put("/mode?force=true", json!({"mode": "IMPORT"})).0, 200);
}

#[test]
fn records_in_the_wire_format_are_decoded_in_the_records_answer() {
    let r = Registry::start();
    let id = r.register("orders-value", USER_V1) as i32;
    let c = &r.cluster;
    c.produce_record(
        "orders",
        Some(0),
        NewRecord {
            timestamp: 1_000,
            key: Some(Bytes::from_static(b"k")),
            value: Some(wire(id, USER_V1, user(7))),
            headers: Vec::new(),
        },
    )
    .unwrap();
    c.produce_record(
        "orders",
        Some(0),
        NewRecord {
            timestamp: 2_000,
            key: None,
            value: Some(wire(99, USER_V1, user(8))),
            headers: Vec::new(),
        },
    )
    .unwrap();
    c.produce_record(
        "orders",
        Some(0),
        NewRecord {
            timestamp: 3_000,
            key: None,
            value: Some(Bytes::from_static(b"plain text")),
            headers: Vec::new(),
        },
    )
    .unwrap();
    let (status, body) = r.get("/v1/topics/orders/records?partition=0");
    assert_eq!(status, 200, "{body}");
    let records = body["records"].as_array().unwrap();
    assert_eq!(
        records[0]["value_decoded"],
        json!({"schema_id": id, "subject": "orders-value", "schema_type": "AVRO", "value": {"id": 7}})
    );
    assert!(records[0].get("key_decoded").is_none());
    assert_eq!(records[1]["value_decoded"]["schema_id"], 99);
    assert!(
        records[1]["value_decoded"]["error"].is_string(),
        "{}",
        records[1]
    );
    assert!(records[2].get("value_decoded").is_none());
    // From a timestamp on.
    let (_, later) = r.get("/v1/topics/orders/records?partition=0&timestamp=2000");
    let offsets: Vec<&Value> = later["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["offset"])
        .collect();
    assert_eq!(offsets, [&json!(1), &json!(2)]);
    // The embedding API decodes the same bytes.
    let decoded = c.decode(&wire(id, USER_V1, user(5))).unwrap();
    assert_eq!(decoded.value, Some(json!({"id": 5})));
    assert_eq!(decoded.subject.as_deref(), Some("orders-value"));
    assert!(c.decode(b"plain").is_none());
}

#[test]
fn the_audit_names_each_way_a_record_breaks_its_schemas() {
    let r = Registry::with(
        Cluster::builder()
            .brokers(1)
            .topic("t", 1)
            .schema("t-value", SchemaType::Avro, USER_V1)
            .schema("elsewhere", SchemaType::Avro, USER_EMPTY),
    );
    let c = &r.cluster;
    let produce = |key: Option<Bytes>, value: Bytes| {
        c.produce_record(
            "t",
            Some(0),
            NewRecord {
                timestamp: 0,
                key,
                value: Some(value),
                headers: Vec::new(),
            },
        )
        .unwrap();
    };
    produce(None, wire(1, USER_V1, user(1))); // 0: fine
    produce(None, Bytes::from_static(b"hello")); // 1: not wire format
    produce(None, wire(42, USER_V1, user(1))); // 2: unknown id
    produce(None, Bytes::from_static(&[0, 0, 0, 0, 1, 0x80])); // 3: a varint cut short
    produce(None, wire(2, USER_EMPTY, Avro::Record(vec![]))); // 4: another subject's schema
    produce(Some(Bytes::from_static(b"k")), wire(1, USER_V1, user(2))); // 5: key unchecked
    let reasons: Vec<(i64, ViolationReason)> = c
        .schema_violations("t")
        .iter()
        .map(|v| (v.offset, v.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (1, ViolationReason::NotWireFormat),
            (2, ViolationReason::UnknownSchemaId),
            (3, ViolationReason::DoesNotDecode),
            (4, ViolationReason::NotInSubject),
        ]
    );
    let (status, body) = r.get("/v1/topics/t/schema-violations");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checked"], 6);
    assert_eq!(
        body["violations"][2],
        json!({"partition": 0, "offset": 3, "part": "value", "schema_id": 1,
               "reason": "does_not_decode", "message": body["violations"][2]["message"]})
    );
    assert_eq!(body["violations"][0]["schema_id"], Value::Null);
    // Keys are checked once `<topic>-key` has versions.
    c.schema_registry()
        .register("t-key", NewSchema::avro(r#""string""#))
        .unwrap();
    let (_, body) = r.get("/v1/topics/t/schema-violations");
    assert_eq!(body["checked"], 7);
    let last = body["violations"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (&last["offset"], &last["part"], &last["reason"]),
        (&json!(5), &json!("key"), &json!("not_wire_format"))
    );
    assert_eq!(r.get("/v1/topics/nope/schema-violations").0, 404);
}
