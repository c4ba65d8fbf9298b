//! The flags of automatic HTTPS: certificates from an ACME CA (RFC 8555), and their parsers.

use super::{HTTPS, RESTART};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Let's Encrypt's production directory, the default CA.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory, `--acme-ca staging`.
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

/// The challenges nomserve answers (RFC 8555 §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Challenge {
    /// On the HTTPS port, by the TLS handshake (RFC 8737).
    #[value(name = "tls-alpn-01")]
    TlsAlpn01,
    /// On the --redirect-http port, at /.well-known/acme-challenge/ (RFC 8555 §8.3).
    #[value(name = "http-01")]
    Http01,
}

/// The key types of the certificates ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    /// ECDSA on the P-256 curve: small and fast, taken by every current client.
    #[value(name = "ecdsa-p256")]
    EcdsaP256,
    /// RSA with 2048-bit keys, for old clients without ECDSA.
    #[value(name = "rsa2048")]
    Rsa2048,
}

/// The ACME flags, flattened into the command line.
#[derive(Debug, Clone, Args)]
pub struct AcmeArgs {
    /// HTTPS with a certificate from Let's Encrypt (ACME).
    ///
    /// A domain name; repeatable, or comma-separated: one certificate for all the names,
    /// from Let's Encrypt or the CA of --acme-ca. Replaces --tls-cert; HTTPS listens on --port (443 unless given). Obtained at start and
    /// renewed with no restart; see --acme-email, --acme-agree-tos and --acme-state.
    #[arg(
        id = "acme",
        long = "acme",
        value_name = "DOMAIN",
        value_delimiter = ',',
        value_parser = parse_dns_name,
        group = RESTART,
        help_heading = HTTPS
    )]
    pub domains: Vec<String>,

    /// The ACME account's contact address (for expiry notices).
    #[arg(
        long,
        value_name = "ADDR",
        group = RESTART,
        help_heading = HTTPS,
        hide_short_help = true
    )]
    pub acme_email: Option<String>,

    /// The ACME CA's directory URL, or `staging` for Let's Encrypt's staging CA.
    ///
    /// An https URL. [default: Let's Encrypt's production directory,
    /// https://acme-v02.api.letsencrypt.org/directory]
    #[arg(
        long,
        value_name = "URL",
        value_parser = parse_ca,
        group = RESTART,
        help_heading = HTTPS,
        hide_short_help = true
    )]
    pub acme_ca: Option<String>,

    /// A PEM bundle of the roots that the ACME CA's own HTTPS is checked against.
    ///
    /// For a private or test CA; without it, the system's trusted roots.
    #[arg(
        long,
        value_name = "FILE",
        group = RESTART,
        help_heading = HTTPS,
        hide_short_help = true
    )]
    pub acme_ca_root: Option<PathBuf>,

    /// Where the ACME account, certificate, key and challenges are kept.
    ///
    /// A folder of mode 0700 (created so), its files 0600; several instances may share
    /// it. [default: $STATE_DIRECTORY/acme under systemd's StateDirectory=, else
    /// nomserve-acme under $XDG_DATA_HOME or ~/.local/share]
    #[arg(
        long,
        value_name = "DIR",
        group = RESTART,
        help_heading = HTTPS,
        hide_short_help = true
    )]
    pub acme_state: Option<PathBuf>,

    /// Agree to the ACME CA's terms of service (to create the account).
    #[arg(long, group = RESTART, help_heading = HTTPS, hide_short_help = true)]
    pub acme_agree_tos: bool,

    /// Answer only this challenge: tls-alpn-01 or http-01.
    ///
    /// By default, the first the CA offers that nomserve can answer: tls-alpn-01 on the
    /// HTTPS port, http-01 on the --redirect-http port when it is set.
    #[arg(
        long,
        value_name = "TYPE",
        value_enum,
        group = RESTART,
        help_heading = HTTPS,
        hide_short_help = true
    )]
    pub acme_challenge: Option<Challenge>,

    /// The key type of the certificates: ecdsa-p256 or rsa2048.
    #[arg(
        long,
        value_name = "TYPE",
        value_enum,
        default_value = "ecdsa-p256",
        group = RESTART,
        help_heading = HTTPS,
        hide_short_help = true
    )]
    pub acme_key_type: KeyType,
}

impl AcmeArgs {
    /// The CA's directory URL: `--acme-ca`, else Let's Encrypt's production one.
    pub fn ca(&self) -> &str {
        self.acme_ca.as_deref().unwrap_or(LETS_ENCRYPT)
    }
}

