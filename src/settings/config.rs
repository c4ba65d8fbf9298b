//! Settings: the command line, `NOMSERVE_*` environment variables and a TOML file, merged.
//!
//! Every long flag of [`Args`] is also an environment variable (`NOMSERVE_` and the flag's
//! name in upper snake case: `--cache-control` is `NOMSERVE_CACHE_CONTROL`) and a key of the
//! `--config` file (the name in snake case: `cache_control = "no-cache"`; a repeatable flag
//! takes an array). Precedence: the command line, then the environment, then the file, then
//! the defaults. A value from the file is checked by the same parser as the flag, so the
//! three ways to say a thing accept exactly the same values; a bad one is reported with the
//! file, line and key.
//!
//! The file also holds what has no flag: `[[rules]]` (fields per path glob), `[[redirects]]`
//! and `[[auth]]`, read into the types of the parts they configure ([`FieldRule`],
//! [`RedirectRule`], [`Area`]).
//!
//! How the file is merged: the command line is parsed first (with the environment), then each
//! key of the file that neither set becomes the flags that say it, checked, and the whole is
//! parsed again. So the file can only fill what the command line and environment left at its
//! default, and a rule between flags (`--tls-key` needs `--tls-cert`) holds whichever source
//! each came from.

mod redirect;

use super::cli::{Args, RESTART, parse_header};
use crate::handlers::auth::Area;
use crate::handlers::files::FieldRule;
use crate::handlers::redirects::RedirectRule;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use globset::{Glob, GlobBuilder, GlobMatcher};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The prefix of the environment variables.
const ENV_PREFIX: &str = "NOMSERVE_";

/// The file's tables that are not flags.
const TABLES: [&str; 3] = ["rules", "redirects", "auth"];

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Every flag, from whichever source set it.
    pub args: Args,
    /// `[[rules]]`: fields added to file responses whose path matches, in file order.
    pub rules: Vec<FieldRule>,
    /// `[[redirects]]`, in file order: the first that matches a path applies.
    pub redirects: Vec<RedirectRule>,
    /// `[[auth]]`: password-protected parts of the site, in file order.
    pub auth: Vec<Area>,
    /// Each setting as written (its key, its values joined by `, `), for telling what a
    /// reload changed.
    written: BTreeMap<String, String>,
}

impl Settings {
    /// The keys whose values differ between `self` and `other` (the tables as `rules`,
    /// `redirects`, `auth`), in key order.
    pub fn changed(&self, other: &Settings) -> Vec<String> {
        let keys: BTreeSet<&String> = self.written.keys().chain(other.written.keys()).collect();
        keys.into_iter()
            .filter(|key| self.written.get(*key) != other.written.get(*key))
            .cloned()
            .collect()
    }

    /// The keys among those [`Settings::changed`] names that only a restart applies: the
    /// flags of the [`RESTART`] group, in key order.
    pub fn restart_only(&self, other: &Settings) -> Vec<String> {
        let mut definition = command();
        definition.build();
        let ids: Vec<&clap::Id> = definition
            .get_groups()
            .filter(|group| group.get_id() == RESTART)
            .flat_map(|group| group.get_args())
            .collect();
        let fixed: BTreeSet<String> = definition
            .get_arguments()
            .filter(|arg| ids.contains(&arg.get_id()))
            .filter_map(key_of)
            .collect();
        let mut changed = self.changed(other);
        changed.retain(|key| fixed.contains(key));
        changed
    }
}

/// Why the settings cannot be used.
#[derive(Debug)]
pub enum Error {
    /// A mistake on the command line or in the environment, as clap reports it (with usage).
    Usage(clap::Error),
    /// A mistake in the file: where and why.
    File(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(e) => write!(f, "{}", e.render()),
            Error::File(message) => f.write_str(message),
        }
    }
}

/// The command line's definition, each long flag with its environment variable.
pub fn command() -> Command {
    let mut command = Args::command();
    let named: Vec<(String, String)> = command
        .get_arguments()
        .filter_map(|arg| Some((arg.get_id().to_string(), key_of(arg)?)))
        .collect();
    for (id, key) in named {
        let env = format!("{ENV_PREFIX}{}", key.to_uppercase());
        command = command.mut_arg(id, |arg| arg.env(env));
    }
    command
}

