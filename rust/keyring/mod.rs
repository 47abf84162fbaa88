//! The kubelet's `BasicDockerKeyring` and `UnionDockerKeyring`, indexed, plus the `auth` map of an
//! exec-plugin response that survives the kubelet's response cache.
//! Spec: docs/kubelet.md §c, §d, §e.2 (7-9), §e.5.
//!
//! `index.rs` holds one indexed `BasicDockerKeyring` ([`BasicKeyring`]); `union.rs` the
//! `UnionDockerKeyring` ([`Keyring`]) and the response map ([`Keyring::response_auth`]); this file
//! the key normalisation and the types both use.
//!
//! # Index
//!
//! The kubelet tests every key against the image (`URLsMatchStr`) in descending key order. Here each
//! key is parsed once when it is added (`hostname`, `port`, `path`, label count, kept as spans of the
//! key text) and filed in one of two places. All index maps are keyed by 32-bit hashes from the
//! keyring's own `RandomState` and hold only the first key of a chain linked through the keys
//! themselves (and a length); every candidate is verified, so a collision costs time, never
//! correctness.
//!
//! - **exact hosts** (no glob character `*?[\` in the host): `(hostname, port) -> keys`. A lookup
//!   finds the image's host with one probe; for a host with at most 8 keys it checks each key's path
//!   prefix. A crowded host also gets its distinct key-path lengths (a bitmap) and its keys filed under
//!   `(hostname, port, path)`: the lookup probes `(hostname, port, image_path[..len])` once per length,
//!   reaching exactly the keys whose path is a string prefix of the image path.
//! - **glob hosts**: `(port, label count) -> label positions used + keys without a literal label`,
//!   and `(port, label count, position, label) -> keys`. A key with a literal label is filed under
//!   one of them (the one whose list is shortest when it is added, leftmost on ties). A lookup probes
//!   each used position with the image's label there and runs the full glob match only on those
//!   candidates (plus the all-glob keys).
//!
//! The matched keys (usually a handful) are then sorted in descending byte order, as the kubelet's
//! index is, and their credentials appended in insertion order. Cost per lookup: one URL parse of the
//! image (no allocation unless it has escapes), O(1) probes for the host, O(distinct path lengths)
//! for crowded hosts, O(positions used) probes plus the candidates for globs, O(m log m) for the m
//! matches. It does not grow with the number of unrelated entries. Known weak spot: many glob keys
//! whose only literal labels are shared (e.g. thousands of `app-N*.example.com`) land in one list.
//!
//! # Memory
//!
//! The daemon's budget (docs/architecture.md: 64 MiB RSS with 100,000 entries) leaves the keyring about
//! 250 bytes per credential, index included. A credential is 48 bytes plus its text: `add_all` puts
//! the text of all the entries of one source (the source name once, then per entry key, raw key only
//! when it differs, username, password) in one shared allocation, so a large file costs no small
//! allocation per entry; email and tokens, rarely set, are boxed apart. A key is 52 bytes (spans,
//! chain links, first/last credential), and each index map about 9-13 bytes per entry. Call
//! `shrink_to_fit` once a build is done (`operations::build_keyring` does).

mod index;
mod union;

pub use index::BasicKeyring;
pub(crate) use union::ladder;
pub use union::{CacheKeyType, CachePolicy, Keyring, ResponseAuth};

use crate::credential::Credential;
use crate::go::url::parse_ref;
use std::borrow::Cow;

/// The key the kubelet's default-registry fallback reads (§c.3 step 3).
pub const DEFAULT_REGISTRY_KEY: &str = "index.docker.io";

/// A key that matched nothing for an image, and why (for `explain`); one per credential of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The normalised key that did not match, as it may be shown: through
    /// [`redact_userinfo`](crate::credential::redact_userinfo) (a key the kubelet normalises from
    /// `HTTPS://user:secret@host` still holds the secret).
    pub key: String,
    /// The key as written (may hold a `user:password@` part: do not show it unredacted).
    pub raw_key: String,
    /// Where the credential came from (as passed to `BasicKeyring::add`).
    pub source: String,
    /// The `Mismatch` Display, e.g. `port "5000" != ""`.
    pub reason: String,
}

/// The result of `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation<'a> {
    /// The credentials `lookup` returns, in kubelet order.
    pub credentials: Vec<&'a Credential>,
    /// Parallel to `credentials`: `true` when the credential came from the `index.docker.io`
    /// default-registry fallback (§c.3 step 3) rather than from its key matching the image.
    pub fallback: Vec<bool>,
    /// Credentials whose key did not match, with the reason: all of them when there are at most
    /// [`MAX_EXPLAIN_REJECTED`](crate::limits::MAX_EXPLAIN_REJECTED), else that many of the nearest
    /// to the image (same host first, then same domain, then the rest), listed in kubelet order
    /// (groups in order, keys descending) either way.
    pub rejected: Vec<Rejection>,
    /// How many credentials did not match in all: callers say "and N more" for the difference.
    pub rejected_total: usize,
}

