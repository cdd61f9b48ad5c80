//! The `tls` feature's half of TLS listeners: the rustls server configuration, the
//! generated CA and certificates (rcgen), and the principal a client certificate gives
//! (x509-parser). Keys are generated from the system's randomness, not the cluster seed:
//! they never appear in a Kafka answer, and a predictable key would be a bad habit to
//! teach.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{ClientAuth, TlsConfig};

/// What accepts TLS connections on SSL and SASL_SSL listeners.
pub type Acceptor = tokio_rustls::TlsAcceptor;

/// The generated CA, kept to sign client certificates.
struct Authority {
    certificate: rcgen::Certificate,
    key: rcgen::KeyPair,
}

/// What TLS listeners serve with.
pub struct TlsMaterial {
    server_config: Arc<rustls::ServerConfig>,
    authority: Option<Authority>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("generated_ca", &self.authority.is_some())
            .finish()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsMaterial {
    /// Builds what `config` describes; `host` is the address brokers listen on, which a
    /// generated certificate names.
    pub fn new(config: &TlsConfig, host: &str) -> Result<TlsMaterial, String> {
        let (chain, key, authority) = match &config.certificate {
            Some((cert_path, key_path)) => {
                let chain = CertificateDer::pem_file_iter(cert_path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| format!("certificate {}: {e}", cert_path.display()))?;
                let key = PrivateKeyDer::from_pem_file(key_path)
                    .map_err(|e| format!("private key {}: {e}", key_path.display()))?;
                (chain, key, None)
            }
            None => {
                let authority = generate_authority()?;
                let (cert, key) = sign(&authority, host, Usage::Server)?;
                let key = PrivateKeyDer::try_from(key.serialize_der())
                    .map_err(|e| format!("generated key: {e}"))?;
                (vec![cert.der().clone()], key, Some(authority))
            }
        };
        let mut roots = rustls::RootCertStore::empty();
        match (&config.client_ca, &authority) {
            (Some(path), _) => {
                for cert in CertificateDer::pem_file_iter(path)
                    .map_err(|e| format!("client CA {}: {e}", path.display()))?
                {
                    let cert = cert.map_err(|e| format!("client CA {}: {e}", path.display()))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("client CA {}: {e}", path.display()))?;
                }
            }
            (None, Some(authority)) => roots
                .add(authority.certificate.der().clone())
                .map_err(|e| format!("generated CA: {e}"))?,
            (None, None) => {}
        }
        let builder = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = match config.client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            auth => {
                if roots.is_empty() {
                    return Err("ssl.client.auth needs a client CA (client_ca)".into());
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider(),
                );
                let verifier = if auth == ClientAuth::Requested {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                builder.with_client_cert_verifier(verifier.build().map_err(|e| e.to_string())?)
            }
        };
        let server_config = builder
            .with_single_cert(chain, key)
            .map_err(|e| format!("broker certificate: {e}"))?;
        Ok(TlsMaterial {
            server_config: Arc::new(server_config),
            authority,
        })
    }

    /// What the brokers' TLS listeners accept connections with.
    pub fn acceptor(&self) -> Acceptor {
        Acceptor::from(self.server_config.clone())
    }

    /// The generated CA's certificate in PEM, for clients to trust (None when the
    /// certificates came from files).
    pub fn ca_pem(&self) -> Option<String> {
        self.authority.as_ref().map(|a| a.certificate.pem())
    }

    /// A client certificate with common name `name`, signed by the generated CA: (the
    /// certificate, its private key), both PEM. Its principal is "User:CN=name".
    pub fn client_certificate(&self, name: &str) -> Result<(String, String), String> {
        let authority = self
            .authority
            .as_ref()
            .ok_or("the brokers' certificates came from files: there is no CA to sign with")?;
        let (cert, key) = sign(authority, name, Usage::Client)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

fn generate_authority() -> Result<Authority, String> {
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "broker-sim CA");
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let certificate = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(Authority { certificate, key })
}

enum Usage {
    /// For `host`: its names and addresses.
    Server,
    /// For a client whose common name is given.
    Client,
}

fn sign(
    authority: &Authority,
    name: &str,
    usage: Usage,
) -> Result<(rcgen::Certificate, rcgen::KeyPair), String> {
    let (names, purpose, common_name) = match usage {
        Usage::Server => {
            let mut names = vec![name.to_string()];
            for also in ["localhost", "127.0.0.1", "::1"] {
                if !names.iter().any(|n| n == also) {
                    names.push(also.to_string());
                }
            }
            (
                names,
                rcgen::ExtendedKeyUsagePurpose::ServerAuth,
                "broker-sim",
            )
        }
        Usage::Client => (Vec::new(), rcgen::ExtendedKeyUsagePurpose::ClientAuth, name),
    };
    let mut params = rcgen::CertificateParams::new(names).map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params.extended_key_usages = vec![purpose];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let certificate = params
        .signed_by(&key, &authority.certificate, &authority.key)
        .map_err(|e| e.to_string())?;
    Ok((certificate, key))
}

/// The principal of a client certificate (DER), as Kafka's default mapping rule makes
/// it: "User:" and the subject in RFC 2253 form. None if the certificate does not parse.
pub fn principal_of(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut rdns: Vec<String> = Vec::new();
    for rdn in cert.subject().iter_rdn() {
        let parts: Vec<String> = rdn
            .iter()
            .map(|attribute| {
                let oid = attribute.attr_type().to_id_string();
                let name = match oid.as_str() {
                    "2.5.4.3" => "CN".to_string(),
                    "2.5.4.11" => "OU".to_string(),
                    "2.5.4.10" => "O".to_string(),
                    "2.5.4.7" => "L".to_string(),
                    "2.5.4.8" => "ST".to_string(),
                    "2.5.4.6" => "C".to_string(),
                    "2.5.4.9" => "STREET".to_string(),
                    "0.9.2342.19200300.100.1.25" => "DC".to_string(),
                    "0.9.2342.19200300.100.1.1" => "UID".to_string(),
                    other => other.to_string(),
                };
                let value = attribute.as_str().unwrap_or_default();
                format!("{name}={}", escape_rfc2253(value))
            })
            .collect();
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    Some(format!("User:{}", rdns.join(",")))
}

fn escape_rfc2253(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_client_certificate_maps_to_its_distinguished_name() {
        let material = TlsMaterial::new(
            &TlsConfig::default().client_auth(ClientAuth::Required),
            "127.0.0.1",
        )
        .unwrap();
        assert!(
            material
                .ca_pem()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        let (cert, key) = material.client_certificate("alice, the tester").unwrap();
        assert!(key.contains("PRIVATE KEY"));
        let der = CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
        assert_eq!(
            principal_of(&der).as_deref(),
            Some(r"User:CN=alice\, the tester")
        );
    }
}
