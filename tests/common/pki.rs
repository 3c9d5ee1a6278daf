//! A throwaway certificate authority for TLS end-to-end tests.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// Writes a CA named `ca_name` as `dir/ca.pem`, and for each `(stem, host)` of `leaves` a
/// certificate for `host` (its subject name and only SAN) signed by that CA, as
/// `dir/<stem>.pem` and its key `dir/<stem>.key`.
pub fn write_pki(dir: &Path, ca_name: &str, leaves: &[(&str, &str)]) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct names: a leaf whose issuer name is its own subject looks self-signed.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    std::fs::write(
        dir.join("ca.pem"),
        ca_params.self_signed(&ca_key).unwrap().pem(),
    )
    .unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    for (stem, host) in leaves {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![host.to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, *host);
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &issuer).unwrap();
        std::fs::write(dir.join(format!("{stem}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{stem}.key")), key.serialize_pem()).unwrap();
    }
}
