//! pullkey's own `ProviderConfig` and the kubelet's `CredentialProviderConfig`.
//!
//! Spec: ../shared/spec/kubelet.md §f (kubelet config reading, schema, validation) and the
//! `ProviderConfig` schema in HELPERS.md / ARCHITECTURE.md.
//!
//! Both are read the same way: JSON when the first non-blank byte is `{` (as apimachinery's
//! `yaml.IsJSONBuffer` decides), YAML otherwise; one document; a key repeated in a mapping is an
//! error; then a strict typed decode in which an unknown field is an error naming its path
//! (`sources[2].paht`, `providers[0].x`). YAML is read as YAML 1.2 (`yes`/`on` are strings, not
//! booleans as in the kubelet's YAML 1.1 reader); merge keys (`<<`) are applied as the kubelet does.

use crate::keyring::CachePolicy;
use crate::protocol::{format_go_duration, format_go_duration_nanos, parse_go_duration_nanos, parse_strict_json};
use crate::protocol::{ApiVersion, DurationError};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;

/// An error in a pullkey `ProviderConfig`: the file, the field path and what is wrong.
///
/// Messages quote only the offending scalar (config values here are paths and enumerations,
/// never secrets), never the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file's display name as passed to [`parse_provider_config`] (may be empty).
    pub file: String,
    /// Field path, e.g. `sources[2].path` (empty for document-level errors).
    pub path: String,
    /// What is wrong, quoting at most the offending scalar.
    pub message: String,
}
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file.is_empty() {
            write!(f, "{}: ", self.file)?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}
impl std::error::Error for ConfigError {}

// ---------------------------------------------------------------------------------------------
// Reading documents
// ---------------------------------------------------------------------------------------------

/// Reads one JSON or YAML document into a JSON value (`YAMLToJSON` semantics: scalar keys become
/// strings, tags are dropped, merge keys applied). Repeated keys and non-finite numbers are errors.
fn load_document(data: &[u8]) -> Result<Value, String> {
    let first = data.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    if first == Some(&b'{') {
        return parse_strict_json(data, None).map_err(|e| format!("not valid JSON: {e}"));
    }
    let mut yaml: serde_norway::Value = serde_norway::from_slice(data).map_err(|e| format!("not valid YAML: {e}"))?;
    yaml.apply_merge().map_err(|e| format!("not valid YAML: {e}"))?;
    yaml_to_json(yaml).map_err(|e| format!("not valid YAML: {e}"))
}

fn yaml_to_json(value: serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                Value::Number(serde_json::Number::from_f64(f).ok_or("non-finite numbers (.inf, .nan) are not allowed")?)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_owned(),
                    Y::Tagged(t) => match t.value {
                        Y::String(s) => s,
                        _ => return Err("mapping keys must be scalars".to_owned()),
                    },
                    Y::Sequence(_) | Y::Mapping(_) => return Err("mapping keys must be scalars".to_owned()),
                };
                if object.contains_key(&key) {
                    return Err(format!("duplicate key {key:?}"));
                }
                object.insert(key, yaml_to_json(value)?);
            }
            Value::Object(object)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

/// What a document that is not a mapping is, for messages.
fn document_kind(document: &Value) -> &'static str {
    match document {
        Value::Null => "an empty document",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
        _ => "a scalar",
    }
}

/// A typed-decode failure: field path (`sources[2].paht`) and a message that quotes no value.
struct DecodeFailure {
    path: String,
    message: String,
    unknown_field: bool,
}

/// Names in backticks in a serde message, in order.
fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

fn join_path(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// Rewrites a serde error into our wording: unknown fields get their full path and the list of
/// known fields; type errors say what was expected and what kind of value came, without the value.
fn decode_failure(err: &serde_path_to_error::Error<serde_json::Error>) -> DecodeFailure {
    let mut path = err.path().to_string();
    if path == "." {
        path.clear();
    }
    let inner = err.inner().to_string();
    if let Some(rest) = inner.strip_prefix("unknown field ") {
        let names = backticked(rest);
        let field = names.first().copied().unwrap_or_default();
        let expected = names.get(1..).unwrap_or_default().join(", ");
        let message = if expected.is_empty() {
            "unknown field".to_owned()
        } else {
            format!("unknown field, expected one of {expected}")
        };
        // serde_path_to_error already ends the path with the unknown key; add it if it does not.
        let ends_with_field = path == field || path.ends_with(&format!(".{field}"));
        return DecodeFailure {
            path: if ends_with_field { path } else { join_path(&path, field) },
            message,
            unknown_field: true,
        };
    }
    if let Some(rest) = inner.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, "another type"));
        let got_kind = got.split([' ']).next().unwrap_or(got);
        let got = match got_kind {
            "integer" | "floating" => "a number",
            "boolean" => "a boolean",
            "string" | "character" => "a string",
            "sequence" => "a list",
            "map" => "a mapping",
            "unit" | "null" => "null",
            _ => got_kind,
        };
        let expected = if expected.starts_with("struct ") || expected == "a map" {
            "a mapping"
        } else if expected == "a sequence" {
            "a list"
        } else {
            expected
        };
        return DecodeFailure {
            path,
            message: format!("expected {expected}, got {got}"),
            unknown_field: false,
        };
    }
    DecodeFailure {
        path,
        message: inner,
        unknown_field: false,
    }
}

fn decode_typed<T: for<'de> Deserialize<'de>>(value: Value) -> Result<T, DecodeFailure> {
    serde_path_to_error::deserialize(value).map_err(|e| decode_failure(&e))
}

/// Go `strconv.Quote`-style quoting for messages (printable Unicode kept).
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------------
// pullkey ProviderConfig
// ---------------------------------------------------------------------------------------------

/// The `apiVersion` of pullkey's own config file.
pub const PROVIDER_CONFIG_API_VERSION: &str = "pullkey.dev/v1alpha1";
/// The `kind` of pullkey's own config file.
pub const PROVIDER_CONFIG_KIND: &str = "ProviderConfig";
/// Default `cache.duration`: 5 minutes.
pub const DEFAULT_CACHE_DURATION_SECS: u64 = 300;

/// How the kubelet docker-config search paths are combined (spec/kubelet.md §b.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchPolicy {
    /// `merge` (default): every readable file, in search order.
    #[default]
    Merge,
    /// `first`: the kubelet's first-file-wins.
    First,
}

/// The `type` of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// The kubelet docker-config search paths under `rootDir` (§b.2).
    SearchPaths,
    /// An extra `config.json` / `.dockercfg` file (`path`).
    DockerConfig,
    /// A file of Secret manifests (`path`).
    PullSecret,
    /// A directory of manifests and/or mounted secret volumes (`path`).
    PullSecretDir,
}

impl SourceKind {
    const ALL: [(&'static str, SourceKind); 4] = [
        ("SearchPaths", SourceKind::SearchPaths),
        ("DockerConfig", SourceKind::DockerConfig),
        ("PullSecret", SourceKind::PullSecret),
        ("PullSecretDir", SourceKind::PullSecretDir),
    ];

    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, k)| *k == self).map_or("", |(n, _)| n)
    }
}

/// The `format` of a `DockerConfig` source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `auto` (default): `config.json` when the document has an `auths` member, else `.dockercfg`.
    #[default]
    Auto,
    /// `config.json`
    ConfigJson,
    /// `dockercfg`
    DockerCfg,
}

/// One entry of `sources` (order = precedence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `type`.
    pub kind: SourceKind,
    /// Required for every type but `SearchPaths` (where it is refused).
    pub path: Option<String>,
    /// Only `DockerConfig` sources may set it; `Auto` otherwise.
    pub format: Format,
}

/// `cache`: how the kubelet may cache answers (§e.2 steps 7, 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// `cache.policy`: `auto` (default), `Image`, `Registry`, `Global`.
    pub policy: CachePolicy,
    /// Whole seconds (the config's Go duration string must be a whole number of seconds).
    pub duration_secs: u64,
}

/// pullkey's `ProviderConfig` (`apiVersion: pullkey.dev/v1alpha1`, `kind: ProviderConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// `None`: the caller's default (`--root-dir`, `PULLKEY_ROOT_DIR`, `/var/lib/kubelet`).
    pub root_dir: Option<String>,
    /// `searchPolicy`: `merge` (default) or `first`.
    pub search_policy: SearchPolicy,
    /// A malformed source is an error instead of a warning.
    pub strict: bool,
    /// `sources`, in precedence order; default `[{type: SearchPaths}]`.
    pub sources: Vec<Source>,
    /// `cache`; default `{policy: auto, duration: 5m}`.
    pub cache: CacheConfig,
}

