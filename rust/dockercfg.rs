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

use crate::keyring::{AuthEntry, Redacted};
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

// ------------------------------------------------------------------------------------------------
// Go-compatible text and base64 helpers

/// Invalid UTF-8 as Go's JSON decoder reads it: one U+FFFD per offending byte (Go decodes rune by
/// rune and skips one byte per error) instead of failing the file.
fn go_lossy(bytes: &[u8]) -> Cow<'_, str> {
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
                rest = bad.get(1..).unwrap_or_default();
            }
        }
    }
}

/// Go `encoding/json`'s nesting limit (`maxNestingDepth`).
const MAX_DEPTH: usize = 10_000;

/// Go `encoding/json` validates the whole text before decoding anything (`checkValid`); this is that
/// scan, with value-free messages. It also makes the text safe for `serde_json` without changing any
/// byte offset:
/// - a lone UTF-16 surrogate escape (`\ud800` not followed by a low-surrogate escape, or a lone
///   `\udc00`) is rewritten to `\ufffd`, which is what Go decodes it to (`serde_json` would fail);
/// - every number is rewritten to `0` padded with spaces: no member we read holds a number (a number
///   where a string is expected is an error whatever its value), and `serde_json` would otherwise
///   reject numbers beyond `f64` range that Go skips. No number can then appear in an error message.
fn go_json_check(text: &str) -> Result<Cow<'_, str>, DockerConfigError> {
    let mut scan = Scanner {
        b: text.as_bytes(),
        i: 0,
        stack: Vec::new(),
        fixes: Vec::new(),
    };
    if let Err((at, what)) = scan.run() {
        let before = text.as_bytes().get(..at).unwrap_or_default();
        let line = before.split(|&c| c == b'\n').count();
        let column = at - before.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1) + 1;
        return Err(DockerConfigError::new(
            DockerConfigErrorKind::Json,
            format!("invalid JSON: {what} at line {line} column {column}"),
        ));
    }
    if scan.fixes.is_empty() {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (at, len, replacement) in scan.fixes {
        out.push_str(text.get(done..at).unwrap_or_default());
        out.push_str(replacement);
        out.extend(std::iter::repeat(' ').take(len.saturating_sub(replacement.len())));
        done = at + len;
    }
    out.push_str(text.get(done..).unwrap_or_default());
    Ok(Cow::Owned(out))
}

