//! Configured fields of file responses: `--cache-control`, `--header` and the config file's
//! `[[rules]]`, merged for one path.
//!
//! The sources, from weakest to strongest: `--cache-control` (as `Cache-Control`), the
//! `--header` fields, then each `[[rules]]` table whose glob matches the path, in file order.
//! A stronger source that names a field replaces every field of that name (compared
//! case-insensitively, RFC 9110 §5.1) from the weaker ones, so for each name the last
//! matching rule wins, and a rule overrides `--header` and `--cache-control`; fields named
//! twice in one source (two `--header "Link: ..."`) are all sent.
//!
//! The globs are indexed by their literal prefix (what comes before the first `*`, `?`, `[`,
//! `{` or `\`): a path can only match a glob whose prefix starts it, and those are found in
//! one walk along the path. Of these, the common shapes are matched without a regex, found by
//! the path's last segment or extension: the prefix alone (`/robots.txt`), everything under
//! it (`/assets/**`), one segment ending in a literal (`/blog/*.html`), and a literal at any
//! depth (`/**/index.html`); the others of each prefix are compiled into sets (globset's
//! `GlobSet`). So which rules apply costs about the same for ten rules as for ten thousand,
//! unless thousands share a prefix and need a regex (`/**/a1/*.{css,js}`, ...).
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

use super::super::prefix::PrefixTree;
use crate::http::response::{FieldName, FieldValue};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::{BTreeMap, HashMap};

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
        let mut matched = self.globs.matching(path);
        // File order.
        matched.sort_unstable();
        for i in matched {
            merge(&mut fields, &self.rules[i]);
        }
        fields
    }
}

/// The bytes that end a glob's literal prefix: `*`, `?`, `[...]`, `{a,b}` and `\\` (an
/// escape).
const META: [u8; 5] = [b'*', b'?', b'[', b'{', b'\\'];

/// How many globs of one prefix are compiled into one set, at most: one regex holds them all,
/// and its size is bounded.
const SET: usize = 1000;

/// The `[[rules]]` globs by their literal prefix.
#[derive(Debug, Clone, Default)]
struct Globs(PrefixTree<Shapes>);

/// The globs of one literal prefix, by their shape; each holds the numbers of its globs.
#[derive(Debug, Clone, Default)]
struct Shapes {
    /// The prefix alone: the path is the prefix.
    exact: Vec<usize>,
    /// The prefix (ending in `/`) then `**`: every path that starts with the prefix.
    under: Vec<usize>,
    /// The prefix, `*` and a literal without `/` (`.html`): the rest of the path holds no `/`
    /// (`*` stays within a segment) and ends with the literal. By the literal's extension.
    star: HashMap<Vec<u8>, Vec<(usize, Vec<u8>)>>,
    /// The prefix (ending in `/`), `**/` and a literal (`index.html`): the rest of the path
    /// is the literal or ends with `/` and the literal (`**/` is any number of segments). By
    /// the literal's last segment.
    deep: HashMap<Vec<u8>, Vec<(usize, Vec<u8>)>>,
    /// The others, compiled into sets, each with the numbers of its globs in its own order.
    sets: Vec<(GlobSet, Vec<usize>)>,
}

impl Globs {
    fn new(rules: &[FieldRule]) -> Result<Globs, String> {
        let mut tree = PrefixTree::<Shapes>::default();
        let mut others: BTreeMap<&[u8], Vec<(usize, Glob)>> = BTreeMap::new();
        for (i, rule) in rules.iter().enumerate() {
            let pattern = rule.glob.glob().as_bytes();
            let literal = pattern.iter().take_while(|b| !META.contains(b)).count();
            let (prefix, rest) = pattern.split_at(literal);
            let shapes = tree.entry(prefix);
            match rest {
                [] => shapes.exact.push(i),
                b"**" if prefix.ends_with(b"/") => shapes.under.push(i),
                [b'*', suffix @ ..] if !suffix.iter().any(|b| META.contains(b) || *b == b'/') => {
                    let key = extension(suffix).to_vec();
                    shapes
                        .star
                        .entry(key)
                        .or_default()
                        .push((i, suffix.to_vec()));
                }
                [b'*', b'*', b'/', name @ ..]
                    if prefix.ends_with(b"/")
                        && !name.is_empty()
                        && !name.iter().any(|b| META.contains(b)) =>
                {
                    let key = last_segment(name).to_vec();
                    shapes.deep.entry(key).or_default().push((i, name.to_vec()));
                }
                _ => others
                    .entry(prefix)
                    .or_default()
                    .push((i, rule.glob.clone())),
            }
        }
        for (prefix, globs) in others {
            let sets = &mut tree.entry(prefix).sets;
            for chunk in globs.chunks(SET) {
                compile(chunk, rules, sets)?;
            }
        }
        Ok(Globs(tree))
    }

