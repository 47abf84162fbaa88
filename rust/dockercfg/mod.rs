//! Docker `config.json` / legacy `.dockercfg` files and Kubernetes pull-secret manifests.
//! Spec: docs/kubelet.md §b.1 (formats, `auth` decoding), §d (pull secrets);
//! docs/ecosystem.md §3.1 (`credsStore`, `credHelpers`, `HttpHeaders`).
//!
//! The kubelet reads these files with Go `encoding/json`; this module reproduces what that decoder
//! accepts and rejects, not what a strict JSON-schema reading would:
//!
//! - Member names match case-insensitively the way Go does (ASCII case, plus Go's Unicode simple
//!   folding, under which `ſ` (U+017F) is an `s` and `K` (U+212A KELVIN SIGN) is a `k`).
//! - A member that appears several times: the last one wins (Go assigns in document order). A map
//!   member repeated under two spellings (`auths` and `Auths`) is **merged** into one map, because Go
//!   decodes into the existing map; a later `null` clears it (Go sets the map to nil).
//! - A registry key repeated inside one map: the last value wins; the entry keeps the position of the
//!   first occurrence (file order is otherwise preserved).
//! - `null` where a string is expected leaves the value as it was (Go: no effect); a `null` entry is
//!   an entry with every field empty; a `null` document is an empty config.
//! - The whole text is checked first, as Go's `checkValid` does (JSON grammar, no control characters
//!   in strings, nesting up to 10000): a syntax error anywhere wins over a type or `auth` error.
//! - Unknown members are skipped without looking at their values (any nesting depth, any number).
//! - Invalid UTF-8 in the file (one U+FFFD per bad byte) and lone UTF-16 surrogate escapes
//!   (`\ud800`) become U+FFFD, as Go does, instead of failing the file.
//! - `identitytoken`/`registrytoken` (entries) and `credsStore`/`credHelpers` (config.json) are not
//!   read by the kubelet: we record them when they are strings and ignore them otherwise, so they can
//!   never make a file fail that the kubelet accepts.
//!
//! Error messages name the member and the registry key at fault (URL userinfo in a key redacted),
//! with the line and column (1-based, columns in bytes), never a value from the file.

mod decode;
mod secret;

use crate::credential::{redact_userinfo, AuthEntry, Redacted};
use crate::go::base64::go_base64_decode;
use crate::go::json::{self, go_lossy};
use decode::{run_json, ConfigJsonSeed, DockerCfgSeed, HasAuthsSeed};
use serde::de::DeserializeSeed as _;
use std::borrow::Cow;
use std::fmt;

pub use secret::{parse_secret_dir, parse_secret_manifests, PullSecret};

/// The Secret type whose `.dockerconfigjson` key holds a `config.json` (docs/kubelet.md §d).
pub const SECRET_TYPE_DOCKER_CONFIG_JSON: &str = "kubernetes.io/dockerconfigjson";
/// The Secret type whose `.dockercfg` key holds a legacy `.dockercfg` (docs/kubelet.md §d).
pub const SECRET_TYPE_DOCKERCFG: &str = "kubernetes.io/dockercfg";
/// The data key (and mounted file name) of a `kubernetes.io/dockerconfigjson` Secret.
pub const DOCKER_CONFIG_JSON_KEY: &str = ".dockerconfigjson";
/// The data key (and mounted file name) of a `kubernetes.io/dockercfg` Secret.
pub const DOCKERCFG_KEY: &str = ".dockercfg";

/// The two docker config file formats the kubelet reads (docs/kubelet.md §b.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// `{"auths": {...}, "HttpHeaders": ..., "credsStore": ..., "credHelpers": ...}`
    ConfigJson,
    /// Legacy: the top-level object is the map of registry key -> entry.
    DockerCfg,
}

/// A parsed docker config, entries in file order (docs/kubelet.md §b.1).
///
/// `entries` holds `(raw registry key, entry)`; keys are not normalised here (docs/kubelet.md §c.1 does that
/// when the keyring adds them). `http_headers`, `creds_store` and `cred_helpers` are recorded for
/// `explain` and the gRPC API only: the kubelet parses `HttpHeaders` and ignores it, and ignores
/// `credsStore`/`credHelpers` entirely (no credential-helper support).
///
/// `Debug` never shows passwords, tokens or header values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DockerConfig {
    /// `(raw registry key, entry)` in file order.
    pub entries: Vec<(String, AuthEntry)>,
    /// `HttpHeaders` (config.json only), `(name, value)` in file order.
    pub http_headers: Vec<(String, String)>,
    /// `credsStore` when it is a non-empty string (config.json only; a non-string is ignored, as the
    /// kubelet ignores the member).
    pub creds_store: Option<String>,
    /// `credHelpers` `(registry, helper suffix)` in file order; members whose value is not a string are
    /// skipped (config.json only).
    pub cred_helpers: Vec<(String, String)>,
}

/// An entry as `DockerConfig`'s `Debug` shows it: username and email, secrets redacted.
struct EntryDebug<'a>(&'a AuthEntry);

impl fmt::Debug for EntryDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthEntry")
            .field("username", &self.0.username)
            .field("password", &Redacted(&self.0.password))
            .field("email", &self.0.email)
            .field("identity_token", &Redacted(&self.0.identity_token))
            .field("registry_token", &Redacted(&self.0.registry_token))
            .finish()
    }
}

