//! Decoding a `CredentialProviderRequest` (docs/kubelet.md §e.4).

use super::{ApiVersion, MAX_REQUEST_BYTES};
use crate::go::json::parse_strict_json;
use crate::limits::Excerpt;
use serde_json::{Map, Value};
use std::fmt;

/// A decoded `CredentialProviderRequest` (§e.4).
///
/// `Debug` redacts the token; nothing in this module ever prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The request's version; the response must use the same one (§e.3).
    pub api_version: ApiVersion,
    /// As sent (the kubelet sends the normalised repository). Non-empty; its syntax is the
    /// caller's to check with the reference parser.
    pub image: String,
    /// v1 only; `None` when absent, null or empty.
    pub service_account_token: Option<String>,
    /// v1 only; sorted by key (the kubelet sends them sorted too).
    pub service_account_annotations: Vec<(String, String)>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("api_version", &self.api_version)
            .field("image", &self.image)
            .field(
                "service_account_token",
                &self.service_account_token.as_ref().map(|_| "<redacted>"),
            )
            .field("service_account_annotations", &self.service_account_annotations)
            .finish()
    }
}

/// Why a request was refused. The message names the field, never its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// One line, naming the offending field; never request content.
    pub message: String,
}
impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for RequestError {}

fn request_error(message: impl Into<String>) -> RequestError {
    RequestError {
        message: message.into(),
    }
}

/// The JSON type name of a value, for messages that must not quote the value.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const REQUEST_FIELDS: [&str; 5] = [
    "kind",
    "apiVersion",
    "image",
    "serviceAccountToken",
    "serviceAccountAnnotations",
];

/// Decodes one `CredentialProviderRequest` (§e.4): at most [`MAX_REQUEST_BYTES`], one JSON object,
/// `kind` `CredentialProviderRequest`, a supported `apiVersion`, a non-empty string `image`.
/// Unknown fields are ignored. No error message contains input text.
///
/// ```
/// use _core::exec::{decode_request, ApiVersion};
/// let req = decode_request(br#"{"kind":"CredentialProviderRequest",
///     "apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"registry.io/a/b"}"#).unwrap();
/// assert_eq!((req.api_version, req.image.as_str()), (ApiVersion::V1, "registry.io/a/b"));
/// ```
pub fn decode_request(data: &[u8]) -> Result<Request, RequestError> {
    if data.len() > MAX_REQUEST_BYTES {
        return Err(request_error("request is larger than 1 MiB"));
    }
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(request_error("empty request on stdin"));
    }
    let value = parse_strict_json(data, Some(&REQUEST_FIELDS))
        .map_err(|err| request_error(format!("request is not JSON: {err}")))?;
    let Value::Object(object) = value else {
        return Err(request_error(format!(
            "request is not a JSON object (got {})",
            json_type(&value)
        )));
    };

    match object.get("kind") {
        None | Some(Value::Null) => {
            return Err(request_error("kind: required, expected \"CredentialProviderRequest\""))
        }
        Some(Value::String(kind)) if kind == "CredentialProviderRequest" => {}
        Some(Value::String(_)) => return Err(request_error("kind: expected \"CredentialProviderRequest\"")),
        Some(other) => {
            return Err(request_error(format!(
                "kind: expected the string \"CredentialProviderRequest\", got {}",
                json_type(other)
            )))
        }
    }

    let supported = || {
        ApiVersion::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let api_version = match object.get("apiVersion") {
        None | Some(Value::Null) => {
            return Err(request_error(format!(
                "apiVersion: required, expected one of {}",
                supported()
            )))
        }
        Some(Value::String(s)) => ApiVersion::from_api_version(s)
            .ok_or_else(|| request_error(format!("apiVersion: unsupported, expected one of {}", supported())))?,
        Some(other) => {
            return Err(request_error(format!(
                "apiVersion: expected a string, got {}",
                json_type(other)
            )))
        }
    };

    let image = match object.get("image") {
        None | Some(Value::Null) => return Err(request_error("image: required")),
        Some(Value::String(s)) if s.is_empty() => return Err(request_error("image: must not be empty")),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(request_error(format!(
                "image: expected a string, got {}",
                json_type(other)
            )))
        }
    };

    let mut request = Request {
        api_version,
        image,
        service_account_token: None,
        service_account_annotations: Vec::new(),
    };
    if api_version == ApiVersion::V1 {
        // The kubelet's v1alpha1/v1beta1 conversions drop the token fields (§e.4): ignored there.
        decode_service_account_fields(&object, &mut request)?;
    }
    Ok(request)
}

/// The v1-only `serviceAccountToken` and `serviceAccountAnnotations` (§e.4); values are never echoed.
fn decode_service_account_fields(object: &Map<String, Value>, request: &mut Request) -> Result<(), RequestError> {
    match object.get("serviceAccountToken") {
        None | Some(Value::Null) => {}
        Some(Value::String(token)) => {
            if !token.is_empty() {
                request.service_account_token = Some(token.clone());
            }
        }
        Some(other) => {
            return Err(request_error(format!(
                "serviceAccountToken: expected a string, got {}",
                json_type(other)
            )))
        }
    }
    match object.get("serviceAccountAnnotations") {
        None | Some(Value::Null) => {}
        Some(Value::Object(annotations)) => {
            for (key, value) in annotations {
                match value {
                    Value::String(v) => request.service_account_annotations.push((key.clone(), v.clone())),
                    // Annotation keys are configured names (not secrets); values are not echoed.
                    other => {
                        return Err(request_error(format!(
                            "serviceAccountAnnotations[{}]: expected a string, got {}",
                            Excerpt::debug(key),
                            json_type(other)
                        )))
                    }
                }
            }
            request.service_account_annotations.sort();
        }
        Some(other) => {
            return Err(request_error(format!(
                "serviceAccountAnnotations: expected an object of strings, got {}",
                json_type(other)
            )))
        }
    }
    Ok(())
}