/// The file key (and, upper-cased after the prefix, the environment variable) of a long
/// flag: its name with `-` written `_`.
fn key_of(arg: &Arg) -> Option<String> {
    arg.get_long().map(|long| long.replace('-', "_"))
}

/// Reads the settings from `argv` (the program name first), the environment, and the file
/// that `--config` (or `NOMSERVE_CONFIG`) names.
pub fn load(argv: &[OsString]) -> Result<Settings, Error> {
    let matches = command().try_get_matches_from(argv).map_err(Error::Usage)?;
    let mut first = Args::from_arg_matches(&matches).map_err(Error::Usage)?;
    let folder_given = first.dir.is_some();
    folder_as_root(&mut first, &matches)?;
    let Some(path) = first.config.clone() else {
        return Ok(Settings {
            args: first,
            rules: Vec::new(),
            redirects: Vec::new(),
            auth: Vec::new(),
            written: written(&matches, &Tables::default()),
        });
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::File(format!("config file {}: {e}", path.display())))?;
    let file = File::new(&path, &text);
    let table = DeTable::parse(&text).map_err(|e| {
        let line = e.span().map_or(0, |span| file.line(span.start));
        Error::File(format!("{}:{line}: {}", path.display(), e.message()))
    })?;
    let table = table.into_inner();
    let mut extra: Vec<OsString> = Vec::new();
    let mut settings_tables = Tables::default();
    let definition = command();
    for (key, value) in &table {
        let name = key.get_ref().as_ref();
        let at = file.line(key.span().start);
        if TABLES.contains(&name) {
            settings_tables.read(&file, name, value, at)?;
            continue;
        }
        let (flag, value) = file_key(name, value);
        let Some(arg) = definition
            .get_arguments()
            .find(|arg| key_of(arg).as_deref() == Some(flag))
        else {
            return Err(file.error(at, name, "unknown key"));
        };
        if flag == "config" || flag == "check_config" {
            return Err(file.error(at, name, "a command-line option, not a setting"));
        }
        let flags = flags_for(arg, value).map_err(|why| file.error(at, name, &why))?;
        let root_given = flag == "root" && folder_given;
        if from_default(&matches, arg.get_id().as_str()) && !root_given {
            extra.extend(flags);
        }
    }
    let mut merged: Vec<OsString> = argv.to_vec();
    merged.extend(extra);
    let matches = command().try_get_matches_from(&merged).map_err(|e| {
        let rendered = e.render().to_string();
        let reason = rendered.split("\n\n").next().unwrap_or_default();
        Error::File(format!(
            "{}: {}",
            path.display(),
            reason.trim_start_matches("error: ")
        ))
    })?;
    let mut args = Args::from_arg_matches(&matches).map_err(Error::Usage)?;
    folder_as_root(&mut args, &matches)?;
    let written = written(&matches, &settings_tables);
    Ok(Settings {
        args,
        rules: settings_tables.rules,
        redirects: settings_tables.redirects,
        auth: settings_tables.auth,
        written,
    })
}

