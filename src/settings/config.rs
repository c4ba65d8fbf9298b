//! Settings: the command line, `NOMSERVE_*` environment variables and a TOML file, merged.
//!
//! Every long flag of [`Args`] is also an environment variable (`NOMSERVE_` and the flag's
//! name in upper snake case: `--cache-control` is `NOMSERVE_CACHE_CONTROL`) and a key of the
//! `--config` file (the name in snake case: `cache_control = "no-cache"`; a repeatable flag
//! takes an array). Precedence: the command line, then the environment, then the file, then
//! the defaults. A value from the file is checked by the same parser as the flag, so the
//! three ways to say a thing accept exactly the same values; a bad one is reported with the
//! file, line and key, and every mistake in the file at once. A relative path in the file
//! (`root`, `tls_cert`, `auth_file`, ...) is read from the file's own folder.
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
mod tables;

use super::cli::{Args, RESTART};
use crate::handlers::auth::Area;
use crate::handlers::files::FieldRule;
use crate::handlers::redirects::RedirectRule;
use crate::handlers::upload::UploadFolder;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use tables::{TABLES, Tables};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The prefix of the environment variables.
const ENV_PREFIX: &str = "NOMSERVE_";

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
    /// The upload folders: `--upload`'s, then the file's `upload` (a folder given by both
    /// is configured by the file's table).
    pub upload: Vec<UploadFolder>,
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
        let fixed = restart_keys();
        let mut changed = self.changed(other);
        changed.retain(|key| fixed.contains(key));
        changed
    }

    /// The keys among those [`Settings::changed`] names that a reload applies: all but the
    /// [`RESTART`] group's, in key order.
    pub fn reloadable(&self, other: &Settings) -> Vec<String> {
        let fixed = restart_keys();
        let mut changed = self.changed(other);
        changed.retain(|key| !fixed.contains(key));
        changed
    }
}

/// The keys of the flags of the [`RESTART`] group.
fn restart_keys() -> BTreeSet<String> {
    let mut definition = command();
    definition.build();
    let ids: Vec<&clap::Id> = definition
        .get_groups()
        .filter(|group| group.get_id() == RESTART)
        .flat_map(|group| group.get_args())
        .collect();
    definition
        .get_arguments()
        .filter(|arg| ids.contains(&arg.get_id()))
        .filter_map(key_of)
        .collect()
}

