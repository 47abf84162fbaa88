//! Docker `config.json` / legacy `.dockercfg` files and Kubernetes pull-secret manifests.
//! Spec: ../shared/spec/kubelet.md §b.1 (formats, `auth` decoding), §d (pull secrets);
//! ../shared/spec/peers.md §3.1 (`credsStore`, `credHelpers`, `HttpHeaders`).
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
//! - Unknown members are skipped without looking at their values (any nesting depth, any number).
//! - Invalid UTF-8 in the file and lone UTF-16 surrogate escapes (`\ud800`) in the strings the kubelet
//!   reads become U+FFFD, as Go does, instead of failing the file.
//!
//! Error messages name the member and the registry key at fault, with the line and column, never a
//! value from the file (values may be secrets).

use crate::keyring::AuthEntry;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

/// The Secret type whose `.dockerconfigjson` key holds a `config.json` (kubelet.md §d).
pub const SECRET_TYPE_DOCKER_CONFIG_JSON: &str = "kubernetes.io/dockerconfigjson";
/// The Secret type whose `.dockercfg` key holds a legacy `.dockercfg` (kubelet.md §d).
pub const SECRET_TYPE_DOCKERCFG: &str = "kubernetes.io/dockercfg";
/// The data key (and mounted file name) of a `kubernetes.io/dockerconfigjson` Secret.
pub const DOCKER_CONFIG_JSON_KEY: &str = ".dockerconfigjson";
/// The data key (and mounted file name) of a `kubernetes.io/dockercfg` Secret.
pub const DOCKERCFG_KEY: &str = ".dockercfg";

/// The two docker config file formats the kubelet reads (kubelet.md §b.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// `{"auths": {...}, "HttpHeaders": ..., "credsStore": ..., "credHelpers": ...}`
    ConfigJson,
    /// Legacy: the top-level object is the map of registry key -> entry.
    DockerCfg,
}

/// A parsed docker config, entries in file order (kubelet.md §b.1).
///
/// `entries` holds `(raw registry key, entry)`; keys are not normalised here (kubelet.md §c.1 does that
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

/// Formats a secret-bearing value as `<redacted>` (or `""` when empty, which reveals nothing).
struct Redacted<'a>(&'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str("<redacted>")
        }
    }
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
        let entries: Vec<_> = self.entries.iter().map(|(k, e)| (k, EntryDebug(e))).collect();
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

// ------------------------------------------------------------------------------------------------
// Go-compatible text and base64 helpers

/// Replaces what Go's JSON decoder would replace with U+FFFD.
///
/// Invalid UTF-8: one U+FFFD per offending byte (Go decodes rune by rune and skips one byte per
/// error). With `surrogates`, a WTF-8 encoded surrogate (`ED A0..BF 80..BF`, which `serde_json`
/// produces for a lone `\uD8xx` escape when reading bytes) becomes a single U+FFFD, as Go turns a lone
/// surrogate escape into one U+FFFD.
fn go_lossy(bytes: &[u8], surrogates: bool) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return Cow::Owned(out);
            }
            Err(e) => {
                let (valid, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push('\u{FFFD}');
                let skip = match bad {
                    [0xED, 0xA0..=0xBF, 0x80..=0xBF, ..] if surrogates => 3,
                    _ => 1,
                };
                rest = bad.get(skip..).unwrap_or_default();
            }
        }
    }
}

/// Go `base64.StdEncoding` (`padded`) / `base64.RawStdEncoding` decoding: standard alphabet only,
/// `\r` and `\n` skipped anywhere, padding strictly required (padded) or forbidden (raw), non-zero
/// trailing bits accepted (Go's default, non-`Strict` decoder).
fn go_base64_decode(input: &str, padded: bool) -> Result<Vec<u8>, base64::DecodeError> {
    const PADDED: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    const RAW: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );
    let engine = if padded { &PADDED } else { &RAW };
    if input.contains(['\r', '\n']) {
        let cleaned: String = input.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
        engine.decode(cleaned)
    } else {
        engine.decode(input)
    }
}

