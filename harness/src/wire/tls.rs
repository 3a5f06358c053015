//! The client side of TLS (rustls with the ring provider): what a profile
//! section says about it (`tls`, `ca_file`, `tls_insecure`, `tls_name`),
//! and the configuration [`super::Conn::start_tls`] upgrades with.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::target::Profile;

/// How a section's server speaks TLS (`[smtp] tls = …`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// No TLS: the TLS scenarios skip.
    None,
    /// Plaintext first, upgraded by STARTTLS / STLS / AUTH TLS.
    StartTls,
    /// TLS from the first byte (RFC 8314 §3: ports 465, 993, 995): every
    /// connection of the section is TLS, the greeting inside it.
    Implicit,
}

impl Mode {
    pub fn parse(value: &str) -> Result<Mode, String> {
        match value {
            "none" => Ok(Mode::None),
            "starttls" => Ok(Mode::StartTls),
            "implicit" => Ok(Mode::Implicit),
            other => Err(format!(
                "must be \"none\", \"starttls\" or \"implicit\", not \"{other}\""
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::StartTls => "starttls",
            Mode::Implicit => "implicit",
        }
    }
}

/// Checks one TLS key's value (for `Profile::validate`); `None` for keys
/// that are not TLS keys.
pub fn check_value(key: &str, value: &str) -> Option<Result<(), String>> {
    Some(match key {
        "tls" => Mode::parse(value).map(|_| ()),
        "tls_insecure" => match value {
            "true" | "false" => Ok(()),
            other => Err(format!(
                "must be true (accept any certificate) or false, not \"{other}\""
            )),
        },
        "ca_file" => roots(value).map(|_| ()),
        "tls_name" => ServerName::try_from(value.to_string())
            .map(|_| ())
            .map_err(|e| format!("not a server name: {e}")),
        _ => return None,
    })
}

/// The section's TLS mode (`none` without the key).
pub fn mode(profile: &Profile, section: &str) -> Mode {
    profile
        .get(&format!("{section}.tls"))
        .and_then(|v| Mode::parse(v).ok())
        .unwrap_or(Mode::None)
}

/// Checks that a section with TLS says whom to trust.
pub fn check_section(profile: &Profile, section: &str) -> Result<(), String> {
    if mode(profile, section) == Mode::None {
        return Ok(());
    }
    let insecure = profile.get(&format!("{section}.tls_insecure")) == Some("true");
    if profile.get(&format!("{section}.ca_file")).is_none() && !insecure {
        return Err(format!(
            "tls = \"{}\" needs ca_file (the CA that signed the server's certificate, e.g. the tls/ca.pem `conform fixtures` writes) or tls_insecure = true",
            mode(profile, section).name()
        ));
    }
    Ok(())
}

fn roots(path: &str) -> Result<rustls::RootCertStore, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {path}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{path} is not PEM certificates: {e}"))?;
    let mut store = rustls::RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!("{path} holds no usable certificate"));
    }
    Ok(store)
}

/// What a connection needs to start TLS with a section's server.
#[derive(Clone)]
pub struct Client {
    pub config: Arc<ClientConfig>,
    pub name: ServerName<'static>,
    /// The profile keys it came from, for messages (`[smtp] ca_file`).
    pub trust: String,
}

/// The TLS client of `section` for a server at `host` (the host part of
/// its address, unless `tls_name` says), offering `alpn`.
pub fn client(
    profile: &Profile,
    section: &str,
    host: &str,
    alpn: &[&str],
) -> Result<Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let insecure = profile.get(&format!("{section}.tls_insecure")) == Some("true");
    let (mut config, trust) = match profile.get(&format!("{section}.ca_file")) {
        Some(path) if !insecure => (
            builder
                .with_root_certificates(
                    roots(path).map_err(|e| format!("[{section}] ca_file: {e}"))?,
                )
                .with_no_client_auth(),
            format!("[{section}] ca_file = \"{path}\""),
        ),
        _ if insecure => (
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth(),
            format!("[{section}] tls_insecure = true"),
        ),
        _ => return Err(check_section(profile, section).err().unwrap_or_default()),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    let name = profile
        .get(&format!("{section}.tls_name"))
        .unwrap_or(host)
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let name = ServerName::try_from(name.clone())
        .map_err(|e| format!("[{section}] the TLS server name \"{name}\": {e}"))?;
    Ok(Client {
        config: Arc::new(config),
        name,
        trust,
    })
}

/// The TLS client of `section`'s server at its `address` (the name to
/// verify is the address's host unless `tls_name` says), offering the ALPN
/// protocol of the section: `http/1.1` for HTTPS (RFC 9112 §2 and RFC 7301;
/// the mail and FTP sections negotiate none).
pub fn section_client(profile: &Profile, section: &str) -> Result<Client, String> {
    let address = profile
        .get(&format!("{section}.address"))
        .unwrap_or_default();
    let alpn: &[&str] = if section == "http" {
        &["http/1.1"]
    } else {
        &[]
    };
    client(profile, section, host_of(address), alpn)
}

/// The host part of `host:port` (`[::1]:25` gives `::1`).
pub fn host_of(address: &str) -> &str {
    match address.rsplit_once(':') {
        Some((h, _)) => h,
        None => address,
    }
}

/// `tls_insecure = true`: any certificate, but the handshake's signatures
/// are still checked (the connection is encrypted, its peer unverified).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Why a handshake failed, in words a user can act on; `trust` when it is
/// the certificate (a configuration matter: which CA the profile trusts).
pub fn handshake_error(e: &std::io::Error, client: &Client) -> (String, bool) {
    if let Some(r) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return match r {
            rustls::Error::InvalidCertificate(c) => (
                format!(
                    "the server's TLS certificate is not accepted ({c:?}) with {}: give the CA that signed it, or a valid certificate",
                    client.trust
                ),
                true,
            ),
            rustls::Error::InvalidMessage(_)
            | rustls::Error::InappropriateMessage { .. }
            | rustls::Error::InappropriateHandshakeMessage { .. } => (
                format!("the server did not answer with a TLS handshake ({r})"),
                false,
            ),
            other => (format!("the TLS handshake failed: {other}"), false),
        };
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => (
            "the server closed the connection during the TLS handshake".into(),
            false,
        ),
        _ => (format!("the TLS handshake failed: {e}"), false),
    }
}
