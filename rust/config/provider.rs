//! pullkey's own `ProviderConfig` (docs/provider-config.md).

use super::document::{decode_typed, document_kind, load_document};
use super::helpers::{convert_helpers, HelpersConfig, RawHelpers};
use super::mirrors::{convert_mirrors, MirrorRule, RawMirrorRule};
use super::source::{convert_source, named, Format, RawSource, Source, SourceKind};
use super::upstreams::{convert_upstreams, RawUpstream, Upstream};
use super::ConfigError;
use crate::go::duration::{parse_go_duration_nanos, DurationError};
use crate::go::strconv::go_quote;
use crate::keyring::CachePolicy;
use crate::names::Named;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The `apiVersion` of pullkey's own config file.
pub const PROVIDER_CONFIG_API_VERSION: &str = "pullkey.dev/v1alpha1";
/// The `kind` of pullkey's own config file.
pub const PROVIDER_CONFIG_KIND: &str = "ProviderConfig";
/// Default `cache.duration`: 5 minutes.
pub const DEFAULT_CACHE_DURATION_SECS: u64 = 300;

/// How the kubelet docker-config search paths are combined (docs/kubelet.md §b.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchPolicy {
    /// `merge` (default): every readable file, in search order.
    #[default]
    Merge,
    /// `first`: the kubelet's first-file-wins.
    First,
}

impl Named for SearchPolicy {
    /// The names of `searchPolicy` and `--search-policy`.
    const NAMES: &'static [(&'static str, Self)] = &[("merge", SearchPolicy::Merge), ("first", SearchPolicy::First)];
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
    /// `helpers`; default off (docs/helpers.md).
    pub helpers: HelpersConfig,
    /// `tenants` and `credentialSets` (docs/provider-config.md "Tenants"); `None` when absent.
    pub tenants: Option<super::tenants::Tenants>,
    /// `mirrors`: per registry, the mirror endpoints whose credentials come first (docs/mirrors.md).
    pub mirrors: Vec<MirrorRule>,
    /// `upstreams`: other kubelet plugins run as sources (docs/provider-config.md "Upstream plugins").
    pub upstreams: Vec<Upstream>,
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
            helpers: HelpersConfig::default(),
            tenants: None,
            mirrors: Vec::new(),
            upstreams: Vec::new(),
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
    helpers: Option<RawHelpers>,
    mirrors: Option<Vec<RawMirrorRule>>,
    upstreams: Option<Vec<RawUpstream>>,
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

/// Parses pullkey's `ProviderConfig` (JSON or YAML, strict; schema in docs/provider-config.md) from `data`;
/// `name` (a path, never contents) is carried in errors.
///
/// Unknown fields and bad values are errors naming their path, e.g. `sources[2].paht: unknown
/// field, expected one of type, path, format` or `cache.duration: invalid duration "5x" …`.
/// Defaults: `sources: [{type: SearchPaths}]`, `searchPolicy: merge`, `strict: false`,
/// `cache: {policy: auto, duration: 5m}`; a null value means the default.
///
/// ```
/// use _core::config::{parse_provider_config, SourceKind};
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
    // `tenants` and `credentialSets` are decoded by config/tenants.rs, with their own field paths.
    let mut document = document;
    let (tenants, credential_sets) = match &mut document {
        Value::Object(object) => (object.remove("tenants"), object.remove("credentialSets")),
        _ => (None, None),
    };
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
        config.search_policy = named(&policy, "search policy").map_err(|m| error("searchPolicy", m))?;
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
            config.cache.policy =
                named::<CachePolicy>(&policy, "cache policy").map_err(|m| error("cache.policy", m))?;
        }
        if let Some(duration) = cache.duration {
            config.cache.duration_secs = cache_duration_secs(&duration).map_err(|m| error("cache.duration", m))?;
        }
    }
    if let Some(helpers) = raw.helpers {
        config.helpers = convert_helpers(helpers).map_err(|(p, m)| error(&p, m))?;
    }
    if let Some(mirrors) = raw.mirrors {
        config.mirrors = convert_mirrors(mirrors).map_err(|(p, m)| error(&p, m))?;
    }
    if let Some(upstreams) = raw.upstreams {
        config.upstreams = convert_upstreams(upstreams).map_err(|(p, m)| error(&p, m))?;
    }
    config.tenants = super::tenants::parse_tenants(tenants, credential_sets).map_err(|(p, m)| error(&p, m))?;
    Ok(config)
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