/// Decode a docker config entry's `auth` value into `(username, password)` (kubelet.md §b.1).
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

/// Go `encoding/json` field-name matching for our (lowercase ASCII) field names: ASCII
/// case-insensitive, plus the two non-ASCII runes whose simple case folding reaches an ASCII letter.
fn go_fold_eq(key: &str, lower_name: &str) -> bool {
    let mut key_chars = key.chars();
    for want in lower_name.chars() {
        let folded = match key_chars.next() {
            Some('\u{17F}') => 's',  // LATIN SMALL LETTER LONG S folds with s/S
            Some('\u{212A}') => 'k', // KELVIN SIGN folds with k/K
            Some(c) => c.to_ascii_lowercase(),
            None => return false,
        };
        if folded != want {
            return false;
        }
    }
    key_chars.next().is_none()
}

// ------------------------------------------------------------------------------------------------
// Streaming decoding with Go encoding/json semantics
//
// Errors: a problem we detect is recorded (value-free, with its kind) in a `Recorder` before an opaque
// serde error aborts the parse; the serde error then only contributes its position. serde's own
// "invalid type" messages quote the offending value, so they are never shown.

/// The first shape/auth problem found, recorded before the parse is aborted.
#[derive(Default)]
struct Recorder {
    problem: RefCell<Option<(DockerConfigErrorKind, String)>>,
}

impl Recorder {
    /// Record a problem unless an inner one was recorded first (inner problems are more precise).
    fn note(&self, kind: DockerConfigErrorKind, message: impl FnOnce() -> String) {
        let mut slot = self.problem.borrow_mut();
        if slot.is_none() {
            *slot = Some((kind, message()));
        }
    }

    /// Record a problem and abort the parse with an opaque error.
    fn fail<E: de::Error>(&self, kind: DockerConfigErrorKind, message: impl FnOnce() -> String) -> E {
        self.note(kind, message);
        E::custom("docker config problem")
    }

    /// Record a problem for a failure from below and pass that failure on (it carries the position; if
    /// it is a syntax error, the recorded problem is not used).
    fn noted<E>(&self, error: E, kind: DockerConfigErrorKind, message: impl FnOnce() -> String) -> E {
        self.note(kind, message);
        error
    }
}

/// A map with Go map assignment semantics (last value wins) that remembers first-insertion order.
struct OrderedMap<V> {
    items: Vec<(String, V)>,
    index: HashMap<String, usize>,
}

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<V> OrderedMap<V> {
    fn insert(&mut self, key: String, value: V) {
        if let Some(slot) = self.index.get(&key).and_then(|&i| self.items.get_mut(i)) {
            slot.1 = value;
        } else {
            self.index.insert(key.clone(), self.items.len());
            self.items.push((key, value));
        }
    }

    fn clear(&mut self) {
        self.items.clear();
        self.index.clear();
    }
}

/// A JSON string read as Go reads it (bytes, then U+FFFD for what is not UTF-8).
struct GoStringVisitor;

impl Visitor<'_> for GoStringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<String, E> {
        Ok(go_lossy(v, true).into_owned())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
}

/// A member name or registry key.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_bytes(GoStringVisitor)
    }
}

/// A Go `string` field: a string, or `null` (`None`: leave the field unchanged); anything else is an
/// error naming `path()`.
struct StrictStr<'r, P> {
    rec: &'r Recorder,
    path: P,
}

impl<'de, P: Fn() -> String> DeserializeSeed<'de> for StrictStr<'_, P> {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Option<String>, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
                Ok(None)
            }
            fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
                d.deserialize_bytes(GoStringVisitor).map(Some)
            }
        }
        let (rec, path) = (self.rec, self.path);
        d.deserialize_option(V).map_err(|e| {
            rec.noted(e, DockerConfigErrorKind::Json, || {
                format!("{}: expected a string", path())
            })
        })
    }
}

