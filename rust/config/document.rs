//! Reading one JSON or YAML document, and a strict typed decode whose errors name field paths.

use crate::go::json::parse_strict_json;
use crate::limits::Excerpt;
use crate::limits::{check_json, check_yaml};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Reads one JSON or YAML document into a JSON value (`YAMLToJSON` semantics: scalar keys become
/// strings, tags are dropped, merge keys applied). Repeated keys and non-finite numbers are errors.
/// The text is first checked against the limits of [`crate::limits`] (size, nesting, node count).
pub(super) fn load_document(data: &[u8]) -> Result<Value, String> {
    let first = data.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    if first == Some(&b'{') {
        check_json(data).map_err(|e| e.to_string())?;
        return parse_strict_json(data, None).map_err(|e| format!("not valid JSON: {e}"));
    }
    check_yaml(data).map_err(|e| e.to_string())?;
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
                    return Err(format!("duplicate key {}", Excerpt::debug(&key)));
                }
                object.insert(key, yaml_to_json(value)?);
            }
            Value::Object(object)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

/// What a document that is not a mapping is, for messages.
pub(super) fn document_kind(document: &Value) -> &'static str {
    match document {
        Value::Null => "an empty document",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
        _ => "a scalar",
    }
}

/// A typed-decode failure: field path (`sources[2].paht`) and a message that quotes no value.
pub(super) struct DecodeFailure {
    pub(super) path: String,
    pub(super) message: String,
    pub(super) unknown_field: bool,
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

pub(super) fn decode_typed<T: for<'de> Deserialize<'de>>(value: Value) -> Result<T, DecodeFailure> {
    serde_path_to_error::deserialize(value).map_err(|e| decode_failure(&e))
}