/// Parses a domain name to order a certificate for: a DNS name (RFC 1035 §2.3.1 as RFC
/// 5280 §4.2.1.6 takes it: letters, digits and hyphens, labels of 1 to 63 bytes, 253 bytes
/// in all), lowercased, without a trailing dot. Not an IP address, and not a wildcard:
/// a CA validates a wildcard by dns-01 only (RFC 8555 §7.1.3), which nomserve does not
/// answer.
pub(super) fn parse_dns_name(text: &str) -> Result<String, String> {
    let name = text.trim_end_matches('.').to_ascii_lowercase();
    if name.starts_with("*.") {
        return Err(format!(
            "{text:?} is a wildcard: a CA validates those by DNS (dns-01) only, which \
             nomserve does not answer; name each host"
        ));
    }
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!("{text:?} is an IP address, not a domain name"));
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(format!(
            "{text:?} is not a valid DNS name (letters, digits and hyphens, dot-separated \
             labels of at most 63; an internationalized name in its xn-- form)"
        ));
    }
    Ok(name)
}

/// Parses `--acme-ca`: `staging`, or an https URL. Whether it answers as an ACME directory
/// is found out at run time (a CA that cannot be reached is retried).
pub(super) fn parse_ca(text: &str) -> Result<String, String> {
    if text == "staging" {
        return Ok(LETS_ENCRYPT_STAGING.to_string());
    }
    let uri: http::Uri = text
        .parse()
        .map_err(|_| format!("{text:?} is not a URL; expected an https URL or `staging`"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(host)) if !host.is_empty() => Ok(text.to_string()),
        _ => Err(format!(
            "{text:?} is not an https URL; an ACME directory is served over HTTPS (RFC 8555 \
             §6.1): expected such as https://acme-v02.api.letsencrypt.org/directory or \
             `staging`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_is_a_dns_name_lowercased() {
        assert_eq!(parse_dns_name("Example.COM.").unwrap(), "example.com");
        assert_eq!(
            parse_dns_name("xn--bcher-kva.test").unwrap(),
            "xn--bcher-kva.test"
        );
        for bad in [
            "",
            "a..b",
            "-a.test",
            "a-.test",
            "a_b.test",
            "exa mple.com",
            "é.test",
        ] {
            assert!(parse_dns_name(bad).is_err(), "{bad:?}");
        }
        assert!(parse_dns_name(&"a".repeat(64)).is_err());
        assert!(
            parse_dns_name("*.example.com")
                .unwrap_err()
                .contains("wildcard")
        );
        assert!(
            parse_dns_name("10.0.0.1")
                .unwrap_err()
                .contains("IP address")
        );
    }

    fn load(args: &[&str]) -> Result<super::super::Args, String> {
        let argv: Vec<std::ffi::OsString> =
            ["nomserve"].iter().chain(args).map(Into::into).collect();
        crate::settings::config::load(&argv)
            .map(|settings| settings.args)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn acme_listens_on_443_unless_a_port_is_given_and_takes_the_https_flags() {
        let args = load(&["--acme", "a.test,B.test", "--acme", "c.test"]).unwrap();
        assert_eq!(args.acme.domains, ["a.test", "b.test", "c.test"]);
        assert_eq!(args.port, 443);
        assert_eq!(args.acme.ca(), LETS_ENCRYPT);
        assert_eq!(args.acme.acme_key_type, KeyType::EcdsaP256);
        let args = load(&["--acme", "a.test", "-p", "8443", "--redirect-http", "80"]).unwrap();
        assert_eq!((args.port, args.redirect_http), (8443, Some(80)));
        assert_eq!(load(&[]).unwrap().port, 8080);
        let args = load(&["--acme", "a.test", "--acme-challenge", "http-01"]).unwrap();
        assert_eq!(args.acme.acme_challenge, Some(Challenge::Http01));
        let args = load(&["--acme", "a.test", "--acme-key-type", "rsa2048"]).unwrap();
        assert_eq!(args.acme.acme_key_type, KeyType::Rsa2048);
    }

    #[test]
    fn acme_and_tls_cert_exclude_each_other_and_redirects_need_one() {
        let both = load(&["--acme", "a.test", "--tls-cert", "c", "--tls-key", "k"]);
        assert!(both.unwrap_err().contains("cannot be used with"));
        assert!(load(&["--redirect-http", "80"]).is_err());
        assert!(load(&["--acme", "a.test", "--acme-challenge", "dns-01"]).is_err());
        assert!(load(&["--acme", "a.test", "--acme-key-type", "rsa1024"]).is_err());
    }

    #[test]
    fn the_ca_is_an_https_url_or_staging() {
        assert_eq!(parse_ca("staging").unwrap(), LETS_ENCRYPT_STAGING);
        let url = "https://127.0.0.1:14000/dir";
        assert_eq!(parse_ca(url).unwrap(), url);
        for bad in ["http://ca.test/dir", "ca.test", "", "prod"] {
            assert!(parse_ca(bad).is_err(), "{bad:?}");
        }
    }
}