/// A member the kubelet does not read (so never an error): `Some` only for a string.
struct LenientStr;

impl<'de> DeserializeSeed<'de> for LenientStr {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(LenientVisitor)
    }
}

struct LenientVisitor;

impl<'de> Visitor<'de> for LenientVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// `HttpHeaders` (Go `map[string]string`): into `map`, `null` clears it, a `null` value is `""`.
struct StrictStrMap<'r, 'm> {
    rec: &'r Recorder,
    name: &'static str,
    map: &'m mut OrderedMap<String>,
}

impl<'de> DeserializeSeed<'de> for StrictStrMap<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let (rec, name) = (self.rec, self.name);
        d.deserialize_option(self)
            .map_err(|e| rec.noted(e, DockerConfigErrorKind::Json, || format!("{name}: expected an object")))
    }
}

impl<'de> Visitor<'de> for StrictStrMap<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of strings")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.map.clear();
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        while let Some(key) = access.next_key_seed(KeySeed)? {
            let name = self.name;
            let value = access.next_value_seed(StrictStr {
                rec: self.rec,
                path: || format!("{name}[{key:?}]"),
            })?;
            self.map.insert(key, value.unwrap_or_default());
        }
        Ok(())
    }
}

/// `credHelpers` (not read by the kubelet, so never an error): an object merges its string members
/// into `map`, `null` clears it, anything else is ignored.
struct LenientStrMap<'m> {
    map: &'m mut OrderedMap<String>,
}

impl<'de> DeserializeSeed<'de> for LenientStrMap<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LenientStrMap<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.map.clear();
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        while let Some(key) = access.next_key_seed(KeySeed)? {
            if let Some(value) = access.next_value_seed(LenientStr)? {
                self.map.insert(key, value);
            }
        }
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// Where an entry map sits, for messages: `auths["key"]` or, for `.dockercfg`, `["key"]`.
fn entry_path(prefix: &str, key: &str) -> String {
    format!("{prefix}[{key:?}]")
}

