//! The kubelet's `CredentialProviderConfig`: reading and validating it as the kubelet does
//! (docs/kubelet.md §f), and rendering one for pullkey.

use super::document::{decode_typed, document_kind, load_document};
use crate::exec::ApiVersion;
use crate::go::duration::{
    format_go_duration, format_go_duration_nanos, parse_go_duration_nanos, MAX_GO_DURATION_SECS,
};
use crate::go::strconv::go_quote;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;

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

pub(super) const LABEL_KEY_NAME_MSG: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and \
     end with an alphanumeric character (e.g. 'MyName' or 'my.name' or '123-abc', regex used for validation is \
     '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
pub(super) const DNS1123_SUBDOMAIN_MSG: &str =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
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
pub(super) fn label_key_errors(value: &str) -> Vec<String> {
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
    crate::go::url::parse(&format!("https://{entry}"))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

pub(super) fn validate_kubelet_config_with(
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
/// (docs/kubelet.md §f): `files` are (name, contents), already in the kubelet's order (a
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
/// `matchImages` entries are checked with [`crate::go::url::parse`] on `https://` + entry.
pub fn validate_kubelet_config(files: &[(String, Vec<u8>)]) -> Result<KubeletConfig, Vec<String>> {
    validate_kubelet_config_with(files, true, &check_match_image_url)
}

/// Appends `s` as a YAML double-quoted scalar (every control and line-separator character escaped,
/// so the value reads back byte for byte).
pub(super) fn push_yaml_string(out: &mut String, s: &str) {
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
/// `name` speaking `credentialprovider.kubelet.k8s.io/v1` (docs/kubelet.md §f.2), for the
/// kubelet's `--image-credential-provider-config`. Every string is double-quoted; `args` and
/// `env` are omitted when empty. The output passes [`validate_kubelet_config`] whenever the
/// inputs do (a valid name, at least one match image).
///
/// ```
/// use _core::config::render_kubelet_config;
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
    let secs = default_cache_duration_secs.min(MAX_GO_DURATION_SECS);
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
