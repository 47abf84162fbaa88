//! The `tenants` and `credentialSets` blocks of pullkey's `ProviderConfig` (docs/provider-config.md,
//! "Tenants"): credential sets chosen by the pulling pod's service account, proven by its token.
//!
//! ```yaml
//! tenants:
//!   audience: pullkey                  # the token audience (kubelet tokenAttributes.serviceAccountTokenAudience)
//!   issuer: https://kubernetes.default.svc.cluster.local
//!   jwksPath: jwks.json                # the issuer's keys, as served at /openid/v1/jwks
//!   cacheType: ServiceAccount          # Token | ServiceAccount, as in the kubelet's tokenAttributes
//!   trustKubeletRequest: false         # exec only: take the kubelet's token without checking its signature
//! credentialSets:
//!   - name: team-a
//!     sources: [{type: DockerConfig, path: team-a/config.json}]
//!     selector: {namespaces: [team-a]}
//! ```
//!
//! A selector's fields all have to hold (`namespaces`: the namespace is one of them;
//! `serviceAccounts`: `namespace/name` is one of them; `annotations`: every pair is present on the
//! service account). The first set in config order whose selector holds is chosen.

use super::document::decode_typed;
use super::kubelet::{label_key_errors, push_yaml_string};
use super::source::{convert_source, RawSource, Source, SourceKind};
use crate::go::strconv::go_quote;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `tenants.cacheType`: the kubelet's `tokenAttributes.cacheType` (docs/kubelet.md §e.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCacheType {
    /// Answers are cached per service account (namespace, name, uid, selected annotations).
    ServiceAccount,
    /// Answers are cached per token (per pod and per token refresh).
    Token,
}

impl TokenCacheType {
    /// The spelling of the kubelet config (case-sensitive, §f.3).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenCacheType::ServiceAccount => "ServiceAccount",
            TokenCacheType::Token => "Token",
        }
    }
}

/// `tenants`: how the pulling pod's identity is proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSettings {
    /// `audience`: the only audience a token may carry.
    pub audience: String,
    /// `issuer`: the token's `iss` must equal it (required unless `trustKubeletRequest`).
    pub issuer: Option<String>,
    /// `jwksPath`: the issuer's JWKS file (required unless `trustKubeletRequest`), as written.
    pub jwks_path: Option<String>,
    /// `cacheType`.
    pub cache_type: TokenCacheType,
    /// `trustKubeletRequest`: the exec path reads the kubelet's token without verifying its signature.
    pub trust_kubelet_request: bool,
    /// `requireServiceAccount` of the generated kubelet config (default false: pods without a service
    /// account still get the node credentials).
    pub require_service_account: bool,
}

/// What a credential set's selector asks of a pod's identity; every given field must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    /// `namespaces`: the pod's namespace is one of these.
    pub namespaces: Vec<String>,
    /// `serviceAccounts`: `(namespace, name)`; the pod's service account is one of these.
    pub service_accounts: Vec<(String, String)>,
    /// `annotations`: every `(key, value)` is an annotation of the service account (sorted by key).
    pub annotations: Vec<(String, String)>,
}

/// One entry of `credentialSets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSet {
    /// `name`: unique, a DNS label.
    pub name: String,
    /// `sources`: the set's own credential sources (any type but `SearchPaths`).
    pub sources: Vec<Source>,
    /// `selector`.
    pub selector: Selector,
}

/// The `tenants` block and its `credentialSets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenants {
    /// `tenants`.
    pub settings: TenantSettings,
    /// `credentialSets`, in config order (the first match wins).
    pub sets: Vec<CredentialSet>,
}

