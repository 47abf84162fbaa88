//! Encoding a `CredentialProviderResponse` (docs/kubelet.md §e.3, §e.4).

use super::ApiVersion;
use crate::credential::AuthEntry;
use crate::go::duration::{format_go_duration, MAX_GO_DURATION_SECS};
use crate::keyring::CacheKeyType;
use crate::names::Named;
use std::fmt::Write as _;

/// The `cacheKeyType` string of the wire format (§e.2 step 7: exact case).
pub fn cache_key_type_str(cache_key_type: CacheKeyType) -> &'static str {
    cache_key_type.name()
}

/// Appends `s` as a JSON string literal (quotes, backslash and control characters escaped,
/// everything else, non-ASCII included, kept as UTF-8).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Encodes one `CredentialProviderResponse` (§e.4), newline-terminated, in exactly the form the
/// kubelet's strict decoder accepts (§e.3): `kind`, `apiVersion`, `cacheKeyType`, `cacheDuration`
/// (a Go duration string; clamped to [`MAX_GO_DURATION_SECS`], beyond which Go's parser fails and
/// the kubelet would discard the whole response), and `auth` with only `username`/`password`.
///
/// `auth` keys are written sorted (byte order); when a key is passed twice the first entry wins.
///
/// ```
/// use _core::credential::AuthEntry;
/// use _core::keyring::CacheKeyType;
/// use _core::exec::{encode_response, ApiVersion};
/// let entry = AuthEntry { username: "u".into(), password: "p".into(), ..Default::default() };
/// let out = encode_response(ApiVersion::V1, CacheKeyType::Registry, 300, &[("r.io".into(), &entry)]);
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\
///      \"cacheKeyType\":\"Registry\",\"cacheDuration\":\"5m0s\",\
///      \"auth\":{\"r.io\":{\"username\":\"u\",\"password\":\"p\"}}}\n"
/// );
/// ```
pub fn encode_response(
    api_version: ApiVersion,
    cache_key_type: CacheKeyType,
    cache_duration_secs: u64,
    auth: &[(String, &AuthEntry)],
) -> Vec<u8> {
    let mut entries: Vec<&(String, &AuthEntry)> = auth.iter().collect();
    // Stable sort, then drop later duplicates: the caller's first entry for a key wins.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|later, earlier| later.0 == earlier.0);

    let mut out = String::with_capacity(200 + entries.len() * 64);
    out.push_str("{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":");
    push_json_string(&mut out, api_version.as_str());
    out.push_str(",\"cacheKeyType\":");
    push_json_string(&mut out, cache_key_type_str(cache_key_type));
    out.push_str(",\"cacheDuration\":");
    push_json_string(
        &mut out,
        &format_go_duration(cache_duration_secs.min(MAX_GO_DURATION_SECS)),
    );
    out.push_str(",\"auth\":{");
    for (i, (key, entry)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, key);
        out.push_str(":{\"username\":");
        push_json_string(&mut out, &entry.username);
        out.push_str(",\"password\":");
        push_json_string(&mut out, &entry.password);
        out.push('}');
    }
    out.push_str("}}\n");
    out.into_bytes()
}
