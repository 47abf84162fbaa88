//! The other side of the wire: pullkey running another kubelet credential provider plugin exactly as
//! the kubelet does (docs/kubelet.md §e.3, §e.4): the request it writes, and the strict decoding of
//! the plugin's response. Error messages never quote the plugin's output (it may hold secrets).

use super::ApiVersion;
use crate::credential::AuthEntry;
use crate::go::duration::parse_go_duration_nanos;
use crate::keyring::CacheKeyType;
use crate::names::Named;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// A plugin's decoded answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginResponse {
    /// `cacheKeyType` (§e.2 step 7).
    pub cache_key_type: CacheKeyType,
    /// `cacheDuration` in nanoseconds; `None` when absent or `null` (the default duration applies).
    pub cache_duration_nanos: Option<i64>,
    /// `auth`, in the order written (keys unique).
    pub auth: Vec<(String, AuthEntry)>,
}

/// The request the kubelet writes in plain mode (§e.4): one line, members in the kubelet's order.
#[must_use]
pub fn encode_plugin_request(api_version: ApiVersion, image: &str) -> Vec<u8> {
    let text = format!(
        "{{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":{},\"image\":{}}}\n",
        serde_json::Value::from(api_version.as_str()),
        serde_json::Value::from(image)
    );
    text.into_bytes()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawResponse {
    kind: Option<String>,
    api_version: Option<String>,
    cache_key_type: Option<String>,
    cache_duration: Option<String>,
    auth: Option<StrictAuth>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    username: Option<String>,
    password: Option<String>,
}

/// The `auth` object, rejecting a key written twice (the kubelet's strict decoding, §e.3).
struct StrictAuth(Vec<(String, RawEntry)>);

impl<'de> Deserialize<'de> for StrictAuth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictAuth;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of registry keys")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictAuth, A::Error> {
                let mut out: Vec<(String, RawEntry)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom("an auth key is written twice"));
                    }
                    let entry = map.next_value::<RawEntry>()?;
                    out.push((key, entry));
                }
                Ok(StrictAuth(out))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Decodes a plugin's stdout strictly (§e.3, §e.4): one JSON value, `kind`
/// `CredentialProviderResponse`, `apiVersion` exactly `expected`, no unknown or repeated field at any
/// depth, `cacheKeyType` one of `Image`, `Registry`, `Global`, `cacheDuration` a Go duration string.
///
/// # Errors
/// A message that never quotes the output.
pub fn decode_plugin_response(data: &[u8], expected: ApiVersion) -> Result<PluginResponse, String> {
    let raw: RawResponse = serde_json::from_slice(data).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => "incomplete JSON",
            serde_json::error::Category::Syntax => "not one JSON value",
            serde_json::error::Category::Data => "a field is unknown, repeated or of the wrong type",
            serde_json::error::Category::Io => "unreadable",
        };
        format!(
            "the response is not a valid CredentialProviderResponse: {what} (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    if raw.kind.as_deref() != Some("CredentialProviderResponse") {
        return Err("the response's kind is not CredentialProviderResponse".to_owned());
    }
    if raw.api_version.as_deref() != Some(expected.as_str()) {
        return Err(format!("the response's apiVersion is not {}", expected.as_str()));
    }
    let cache_key_type = raw
        .cache_key_type
        .as_deref()
        .and_then(CacheKeyType::from_name)
        .ok_or_else(|| "the response's cacheKeyType is not Image, Registry or Global".to_owned())?;
    let cache_duration_nanos = match raw.cache_duration.as_deref() {
        None => None,
        Some(text) => Some(
            parse_go_duration_nanos(text)
                .map_err(|_| "the response's cacheDuration is not a Go duration".to_owned())?,
        ),
    };
    let auth = raw
        .auth
        .map(|a| a.0)
        .unwrap_or_default()
        .into_iter()
        .map(|(key, e)| {
            let entry = AuthEntry {
                username: e.username.unwrap_or_default(),
                password: e.password.unwrap_or_default(),
                ..AuthEntry::default()
            };
            (key, entry)
        })
        .collect();
    Ok(PluginResponse {
        cache_key_type,
        cache_duration_nanos,
        auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"1m","auth":{"r.io":{"username":"u","password":"s3cret"}}}"#;

    #[test]
    fn decodes_a_response() {
        let r = decode_plugin_response(OK.as_bytes(), ApiVersion::V1).unwrap();
        assert_eq!(r.cache_key_type, CacheKeyType::Registry);
        assert_eq!(r.cache_duration_nanos, Some(60_000_000_000));
        assert_eq!(r.auth[0].0, "r.io");
        assert_eq!(r.auth[0].1.password, "s3cret");
    }

    #[test]
    fn rejects_what_the_kubelet_rejects_without_quoting() {
        let cases = [
            OK.replace("/v1\"", "/v1beta1\""),
            OK.replace("Registry", "registry"),
            OK.replace("\"1m\"", "60"),
            OK.replace("\"auth\"", "\"extra\":1,\"auth\""),
            OK.replace(
                "\"password\":\"s3cret\"",
                "\"password\":\"s3cret\",\"password\":\"s3cret\"",
            ),
            OK.replace("}}}", "},\"r.io\":{}}}"),
            format!("{OK} {OK}"),
            String::new(),
            "kind: CredentialProviderResponse".to_owned(),
            OK.replace("{\"username\":\"u\",\"password\":\"s3cret\"}", "\"s3cret\""),
        ];
        for case in cases {
            let err = decode_plugin_response(case.as_bytes(), ApiVersion::V1).unwrap_err();
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn request_is_one_line() {
        let r = encode_plugin_request(ApiVersion::V1beta1, "r.io/a\"b");
        assert_eq!(
            String::from_utf8(r).unwrap(),
            "{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1beta1\",\"image\":\"r.io/a\\\"b\"}\n"
        );
    }
}