impl Tenants {
    /// The service-account annotation keys the selectors read, sorted and unique: what the kubelet must
    /// be told to send (`tokenAttributes.optionalServiceAccountAnnotationKeys`).
    pub fn annotation_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .sets
            .iter()
            .flat_map(|s| s.selector.annotations.iter().map(|(k, _)| k.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawTenants {
    audience: Option<String>,
    issuer: Option<String>,
    jwks_path: Option<String>,
    cache_type: Option<String>,
    trust_kubelet_request: Option<bool>,
    require_service_account: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    name: Option<String>,
    sources: Option<Vec<RawSource>>,
    selector: Option<RawSelector>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSelector {
    namespaces: Option<Vec<String>>,
    service_accounts: Option<Vec<String>>,
    annotations: Option<BTreeMap<String, String>>,
}

type Failure = (String, String);

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 bytes: a namespace or a set name.
fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    b.len() <= 63
        && matches!((b.first(), b.last()), (Some(f), Some(l)) if edge(f) && edge(l))
        && b.iter().all(|c| edge(c) || *c == b'-')
}

/// A service account name: a DNS-1123 subdomain (at most 253 bytes).
fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && !s.is_empty() && s.split('.').all(is_dns1123_label)
}

fn typed<T: for<'de> Deserialize<'de>>(value: Value, prefix: &str) -> Result<T, Failure> {
    decode_typed(value).map_err(|f| {
        let path = match (prefix, f.path.as_str()) {
            (p, "") => p.to_owned(),
            (p, rest) if rest.starts_with('[') => format!("{p}{rest}"),
            (p, rest) => format!("{p}.{rest}"),
        };
        (path, f.message)
    })
}

fn parse_settings(raw: RawTenants) -> Result<TenantSettings, Failure> {
    let at = |field: &str| format!("tenants.{field}");
    let audience = match raw.audience {
        Some(a) if !a.is_empty() => a,
        _ => {
            return Err((
                at("audience"),
                "required: the token audience the kubelet requests (tokenAttributes.serviceAccountTokenAudience)"
                    .to_owned(),
            ))
        }
    };
    let cache_type = match raw.cache_type.as_deref() {
        Some("ServiceAccount") => TokenCacheType::ServiceAccount,
        Some("Token") => TokenCacheType::Token,
        None => {
            return Err((
                at("cacheType"),
                "required, expected ServiceAccount or Token (the kubelet's tokenAttributes.cacheType)".to_owned(),
            ))
        }
        Some(other) => {
            return Err((
                at("cacheType"),
                format!(
                    "unknown cache type {}, expected ServiceAccount or Token",
                    go_quote(other)
                ),
            ))
        }
    };
    let trust = raw.trust_kubelet_request.unwrap_or(false);
    let non_empty = |field: &str, v: Option<String>| match v {
        Some(s) if s.is_empty() => Err((at(field), "must not be empty".to_owned())),
        other => Ok(other),
    };
    let issuer = non_empty("issuer", raw.issuer)?;
    let jwks_path = non_empty("jwksPath", raw.jwks_path)?;
    if !trust {
        if issuer.is_none() {
            return Err((
                at("issuer"),
                "required: the service-account issuer (the API server's --service-account-issuer), unless \
                 trustKubeletRequest is true"
                    .to_owned(),
            ));
        }
        if jwks_path.is_none() {
            return Err((
                at("jwksPath"),
                "required: the issuer's JWKS file (kubectl get --raw /openid/v1/jwks), unless \
                 trustKubeletRequest is true"
                    .to_owned(),
            ));
        }
    }
    Ok(TenantSettings {
        audience,
        issuer,
        jwks_path,
        cache_type,
        trust_kubelet_request: trust,
        require_service_account: raw.require_service_account.unwrap_or(false),
    })
}

fn parse_selector(index: usize, raw: Option<RawSelector>) -> Result<Selector, Failure> {
    let at = |field: &str| format!("credentialSets[{index}].selector{field}");
    let Some(raw) = raw else {
        return Err((
            at(""),
            "required: namespaces, serviceAccounts and/or annotations (a set for everyone is what the node \
             sources are)"
                .to_owned(),
        ));
    };
    let mut selector = Selector::default();
    for (i, ns) in raw.namespaces.unwrap_or_default().into_iter().enumerate() {
        if !is_dns1123_label(&ns) {
            return Err((
                at(&format!(".namespaces[{i}]")),
                format!("{} is not a namespace name (a DNS-1123 label)", go_quote(&ns)),
            ));
        }
        selector.namespaces.push(ns);
    }
    for (i, sa) in raw.service_accounts.unwrap_or_default().into_iter().enumerate() {
        match sa.split_once('/') {
            Some((ns, name)) if is_dns1123_label(ns) && is_dns1123_subdomain(name) => {
                selector.service_accounts.push((ns.to_owned(), name.to_owned()));
            }
            _ => {
                return Err((
                    at(&format!(".serviceAccounts[{i}]")),
                    format!("{} is not namespace/name of a service account", go_quote(&sa)),
                ))
            }
        }
    }
    for (key, value) in raw.annotations.unwrap_or_default() {
        // The kubelet validates the annotation keys it is told to send as qualified names (§f.3).
        if let Some(problem) = label_key_errors(&key.to_lowercase()).into_iter().next() {
            return Err((
                at(&format!(".annotations[{}]", go_quote(&key))),
                format!("not a valid annotation key: {problem}"),
            ));
        }
        selector.annotations.push((key, value));
    }
    if selector == Selector::default() {
        return Err((
            at(""),
            "must name at least one namespace, service account or annotation".to_owned(),
        ));
    }
    Ok(selector)
}

fn parse_set(index: usize, raw: RawSet, seen: &mut Vec<String>) -> Result<CredentialSet, Failure> {
    let at = |field: &str| format!("credentialSets[{index}].{field}");
    let name = match raw.name {
        None => return Err((at("name"), "required".to_owned())),
        Some(n) if !is_dns1123_label(&n) => {
            return Err((
                at("name"),
                format!("{} is not a valid set name (a DNS-1123 label)", go_quote(&n)),
            ))
        }
        Some(n) if seen.contains(&n) => return Err((at("name"), format!("duplicate set name {}", go_quote(&n)))),
        Some(n) => n,
    };
    seen.push(name.clone());
    let raw_sources = match raw.sources {
        Some(s) if !s.is_empty() => s,
        _ => return Err((at("sources"), "required: at least one source".to_owned())),
    };
    let mut sources = Vec::with_capacity(raw_sources.len());
    for (i, raw_source) in raw_sources.into_iter().enumerate() {
        let source = convert_source(i, raw_source).map_err(|(p, m)| (at(&p), m))?;
        if source.kind == SourceKind::SearchPaths {
            return Err((
                at(&format!("sources[{i}].type")),
                "SearchPaths is not allowed in a credential set (the kubelet search paths are node-wide: list them \
                 in the top-level sources)"
                    .to_owned(),
            ));
        }
        sources.push(source);
    }
    let selector = parse_selector(index, raw.selector)?;
    Ok(CredentialSet {
        name,
        sources,
        selector,
    })
}

/// Parses the `tenants` and `credentialSets` members (either may be absent or null). Both or neither:
/// credential sets need the token settings, and token settings without sets select nothing.
/// Errors are (field path, message).
pub(super) fn parse_tenants(tenants: Option<Value>, sets: Option<Value>) -> Result<Option<Tenants>, Failure> {
    let tenants = tenants.filter(|v| !v.is_null());
    let sets = sets.filter(|v| !v.is_null());
    let (tenants, sets) = match (tenants, sets) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err((
                "credentialSets".to_owned(),
                "required when tenants is set: at least one credential set".to_owned(),
            ))
        }
        (None, Some(_)) => {
            return Err((
                "tenants".to_owned(),
                "required when credentialSets is set: audience, issuer, jwksPath and cacheType".to_owned(),
            ))
        }
        (Some(t), Some(s)) => (t, s),
    };
    let settings = parse_settings(typed::<RawTenants>(tenants, "tenants")?)?;
    let raw_sets: Vec<RawSet> = typed(sets, "credentialSets")?;
    if raw_sets.is_empty() {
        return Err((
            "credentialSets".to_owned(),
            "must not be empty (omit tenants and credentialSets for node sources only)".to_owned(),
        ));
    }
    let mut seen = Vec::new();
    let sets = raw_sets
        .into_iter()
        .enumerate()
        .map(|(i, raw)| parse_set(i, raw, &mut seen))
        .collect::<Result<_, _>>()?;
    Ok(Some(Tenants { settings, sets }))
}

