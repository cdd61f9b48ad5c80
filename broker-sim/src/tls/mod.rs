//! TLS for SSL and SASL_SSL listeners, with rustls: the certificates brokers present,
//! whether they ask clients for one (Kafka's `ssl.client.auth`), and the principal a
//! client certificate gives a connection.
//!
//! By default the cluster makes its own: at start it generates a CA and one broker
//! certificate for the listen host (and `localhost`, `127.0.0.1`), so a test needs no
//! openssl commands. A client trusts [`TlsMaterial::ca_pem`] (also `GET /v1/tls/ca.pem`)
//! and, for mutual TLS, asks for a client certificate signed by the same CA
//! ([`TlsMaterial::client_certificate`]). Certificates may instead come from PEM files.
//!
//! A client certificate's subject becomes the principal as Kafka's default
//! `ssl.principal.mapping.rules` makes it: "User:" and the distinguished name in RFC
//! 2253 form, last attribute first ("User:CN=alice,OU=eng,O=acme").
//!
//! The configuration values here are always built; what serves TLS (`material`) needs
//! the `tls` feature, whose crypto (ring) needs a C compiler. Without it `disabled`
//! stands in: a cluster with an SSL or SASL_SSL listener then fails to start, saying
//! which feature it lacks, and no other code has to know.

use std::path::PathBuf;

#[cfg(not(feature = "tls"))]
mod disabled;
#[cfg(feature = "tls")]
mod material;

#[cfg(not(feature = "tls"))]
pub use disabled::{Acceptor, TlsMaterial};
#[cfg(feature = "tls")]
pub use material::{Acceptor, TlsMaterial, principal_of};

/// Kafka's `ssl.client.auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// Clients are not asked for a certificate (Kafka's default).
    #[default]
    None,
    /// Asked; a client without one connects as ANONYMOUS.
    Requested,
    /// A client without a certificate the CA signed cannot connect.
    Required,
}

impl std::str::FromStr for ClientAuth {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(ClientAuth::None),
            "requested" => Ok(ClientAuth::Requested),
            "required" => Ok(ClientAuth::Required),
            _ => Err(format!(
                "ssl.client.auth {s:?}: expected none, requested or required"
            )),
        }
    }
}

/// Where the brokers' certificate comes from, and how clients are checked.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// PEM files of the brokers' certificate chain and private key; None: generated.
    pub certificate: Option<(PathBuf, PathBuf)>,
    /// PEM file of the CAs client certificates are checked against; by default the
    /// generated CA.
    pub client_ca: Option<PathBuf>,
    pub client_auth: ClientAuth,
}

impl TlsConfig {
    /// Brokers present the certificate chain and key in these PEM files.
    pub fn from_pem_files(certificate: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        TlsConfig {
            certificate: Some((certificate.into(), key.into())),
            ..TlsConfig::default()
        }
    }

    /// Kafka's `ssl.client.auth`.
    pub fn client_auth(mut self, client_auth: ClientAuth) -> Self {
        self.client_auth = client_auth;
        self
    }

    /// Client certificates are checked against the CAs in this PEM file.
    pub fn client_ca(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_ca = Some(path.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_auth_parses_as_kafkas_setting() {
        assert_eq!("REQUIRED".parse(), Ok(ClientAuth::Required));
        assert!("maybe".parse::<ClientAuth>().is_err());
    }
}
