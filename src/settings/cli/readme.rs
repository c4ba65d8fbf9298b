//! The README's flag table and configuration reference agree with the flags defined here.
//!
//! The table between the `BEGIN FLAGS` and `END FLAGS` markers is rendered from the clap
//! definition; `UPDATE_README=1 cargo test --bin nomserve readme` writes it afresh. The
//! reference (the `toml` block after `<!-- config reference -->`) must name every key, and
//! each key it sets must be set to the flag's default: what changes behaviour stays
//! commented out.

use super::Args;
use clap::{Arg, ArgAction, CommandFactory};
use std::path::PathBuf;

const BEGIN: &str = "<!-- BEGIN FLAGS: generated from src/settings/cli.rs by \
                     `UPDATE_README=1 cargo test --bin nomserve readme` -->\n";
const END: &str = "<!-- END FLAGS -->\n";

fn readme_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md")
}

/// The `[default: ...]` a flag without a clap default states in its help, if any.
fn stated_default(help: &str) -> Option<&str> {
    let start = help.find("[default: ")? + "[default: ".len();
    let end = start + help[start..].find(']')?;
    Some(&help[start..end])
}

/// One row of the table: the flag as typed, its default, its whole help on one line.
fn row(arg: &Arg) -> String {
    let values = arg.get_value_names().unwrap_or_default();
    let value = values
        .iter()
        .map(|name| format!(" <{name}>"))
        .collect::<String>();
    let flag = if arg.is_positional() {
        format!("`[{}]`", values.first().map_or("", |name| name.as_str()))
    } else {
        let mut names = Vec::new();
        if let Some(short) = arg.get_short() {
            names.push(format!("`-{short}`"));
        }
        if let Some(long) = arg.get_long() {
            let value = if arg.get_action().takes_values() {
                value.as_str()
            } else {
                ""
            };
            names.push(format!("`--{long}{value}`"));
        }
        names.join(", ")
    };
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|help| help.to_string())
        .unwrap_or_default();
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|value| value.to_string_lossy().into_owned())
        .collect();
    let default = match arg.get_action() {
        ArgAction::SetTrue => "off".to_string(),
        _ if !defaults.is_empty() => format!("`{}`", defaults.join(",")),
        _ => stated_default(&help).unwrap_or_default().to_string(),
    };
    let mut meaning = help.clone();
    if let Some(stated) = stated_default(&help) {
        meaning = meaning.replace(&format!(" [default: {stated}]"), "");
    }
    let meaning = meaning
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|");
    format!("| {flag} | {default} | {meaning} |\n")
}

/// The table as the README holds it: one per heading, in the order `--help` shows them
/// (clap's own flags first, under Options; within a heading, the folder argument last).
fn table() -> String {
    let mut command = Args::command();
    command.build();
    let mut headings: Vec<Option<&str>> = vec![None];
    for arg in command.get_arguments() {
        if !headings.contains(&arg.get_help_heading()) {
            headings.push(arg.get_help_heading());
        }
    }
    let mut text = String::new();
    for heading in headings {
        text.push_str(&format!("**{}**\n\n", heading.unwrap_or("Options")));
        text.push_str("| Flag | Default | Meaning |\n| --- | --- | --- |\n");
        let mut args: Vec<&Arg> = command
            .get_arguments()
            .filter(|arg| arg.get_help_heading() == heading)
            .collect();
        args.sort_by_key(|arg| arg.is_positional());
        for arg in args {
            text.push_str(&row(arg));
        }
        text.push('\n');
    }
    text.pop();
    text
}

#[test]
fn the_readme_flag_table_is_the_definition() {
    let path = readme_path();
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme.find(BEGIN).expect("the BEGIN FLAGS marker") + BEGIN.len();
    let end = start + readme[start..].find(END).expect("the END FLAGS marker");
    let table = table();
    if readme[start..end] == table {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{table}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "README.md's flag table differs from the flags; \
         `UPDATE_README=1 cargo test --bin nomserve readme` rewrites it"
    );
}

/// A TOML value as clap's defaults write it: arrays comma-separated.
fn as_flag_value(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Array(items) => items
            .iter()
            .map(as_flag_value)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

#[test]
fn the_readme_configuration_reference_holds_the_defaults() {
    let readme = std::fs::read_to_string(readme_path()).unwrap();
    let marker = readme
        .find("<!-- config reference -->")
        .expect("the config reference marker");
    let block = &readme[marker..];
    let start = block.find("```toml\n").unwrap() + "```toml\n".len();
    let block = &block[start..start + block[start..].find("```").unwrap()];
    let mut command = Args::command();
    command.build();
    let mut named = Vec::new();
    for line in block.lines() {
        let (commented, text) = match line.strip_prefix("# ") {
            Some(text) => (true, text),
            None => (false, line),
        };
        if text.starts_with("[[") {
            break;
        }
        let Ok(table) = text.parse::<toml::Table>() else {
            assert!(commented || line.is_empty(), "not TOML: {line}");
            continue;
        };
        let Some((key, value)) = table.into_iter().next() else {
            continue;
        };
        let (flag, value) = match (key.as_str(), &value) {
            ("echo", toml::Value::Boolean(on)) => ("no-echo".to_string(), (!on).to_string()),
            _ => (key.replace('_', "-"), as_flag_value(&value)),
        };
        let arg = command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(flag.as_str()))
            .unwrap_or_else(|| panic!("{key} is no flag's key"));
        let default: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|value| value.to_string_lossy().into_owned())
            .collect();
        let default = default.join(",");
        if commented {
            assert_ne!(value, default, "{line}: the default, commented out");
        } else {
            assert_eq!(value, default, "{line}: not the default");
        }
        named.push(flag);
    }
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else {
            continue;
        };
        if !["config", "check-config", "help", "version"].contains(&long) {
            let named = named.iter().any(|flag| flag == long);
            assert!(named, "the reference leaves out --{long}");
        }
    }
}
