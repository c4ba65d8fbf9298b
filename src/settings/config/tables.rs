//! The file's arrays of tables: `[[rules]]`, `[[redirects]]`, `[[auth]]` and `[[upload]]`,
//! each read into the type of the part it configures. Every mistake in them is noted, not
//! only the first. `upload` is also the key of `--upload`: a string in its array is a
//! folder with the defaults, as the flag gives it.

use super::{File, Mistakes, kind, missing, unknown};
use crate::handlers::auth::Area;
use crate::handlers::files::FieldRule;
use crate::handlers::redirects::RedirectRule;
use crate::handlers::upload::UploadFolder;
use crate::settings::cli::{parse_header, parse_size};
use globset::{Glob, GlobBuilder};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The file's tables that are not flags.
pub(super) const TABLES: [&str; 4] = ["rules", "redirects", "auth", "upload"];

/// A mistake in a table: its line and the message, `FILE:LINE: key `K`: REASON`.
type Found<T> = Result<T, (usize, String)>;

/// The tables read so far.
#[derive(Default)]
pub(super) struct Tables {
    pub(super) rules: Vec<FieldRule>,
    pub(super) redirects: Vec<RedirectRule>,
    pub(super) auth: Vec<Area>,
    pub(super) upload: Vec<UploadFolder>,
}

impl Tables {
    /// Reads the array of tables `name` (`[[name]]`), at line `at`, noting each mistake.
    pub(super) fn read(
        &mut self,
        file: &File<'_>,
        name: &str,
        value: &Spanned<DeValue<'_>>,
        at: usize,
        mistakes: &mut Mistakes,
    ) {
        let DeValue::Array(items) = value.get_ref() else {
            let reason = format!("expected tables: write [[{name}]]");
            mistakes.push(file.error(at, name, &reason));
            return;
        };
        for item in items.iter() {
            let at = file.line(item.span().start);
            if let (DeValue::String(path), "upload") = (item.get_ref(), name) {
                self.upload.push(UploadFolder::at(path));
                continue;
            }
            let DeValue::Table(table) = item.get_ref() else {
                mistakes.push(file.error(at, name, "expected a table"));
                continue;
            };
            let fields = Fields {
                file,
                table,
                section: name,
                at,
            };
            match name {
                "rules" => self.rules.extend(fields.rule(mistakes)),
                "redirects" => self.redirects.extend(fields.redirect(mistakes)),
                "upload" => self.upload.extend(fields.upload(mistakes)),
                _ => self.auth.extend(fields.auth(mistakes)),
            }
        }
    }
}

/// Keeps the value of `found`, or notes its mistake.
fn keep<T>(mistakes: &mut Mistakes, found: Found<T>) -> Option<T> {
    found.map_err(|mistake| mistakes.push(mistake)).ok()
}

/// The keys of one table of `[[rules]]`, `[[redirects]]` or `[[auth]]`.
struct Fields<'a, 'i> {
    file: &'a File<'a>,
    table: &'a DeTable<'i>,
    section: &'a str,
    at: usize,
}

impl Fields<'_, '_> {
    fn error(&self, key: &str, line: usize, reason: &str) -> (usize, String) {
        self.file
            .error(line, &format!("{}.{key}", self.section), reason)
    }

    /// Notes every key but `allowed`, with the allowed key it is nearest, if one is near.
    fn only(&self, allowed: &[&str], mistakes: &mut Mistakes) {
        for (key, _) in self.table.iter() {
            let name = key.get_ref().as_ref();
            if !allowed.contains(&name) {
                let line = self.file.line(key.span().start);
                let reason = unknown(name, allowed.iter().map(|key| (*key, false)));
                mistakes.push(self.error(name, line, &reason));
            }
        }
    }

    /// The value of `key` and its line, if present.
    fn get(&self, key: &str) -> Option<(&DeValue<'_>, usize)> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| (v.get_ref(), self.file.line(v.span().start)))
    }