    /// The numbers of the globs that match `path`, in no particular order.
    fn matching(&self, path: &str) -> Vec<usize> {
        let mut matched = Vec::new();
        let mut found = Vec::new();
        let bytes = path.as_bytes();
        self.0.prefixes_of(bytes, |shapes, len| {
            let rest = &bytes[len..];
            if rest.is_empty() {
                matched.extend(&shapes.exact);
            }
            matched.extend(&shapes.under);
            if !rest.contains(&b'/') {
                // A literal without `.` can end any name; one with `.` only a name of its
                // extension.
                let extension = extension(rest);
                let any = shapes.star.get(&b""[..]);
                let typed = shapes.star.get(extension).filter(|_| !extension.is_empty());
                for (i, suffix) in any.into_iter().chain(typed).flatten() {
                    if rest.ends_with(suffix) {
                        matched.push(*i);
                    }
                }
            }
            for (i, name) in shapes.deep.get(last_segment(rest)).into_iter().flatten() {
                let deeper =
                    rest.len() > name.len() && rest[..rest.len() - name.len()].ends_with(b"/");
                if rest == name.as_slice() || (rest.ends_with(name) && deeper) {
                    matched.push(*i);
                }
            }
            for (set, numbers) in &shapes.sets {
                set.matches_into(path, &mut found);
                matched.extend(found.iter().map(|&k| numbers[k]));
            }
        });
        matched
    }
}

/// The part of `name` from its last `.` (`.html`), empty if it has none.
fn extension(name: &[u8]) -> &[u8] {
    name.iter()
        .rposition(|&b| b == b'.')
        .map_or(&[], |at| &name[at..])
}

/// The part of `path` after its last `/`, all of it if it has none.
fn last_segment(path: &[u8]) -> &[u8] {
    path.iter()
        .rposition(|&b| b == b'/')
        .map_or(path, |at| &path[at + 1..])
}

/// Compiles `globs` into one set added to `sets`, or, if the regex they make is too large,
/// each half into its own; a glob too large alone is refused, naming it.
fn compile(
    globs: &[(usize, Glob)],
    rules: &[FieldRule],
    sets: &mut Vec<(GlobSet, Vec<usize>)>,
) -> Result<(), String> {
    let mut builder = GlobSetBuilder::new();
    for (_, glob) in globs {
        builder.add(glob.clone());
    }
    match builder.build() {
        Ok(set) => {
            sets.push((set, globs.iter().map(|(i, _)| *i).collect()));
            Ok(())
        }
        Err(e) => match globs {
            [(i, _)] => Err(format!("[[rules]] path = {:?}: {e}", rules[*i].path)),
            _ => {
                let (first, second) = globs.split_at(globs.len() / 2);
                compile(first, rules, sets)?;
                compile(second, rules, sets)
            }
        },
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
    fn computed_fields_are_refused() {
        for name in ["ETag", "last-modified", "Content-Encoding", "Accept-Ranges"] {
            let fields = [(name.to_string(), "x".to_string())];
            let error = FieldRules::new("no-cache", &fields, &[]).unwrap_err();
            assert!(error.contains(name), "{error}");
            let error = FieldRules::new("no-cache", &[], &[rule("/**", &[(name, "x")])]);
            assert!(error.is_err(), "{name}");
        }
    }

    #[test]
    fn the_compiled_set_matches_as_each_glob_alone() {
        let globs = [
            "/**",
            "/a/**",
            "/a/*",
            "/a/*.txt",
            "/**/*.txt",
            "/a/b.txt",
            "/a/**/c",
            "/*.html",
            "/{a,b}/x",
            "/a/?.txt",
            "/[ab]/**",
            "**/b.txt",
            "/a b/**",
            "/é/*",
            "/a*",
            "/a/x*t",
            "/ab**",
            "**",
            "/a/\\*",
            "/a//**",
            "/a/b.txt",
            "/é/*é",
            "/a/**/",
            "/a/*/*.txt",
            "/**/b.txt",
            "/a/**/x/b.txt",
            "/**/a",
            "/a/**/b.txt",
            "/*x",
            "/a/*.t.txt",
            "/**/a/",
            "/a/*.",
            "/**/c",
        ];
        let rules: Vec<FieldRule> = globs
            .iter()
            .enumerate()
            .map(|(i, glob)| rule(glob, &[(&format!("X-{i}"), "1")]))
            .collect();
        let set = FieldRules::new("no-cache", &[], &rules).unwrap();
        for path in [
            "/",
            "/a",
            "/a/",
            "/a/b.txt",
            "/a/x/b.txt",
            "/a/x/c",
            "/a/c",
            "/index.html",
            "/d/index.html",
            "/b/x",
            "/a/1.txt",
            "/a b/c",
            "/é/x",
            "/é/x/y",
            "/x.txt",
            "/ab",
            "/abc/d",
            "/a/*",
            "/a//x",
            "/a/xt",
            "/a/x.txt",
            "/a/x/t",
            "/é/éé",
            "/a/b/",
            "/a/b/c.txt",
            "/b.txt",
            "/ab.txt",
            "/x/b.txt",
            "/a/x/b.txt",
            "/a/q/x/b.txt",
            "/a/qx/b.txt",
            "/x",
            "/ax",
            "/a.t.txt",
            "/a/a.t.txt",
            "/a/t.txt",
            "/a/.",
            "/a/x.",
            "/q/a/",
            "/q/a",
            "/a//b.txt",
            "/c",
            "/ac",
            "/a/c",
        ] {
            let expected: Vec<String> = rules
                .iter()
                .enumerate()
                .filter(|(_, rule)| rule.glob.compile_matcher().is_match(path))
                .map(|(i, _)| format!("X-{i}"))
                .collect();
            let found: Vec<String> = set.for_path(path)[1..]
                .iter()
                .map(|(name, _)| AsRef::<str>::as_ref(name).to_string())
                .collect();
            assert_eq!(found, expected, "{path}");
        }
    }
}