impl Default for ProviderConfig {
    /// The configuration used when there is no config file: `[{type: SearchPaths}]`, cache `auto`, 5m.
    fn default() -> Self {
        ProviderConfig {
            root_dir: None,
            search_policy: SearchPolicy::Merge,
            strict: false,
            sources: vec![Source {
                kind: SourceKind::SearchPaths,
                path: None,
                format: Format::Auto,
            }],
            cache: CacheConfig {
                policy: CachePolicy::Auto,
                duration_secs: DEFAULT_CACHE_DURATION_SECS,
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawProviderConfig {
    #[allow(dead_code)] // checked on the untyped document first
    api_version: Option<Value>,
    #[allow(dead_code)]
    kind: Option<Value>,
    root_dir: Option<String>,
    search_policy: Option<String>,
    strict: Option<bool>,
    sources: Option<Vec<RawSource>>,
    cache: Option<RawCache>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    #[serde(rename = "type")]
    kind: Option<String>,
    path: Option<String>,
    format: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    policy: Option<String>,
    duration: Option<String>,
}

/// Checks `apiVersion`/`kind` of an untyped document: present, strings, and equal to `expected`.
fn check_type_meta(object: &Map<String, Value>, field: &str, expected: &str) -> Result<(), (String, String)> {
    match object.get(field) {
        Some(Value::String(s)) if s == expected => Ok(()),
        Some(Value::String(s)) => Err((field.to_owned(), format!("expected {expected}, got {}", go_quote(s)))),
        None | Some(Value::Null) => Err((field.to_owned(), format!("required, expected {expected}"))),
        Some(_) => Err((field.to_owned(), format!("expected the string {expected}"))),
    }
}

/// Parses pullkey's `ProviderConfig` (JSON or YAML, strict; schema in HELPERS.md) from `data`;
/// `name` (a path, never contents) is carried in errors.
///
/// Unknown fields and bad values are errors naming their path, e.g. `sources[2].paht: unknown
/// field, expected one of type, path, format` or `cache.duration: invalid duration "5x" …`.
/// Defaults: `sources: [{type: SearchPaths}]`, `searchPolicy: merge`, `strict: false`,
/// `cache: {policy: auto, duration: 5m}`; a null value means the default.
///
/// ```
/// use _core::pconfig::{parse_provider_config, SourceKind};
/// let cfg = parse_provider_config(b"apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n", "c.yaml").unwrap();
/// assert_eq!(cfg.sources[0].kind, SourceKind::SearchPaths);
/// assert_eq!(cfg.cache.duration_secs, 300);
/// let err = parse_provider_config(b"apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\nsorces: []\n", "c.yaml");
/// assert_eq!(err.unwrap_err().path, "sorces");
/// ```
pub fn parse_provider_config(data: &[u8], name: &str) -> Result<ProviderConfig, ConfigError> {
    let error = |path: &str, message: String| ConfigError {
        file: name.to_owned(),
        path: path.to_owned(),
        message,
    };
    let document = load_document(data).map_err(|m| error("", m))?;
    let Value::Object(object) = &document else {
        return Err(error(
            "",
            format!(
                "expected a {PROVIDER_CONFIG_KIND} mapping, got {}",
                document_kind(&document)
            ),
        ));
    };
    check_type_meta(object, "apiVersion", PROVIDER_CONFIG_API_VERSION).map_err(|(p, m)| error(&p, m))?;
    check_type_meta(object, "kind", PROVIDER_CONFIG_KIND).map_err(|(p, m)| error(&p, m))?;
    let raw: RawProviderConfig = decode_typed(document).map_err(|f| {
        let message = if f.path == "cache.duration" && !f.unknown_field {
            format!("{} (a Go duration string such as \"5m\")", f.message)
        } else {
            f.message
        };
        error(&f.path, message)
    })?;

    let mut config = ProviderConfig::default();
    if let Some(root_dir) = raw.root_dir {
        if root_dir.is_empty() {
            return Err(error(
                "rootDir",
                "must not be empty (omit it for the default)".to_owned(),
            ));
        }
        config.root_dir = Some(root_dir);
    }
    if let Some(policy) = raw.search_policy {
        config.search_policy = match policy.as_str() {
            "merge" => SearchPolicy::Merge,
            "first" => SearchPolicy::First,
            _ => {
                return Err(error(
                    "searchPolicy",
                    format!(
                        "unknown search policy {}, expected one of merge, first",
                        go_quote(&policy)
                    ),
                ))
            }
        };
    }
    config.strict = raw.strict.unwrap_or(false);
    if let Some(sources) = raw.sources {
        if sources.is_empty() {
            return Err(error(
                "sources",
                "must not be empty (omit it for the default [{type: SearchPaths}])".to_owned(),
            ));
        }
        config.sources = sources
            .into_iter()
            .enumerate()
            .map(|(i, raw)| convert_source(i, raw).map_err(|(p, m)| error(&p, m)))
            .collect::<Result<_, _>>()?;
    }
    if let Some(cache) = raw.cache {
        if let Some(policy) = cache.policy {
            config.cache.policy = match policy.as_str() {
                "auto" => CachePolicy::Auto,
                "Image" => CachePolicy::Image,
                "Registry" => CachePolicy::Registry,
                "Global" => CachePolicy::Global,
                _ => {
                    return Err(error(
                        "cache.policy",
                        format!(
                            "unknown cache policy {}, expected one of auto, Image, Registry, Global",
                            go_quote(&policy)
                        ),
                    ))
                }
            };
        }
        if let Some(duration) = cache.duration {
            config.cache.duration_secs = cache_duration_secs(&duration).map_err(|m| error("cache.duration", m))?;
        }
    }
    Ok(config)
}

fn convert_source(index: usize, raw: RawSource) -> Result<Source, (String, String)> {
    let at = |field: &str| format!("sources[{index}].{field}");
    let expected = SourceKind::ALL.map(|(n, _)| n).join(", ");
    let kind = match raw.kind {
        None => return Err((at("type"), format!("required, expected one of {expected}"))),
        Some(kind) => SourceKind::ALL
            .iter()
            .find(|(n, _)| *n == kind)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                (
                    at("type"),
                    format!("unknown source type {}, expected one of {expected}", go_quote(&kind)),
                )
            })?,
    };
    let path = match (kind, raw.path) {
        (SourceKind::SearchPaths, Some(_)) => {
            return Err((
                at("path"),
                "not allowed for type SearchPaths (the search paths are under rootDir)".to_owned(),
            ))
        }
        (SourceKind::SearchPaths, None) => None,
        (_, Some(path)) if !path.is_empty() => Some(path),
        (kind, _) => return Err((at("path"), format!("required for type {}", kind.as_str()))),
    };
    let format = match (kind, raw.format) {
        (_, None) => Format::Auto,
        (SourceKind::DockerConfig, Some(format)) => match format.as_str() {
            "auto" => Format::Auto,
            "config.json" => Format::ConfigJson,
            "dockercfg" => Format::DockerCfg,
            _ => {
                return Err((
                    at("format"),
                    format!(
                        "unknown format {}, expected one of auto, config.json, dockercfg",
                        go_quote(&format)
                    ),
                ))
            }
        },
        (kind, Some(_)) => {
            return Err((
                at("format"),
                format!("only allowed for type DockerConfig, not {}", kind.as_str()),
            ))
        }
    };
    Ok(Source { kind, path, format })
}

/// `cache.duration`: a non-negative Go duration string of whole seconds.
fn cache_duration_secs(text: &str) -> Result<u64, String> {
    let nanos = parse_go_duration_nanos(text).map_err(|e| match e {
        DurationError::Invalid { .. } => format!("invalid duration {}", go_quote(text)),
        DurationError::MissingUnit { .. } => {
            format!(
                "invalid duration {}: missing unit (e.g. \"5m\", \"90s\")",
                go_quote(text)
            )
        }
        DurationError::UnknownUnit { unit, .. } => format!(
            "invalid duration {}: unknown unit {} (units: ns, us, ms, s, m, h)",
            go_quote(text),
            go_quote(&unit)
        ),
    })?;
    let nanos = u64::try_from(nanos).map_err(|_| format!("must not be negative, got {}", go_quote(text)))?;
    if nanos % 1_000_000_000 != 0 {
        return Err(format!("must be a whole number of seconds, got {}", go_quote(text)));
    }
    Ok(nanos / 1_000_000_000)
}

// ---------------------------------------------------------------------------------------------
// kubelet CredentialProviderConfig
// ---------------------------------------------------------------------------------------------

/// The kubelet config group (§f.1).
pub const KUBELET_CONFIG_GROUP: &str = "kubelet.config.k8s.io";
const KUBELET_CONFIG_VERSIONS: [&str; 3] = [
    "kubelet.config.k8s.io/v1",
    "kubelet.config.k8s.io/v1beta1",
    "kubelet.config.k8s.io/v1alpha1",
];

/// `tokenAttributes` of a provider (§f.2; v1 config only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenAttributes {
    /// `serviceAccountTokenAudience` (required).
    pub service_account_token_audience: String,
    /// `cacheType`: `Token` or `ServiceAccount` (required).
    pub cache_type: String,
    /// `requireServiceAccount` (required, hence the `Option` to tell "unset").
    pub require_service_account: Option<bool>,
    /// `requiredServiceAccountAnnotationKeys`.
    pub required_service_account_annotation_keys: Vec<String>,
    /// `optionalServiceAccountAnnotationKeys`.
    pub optional_service_account_annotation_keys: Vec<String>,
}

/// One validated `CredentialProvider` (§f.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeletProvider {
    /// The file it came from (as passed in).
    pub file: String,
    /// `name`: the executable in the kubelet's plugin bin dir.
    pub name: String,
    /// `matchImages` (§c.2 patterns).
    pub match_images: Vec<String>,
    /// Whole seconds (sub-second parts truncated; the exact value is in `default_cache_duration_nanos`).
    pub default_cache_duration_secs: u64,
    /// `defaultCacheDuration` in nanoseconds (never negative once validated).
    pub default_cache_duration_nanos: u64,
    /// `credentialprovider.kubelet.k8s.io/<v>` (validated).
    pub api_version: String,
    /// `args`, verbatim.
    pub args: Vec<String>,
    /// In config order (the kubelet appends them after its own environment; last wins, §e.3).
    pub env: Vec<(String, String)>,
    /// `tokenAttributes` (v1 config files only).
    pub token_attributes: Option<TokenAttributes>,
}