impl fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<_> = self
            .entries
            .iter()
            .map(|(k, e)| (redact_userinfo(k), EntryDebug(e)))
            .collect();
        let headers: Vec<_> = self.http_headers.iter().map(|(k, v)| (k, Redacted(v))).collect();
        f.debug_struct("DockerConfig")
            .field("entries", &entries)
            .field("http_headers", &headers)
            .field("creds_store", &self.creds_store)
            .field("cred_helpers", &self.cred_helpers)
            .finish()
    }
}

/// What went wrong, coarsely (the message says exactly where).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerConfigErrorKind {
    /// Not JSON, or JSON of the wrong shape/types.
    Json,
    /// An `auth` value that is not base64 of `user:password`.
    Auth,
    /// A Secret manifest that is not a Secret/List, or lacks what its type requires. Also: a manifest
    /// file that is not JSON/YAML, and a `data` value that is not base64. (A docker config carried by a
    /// Secret that fails to parse keeps its own kind, `Json` or `Auth`.)
    Manifest,
}

/// Names the source and the key/field at fault, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfigError {
    /// The class of the failure.
    pub kind: DockerConfigErrorKind,
    /// Human-readable, value-free: names members, registry keys, secrets, lines and columns.
    pub message: String,
}

impl DockerConfigError {
    fn new(kind: DockerConfigErrorKind, message: String) -> Self {
        Self { kind, message }
    }

    fn manifest(message: String) -> Self {
        Self::new(DockerConfigErrorKind::Manifest, message)
    }

    /// The same error with `context: ` put in front of the message.
    fn within(self, context: &str) -> Self {
        Self {
            kind: self.kind,
            message: format!("{context}: {}", self.message),
        }
    }
}

impl fmt::Display for DockerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for DockerConfigError {}

/// Decode a docker config entry's `auth` value into `(username, password)` (docs/kubelet.md §b.1).
///
/// kubelet config.go `decodeDockerConfigFieldAuth`: if `strings.TrimSpace(auth)` ends with `=` the
/// value is decoded as padded standard base64, else as unpadded standard base64 (Go skips `\r`/`\n`
/// but no other whitespace; the URL-safe alphabet is rejected); the decoded text is split at the
/// FIRST `:` (the password may contain `:`, the username may be empty, a trailing newline stays in the
/// password). An empty `auth` is an error here (no `:`); entry parsing only calls this for a
/// non-empty `auth`.
///
/// Decision: decoded bytes that are not UTF-8 are rejected (Go would keep the raw bytes; our strings
/// are UTF-8, and a lossy conversion would silently produce a credential that cannot work).
///
/// Errors are of kind `Auth` and name no value.
pub fn parse_entry_auth(auth: &str) -> Result<(String, String), DockerConfigError> {
    let fail = |what: &str| DockerConfigError::new(DockerConfigErrorKind::Auth, what.to_owned());
    let padded = auth.trim().ends_with('=');
    let decoded = go_base64_decode(auth, padded).map_err(|_| {
        fail(if padded {
            "invalid base64 (padded standard alphabet expected)"
        } else {
            "invalid base64"
        })
    })?;
    let text = String::from_utf8(decoded).map_err(|_| fail("decoded value is not valid UTF-8"))?;
    match text.split_once(':') {
        Some((user, pass)) => Ok((user.to_owned(), pass.to_owned())),
        None => Err(fail("decoded value has no ':' (must be base64 of username:password)")),
    }
}

/// The text of a docker config file as Go's decoder sees it: lossy UTF-8, then the validity check.
/// Go's validity scan ([`go_json_check`](crate::go::json)) with its failure as a `Json` error.
fn go_json_check(text: &str) -> Result<Cow<'_, str>, DockerConfigError> {
    json::go_json_check(text)
        .map_err(|e| DockerConfigError::new(DockerConfigErrorKind::Json, format!("invalid JSON: {e}")))
}

fn checked_text(data: &[u8]) -> Result<String, DockerConfigError> {
    let text = go_lossy(data);
    Ok(go_json_check(&text)?.into_owned())
}

fn parse_checked(text: &str, format: ConfigFormat) -> Result<DockerConfig, DockerConfigError> {
    match format {
        ConfigFormat::ConfigJson => run_json(text, |de, rec| ConfigJsonSeed { rec }.deserialize(de)),
        ConfigFormat::DockerCfg => run_json(text, |de, rec| DockerCfgSeed { rec }.deserialize(de)),
    }
}

/// Parse one docker config file's bytes in the given format (docs/kubelet.md §b.1).
///
/// Go `encoding/json` semantics throughout (see the module docs): the whole text is checked first
/// (a syntax error anywhere is reported as such), then decoded; `auth` decoding per
/// [`parse_entry_auth`]; any error fails the whole file, as in the kubelet.
pub fn parse_docker_config(data: &[u8], format: ConfigFormat) -> Result<DockerConfig, DockerConfigError> {
    parse_checked(&checked_text(data)?, format)
}

/// Parse either format: `config.json` when the top-level object has an `auths` member (any case), else `.dockercfg`.
///
/// (A `.dockercfg` with a registry literally keyed `auths` is therefore read as a `config.json`.)
/// A top level that is not an object is parsed as `.dockercfg`, which reports the error (`null` is
/// an empty config either way).
pub fn parse_docker_config_auto(data: &[u8]) -> Result<DockerConfig, DockerConfigError> {
    let text = checked_text(data)?;
    let seen = std::cell::Cell::new(false);
    // Only `seen` matters: a top level that is not an object leaves it false.
    let _ = run_json(&text, |de, _| HasAuthsSeed { seen: &seen }.deserialize(de));
    let format = if seen.get() {
        ConfigFormat::ConfigJson
    } else {
        ConfigFormat::DockerCfg
    };
    parse_checked(&text, format)
}

#[cfg(test)]
mod tests;