/// One entry (kubelet config.go `DockerConfigEntry.UnmarshalJSON`): `null` is an empty entry, an
/// object is decoded field by field, then a non-empty `auth` replaces username and password.
struct EntrySeed<'r, 'k> {
    rec: &'r Recorder,
    prefix: &'static str,
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_, '_> {
    type Value = AuthEntry;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<AuthEntry, D::Error> {
        let (rec, prefix, key) = (self.rec, self.prefix, self.key);
        d.deserialize_option(self).map_err(|e| {
            rec.noted(e, DockerConfigErrorKind::Json, || {
                format!("{}: expected an object", entry_path(prefix, key))
            })
        })
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_, '_> {
    type Value = AuthEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a docker config entry object")
    }
    fn visit_none<E: de::Error>(self) -> Result<AuthEntry, E> {
        Ok(AuthEntry::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<AuthEntry, E> {
        Ok(AuthEntry::default())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<AuthEntry, D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<AuthEntry, A::Error> {
        let (rec, prefix, key) = (self.rec, self.prefix, self.key);
        let mut entry = AuthEntry::default();
        let mut auth = String::new();
        while let Some(member) = access.next_key_seed(KeySeed)? {
            // kubelet config.go dockerConfigEntryWithAuth: username, password, email, auth.
            // identitytoken/registrytoken are NOT read by the kubelet (kubelet.md §b.1); we carry them
            // for the gRPC API, leniently (a non-string is ignored, as the kubelet ignores the member).
            let strict = |field: &'static str| StrictStr {
                rec,
                path: move || format!("{}.{field}", entry_path(prefix, key)),
            };
            if go_fold_eq(&member, "username") {
                if let Some(v) = access.next_value_seed(strict("username"))? {
                    entry.username = v;
                }
            } else if go_fold_eq(&member, "password") {
                if let Some(v) = access.next_value_seed(strict("password"))? {
                    entry.password = v;
                }
            } else if go_fold_eq(&member, "email") {
                if let Some(v) = access.next_value_seed(strict("email"))? {
                    entry.email = v;
                }
            } else if go_fold_eq(&member, "auth") {
                if let Some(v) = access.next_value_seed(strict("auth"))? {
                    auth = v;
                }
            } else if go_fold_eq(&member, "identitytoken") {
                if let Some(v) = access.next_value_seed(LenientStr)? {
                    entry.identity_token = v;
                }
            } else if go_fold_eq(&member, "registrytoken") {
                if let Some(v) = access.next_value_seed(LenientStr)? {
                    entry.registry_token = v;
                }
            } else {
                access.next_value::<IgnoredAny>()?;
            }
        }
        if !auth.is_empty() {
            // kubelet config.go: a non-empty auth replaces username/password, even when present.
            let (username, password) = parse_entry_auth(&auth).map_err(|e| {
                rec.fail::<A::Error>(DockerConfigErrorKind::Auth, || {
                    format!("{}.auth: {}", entry_path(prefix, key), e.message)
                })
            })?;
            entry.username = username;
            entry.password = password;
        }
        Ok(entry)
    }
}

/// A registry key -> entry map (`auths`, or a whole `.dockercfg`) decoded into `map` with Go map
/// semantics: `null` clears it, an object adds to it (last value per key wins).
struct EntriesSeed<'r, 'm> {
    rec: &'r Recorder,
    /// `"auths"`, or `""` for the top level of a `.dockercfg`.
    prefix: &'static str,
    map: &'m mut OrderedMap<AuthEntry>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let (rec, prefix) = (self.rec, self.prefix);
        let what = if prefix.is_empty() { "top level" } else { prefix };
        d.deserialize_option(self)
            .map_err(|e| rec.noted(e, DockerConfigErrorKind::Json, || format!("{what}: expected an object")))
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of registry entries")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.map.clear();
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        while let Some(key) = access.next_key_seed(KeySeed)? {
            let entry = access.next_value_seed(EntrySeed {
                rec: self.rec,
                prefix: self.prefix,
                key: &key,
            })?;
            self.map.insert(key, entry);
        }
        Ok(())
    }
}

/// The top level of a `config.json` (kubelet config.go `DockerConfigJSON` plus the docker CLI members
/// we record). `null` is an empty config.
struct ConfigJsonSeed<'r> {
    rec: &'r Recorder,
}

impl<'de> DeserializeSeed<'de> for ConfigJsonSeed<'_> {
    type Value = DockerConfig;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<DockerConfig, D::Error> {
        let rec = self.rec;
        d.deserialize_option(self).map_err(|e| {
            rec.noted(e, DockerConfigErrorKind::Json, || {
                "top level: expected an object".to_owned()
            })
        })
    }
}