/// Every setting of `matches` and `tables` as written, by key.
fn written(matches: &ArgMatches, tables: &Tables) -> BTreeMap<String, String> {
    let mut written = BTreeMap::new();
    for arg in command().get_arguments() {
        let Some(key) = key_of(arg) else {
            continue;
        };
        let id = arg.get_id().as_str();
        let value = match matches.get_raw(id) {
            Some(values) => values
                .map(|v| v.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(", "),
            None => continue,
        };
        written.insert(key, value);
    }
    let rules: Vec<String> = tables
        .rules
        .iter()
        .map(|rule| format!("{} {:?}", rule.path, rule.fields))
        .collect();
    let redirects: Vec<String> = tables.redirects.iter().map(|r| format!("{r:?}")).collect();
    let auth: Vec<String> = tables
        .auth
        .iter()
        .map(|area| format!("{} {} {}", area.path, area.file.display(), area.realm))
        .collect();
    for (key, entries) in [("rules", rules), ("redirects", redirects), ("auth", auth)] {
        if !entries.is_empty() {
            written.insert(key.to_string(), entries.join("; "));
        }
    }
    written
}

/// `nomserve DIR` is `--root DIR`, ahead of the environment and the file; both on the
/// command line is a usage error.
fn folder_as_root(args: &mut Args, matches: &ArgMatches) -> Result<(), Error> {
    let Some(dir) = args.dir.take() else {
        return Ok(());
    };
    if matches.value_source("root") == Some(ValueSource::CommandLine) {
        return Err(Error::Usage(command().error(
            clap::error::ErrorKind::ArgumentConflict,
            "the folder to serve is given twice: as DIR and as --root; pass it once",
        )));
    }
    args.root = dir;
    Ok(())
}

/// Whether `id` took its value from neither the command line nor the environment.
fn from_default(matches: &ArgMatches, id: &str) -> bool {
    !matches!(
        matches.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// The key of the flag a file key stands for, and its value: the key itself, except `echo`,
/// which says `no_echo` the other way round (`echo = false` is `--no-echo`).
fn file_key<'a, 'i>(name: &'a str, value: &'a Spanned<DeValue<'i>>) -> (&'a str, KeyValue<'a, 'i>) {
    match (name, value.get_ref()) {
        ("echo", DeValue::Boolean(on)) => ("no_echo", KeyValue::Bool(!on)),
        ("echo", _) => ("no_echo", KeyValue::NotBool),
        _ => (name, KeyValue::Toml(value.get_ref())),
    }
}

/// A file key's value, as [`flags_for`] reads it.
enum KeyValue<'a, 'i> {
    Toml(&'a DeValue<'i>),
    Bool(bool),
    NotBool,
}

/// The command-line words that say `value` for `arg`, each value checked by the flag's own
/// parser. A switch takes a boolean (`true` is the flag, `false` nothing); a repeatable flag
/// an array of values or one value; any other flag one value. A value is a string, or an
/// integer written as its digits.
fn flags_for(arg: &Arg, value: KeyValue<'_, '_>) -> Result<Vec<OsString>, String> {
    let long = format!("--{}", arg.get_long().unwrap_or_default());
    let switch = matches!(arg.get_action(), ArgAction::SetTrue);
    let repeatable = matches!(arg.get_action(), ArgAction::Append);
    let value = match value {
        KeyValue::Bool(on) => return Ok(if on { vec![long.into()] } else { Vec::new() }),
        KeyValue::NotBool => return Err("expected true or false".to_string()),
        KeyValue::Toml(value) => value,
    };
    if switch {
        return match value {
            DeValue::Boolean(true) => Ok(vec![long.into()]),
            DeValue::Boolean(false) => Ok(Vec::new()),
            other => Err(format!("expected true or false, found {}", kind(other))),
        };
    }
    let values: Vec<&DeValue<'_>> = match value {
        DeValue::Array(items) if repeatable => items.iter().map(Spanned::get_ref).collect(),
        DeValue::Array(_) => return Err("expected one value, found an array".to_string()),
        one => vec![one],
    };
    let mut flags = Vec::with_capacity(values.len() * 2);
    for value in values {
        let text = scalar(value)?;
        check_value(arg, &text)?;
        flags.push(OsString::from(&long));
        flags.push(OsString::from(text));
    }
    Ok(flags)
}

/// Parses `text` as one value of `arg` alone, with the flag's own parser; the error is
/// clap's reason, without its usage text.
fn check_value(arg: &Arg, text: &str) -> Result<ArgMatches, String> {
    let long = format!("--{}", arg.get_long().unwrap_or_default());
    Command::new("nomserve")
        .no_binary_name(true)
        .arg(
            arg.clone()
                .requires(clap::builder::Resettable::<clap::Id>::Reset),
        )
        .try_get_matches_from([long.as_str(), text])
        .map_err(|e| match std::error::Error::source(&e) {
            Some(reason) => format!("invalid value {text:?}: {reason}"),
            None => format!("invalid value {text:?}: {}", e.kind()),
        })
}

/// A string, or an integer's decimal digits.
fn scalar(value: &DeValue<'_>) -> Result<String, String> {
    match value {
        DeValue::String(text) => Ok(text.to_string()),
        DeValue::Integer(integer) => {
            let digits = integer.as_str().replace('_', "");
            i64::from_str_radix(&digits, integer.radix())
                .map(|n| n.to_string())
                .map_err(|e| format!("{digits}: {e}"))
        }
        other => Err(format!(
            "expected a string or an integer, found {}",
            kind(other)
        )),
    }
}

/// What sort of TOML value `value` is, for a message.
fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The file being read, for line numbers and messages.
struct File<'a> {
    path: &'a Path,
    /// The offset of each `\n`, in order.
    newlines: Vec<usize>,
}

impl<'a> File<'a> {
    fn new(path: &'a Path, text: &str) -> File<'a> {
        let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).collect();
        File { path, newlines }
    }

    /// The line (from 1) of byte `offset`: one more than the newlines before it, found by
    /// bisection, so that a file of many tables is read in time proportional to its size.
    fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&at| at < offset) + 1
    }

    /// `FILE:LINE: key `KEY`: REASON`.
    fn error(&self, line: usize, key: &str, reason: &str) -> Error {
        Error::File(format!(
            "{}:{line}: key `{key}`: {reason}",
            self.path.display()
        ))
    }
}

