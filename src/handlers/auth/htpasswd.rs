//! htpasswd files, bcrypt entries only.
//!
//! The format Apache's `htpasswd` writes and nginx reads: one `user:hash` per line, optionally
//! followed by `:comment` (nginx's documented form), blank lines and lines starting with `#`
//! skipped. Only bcrypt hashes are accepted, as `htpasswd -B` makes them: `$2y$` (Apache,
//! PHP), `$2b$` (OpenBSD and most libraries since 2014), and `$2a$` too — the same algorithm,
//! still written by older libraries (bcryptjs, passlib, Spring), and verified exactly like
//! `$2b$` by a correct implementation. `$2x$`, which marks hashes from the flawed
//! crypt_blowfish before 1.1, and every weaker scheme (MD5 `$apr1$`, `{SHA}`, crypt, plain
//! text) are refused with the file, the line and the reason, so that a file meant to protect
//! something never silently accepts a guessable hash. A user named twice is refused too:
//! which line wins would be a guess. As everywhere bcrypt is used (Apache included), only a
//! password's first 72 bytes count.

use bcrypt::HashParts;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

/// The users of one htpasswd file, and the hash that stands in for an unknown user.
#[derive(Debug)]
pub struct Users {
    by_name: HashMap<Vec<u8>, String>,
    /// A well-formed bcrypt hash at the highest cost of the file's entries: verifying against
    /// it costs at least what verifying any known user costs, so that no wrong password of a
    /// known user takes longer to refuse than an unknown user, and timing cannot tell users
    /// that exist from users that do not (even where the file mixes costs).
    dummy: String,
    /// The lines whose cost is above [`SLOW_COST`], with that cost.
    slow: Vec<(usize, u32)>,
}

/// The costs bcrypt defines (log2 of its rounds).
const COSTS: std::ops::RangeInclusive<u32> = 4..=31;

/// The highest cost `--check-config` lets pass without a warning: each step doubles a
/// check's time, and at 12 one takes some 0.4 s on a small machine.
pub const SLOW_COST: u32 = 12;

/// The salt and digest of [`Users::dummy`], after `$2b$NN$`: any valid pair would do, as the
/// outcome of verifying against it is never used.
const DUMMY_SALT_AND_HASH: &str = "......................21jzCB1r6pN6rp5O2Ev0ejjTAboskKm";

impl Users {
    /// Reads the htpasswd file at `path`; the error says `FILE:LINE: reason`.
    pub fn load(path: &Path) -> Result<Users, String> {
        let text =
            std::fs::read(path).map_err(|e| format!("htpasswd file {}: {e}", path.display()))?;
        Users::parse(&text)
            .map_err(|(line, reason)| format!("htpasswd file {}:{line}: {reason}", path.display()))
    }

    /// The users of the htpasswd text `text`, or the first bad line's number and why.
    fn parse(text: &[u8]) -> Result<Users, (usize, String)> {
        let mut by_name: HashMap<Vec<u8>, String> = HashMap::new();
        let mut lines_of: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut highest = None;
        let mut slow = Vec::new();
        let mut last = 0;
        for (index, line) in text.split(|&b| b == b'\n').enumerate() {
            let number = index + 1;
            last = number;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(|&b| b == b' ' || b == b'\t') || line.first() == Some(&b'#') {
                continue;
            }
            let (user, hash) = entry(line).map_err(|reason| (number, reason))?;
            if let Some(first) = lines_of.get(user) {
                return Err((
                    number,
                    format!("user {:?} is already on line {first}", show(user)),
                ));
            }
            let cost = bcrypt_cost(hash)
                .map_err(|reason| (number, format!("user {:?}: {reason}", show(user))))?;
            highest = highest.max(Some(cost));
            if cost > SLOW_COST {
                slow.push((number, cost));
            }
            lines_of.insert(user.to_vec(), number);
            by_name.insert(user.to_vec(), hash.to_string());
        }
        let Some(cost) = highest else {
            return Err((
                last,
                "no user: the file has no `user:hash` line".to_string(),
            ));
        };
        Ok(Users {
            by_name,
            dummy: format!("$2b${cost:02}${DUMMY_SALT_AND_HASH}"),
            slow,
        })
    }

    /// The lines whose bcrypt cost is above [`SLOW_COST`], and their costs.
    pub fn slow(&self) -> &[(usize, u32)] {
        &self.slow
    }

    /// The hash to verify `user`'s password against, and whether `user` is known: an unknown
    /// user gets [`Users::dummy`], to be verified all the same and refused.
    pub fn hash_for(&self, user: &[u8]) -> (&str, bool) {
        match self.by_name.get(user) {
            Some(hash) => (hash, true),
            None => (&self.dummy, false),
        }
    }
}

/// A line's user and hash: `user:hash`, or `user:hash:comment`.
fn entry(line: &[u8]) -> Result<(&[u8], &str), String> {
    let mut fields = line.splitn(3, |&b| b == b':');
    let user = fields.next().unwrap_or_default();
    let Some(hash) = fields.next() else {
        return Err("not `user:hash`".to_string());
    };
    if user.is_empty() {
        return Err("the user name is empty".to_string());
    }
    // RFC 7617 §2: a user-id holds no control character, so a client could never send it.
    if user.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(format!(
            "user {:?}: a control character in the name",
            show(user)
        ));
    }
    let hash = std::str::from_utf8(hash)
        .map_err(|_| format!("user {:?}: not a bcrypt hash", show(user)))?;
    Ok((user, hash))
}

