//! The rules a name given to an uploaded file must pass: the same the server applies to a
//! request's path (see `files::map` and the grammar's `decode_path`), so that every file
//! uploaded can be fetched back by the name it was given, and none can be put where a URL
//! could not put it. A pure function, checked against a table of cases.

/// The longest name accepted, in bytes: `NAME_MAX` of Linux file systems (ext4, xfs, btrfs,
/// tmpfs), so that a name refused is refused here with its rule, not by the kernel with
/// `ENAMETOOLONG`.
pub const MAX_NAME: usize = 255;

/// Which rule a name breaks; each is answered 400 with its sentence ([`Rule::sentence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// No name (a form's file field left empty sends `filename=""`).
    Empty,
    /// `.` or `..`: the folder itself or its parent, as a URL's dot-segments are
    /// (RFC 3986 §5.2.4).
    DotSegment,
    /// A `/`: a name is one path segment, never a path (RFC 3986 §3.3).
    Slash,
    /// A `\`, which the server refuses in a URL too (a separator to some clients and file
    /// systems).
    Backslash,
    /// A control byte (0x00–0x1F, 0x7F): refused in a URL's path too, encoded or not.
    Control,
    /// A leading `.`: a dotfile, hidden and not served unless `--dotfiles`.
    Dotfile,
    /// More than [`MAX_NAME`] bytes.
    TooLong,
}

impl Rule {
    /// What the rule says, for the 400's body.
    pub fn sentence(self) -> String {
        match self {
            Rule::Empty => "a file name is required".to_string(),
            Rule::DotSegment => "a file name cannot be . or ..".to_string(),
            Rule::Slash => "a file name cannot hold /".to_string(),
            Rule::Backslash => "a file name cannot hold \\".to_string(),
            Rule::Control => "a file name cannot hold control characters".to_string(),
            Rule::Dotfile => {
                "a file name cannot start with . (dotfiles are not served)".to_string()
            }
            Rule::TooLong => format!("a file name cannot be longer than {MAX_NAME} bytes"),
        }
    }
}

/// Checks `name` (UTF-8, as a form or a decoded URL gives it) against the rules, in the
/// order listed in [`Rule`]; a dotfile passes when `dotfiles`.
pub fn check(name: &str, dotfiles: bool) -> Result<(), Rule> {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Err(Rule::Empty);
    }
    if name == "." || name == ".." {
        return Err(Rule::DotSegment);
    }
    if bytes.contains(&b'/') {
        return Err(Rule::Slash);
    }
    if bytes.contains(&b'\\') {
        return Err(Rule::Backslash);
    }
    if bytes.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(Rule::Control);
    }
    if !dotfiles && bytes.first() == Some(&b'.') {
        return Err(Rule::Dotfile);
    }
    if bytes.len() > MAX_NAME {
        return Err(Rule::TooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_the_rule_each_breaks() {
        let long = "é".repeat(128);
        let cases: &[(&str, bool, Result<(), Rule>)] = &[
            ("report.pdf", false, Ok(())),
            ("naïve café.txt", false, Ok(())),
            ("a b%20c;d=e?f#g", false, Ok(())),
            ("", false, Err(Rule::Empty)),
            (".", true, Err(Rule::DotSegment)),
            ("..", true, Err(Rule::DotSegment)),
            ("../etc/passwd", true, Err(Rule::Slash)),
            ("a/b", false, Err(Rule::Slash)),
            ("a\\b", false, Err(Rule::Backslash)),
            ("a\0b", false, Err(Rule::Control)),
            ("a\r\nb", false, Err(Rule::Control)),
            ("a\x7fb", false, Err(Rule::Control)),
            (".env", false, Err(Rule::Dotfile)),
            (".env", true, Ok(())),
            ("...", false, Err(Rule::Dotfile)),
            (&"x".repeat(MAX_NAME), false, Ok(())),
            (&"x".repeat(MAX_NAME + 1), false, Err(Rule::TooLong)),
            (&long, false, Err(Rule::TooLong)),
        ];
        for (name, dotfiles, expected) in cases {
            assert_eq!(check(name, *dotfiles), *expected, "{name:?}");
        }
    }

    #[test]
    fn every_rule_has_a_sentence_naming_it() {
        assert!(Rule::TooLong.sentence().contains("255"));
        assert!(Rule::Slash.sentence().contains('/'));
        assert!(Rule::Dotfile.sentence().contains("dotfiles"));
    }
}
