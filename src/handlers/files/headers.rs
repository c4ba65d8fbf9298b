//! Configured fields of file responses: `--cache-control`, `--header` and the config file's
//! `[[rules]]`, merged for one path.
//!
//! The sources, from weakest to strongest: `--cache-control` (as `Cache-Control`), the
//! `--header` fields, then each `[[rules]]` table whose glob matches the path, in file order.
//! A stronger source that names a field replaces every field of that name (compared
//! case-insensitively, RFC 9110 §5.1) from the weaker ones, so for each name the last
//! matching rule wins, and a rule overrides `--header` and `--cache-control`; fields named
//! twice in one source (two `--header "Link: ..."`) are all sent. A field configured with an
//! empty value is not sent, and removes the weaker ones of its name, but for `Vary`, which
//! only adds (the handler's `Vary: Accept-Encoding` keeps caches from mixing codings).
//!
//! The globs are matched together, by an index of their literal prefixes (the `globs` module).
//!
//! Merged with what the file handler sets itself, a configured field replaces the handler's
//! field of the same name (`Content-Type`, `X-Content-Type-Options`), except `Vary`, which is
//! sent beside the handler's (both are lists of the fields the response depends on, RFC 9110
//! §12.5.5). The fields that describe the file as it is sent (validators, coding, ranges) are
//! the handler's alone: configuring one is refused when the settings are read, since a
//! configured `ETag` would contradict the one conditional requests are evaluated against.
//!
//! They go on the answers about a file or a listing (`200`, `206`, and `304` but for a
//! configured Content-Type, RFC 9110 §15.4.5), as nginx's `add_header` does by default; not
//! on errors (`404`, `412`, `416`, ...), whose fields describe no file.

mod globs;

use crate::http::response::{FieldName, FieldValue};
use globs::Globs;
use globset::Glob;

/// A field: its name and value.
pub type Field = (FieldName, FieldValue);

/// Fields the file handler computes from the file itself; not configurable.
const COMPUTED: [&str; 4] = ["ETag", "Last-Modified", "Content-Encoding", "Accept-Ranges"];

/// A `[[rules]]` table: fields for the paths its glob matches.
#[derive(Debug, Clone)]
pub struct FieldRule {
    /// The glob as written, for messages.
    pub path: String,
    /// Matched against the request's decoded path (`/a b/c.html`).
    pub glob: Glob,
    /// The fields, in order.
    pub fields: Vec<(String, String)>,
}

/// Every configured field source, ready to merge for a path.
#[derive(Debug, Clone, Default)]
pub struct FieldRules {
    base: Vec<Field>,
    /// Every rule's glob, numbered in file order.
    globs: Globs,
    /// Every rule's fields, by the number of its glob.
    rules: Vec<Vec<Field>>,
}

impl FieldRules {
    /// The sources: `cache_control` (`--cache-control`), `headers` (`--header`, in order) and
    /// `rules` (`[[rules]]`, in file order). Refuses a field the handler computes (see the
    /// module's documentation), naming it, and a set of globs too large to compile.
    pub fn new(
        cache_control: &str,
        headers: &[(String, String)],
        rules: &[FieldRule],
    ) -> Result<FieldRules, String> {
        let owned = |fields: &[(String, String)]| -> Result<Vec<Field>, String> {
            fields
                .iter()
                .map(|(name, value)| {
                    if COMPUTED.iter().any(|c| c.eq_ignore_ascii_case(name)) {
                        return Err(format!(
                            "{name} is computed from each file and cannot be configured"
                        ));
                    }
                    Ok((name.clone().into(), value.clone().into()))
                })
                .collect()
        };
        let mut base = vec![("Cache-Control".into(), cache_control.to_string().into())];
        merge(&mut base, &owned(headers)?);
        let fields = rules
            .iter()
            .map(|rule| {
                owned(&rule.fields)
                    .map_err(|why| format!("[[rules]] path = {:?}: {why}", rule.path))
            })
            .collect::<Result<_, String>>()?;
        Ok(FieldRules {
            base,
            globs: Globs::new(rules)?,
            rules: fields,
        })
    }

    /// The configured fields for `path` (a decoded request path): the merge of every source
    /// that applies to it.
    pub fn for_path(&self, path: &str) -> Vec<Field> {
        let mut fields = self.base.clone();
        if self.rules.is_empty() {
            return fields;
        }
        for i in self.globs.matching(path) {
            merge(&mut fields, &self.rules[i]);
        }
        fields
    }
}

/// Adds `stronger` to `fields`: each name `stronger` sets replaces every field of that name in
/// `fields` (case-insensitively), except `Vary`, which is added beside.
pub fn merge(fields: &mut Vec<Field>, stronger: &[Field]) {
    fields.retain(|(name, _)| {
        name.eq_ignore_ascii_case("Vary")
            || !stronger.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    });
    fields.extend(stronger.iter().cloned());
}

