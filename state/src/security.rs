//! How brokers are reached and who may connect: listeners with their security protocols,
//! the SASL mechanisms they offer, re-authentication (KIP-368) and the limits on
//! connections.
//!
//! These are settings, below the state: the cluster state keeps the users
//! (`state::users`), the SASL exchanges live in `crate::sasl`, and the sockets in
//! `broker_sim::net`. A cluster without listeners configured has Kafka's default, one
//! PLAINTEXT listener, so nothing changes for a test that does not ask for security.

use std::fmt;
use std::str::FromStr;

/// A listener's `security.protocol`, as Kafka's `listener.security.protocol.map` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    pub const ALL: [SecurityProtocol; 4] = [
        SecurityProtocol::Plaintext,
        SecurityProtocol::Ssl,
        SecurityProtocol::SaslPlaintext,
        SecurityProtocol::SaslSsl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether a connection must authenticate with SASL before anything else.
    pub fn sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }

    /// Whether the connection runs over TLS.
    pub fn tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SecurityProtocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        SecurityProtocol::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown security protocol {s:?}: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"
                )
            })
    }
}

/// One of a broker's listeners: Kafka's `listeners=NAME://host:port` with the name's
/// security protocol. Every broker has every listener; broker `i` (from 0) listens on
/// `port + i`, or on an ephemeral port when `port` is 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub name: String,
    pub protocol: SecurityProtocol,
    pub port: u16,
}

impl Listener {
    /// A listener named after its protocol ("SASL_PLAINTEXT"), on ephemeral ports.
    pub fn new(protocol: SecurityProtocol) -> Self {
        Listener {
            name: protocol.name().to_string(),
            protocol,
            port: 0,
        }
    }

    /// The same listener under another name (Kafka's custom listener names, "CLIENT").
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The first broker's port on this listener; the others take the following ports.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

impl FromStr for Listener {
    type Err = String;

    /// `PROTOCOL`, `NAME:PROTOCOL` or `NAME:PROTOCOL:PORT`, as the binary's `--listener`
    /// flag takes it.
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let (name, protocol, port) = match parts.as_slice() {
            [protocol] => (None, protocol, None),
            [name, protocol] => (Some(name), protocol, None),
            [name, protocol, port] => (Some(name), protocol, Some(port)),
            _ => return Err(format!("listener {s:?}: expected NAME:PROTOCOL[:PORT]")),
        };
        let mut listener = Listener::new(protocol.parse()?);
        if let Some(name) = name {
            if name.is_empty() {
                return Err(format!("listener {s:?}: empty name"));
            }
            listener = listener.named(*name);
        }
        if let Some(port) = port {
            listener.port = port
                .parse()
                .map_err(|_| format!("listener {s:?}: port {port:?} is not a port number"))?;
        }
        Ok(listener)
    }
}

/// A SASL mechanism broker-sim can authenticate with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SaslMechanism {
    Plain,
    ScramSha256,
    ScramSha512,
    /// With unsecured JWS tokens, as Kafka's development handler
    /// (`OAuthBearerUnsecuredValidatorCallbackHandler`) validates them.
    OAuthBearer,
}

impl SaslMechanism {
    pub const ALL: [SaslMechanism; 4] = [
        SaslMechanism::Plain,
        SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha512,
        SaslMechanism::OAuthBearer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            SaslMechanism::OAuthBearer => "OAUTHBEARER",
        }
    }
}

impl fmt::Display for SaslMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SaslMechanism {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        SaslMechanism::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown SASL mechanism {s:?}: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"
                )
            })
    }
}

/// The security settings of every broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityConfig {
    /// In order; the first is the one `Cluster::bootstrap_servers` names.
    pub listeners: Vec<Listener>,
    /// Kafka's `sasl.enabled.mechanisms`. broker-sim enables all it knows by default
    /// (Kafka enables GSSAPI only), so a test picks its mechanism on the client side.
    pub sasl_mechanisms: Vec<SaslMechanism>,
    /// Kafka's `connections.max.reauth.ms` (KIP-368): how long a SASL session lasts
    /// before the client must re-authenticate on the same connection. 0, Kafka's default,
    /// never expires a session. Measured on the cluster clock.
    pub max_reauth_ms: i64,
    pub limits: ConnectionLimits,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            listeners: vec![Listener::new(SecurityProtocol::Plaintext)],
            sasl_mechanisms: SaslMechanism::ALL.to_vec(),
            max_reauth_ms: 0,
            limits: ConnectionLimits::default(),
        }
    }
}

/// What a broker allows each connection and each client address: Kafka's
/// `max.connections.per.ip` and `connections.max.idle.ms`, and a deadline for a request's
/// bytes once its first byte has arrived, so a client that trickles a frame (or announces
/// a large one and stops) cannot hold a connection and its buffer forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Kafka's `max.connections.per.ip`: further connections from the address are closed
    /// at once. None: unbounded, as Kafka's default.
    pub max_per_ip: Option<usize>,
    /// Kafka's `connections.max.idle.ms`: a connection with no request for this long is
    /// closed; also how long an answer may take to be read by a client that stopped
    /// reading. Real time: it protects the process, whatever the cluster clock says.
    pub max_idle_ms: u64,
    /// How long a request frame may take to arrive once it has started.
    pub request_read_deadline_ms: u64,
    /// Memory the brokers together may spend decoding large requests at once (`net::limits`).
    pub request_memory_budget: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_per_ip: None,
            max_idle_ms: 600_000,
            request_read_deadline_ms: 60_000,
            request_memory_budget: 1 << 30,
        }
    }
}

/// The principal of a connection that has not authenticated: PLAINTEXT and SSL without
/// a client certificate, as Kafka's `KafkaPrincipal.ANONYMOUS`.
pub const ANONYMOUS: &str = "User:ANONYMOUS";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_flags_parse_as_the_binary_takes_them() {
        assert_eq!(
            "SASL_SSL".parse::<Listener>().unwrap(),
            Listener::new(SecurityProtocol::SaslSsl)
        );
        let client: Listener = "CLIENT:sasl_plaintext:9192".parse().unwrap();
        assert_eq!(client.name, "CLIENT");
        assert_eq!(client.protocol, SecurityProtocol::SaslPlaintext);
        assert_eq!(client.port, 9192);
        assert!("CLIENT:KERBEROS".parse::<Listener>().is_err());
        assert!("A:PLAINTEXT:99999".parse::<Listener>().is_err());
        assert!("a:b:c:d".parse::<Listener>().is_err());
        assert_eq!(
            "scram-sha-512".parse::<SaslMechanism>(),
            Ok(SaslMechanism::ScramSha512)
        );
        assert!("GSSAPI".parse::<SaslMechanism>().is_err());
    }
}
