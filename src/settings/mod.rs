//! The settings, and what they are assembled into: the top of the server, under `main`.
//!
//! [`cli`] defines the flags; [`config`] reads them from the command line, the environment
//! and a TOML file into [`Settings`], each `[[table]]` already in the type of the part it
//! configures. [`assemble`] turns the settings into what the server runs: the handler stack
//! and the server's [`Config`]. No part below reads the settings: each takes its own options,
//! so a new flag touches its definition in [`cli`] and the part that uses it (and, for a part
//! this module builds, the line that passes it on).
//!
//! Which settings take a restart is said where each flag is defined: the flags of the
//! [`cli::RESTART`] group (where and how the server listens, its workers, limits and
//! timeouts, TLS, the log). A reload assembles a new handler stack and keeps the rest.

pub mod cli;
pub mod config;

#[cfg(test)]
mod tests;

use crate::conn::Timeouts;
use crate::conn::client::TrustedProxies;
use crate::handlers::auth::Auth;
use crate::handlers::cors::Cors;
use crate::handlers::files::{CacheLimits, ErrorPages, FieldRules, FileOptions, StaticFiles};
use crate::handlers::https::Hsts;
use crate::handlers::redirects::Redirects;
use crate::handlers::upload::{UploadOptions, Uploads};
use crate::handlers::{Handler, Router};
use crate::server::Config;
pub use config::Settings;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the settings make: the server's configuration and the handler stack.
pub struct Assembly {
    /// The server's configuration, fixed while it runs.
    pub config: Config,
    /// The handler of every request.
    pub handler: Arc<dyn Handler>,
}

/// Assembles `settings`, serving `root` (see [`document_root`]). The error says which
/// setting cannot be used, and why.
pub fn assemble(settings: &Settings, root: &Path) -> Result<Assembly, String> {
    Ok(Assembly {
        config: server_config(&settings.args),
        handler: handler_stack(settings, root)?,
    })
}

/// The server's configuration: its workers, limits, timeouts and trusted proxies.
fn server_config(args: &cli::Args) -> Config {
    Config {
        threads: args.worker_threads(),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        max_connections_per_ip: args
            .max_connections_per_ip
            .map(|cap| usize::try_from(cap).unwrap_or(usize::MAX)),
        ipv6_prefix: args.ipv6_prefix,
        timeouts: Timeouts {
            header: args.header_timeout,
            keep_alive: args.keep_alive_timeout,
            send: args.send_timeout,
            min_send_rate: args.min_send_rate,
        },
        trusted: TrustedProxies::new(args.trusted_proxy.clone()),
        proxy_protocol: args.proxy_protocol,
        shutdown_timeout: args.shutdown_timeout,
        recorded: true,
        http2: args.http2.0,
        http3: args.http3.map(|on| on.0),
    }
}

/// The handler the settings describe, serving `root`. From the outside in: HSTS (on every
/// answer), CORS (preflights answered before anything else, so before any authentication),
/// the redirects, the error pages (over every error the handlers inside give, a `401`
/// among them), the authentication, then the router. CORS, redirects and error pages are
/// there only when configured.
fn handler_stack(settings: &Settings, root: &Path) -> Result<Arc<dyn Handler>, String> {
    let args = &settings.args;
    let fields = FieldRules::new(&args.cache_control, &args.headers, &settings.rules)?;
    // Archives and READMEs come with listings: said rather than refused, as the flags may
    // come from different sources (a file that turns listings off for a while).
    if !args.list_dirs && (!args.archives.is_empty() || args.readme) {
        log::warn!("--archives and --readme apply to listings, which are off (--list-dirs)");
    }
    let files = StaticFiles::new(FileOptions {
        root: root.to_path_buf(),
        dotfiles: args.dotfiles,
        list_dirs: args.list_dirs,
        index: args.index.clone(),
        clean_urls: args.clean_urls,
        fallback: args.fallback.clone(),
        fields,
        cache: CacheLimits {
            entries: args.file_cache_entries,
            bytes: args.file_cache_size,
            max_file: args.file_cache_max_file,
        },
        compress: args.compress.0,
        compress_cache: args.compress_cache,
        archives: args.archives.clone(),
        readme: args.readme,
    })
    .map_err(|e| format!("document root {}: {e}", root.display()))?;
    files.check_fallback()?;
    let mut router = Router::new(files).with_echo(!args.no_echo);
    if !settings.upload.is_empty() {
        router = router.with_uploads(uploads(settings, root)?);
    }
    let site = Auth::new(router, &settings.auth, args.auth_file.as_deref())?;
    let mut handler: Box<dyn Handler> = Box::new(site);
    if !args.error_page.is_empty() {
        let pages = args.error_page.clone();
        handler = Box::new(ErrorPages::new(handler, root, args.dotfiles, pages)?);
    }
    if !settings.redirects.is_empty() {
        handler = Box::new(Redirects::new(handler, settings.redirects.clone()));
    }
    if !args.cors.is_empty() {
        handler = Box::new(Cors::new(handler, args.cors.clone()));
    }
    Ok(match args.hsts {
        Some(max_age) => Arc::new(Hsts::new(handler, max_age)),
        None => Arc::from(handler),
    })
}

/// The upload folders of `settings`, beneath `root`. Each must be covered by an auth area
/// (`--auth-file` covers all; an `[[auth]]` glob must match the folder's path, `/inbox/`)
/// unless `--upload-anonymous`.
fn uploads(settings: &Settings, root: &Path) -> Result<Uploads, String> {
    let args = &settings.args;
    let options = UploadOptions {
        folders: settings.upload.clone(),
        max_size: args.upload_max_size,
        anonymous: args.upload_anonymous,
        dotfiles: args.dotfiles,
    };
    let protected = |folder: &str| {
        args.auth_file.is_some() || settings.auth.iter().any(|area| area.glob.is_match(folder))
    };
    Uploads::new(root, &options, &protected)
}

/// The absolute path of the document root `root`, checked to be a directory the server can
/// list; the error says what is wrong.
pub fn document_root(root: &Path) -> Result<PathBuf, String> {
    let absolute = fs::canonicalize(root).map_err(|e| {
        let named = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "no such directory {}; pass the folder to serve: nomserve DIR",
                named.display()
            ),
            _ => format!("document root {}: {e}", named.display()),
        }
    })?;
    if !absolute.is_dir() {
        return Err(format!(
            "document root {} is not a directory",
            root.display()
        ));
    }
    fs::read_dir(&absolute)
        .map_err(|e| format!("document root {} cannot be read: {e}", root.display()))?;
    Ok(absolute)
}
