//! SASL listeners over the wire: what a connection may send before it authenticates, the
//! PLAIN, SCRAM and OAUTHBEARER exchanges with their failures, SaslHandshake v0's bare
//! tokens, re-authentication (KIP-368) on the cluster clock, Metadata advertising the
//! listener a client came in on, and a fault rule failing authentication on purpose.
//! Real clients (librdkafka, Java, Python, Go) log in the same way in client-tests.

mod support;

use std::time::Duration;

use base64::Engine;
use broker_sim::{Cluster, Fault, Listener, SecurityProtocol};
use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{
    ApiKey, MetadataRequest, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest,
};
use support::*;

fn cluster() -> Cluster {
    Cluster::builder()
        .brokers(2)
        .listener(Listener::new(SecurityProtocol::Plaintext))
        .listener(Listener::new(SecurityProtocol::SaslPlaintext).named("SECURE"))
        .sasl_user("alice", "alice-secret")
        .connections_max_reauth(Duration::from_secs(60))
        .manual_clock(1_000_000)
        .start()
        .unwrap()
}

fn sasl_conn(cluster: &Cluster) -> Conn {
    let bootstrap = cluster.bootstrap_servers_for("SECURE").unwrap();
    Conn::connect(bootstrap.split(',').next().unwrap())
}

fn handshake(conn: &mut Conn, version: i16, mechanism: &str) -> i16 {
    conn.send(
        version,
        &SaslHandshakeRequest::default().with_mechanism(str_bytes(mechanism)),
    )
    .error_code
}

fn authenticate(conn: &mut Conn, token: &[u8]) -> SaslAuthenticateResponse {
    conn.send(
        2,
        &SaslAuthenticateRequest::default().with_auth_bytes(Bytes::copy_from_slice(token)),
    )
}

fn plain_login(conn: &mut Conn, user: &str, password: &str) -> SaslAuthenticateResponse {
    assert_eq!(handshake(conn, 1, "PLAIN"), 0);
    authenticate(conn, format!("\0{user}\0{password}").as_bytes())
}

#[test]
fn a_sasl_connection_is_closed_if_it_sends_a_request_before_authenticating() {
    let cluster = cluster();
    let mut conn = sasl_conn(&cluster);
    conn.write(12, &MetadataRequest::default());
    conn.assert_closed("Metadata before SASL authentication");
}

#[test]
fn plain_login_serves_requests_and_metadata_names_the_listeners_ports() {
    let cluster = cluster();
    let mut conn = sasl_conn(&cluster);
    let response = conn.send(
        1,
        &SaslHandshakeRequest::default().with_mechanism(str_bytes("PLAIN")),
    );
    assert_eq!(response.error_code, 0);
    let mechanisms: Vec<&str> = response.mechanisms.iter().map(|m| m.as_str()).collect();
    assert_eq!(
        mechanisms,
        ["PLAIN", "SCRAM-SHA-512", "SCRAM-SHA-256", "OAUTHBEARER"]
    );
    let answer = authenticate(&mut conn, b"\0alice\0alice-secret");
    assert_eq!(answer.error_code, 0, "{:?}", answer.error_message);
    assert_eq!(answer.session_lifetime_ms, 60_000);
    let described = metadata(&mut conn, 12, &[]);
    let secure = cluster.bootstrap_servers_for("SECURE").unwrap();
    let advertised: Vec<String> = described
        .brokers
        .iter()
        .map(|b| format!("{}:{}", b.host.as_str(), b.port))
        .collect();
    assert_eq!(advertised.join(","), secure);
    // The PLAINTEXT listener advertises its own ports.
    let plain = metadata(&mut Conn::to_broker(&cluster, 1), 12, &[]);
    assert_eq!(plain.brokers[0].port, cluster.brokers()[0].port);
    assert_ne!(plain.brokers[0].port, described.brokers[0].port);
}

#[test]
fn a_wrong_password_fails_with_kafkas_message_and_closes_the_connection() {
    let cluster = cluster();
    let mut conn = sasl_conn(&cluster);
    let answer = plain_login(&mut conn, "alice", "wrong");
    assert_eq!(
        answer.error_code,
        ResponseError::SaslAuthenticationFailed.code()
    );
    assert_eq!(
        answer
            .error_message
            .as_ref()
            .map(|m| m.to_string())
            .as_deref(),
        Some("Authentication failed: Invalid username or password")
    );
    conn.write(12, &MetadataRequest::default());
    conn.assert_closed("a request after a failed authentication");
}

#[test]
fn an_unknown_mechanism_is_refused_with_the_enabled_ones() {
    let cluster = cluster();
    let mut conn = sasl_conn(&cluster);
    let response = conn.send(
        1,
        &SaslHandshakeRequest::default().with_mechanism(str_bytes("GSSAPI")),
    );
    assert_eq!(
        response.error_code,
        ResponseError::UnsupportedSaslMechanism.code()
    );
    assert_eq!(response.mechanisms.len(), 4);
}

#[test]
fn a_handshake_v0_client_sends_bare_tokens() {
    let cluster = cluster();
    let mut conn = sasl_conn(&cluster);
    assert_eq!(handshake(&mut conn, 0, "PLAIN"), 0);
    conn.write_raw(&frame(b"\0alice\0alice-secret")).unwrap();
    assert!(
        conn.read_frame().unwrap().is_empty(),
        "PLAIN's empty answer"
    );
    assert!(metadata(&mut conn, 12, &[]).brokers.len() == 2);
}

