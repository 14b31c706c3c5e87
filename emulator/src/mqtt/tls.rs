//! MQTT over TLS with client certificates, as AWS IoT Core serves devices: the broker presents a
//! server certificate and accepts any client certificate signed by the emulator's CA.
//!
//! At first start the directory (`--tls-dir`) receives a CA (`ca.pem`, `ca.key`), a server
//! certificate for `localhost`, `127.0.0.1`, `::1` and the listening host (`server.pem`,
//! `server.key`) and one device certificate (`client.pem`, `client.key`); later starts reuse
//! them, so a device configured once keeps working. More device certificates can be signed with
//! `ca.key` by any tool (openssl, rcgen).

use std::fs;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;

/// The files of a TLS directory.
const FILES: [&str; 6] = ["ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key"];

/// The acceptor for `dir`'s certificates, written first if the directory lacks any of them:
/// a client certificate signed by `ca.pem` required (MQTT over TLS, as AWS IoT Core serves
/// devices on port 8883).
///
/// # Errors
/// A message naming the path and the cause.
pub fn acceptor(dir: &Path, host: IpAddr) -> Result<TlsAcceptor, String> {
    server_acceptor(dir, host, true)
}

/// The same without client certificates (MQTT over WebSocket over TLS, which AWS IoT Core
/// authenticates by a SigV4 signature or a custom authorizer instead).
///
/// # Errors
/// A message naming the path and the cause.
pub fn acceptor_without_client_certificates(dir: &Path, host: IpAddr) -> Result<TlsAcceptor, String> {
    server_acceptor(dir, host, false)
}

fn server_acceptor(dir: &Path, host: IpAddr, client_certificates: bool) -> Result<TlsAcceptor, String> {
    if !FILES.iter().all(|f| dir.join(f).is_file()) {
        generate(dir, host)?;
    }
    let read = |name: &str| {
        let path = dir.join(name);
        fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let pem_error =
        |name: &str, e: rustls::pki_types::pem::Error| format!("{}: {e}", dir.join(name).display());
    let ca = CertificateDer::from_pem_slice(&read("ca.pem")?).map_err(|e| pem_error("ca.pem", e))?;
    let chain =
        vec![CertificateDer::from_pem_slice(&read("server.pem")?).map_err(|e| pem_error("server.pem", e))?];
    let key = PrivateKeyDer::from_pem_slice(&read("server.key")?).map_err(|e| pem_error("server.key", e))?;
    let mut roots = RootCertStore::empty();
    roots.add(ca).map_err(|e| format!("{}: {e}", dir.join("ca.pem").display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = if client_certificates {
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("client verifier: {e}"))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("{}: {e}", dir.join("server.pem").display()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Writes a CA, a server certificate and a device certificate into `dir`.
fn generate(dir: &Path, host: IpAddr) -> Result<(), String> {
    let e = |what: &'static str| move |err: rcgen::Error| format!("cannot make the {what}: {err}");
    fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;

    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e("CA"))?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "iot-jobs-emulator CA");
    ca.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().map_err(e("CA key"))?;
    let ca_cert = ca.self_signed(&ca_key).map_err(e("CA"))?;
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca, ca_key);

    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    if !host.is_unspecified() && !names.contains(&host.to_string()) {
        names.push(host.to_string());
    }
    let mut server = CertificateParams::new(names).map_err(e("server certificate"))?;
    server.distinguished_name.push(DnType::CommonName, "iot-jobs-emulator");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate().map_err(e("server key"))?;
    let server_cert = server.signed_by(&server_key, &issuer).map_err(e("server certificate"))?;

    let mut client = CertificateParams::new(Vec::<String>::new()).map_err(e("device certificate"))?;
    client.distinguished_name.push(DnType::CommonName, "iot-jobs-emulator device");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_key = KeyPair::generate().map_err(e("device key"))?;
    let client_cert = client.signed_by(&client_key, &issuer).map_err(e("device certificate"))?;

    let contents = [
        ca_cert.pem(),
        ca_key_pem,
        server_cert.pem(),
        server_key.serialize_pem(),
        client_cert.pem(),
        client_key.serialize_pem(),
    ];
    for (name, text) in FILES.iter().zip(contents) {
        let path = dir.join(name);
        write(&path, text.as_bytes(), name.ends_with(".key"))
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    }
    Ok(())
}

/// Writes a file; a private key readable by its owner only.
fn write(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(path)?.write_all(bytes)
}