/// Why the settings cannot be used.
#[derive(Debug)]
pub enum Error {
    /// A mistake on the command line or in the environment, as clap reports it (with usage).
    Usage(clap::Error),
    /// The mistakes in the file, in file order, one message each: where and why.
    File(Vec<String>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(e) => write!(f, "{}", e.render()),
            Error::File(messages) => f.write_str(&messages.join("\n")),
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

/// The folder a config file's relative paths are read from: the file's own, as its path
/// names it (made absolute against the working directory, symlinks left as they are), so
/// that `root = "site"` means the same folder whichever directory the server starts in.
pub fn folder_of(config: &Path) -> PathBuf {
    let absolute = std::path::absolute(config).unwrap_or_else(|_| config.to_path_buf());
    absolute.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Reads the settings from `argv` (the program name first), the environment, and the file
/// that `--config` (or `NOMSERVE_CONFIG`) names. Every mistake in the file is reported at
/// once, in file order, so that one run shows all there is to fix.
pub fn load(argv: &[OsString]) -> Result<Settings, Error> {
    let matches = command().try_get_matches_from(argv).map_err(Error::Usage)?;
    let mut first = Args::from_arg_matches(&matches).map_err(Error::Usage)?;
    let folder_given = first.dir.is_some();
    folder_as_root(&mut first, &matches)?;
    acme_port(&mut first, &matches);
    let Some(path) = first.config.clone() else {
        let upload = first
            .upload
            .iter()
            .map(|path| UploadFolder::at(path))
            .collect();
        return Ok(Settings {
            args: first,
            rules: Vec::new(),
            redirects: Vec::new(),
            auth: Vec::new(),
            upload,
            written: written(&matches, &Tables::default()),
        });
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::File(vec![format!("config file {}: {e}", path.display())]))?;
    let file = File::new(&path, &text);
    let (table, syntax) = DeTable::parse_recoverable(&text);
    if !syntax.is_empty() {
        let mistakes = syntax.iter().map(|e| {
            let line = e.span().map_or(0, |span| file.line(span.start));
            (line, format!("{}:{line}: {}", path.display(), e.message()))
        });
        return Err(file_error(mistakes.collect()));
    }
    let table = table.into_inner();
    let mut extra: Vec<OsString> = Vec::new();
    let mut mistakes = Mistakes::new();
    let mut settings_tables = Tables::default();
    let definition = command();
    let candidates = candidates(&definition);
    for (key, value) in &table {
        let name = key.get_ref().as_ref();
        let at = file.line(key.span().start);
        if TABLES.contains(&name) {
            settings_tables.read(&file, name, value, at, &mut mistakes);
            continue;
        }
        let (flag, value) = file_key(name, value);
        let Some(arg) = definition
            .get_arguments()
            .find(|arg| key_of(arg).as_deref() == Some(flag))
        else {
            let reason = unknown(name, candidates.iter().map(|(k, t)| (k.as_str(), *t)));
            mistakes.push(file.error(at, name, &reason));
            continue;
        };
        if flag == "config" || flag == "check_config" {
            mistakes.push(file.error(at, name, "a command-line option, not a setting"));
            continue;
        }
        let flags = match flags_for(arg, value, &file.folder) {
            Ok(flags) => flags,
            Err(why) => {
                mistakes.push(file.error(at, name, &why));
                continue;
            }
        };
        let root_given = flag == "root" && folder_given;
        if from_default(&matches, arg.get_id().as_str()) && !root_given {
            if let Some(reason) = flags.get(1).and_then(|value| missing(flag, value)) {
                mistakes.push(file.error(at, name, &reason));
            }
            extra.extend(flags);
        }
    }
    if !mistakes.is_empty() {
        return Err(file_error(mistakes));
    }
    let mut merged: Vec<OsString> = argv.to_vec();
    merged.extend(extra);
    let matches = command().try_get_matches_from(&merged).map_err(|e| {
        let rendered = e.render().to_string();
        let reason = rendered.split("\n\n").next().unwrap_or_default();
        let reason = reason.trim_start_matches("error: ");
        Error::File(vec![format!("{}: {reason}", path.display())])
    })?;
    let mut args = Args::from_arg_matches(&matches).map_err(Error::Usage)?;
    folder_as_root(&mut args, &matches)?;
    acme_port(&mut args, &matches);
    let written = written(&matches, &settings_tables);
    let mut upload: Vec<UploadFolder> = args
        .upload
        .iter()
        .filter(|path| !settings_tables.upload.iter().any(|f| &f.path == *path))
        .map(|path| UploadFolder::at(path))
        .collect();
    upload.extend(settings_tables.upload);
    Ok(Settings {
        args,
        rules: settings_tables.rules,
        redirects: settings_tables.redirects,
        auth: settings_tables.auth,
        upload,
        written,
    })
}

/// The mistakes found in a file, each with its line.
type Mistakes = Vec<(usize, String)>;

/// The error of `mistakes`, in file order (those of one line in the order found).
fn file_error(mut mistakes: Mistakes) -> Error {
    mistakes.sort_by_key(|(line, _)| *line);
    Error::File(mistakes.into_iter().map(|(_, message)| message).collect())
}

/// The keys a file may hold, each with whether it is an array of tables: the long flags
/// that are settings, `echo`, and the tables.
fn candidates(definition: &Command) -> Vec<(String, bool)> {
    let flags = definition
        .get_arguments()
        .filter_map(key_of)
        .filter(|key| key != "config" && key != "check_config");
    let keys = flags.chain(["echo".to_string()]).map(|key| (key, false));
    keys.chain(TABLES.iter().map(|table| (table.to_string(), true)))
        .collect()
}

/// "unknown key", with the candidate nearest `name` when one is near: by the measure
/// clap's own suggestions for a mistyped flag use (Jaro similarity above 0.7), so the file
/// and the command line suggest alike. A candidate marked as an array of tables is
/// suggested as `[[name]]`.
fn unknown<'a>(name: &str, candidates: impl Iterator<Item = (&'a str, bool)>) -> String {
    let nearest = candidates
        .map(|(key, table)| (strsim::jaro(name, key), key, table))
        .filter(|(similarity, _, _)| *similarity > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match nearest {
        Some((_, key, true)) => format!("unknown key; did you mean `[[{key}]]`?"),
        Some((_, key, false)) => format!("unknown key; did you mean `{key}`?"),
        None => "unknown key".to_string(),
    }
}

/// The value of a path-valued key as the server will read it: a relative path is joined to
/// `folder`, the config file's. Those are `root`, `tls_cert`, `tls_key`, `auth_file`, a
/// file `access_log` and a `unix:PATH` `bind`; the files `fallback` and `error_page` name
/// are beneath the root, and follow it.
fn from_folder(folder: &Path, key: &str, text: &str) -> OsString {
    let (prefix, path) = match key {
        "root" | "tls_cert" | "tls_key" | "auth_file" | "acme_state" | "acme_ca_root" => ("", text),
        "access_log" if text != "-" && text != "off" => ("", text),
        "bind" => match text.strip_prefix("unix:") {
            Some(path) => ("unix:", path),
            None => return text.into(),
        },
        _ => return text.into(),
    };
    if path.is_empty() || Path::new(path).is_absolute() {
        return text.into();
    }
    let mut value = OsString::from(prefix);
    value.push(folder.join(path));
    value
}

/// Why the path `value` of `key` cannot be used, when it names nothing: the folder to
/// serve, the TLS pair and the password files are read before the server listens, so their
/// absence is reported with the key that named them.
fn missing(key: &str, value: &OsStr) -> Option<String> {
    let path = Path::new(value);
    let found = std::fs::metadata(path);
    let absent = matches!(&found, Err(e) if e.kind() == std::io::ErrorKind::NotFound);
    match key {
        "root" if absent => Some(format!("no such directory {}", path.display())),
        "root" if found.is_ok_and(|meta| !meta.is_dir()) => {
            Some(format!("{} is not a directory", path.display()))
        }
        "tls_cert" | "tls_key" | "auth_file" if absent => {
            Some(format!("no such file {}", path.display()))
        }
        _ => None,
    }
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
    let upload: Vec<String> = tables.upload.iter().map(|f| format!("{f:?}")).collect();
    for (key, entries) in [
        ("rules", rules),
        ("redirects", redirects),
        ("auth", auth),
        ("upload", upload),
    ] {
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

/// With `--acme` and no `--port`, HTTPS listens on 443, the port of `https` URLs (RFC 9110
/// §4.2.2), which the CA's tls-alpn-01 validation connects to (RFC 8737 §3).
fn acme_port(args: &mut Args, matches: &ArgMatches) {
    if !args.acme.domains.is_empty() && from_default(matches, "port") {
        args.port = 443;
    }
}

/// The key of the flag a file key stands for, and its value: the key itself, except `echo`,
/// which says `no_echo` the other way round (`echo = false` is `--no-echo`).
fn file_key<'a, 'i>(name: &'a str, value: &'a Spanned<DeValue<'i>>) -> (&'a str, KeyValue<'a, 'i>) {
    match (name, value.get_ref()) {
        ("echo", DeValue::Boolean(on)) => ("no_echo", KeyValue::Bool(!on)),
        ("echo", _) => ("no_echo", KeyValue::NotBool),
        ("http2", DeValue::Boolean(on)) => {
            ("http2", KeyValue::Word(if *on { "on" } else { "off" }))
        }
        ("http3", DeValue::Boolean(on)) => {
            ("http3", KeyValue::Word(if *on { "on" } else { "off" }))
        }
        _ => (name, KeyValue::Toml(value.get_ref())),
    }
}

/// A file key's value, as [`flags_for`] reads it.
enum KeyValue<'a, 'i> {
    Toml(&'a DeValue<'i>),
    Bool(bool),
    NotBool,
    /// A boolean written as the flag's word (`http2 = false` is `--http2 off`).
    Word(&'static str),
}

/// The command-line words that say `value` for `arg`, each value checked by the flag's own
/// parser. A switch takes a boolean (`true` is the flag, `false` nothing); a repeatable flag
/// an array of values or one value; any other flag one value. A value is a string, or an
/// integer written as its digits.
fn flags_for(arg: &Arg, value: KeyValue<'_, '_>, folder: &Path) -> Result<Vec<OsString>, String> {
    let long = format!("--{}", arg.get_long().unwrap_or_default());
    let key = key_of(arg).unwrap_or_default();
    let switch = matches!(arg.get_action(), ArgAction::SetTrue);
    let repeatable = matches!(arg.get_action(), ArgAction::Append);
    let value = match value {
        KeyValue::Bool(on) => return Ok(if on { vec![long.into()] } else { Vec::new() }),
        KeyValue::NotBool => return Err("expected true or false".to_string()),
        KeyValue::Word(word) => return Ok(vec![long.into(), word.into()]),
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
        flags.push(from_folder(folder, &key, &text));
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

/// The file being read, for line numbers, messages and the folder of its relative paths.
struct File<'a> {
    path: &'a Path,
    /// The folder relative paths in the file are read from (see [`folder_of`]).
    folder: PathBuf,
    /// The offset of each `\n`, in order.
    newlines: Vec<usize>,
}

impl<'a> File<'a> {
    fn new(path: &'a Path, text: &str) -> File<'a> {
        let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).collect();
        File {
            path,
            folder: folder_of(path),
            newlines,
        }
    }

    /// The line (from 1) of byte `offset`: one more than the newlines before it, found by
    /// bisection, so that a file of many tables is read in time proportional to its size.
    fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&at| at < offset) + 1
    }

    /// The mistake at `line`: `FILE:LINE: key `KEY`: REASON`.
    fn error(&self, line: usize, key: &str, reason: &str) -> (usize, String) {
        let path = self.path.display();
        (line, format!("{path}:{line}: key `{key}`: {reason}"))
    }
}

#[cfg(test)]
mod tests;