impl<'de> Visitor<'de> for ConfigJsonSeed<'_> {
    type Value = DockerConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a config.json object")
    }
    fn visit_none<E: de::Error>(self) -> Result<DockerConfig, E> {
        Ok(DockerConfig::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<DockerConfig, E> {
        Ok(DockerConfig::default())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<DockerConfig, D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<DockerConfig, A::Error> {
        let rec = self.rec;
        let mut auths = OrderedMap::default();
        let mut headers = OrderedMap::default();
        let mut helpers = OrderedMap::default();
        let mut creds_store = None;
        while let Some(member) = access.next_key_seed(KeySeed)? {
            if go_fold_eq(&member, "auths") {
                access.next_value_seed(EntriesSeed {
                    rec,
                    prefix: "auths",
                    map: &mut auths,
                })?;
            } else if go_fold_eq(&member, "httpheaders") {
                access.next_value_seed(StrictStrMap {
                    rec,
                    name: "HttpHeaders",
                    map: &mut headers,
                })?;
            } else if go_fold_eq(&member, "credsstore") {
                // Go string semantics (null: unchanged); a non-string is ignored (kubelet ignores it).
                if let Some(store) = access.next_value_seed(LenientStr)? {
                    creds_store = Some(store);
                }
            } else if go_fold_eq(&member, "credhelpers") {
                access.next_value_seed(LenientStrMap { map: &mut helpers })?;
            } else {
                access.next_value::<IgnoredAny>()?;
            }
        }
        Ok(DockerConfig {
            entries: auths.items,
            http_headers: headers.items,
            creds_store: creds_store.filter(|s| !s.is_empty()),
            cred_helpers: helpers.items,
        })
    }
}

/// The top level of a `.dockercfg`: the registry key -> entry map itself; `null` is empty.
struct DockerCfgSeed<'r> {
    rec: &'r Recorder,
}

impl<'de> DeserializeSeed<'de> for DockerCfgSeed<'_> {
    type Value = DockerConfig;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<DockerConfig, D::Error> {
        let mut map = OrderedMap::default();
        EntriesSeed {
            rec: self.rec,
            prefix: "",
            map: &mut map,
        }
        .deserialize(d)?;
        Ok(DockerConfig {
            entries: map.items,
            ..DockerConfig::default()
        })
    }
}

/// Whether the top level is an object with an `auths` member (any Go-folded case); `seen` is also set
/// when the member is found before a later syntax error.
struct HasAuthsSeed<'s> {
    seen: &'s std::cell::Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for HasAuthsSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HasAuthsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        while let Some(member) = access.next_key_seed(KeySeed)? {
            if go_fold_eq(&member, "auths") {
                self.seen.set(true);
            }
            access.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// Run one seed over a whole JSON text (Go-lossy UTF-8 first), turning failures into value-free errors.
fn run_json<T>(
    data: &[u8],
    parse: impl FnOnce(&mut serde_json::Deserializer<serde_json::de::StrRead<'_>>, &Recorder) -> serde_json::Result<T>,
) -> Result<T, DockerConfigError> {
    let text = go_lossy(data, false);
    let rec = Recorder::default();
    let mut de = serde_json::Deserializer::from_str(&text);
    let result = parse(&mut de, &rec).and_then(|value| de.end().map(|()| value));
    result.map_err(|e| json_error(&e, rec.problem.into_inner()))
}

/// A `serde_json` failure as a message that shows no input: our recorded problem for data errors (serde's
/// own texts for those quote the offending value), `serde_json`'s fixed texts for syntax errors.
fn json_error(e: &serde_json::Error, problem: Option<(DockerConfigErrorKind, String)>) -> DockerConfigError {
    use serde_json::error::Category;
    let at = if e.line() == 0 {
        String::new()
    } else {
        format!(" at line {} column {}", e.line(), e.column())
    };
    match e.classify() {
        // Syntax/EOF messages are fixed texts from serde_json's ErrorCode list plus the position.
        Category::Syntax | Category::Eof => {
            DockerConfigError::new(DockerConfigErrorKind::Json, format!("invalid JSON: {e}"))
        }
        Category::Data | Category::Io => match problem {
            Some((kind, message)) => DockerConfigError::new(kind, format!("{message}{at}")),
            None => DockerConfigError::new(DockerConfigErrorKind::Json, format!("unexpected JSON structure{at}")),
        },
    }
}

/// Parse one docker config file's bytes in the given format (kubelet.md §b.1).
///
/// Go `encoding/json` semantics throughout (see the module docs); `auth` decoding per
/// [`parse_entry_auth`]; any error fails the whole file, as in the kubelet.
pub fn parse_docker_config(data: &[u8], format: ConfigFormat) -> Result<DockerConfig, DockerConfigError> {
    match format {
        ConfigFormat::ConfigJson => run_json(data, |de, rec| ConfigJsonSeed { rec }.deserialize(de)),
        ConfigFormat::DockerCfg => run_json(data, |de, rec| DockerCfgSeed { rec }.deserialize(de)),
    }
}

/// Parse either format: `config.json` when the top-level object has an `auths` member (any case), else `.dockercfg`.
///
/// (A `.dockercfg` with a registry literally keyed `auths` is therefore read as a `config.json`.)
/// Text that is not a JSON object is parsed as `.dockercfg`, which reports the error (`null` is an
/// empty config either way).
pub fn parse_docker_config_auto(data: &[u8]) -> Result<DockerConfig, DockerConfigError> {
    let seen = std::cell::Cell::new(false);
    let _ = run_json(data, |de, _| HasAuthsSeed { seen: &seen }.deserialize(de));
    let format = if seen.get() {
        ConfigFormat::ConfigJson
    } else {
        ConfigFormat::DockerCfg
    };
    parse_docker_config(data, format)
}

// ------------------------------------------------------------------------------------------------
// Secrets

/// One pull secret from a manifest, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSecret {
    /// `metadata.namespace`; `"default"` when absent or empty (what `kubectl apply` would use without
    /// `-n`).
    pub namespace: String,
    /// `metadata.name` (required).
    pub name: String,
    /// `None` when the kubelet would silently ignore the secret (other type, mismatched key, empty data).
    pub config: Option<DockerConfig>,
}