#[test]
fn an_expired_session_must_reauthenticate_before_its_next_request() {
    let cluster = cluster();
    let mut renewed = sasl_conn(&cluster);
    assert_eq!(
        plain_login(&mut renewed, "alice", "alice-secret").error_code,
        0
    );
    let mut lapsed = sasl_conn(&cluster);
    assert_eq!(
        plain_login(&mut lapsed, "alice", "alice-secret").error_code,
        0
    );
    cluster.advance(Duration::from_secs(60));
    // Re-authenticating on the same connection starts a new session.
    let again = plain_login(&mut renewed, "alice", "alice-secret");
    assert_eq!(again.error_code, 0);
    assert_eq!(again.session_lifetime_ms, 60_000);
    assert_eq!(metadata(&mut renewed, 12, &[]).brokers.len(), 2);
    // A client that does not is cut off.
    lapsed.write(12, &MetadataRequest::default());
    lapsed.assert_closed("a request after the session expired");
}

#[test]
fn oauthbearer_accepts_an_unsecured_token_until_it_expires() {
    let cluster = cluster();
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = |exp_s: i64| {
        format!(
            "n,,\u{1}auth=Bearer {}.{}.\u{1}\u{1}",
            url.encode(br#"{"alg":"none"}"#),
            url.encode(format!(r#"{{"sub":"bob","exp":{exp_s}}}"#))
        )
    };
    let mut conn = sasl_conn(&cluster);
    assert_eq!(handshake(&mut conn, 1, "OAUTHBEARER"), 0);
    // The clock is at 1,000 s: a token valid for 30 s more bounds the session.
    let answer = authenticate(&mut conn, token(1_030).as_bytes());
    assert_eq!(answer.error_code, 0);
    assert_eq!(answer.session_lifetime_ms, 30_000);
    let mut expired = sasl_conn(&cluster);
    assert_eq!(handshake(&mut expired, 1, "OAUTHBEARER"), 0);
    let challenge = authenticate(&mut expired, token(999).as_bytes());
    assert_eq!(challenge.error_code, 0);
    assert_eq!(&challenge.auth_bytes[..], br#"{"status":"invalid_token"}"#);
    let refused = authenticate(&mut expired, b"\x01");
    assert_eq!(
        refused.error_code,
        ResponseError::SaslAuthenticationFailed.code()
    );
}

#[test]
fn a_fault_rule_fails_authentication_on_purpose() {
    let cluster = cluster();
    cluster
        .inject(
            Fault::on(ApiKey::SaslAuthenticate)
                .error(ResponseError::SaslAuthenticationFailed)
                .once(),
        )
        .unwrap();
    let mut conn = sasl_conn(&cluster);
    let answer = plain_login(&mut conn, "alice", "alice-secret");
    assert_eq!(
        answer.error_code,
        ResponseError::SaslAuthenticationFailed.code()
    );
    let mut next = sasl_conn(&cluster);
    assert_eq!(
        plain_login(&mut next, "alice", "alice-secret").error_code,
        0
    );
}

#[test]
fn users_added_and_removed_while_running_log_in_or_not() {
    let cluster = cluster();
    cluster.add_sasl_user("carol", "carol-secret");
    assert_eq!(cluster.sasl_users(), ["alice", "carol"]);
    assert_eq!(
        plain_login(&mut sasl_conn(&cluster), "carol", "carol-secret").error_code,
        0
    );
    assert!(cluster.remove_sasl_user("carol"));
    assert_eq!(
        plain_login(&mut sasl_conn(&cluster), "carol", "carol-secret").error_code,
        ResponseError::SaslAuthenticationFailed.code()
    );
}

#[test]
fn a_plaintext_listener_answers_sasl_requests_with_illegal_sasl_state() {
    let cluster = cluster();
    let mut conn = Conn::to_broker(&cluster, 1);
    assert_eq!(
        handshake(&mut conn, 1, "PLAIN"),
        ResponseError::IllegalSaslState.code()
    );
    assert_eq!(metadata(&mut conn, 12, &[]).brokers.len(), 2);
}

#[test]
fn a_fault_rule_can_select_the_principal_a_connection_logged_in_as() {
    let cluster = cluster();
    cluster.add_sasl_user("bob", "bob-secret");
    cluster
        .inject(
            Fault::on(ApiKey::Metadata)
                .principal("User:bob")
                .error(ResponseError::ClusterAuthorizationFailed),
        )
        .unwrap();
    let mut alice = sasl_conn(&cluster);
    assert_eq!(
        plain_login(&mut alice, "alice", "alice-secret").error_code,
        0
    );
    let mut bob = sasl_conn(&cluster);
    assert_eq!(plain_login(&mut bob, "bob", "bob-secret").error_code, 0);
    let request = metadata_request(&["t"]);
    let refused = bob.send(12, &request);
    assert_eq!(
        refused.topics[0].error_code,
        ResponseError::ClusterAuthorizationFailed.code()
    );
    let served = alice.send(12, &request);
    assert_ne!(
        served.topics[0].error_code,
        ResponseError::ClusterAuthorizationFailed.code()
    );
}