/// The tables read so far.
#[derive(Default)]
struct Tables {
    rules: Vec<FieldRule>,
    redirects: Vec<RedirectRule>,
    auth: Vec<Area>,
}

impl Tables {
    /// Reads the array of tables `name` (`[[name]]`), at line `at`.
    fn read(
        &mut self,
        file: &File<'_>,
        name: &str,
        value: &Spanned<DeValue<'_>>,
        at: usize,
    ) -> Result<(), Error> {
        let DeValue::Array(items) = value.get_ref() else {
            return Err(file.error(at, name, "expected tables: write [[{name}]]"));
        };
        for item in items.iter() {
            let at = file.line(item.span().start);
            let DeValue::Table(table) = item.get_ref() else {
                return Err(file.error(at, name, "expected a table"));
            };
            let fields = Fields {
                file,
                table,
                section: name,
                at,
            };
            match name {
                "rules" => self.rules.push(fields.rule()?),
                "redirects" => self.redirects.push(fields.redirect()?),
                _ => self.auth.push(fields.auth()?),
            }
        }
        Ok(())
    }
}

/// The keys of one table of `[[rules]]`, `[[redirects]]` or `[[auth]]`.
struct Fields<'a, 'i> {
    file: &'a File<'a>,
    table: &'a DeTable<'i>,
    section: &'a str,
    at: usize,
}

impl Fields<'_, '_> {
    fn error(&self, key: &str, line: usize, reason: &str) -> Error {
        self.file
            .error(line, &format!("{}.{key}", self.section), reason)
    }

    /// Refuses any key but `allowed`.
    fn only(&self, allowed: &[&str]) -> Result<(), Error> {
        for (key, _) in self.table.iter() {
            let name = key.get_ref().as_ref();
            if !allowed.contains(&name) {
                let line = self.file.line(key.span().start);
                return Err(self.error(name, line, "unknown key"));
            }
        }
        Ok(())
    }

    /// The value of `key` and its line, if present.
    fn get(&self, key: &str) -> Option<(&DeValue<'_>, usize)> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| (v.get_ref(), self.file.line(v.span().start)))
    }

    /// The string `key`, which must be present.
    fn string(&self, key: &str) -> Result<(String, usize), Error> {
        match self.get(key) {
            Some((DeValue::String(text), line)) => Ok((text.to_string(), line)),
            Some((other, line)) => Err(self.error(
                key,
                line,
                &format!("expected a string, found {}", kind(other)),
            )),
            None => Err(self.error(key, self.at, "missing")),
        }
    }