/// Kubernetes Secret manifests (JSON or YAML; one Secret, a `List` of them, or several YAML documents),
/// read as the kubelet's `MakeDockerKeyring` reads Secrets (kubelet.md §d).
///
/// - Format: JSON when the first non-whitespace byte is `{` or `[` (several concatenated JSON values
///   are accepted), else YAML (several `---` documents). Empty documents and `null` are skipped; a
///   top-level array is read as a sequence of documents.
/// - `kind: Secret`, or `kind: List` / `SecretList` whose `items` are Secrets (an item's `kind` may be
///   absent). Any other kind, or none, is an error naming it.
/// - type `kubernetes.io/dockerconfigjson` with a non-empty `.dockerconfigjson` → `config.json`
///   format; type `kubernetes.io/dockercfg` with a non-empty `.dockercfg` → legacy format; anything
///   else → `config: None` (the kubelet ignores it). Only the key the type needs is looked at.
/// - Values from `stringData` (plain text) win over `data` (standard padded base64, `\r`/`\n`
///   skipped, as Go decodes `[]byte`), as the API server merges them. `null` values are empty.
/// - A base64 or docker-config error in a secret the kubelet would read is an error naming
///   `secret <namespace>/<name>` and the key (the kubelet fails the pull).
/// - `metadata.name` is required; `metadata.namespace` defaults to `"default"`.
pub fn parse_secret_manifests(data: &[u8]) -> Result<Vec<PullSecret>, DockerConfigError> {
    let mut out = Vec::new();
    match data.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {}
        Some(b'{' | b'[') => {
            let stream = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
            for (i, doc) in stream.enumerate() {
                let doc = doc.map_err(|e| manifest_json_error(&e))?;
                collect_document(&doc, &format!("document {}", i + 1), &mut out)?;
            }
        }
        Some(_) => {
            for (i, doc) in serde_norway::Deserializer::from_slice(data).enumerate() {
                let doc = Value::deserialize(doc).map_err(|e| yaml_error(&e))?;
                collect_document(&doc, &format!("document {}", i + 1), &mut out)?;
            }
        }
    }
    Ok(out)
}

/// A JSON manifest that does not parse. Parsing into `Value` accepts every type, so only syntax
/// errors (fixed texts) are expected; anything else gets a generic, value-free text.
fn manifest_json_error(e: &serde_json::Error) -> DockerConfigError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => DockerConfigError::manifest(format!("invalid JSON: {e}")),
        Category::Data | Category::Io => DockerConfigError::manifest(format!(
            "unsupported JSON value at line {} column {}",
            e.line(),
            e.column()
        )),
    }
}

