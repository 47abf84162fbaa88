//! Streaming decoding of docker config files with Go `encoding/json` semantics (see the module docs).
//!
//! Errors: a problem we detect is recorded (value-free, with its kind) in a `Recorder` before an opaque
//! serde error aborts the parse; the serde error then only contributes its position. serde's own
//! "invalid type" messages quote the offending value, so they are never shown.

use super::{parse_entry_auth, DockerConfig, DockerConfigError, DockerConfigErrorKind};
use crate::credential::{redact_userinfo, AuthEntry};
use crate::go::json::go_fold_eq;
use crate::limits::Excerpt;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

/// The first shape/auth problem found, recorded before the parse is aborted.
#[derive(Default)]
pub(super) struct Recorder {
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
                path: || format!("{name}[{}]", Excerpt::debug(&key)),
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
    format!("{prefix}[{}]", Excerpt::debug(&redact_userinfo(key)))
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
            // identitytoken/registrytoken are NOT read by the kubelet (docs/kubelet.md §b.1); we carry them
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
pub(super) struct ConfigJsonSeed<'r> {
    pub(super) rec: &'r Recorder,
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
pub(super) struct DockerCfgSeed<'r> {
    pub(super) rec: &'r Recorder,
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
pub(super) struct HasAuthsSeed<'s> {
    pub(super) seen: &'s std::cell::Cell<bool>,
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
pub(super) fn run_json<T>(
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