/// The handler's `fields` with the `configured` ones merged in ([`merge`]), as they are
/// sent: a field configured empty (`--cache-control ""`, `"X-Content-Type-Options" = ""`)
/// is none, and removes the handler's of its name (`Vary` excepted, see [`merge`]).
pub fn apply(fields: &mut Vec<Field>, configured: &[Field]) {
    merge(fields, configured);
    fields.retain(|(_, value)| !value.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;
    use globset::GlobBuilder;

    fn rule(glob: &str, fields: &[(&str, &str)]) -> FieldRule {
        FieldRule {
            path: glob.to_string(),
            glob: GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .unwrap(),
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn pairs(fields: &[Field]) -> Vec<(&str, &str)> {
        fields
            .iter()
            .map(|(n, v)| (n.as_ref(), v.as_ref()))
            .collect()
    }

    #[test]
    fn the_last_matching_source_wins_per_name() {
        let headers = [
            ("X-Frame-Options".to_string(), "DENY".to_string()),
            ("Link".to_string(), "</a.css>; rel=preload".to_string()),
            ("Link".to_string(), "</b.js>; rel=preload".to_string()),
        ];
        let rules = FieldRules::new(
            "no-cache",
            &headers,
            &[
                rule(
                    "/assets/**",
                    &[("Cache-Control", "max-age=31536000, immutable")],
                ),
                rule(
                    "/**/*.html",
                    &[("cache-control", "no-store"), ("Vary", "Cookie")],
                ),
                rule("/assets/*.js", &[("X-Frame-Options", "SAMEORIGIN")]),
            ],
        )
        .unwrap();
        assert_eq!(
            pairs(&rules.for_path("/index.html")),
            [
                ("X-Frame-Options", "DENY"),
                ("Link", "</a.css>; rel=preload"),
                ("Link", "</b.js>; rel=preload"),
                ("cache-control", "no-store"),
                ("Vary", "Cookie"),
            ]
        );
        assert_eq!(
            pairs(&rules.for_path("/assets/app.js")),
            [
                ("Link", "</a.css>; rel=preload"),
                ("Link", "</b.js>; rel=preload"),
                ("Cache-Control", "max-age=31536000, immutable"),
                ("X-Frame-Options", "SAMEORIGIN"),
            ]
        );
        // `*` stays within a segment; `**` crosses them.
        assert_eq!(
            pairs(&rules.for_path("/assets/js/app.js"))[3],
            ("Cache-Control", "max-age=31536000, immutable")
        );
        assert_eq!(pairs(&rules.for_path("/assets/js/app.js"))[0].1, "DENY");
        assert_eq!(
            pairs(&rules.for_path("/other.txt"))[0],
            ("Cache-Control", "no-cache")
        );
    }

    #[test]
    fn a_header_overrides_cache_control_and_vary_adds_up() {
        let rules = FieldRules::new(
            "no-cache",
            &[("Cache-Control".to_string(), "max-age=60".to_string())],
            &[],
        )
        .unwrap();
        assert_eq!(
            pairs(&rules.for_path("/a")),
            [("Cache-Control", "max-age=60")]
        );
        let mut handler: Vec<Field> = vec![
            ("Content-Type".into(), "text/html".into()),
            ("Vary".into(), "Accept-Encoding".into()),
        ];
        merge(
            &mut handler,
            &[
                ("content-type".into(), "text/plain".into()),
                ("Vary".into(), "Origin".into()),
            ],
        );
        assert_eq!(
            pairs(&handler),
            [
                ("Vary", "Accept-Encoding"),
                ("content-type", "text/plain"),
                ("Vary", "Origin"),
            ]
        );
    }

    #[test]
    fn a_field_configured_empty_is_not_sent_and_removes_the_handlers() {
        let rules = FieldRules::new(
            "",
            &[
                ("X-Content-Type-Options".to_string(), String::new()),
                ("Vary".to_string(), String::new()),
            ],
            &[rule("/keep/*", &[("Cache-Control", "max-age=60")])],
        )
        .unwrap();
        let handler = || -> Vec<Field> {
            vec![
                ("Content-Type".into(), "text/plain".into()),
                ("X-Content-Type-Options".into(), "nosniff".into()),
                ("Vary".into(), "Accept-Encoding".into()),
            ]
        };
        // An empty Vary adds nothing and removes nothing: the handler's stays.
        let mut fields = handler();
        apply(&mut fields, &rules.for_path("/a"));
        assert_eq!(
            pairs(&fields),
            [("Content-Type", "text/plain"), ("Vary", "Accept-Encoding")]
        );
        let mut fields = handler();
        apply(&mut fields, &rules.for_path("/keep/a"));
        assert_eq!(
            pairs(&fields),
            [
                ("Content-Type", "text/plain"),
                ("Vary", "Accept-Encoding"),
                ("Cache-Control", "max-age=60")
            ]
        );
    }

    #[test]
    fn computed_fields_are_refused() {
        for name in ["ETag", "last-modified", "Content-Encoding", "Accept-Ranges"] {
            let fields = [(name.to_string(), "x".to_string())];
            let error = FieldRules::new("no-cache", &fields, &[]).unwrap_err();
            assert!(error.contains(name), "{error}");
            let error = FieldRules::new("no-cache", &[], &[rule("/**", &[(name, "x")])]);
            assert!(error.is_err(), "{name}");
        }
    }
}