/// The `tokenAttributes` block (docs/kubelet.md §f.2) for the provider that [`super::render_kubelet_config`]
/// renders, to append to its output: the audience, `cacheType`, `requireServiceAccount` and the
/// annotation keys the selectors read as `optionalServiceAccountAnnotationKeys` (optional, so that a
/// service account without them still gets the node credentials). Passes [`super::validate_kubelet_config`]
/// for a valid [`Tenants`].
///
/// ```
/// use _core::config::{render_token_attributes, TokenCacheType};
/// let yaml = render_token_attributes("pullkey", TokenCacheType::ServiceAccount, false, &["a.io/set".into()]);
/// assert!(yaml.starts_with("    tokenAttributes:\n      serviceAccountTokenAudience: \"pullkey\"\n"));
/// ```
pub fn render_token_attributes(
    audience: &str,
    cache_type: TokenCacheType,
    require_service_account: bool,
    annotation_keys: &[String],
) -> String {
    let mut out = String::from("    tokenAttributes:\n      serviceAccountTokenAudience: ");
    push_yaml_string(&mut out, audience);
    out.push_str("\n      cacheType: ");
    push_yaml_string(&mut out, cache_type.as_str());
    out.push_str(if require_service_account {
        "\n      requireServiceAccount: true\n"
    } else {
        "\n      requireServiceAccount: false\n"
    });
    if !annotation_keys.is_empty() {
        out.push_str("      optionalServiceAccountAnnotationKeys:\n");
        for key in annotation_keys {
            out.push_str("        - ");
            push_yaml_string(&mut out, key);
            out.push('\n');
        }
    }
    out
}