    /// The glob `key`: `*` matches within a path segment, `**` across segments, `?` one
    /// character, `{a,b}` either, `[...]` a class.
    fn pattern(&self, key: &str) -> Result<(String, Glob), Error> {
        let (pattern, line) = self.string(key)?;
        if !pattern.starts_with('/') && !pattern.starts_with("**") {
            return Err(self.error(key, line, "a path glob starts with / (or **)"));
        }
        let glob = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| self.error(key, line, &format!("bad glob: {}", e.kind())))?;
        Ok((pattern, glob))
    }

    /// The glob `key` (see [`Fields::pattern`]), compiled to match on its own.
    fn glob(&self, key: &str) -> Result<(String, GlobMatcher), Error> {
        let (pattern, glob) = self.pattern(key)?;
        Ok((pattern, glob.compile_matcher()))
    }

    fn rule(&self) -> Result<FieldRule, Error> {
        self.only(&["path", "headers"])?;
        let (path, glob) = self.pattern("path")?;
        let Some((DeValue::Table(table), _)) = self.get("headers") else {
            return Err(self.error("headers", self.at, "expected a table of fields"));
        };
        let mut fields = Vec::new();
        for (name, value) in table.iter() {
            let line = self.file.line(name.span().start);
            let DeValue::String(value) = value.get_ref() else {
                return Err(self.error("headers", line, "a field value is a string"));
            };
            // The parser of `--header`, so a rule's fields are what the flag accepts.
            let field = format!("{}: {value}", name.get_ref());
            let field = parse_header(&field).map_err(|why| {
                self.error("headers", line, &format!("invalid value {field:?}: {why}"))
            })?;
            fields.push(field);
        }
        Ok(FieldRule { path, glob, fields })
    }

    fn redirect(&self) -> Result<RedirectRule, Error> {
        self.only(&["from", "to", "status"])?;
        let (from, line) = self.string("from")?;
        if !from.starts_with('/') || from[..from.len().saturating_sub(1)].contains('*') {
            return Err(self.error(
                "from",
                line,
                "a path starting with /, with at most one * at its end",
            ));
        }
        let (to, line) = self.string("to")?;
        redirect::check_to(&from, &to).map_err(|why| self.error("to", line, why))?;
        let status = match self.get("status") {
            None => 301,
            Some((DeValue::Integer(n), line)) => {
                match n
                    .as_str()
                    .parse::<u16>()
                    .ok()
                    .filter(|s| [301, 302, 307, 308].contains(s))
                {
                    Some(status) => status,
                    None => return Err(self.error("status", line, "301, 302, 307 or 308")),
                }
            }
            Some((other, line)) => {
                return Err(self.error(
                    "status",
                    line,
                    &format!("expected 301, 302, 307 or 308, found {}", kind(other)),
                ));
            }
        };
        Ok(RedirectRule { from, to, status })
    }

    fn auth(&self) -> Result<Area, Error> {
        self.only(&["path", "file", "realm"])?;
        let (path, glob) = self.glob("path")?;
        let (file, _) = self.string("file")?;
        let (realm, line) = match self.get("realm") {
            Some(_) => self.string("realm")?,
            None => ("nomserve".to_string(), self.at),
        };
        if realm
            .bytes()
            .any(|b| b == b'"' || b == b'\\' || !(b == b' ' || b.is_ascii_graphic()))
        {
            return Err(self.error("realm", line, "visible ASCII and spaces, without \" or \\"));
        }
        Ok(Area {
            path,
            glob,
            file: PathBuf::from(file),
            realm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Loads `argv` with a config file holding `text`.
    fn with_file(text: &str, argv: &[&str]) -> Result<Settings, String> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let path = file.path().to_str().unwrap().to_string();
        let mut full: Vec<OsString> = vec!["nomserve".into(), "--config".into(), (&path).into()];
        full.extend(argv.iter().map(OsString::from));
        let prefix = format!("{path}:");
        load(&full).map_err(|e| e.to_string().replace(&prefix, ""))
    }

    #[test]
    fn file_keys_are_the_long_flags_and_the_command_line_wins() {
        let text = "port = 9000\ncache_control = \"max-age=60\"\nlist_dirs = true\n\
                    index = [\"index.htm\", \"index.html\"]\nheader = [\"X-A: 1\"]\n\
                    echo = false\nheader_timeout = \"3s\"\n";
        let settings = with_file(text, &["--port", "9001"]).unwrap();
        let args = &settings.args;
        assert_eq!(args.port, 9001);
        assert_eq!(args.cache_control, "max-age=60");
        assert!(args.list_dirs && args.no_echo);
        assert_eq!(args.index, ["index.htm", "index.html"]);
        assert_eq!(args.headers.len(), 1);
        assert_eq!(args.header_timeout, std::time::Duration::from_secs(3));
        let settings = with_file("index = [\"a.html\"]\n", &["--index", "b.html"]).unwrap();
        assert_eq!(settings.args.index, ["b.html"]);
        let settings = with_file("echo = true\n", &[]).unwrap();
        assert!(!settings.args.no_echo);
    }

    #[test]
    fn a_reload_names_what_changed() {
        let old = with_file("list_dirs = true\nport = 9000\n", &[]).unwrap();
        let new = with_file(
            "port = 9000\ncache_control = \"max-age=9\"\n[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            old.changed(&new),
            ["cache_control", "config", "list_dirs", "redirects"]
        );
        assert!(new.changed(&new).is_empty());
    }

    #[test]
    fn tables_are_read() {
        let text = "[[rules]]\npath = \"/assets/**\"\n\
                    headers = { \"Cache-Control\" = \"public, max-age=31536000, immutable\" }\n\
                    [[redirects]]\nfrom = \"/old/*\"\nto = \"/new/*\"\nstatus = 308\n\
                    [[redirects]]\nfrom = \"/a\"\nto = \"https://example.com/b\"\n\
                    [[auth]]\npath = \"/private/**\"\nfile = \"users.htpasswd\"\nrealm = \"Staff\"\n";
        let settings = with_file(text, &[]).unwrap();
        let glob = settings.rules[0].glob.compile_matcher();
        assert!(glob.is_match("/assets/js/app.js"));
        assert!(!glob.is_match("/other/assets/x"));
        assert_eq!(settings.rules[0].fields[0].0, "Cache-Control");
        assert_eq!(
            settings.redirects,
            [
                RedirectRule {
                    from: "/old/*".into(),
                    to: "/new/*".into(),
                    status: 308
                },
                RedirectRule {
                    from: "/a".into(),
                    to: "https://example.com/b".into(),
                    status: 301
                }
            ]
        );
        assert_eq!(settings.auth[0].realm, "Staff");
        // A `*` after the host, in the path or the query, and `://` in a path, are fine.
        for to in ["https://h.example/*", "https://h.example?p=*", "/x://y/*"] {
            let text = format!("[[redirects]]\nfrom = \"/a/*\"\nto = \"{to}\"\n");
            assert_eq!(with_file(&text, &[]).unwrap().redirects[0].to, to);
        }
        assert!(settings.auth[0].glob.is_match("/private/a/b"));
    }

    #[test]
    fn mistakes_name_the_line_the_key_and_the_reason() {
        for (text, expected) in [
            (
                "port = 1\ncache_contrl = \"x\"\n",
                "2: key `cache_contrl`: unknown key",
            ),
            ("port = \"abc\"\n", "1: key `port`: invalid value \"abc\""),
            (
                "list_dirs = \"yes\"\n",
                "1: key `list_dirs`: expected true or false",
            ),
            (
                "port = [1]\n",
                "1: key `port`: expected one value, found an array",
            ),
            (
                "\n\n[[rules]]\npath = \"/a/[b\"\nheaders = {}\n",
                "4: key `rules.path`: bad glob",
            ),
            (
                "header = [\"X-A: 1\\r\\nX-B: 2\"]\n",
                "1: key `header`: invalid value \"X-A: 1\\r\\nX-B: 2\": a field value",
            ),
            (
                "[[rules]]\npath = \"/x\"\nheaders = { \"X-A\" = \"a\\nb\" }\n",
                "3: key `rules.headers`: invalid value",
            ),
            (
                "[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\nstatus = 200\n",
                "4: key `redirects.status`: 301, 302, 307 or 308",
            ),
            (
                "config = \"other.toml\"\n",
                "1: key `config`: a command-line option",
            ),
            (
                "[[redirects]]\nfrom = \"/blog*\"\nto = \"https://blog.example.com*\"\n",
                "3: key `redirects.to`: a * in the host",
            ),
            (
                "[[redirects]]\nfrom = \"/a/*\"\nto = \"https://a@*.example/\"\n",
                "3: key `redirects.to`: a * in the host",
            ),
            (
                "[[redirects]]\nfrom = \"/a/*\"\n\nto = \"//cdn.example/*\"\n",
                "4: key `redirects.to`: a path cannot begin with //",
            ),
        ] {
            let error = with_file(text, &[]).unwrap_err();
            assert!(error.starts_with(expected), "{text:?}: {error}");
        }
    }
}