/// A YAML manifest that does not parse. serde's type errors quote the offending scalar (e.g. `!!int x`
/// → `invalid value: string "x"`), and serde and `serde_norway` always delimit such values with `"`,
/// `` ` `` or `'`: a description containing one of those is dropped, leaving the position.
fn yaml_error(e: &serde_norway::Error) -> DockerConfigError {
    let at = e
        .location()
        .map(|l| format!(" at line {} column {}", l.line(), l.column()))
        .unwrap_or_default();
    let text = e.to_string();
    if text.contains(['"', '`', '\'']) {
        DockerConfigError::manifest(format!("invalid YAML{at}"))
    } else {
        DockerConfigError::manifest(format!("invalid YAML: {text}"))
    }
}

fn collect_document(doc: &Value, label: &str, out: &mut Vec<PullSecret>) -> Result<(), DockerConfigError> {
    match doc {
        Value::Null => Ok(()),
        Value::Array(docs) => {
            for (i, d) in docs.iter().enumerate() {
                collect_document(d, &format!("{label}[{i}]"), out)?;
            }
            Ok(())
        }
        Value::Object(obj) => match obj.get("kind") {
            Some(Value::String(kind)) if kind == "Secret" => {
                out.push(secret_from(obj, label)?);
                Ok(())
            }
            Some(Value::String(kind)) if kind == "List" || kind == "SecretList" => {
                let items = match obj.get("items") {
                    None | Some(Value::Null) => return Ok(()),
                    Some(Value::Array(items)) => items,
                    Some(_) => return Err(DockerConfigError::manifest(format!("{label}: items must be a list"))),
                };
                for (i, item) in items.iter().enumerate() {
                    let item_label = format!("{label} items[{i}]");
                    let Value::Object(item_obj) = item else {
                        return Err(DockerConfigError::manifest(format!(
                            "{item_label}: expected a Secret object"
                        )));
                    };
                    match item_obj.get("kind") {
                        None | Some(Value::Null) => {}
                        Some(Value::String(kind)) if kind == "Secret" => {}
                        Some(Value::String(kind)) => {
                            return Err(DockerConfigError::manifest(format!(
                                "{item_label}: kind {kind:?} is not a Secret"
                            )))
                        }
                        Some(_) => {
                            return Err(DockerConfigError::manifest(format!(
                                "{item_label}: kind must be a string"
                            )))
                        }
                    }
                    out.push(secret_from(item_obj, &item_label)?);
                }
                Ok(())
            }
            Some(Value::String(kind)) => Err(DockerConfigError::manifest(format!(
                "{label}: kind {kind:?} is not a Secret or List"
            ))),
            None | Some(Value::Null) => Err(DockerConfigError::manifest(format!(
                "{label}: no kind (expected Secret or List)"
            ))),
            Some(_) => Err(DockerConfigError::manifest(format!("{label}: kind must be a string"))),
        },
        _ => Err(DockerConfigError::manifest(format!(
            "{label}: expected a Kubernetes object"
        ))),
    }
}

/// A string member: `Ok(None)` when absent or `null`, an error (naming `what`) when not a string.
fn opt_str<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    what: impl FnOnce() -> String,
) -> Result<Option<&'v str>, DockerConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DockerConfigError::manifest(format!("{} must be a string", what()))),
    }
}

/// An object member: `Ok(None)` when absent or `null`, an error (naming `what`) when not an object.
fn opt_obj<'v>(
    obj: &'v Map<String, Value>,
    key: &str,
    what: impl FnOnce() -> String,
) -> Result<Option<&'v Map<String, Value>>, DockerConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(DockerConfigError::manifest(format!("{} must be a map", what()))),
    }
}