/// A validated kubelet `CredentialProviderConfig`: providers of all files, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KubeletConfig {
    /// Every file's providers, concatenated in file order.
    pub providers: Vec<KubeletProvider>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawKubeletConfig {
    #[allow(dead_code)] // checked on the untyped document first
    kind: Option<Value>,
    #[allow(dead_code)]
    api_version: Option<Value>,
    providers: Option<Vec<RawKubeletProvider>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawKubeletProvider {
    name: Option<String>,
    match_images: Option<Vec<String>>,
    default_cache_duration: Option<String>,
    api_version: Option<String>,
    args: Option<Vec<String>>,
    env: Option<Vec<RawEnv>>,
    // Unknown in v1alpha1/v1beta1 files: refused before the typed decode.
    token_attributes: Option<RawTokenAttributes>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnv {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawTokenAttributes {
    service_account_token_audience: Option<String>,
    cache_type: Option<String>,
    require_service_account: Option<bool>,
    required_service_account_annotation_keys: Option<Vec<String>>,
    optional_service_account_annotation_keys: Option<Vec<String>>,
}

/// A provider as decoded, before validation (nulls already defaulted, duration parsed).
struct Decoded {
    file_index: usize,
    name: String,
    match_images: Vec<String>,
    default_cache_duration: Option<i64>,
    api_version: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    token_attributes: Option<TokenAttributes>,
}

/// Decodes one kubelet config file the way the kubelet scheme does in strict mode (§f.1).
/// Errors are prefixed with the file name.
fn decode_kubelet_file(file_index: usize, name: &str, data: &[u8]) -> Result<Vec<Decoded>, String> {
    let document = load_document(data).map_err(|m| format!("{name}: {m}"))?;
    let Value::Object(object) = &document else {
        return Err(format!(
            "{name}: expected a CredentialProviderConfig mapping, got {}",
            document_kind(&document)
        ));
    };
    let text_field = |field: &str| match object.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("{name}: {field}: expected a string")),
    };
    let (kind, api_version) = (text_field("kind")?, text_field("apiVersion")?);
    // apimachinery: "Object 'Kind' is missing", then the scheme's "no kind ... is registered".
    if kind.is_empty() {
        return Err(format!(
            "{name}: Object 'Kind' is missing (expected CredentialProviderConfig)"
        ));
    }
    if api_version.is_empty() {
        return Err(format!(
            "{name}: Object 'apiVersion' is missing (expected one of {})",
            KUBELET_CONFIG_VERSIONS.join(", ")
        ));
    }
    if kind != "CredentialProviderConfig" || !KUBELET_CONFIG_VERSIONS.contains(&api_version.as_str()) {
        return Err(format!(
            "{name}: no kind {} is registered for version {} (expected kind CredentialProviderConfig, \
             apiVersion one of {})",
            go_quote(&kind),
            go_quote(&api_version),
            KUBELET_CONFIG_VERSIONS.join(", ")
        ));
    }
    if api_version != "kubelet.config.k8s.io/v1" {
        // tokenAttributes exists only in the v1 types (§f.2): an unknown field before v1.
        if let Some(Value::Array(providers)) = object.get("providers") {
            if let Some(i) = providers
                .iter()
                .position(|p| p.as_object().is_some_and(|o| o.contains_key("tokenAttributes")))
            {
                return Err(format!(
                    "{name}: strict decoding error: unknown field \"providers[{i}].tokenAttributes\""
                ));
            }
        }
    }
    let raw: RawKubeletConfig = decode_typed(document).map_err(|f| {
        if f.unknown_field {
            format!("{name}: strict decoding error: unknown field \"{}\"", f.path)
        } else if f.path.ends_with("defaultCacheDuration") {
            format!(
                "{name}: decoding error: {}: {} (durations are Go duration strings such as \"10m\")",
                f.path, f.message
            )
        } else {
            format!("{name}: decoding error: {}: {}", f.path, f.message)
        }
    })?;
    let mut decoded = Vec::new();
    for (i, p) in raw.providers.unwrap_or_default().into_iter().enumerate() {
        let default_cache_duration = match p.default_cache_duration {
            None => None,
            Some(text) => Some(
                parse_go_duration_nanos(&text)
                    .map_err(|e| format!("{name}: decoding error: providers[{i}].defaultCacheDuration: {e}"))?,
            ),
        };
        decoded.push(Decoded {
            file_index,
            name: p.name.unwrap_or_default(),
            match_images: p.match_images.unwrap_or_default(),
            default_cache_duration,
            api_version: p.api_version.unwrap_or_default(),
            args: p.args.unwrap_or_default(),
            env: p
                .env
                .unwrap_or_default()
                .into_iter()
                .map(|e| (e.name.unwrap_or_default(), e.value.unwrap_or_default()))
                .collect(),
            token_attributes: p.token_attributes.map(|t| TokenAttributes {
                service_account_token_audience: t.service_account_token_audience.unwrap_or_default(),
                cache_type: t.cache_type.unwrap_or_default(),
                require_service_account: t.require_service_account,
                required_service_account_annotation_keys: t
                    .required_service_account_annotation_keys
                    .unwrap_or_default(),
                optional_service_account_annotation_keys: t
                    .optional_service_account_annotation_keys
                    .unwrap_or_default(),
            }),
        });
    }
    Ok(decoded)
}

// apimachinery field.Error formatting: "<path>: <Type>[: <value>][: <detail>]".
fn required(path: &str, detail: &str) -> String {
    if detail.is_empty() {
        format!("{path}: Required value")
    } else {
        format!("{path}: Required value: {detail}")
    }
}
fn invalid(path: &str, value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {value}: {detail}")
}
fn forbidden(path: &str, detail: &str) -> String {
    format!("{path}: Forbidden: {detail}")
}
fn duplicate(path: &str, value: &str) -> String {
    format!("{path}: Duplicate value: {}", go_quote(value))
}
fn not_supported(path: &str, value: &str, supported: &[&str]) -> String {
    let supported: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
    format!(
        "{path}: Unsupported value: {}: supported values: {}",
        go_quote(value),
        supported.join(", ")
    )
}

const LABEL_KEY_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and \
     end with an alphanumeric character (e.g. 'MyName' or 'my.name' or '123-abc', regex used for validation is \
     '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
     characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex \
     used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn is_label_key_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`
fn is_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(|label| {
        let b = label.as_bytes();
        let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        match (b.first(), b.last()) {
            (Some(f), Some(l)) => edge(f) && edge(l) && b.iter().all(|c| edge(c) || *c == b'-'),
            _ => false,
        }
    })
}

/// apimachinery `IsQualifiedName` / `content.IsLabelKey`: the list of violations (empty = valid).
fn label_key_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_owned());
            } else {
                if prefix.len() > 253 {
                    errs.push("prefix part must be no more than 253 bytes".to_owned());
                }
                if !is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {DNS1123_SUBDOMAIN_MSG}"));
                }
            }
            *name
        }
        _ => {
            return vec![format!(
                "a valid label key {LABEL_KEY_NAME_MSG} with an optional DNS subdomain prefix and '/' \
                 (e.g. 'example.com/MyName')"
            )]
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if name.len() > 63 {
        errs.push("name part must be no more than 63 bytes".to_owned());
    }
    if !is_label_key_name(name) {
        errs.push(format!("name part {LABEL_KEY_NAME_MSG}"));
    }
    errs
}

/// kubelet config.go `validateServiceAccountAnnotationKeys`.
fn validate_annotation_keys(path: &str, keys: &[String], errors: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    for key in keys {
        // "The rule is QualifiedName except that case doesn't matter" (config.go).
        for message in label_key_errors(&key.to_lowercase()) {
            errors.push(invalid(path, &go_quote(key), &message));
        }
        if !seen.insert(key.as_str()) {
            errors.push(duplicate(path, key));
        }
    }
}

fn validate_token_attributes(p: &Decoded, t: &TokenAttributes, gate: bool, errors: &mut Vec<String>) {
    const PATH: &str = "providers.tokenAttributes";
    if !gate {
        errors.push(forbidden(
            PATH,
            "tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature \
             gate is disabled",
        ));
    }
    if t.service_account_token_audience.is_empty() {
        errors.push(required("providers.tokenAttributes.serviceAccountTokenAudience", ""));
    }
    if t.require_service_account.is_none() {
        errors.push(required("providers.tokenAttributes.requireServiceAccount", ""));
    }
    if p.api_version != ApiVersion::V1.as_str() {
        errors.push(forbidden(
            PATH,
            "tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version",
        ));
    }
    if t.require_service_account == Some(false) && !t.required_service_account_annotation_keys.is_empty() {
        errors.push(forbidden(
            "providers.tokenAttributes.requiredServiceAccountAnnotationKeys",
            "requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set",
        ));
    }
    validate_annotation_keys(
        "providers.tokenAttributes.requiredServiceAccountAnnotationKeys",
        &t.required_service_account_annotation_keys,
        errors,
    );
    validate_annotation_keys(
        "providers.tokenAttributes.optionalServiceAccountAnnotationKeys",
        &t.optional_service_account_annotation_keys,
        errors,
    );
    let mut both: Vec<&String> = t
        .required_service_account_annotation_keys
        .iter()
        .filter(|k| t.optional_service_account_annotation_keys.contains(k))
        .collect();
    both.sort();
    both.dedup();
    if !both.is_empty() {
        // Go prints the sorted overlap with %#v.
        let list: Vec<String> = both.iter().map(|k| go_quote(k)).collect();
        errors.push(invalid(
            PATH,
            &format!("[]string{{{}}}", list.join(", ")),
            "annotation keys cannot be both required and optional",
        ));
    }
    match t.cache_type.as_str() {
        "" => errors.push(required(
            "providers.tokenAttributes.cacheType",
            "cacheType is required to be set when tokenAttributes is specified. Supported values are: \
             ServiceAccount, Token",
        )),
        "ServiceAccount" | "Token" => {}
        other => errors.push(not_supported(
            "providers.tokenAttributes.cacheType",
            other,
            &["ServiceAccount", "Token"],
        )),
    }
}

/// kubelet config.go `validateCredentialProviderConfig` over the concatenated providers (§f.3),
/// plus the cross-file duplicate-name check of `readCredentialProviderConfig` (§f.1).
fn validate_providers(
    files: &[(String, Vec<u8>)],
    providers: &[Decoded],
    gate: bool,
    check_match_image: &dyn Fn(&str) -> Result<(), String>,
) -> Vec<String> {
    let mut errors = Vec::new();
    if providers.is_empty() {
        errors.push(required("providers", "at least 1 item in plugins is required"));
    }
    let file_name = |i: usize| files.get(i).map_or("", |(n, _)| n.as_str());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for p in providers {
        let name = p.name.as_str();
        let bad_name = |detail: &str| invalid("providers.name", &go_quote(name), detail);
        if name.contains('/') {
            errors.push(bad_name("provider name cannot contain '/'"));
        }
        if name.contains(' ') {
            errors.push(bad_name("provider name cannot contain spaces"));
        }
        if name == "." {
            errors.push(bad_name("provider name cannot be '.'"));
        }
        if name == ".." {
            errors.push(bad_name("provider name cannot be '..'"));
        }
        match seen.get(name) {
            Some(&first) if first == p.file_index => errors.push(duplicate("providers.name", name)),
            Some(&first) => errors.push(format!(
                "{}: duplicate provider name {} found in configuration file(s) (first defined in {})",
                file_name(p.file_index),
                go_quote(name),
                file_name(first)
            )),
            None => {
                seen.insert(name, p.file_index);
            }
        }

        if p.api_version.is_empty() {
            errors.push(required("providers.apiVersion", ""));
        } else if ApiVersion::from_api_version(&p.api_version).is_none() {
            // Sorted, as sets.StringKeySet(apiVersions).List() gives them.
            errors.push(not_supported(
                "providers.apiVersion",
                &p.api_version,
                &[
                    ApiVersion::V1.as_str(),
                    ApiVersion::V1alpha1.as_str(),
                    ApiVersion::V1beta1.as_str(),
                ],
            ));
        }

        if p.match_images.is_empty() {
            errors.push(required(
                "providers.matchImages",
                "at least 1 item in matchImages is required",
            ));
        }
        for image in &p.match_images {
            if let Err(e) = check_match_image(image) {
                errors.push(invalid(
                    "providers.matchImages",
                    &go_quote(image),
                    &format!("match image is invalid: {e}"),
                ));
            }
        }

        match p.default_cache_duration {
            None => errors.push(required("providers.defaultCacheDuration", "")),
            // metav1.Duration is a fmt.Stringer: printed unquoted.
            Some(d) if d < 0 => errors.push(invalid(
                "providers.defaultCacheDuration",
                &format_go_duration_nanos(d),
                "defaultCacheDuration must be greater than or equal to 0",
            )),
            Some(_) => {}
        }

        if let Some(t) = &p.token_attributes {
            validate_token_attributes(p, t, gate, &mut errors);
        }
    }
    // field.ErrorList.ToAggregate drops repeated messages.
    let mut unique = std::collections::HashSet::new();
    errors.retain(|e| unique.insert(e.clone()));
    errors
}

/// The kubelet's check of one `matchImages` entry: `url.Parse("https://" + entry)` (§f.3,
/// credentialprovider `ParseSchemelessURL`).
fn check_match_image_url(entry: &str) -> Result<(), String> {
    crate::url::parse(&format!("https://{entry}"))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn validate_kubelet_config_with(
    files: &[(String, Vec<u8>)],
    gate: bool,
    check_match_image: &dyn Fn(&str) -> Result<(), String>,
) -> Result<KubeletConfig, Vec<String>> {
    let mut providers = Vec::new();
    let mut errors = Vec::new();
    for (i, (name, data)) in files.iter().enumerate() {
        match decode_kubelet_file(i, name, data) {
            Ok(decoded) => providers.extend(decoded),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        // The kubelet stops at the first file that does not decode; every such file is reported.
        return Err(errors);
    }
    let errors = validate_providers(files, &providers, gate, check_match_image);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(KubeletConfig {
        providers: providers
            .into_iter()
            .map(|p| {
                let nanos = p
                    .default_cache_duration
                    .and_then(|d| u64::try_from(d).ok())
                    .unwrap_or(0);
                KubeletProvider {
                    file: files.get(p.file_index).map(|(n, _)| n.clone()).unwrap_or_default(),
                    name: p.name,
                    match_images: p.match_images,
                    default_cache_duration_secs: nanos / 1_000_000_000,
                    default_cache_duration_nanos: nanos,
                    api_version: p.api_version,
                    args: p.args,
                    env: p.env,
                    token_attributes: p.token_attributes,
                }
            })
            .collect(),
    })
}

/// Reads and validates a kubelet `CredentialProviderConfig` exactly as the kubelet would at start
/// (spec/kubelet.md §f): `files` are (name, contents), already in the kubelet's order (a
/// directory's `.json`/`.yaml`/`.yml` entries sorted by full path; the caller lists them).
///
/// Each file: JSON or YAML, strict (`kind: CredentialProviderConfig`, `apiVersion:
/// kubelet.config.k8s.io/{v1,v1beta1,v1alpha1}`, unknown fields are errors, durations are Go
/// duration strings, `tokenAttributes` only in v1). If any file fails to decode, every such
/// failure is returned (`<file>: …`). Otherwise providers are concatenated in file order and
/// every rule of §f.3 is checked, all errors collected, worded as the kubelet's field errors
/// (`providers.name: Duplicate value: "x"`); a name repeated in a later file is reported naming
/// both files. The `KubeletServiceAccountTokenForCredentialProviders` feature gate is taken as
/// ON (its default since 1.34), so `tokenAttributes` is validated rather than forbidden.
///
/// `matchImages` entries are checked with [`crate::url::parse`] on `https://` + entry.
pub fn validate_kubelet_config(files: &[(String, Vec<u8>)]) -> Result<KubeletConfig, Vec<String>> {
    validate_kubelet_config_with(files, true, &check_match_image_url)
}

/// Appends `s` as a YAML double-quoted scalar (every control and line-separator character escaped,
/// so the value reads back byte for byte).
fn push_yaml_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Renders a `kubelet.config.k8s.io/v1` `CredentialProviderConfig` (YAML) with one provider
/// `name` speaking `credentialprovider.kubelet.k8s.io/v1` (spec/kubelet.md §f.2), for the
/// kubelet's `--image-credential-provider-config`. Every string is double-quoted; `args` and
/// `env` are omitted when empty. The output passes [`validate_kubelet_config`] whenever the
/// inputs do (a valid name, at least one match image).
///
/// ```
/// use _core::pconfig::render_kubelet_config;
/// let yaml = render_kubelet_config("pullkey", &["*.example.com".into()], 300, &[], &[]);
/// assert!(yaml.contains("defaultCacheDuration: \"5m0s\""));
/// ```
pub fn render_kubelet_config(
    name: &str,
    match_images: &[String],
    default_cache_duration_secs: u64,
    args: &[String],
    env: &[(String, String)],
) -> String {
    let mut out = String::new();
    out.push_str("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: ");
    push_yaml_string(&mut out, name);
    out.push_str("\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    matchImages:");
    if match_images.is_empty() {
        out.push_str(" []");
    }
    for image in match_images {
        out.push_str("\n      - ");
        push_yaml_string(&mut out, image);
    }
    out.push_str("\n    defaultCacheDuration: ");
    let secs = default_cache_duration_secs.min(crate::protocol::MAX_GO_DURATION_SECS);
    push_yaml_string(&mut out, &format_go_duration(secs));
    out.push('\n');
    if !args.is_empty() {
        out.push_str("    args:\n");
        for arg in args {
            out.push_str("      - ");
            push_yaml_string(&mut out, arg);
            out.push('\n');
        }
    }
    if !env.is_empty() {
        out.push_str("    env:\n");
        for (key, value) in env {
            out.push_str("      - name: ");
            push_yaml_string(&mut out, key);
            out.push_str("\n        value: ");
            push_yaml_string(&mut out, value);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- ProviderConfig ----

    const HEAD: &str = "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n";

    fn parse(text: &str) -> Result<ProviderConfig, ConfigError> {
        parse_provider_config(text.as_bytes(), "/etc/pullkey/config.yaml")
    }

    fn parse_err(text: &str) -> (String, String) {
        let e = parse(text).unwrap_err();
        assert_eq!(e.file, "/etc/pullkey/config.yaml");
        (e.path, e.message)
    }

    fn with_head(body: &str) -> String {
        format!("{HEAD}{body}")
    }

    #[test]
    fn minimal_config_gets_every_default() {
        let cfg = parse(HEAD).unwrap();
        assert_eq!(cfg, ProviderConfig::default());
        assert_eq!(cfg.root_dir, None);
        assert_eq!(cfg.search_policy, SearchPolicy::Merge);
        assert!(!cfg.strict);
        assert_eq!(
            cfg.sources,
            vec![Source {
                kind: SourceKind::SearchPaths,
                path: None,
                format: Format::Auto
            }]
        );
        assert_eq!(
            cfg.cache,
            CacheConfig {
                policy: CachePolicy::Auto,
                duration_secs: 300
            }
        );
    }

    #[test]
    fn nulls_mean_defaults() {
        let cfg = parse(&with_head(
            "rootDir:\nsearchPolicy: null\nstrict: ~\nsources:\ncache:\n",
        ))
        .unwrap();
        assert_eq!(cfg, ProviderConfig::default());
        let cfg = parse(&with_head("cache: {policy: null, duration: null}\n")).unwrap();
        assert_eq!(cfg, ProviderConfig::default());
    }

    const FULL_YAML: &str = "\
apiVersion: pullkey.dev/v1alpha1
kind: ProviderConfig
rootDir: /srv/kubelet
searchPolicy: first
strict: true
sources:
  - type: SearchPaths
  - type: DockerConfig
    path: /etc/pullkey/extra.json
    format: auto
  - type: DockerConfig
    path: /etc/pullkey/a.json
    format: config.json
  - type: DockerConfig
    path: /etc/pullkey/.dockercfg
    format: dockercfg
  - type: PullSecret
    path: /etc/pullkey/secrets.yaml
  - type: PullSecretDir
    path: /etc/pullkey/secrets.d
cache:
  policy: Registry
  duration: 1h30m
";

    const FULL_JSON: &str = r#"{
  "apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig",
  "rootDir": "/srv/kubelet", "searchPolicy": "first", "strict": true,
  "sources": [
    {"type": "SearchPaths"},
    {"type": "DockerConfig", "path": "/etc/pullkey/extra.json", "format": "auto"},
    {"type": "DockerConfig", "path": "/etc/pullkey/a.json", "format": "config.json"},
    {"type": "DockerConfig", "path": "/etc/pullkey/.dockercfg", "format": "dockercfg"},
    {"type": "PullSecret", "path": "/etc/pullkey/secrets.yaml"},
    {"type": "PullSecretDir", "path": "/etc/pullkey/secrets.d"}
  ],
  "cache": {"policy": "Registry", "duration": "1h30m"}
}"#;

    #[test]
    fn every_field_yaml_and_json_agree() {
        let yaml = parse(FULL_YAML).unwrap();
        let json = parse(FULL_JSON).unwrap();
        assert_eq!(yaml, json);
        assert_eq!(yaml.root_dir.as_deref(), Some("/srv/kubelet"));
        assert_eq!(yaml.search_policy, SearchPolicy::First);
        assert!(yaml.strict);
        let kinds: Vec<(SourceKind, Option<&str>, Format)> = yaml
            .sources
            .iter()
            .map(|s| (s.kind, s.path.as_deref(), s.format))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (SourceKind::SearchPaths, None, Format::Auto),
                (SourceKind::DockerConfig, Some("/etc/pullkey/extra.json"), Format::Auto),
                (
                    SourceKind::DockerConfig,
                    Some("/etc/pullkey/a.json"),
                    Format::ConfigJson
                ),
                (
                    SourceKind::DockerConfig,
                    Some("/etc/pullkey/.dockercfg"),
                    Format::DockerCfg
                ),
                (SourceKind::PullSecret, Some("/etc/pullkey/secrets.yaml"), Format::Auto),
                (SourceKind::PullSecretDir, Some("/etc/pullkey/secrets.d"), Format::Auto),
            ]
        );
        assert_eq!(
            yaml.cache,
            CacheConfig {
                policy: CachePolicy::Registry,
                duration_secs: 5400
            }
        );
    }

    #[test]
    fn enumerations() {
        for (text, policy) in [("merge", SearchPolicy::Merge), ("first", SearchPolicy::First)] {
            assert_eq!(
                parse(&with_head(&format!("searchPolicy: {text}\n")))
                    .unwrap()
                    .search_policy,
                policy
            );
        }
        for (text, policy) in [
            ("auto", CachePolicy::Auto),
            ("Image", CachePolicy::Image),
            ("Registry", CachePolicy::Registry),
            ("Global", CachePolicy::Global),
        ] {
            let cfg = parse(&with_head(&format!("cache:\n  policy: {text}\n"))).unwrap();
            assert_eq!(cfg.cache.policy, policy);
            assert_eq!(cfg.cache.duration_secs, 300, "duration keeps its default");
        }
        assert!(!parse(&with_head("strict: false\n")).unwrap().strict);
    }

    #[test]
    fn cache_durations() {
        for (text, secs) in [
            ("0", 0),
            ("0s", 0),
            ("45s", 45),
            ("5m", 300),
            ("1.5h", 5400),
            ("2h0m1s", 7201),
        ] {
            let cfg = parse(&with_head(&format!("cache: {{duration: \"{text}\"}}\n"))).unwrap();
            assert_eq!(cfg.cache.duration_secs, secs, "{text}");
        }
    }

    #[test]
    fn every_error_path() {
        let cases: Vec<(String, &str, &str)> = vec![
            // document and type meta
            (HEAD.replace("pullkey.dev/v1alpha1", "pullkey.dev/v1"), "apiVersion",
             "expected pullkey.dev/v1alpha1, got \"pullkey.dev/v1\""),
            ("kind: ProviderConfig\n".into(), "apiVersion", "required, expected pullkey.dev/v1alpha1"),
            ("apiVersion: 1\nkind: ProviderConfig\n".into(), "apiVersion", "expected the string pullkey.dev/v1alpha1"),
            (HEAD.replace("kind: ProviderConfig", "kind: CredentialProviderConfig"), "kind",
             "expected ProviderConfig, got \"CredentialProviderConfig\""),
            ("apiVersion: pullkey.dev/v1alpha1\n".into(), "kind", "required, expected ProviderConfig"),
            (String::new(), "", "expected a ProviderConfig mapping, got an empty document"),
            ("- a\n".into(), "", "expected a ProviderConfig mapping, got a list"),
            ("just text\n".into(), "", "expected a ProviderConfig mapping, got a scalar"),
            // unknown fields, at every level
            (with_head("sorces: []\n"), "sorces",
             "unknown field, expected one of apiVersion, kind, rootDir, searchPolicy, strict, sources, cache"),
            (with_head("sources:\n- type: SearchPaths\n- type: PullSecret\n  path: /a\n- type: DockerConfig\n  paht: /x\n"),
             "sources[2].paht", "unknown field, expected one of type, path, format"),
            (with_head("cache:\n  ttl: 5m\n"), "cache.ttl", "unknown field, expected one of policy, duration"),
            (with_head("RootDir: /x\n"), "RootDir",
             "unknown field, expected one of apiVersion, kind, rootDir, searchPolicy, strict, sources, cache"),
            // wrong types
            (with_head("rootDir: 5\n"), "rootDir", "expected a string, got a number"),
            (with_head("strict: yes\n"), "strict", "expected a boolean, got a string"),
            (with_head("strict: \"true\"\n"), "strict", "expected a boolean, got a string"),
            (with_head("searchPolicy: [merge]\n"), "searchPolicy", "expected a string, got a list"),
            (with_head("sources: {type: SearchPaths}\n"), "sources", "expected a list, got a mapping"),
            (with_head("sources: [SearchPaths]\n"), "sources[0]", "expected a mapping, got a string"),
            (with_head("sources:\n- type: DockerConfig\n  path: 7\n"), "sources[0].path", "expected a string, got a number"),
            (with_head("cache: 5m\n"), "cache", "expected a mapping, got a string"),
            (with_head("cache:\n  duration: 300\n"), "cache.duration",
             "expected a string, got a number (a Go duration string such as \"5m\")"),
            // values
            (with_head("rootDir: \"\"\n"), "rootDir", "must not be empty (omit it for the default)"),
            (with_head("searchPolicy: Merge\n"), "searchPolicy",
             "unknown search policy \"Merge\", expected one of merge, first"),
            (with_head("sources: []\n"), "sources", "must not be empty (omit it for the default [{type: SearchPaths}])"),
            (with_head("sources:\n- path: /x\n"), "sources[0].type",
             "required, expected one of SearchPaths, DockerConfig, PullSecret, PullSecretDir"),
            (with_head("sources:\n- type: Foo\n"), "sources[0].type",
             "unknown source type \"Foo\", expected one of SearchPaths, DockerConfig, PullSecret, PullSecretDir"),
            (with_head("sources:\n- type: dockerconfig\n"), "sources[0].type",
             "unknown source type \"dockerconfig\", expected one of SearchPaths, DockerConfig, PullSecret, PullSecretDir"),
            (with_head("sources:\n- type: SearchPaths\n- type: DockerConfig\n"), "sources[1].path", "required for type DockerConfig"),
            (with_head("sources:\n- type: PullSecret\n  path: \"\"\n"), "sources[0].path", "required for type PullSecret"),
            (with_head("sources:\n- type: PullSecretDir\n"), "sources[0].path", "required for type PullSecretDir"),
            (with_head("sources:\n- type: SearchPaths\n  path: /x\n"), "sources[0].path",
             "not allowed for type SearchPaths (the search paths are under rootDir)"),
            (with_head("sources:\n- type: DockerConfig\n  path: /x\n  format: json\n"), "sources[0].format",
             "unknown format \"json\", expected one of auto, config.json, dockercfg"),
            (with_head("sources:\n- type: PullSecret\n  path: /x\n  format: auto\n"), "sources[0].format",
             "only allowed for type DockerConfig, not PullSecret"),
            (with_head("cache:\n  policy: image\n"), "cache.policy",
             "unknown cache policy \"image\", expected one of auto, Image, Registry, Global"),
            (with_head("cache:\n  duration: 5x\n"), "cache.duration",
             "invalid duration \"5x\": unknown unit \"x\" (units: ns, us, ms, s, m, h)"),
            (with_head("cache:\n  duration: \"5\"\n"), "cache.duration",
             "invalid duration \"5\": missing unit (e.g. \"5m\", \"90s\")"),
            (with_head("cache:\n  duration: \"\"\n"), "cache.duration", "invalid duration \"\""),
            (with_head("cache:\n  duration: 3000000h\n"), "cache.duration", "invalid duration \"3000000h\""),
            (with_head("cache:\n  duration: -5m\n"), "cache.duration", "must not be negative, got \"-5m\""),
            (with_head("cache:\n  duration: 1500ms\n"), "cache.duration", "must be a whole number of seconds, got \"1500ms\""),
        ];
        for (text, path, message) in cases {
            assert_eq!(parse_err(&text), (path.to_owned(), message.to_owned()), "{text}");
        }
    }

    #[test]
    fn document_level_errors() {
        for (text, prefix) in [
            ("a: 1\na: 2\n", "not valid YAML: duplicate entry with key \"a\""),
            (
                "{\"apiVersion\": \"pullkey.dev/v1alpha1\", \"apiVersion\": \"x\"}",
                "not valid JSON: duplicate key \"apiVersion\"",
            ),
            ("{\"apiVersion\": \"pullkey.dev/v1alpha1\",}", "not valid JSON: "),
            ("a: [\n", "not valid YAML: "),
            (
                "a: 1\n---\nb: 2\n",
                "not valid YAML: deserializing from YAML containing more than one document",
            ),
        ] {
            let (path, message) = parse_err(text);
            assert_eq!(path, "");
            assert!(message.starts_with(prefix), "{text:?}: {message}");
        }
    }

    #[test]
    fn json_with_leading_whitespace_and_yaml_flow_style() {
        let json = format!("\n  \t{FULL_JSON}");
        assert_eq!(parse(&json).unwrap(), parse(FULL_YAML).unwrap());
        // A flow mapping that is not JSON (unquoted) is read as YAML... only if it does not start with `{`.
        let flow = "--- {apiVersion: pullkey.dev/v1alpha1, kind: ProviderConfig, strict: true}\n";
        assert!(parse(flow).unwrap().strict);
    }

    #[test]
    fn yaml_anchors_and_merge_keys() {
        let text = with_head("x-base: &base\n  type: DockerConfig\n");
        // Unknown top-level helper keys are still unknown fields.
        assert_eq!(parse_err(&text).0, "x-base");
        let text = with_head("sources:\n- &s {type: PullSecret, path: /a}\n- <<: *s\n  path: /b\n");
        let cfg = parse(&text).unwrap();
        assert_eq!(cfg.sources[1].kind, SourceKind::PullSecret);
        assert_eq!(cfg.sources[1].path.as_deref(), Some("/b"));
    }

    #[test]
    fn display_names_file_and_path() {
        let e = parse(&with_head("cache:\n  policy: x\n")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/etc/pullkey/config.yaml: cache.policy: unknown cache policy \"x\", expected one of auto, Image, Registry, Global"
        );
        let e = parse_provider_config(b"", "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected a ProviderConfig mapping, got an empty document"
        );
    }

    proptest::proptest! {
        #[test]
        fn provider_config_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse_provider_config(&data, "f");
        }

        #[test]
        fn provider_config_text_never_panics(text in "[a-zA-Z:{}\\[\\]\\-, \"\\n.0-9é]{0,120}") {
            let _ = parse_provider_config(text.as_bytes(), "f");
            let _ = validate_kubelet_config_with(&[("f".into(), text.into_bytes())], true, &accept_all);
        }
    }

    // ---- kubelet CredentialProviderConfig ----

    /// Stand-in for `url::parse("https://" + entry)` while `crate::url` is a stub: rejects `%zz`.
    fn fake_url_check(entry: &str) -> Result<(), String> {
        if entry.contains("%zz") {
            Err(format!("parse \"https://{entry}\": invalid URL escape \"%zz\""))
        } else {
            Ok(())
        }
    }

    #[allow(clippy::unnecessary_wraps)] // the checker's signature
    fn accept_all(_: &str) -> Result<(), String> {
        Ok(())
    }

    fn files(docs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        docs.iter()
            .map(|(n, d)| ((*n).to_owned(), d.as_bytes().to_vec()))
            .collect()
    }

    fn validate(docs: &[(&str, &str)]) -> Result<KubeletConfig, Vec<String>> {
        validate_kubelet_config_with(&files(docs), true, &fake_url_check)
    }

    fn errors_of(doc: &str) -> Vec<String> {
        validate(&[("k.yaml", doc)]).unwrap_err()
    }

    /// A v1 config with one provider whose body lines are `body` (indented 4).
    fn v1_provider(body: &str) -> String {
        format!(
            "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - {}",
            body.trim_start()
        )
    }

    const VALID: &str = "\
apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: pullkey
    matchImages:
      - \"*.example.com\"
      - \"registry.io:5000/team\"
    defaultCacheDuration: 10m
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    args: [\"--v=5\"]
    env:
      - name: FOO
        value: BAR
  - name: ecr
    matchImages: [\"*.dkr.ecr.*.amazonaws.com\"]
    defaultCacheDuration: \"0s\"
    apiVersion: credentialprovider.kubelet.k8s.io/v1beta1
";

    #[test]
    fn valid_config_passes_with_every_field() {
        let cfg = validate(&[("k.yaml", VALID)]).unwrap();
        assert_eq!(cfg.providers.len(), 2);
        let p = &cfg.providers[0];
        assert_eq!(p.file, "k.yaml");
        assert_eq!(p.name, "pullkey");
        assert_eq!(p.match_images, vec!["*.example.com", "registry.io:5000/team"]);
        assert_eq!(p.default_cache_duration_secs, 600);
        assert_eq!(p.default_cache_duration_nanos, 600_000_000_000);
        assert_eq!(p.api_version, "credentialprovider.kubelet.k8s.io/v1");
        assert_eq!(p.args, vec!["--v=5"]);
        assert_eq!(p.env, vec![("FOO".to_owned(), "BAR".to_owned())]);
        assert_eq!(p.token_attributes, None);
        assert_eq!(cfg.providers[1].default_cache_duration_secs, 0, "zero is valid");
        assert_eq!(
            cfg.providers[1].api_version,
            "credentialprovider.kubelet.k8s.io/v1beta1"
        );
    }

    #[test]
    fn every_config_version_and_json() {
        for version in ["v1", "v1beta1", "v1alpha1"] {
            let yaml = VALID.replace(
                "kubelet.config.k8s.io/v1\n",
                &format!("kubelet.config.k8s.io/{version}\n"),
            );
            assert_eq!(validate(&[("k.yaml", &yaml)]).unwrap().providers.len(), 2, "{version}");
        }
        // config_test.go "config with 1 plugin and 1 image matcher (JSON!)"
        let json = r#"{"kind": "CredentialProviderConfig", "apiVersion": "kubelet.config.k8s.io/v1alpha1",
            "providers": [{"name": "test", "matchImages": ["registry.io/foobar"], "defaultCacheDuration": "10m",
            "apiVersion": "credentialprovider.kubelet.k8s.io/v1alpha1", "args": ["--v=5"],
            "env": [{"name": "FOO", "value": "BAR"}]}]}"#;
        let cfg = validate(&[("k.json", json)]).unwrap();
        assert_eq!(cfg.providers[0].name, "test");
        assert_eq!(cfg.providers[0].default_cache_duration_secs, 600);
    }

    #[test]
    fn files_concatenate_in_the_given_order() {
        let file = |name: &str, dur: &str| {
            v1_provider(&format!(
                "name: {name}\n    matchImages: [\"{name}.io\"]\n    defaultCacheDuration: {dur}\n    \
                 apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
            ))
        };
        let (a, b, c) = (file("test-b", "15m"), file("test-a", "20m"), file("test-c", "1h"));
        let cfg = validate(&[("/d/10-b.yaml", &a), ("/d/20-a.json", &b), ("/d/30-c.yml", &c)]).unwrap();
        let names: Vec<(&str, &str, u64)> = cfg
            .providers
            .iter()
            .map(|p| (p.name.as_str(), p.file.as_str(), p.default_cache_duration_secs))
            .collect();
        assert_eq!(
            names,
            vec![
                ("test-b", "/d/10-b.yaml", 900),
                ("test-a", "/d/20-a.json", 1200),
                ("test-c", "/d/30-c.yml", 3600)
            ]
        );
    }

    #[test]
    fn duplicate_names_across_files() {
        let file = |image: &str| {
            v1_provider(&format!(
                "name: duplicate\n    matchImages: [\"{image}\"]\n    defaultCacheDuration: 10m\n    \
                 apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
            ))
        };
        let errors = validate(&[("/d/a.yaml", &file("one.io")), ("/d/b.yaml", &file("two.io"))]).unwrap_err();
        assert_eq!(
            errors,
            vec!["/d/b.yaml: duplicate provider name \"duplicate\" found in configuration file(s) (first defined in /d/a.yaml)"]
        );
    }

    #[test]
    fn no_files_or_no_providers() {
        assert_eq!(
            validate(&[]).unwrap_err(),
            vec!["providers: Required value: at least 1 item in plugins is required"]
        );
        let empty = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n";
        for doc in [
            empty.to_owned(),
            format!("{empty}providers: []\n"),
            format!("{empty}providers: null\n"),
        ] {
            assert_eq!(
                errors_of(&doc),
                vec!["providers: Required value: at least 1 item in plugins is required"]
            );
        }
    }

    const P_OK: &str =
        "matchImages: [\"r.io\"]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n";

    #[test]
    fn rule_table() {
        let v1 = "credentialprovider.kubelet.k8s.io/v1";
        // (provider body, expected errors)
        let cases: Vec<(String, Vec<String>)> = vec![
            (format!("name: a/b\n    {P_OK}"),
             vec!["providers.name: Invalid value: \"a/b\": provider name cannot contain '/'".into()]),
            (format!("name: a b\n    {P_OK}"),
             vec!["providers.name: Invalid value: \"a b\": provider name cannot contain spaces".into()]),
            (format!("name: \"a/ b\"\n    {P_OK}"),
             vec!["providers.name: Invalid value: \"a/ b\": provider name cannot contain '/'".into(),
                  "providers.name: Invalid value: \"a/ b\": provider name cannot contain spaces".into()]),
            (format!("name: .\n    {P_OK}"), vec!["providers.name: Invalid value: \".\": provider name cannot be '.'".into()]),
            (format!("name: ..\n    {P_OK}"), vec!["providers.name: Invalid value: \"..\": provider name cannot be '..'".into()]),
            // An empty name passes validation (it fails LookPath at registration, §f.3).
            (format!("name: \"\"\n    {P_OK}"), vec![]),
            (P_OK.to_owned(), vec![]),
            ("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: 1m\n".into(),
             vec!["providers.apiVersion: Required value".into()]),
            ("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v2\n".into(),
             vec!["providers.apiVersion: Unsupported value: \"credentialprovider.kubelet.k8s.io/v2\": supported values: \
                   \"credentialprovider.kubelet.k8s.io/v1\", \"credentialprovider.kubelet.k8s.io/v1alpha1\", \
                   \"credentialprovider.kubelet.k8s.io/v1beta1\"".into()]),
            ("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: 1m\n    apiVersion: \"CredentialProvider.kubelet.k8s.io/v1\"\n".into(),
             vec!["providers.apiVersion: Unsupported value: \"CredentialProvider.kubelet.k8s.io/v1\": supported values: \
                   \"credentialprovider.kubelet.k8s.io/v1\", \"credentialprovider.kubelet.k8s.io/v1alpha1\", \
                   \"credentialprovider.kubelet.k8s.io/v1beta1\"".into()]),
            (format!("name: p\n    defaultCacheDuration: 1m\n    apiVersion: {v1}\n"),
             vec!["providers.matchImages: Required value: at least 1 item in matchImages is required".into()]),
            (format!("name: p\n    matchImages: []\n    defaultCacheDuration: 1m\n    apiVersion: {v1}\n"),
             vec!["providers.matchImages: Required value: at least 1 item in matchImages is required".into()]),
            (format!("name: p\n    matchImages: [\"ok.io\", \"r.io/%zz\"]\n    defaultCacheDuration: 1m\n    apiVersion: {v1}\n"),
             vec!["providers.matchImages: Invalid value: \"r.io/%zz\": match image is invalid: \
                   parse \"https://r.io/%zz\": invalid URL escape \"%zz\"".into()]),
            (format!("name: p\n    matchImages: [r.io]\n    apiVersion: {v1}\n"),
             vec!["providers.defaultCacheDuration: Required value".into()]),
            (format!("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: null\n    apiVersion: {v1}\n"),
             vec!["providers.defaultCacheDuration: Required value".into()]),
            (format!("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: -1m\n    apiVersion: {v1}\n"),
             vec!["providers.defaultCacheDuration: Invalid value: -1m0s: defaultCacheDuration must be greater than or equal to 0".into()]),
            (format!("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: \"-1.5s\"\n    apiVersion: {v1}\n"),
             vec!["providers.defaultCacheDuration: Invalid value: -1.5s: defaultCacheDuration must be greater than or equal to 0".into()]),
            (format!("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: \"0\"\n    apiVersion: {v1}\n"), vec![]),
            (format!("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: 0s\n    apiVersion: {v1}\n    args: []\n    env: []\n"), vec![]),
        ];
        for (body, expected) in cases {
            let doc = v1_provider(&body);
            let got = validate(&[("k.yaml", &doc)]).err().unwrap_or_default();
            assert_eq!(got, expected, "{doc}");
        }
    }

    #[test]
    fn duplicate_names_in_one_file_and_error_collection() {
        let doc = v1_provider(&format!(
            "name: x\n    {P_OK}  - name: x\n    {P_OK}  - name: a/b\n    matchImages: []\n    apiVersion: nope\n"
        ));
        assert_eq!(
            errors_of(&doc),
            vec![
                "providers.name: Duplicate value: \"x\"",
                "providers.name: Invalid value: \"a/b\": provider name cannot contain '/'",
                "providers.apiVersion: Unsupported value: \"nope\": supported values: \
                 \"credentialprovider.kubelet.k8s.io/v1\", \"credentialprovider.kubelet.k8s.io/v1alpha1\", \
                 \"credentialprovider.kubelet.k8s.io/v1beta1\"",
                "providers.matchImages: Required value: at least 1 item in matchImages is required",
                "providers.defaultCacheDuration: Required value",
            ]
        );
    }

    #[test]
    fn identical_messages_are_reported_once() {
        let doc = v1_provider(&format!("name: a/b\n    {P_OK}  - name: a/b\n    {P_OK}"));
        assert_eq!(
            errors_of(&doc),
            vec![
                "providers.name: Invalid value: \"a/b\": provider name cannot contain '/'",
                "providers.name: Duplicate value: \"a/b\"",
            ]
        );
    }

    fn with_token_attributes(attrs: &str) -> String {
        v1_provider(&format!("name: p\n    {P_OK}    tokenAttributes:\n{attrs}"))
    }

    const TA_OK: &str =
        "      serviceAccountTokenAudience: aud\n      requireServiceAccount: true\n      cacheType: Token\n";

    #[test]
    fn token_attributes_valid() {
        let cfg = validate(&[(
            "k.yaml",
            &with_token_attributes(&format!(
                "{TA_OK}      requiredServiceAccountAnnotationKeys: [example.com/a, B]\n      \
             optionalServiceAccountAnnotationKeys: [Example.COM/Opt]\n"
            )),
        )])
        .unwrap();
        let t = cfg.providers[0].token_attributes.clone().unwrap();
        assert_eq!(t.service_account_token_audience, "aud");
        assert_eq!(t.cache_type, "Token");
        assert_eq!(t.require_service_account, Some(true));
        assert_eq!(t.required_service_account_annotation_keys, vec!["example.com/a", "B"]);
        assert_eq!(t.optional_service_account_annotation_keys, vec!["Example.COM/Opt"]);
        let sa = with_token_attributes(
            &TA_OK
                .replace("cacheType: Token", "cacheType: ServiceAccount")
                .replace("true", "false"),
        );
        assert!(validate(&[("k.yaml", &sa)]).is_ok());
    }

    #[test]
    fn token_attributes_rules() {
        let ta = "providers.tokenAttributes";
        let cases: Vec<(String, Vec<String>)> = vec![
            ("      requireServiceAccount: true\n      cacheType: Token\n".into(),
             vec![format!("{ta}.serviceAccountTokenAudience: Required value")]),
            ("      serviceAccountTokenAudience: aud\n      cacheType: Token\n".into(),
             vec![format!("{ta}.requireServiceAccount: Required value")]),
            ("      serviceAccountTokenAudience: aud\n      requireServiceAccount: true\n".into(),
             vec![format!("{ta}.cacheType: Required value: cacheType is required to be set when tokenAttributes \
                           is specified. Supported values are: ServiceAccount, Token")]),
            (TA_OK.replace("cacheType: Token", "cacheType: token"),
             vec![format!("{ta}.cacheType: Unsupported value: \"token\": supported values: \"ServiceAccount\", \"Token\"")]),
            (format!("{}      requiredServiceAccountAnnotationKeys: [a]\n", TA_OK.replace("true", "false")),
             vec![format!("{ta}.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be \
                           false when requiredServiceAccountAnnotationKeys is set")]),
            (format!("{TA_OK}      requiredServiceAccountAnnotationKeys: [a, b, a]\n"),
             vec![format!("{ta}.requiredServiceAccountAnnotationKeys: Duplicate value: \"a\"")]),
            (format!("{TA_OK}      requiredServiceAccountAnnotationKeys: [b, a, c]\n      optionalServiceAccountAnnotationKeys: [c, b]\n"),
             vec![format!("{ta}: Invalid value: []string{{\"b\", \"c\"}}: annotation keys cannot be both required and optional")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"-bad\"]\n"),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"-bad\": name part {LABEL_KEY_NAME_MSG}")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"a/b/c\"]\n"),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"a/b/c\": a valid label key \
                           {LABEL_KEY_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"/x\"]\n"),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"/x\": prefix part must be non-empty")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"bad_prefix/x\"]\n"),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"bad_prefix/x\": prefix part {DNS1123_SUBDOMAIN_MSG}")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"example.com/\"]\n"),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"example.com/\": name part must be non-empty"),
                  format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"example.com/\": name part {LABEL_KEY_NAME_MSG}")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"{}\"]\n", "a".repeat(64)),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"{}\": name part must be no more than 63 bytes", "a".repeat(64))]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"{}/a\", \"{}\"]\n", "a".repeat(254), "b".repeat(63)),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"{}/a\": prefix part must be no more than 253 bytes", "a".repeat(254))]),
        ];
        for (attrs, expected) in cases {
            let doc = with_token_attributes(&attrs);
            assert_eq!(
                validate(&[("k.yaml", &doc)]).err().unwrap_or_default(),
                expected,
                "{doc}"
            );
        }
    }

    #[test]
    fn token_attributes_need_a_v1_provider_and_the_gate() {
        let doc = v1_provider(&format!(
            "name: p\n    matchImages: [r.io]\n    defaultCacheDuration: 1m\n    \
             apiVersion: credentialprovider.kubelet.k8s.io/v1beta1\n    tokenAttributes:\n{TA_OK}"
        ));
        assert_eq!(
            errors_of(&doc),
            vec![
                "providers.tokenAttributes: Forbidden: tokenAttributes is only supported for \
                  credentialprovider.kubelet.k8s.io/v1 API version"
            ]
        );
        let doc = with_token_attributes(TA_OK);
        let errors = validate_kubelet_config_with(&files(&[("k.yaml", &doc)]), false, &accept_all).unwrap_err();
        assert_eq!(
            errors,
            vec![
                "providers.tokenAttributes: Forbidden: tokenAttributes is not supported when \
                  KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"
            ]
        );
    }

    #[test]
    fn token_attributes_are_unknown_before_v1() {
        for version in ["v1alpha1", "v1beta1"] {
            let doc = format!(
                "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/{version}\nproviders:\n  - name: ok\n    {}  - name: test\n    {}    tokenAttributes:\n      serviceAccountTokenAudience: audience\n",
                P_OK.replace("/v1\n", &format!("/{version}\n")),
                P_OK.replace("/v1\n", &format!("/{version}\n")),
            );
            assert_eq!(
                errors_of(&doc),
                vec!["k.yaml: strict decoding error: unknown field \"providers[1].tokenAttributes\""],
                "{doc}"
            );
        }
    }

    #[test]
    fn strict_decoding_errors() {
        let cases: Vec<(String, String)> = vec![
            // config_test.go "config with invalid typo"
            (v1_provider(&format!("name: test\n    {P_OK}    unknownField: should not be here\n")),
             "k.yaml: strict decoding error: unknown field \"providers[0].unknownField\"".into()),
            (v1_provider(&format!("name: test\n    {P_OK}    env:\n      - name: A\n        valeu: B\n")),
             "k.yaml: strict decoding error: unknown field \"providers[0].env[0].valeu\"".into()),
            (v1_provider(&format!("name: test\n    {P_OK}    tokenAttributes:\n      audience: x\n")),
             "k.yaml: strict decoding error: unknown field \"providers[0].tokenAttributes.audience\"".into()),
            (v1_provider(&format!("name: test\n    {P_OK}    MatchImages: [x]\n")),
             "k.yaml: strict decoding error: unknown field \"providers[0].MatchImages\"".into()),
            (format!("{}extra: 1\n", v1_provider(&format!("name: test\n    {P_OK}"))),
             "k.yaml: strict decoding error: unknown field \"extra\"".into()),
            // Durations must be strings.
            (v1_provider("name: test\n    matchImages: [r.io]\n    defaultCacheDuration: 0\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"),
             "k.yaml: decoding error: providers[0].defaultCacheDuration: expected a string, got a number \
              (durations are Go duration strings such as \"10m\")".into()),
            (v1_provider("name: test\n    matchImages: [r.io]\n    defaultCacheDuration: 10m5x\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"),
             "k.yaml: decoding error: providers[0].defaultCacheDuration: time: unknown unit \"x\" in duration \"10m5x\"".into()),
            (v1_provider("name: test\n    matchImages: r.io\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"),
             "k.yaml: decoding error: providers[0].matchImages: expected a list, got a string".into()),
            (v1_provider("name: 5\n    matchImages: [r.io]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"),
             "k.yaml: decoding error: providers[0].name: expected a string, got a number".into()),
            (v1_provider(&format!("name: test\n    {P_OK}    tokenAttributes:\n      requireServiceAccount: \"true\"\n")),
             "k.yaml: decoding error: providers[0].tokenAttributes.requireServiceAccount: expected a boolean, got a string".into()),
            // Type meta (config_test.go "config with wrong Kind" / "wrong apiversion").
            ("kind: WrongKind\napiVersion: kubelet.config.k8s.io/v1alpha1\nproviders: []\n".into(),
             "k.yaml: no kind \"WrongKind\" is registered for version \"kubelet.config.k8s.io/v1alpha1\" (expected kind \
              CredentialProviderConfig, apiVersion one of kubelet.config.k8s.io/v1, kubelet.config.k8s.io/v1beta1, \
              kubelet.config.k8s.io/v1alpha1)".into()),
            ("kind: CredentialProviderConfig\napiVersion: foobar/v1alpha1\nproviders: []\n".into(),
             "k.yaml: no kind \"CredentialProviderConfig\" is registered for version \"foobar/v1alpha1\" (expected kind \
              CredentialProviderConfig, apiVersion one of kubelet.config.k8s.io/v1, kubelet.config.k8s.io/v1beta1, \
              kubelet.config.k8s.io/v1alpha1)".into()),
            ("apiVersion: kubelet.config.k8s.io/v1\nproviders: []\n".into(),
             "k.yaml: Object 'Kind' is missing (expected CredentialProviderConfig)".into()),
            ("kind: CredentialProviderConfig\nproviders: []\n".into(),
             "k.yaml: Object 'apiVersion' is missing (expected one of kubelet.config.k8s.io/v1, \
              kubelet.config.k8s.io/v1beta1, kubelet.config.k8s.io/v1alpha1)".into()),
            ("kind: [x]\n".into(), "k.yaml: kind: expected a string".into()),
            (String::new(), "k.yaml: expected a CredentialProviderConfig mapping, got an empty document".into()),
        ];
        for (doc, expected) in cases {
            assert_eq!(errors_of(&doc), vec![expected], "{doc}");
        }
    }

    #[test]
    fn json_numbers_for_durations_are_rejected() {
        let json = r#"{"kind":"CredentialProviderConfig","apiVersion":"kubelet.config.k8s.io/v1","providers":[
            {"name":"p","matchImages":["r.io"],"defaultCacheDuration":600,"apiVersion":"credentialprovider.kubelet.k8s.io/v1"}]}"#;
        let errors = validate(&[("k.json", json)]).unwrap_err();
        assert!(errors[0]
            .starts_with("k.json: decoding error: providers[0].defaultCacheDuration: expected a string, got a number"));
    }

    #[test]
    fn every_undecodable_file_is_reported_and_validation_waits() {
        let bad_yaml = "providers: [\n";
        let dup_json = r#"{"kind":"CredentialProviderConfig","kind":"CredentialProviderConfig"}"#;
        let errors = validate(&[("a.yaml", bad_yaml), ("b.yaml", VALID), ("c.json", dup_json)]).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("a.yaml: not valid YAML: "), "{errors:?}");
        assert!(
            errors[1].starts_with("c.json: not valid JSON: duplicate key \"kind\""),
            "{errors:?}"
        );
    }

    #[test]
    fn render_is_accepted_by_validate() {
        let env = vec![
            ("PULLKEY_CONFIG".to_owned(), "/etc/pullkey/config.yaml".to_owned()),
            ("Q".to_owned(), "a \"q\"\n\t\\ é\u{85}\u{2028}".to_owned()),
        ];
        let args = vec![
            "--config".to_owned(),
            "/etc/pullkey/config.yaml".to_owned(),
            "-v".to_owned(),
            "2".to_owned(),
            "yes".to_owned(),
            String::new(),
        ];
        let images = vec![
            "*".to_owned(),
            "*.*".to_owned(),
            "registry.io:5000/team".to_owned(),
            "null".to_owned(),
        ];
        let yaml = render_kubelet_config("pullkey", &images, 5400, &args, &env);
        let cfg = validate_kubelet_config_with(
            &[("rendered.yaml".into(), yaml.clone().into_bytes())],
            true,
            &accept_all,
        )
        .unwrap_or_else(|e| panic!("{e:?}\n{yaml}"));
        let p = &cfg.providers[0];
        assert_eq!(p.name, "pullkey");
        assert_eq!(p.match_images, images);
        assert_eq!(p.default_cache_duration_secs, 5400);
        assert_eq!(p.api_version, "credentialprovider.kubelet.k8s.io/v1");
        assert_eq!(p.args, args);
        assert_eq!(p.env, env);
        assert!(
            yaml.starts_with("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n"),
            "{yaml}"
        );
        assert!(yaml.contains("defaultCacheDuration: \"1h30m0s\"\n"), "{yaml}");
    }

    #[test]
    fn render_minimal_and_zero_duration() {
        let yaml = render_kubelet_config("pullkey", &["*.example.com".to_owned()], 0, &[], &[]);
        assert_eq!(
            yaml,
            "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: \"pullkey\"\n    \
             apiVersion: credentialprovider.kubelet.k8s.io/v1\n    matchImages:\n      - \"*.example.com\"\n    \
             defaultCacheDuration: \"0s\"\n"
        );
        let cfg = validate_kubelet_config_with(&[("r.yaml".into(), yaml.into_bytes())], true, &accept_all).unwrap();
        assert_eq!(cfg.providers[0].default_cache_duration_secs, 0);
        // Invalid inputs render truthfully and are then refused.
        let yaml = render_kubelet_config("a/b", &[], 60, &[], &[]);
        let errors =
            validate_kubelet_config_with(&[("r.yaml".into(), yaml.into_bytes())], true, &accept_all).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn go_quote_matches_strconv_quote() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            go_quote("\u{7}\u{8}\u{c}\n\r\t\u{b}\u{0}\u{7f}"),
            r#""\a\b\f\n\r\t\v\x00\x7f""#
        );
        assert_eq!(go_quote("é\u{85}"), "\"é\\u0085\"");
    }

    #[test]
    fn label_key_rules() {
        for ok in [
            "a",
            "A",
            "a.b_c-d",
            "example.com/name",
            "a/b",
            "1",
            "x".repeat(63).as_str(),
        ] {
            assert!(label_key_errors(ok).is_empty(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a b",
            "/a",
            "a/",
            "a/b/c",
            "UPPER.com/x",
            "ex_ample.com/x",
            "é",
        ] {
            assert!(!label_key_errors(bad).is_empty(), "{bad}");
        }
    }

    // ---- needs crate::url (merge with the keyring helper's url.rs before running) ----

    #[test]
    fn needs_url_valid_config_passes_real_validation() {
        let cfg = validate_kubelet_config(&files(&[("k.yaml", VALID)])).unwrap();
        assert_eq!(cfg.providers.len(), 2);
        // §f.3: anything url.Parse accepts passes, even entries that can never match.
        let odd = v1_provider(
            "name: p\n    matchImages: [\"registry.io/*\", \"https://x\", \"registry?.io\", \"\"]\n    \
             defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n",
        );
        assert!(validate_kubelet_config(&files(&[("k.yaml", &odd)])).is_ok());
    }

    #[test]
    fn needs_url_invalid_match_image() {
        let doc = v1_provider(
            "name: p\n    matchImages: [\"r.io/%zz\"]\n    defaultCacheDuration: 1m\n    \
             apiVersion: credentialprovider.kubelet.k8s.io/v1\n",
        );
        let errors = validate_kubelet_config(&files(&[("k.yaml", &doc)])).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("providers.matchImages: Invalid value: \"r.io/%zz\": match image is invalid: parse \"https://r.io/%zz\": "),
            "{errors:?}"
        );
    }

    #[test]
    fn needs_url_render_is_accepted() {
        let yaml = render_kubelet_config(
            "pullkey",
            &["*".to_owned(), "*.example.com:5000/x".to_owned()],
            300,
            &[],
            &[],
        );
        assert!(validate_kubelet_config(&[("r.yaml".into(), yaml.into_bytes())]).is_ok());
    }
}
