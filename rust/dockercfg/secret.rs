//! Kubernetes pull secrets: Secret/List manifests (JSON or YAML) and mounted secret volumes
//! (docs/kubelet.md §d).

use super::{parse_docker_config, ConfigFormat, DockerConfig, DockerConfigError};
use super::{DOCKERCFG_KEY, DOCKER_CONFIG_JSON_KEY, SECRET_TYPE_DOCKERCFG, SECRET_TYPE_DOCKER_CONFIG_JSON};
use crate::go::base64::go_base64_decode;
use crate::limits::{check_json, check_yaml, Excerpt};
use serde::Deserialize as _;
use serde_json::{Map, Value};

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
/// read as the kubelet's `MakeDockerKeyring` reads Secrets (docs/kubelet.md §d).
///
/// - Format: JSON when the first non-whitespace byte is `{` or `[` (several concatenated JSON values
///   are accepted), else YAML (several `---` documents). Either is first checked against the
///   limits of [`crate::limits`] (size, nesting, node count), so that no parser does unbounded work. Empty documents and `null` are skipped; a
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
            check_json(data).map_err(|e| DockerConfigError::manifest(e.to_string()))?;
            let stream = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
            for (i, doc) in stream.enumerate() {
                let doc = doc.map_err(|e| manifest_json_error(&e))?;
                collect_document(&doc, &format!("document {}", i + 1), &mut out)?;
            }
        }
        Some(_) => {
            check_yaml(data).map_err(|e| DockerConfigError::manifest(e.to_string()))?;
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
                                "{item_label}: kind {} is not a Secret",
                                Excerpt::debug(kind)
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
                "{label}: kind {} is not a Secret or List",
                Excerpt::debug(kind)
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
/// Follows the Secret rules of docs/kubelet.md §d: a non-empty `.dockerconfigjson` is read as `config.json`,
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