/// The cost of the bcrypt hash `hash`, or why it is not one this server accepts.
fn bcrypt_cost(hash: &str) -> Result<u32, String> {
    const ONLY: &str = "only bcrypt is accepted (make one with `htpasswd -B`)";
    let scheme = if hash.starts_with("$apr1$") {
        Some("an MD5 ($apr1$) hash")
    } else if hash.starts_with("{SHA}") {
        Some("a SHA-1 ({SHA}) hash")
    } else if hash.starts_with("$2x$") {
        Some("a $2x$ hash (crypt_blowfish's flawed variant)")
    } else if hash.starts_with("$1$") || hash.starts_with("$5$") || hash.starts_with("$6$") {
        Some("a crypt(3) MD5 or SHA-2 hash")
    } else if ["$2y$", "$2b$", "$2a$"].iter().any(|p| hash.starts_with(p)) {
        None
    } else {
        Some("not a bcrypt hash (plain text or crypt?)")
    };
    if let Some(scheme) = scheme {
        return Err(format!("{scheme}; {ONLY}"));
    }
    let parts = HashParts::from_str(hash).map_err(|e| format!("a malformed bcrypt hash: {e}"))?;
    let cost = parts.get_cost();
    if !COSTS.contains(&cost) {
        return Err(format!("a bcrypt cost of {cost}, outside 4..=31"));
    }
    Ok(cost)
}

/// A user name for a message.
fn show(user: &[u8]) -> String {
    String::from_utf8_lossy(user).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Users, (usize, String)> {
        Users::parse(text.as_bytes())
    }

    #[test]
    fn bcrypt_entries_comments_and_blank_lines() {
        let alice = bcrypt::hash("alice's password", 4).unwrap();
        let bob = bcrypt::hash("bob's", 5)
            .unwrap()
            .replacen("$2b$", "$2y$", 1);
        let carol = bcrypt::hash("c", 4).unwrap().replacen("$2b$", "$2a$", 1);
        let text = format!("# users\n\nalice:{alice}\r\nbob:{bob}:Bob B.\n  \ncarol:{carol}\n");
        let users = parse(&text).unwrap();
        let (hash, known) = users.hash_for(b"alice");
        assert!(known);
        assert!(bcrypt::verify("alice's password", hash).unwrap());
        let (hash, known) = users.hash_for(b"bob");
        assert!(known && bcrypt::verify("bob's", hash).unwrap());
        assert!(users.hash_for(b"carol").1);
        // The unknown user's stand-in is a real hash at the file's highest cost (5: bob's),
        // though most entries have cost 4.
        let (dummy, known) = users.hash_for(b"mallory");
        assert!(!known);
        assert!(dummy.starts_with("$2b$05$"), "{dummy}");
        assert!(!bcrypt::verify("alice's password", dummy).unwrap());
        assert!(users.slow().is_empty());
    }

    #[test]
    fn costs_above_twelve_are_listed_with_their_lines() {
        // Made at cost 4, then marked 13 and 31: parsing reads the cost, never verifies.
        let fast = bcrypt::hash("x", 4).unwrap();
        let at = |cost: &str| fast.replacen("$04$", &format!("${cost}$"), 1);
        let text = format!(
            "a:{fast}\n# c\nb:{}\nc:{}\nd:{}\n",
            at("12"),
            at("13"),
            at("31")
        );
        let users = parse(&text).unwrap();
        assert_eq!(users.slow(), [(4, 13), (5, 31)]);
        assert!(users.hash_for(b"nobody").0.starts_with("$2b$31$"));
    }

    #[test]
    fn anything_but_bcrypt_is_refused_with_its_line() {
        let good = bcrypt::hash("x", 4).unwrap();
        for (line, reason) in [
            (
                "bob:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/",
                "an MD5 ($apr1$) hash",
            ),
            (
                "bob:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=",
                "a SHA-1 ({SHA}) hash",
            ),
            ("bob:rqXexS6ZhobKA", "not a bcrypt hash"),
            ("bob:secret", "not a bcrypt hash"),
            ("bob:$6$salt$abc", "a crypt(3)"),
            (
                &format!("bob:{}", good.replacen("$2b$", "$2x$", 1)),
                "a $2x$ hash",
            ),
            ("bob:$2y$04$tooshort", "a malformed bcrypt hash"),
            ("bob", "not `user:hash`"),
            (&format!(":{good}"), "the user name is empty"),
        ] {
            let text = format!("alice:{good}\n# comment\n{line}\n");
            let (at, why) = parse(&text).unwrap_err();
            assert_eq!(at, 3, "{line}");
            assert!(why.contains(reason), "{line}: {why}");
        }
        let (at, why) = parse(&format!("a:{good}\nb:{good}\na:{good}\n")).unwrap_err();
        assert_eq!((at, why.as_str()), (3, "user \"a\" is already on line 1"));
        let (_, why) = parse("# nobody\n").unwrap_err();
        assert!(why.starts_with("no user"), "{why}");
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        std::fs::write(&path, "bob:plain\n").unwrap();
        let error = Users::load(&path).unwrap_err();
        assert!(
            error.starts_with(&format!("htpasswd file {}:1: user \"bob\"", path.display())),
            "{error}"
        );
        let error = Users::load(&dir.path().join("missing")).unwrap_err();
        assert!(error.contains("missing"), "{error}");
    }
}