/// A scan failure: byte offset and value-free description.
type ScanError = (usize, &'static str);

/// The state of [`go_json_check`]: iterative (an explicit stack), so any nesting up to Go's limit.
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    /// Open containers, `{` or `[`.
    stack: Vec<u8>,
    /// `(offset, length, replacement)`, replacement padded with spaces to `length`.
    fixes: Vec<(usize, usize, &'static str)>,
}

/// What to scan next.
enum Next {
    Value,
    AfterValue,
    Done,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    fn run(&mut self) -> Result<(), ScanError> {
        let mut next = Next::Value;
        loop {
            next = match next {
                Next::Value => self.value()?,
                Next::AfterValue => self.after_value()?,
                Next::Done => return Ok(()),
            };
        }
    }

    /// One value, or the opening of a container (then its first element or its end).
    fn value(&mut self) -> Result<Next, ScanError> {
        self.skip_ws();
        match self.peek() {
            None => Err((self.i, "unexpected end of input")),
            Some(open @ (b'{' | b'[')) => {
                self.i += 1;
                self.stack.push(open);
                if self.stack.len() > MAX_DEPTH {
                    return Err((self.i - 1, "nesting too deep"));
                }
                self.skip_ws();
                match (open, self.peek()) {
                    (b'{', Some(b'}')) | (b'[', Some(b']')) => {
                        self.i += 1;
                        self.stack.pop();
                        Ok(Next::AfterValue)
                    }
                    (b'{', _) => {
                        self.key()?;
                        Ok(Next::Value)
                    }
                    _ => Ok(Next::Value),
                }
            }
            Some(b'"') => {
                self.string()?;
                Ok(Next::AfterValue)
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                self.number()?;
                if self.i - start > 1 || self.b.get(start) != Some(&b'0') {
                    self.fixes.push((start, self.i - start, "0"));
                }
                Ok(Next::AfterValue)
            }
            Some(first @ (b't' | b'f' | b'n')) => {
                let word: &[u8] = match first {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if self.b.get(self.i..self.i + word.len()) != Some(word) {
                    return Err((self.i, "invalid literal"));
                }
                self.i += word.len();
                Ok(Next::AfterValue)
            }
            Some(_) => Err((self.i, "expected a value")),
        }
    }

    /// After a value: the next element, the end of a container, or the end of the text.
    fn after_value(&mut self) -> Result<Next, ScanError> {
        self.skip_ws();
        match (self.stack.last(), self.peek()) {
            (None, None) => Ok(Next::Done),
            (None, Some(_)) => Err((self.i, "data after the top-level value")),
            (Some(_), None) => Err((self.i, "unexpected end of input")),
            (Some(b'{'), Some(b',')) => {
                self.i += 1;
                self.skip_ws();
                self.key()?;
                Ok(Next::Value)
            }
            (Some(b'['), Some(b',')) => {
                self.i += 1;
                Ok(Next::Value)
            }
            (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']')) => {
                self.i += 1;
                self.stack.pop();
                Ok(Next::AfterValue)
            }
            (Some(b'{'), Some(_)) => Err((self.i, "expected ',' or '}' after an object member")),
            (Some(_), Some(_)) => Err((self.i, "expected ',' or ']' after an array element")),
        }
    }

    /// An object key (`"..."`), then whitespace and the `:`.
    fn key(&mut self) -> Result<(), ScanError> {
        match self.peek() {
            Some(b'"') => self.string()?,
            None => return Err((self.i, "unexpected end of input")),
            Some(_) => return Err((self.i, "expected a string for an object key")),
        }
        self.skip_ws();
        match self.peek() {
            Some(b':') => {
                self.i += 1;
                Ok(())
            }
            None => Err((self.i, "unexpected end of input")),
            Some(_) => Err((self.i, "expected ':' after an object key")),
        }
    }

    /// The 4 hex digits of a `\u` escape at `at` (the backslash), if well-formed.
    fn u4(&self, at: usize) -> Option<u32> {
        match self.b.get(at..at + 6)? {
            [b'\\', b'u', hex @ ..] => hex
                .iter()
                .try_fold(0u32, |acc, &c| Some(acc * 16 + char::from(c).to_digit(16)?)),
            _ => None,
        }
    }

    /// A string, from its opening quote to after its closing one.
    fn string(&mut self) -> Result<(), ScanError> {
        self.i += 1;
        loop {
            match self.peek() {
                None => return Err((self.i, "unexpected end of input in a string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => match self.b.get(self.i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
                    Some(b'u') => {
                        let Some(first) = self.u4(self.i) else {
                            return Err((self.i, "invalid \\u escape in a string"));
                        };
                        if (0xD800..=0xDFFF).contains(&first) {
                            // Go unquote: a high surrogate followed by a low-surrogate escape is one
                            // rune; otherwise this escape is U+FFFD and the next one is read on its own.
                            let paired = (0xD800..0xDC00).contains(&first)
                                && self
                                    .u4(self.i + 6)
                                    .is_some_and(|second| (0xDC00..=0xDFFF).contains(&second));
                            if paired {
                                self.i += 12;
                                continue;
                            }
                            self.fixes.push((self.i, 6, "\\ufffd"));
                        }
                        self.i += 6;
                    }
                    _ => return Err((self.i, "invalid escape in a string")),
                },
                Some(c) if c < 0x20 => return Err((self.i, "control character in a string")),
                Some(_) => self.i += 1,
            }
        }
    }

    fn digits(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i > start
    }

    /// A number (JSON grammar, as Go's scanner), from its first byte.
    fn number(&mut self) -> Result<(), ScanError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err((self.i, "invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.digits() {
                return Err((self.i, "invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.digits() {
                return Err((self.i, "invalid number"));
            }
        }
        Ok(())
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

/// A JSON string (the text was made valid for `serde_json` by [`go_json_check`]).
struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
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
        d.deserialize_string(StringVisitor)
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
                d.deserialize_string(StringVisitor).map(Some)
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
    format!("{prefix}[{:?}]", redact_userinfo(key))
}

/// A registry key as it may be shown to users (messages, `Debug`, logs): a key written as a URL with
/// credentials (`https://user:secret@host/`) has its userinfo replaced by `<redacted>`; other keys
/// are returned unchanged. (House rule: never print a secret; kubelet.md §c.1 keys are URLs.)
pub fn redact_userinfo(key: &str) -> Cow<'_, str> {
    let start = key.find("://").map_or(0, |p| p + 3);
    let rest = key.get(start..).unwrap_or_default();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    match authority.rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{}<redacted>{}",
            key.get(..start).unwrap_or_default(),
            rest.get(at..).unwrap_or_default()
        )),
        None => Cow::Borrowed(key),
    }
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

/// Run one seed over a JSON text already checked by [`go_json_check`], turning failures into
/// value-free errors.
fn run_json<T>(
    text: &str,
    parse: impl FnOnce(&mut serde_json::Deserializer<serde_json::de::StrRead<'_>>, &Recorder) -> serde_json::Result<T>,
) -> Result<T, DockerConfigError> {
    let rec = Recorder::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let result = parse(&mut de, &rec).and_then(|value| de.end().map(|()| value));
    result.map_err(|e| json_error(&e, rec.problem.into_inner()))
}

/// A `serde_json` failure as a message that shows no input: our recorded problem for data errors
/// (serde's own texts for those quote the offending value). After [`go_json_check`] no syntax error is
/// expected; should one occur, `serde_json`'s texts for those are fixed (no input) plus the position.
fn json_error(e: &serde_json::Error, problem: Option<(DockerConfigErrorKind, String)>) -> DockerConfigError {
    use serde_json::error::Category;
    let at = if e.line() == 0 {
        String::new()
    } else {
        format!(" at line {} column {}", e.line(), e.column())
    };
    match e.classify() {
        Category::Syntax | Category::Eof => {
            DockerConfigError::new(DockerConfigErrorKind::Json, format!("invalid JSON: {e}"))
        }
        Category::Data | Category::Io => match problem {
            Some((kind, message)) => DockerConfigError::new(kind, format!("{message}{at}")),
            None => DockerConfigError::new(DockerConfigErrorKind::Json, format!("unexpected JSON structure{at}")),
        },
    }
}

/// The text of a docker config file as Go's decoder sees it: lossy UTF-8, then the validity check.
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

/// Parse one docker config file's bytes in the given format (kubelet.md §b.1).
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
/// → `invalid value: string "x"`); serde always delimits such values with `"` (strings) or `` ` ``
/// (numbers, booleans, characters): a description containing either is dropped, leaving the position.
/// (libyaml's own descriptions are fixed texts that quote punctuation with `'`.)
fn yaml_error(e: &serde_norway::Error) -> DockerConfigError {
    let at = e
        .location()
        .map(|l| format!(" at line {} column {}", l.line(), l.column()))
        .unwrap_or_default();
    let text = e.to_string();
    if text.contains(['"', '`']) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(username: &str, password: &str, email: &str) -> AuthEntry {
        AuthEntry {
            username: username.to_owned(),
            password: password.to_owned(),
            email: email.to_owned(),
            ..AuthEntry::default()
        }
    }

    fn config_json(text: &str) -> DockerConfig {
        parse_docker_config(text.as_bytes(), ConfigFormat::ConfigJson)
            .unwrap_or_else(|e| panic!("config.json {text:?} failed: {e}"))
    }

    fn dockercfg(text: &str) -> DockerConfig {
        parse_docker_config(text.as_bytes(), ConfigFormat::DockerCfg)
            .unwrap_or_else(|e| panic!(".dockercfg {text:?} failed: {e}"))
    }

    fn config_json_err(text: &str) -> DockerConfigError {
        match parse_docker_config(text.as_bytes(), ConfigFormat::ConfigJson) {
            Ok(cfg) => panic!("config.json {text:?} parsed: {cfg:?}"),
            Err(e) => e,
        }
    }

    /// The single entry of a one-registry config.json `{"auths": {"r": <entry>}}`.
    fn one_entry(entry_json: &str) -> Result<AuthEntry, DockerConfigError> {
        let text = format!(r#"{{"auths": {{"r": {entry_json}}}}}"#);
        let cfg = parse_docker_config(text.as_bytes(), ConfigFormat::ConfigJson)?;
        assert_eq!(cfg.entries.len(), 1, "{entry_json}");
        Ok(cfg.entries.into_iter().next().map(|(_, e)| e).unwrap())
    }

    fn keys(cfg: &DockerConfig) -> Vec<&str> {
        cfg.entries.iter().map(|(k, _)| k.as_str()).collect()
    }

    // --- kubelet config_test.go vectors (facts) -------------------------------------------------

    #[test]
    fn kubelet_docker_config_json_decode_legacy_map() {
        // config_test.go TestDockerConfigJSONDecode: the legacy top-level map.
        let cfg = dockercfg(
            r#"{"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"},
                "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}"#,
        );
        assert_eq!(
            cfg.entries,
            vec![
                (
                    "http://foo.example.com".to_owned(),
                    entry("foo", "bar", "foo@example.com")
                ),
                (
                    "http://bar.example.com".to_owned(),
                    entry("bar", "baz", "bar@example.com")
                ),
            ]
        );
        assert!(cfg.http_headers.is_empty() && cfg.creds_store.is_none() && cfg.cred_helpers.is_empty());
    }

    #[test]
    fn kubelet_docker_config_json_json_decode_auths() {
        // config_test.go TestDockerConfigJsonJSONDecode / TestReadDockerConfigJSONFileFromBytes (valid).
        let cfg = config_json(
            r#"{"auths": {"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"},
                          "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}}"#,
        );
        assert_eq!(
            cfg.entries,
            vec![
                (
                    "http://foo.example.com".to_owned(),
                    entry("foo", "bar", "foo@example.com")
                ),
                (
                    "http://bar.example.com".to_owned(),
                    entry("bar", "baz", "bar@example.com")
                ),
            ]
        );
    }

    #[test]
    fn kubelet_docker_config_entry_json_decode() {
        // config_test.go TestDockerConfigEntryJSONDecode.
        let cases: &[(&str, Option<AuthEntry>)] = &[
            (
                r#"{"username": "foo", "password": "bar", "email": "foo@example.com"}"#,
                Some(entry("foo", "bar", "foo@example.com")),
            ),
            (
                r#"{"auth": "Zm9vOmJhcg==", "email": "foo@example.com"}"#,
                Some(entry("foo", "bar", "foo@example.com")),
            ),
            // auth overrides username & password
            (
                r#"{"username": "foo", "password": "bar", "auth": "cGluZzpwb25n", "email": "foo@example.com"}"#,
                Some(entry("ping", "pong", "foo@example.com")),
            ),
            (r#"{"auth": "pants", "email": "foo@example.com"}"#, None),
            (r#"{"email": false}"#, None),
        ];
        for (input, want) in cases {
            match (one_entry(input), want) {
                (Ok(got), Some(want)) => assert_eq!(&got, want, "{input}"),
                (Err(_), None) => {}
                (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn kubelet_decode_docker_config_field_auth() {
        // config_test.go TestDecodeDockerConfigFieldAuth.
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("Zm9vOmJhcg==", Some(("foo", "bar"))),
            ("Zm9vOmJhcg", Some(("foo", "bar"))),       // not padded
            ("Zm9vOm\nJhcg==\n", Some(("foo", "bar"))), // new lines are skipped
            ("cGFudHM=", None),                         // good base64, no colon
            ("Zm9vOmJhcg== ", None),                    // only new lines are ignored
            ("pants", None),                            // bad base64
        ];
        for (input, want) in cases {
            let got = parse_entry_auth(input);
            match (got, want) {
                (Ok((u, p)), Some((wu, wp))) => assert_eq!((u.as_str(), p.as_str()), (*wu, *wp), "{input:?}"),
                (Err(e), None) => assert_eq!(e.kind, DockerConfigErrorKind::Auth, "{input:?}"),
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn kubelet_read_docker_config_file_keeps_trailing_newline() {
        // config_test.go TestReadDockerConfigFile input: "Zm9vOmJhcgo=" is "foo:bar\n".
        let cfg =
            config_json(r#"{ "auths": { "http://foo.example.com":{"auth":"Zm9vOmJhcgo=","email":"foo@example.com"}}}"#);
        assert_eq!(
            cfg.entries,
            vec![(
                "http://foo.example.com".to_owned(),
                entry("foo", "bar\n", "foo@example.com")
            )]
        );
    }

    #[test]
    fn kubelet_read_docker_config_from_bytes_truncated_is_an_error() {
        // config_test.go TestReadDockerConfigFileFromBytes / TestReadDockerConfigJSONFileFromBytes (invalid).
        let legacy = r#"{"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com""#;
        let e = parse_docker_config(legacy.as_bytes(), ConfigFormat::DockerCfg).unwrap_err();
        assert_eq!(e.kind, DockerConfigErrorKind::Json);
        let json = r#"{"auths": {"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"}, "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com""#;
        let e = config_json_err(json);
        assert_eq!(e.kind, DockerConfigErrorKind::Json);
        assert_eq!(e.message, "invalid JSON: unexpected end of input at line 1 column 195");
    }

    // --- auth decoding ------------------------------------------------------------------------------

    #[test]
    fn auth_decoding_table() {
        let ok: &[(&str, &str, &str)] = &[
            ("Zm9vOmJhcg==", "foo", "bar"),                 // padded
            ("Zm9vOmJhcg", "foo", "bar"),                   // unpadded
            ("Zm9vOmJhcg==\r\n", "foo", "bar"),             // trailing CRLF skipped; TrimSpace sees the '='
            ("\r\nZm9v\rOmJh\ncg==", "foo", "bar"),         // CR/LF anywhere
            ("Zm9vOmJhcg=\n=", "foo", "bar"),               // even between the padding characters
            ("Zm9vOmJhch==", "foo", "bar"),                 // non-zero trailing bits accepted (Go non-strict)
            ("dXNlcjpwYTpzczp3b3Jk", "user", "pa:ss:word"), // split at the FIRST colon
            ("OnB3", "", "pw"),                             // empty username
            ("Zm9vOg==", "foo", ""),                        // empty password
            ("Zm9vOg", "foo", ""),
            ("Zm9vOmJhcgo=", "foo", "bar\n"), // trailing newline stays in the password
            ("bWU6cMOkc3M=", "me", "p\u{e4}ss"), // UTF-8 password
            ("YTo/fg==", "a", "?~"),          // '/' of the standard alphabet
            ("dTo+Pj8=", "u", ">>?"),         // '+' of the standard alphabet
        ];
        for (input, user, pass) in ok {
            let (u, p) = parse_entry_auth(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!((u.as_str(), p.as_str()), (*user, *pass), "{input:?}");
        }
        let bad: &[&str] = &[
            "",                   // decodes to nothing: no colon
            "\n",                 // likewise
            " ",                  // space is not skipped
            "Zm9vOmJhcg== ",      // trailing space
            " Zm9vOmJhcg==",      // leading space
            "Zm9vOmJhcg\t",       // tab
            "Zm9vOmJhcg==\u{a0}", // Unicode space after the padding
            "Zm9v OmJhcg==",      // inner space
            "YTo_fg==",           // URL-safe alphabet
            "dTo-Pj8=",           // URL-safe alphabet
            "YTo_fg",
            "Zm9vOmJhcg=",      // not enough padding
            "Zm9vOmJhcg===",    // too much padding
            "Zm9vOmJh=cg==",    // padding in the middle
            "Zm9vOmJhcg==Zm9v", // data after the padding
            "Zm9vOmJhc",        // a lone trailing character is never valid
            "Zm9vOmJhc=",
            "cGFudHM=", // no colon
            "cGFudHM",
            "Zm9vOmL/cg==", // decodes to "foo:b\xffr": not UTF-8 (our decision: reject)
            "====",
        ];
        for input in bad {
            let e = parse_entry_auth(input).expect_err(input);
            assert_eq!(e.kind, DockerConfigErrorKind::Auth, "{input:?}");
        }
    }

    #[test]
    fn auth_error_messages_say_what_is_wrong() {
        assert_eq!(parse_entry_auth("pants").unwrap_err().message, "invalid base64");
        assert_eq!(
            parse_entry_auth("Zm9vOmJhcg= ").unwrap_err().message,
            "invalid base64 (padded standard alphabet expected)"
        );
        assert_eq!(
            parse_entry_auth("cGFudHM=").unwrap_err().message,
            "decoded value has no ':' (must be base64 of username:password)"
        );
        assert_eq!(
            parse_entry_auth("Zm9vOmL/cg==").unwrap_err().message,
            "decoded value is not valid UTF-8"
        );
    }

    #[test]
    fn auth_replaces_username_and_password_only_when_non_empty() {
        let e = one_entry(r#"{"username":"u","password":"p","auth":"Zm9vOmJhcg==","email":"e"}"#).unwrap();
        assert_eq!(e, entry("foo", "bar", "e"));
        // member order does not matter: auth is applied after the whole object is read
        let e = one_entry(r#"{"auth":"Zm9vOmJhcg==","username":"u","password":"p"}"#).unwrap();
        assert_eq!(e, entry("foo", "bar", ""));
        // empty auth: username/password verbatim
        let e = one_entry(r#"{"username":"u","password":"p","auth":""}"#).unwrap();
        assert_eq!(e, entry("u", "p", ""));
        // auth decoding to an empty username replaces a non-empty one
        let e = one_entry(r#"{"username":"u","password":"p","auth":"OnB3"}"#).unwrap();
        assert_eq!(e, entry("", "pw", ""));
    }

    #[test]
    fn bad_auth_fails_the_whole_file_naming_key_and_field() {
        let e = config_json_err(
            r#"{"auths": {"ok.io": {"username":"a","password":"b"}, "registry.io": {"auth": "pants"}}}"#,
        );
        assert_eq!(e.kind, DockerConfigErrorKind::Auth);
        assert!(
            e.message
                .starts_with(r#"auths["registry.io"].auth: invalid base64 at line 1 column "#),
            "{}",
            e.message
        );
        let e = parse_docker_config(br#"{"x": {"auth": "cGFudHM="}}"#, ConfigFormat::DockerCfg).unwrap_err();
        assert_eq!(e.kind, DockerConfigErrorKind::Auth);
        assert!(
            e.message.starts_with(r#"["x"].auth: decoded value has no ':'"#),
            "{}",
            e.message
        );
    }

    // --- entry fields -------------------------------------------------------------------------------

    #[test]
    fn entry_field_names_are_matched_like_go() {
        let cases: &[(&str, AuthEntry)] = &[
            (r#"{"USERNAME":"u","Password":"p","eMail":"e"}"#, entry("u", "p", "e")),
            (r#"{"Auth":"Zm9vOmJhcg=="}"#, entry("foo", "bar", "")),
            (r#"{"AUTH":"Zm9vOmJhcg=="}"#, entry("foo", "bar", "")),
            // Go's Unicode simple folding: U+017F LONG S matches 's', U+212A KELVIN SIGN matches 'k'
            (
                "{\"u\u{17F}ername\":\"u\",\"pa\u{17F}\u{17F}word\":\"p\"}",
                entry("u", "p", ""),
            ),
            // escapes are decoded before matching
            (r#"{"\u0075sername":"u"}"#, entry("u", "", "")),
            // near misses are unknown members, ignored
            (
                r#"{"user_name":"u","pass":"p","mail":"e","authx":"!!","user":5}"#,
                entry("", "", ""),
            ),
            // a non-ASCII letter that folds to nothing ASCII does not match
            ("{\"\u{fc}sername\":\"u\"}", entry("", "", "")),
        ];
        for (input, want) in cases {
            assert_eq!(&one_entry(input).unwrap(), want, "{input}");
        }
        let tokens = one_entry("{\"IdentityToken\":\"it\",\"registrytoken\":\"rt\",\"username\":\"u\"}").unwrap();
        assert_eq!(
            (tokens.identity_token.as_str(), tokens.registry_token.as_str()),
            ("it", "rt")
        );
        let kelvin = one_entry("{\"identityto\u{212A}en\":\"it\"}").unwrap();
        assert_eq!(kelvin.identity_token, "it");
    }

    #[test]
    fn entry_duplicates_and_nulls_follow_go() {
        // last member wins, whatever its spelling
        assert_eq!(one_entry(r#"{"username":"a","Username":"b"}"#).unwrap().username, "b");
        // null leaves a string field unchanged (Go: no effect)
        assert_eq!(one_entry(r#"{"username":"a","username":null}"#).unwrap().username, "a");
        assert_eq!(one_entry(r#"{"password":null}"#).unwrap(), AuthEntry::default());
        // a later empty auth cancels an earlier one
        assert_eq!(
            one_entry(r#"{"auth":"Zm9vOmJhcg==","auth":"","username":"u"}"#).unwrap(),
            entry("u", "", "")
        );
        // a null entry is an empty credential, still present
        assert_eq!(one_entry("null").unwrap(), AuthEntry::default());
        assert_eq!(one_entry("{}").unwrap(), AuthEntry::default());
    }

    #[test]
    fn identity_and_registry_tokens_are_carried_leniently() {
        let e = one_entry(r#"{"username":"u","identitytoken":"it","registrytoken":"rt"}"#).unwrap();
        assert_eq!((e.identity_token.as_str(), e.registry_token.as_str()), ("it", "rt"));
        // the kubelet never reads them, so a wrong type is not an error: it is ignored
        let e = one_entry(r#"{"identitytoken":5,"registrytoken":{"a":[1e999]},"username":"u"}"#).unwrap();
        assert_eq!(e, entry("u", "", ""));
        let e = one_entry(r#"{"identitytoken":"it","identitytoken":null}"#).unwrap();
        assert_eq!(e.identity_token, "it");
    }

    #[test]
    fn wrong_types_are_errors_naming_key_and_field() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"auths":{"x":{"username":5}}}"#,
                r#"auths["x"].username: expected a string"#,
            ),
            (
                r#"{"auths":{"x":{"password":true}}}"#,
                r#"auths["x"].password: expected a string"#,
            ),
            (
                r#"{"auths":{"x":{"email":{}}}}"#,
                r#"auths["x"].email: expected a string"#,
            ),
            (
                r#"{"auths":{"x":{"auth":["Zm9vOmJhcg=="]}}}"#,
                r#"auths["x"].auth: expected a string"#,
            ),
            (r#"{"auths":{"x":"Zm9vOmJhcg=="}}"#, r#"auths["x"]: expected an object"#),
            (r#"{"auths":{"x":[]}}"#, r#"auths["x"]: expected an object"#),
            (r#"{"auths":{"x":7}}"#, r#"auths["x"]: expected an object"#),
            (r#"{"auths":"x"}"#, "auths: expected an object"),
            (r#"{"auths":[]}"#, "auths: expected an object"),
            (r#"{"HttpHeaders":"x"}"#, "HttpHeaders: expected an object"),
            (
                r#"{"HttpHeaders":{"X-Meta":1}}"#,
                r#"HttpHeaders["X-Meta"]: expected a string"#,
            ),
            ("[]", "top level: expected an object"),
            (r#""auths""#, "top level: expected an object"),
            ("5", "top level: expected an object"),
            ("true", "top level: expected an object"),
            // a key with characters that need escaping is shown escaped
            (
                "{\"auths\":{\"a\\\"b\\n\":{\"username\":1}}}",
                r#"auths["a\"b\n"].username: expected a string"#,
            ),
        ];
        for (input, want) in cases {
            let e = config_json_err(input);
            assert_eq!(e.kind, DockerConfigErrorKind::Json, "{input}");
            assert!(e.message.starts_with(want), "{input}: {:?}", e.message);
            assert!(e.message.contains(" at line 1 column "), "{input}: {:?}", e.message);
        }
        let e = parse_docker_config(br#"{"x": {"username": 1}}"#, ConfigFormat::DockerCfg).unwrap_err();
        assert!(
            e.message.starts_with(r#"["x"].username: expected a string at line 1"#),
            "{}",
            e.message
        );
        let e = parse_docker_config(b"[1]", ConfigFormat::DockerCfg).unwrap_err();
        assert!(e.message.starts_with("top level: expected an object"), "{}", e.message);
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let cases: &[&str] = &[
            "",
            "   ",
            "{",
            r#"{"auths":{},}"#,
            r#"{"auths":{}} x"#,
            r#"{"auths":{}}{}"#,
            "\u{feff}{}",
            "{'auths':{}}",
            r#"{"auths":{"x":{"username":"a\q"}}}"#,
            "{\"auths\":{\"x\":{\"username\":\"a\u{1}\"}}}",
            r#"{"auths":{"x":{"username":"\ud800"}}, "y": "\uZZZZ"}"#,
            "{\"a\":1}\n\n  }",
        ];
        for input in cases {
            let e = config_json_err(input);
            assert_eq!(e.kind, DockerConfigErrorKind::Json, "{input:?}");
            assert!(e.message.starts_with("invalid JSON: "), "{input:?}: {}", e.message);
            assert!(e.message.contains(" at line "), "{input:?}: {}", e.message);
        }
        let e = config_json_err("{\"a\":1}\n\n  }");
        assert!(e.message.ends_with("at line 3 column 3"), "{}", e.message);
    }

    // --- config.json top level ------------------------------------------------------------------

    #[test]
    fn missing_or_null_auths_is_empty_not_an_error() {
        for input in [
            "{}",
            r#"{"auths": null}"#,
            r#"{"auths": {}}"#,
            "null",
            " null ",
            r#"{"credsStore":"x"}"#,
        ] {
            let cfg = config_json(input);
            assert!(cfg.entries.is_empty(), "{input}");
        }
        assert_eq!(dockercfg("null"), DockerConfig::default());
        assert_eq!(dockercfg("{}"), DockerConfig::default());
    }

    #[test]
    fn auths_member_name_is_case_insensitive_and_maps_merge_like_go() {
        assert_eq!(keys(&config_json(r#"{"AUTHS": {"a": {}}}"#)), ["a"]);
        assert_eq!(keys(&config_json("{\"auth\u{17F}\": {\"a\": {}}}")), ["a"]);
        // Go decodes a repeated map member into the same map: entries are merged, last value wins.
        let cfg = config_json(
            r#"{"auths": {"a": {"username":"1"}, "b": {"username":"2"}}, "Auths": {"b": {"username":"3"}, "c": {}}}"#,
        );
        assert_eq!(keys(&cfg), ["a", "b", "c"]);
        assert_eq!(cfg.entries[1].1.username, "3");
        // null sets the map to nil; a later object starts afresh
        let cfg = config_json(r#"{"auths": {"a": {}}, "auths": null, "auths": {"b": {}}}"#);
        assert_eq!(keys(&cfg), ["b"]);
        let cfg = config_json(r#"{"auths": {"a": {}}, "auths": null}"#);
        assert!(cfg.entries.is_empty());
    }

    #[test]
    fn duplicate_registry_keys_last_wins_at_first_position() {
        let cfg = config_json(r#"{"auths": {"a": {"username":"1"}, "b": {"username":"2"}, "a": {"username":"3"}}}"#);
        assert_eq!(keys(&cfg), ["a", "b"]);
        assert_eq!(cfg.entries[0].1.username, "3");
        // the whole entry is replaced, not merged field by field
        let cfg = dockercfg(r#"{"a": {"username":"1","email":"e"}, "a": {"password":"p"}}"#);
        assert_eq!(cfg.entries, vec![("a".to_owned(), entry("", "p", ""))]);
        // keys differing only in case are different registries
        assert_eq!(keys(&dockercfg(r#"{"A.io": {}, "a.io": {}}"#)), ["A.io", "a.io"]);
    }

    #[test]
    fn entries_keep_file_order_and_raw_keys() {
        let cfg = config_json(
            r#"{"auths": {"z.io": {}, "https://index.docker.io/v1/": {}, "a.io:5000/ns": {}, "*.b.io": {}, "": {}}}"#,
        );
        assert_eq!(
            keys(&cfg),
            ["z.io", "https://index.docker.io/v1/", "a.io:5000/ns", "*.b.io", ""]
        );
    }

    #[test]
    fn http_headers_creds_store_and_cred_helpers_are_recorded() {
        let cfg = config_json(
            r#"{"auths": {"r.io": {"auth": "Zm9vOmJhcg=="}},
                "HttpHeaders": {"User-Agent": "ua", "X-Meta": "m"},
                "credsStore": "desktop",
                "credHelpers": {"gcr.io": "gcloud", "123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"},
                "proxies": {"default": {"httpProxy": "http://p"}}, "experimental": "enabled"}"#,
        );
        assert_eq!(cfg.entries, vec![("r.io".to_owned(), entry("foo", "bar", ""))]);
        assert_eq!(
            cfg.http_headers,
            vec![("User-Agent".into(), "ua".into()), ("X-Meta".into(), "m".into())]
        );
        assert_eq!(cfg.creds_store.as_deref(), Some("desktop"));
        assert_eq!(
            cfg.cred_helpers,
            vec![
                ("gcr.io".into(), "gcloud".into()),
                ("123.dkr.ecr.us-east-1.amazonaws.com".into(), "ecr-login".into())
            ]
        );
        // case-insensitive member names; null header value is "" (Go map[string]string)
        let cfg =
            config_json(r#"{"httpheaders": {"A": null, "B": "1", "A": "2"}, "CREDSSTORE": "pass", "credhelpers": {}}"#);
        assert_eq!(
            cfg.http_headers,
            vec![("A".into(), "2".into()), ("B".into(), "1".into())]
        );
        assert_eq!(cfg.creds_store.as_deref(), Some("pass"));
        let cfg = config_json(r#"{"HttpHeaders": {"A": "1", "A": null}}"#);
        assert_eq!(cfg.http_headers, vec![("A".into(), String::new())]);
    }

    #[test]
    fn creds_store_and_cred_helpers_are_lenient() {
        // the kubelet ignores these members entirely: a wrong type must not fail the file
        let cfg = config_json(r#"{"credsStore": 5, "credHelpers": ["x"], "auths": {"a": {}}}"#);
        assert_eq!(
            (cfg.creds_store, cfg.cred_helpers.len(), cfg.entries.len()),
            (None, 0, 1)
        );
        let cfg = config_json(r#"{"credsStore": "", "credHelpers": {"a": 1, "b": "h", "c": null, "d": {"x": 1}}}"#);
        assert_eq!(cfg.creds_store, None, "an empty credsStore means none");
        assert_eq!(cfg.cred_helpers, vec![("b".into(), "h".into())]);
        let cfg = config_json(r#"{"credsStore": "a", "credsStore": null}"#);
        assert_eq!(cfg.creds_store.as_deref(), Some("a"), "null leaves a string unchanged");
        let cfg = config_json(r#"{"credHelpers": {"a": "x"}, "CredHelpers": null}"#);
        assert!(cfg.cred_helpers.is_empty(), "null clears a map");
    }

    #[test]
    fn unknown_members_are_skipped_whatever_they_hold() {
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let text = format!(
            r#"{{"x": {deep}, "n": 1e999, "big": 123456789012345678901234567890, "auths": {{"a": {{"y": {deep}}}}}}}"#
        );
        let cfg = config_json(&text);
        assert_eq!(keys(&cfg), ["a"]);
    }

    #[test]
    fn invalid_utf8_and_lone_surrogates_become_replacement_characters() {
        // Go replaces each invalid byte with U+FFFD instead of failing the file.
        let mut text = br#"{"auths": {"r": {"username": "u", "password": "p"#.to_vec();
        text.extend_from_slice(b"\xff\xe2\x82");
        text.extend_from_slice(br#"q"}, "k"#);
        text.push(0xC0);
        text.extend_from_slice(br#"": {}}, "junk": ""#);
        text.push(0xFE);
        text.extend_from_slice(br#""}"#);
        let cfg = parse_docker_config(&text, ConfigFormat::ConfigJson).unwrap();
        assert_eq!(cfg.entries[0].1.password, "p\u{FFFD}\u{FFFD}\u{FFFD}q");
        assert_eq!(cfg.entries[1].0, "k\u{FFFD}");
        // a lone surrogate escape is one U+FFFD; a proper pair is the character it encodes
        let cfg = config_json(r#"{"auths": {"r": {"password": "a\ud800b\udc00\ud83d\ude00"}}}"#);
        assert_eq!(cfg.entries[0].1.password, "a\u{FFFD}b\u{FFFD}\u{1F600}");
        let cfg = config_json(r#"{"auths": {"\udfff": {"username": "\ud800\ud800"}}}"#);
        assert_eq!(
            cfg.entries[0],
            ("\u{FFFD}".to_owned(), entry("\u{FFFD}\u{FFFD}", "", ""))
        );
    }

    #[test]
    fn go_lossy_is_per_byte() {
        assert_eq!(go_lossy(b"ok"), "ok");
        assert_eq!(go_lossy(b"a\xe2\x82b"), "a\u{FFFD}\u{FFFD}b");
        assert_eq!(go_lossy(b"\xed\xa0\x80"), "\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(go_lossy(b"x\xf0\x9f\x98"), "x\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(go_lossy("\u{e4}\u{1F600}".as_bytes()), "\u{e4}\u{1F600}");
    }

    #[test]
    fn json_check_follows_go_grammar() {
        let valid = [
            "0",
            "-0",
            "1.5e+10",
            "0.0",
            "-12.3E-4",
            "1E5",
            "[]",
            "{}",
            " \t\r\n[1, \"a\", true, false, null, {\"k\": [{}]}] \n",
            r#""\u00e9\/\b\f\n\r\t\\\"""#,
            "\"\u{7f}\u{e9}\"",
        ];
        for text in valid {
            assert!(go_json_check(text).is_ok(), "{text:?}");
        }
        let invalid: &[(&str, &str)] = &[
            ("", "unexpected end of input at line 1 column 1"),
            ("  \n ", "unexpected end of input at line 2 column 2"),
            ("01", "data after the top-level value at line 1 column 2"),
            ("1.", "invalid number at line 1 column 3"),
            (".5", "expected a value at line 1 column 1"),
            ("-", "invalid number at line 1 column 2"),
            ("-a", "invalid number at line 1 column 2"),
            ("1e", "invalid number at line 1 column 3"),
            ("1e+", "invalid number at line 1 column 4"),
            ("+1", "expected a value at line 1 column 1"),
            ("NaN", "expected a value at line 1 column 1"),
            ("tru", "invalid literal at line 1 column 1"),
            ("nul", "invalid literal at line 1 column 1"),
            ("nulls", "data after the top-level value at line 1 column 5"),
            ("[1,]", "expected a value at line 1 column 4"),
            ("[1 2]", "expected ',' or ']' after an array element at line 1 column 4"),
            ("[", "unexpected end of input at line 1 column 2"),
            ("[1", "unexpected end of input at line 1 column 3"),
            ("{\"a\":1,}", "expected a string for an object key at line 1 column 8"),
            ("{1:2}", "expected a string for an object key at line 1 column 2"),
            ("{\"a\" 1}", "expected ':' after an object key at line 1 column 6"),
            (
                "{\"a\":1 \"b\":2}",
                "expected ',' or '}' after an object member at line 1 column 8",
            ),
            ("{\"a\":", "unexpected end of input at line 1 column 6"),
            ("{'a':1}", "expected a string for an object key at line 1 column 2"),
            ("\"a\tb\"", "control character in a string at line 1 column 3"),
            ("\"a\nb\"", "control character in a string at line 1 column 3"),
            (r#""\x""#, "invalid escape in a string at line 1 column 2"),
            (r#""\u12""#, "invalid \\u escape in a string at line 1 column 2"),
            (r#""\u12G4""#, "invalid \\u escape in a string at line 1 column 2"),
            ("\"abc", "unexpected end of input in a string at line 1 column 5"),
            ("{}\n\n  }", "data after the top-level value at line 3 column 3"),
            ("\u{feff}{}", "expected a value at line 1 column 1"),
        ];
        for (text, want) in invalid {
            let e = go_json_check(text).expect_err(text);
            assert_eq!(e.kind, DockerConfigErrorKind::Json);
            assert_eq!(e.message, format!("invalid JSON: {want}"), "{text:?}");
        }
    }

    #[test]
    fn json_check_nesting_limit_is_gos() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(go_json_check(&nested(MAX_DEPTH)).is_ok());
        let e = go_json_check(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert!(
            e.message
                .starts_with("invalid JSON: nesting too deep at line 1 column 10001"),
            "{}",
            e.message
        );
        let objects = format!("{}1{}", "{\"a\":".repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1));
        assert!(go_json_check(&objects).is_err());
    }

    #[test]
    fn json_check_rewrites_keep_every_offset() {
        let text = r#"{"a": 1e999, "b": "x\ud800y\ud83d\ude00\udc00\ud800\ud800\udc00", "c": [-0.5, 0, 12]}"#;
        let fixed = go_json_check(text).unwrap();
        assert_eq!(
            fixed,
            r#"{"a": 0    , "b": "x\ufffdy\ud83d\ude00\ufffd\ufffd\ud800\udc00", "c": [0   , 0, 0 ]}"#
        );
        assert_eq!(fixed.len(), text.len());
        assert!(matches!(go_json_check(r#"{"a": "b", "c": 0}"#), Ok(Cow::Borrowed(_))));
        // numbers where strings are expected are still errors (whatever their value)
        let e = config_json_err(r#"{"auths": {"r": {"username": 1e999}}}"#);
        assert!(
            e.message.starts_with(r#"auths["r"].username: expected a string"#),
            "{}",
            e.message
        );
    }

    #[test]
    fn go_fold_eq_matches_go_field_names() {
        assert!(go_fold_eq("auths", "auths"));
        assert!(go_fold_eq("AuThS", "auths"));
        assert!(go_fold_eq("\u{17F}\u{17F}", "ss"));
        assert!(go_fold_eq("\u{212A}", "k"));
        assert!(!go_fold_eq("auth", "auths"));
        assert!(!go_fold_eq("authss", "auths"));
        assert!(!go_fold_eq("", "auths"));
        assert!(!go_fold_eq("\u{130}", "i"), "dotted capital I does not fold to i in Go");
    }

    // --- legacy format and auto-detection ------------------------------------------------------

    #[test]
    fn legacy_format_treats_every_member_as_a_registry() {
        let cfg = dockercfg(
            r#"{"https://index.docker.io/v1/": {"auth": "Zm9vOmJhcg==", "email": "e"}, "q.io": {"username": "u"}}"#,
        );
        assert_eq!(
            cfg.entries,
            vec![
                ("https://index.docker.io/v1/".to_owned(), entry("foo", "bar", "e")),
                ("q.io".to_owned(), entry("u", "", "")),
            ]
        );
        // a config.json read as legacy: "auths" is a registry whose entry has only unknown members
        let cfg = dockercfg(r#"{"auths": {"r.io": {"username": "u"}}}"#);
        assert_eq!(cfg.entries, vec![("auths".to_owned(), AuthEntry::default())]);
        // a legacy file read as config.json: no auths member, nothing
        assert!(config_json(r#"{"r.io": {"username": "u"}}"#).entries.is_empty());
        // legacy files have no HttpHeaders: the member is a registry, and a string is not an entry
        let e = parse_docker_config(br#"{"HttpHeaders": {"A": "b"}}"#, ConfigFormat::DockerCfg).unwrap();
        assert_eq!(e.entries, vec![("HttpHeaders".to_owned(), AuthEntry::default())]);
    }

    #[test]
    fn auto_detection_picks_the_format_by_auths_member() {
        let cases: &[(&str, &[&str])] = &[
            (r#"{"auths": {"a.io": {}}}"#, &["a.io"]),
            (r#"{"x": 1, "Auths": {"a.io": {}}}"#, &["a.io"]),
            (r#"{"auths": null, "b.io": {}}"#, &[]),
            (r#"{"a.io": {}, "b.io": {}}"#, &["a.io", "b.io"]),
            (r#"{"credsStore": {}}"#, &["credsStore"]),
            ("{}", &[]),
            ("null", &[]),
        ];
        for (input, want) in cases {
            let cfg = parse_docker_config_auto(input.as_bytes()).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(keys(&cfg), *want, "{input}");
        }
        let cfg = parse_docker_config_auto(br#"{"auths": {}, "HttpHeaders": {"A": "b"}, "credsStore": "s"}"#).unwrap();
        assert_eq!(cfg.creds_store.as_deref(), Some("s"));
        let e = parse_docker_config_auto(b"[]").unwrap_err();
        assert!(e.message.starts_with("top level: expected an object"), "{}", e.message);
        let e = parse_docker_config_auto(br#"{"auths": {"a": {"auth": "pants"}}"#).unwrap_err();
        assert_eq!(
            e.kind,
            DockerConfigErrorKind::Json,
            "a syntax error after auths: {}",
            e.message
        );
        let e = parse_docker_config_auto(br#"{"auths": {"a": {"auth": "pants"}}}"#).unwrap_err();
        assert!(e.message.starts_with(r#"auths["a"].auth"#), "{}", e.message);
        let e = parse_docker_config_auto(br#"{"credsStore": "desktop"}"#).unwrap_err();
        assert!(
            e.message.starts_with(r#"["credsStore"]: expected an object"#),
            "{}",
            e.message
        );
    }

    // --- Debug never shows secrets ----------------------------------------------------------------

    #[test]
    fn debug_output_redacts_secrets() {
        let cfg = config_json(
            r#"{"auths": {"r.io": {"username": "alice", "password": "pw-SECRET-1", "identitytoken": "it-SECRET-2",
                                   "registrytoken": "rt-SECRET-3", "email": "a@x"},
                          "q.io": {"auth": "Zm9vOmJhcg=="}},
                "HttpHeaders": {"Authorization": "Bearer hd-SECRET-4"}, "credsStore": "desktop"}"#,
        );
        let shown = format!(
            "{cfg:?} {:#?}",
            PullSecret {
                namespace: "n".into(),
                name: "s".into(),
                config: Some(cfg.clone())
            }
        );
        for secret in ["SECRET", "bar", "Zm9v"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        for visible in ["r.io", "alice", "a@x", "Authorization", "desktop", "<redacted>", "foo"] {
            assert!(shown.contains(visible), "{visible} missing from {shown}");
        }
    }

    #[test]
    fn credentials_written_into_keys_are_not_shown() {
        let cases: &[(&str, &str)] = &[
            ("https://user:pw@r.io/v2/", "https://<redacted>@r.io/v2/"),
            ("user:pw@r.io", "<redacted>@r.io"),
            ("https://a@b@r.io:5000", "https://<redacted>@r.io:5000"),
            ("r.io/ns@sha256:abc", "r.io/ns@sha256:abc"),
            ("https://r.io/v1/", "https://r.io/v1/"),
            ("", ""),
        ];
        for (key, shown) in cases {
            assert_eq!(redact_userinfo(key), *shown);
        }
        let e = config_json_err(r#"{"auths": {"https://u:Cnry7xQ@r.io": {"username": 1}}}"#);
        assert!(
            e.message.starts_with(r#"auths["https://<redacted>@r.io"].username"#),
            "{}",
            e.message
        );
        let cfg = config_json(r#"{"auths": {"https://u:Cnry7xQ@r.io": {}}}"#);
        assert_eq!(cfg.entries[0].0, "https://u:Cnry7xQ@r.io", "the key itself is kept raw");
        assert!(!format!("{cfg:?}").contains(CANARY));
    }

    // --- the canary: no value from the file in any error message --------------------------------

    const CANARY: &str = "Cnry7xQ";

    /// Broken docker configs, each with the canary (or a number) where a secret would be.
    fn canary_configs() -> Vec<(String, ConfigFormat)> {
        let c = CANARY;
        let b64_no_colon = "Q25yeTd4UQ=="; // base64("Cnry7xQ")
        let b64_not_utf8 = "Q25yeTd4Uf86"; // base64("Cnry7xQ\xff:") -> not UTF-8
        vec![
            (
                format!(r#"{{"auths":{{"r":{{"username":"{c}","password":5}}}}}}"#),
                ConfigFormat::ConfigJson,
            ),
            (
                r#"{"auths":{"r":{"password":9876543210}}}"#.to_owned(),
                ConfigFormat::ConfigJson,
            ),
            (
                r#"{"auths":{"r":{"password":98765.4321e3}}}"#.to_owned(),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"auths":{{"r":{{"password":"{c}","auth":"!!"}}}}}}"#),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"auths":{{"r":{{"auth":"{c}-{c}"}}}}}}"#),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"auths":{{"r":{{"auth":"{b64_no_colon}"}}}}}}"#),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"auths":{{"r":{{"auth":"{b64_not_utf8}"}}}}}}"#),
                ConfigFormat::ConfigJson,
            ),
            (format!(r#"{{"auths":{{"r":"{c}"}}}}"#), ConfigFormat::ConfigJson),
            (format!(r#"{{"auths":"{c}"}}"#), ConfigFormat::ConfigJson),
            (format!(r#""{c}""#), ConfigFormat::ConfigJson),
            (format!(r#""{c}""#), ConfigFormat::DockerCfg),
            (format!(r#"{{"r":"{c}"}}"#), ConfigFormat::DockerCfg),
            (format!(r#"{{"r":{{"password":["{c}"]}}}}"#), ConfigFormat::DockerCfg),
            (format!(r#"{{"HttpHeaders":"{c}"}}"#), ConfigFormat::ConfigJson),
            (
                format!(r#"{{"HttpHeaders":{{"Authorization":["{c}"]}}}}"#),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"HttpHeaders":{{"Authorization":true, "x": "{c}"}}}}"#),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"auths":{{"r":{{"password":"{c}""#),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"auths":{{"r":{{"password":"{c}"#),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"auths":{{"r":{{"password":"{c}\x"}}}}}}"#),
                ConfigFormat::ConfigJson,
            ),
            (
                format!("{{\"auths\":{{\"r\":{{\"password\":\"{c}\u{7}\"}}}}}}"),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"auths":{{"r":{{"password":"{c}" "x"}}}}}}"#),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"auths":{{"r":{{"password":{c}}}}}}}"#),
                ConfigFormat::ConfigJson,
            ),
            (
                format!(r#"{{"auths":{{"r":{{"password":"x"}}}}}} {c}"#),
                ConfigFormat::ConfigJson,
            ),
            (format!(r#"[{{"password":"{c}"}}]"#), ConfigFormat::ConfigJson),
            (
                format!(r#"{{"auths":{{"r":{{"email":{{"x":"{c}"}}}}}}}}"#),
                ConfigFormat::ConfigJson,
            ),
        ]
    }

    #[test]
    fn error_messages_never_contain_values_from_docker_configs() {
        let json_cases = canary_configs();
        for (input, format) in &json_cases {
            let e = parse_docker_config(input.as_bytes(), *format).expect_err(input);
            assert_no_values(&e, input);
            if let Err(e) = parse_docker_config_auto(input.as_bytes()) {
                assert_no_values(&e, input);
            }
        }
    }

    #[test]
    fn error_messages_never_contain_values_from_secrets() {
        // the same broken configs inside secrets (stringData, data) and secret dirs
        for (input, format) in &canary_configs() {
            let (ty, key) = match format {
                ConfigFormat::ConfigJson => (SECRET_TYPE_DOCKER_CONFIG_JSON, DOCKER_CONFIG_JSON_KEY),
                ConfigFormat::DockerCfg => (SECRET_TYPE_DOCKERCFG, DOCKERCFG_KEY),
            };
            let as_string = serde_json::to_string(input).unwrap();
            let manifest = format!(
                r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"{ty}","stringData":{{"{key}":{as_string}}}}}"#
            );
            assert_no_values(&parse_secret_manifests(manifest.as_bytes()).unwrap_err(), &manifest);
            let encoded = base64::engine::general_purpose::STANDARD.encode(input);
            let manifest = format!("kind: Secret\nmetadata: {{name: s}}\ntype: {ty}\ndata:\n  {key}: {encoded}\n");
            assert_no_values(&parse_secret_manifests(manifest.as_bytes()).unwrap_err(), &manifest);
            let files = vec![(key.to_owned(), input.as_bytes().to_vec())];
            assert_no_values(&parse_secret_dir(&files).unwrap_err(), input);
        }
    }

    #[test]
    fn error_messages_never_contain_values_from_manifests() {
        let c = CANARY;
        let manifest_cases: Vec<String> = vec![
            // not base64
            format!("kind: Secret\nmetadata: {{name: s}}\ntype: {SECRET_TYPE_DOCKER_CONFIG_JSON}\ndata:\n  .dockerconfigjson: {c}-{c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\ntype: {SECRET_TYPE_DOCKER_CONFIG_JSON}\ndata:\n  .dockerconfigjson: [{c}]\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\ntype: {SECRET_TYPE_DOCKER_CONFIG_JSON}\nstringData:\n  .dockerconfigjson: {{a: {c}}}\n"),
            // YAML-level errors around a value
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: !!int {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: !!bool {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: !!float {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: !!null {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: \"{c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: '{c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: {c}\n   - x: {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: \"{c}\\q\"\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: *{c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData: {{.dockerconfigjson: {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: 123456789012345678901234567890123\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: {c}\n\t"),
            // JSON-level errors around a value
            format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},"stringData":{{".dockerconfigjson":"{c}"#),
            format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},"stringData":{{".dockerconfigjson":"{c}\q"}}}}"#),
            format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},"stringData":{{".dockerconfigjson":{c}}}}}"#),
            format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"{SECRET_TYPE_DOCKER_CONFIG_JSON}","data":{{".dockerconfigjson":"{c}"}}}}"#),
            format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"{SECRET_TYPE_DOCKER_CONFIG_JSON}","stringData":{{".dockerconfigjson":1{c}}}}}"#),
        ];
        for manifest in &manifest_cases {
            let e = parse_secret_manifests(manifest.as_bytes()).expect_err(manifest);
            assert_no_values(&e, manifest);
        }
    }

    fn assert_no_values(e: &DockerConfigError, input: &str) {
        let lower = e.message.to_lowercase();
        for value in [
            CANARY,
            "Q25yeTd4U",
            "9876543210",
            "98765",
            "123456789012345678901234567890123",
        ] {
            assert!(
                !lower.contains(&value.to_lowercase()),
                "{value:?} leaked for {input:?}: {:?}",
                e.message
            );
        }
        assert!(!e.message.is_empty());
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(CANARY), "{shown}");
    }

    // --- Secret manifests -------------------------------------------------------------------------

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    fn secrets(text: &str) -> Vec<PullSecret> {
        parse_secret_manifests(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn secrets_err(text: &str) -> DockerConfigError {
        match parse_secret_manifests(text.as_bytes()) {
            Ok(s) => panic!("{text} parsed: {s:?}"),
            Err(e) => e,
        }
    }

    const AUTHS: &str = r#"{"auths":{"r.io":{"auth":"Zm9vOmJhcg=="}}}"#;
    const LEGACY: &str = r#"{"l.io":{"username":"u","password":"p"}}"#;

    /// A config with the one entry `key` → foo/bar.
    fn foo_bar(key: &str) -> DockerConfig {
        DockerConfig {
            entries: vec![(key.to_owned(), entry("foo", "bar", ""))],
            ..DockerConfig::default()
        }
    }

    #[test]
    fn json_secret_with_base64_data() {
        let text = format!(
            r#"{{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"regcred","namespace":"apps"}},
                "type":"kubernetes.io/dockerconfigjson","data":{{".dockerconfigjson":"{}"}}}}"#,
            b64(AUTHS)
        );
        assert_eq!(
            secrets(&text),
            vec![PullSecret {
                namespace: "apps".into(),
                name: "regcred".into(),
                config: Some(foo_bar("r.io"))
            }]
        );
    }

    #[test]
    fn yaml_secret_with_string_data_and_default_namespace() {
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{AUTHS}'\n"
        );
        assert_eq!(
            secrets(&text),
            vec![PullSecret {
                namespace: "default".into(),
                name: "regcred".into(),
                config: Some(foo_bar("r.io"))
            }]
        );
        let text = format!("kind: Secret\nmetadata: {{name: s, namespace: ''}}\ntype: kubernetes.io/dockercfg\nstringData:\n  .dockercfg: '{LEGACY}'\n");
        let got = secrets(&text);
        assert_eq!(got[0].namespace, "default");
        assert_eq!(
            got[0].config.as_ref().unwrap().entries,
            vec![("l.io".to_owned(), entry("u", "p", ""))]
        );
    }

    #[test]
    fn yaml_data_may_be_a_folded_base64_block() {
        let encoded = b64(AUTHS);
        let (head, tail) = encoded.split_at(20);
        let text = format!(
            "kind: Secret\nmetadata: {{name: s}}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: |\n    {head}\n    {tail}\n"
        );
        assert_eq!(secrets(&text)[0].config, Some(foo_bar("r.io")));
    }

    #[test]
    fn string_data_wins_over_data() {
        let text = format!(
            r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"kubernetes.io/dockerconfigjson",
                "data":{{".dockerconfigjson":"{}"}},"stringData":{{".dockerconfigjson":{}}}}}"#,
            b64(r#"{"auths":{"data.io":{}}}"#),
            serde_json::to_string(AUTHS).unwrap()
        );
        assert_eq!(secrets(&text)[0].config, Some(foo_bar("r.io")));
        // stringData for another key does not hide data
        let text = format!(
            r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"kubernetes.io/dockerconfigjson",
                "data":{{".dockerconfigjson":"{}"}},"stringData":{{"other":"x"}}}}"#,
            b64(AUTHS)
        );
        assert_eq!(secrets(&text)[0].config, Some(foo_bar("r.io")));
        // an empty stringData value empties the key: ignored
        let text = format!(
            r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"kubernetes.io/dockerconfigjson",
                "data":{{".dockerconfigjson":"{}"}},"stringData":{{".dockerconfigjson":""}}}}"#,
            b64(AUTHS)
        );
        assert_eq!(secrets(&text)[0].config, None);
    }

    #[test]
    fn lists_multi_documents_and_both_types_in_order() {
        let list = format!(
            r#"{{"apiVersion":"v1","kind":"List","items":[
                {{"kind":"Secret","metadata":{{"name":"a","namespace":"n1"}},"type":"kubernetes.io/dockerconfigjson","data":{{".dockerconfigjson":"{}"}}}},
                {{"metadata":{{"name":"b"}},"type":"kubernetes.io/dockercfg","data":{{".dockercfg":"{}"}}}},
                {{"metadata":{{"name":"c"}},"type":"Opaque","data":{{"x":"eA=="}}}}]}}"#,
            b64(AUTHS),
            b64(LEGACY)
        );
        let got = secrets(&list);
        let names: Vec<_> = got
            .iter()
            .map(|s| (s.namespace.as_str(), s.name.as_str(), s.config.is_some()))
            .collect();
        assert_eq!(
            names,
            [("n1", "a", true), ("default", "b", true), ("default", "c", false)]
        );
        assert_eq!(got[1].config.as_ref().unwrap().entries[0].0, "l.io");

        let secret_list = list.replace(r#""kind":"List""#, r#""kind":"SecretList""#);
        assert_eq!(secrets(&secret_list), got);

        let yaml = format!(
            "---\n# leading empty document\n---\nkind: Secret\nmetadata: {{name: one}}\ntype: kubernetes.io/dockercfg\nstringData: {{.dockercfg: '{LEGACY}'}}\n---\n---\nkind: List\nitems:\n- kind: Secret\n  metadata: {{name: two}}\n  type: kubernetes.io/dockerconfigjson\n  stringData: {{.dockerconfigjson: '{AUTHS}'}}\n...\n---\nkind: Secret\nmetadata: {{name: three, namespace: z}}\n"
        );
        let got = secrets(&yaml);
        let names: Vec<_> = got
            .iter()
            .map(|s| (s.namespace.as_str(), s.name.as_str(), s.config.is_some()))
            .collect();
        assert_eq!(
            names,
            [
                ("default", "one", true),
                ("default", "two", true),
                ("z", "three", false)
            ]
        );

        // several JSON values one after another, and a JSON array of Secrets
        let one = format!(
            r#"{{"kind":"Secret","metadata":{{"name":"j1"}},"type":"kubernetes.io/dockerconfigjson","stringData":{{".dockerconfigjson":{}}}}}"#,
            serde_json::to_string(AUTHS).unwrap()
        );
        let two = r#"{"kind":"Secret","metadata":{"name":"j2"}}"#;
        let got = secrets(&format!("{one}\n{two}"));
        assert_eq!(got.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["j1", "j2"]);
        let got = secrets(&format!(" [{one}, {two}, null]"));
        assert_eq!(got.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["j1", "j2"]);
        // an empty List, an empty file
        assert!(secrets(r#"{"kind":"List","items":[]}"#).is_empty());
        assert!(secrets(r#"{"kind":"List"}"#).is_empty());
        assert!(secrets("").is_empty());
        assert!(secrets(" \n\t\n").is_empty());
        assert!(secrets("# only a comment\n").is_empty());
        assert!(secrets("null").is_empty());
    }

    #[test]
    fn secrets_the_kubelet_ignores_have_no_config() {
        let docker_json = SECRET_TYPE_DOCKER_CONFIG_JSON;
        let cfg = SECRET_TYPE_DOCKERCFG;
        let auths = b64(AUTHS);
        let cases: Vec<String> = vec![
            // mismatched key/type
            format!(r#"{{"type":"{docker_json}","data":{{".dockercfg":"{auths}"}}}}"#),
            format!(r#"{{"type":"{cfg}","data":{{".dockerconfigjson":"{auths}"}}}}"#),
            // other types, no type
            format!(r#"{{"type":"Opaque","data":{{".dockerconfigjson":"{auths}"}}}}"#),
            format!(r#"{{"data":{{".dockerconfigjson":"{auths}"}}}}"#),
            format!(r#"{{"type":"kubernetes.io/DockerConfigJson","data":{{".dockerconfigjson":"{auths}"}}}}"#),
            // empty data
            format!(r#"{{"type":"{docker_json}","data":{{".dockerconfigjson":""}}}}"#),
            format!(r#"{{"type":"{docker_json}","data":{{".dockerconfigjson":null}}}}"#),
            format!(r#"{{"type":"{docker_json}","stringData":{{".dockerconfigjson":null}}}}"#),
            format!(r#"{{"type":"{docker_json}","data":{{}}}}"#),
            format!(r#"{{"type":"{docker_json}"}}"#),
            format!(r#"{{"type":"{cfg}","data":null}}"#),
            // other keys of an ignored secret are not even looked at
            r#"{"type":"Opaque","data":{"x":"not base64 !!"}}"#.to_owned(),
            format!(r#"{{"type":"{docker_json}","data":{{".dockerconfigjson":"","other":"!!"}}}}"#),
        ];
        for fields in cases {
            let text = format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},{}"#, &fields[1..]);
            let got = secrets(&text);
            assert_eq!(got.len(), 1, "{text}");
            assert_eq!(got[0].config, None, "{text}");
        }
        // accepted but empty: Some(empty), which still counts as a secret for the kubelet
        let text = format!(
            r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"{docker_json}","data":{{".dockerconfigjson":"{}"}}}}"#,
            b64("{}")
        );
        assert_eq!(secrets(&text)[0].config, Some(DockerConfig::default()));
    }

    #[test]
    fn broken_docker_secrets_are_errors_naming_the_secret_and_key() {
        let t = SECRET_TYPE_DOCKER_CONFIG_JSON;
        let head = format!(r#"{{"kind":"Secret","metadata":{{"name":"regcred","namespace":"apps"}},"type":"{t}","#);
        let cases: Vec<(String, DockerConfigErrorKind, &str)> = vec![
            (
                format!(r#"{head}"data":{{".dockerconfigjson":"e30"}}}}"#),
                DockerConfigErrorKind::Manifest,
                r#"secret apps/regcred: data[".dockerconfigjson"]: invalid base64"#,
            ),
            (
                format!(r#"{head}"data":{{".dockerconfigjson":"e3-="}}}}"#),
                DockerConfigErrorKind::Manifest,
                r#"secret apps/regcred: data[".dockerconfigjson"]: invalid base64"#,
            ),
            (
                format!(r#"{head}"data":{{".dockerconfigjson":"{}"}}}}"#, b64("{")),
                DockerConfigErrorKind::Json,
                "secret apps/regcred: .dockerconfigjson: invalid JSON: unexpected end of input at line 1 column 2",
            ),
            (
                format!(
                    r#"{head}"data":{{".dockerconfigjson":"{}"}}}}"#,
                    b64(r#"{"auths":{"x":{"auth":"pants"}}}"#)
                ),
                DockerConfigErrorKind::Auth,
                r#"secret apps/regcred: .dockerconfigjson: auths["x"].auth: invalid base64"#,
            ),
            (
                format!(r#"{head}"stringData":{{".dockerconfigjson":"[]"}}}}"#),
                DockerConfigErrorKind::Json,
                "secret apps/regcred: .dockerconfigjson: top level: expected an object",
            ),
            (
                format!(r#"{head}"data":{{".dockerconfigjson":5}}}}"#),
                DockerConfigErrorKind::Manifest,
                r#"secret apps/regcred: data[".dockerconfigjson"] must be a string"#,
            ),
            (
                format!(r#"{head}"stringData":{{".dockerconfigjson":{{}}}}}}"#),
                DockerConfigErrorKind::Manifest,
                r#"secret apps/regcred: stringData[".dockerconfigjson"] must be a string"#,
            ),
            (
                format!(r#"{head}"data":[]}}"#),
                DockerConfigErrorKind::Manifest,
                "secret apps/regcred: data must be a map",
            ),
            (
                format!(r#"{head}"stringData":"x"}}"#),
                DockerConfigErrorKind::Manifest,
                "secret apps/regcred: stringData must be a map",
            ),
        ];
        for (text, kind, want) in cases {
            let e = secrets_err(&text);
            assert_eq!(e.kind, kind, "{text}: {}", e.message);
            assert!(e.message.starts_with(want), "{text}: {:?}", e.message);
        }
        let legacy = r#"{"kind":"Secret","metadata":{"name":"old"},"type":"kubernetes.io/dockercfg","stringData":{".dockercfg":"{\"r\":{\"username\":1}}"}}"#;
        let e = secrets_err(legacy);
        assert!(
            e.message
                .starts_with(r#"secret default/old: .dockercfg: ["r"].username: expected a string"#),
            "{}",
            e.message
        );
        // one bad secret fails the whole file, as one bad pull secret fails the kubelet's pull
        let good = r#"{"kind":"Secret","metadata":{"name":"good"}}"#;
        assert!(parse_secret_manifests(format!("{good}\n{legacy}").as_bytes()).is_err());
    }

    #[test]
    fn manifest_shape_errors() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"kind":"ConfigMap","metadata":{"name":"c"}}"#,
                r#"document 1: kind "ConfigMap" is not a Secret or List"#,
            ),
            (
                r#"{"metadata":{"name":"c"}}"#,
                "document 1: no kind (expected Secret or List)",
            ),
            (r#"{"kind":5}"#, "document 1: kind must be a string"),
            (r#"{"kind":"Secret"}"#, "document 1: Secret has no metadata.name"),
            (
                r#"{"kind":"Secret","metadata":{"name":""}}"#,
                "document 1: Secret has no metadata.name",
            ),
            (
                r#"{"kind":"Secret","metadata":{"name":5}}"#,
                "document 1: metadata.name must be a string",
            ),
            (
                r#"{"kind":"Secret","metadata":[]}"#,
                "document 1: metadata must be a map",
            ),
            (
                r#"{"kind":"Secret","metadata":{"name":"s","namespace":1}}"#,
                "document 1: metadata.namespace must be a string",
            ),
            (
                r#"{"kind":"Secret","metadata":{"name":"s"},"type":1}"#,
                "secret default/s: type must be a string",
            ),
            (r#"{"kind":"List","items":{}}"#, "document 1: items must be a list"),
            (
                r#"{"kind":"List","items":[{"kind":"ConfigMap"}]}"#,
                r#"document 1 items[0]: kind "ConfigMap" is not a Secret"#,
            ),
            (
                r#"{"kind":"List","items":[{"kind":"Secret","metadata":{"name":"a"}},"x"]}"#,
                "document 1 items[1]: expected a Secret object",
            ),
            (
                r#"{"kind":"List","items":[{"kind":"Secret"}]}"#,
                "document 1 items[0]: Secret has no metadata.name",
            ),
            ("[1]", "document 1[0]: expected a Kubernetes object"),
            (
                "kind: Secret\nmetadata: {name: a}\n---\nkind: Pod\n",
                r#"document 2: kind "Pod" is not a Secret or List"#,
            ),
            ("just text", "document 1: expected a Kubernetes object"),
            (
                "{\"kind\":\"Secret\"",
                "invalid JSON: EOF while parsing an object at line 1 column 16",
            ),
            ("kind: Secret\n  metadata: x: y\n", "invalid YAML"),
        ];
        for (text, want) in cases {
            let e = secrets_err(text);
            assert_eq!(e.kind, DockerConfigErrorKind::Manifest, "{text}");
            assert!(e.message.starts_with(want), "{text}: {:?}", e.message);
        }
    }

    #[test]
    fn yaml_errors_keep_fixed_descriptions_and_positions() {
        let e = secrets_err("kind: Secret\nmetadata: {name: s\n");
        assert!(e.message.starts_with("invalid YAML: "), "{}", e.message);
        assert!(e.message.contains("line"), "{}", e.message);
        let e = secrets_err("kind: Secret\nstringData: {x: !!int abc}\n");
        assert!(e.message.starts_with("invalid YAML at line 2 column "), "{}", e.message);
    }

    // --- mounted secret directories -------------------------------------------------------------

    #[test]
    fn secret_dirs() {
        let file = |name: &str, text: &str| (name.to_owned(), text.as_bytes().to_vec());
        assert_eq!(
            parse_secret_dir(&[file(".dockerconfigjson", AUTHS)]).unwrap(),
            Some(foo_bar("r.io"))
        );
        let legacy = parse_secret_dir(&[file("..data/.dockercfg", LEGACY), file("other", "x")])
            .unwrap()
            .unwrap();
        assert_eq!(keys(&legacy), ["l.io"]);
        // both present: .dockerconfigjson first, as the kubelet checks that type first
        let both = parse_secret_dir(&[file(".dockercfg", LEGACY), file(".dockerconfigjson", AUTHS)]).unwrap();
        assert_eq!(both, Some(foo_bar("r.io")));
        // an empty file is ignored like empty secret data
        let empty_json = parse_secret_dir(&[file(".dockerconfigjson", ""), file(".dockercfg", LEGACY)]).unwrap();
        assert_eq!(keys(&empty_json.unwrap()), ["l.io"]);
        assert_eq!(parse_secret_dir(&[file(".dockerconfigjson", "")]).unwrap(), None);
        assert_eq!(
            parse_secret_dir(&[file("config.json", AUTHS), file("x.dockercfg", LEGACY)]).unwrap(),
            None
        );
        assert_eq!(parse_secret_dir(&[]).unwrap(), None);
        // the format follows the file name
        let as_legacy = parse_secret_dir(&[file(".dockercfg", AUTHS)]).unwrap().unwrap();
        assert_eq!(keys(&as_legacy), ["auths"]);
        let e = parse_secret_dir(&[file(".dockerconfigjson", r#"{"auths":{"r":{"auth":"x"}}}"#)]).unwrap_err();
        assert_eq!(e.kind, DockerConfigErrorKind::Auth);
        assert!(
            e.message
                .starts_with(r#".dockerconfigjson: auths["r"].auth: invalid base64"#),
            "{}",
            e.message
        );
    }

    // --- properties -----------------------------------------------------------------------------

    mod props {
        use super::super::*;
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            #[test]
            fn auth_round_trips_padded_raw_and_with_line_breaks(
                user in "[^:]{0,12}",
                pass in ".{0,24}",
                breaks in proptest::collection::vec(0usize..64, 0..4),
            ) {
                let plain = format!("{user}:{pass}");
                for encoded in [STANDARD.encode(&plain), STANDARD_NO_PAD.encode(&plain)] {
                    let mut with_breaks = encoded.clone();
                    for at in &breaks {
                        let at = (*at).min(with_breaks.len());
                        with_breaks.insert_str(at, "\r\n");
                    }
                    for input in [&encoded, &with_breaks] {
                        let (u, p) = parse_entry_auth(input).unwrap();
                        prop_assert_eq!((u.as_str(), p.as_str()), (user.as_str(), pass.as_str()));
                    }
                }
            }

            #[test]
            fn parsers_never_panic_on_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
                let _ = parse_docker_config(&data, ConfigFormat::ConfigJson);
                let _ = parse_docker_config(&data, ConfigFormat::DockerCfg);
                let _ = parse_docker_config_auto(&data);
                let _ = parse_secret_manifests(&data);
                let _ = parse_secret_dir(&[(".dockercfg".to_owned(), data.clone())]);
                let _ = parse_entry_auth(&String::from_utf8_lossy(&data));
            }

            #[test]
            fn parsers_never_panic_on_json_like_text(text in r#"[{}\[\]":,\\ a-z0-9.eE+\-nulltruefalse\u{e9}\u{17f}]{0,80}"#) {
                let _ = parse_docker_config(text.as_bytes(), ConfigFormat::ConfigJson);
                let _ = parse_docker_config_auto(text.as_bytes());
                let _ = parse_secret_manifests(text.as_bytes());
            }

            #[test]
            fn json_check_agrees_with_serde_json_on_validity(text in r#"[{}\[\]":, a0-9.e\-nul]{0,40}"#) {
                // Both implement RFC 8259 for ASCII input without escapes; depth stays far below limits.
                let ours = go_json_check(&text).is_ok();
                let theirs = serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
                prop_assert_eq!(ours, theirs, "{:?}", text);
            }

            #[test]
            fn string_values_survive_parsing(user in "\\PC{0,16}", pass in "\\PC{0,16}", key in "\\PC{0,16}") {
                let text = serde_json::json!({ "auths": { &key: { "username": &user, "password": &pass } } }).to_string();
                let cfg = parse_docker_config(text.as_bytes(), ConfigFormat::ConfigJson).unwrap();
                prop_assert_eq!(cfg.entries.len(), 1);
                prop_assert_eq!(&cfg.entries[0].0, &key);
                prop_assert_eq!(&cfg.entries[0].1.username, &user);
                prop_assert_eq!(&cfg.entries[0].1.password, &pass);
            }
        }
    }
}
