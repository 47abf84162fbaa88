//! The `mirrors` block of pullkey's `ProviderConfig`: for a registry (a host, optionally a glob), the
//! ordered mirror endpoints whose credentials apply to that registry's images (docs/mirrors.md).
//!
//! Strict like the rest of the file: an unknown field or a bad value is an error naming its path
//! (`mirrors[0].endpoints[1]`).

use crate::go::strconv::go_quote;
use serde::Deserialize;

/// One `mirrors` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorRule {
    /// `registry`: a `host[:port]` pattern (`URLsMatchStr` host syntax, docs/kubelet.md §c.2).
    pub registry: String,
    /// `endpoints`: `host[:port][/path-prefix]`, in the order the runtime tries them.
    pub endpoints: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawMirrorRule {
    registry: Option<String>,
    endpoints: Option<Vec<String>>,
}

/// Whether `text` is a `host[:port]`: non-empty labels of letters, digits, `-`, `_`, `*` (globs in a
/// rule's `registry` only), an optional numeric port.
fn valid_host(text: &str, glob: bool) -> bool {
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (text, None),
    };
    let port_ok = port.map_or(true, |p| {
        !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
    });
    port_ok
        && !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (glob && b == b'*'))
        })
}

/// Whether `text` is an endpoint: `host[:port]` then an optional path prefix of non-empty
/// repository path components (`/a/b`, lowercase letters, digits, `.`, `_`, `-`).
fn valid_endpoint(text: &str) -> bool {
    let (host, path) = match text.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (text, None),
    };
    valid_host(host, false)
        && path.map_or(true, |p| {
            p.split('/').all(|c| {
                !c.is_empty()
                    && c.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
            })
        })
}

/// Converts the decoded `mirrors` block; errors are `(field path, message)`.
pub(super) fn convert_mirrors(raw: Vec<RawMirrorRule>) -> Result<Vec<MirrorRule>, (String, String)> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, rule) in raw.into_iter().enumerate() {
        let Some(registry) = rule.registry else {
            return Err((format!("mirrors[{i}].registry"), "required".to_owned()));
        };
        if !valid_host(&registry, true) {
            return Err((
                format!("mirrors[{i}].registry"),
                format!(
                    "invalid registry {} (a host[:port], labels may be globs such as *.example.com; no scheme, no path)",
                    go_quote(&registry)
                ),
            ));
        }
        let endpoints = rule.endpoints.unwrap_or_default();
        if endpoints.is_empty() {
            return Err((
                format!("mirrors[{i}].endpoints"),
                "must list at least one mirror".to_owned(),
            ));
        }
        for (j, endpoint) in endpoints.iter().enumerate() {
            if !valid_endpoint(endpoint) {
                return Err((
                    format!("mirrors[{i}].endpoints[{j}]"),
                    format!(
                        "invalid endpoint {} (host[:port][/path-prefix]; no scheme, no trailing slash)",
                        go_quote(endpoint)
                    ),
                ));
            }
        }
        out.push(MirrorRule { registry, endpoints });
    }
    Ok(out)
}
