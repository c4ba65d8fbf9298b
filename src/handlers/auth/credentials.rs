//! The `Authorization` field of the Basic scheme (RFC 7617 §2), read strictly.
//!
//! ```abnf
//! credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]   ; RFC 9110 §11.4
//! token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```
//!
//! For Basic, the token68 is the Base64 encoding (RFC 4648 §4, with its padding) of
//! `user-id ":" password`, where the user-id holds no `:` and neither holds a control
//! character (RFC 7617 §2). The scheme name is case-insensitive (RFC 9110 §11.1). Anything
//! else — another scheme, a missing or malformed token, more than one `Authorization` field
//! line — is no credentials at all, and is answered with the challenge.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use nomserve_grammar::Headers;

/// A user-id and password as the client sent them (bytes: UTF-8 by the `charset` the
/// challenge announces, RFC 7617 §2.1, but compared as bytes).
#[derive(PartialEq, Eq)]
pub struct Credentials {
    pub user: Vec<u8>,
    pub password: Vec<u8>,
}

/// Never shows the password.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &String::from_utf8_lossy(&self.user))
            .finish_non_exhaustive()
    }
}

/// The Basic credentials of `headers`, if it has exactly one `Authorization` field line and
/// that line holds well-formed Basic credentials.
pub fn from_headers(headers: &Headers<'_, '_>) -> Option<Credentials> {
    let mut values = headers.get_all("authorization");
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse(value)
}

/// The Basic credentials in one `Authorization` field value.
fn parse(value: &[u8]) -> Option<Credentials> {
    let split = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = value.split_at(split);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return None;
    }
    let token = rest.trim_ascii_start();
    if token.is_empty() || !token.iter().all(|&b| is_token68(b)) {
        return None;
    }
    let decoded = STANDARD.decode(token).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
    if user.iter().chain(password).any(|&b| b < 0x20 || b == 0x7f) {
        return None;
    }
    Some(Credentials {
        user: user.to_vec(),
        password: password.to_vec(),
    })
}

/// A byte of `token68` (RFC 9110 §11.2).
fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomserve_grammar::Header;

    fn credentials(user: &str, password: &str) -> Option<Credentials> {
        Some(Credentials {
            user: user.into(),
            password: password.into(),
        })
    }

    #[test]
    fn well_formed_basic_credentials() {
        // RFC 7617 §2's example: Aladdin, open sesame.
        assert_eq!(
            parse(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            credentials("Aladdin", "open sesame")
        );
        assert_eq!(
            parse(b"bAsIc   QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            credentials("Aladdin", "open sesame")
        );
        // The password may hold colons and be empty; the user-id may be empty.
        let encode = |text: &str| format!("Basic {}", STANDARD.encode(text));
        assert_eq!(parse(encode("u:a:b").as_bytes()), credentials("u", "a:b"));
        assert_eq!(parse(encode("u:").as_bytes()), credentials("u", ""));
        assert_eq!(parse(encode(":p").as_bytes()), credentials("", "p"));
        // RFC 7617 §2.1's example with UTF-8: test, 123£.
        assert_eq!(
            parse(b"Basic dGVzdDoxMjPCow=="),
            credentials("test", "123\u{a3}")
        );
    }

    #[test]
    fn anything_else_is_no_credentials() {
        for value in [
            &b""[..],
            b"Basic",
            b"Basic ",
            b"BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            b"Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            b"Digest username=\"a\"",
            b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",
            b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== x",
            b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\t",
            b"Basic QWxh ZGRpbjpvcGVuIHNlc2FtZQ==",
            b"Basic dXNlcg==",
            b"Basic dTpwCg==",
            b"Basic dQk6cA==",
            b"Basic ????",
            b"Basic Zm9v-mFy",
        ] {
            assert_eq!(parse(value), None, "{}", String::from_utf8_lossy(value));
        }
    }

    #[test]
    fn one_field_line_only() {
        let line = |value: &'static [u8]| Header {
            name: "Authorization",
            value,
        };
        let one = [line(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")];
        assert!(from_headers(&Headers::new(&one)).is_some());
        let two = [
            line(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            line(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ];
        assert!(from_headers(&Headers::new(&two)).is_none());
        assert!(from_headers(&Headers::new(&[])).is_none());
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", credentials("u", "hunter2").unwrap());
        assert!(
            shown.contains("\"u\"") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