    /// The string `key`, which must be present.
    fn string(&self, key: &str) -> Found<(String, usize)> {
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
    fn pattern(&self, key: &str) -> Found<(String, Glob)> {
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

    fn rule(&self, mistakes: &mut Mistakes) -> Option<FieldRule> {
        self.only(&["path", "headers"], mistakes);
        let pattern = keep(mistakes, self.pattern("path"));
        let fields = self.headers(mistakes);
        let ((path, glob), fields) = (pattern?, fields?);
        Some(FieldRule { path, glob, fields })
    }

    /// The table `headers`, each field checked by the parser of `--header`, so that a
    /// rule's fields are what the flag accepts.
    fn headers(&self, mistakes: &mut Mistakes) -> Option<Vec<(String, String)>> {
        let table = match self.get("headers") {
            Some((DeValue::Table(table), _)) => table,
            Some((_, line)) => {
                mistakes.push(self.error("headers", line, "expected a table of fields"));
                return None;
            }
            None => {
                mistakes.push(self.error("headers", self.at, "missing"));
                return None;
            }
        };
        let mut fields = Vec::new();
        let mut valid = true;
        for (name, value) in table.iter() {
            let line = self.file.line(name.span().start);
            let DeValue::String(value) = value.get_ref() else {
                mistakes.push(self.error("headers", line, "a field value is a string"));
                valid = false;
                continue;
            };
            let field = format!("{}: {value}", name.get_ref());
            match parse_header(&field) {
                Ok(field) => fields.push(field),
                Err(why) => {
                    let reason = format!("invalid value {field:?}: {why}");
                    mistakes.push(self.error("headers", line, &reason));
                    valid = false;
                }
            }
        }
        valid.then_some(fields)
    }

    fn redirect(&self, mistakes: &mut Mistakes) -> Option<RedirectRule> {
        self.only(&["from", "to", "status"], mistakes);
        let from = keep(mistakes, self.from());
        let to = keep(mistakes, self.string("to"));
        let status = keep(mistakes, self.status());
        let (from, (to, line)) = (from?, to?);
        let checked = super::redirect::check_to(&from, &to);
        keep(mistakes, checked.map_err(|why| self.error("to", line, why)))?;
        Some(RedirectRule {
            from,
            to,
            status: status?,
        })
    }

    /// A redirect's `from`: a path, with at most one `*`, at its end.
    fn from(&self) -> Found<String> {
        let (from, line) = self.string("from")?;
        if !from.starts_with('/') || from[..from.len().saturating_sub(1)].contains('*') {
            return Err(self.error(
                "from",
                line,
                "a path starting with /, with at most one * at its end",
            ));
        }
        Ok(from)
    }

    /// An `[[upload]]` folder: `path`, and the optional `max_size` (bytes, or a size such
    /// as `"10MiB"`), `overwrite` (default false) and `mkdir` (default true).
    fn upload(&self, mistakes: &mut Mistakes) -> Option<UploadFolder> {
        self.only(&["path", "max_size", "overwrite", "mkdir"], mistakes);
        let path = keep(mistakes, self.string("path"));
        let max_size = match self.get("max_size") {
            None => Some(None),
            Some((DeValue::Integer(n), line)) => {
                let size = n.as_str().parse::<u64>().map_err(|_| {
                    self.error(
                        "max_size",
                        line,
                        "expected a size in bytes, or such as \"10MiB\"",
                    )
                });
                keep(mistakes, size).map(Some)
            }
            Some((DeValue::String(text), line)) => {
                let size = parse_size(text).map_err(|why| self.error("max_size", line, &why));
                keep(mistakes, size).map(Some)
            }
            Some((other, line)) => {
                let why = format!("expected a size, found {}", kind(other));
                mistakes.push(self.error("max_size", line, &why));
                None
            }
        };
        let overwrite = keep(mistakes, self.flag("overwrite", false));
        let mkdir = keep(mistakes, self.flag("mkdir", true));
        let (path, _) = path?;
        if !path.starts_with('/') {
            mistakes.push(self.error("path", self.at, "a folder path starts with /"));
            return None;
        }
        Some(UploadFolder {
            path,
            max_size: max_size?,
            overwrite: overwrite?,
            mkdir: mkdir?,
        })
    }

    /// The boolean `key`, `default` when absent.
    fn flag(&self, key: &str, default: bool) -> Found<bool> {
        match self.get(key) {
            None => Ok(default),
            Some((DeValue::Boolean(on), _)) => Ok(*on),
            Some((other, line)) => Err(self.error(
                key,
                line,
                &format!("expected true or false, found {}", kind(other)),
            )),
        }
    }

    /// A redirect's `status`: 301 unless it says 302, 307 or 308.
    fn status(&self) -> Found<u16> {
        match self.get("status") {
            None => Ok(301),
            Some((DeValue::Integer(n), line)) => n
                .as_str()
                .parse::<u16>()
                .ok()
                .filter(|s| [301, 302, 307, 308].contains(s))
                .ok_or_else(|| self.error("status", line, "301, 302, 307 or 308")),
            Some((other, line)) => Err(self.error(
                "status",
                line,
                &format!("expected 301, 302, 307 or 308, found {}", kind(other)),
            )),
        }
    }

    /// An `[[auth]]` area; its `file`, when relative, is read from the config file's folder.
    fn auth(&self, mistakes: &mut Mistakes) -> Option<Area> {
        self.only(&["path", "file", "realm"], mistakes);
        let glob = keep(mistakes, self.pattern("path"));
        let file = keep(mistakes, self.string("file")).and_then(|(file, line)| {
            let file = self.file.folder.join(file);
            match missing("auth_file", file.as_os_str()) {
                Some(reason) => {
                    mistakes.push(self.error("file", line, &reason));
                    None
                }
                None => Some(file),
            }
        });
        let realm = keep(mistakes, self.realm());
        let ((path, glob), file, realm) = (glob?, file?, realm?);
        Some(Area {
            path,
            glob: glob.compile_matcher(),
            file,
            realm,
        })
    }

    /// An area's `realm`, `nomserve` unless it says otherwise.
    fn realm(&self) -> Found<String> {
        let (realm, line) = match self.get("realm") {
            Some(_) => self.string("realm")?,
            None => return Ok("nomserve".to_string()),
        };
        if realm
            .bytes()
            .any(|b| b == b'"' || b == b'\\' || !(b == b' ' || b.is_ascii_graphic()))
        {
            return Err(self.error("realm", line, "visible ASCII and spaces, without \" or \\"));
        }
        Ok(realm)
    }
}