/// Collects the rejections an explanation lists: at most `limit`, the nearest to the image.
pub(super) struct Nearest<'i> {
    image_host: &'i str,
    limit: usize,
    /// `(nearness, order seen, rejection)`.
    picked: Vec<(u8, usize, Rejection)>,
    seen: usize,
}

/// The host of a key or image (the text before the first `/`), without a port.
fn bare_host(text: &str) -> &str {
    let host = text.split('/').next().unwrap_or_default();
    match host.rsplit_once(':') {
        Some((h, port)) if !port.contains(']') => h,
        _ => host,
    }
}

/// The last two DNS labels of a host (`quay.io` of `a.b.quay.io`).
fn domain(host: &str) -> &str {
    let mut dots = host.rmatch_indices('.').map(|(i, _)| i);
    dots.nth(1).and_then(|i| host.get(i + 1..)).unwrap_or(host)
}

impl<'i> Nearest<'i> {
    pub(super) fn new(image: &'i str, limit: usize) -> Self {
        Nearest {
            image_host: bare_host(image),
            limit,
            picked: Vec::new(),
            seen: 0,
        }
    }

    /// 0: same host as the image; 1: same domain; 2: anything else.
    fn nearness(&self, key: &str) -> u8 {
        let host = bare_host(key);
        if host.eq_ignore_ascii_case(self.image_host) {
            0
        } else if domain(host).eq_ignore_ascii_case(domain(self.image_host)) {
            1
        } else {
            2
        }
    }

    /// Offers the rejection of a credential of `key`; `make` builds it only when it is kept.
    pub(super) fn offer(&mut self, key: &str, make: impl FnOnce() -> Rejection) {
        let order = self.seen;
        self.seen += 1;
        let near = self.nearness(key);
        if self.picked.len() < self.limit {
            self.picked.push((near, order, make()));
            return;
        }
        // Full: replace the farthest (the latest of the farthest) when this one is nearer.
        let worst = self
            .picked
            .iter()
            .enumerate()
            .max_by_key(|(_, (n, o, _))| (*n, *o))
            .map(|(i, (n, _, _))| (i, *n));
        if let Some((i, n)) = worst {
            if near < n {
                self.picked.swap_remove(i);
                self.picked.push((near, order, make()));
            }
        }
    }

    /// The kept rejections in the order they were offered, and how many were offered.
    pub(super) fn finish(mut self) -> (Vec<Rejection>, usize) {
        self.picked.sort_unstable_by_key(|(_, o, _)| *o);
        (self.picked.into_iter().map(|(_, _, r)| r).collect(), self.seen)
    }
}

/// Kubelet key normalisation (§c.1): `None` when the kubelet would log "invalid, ignoring".
///
/// ```
/// use _core::keyring::normalize_key;
/// assert_eq!(normalize_key("https://quay.io/v1/").as_deref(), Some("quay.io"));
/// assert_eq!(normalize_key("quay.io/v2/team").as_deref(), Some("quay.io/team"));
/// assert_eq!(normalize_key("quay.io/foo/").as_deref(), Some("quay.io/foo/"));
/// assert_eq!(normalize_key("bad host"), None);
/// ```
pub fn normalize_key(raw: &str) -> Option<String> {
    let value: Cow<'_, str> = if raw.starts_with("https://") || raw.starts_with("http://") {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(format!("https://{raw}"))
    };
    let u = parse_ref(&value).ok()?;
    let mut path: &str = &u.path;
    if path.starts_with("/v2/") || path.starts_with("/v1/") {
        path = path.get(3..).unwrap_or("");
    }
    if path.is_empty() || path == "/" {
        Some(u.host.into_owned())
    } else {
        Some(format!("{}{path}", u.host))
    }
}

/// The kubelet's `isDefaultRegistryMatch(image)` (§c.4): whether the `index.docker.io` fallback may apply.
///
/// ```
/// use _core::keyring::is_default_registry_match;
/// assert!(is_default_registry_match("docker.io/library/x"));
/// assert!(is_default_registry_match("localhost/foo"));
/// assert!(!is_default_registry_match("registry:5000/x"));
/// ```
pub fn is_default_registry_match(image: &str) -> bool {
    let Some((first, _)) = image.split_once('/') else {
        return !image.is_empty();
    };
    if first.is_empty() {
        return false;
    }
    first == "docker.io" || first == "index.docker.io" || !first.contains(['.', ':'])
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod scale;