fn secret_from(obj: &Map<String, Value>, label: &str) -> Result<PullSecret, DockerConfigError> {
    let meta = opt_obj(obj, "metadata", || format!("{label}: metadata"))?;
    let name = match meta {
        Some(m) => opt_str(m, "name", || format!("{label}: metadata.name"))?,
        None => None,
    }
    .filter(|n| !n.is_empty())
    .ok_or_else(|| DockerConfigError::manifest(format!("{label}: Secret has no metadata.name")))?;
    let namespace = match meta {
        Some(m) => opt_str(m, "namespace", || format!("{label}: metadata.namespace"))?,
        None => None,
    }
    .filter(|n| !n.is_empty())
    .unwrap_or("default");
    let who = format!("secret {namespace}/{name}");
    let secret_type = opt_str(obj, "type", || format!("{who}: type"))?.unwrap_or_default();
    // kubelet secrets.go secretsToTrackedDockerConfigs: the type selects the one key that is read.
    let (key, format) = match secret_type {
        SECRET_TYPE_DOCKER_CONFIG_JSON => (DOCKER_CONFIG_JSON_KEY, ConfigFormat::ConfigJson),
        SECRET_TYPE_DOCKERCFG => (DOCKERCFG_KEY, ConfigFormat::DockerCfg),
        _ => {
            return Ok(PullSecret {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                config: None,
            })
        }
    };
    let bytes = secret_value(obj, key, &who)?;
    let config = if bytes.is_empty() {
        None // kubelet: len(data) > 0 is required, else the secret is ignored
    } else {
        Some(parse_docker_config(&bytes, format).map_err(|e| e.within(&format!("{who}: {key}")))?)
    };
    Ok(PullSecret {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        config,
    })
}

/// The bytes of `key`: `stringData` first (the API server merges it over `data`), then `data`
/// (base64); empty when absent or `null`.
fn secret_value(obj: &Map<String, Value>, key: &str, who: &str) -> Result<Vec<u8>, DockerConfigError> {
    if let Some(string_data) = opt_obj(obj, "stringData", || format!("{who}: stringData"))? {
        if string_data.contains_key(key) {
            let value = opt_str(string_data, key, || format!("{who}: stringData[{key:?}]"))?;
            return Ok(value.unwrap_or_default().as_bytes().to_vec());
        }
    }
    let Some(data) = opt_obj(obj, "data", || format!("{who}: data"))? else {
        return Ok(Vec::new());
    };
    let Some(encoded) = opt_str(data, key, || format!("{who}: data[{key:?}]"))? else {
        return Ok(Vec::new());
    };
    // Go encoding/json decodes []byte with base64.StdEncoding (padded; \r and \n skipped).
    go_base64_decode(encoded, true)
        .map_err(|_| DockerConfigError::manifest(format!("{who}: data[{key:?}]: invalid base64")))
}

/// A mounted secret directory's files: (file name, contents). Recognises `.dockerconfigjson` / `.dockercfg`.
///
/// Follows the Secret rules of kubelet.md §d: a non-empty `.dockerconfigjson` is read as `config.json`,
/// else a non-empty `.dockercfg` as legacy; `Ok(None)` when neither is there (or both are empty). File
/// names may be given with a directory part; only the last `/` component is compared. Errors are
/// prefixed with the file name.
pub fn parse_secret_dir(files: &[(String, Vec<u8>)]) -> Result<Option<DockerConfig>, DockerConfigError> {
    let find = |wanted: &str| {
        files
            .iter()
            .find(|(name, data)| name.rsplit('/').next() == Some(wanted) && !data.is_empty())
            .map(|(_, data)| data)
    };
    for (file, format) in [
        (DOCKER_CONFIG_JSON_KEY, ConfigFormat::ConfigJson),
        (DOCKERCFG_KEY, ConfigFormat::DockerCfg),
    ] {
        if let Some(data) = find(file) {
            return parse_docker_config(data, format).map(Some).map_err(|e| e.within(file));
        }
    }
    Ok(None)
}
