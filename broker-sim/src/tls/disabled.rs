//! TLS listeners without the `tls` feature: nothing can serve them, so building their
//! material fails with the reason, and the types that would carry it have no values.

use super::TlsConfig;

/// Stands for what would accept TLS connections; no value of it exists.
#[derive(Debug, Clone)]
pub enum Acceptor {}

/// Stands for what TLS listeners would serve with; no value of it exists.
#[derive(Debug)]
pub enum TlsMaterial {}

impl TlsMaterial {
    /// Always fails: the crate was built without TLS.
    pub fn new(_config: &TlsConfig, _host: &str) -> Result<TlsMaterial, String> {
        Err(
            "SSL and SASL_SSL listeners need broker-sim's `tls` cargo feature, which this \
             build leaves out (default-features = false): add features = [\"tls\"] to the \
             broker-sim dependency, or use PLAINTEXT or SASL_PLAINTEXT listeners"
                .into(),
        )
    }

    pub fn acceptor(&self) -> Acceptor {
        match *self {}
    }

    pub fn ca_pem(&self) -> Option<String> {
        match *self {}
    }

    pub fn client_certificate(&self, _name: &str) -> Result<(String, String), String> {
        match *self {}
    }
}
