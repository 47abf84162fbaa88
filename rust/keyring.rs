//! The kubelet's `BasicDockerKeyring` and `UnionDockerKeyring`, indexed, plus the `auth` map of an
//! exec-plugin response that survives the kubelet's response cache.
//! Spec: ../shared/spec/kubelet.md §c, §d, §e.2 (7-9), §e.5. Owner: keyring helper.
//!
//! # Index
//!
//! The kubelet tests every key against the image (`URLsMatchStr`) in descending key order. Here each
//! key is parsed once when it is added (`hostname`, `port`, `path`, label count, kept as spans of the
//! key text) and filed in one of two places. All index maps are keyed by 64-bit hashes from the
//! keyring's own `RandomState` and every candidate they yield is verified, so a collision costs time,
//! never correctness; one-element lists need no allocation.
//!
//! - **exact hosts** (no glob character `*?[\` in the host): `(hostname, port) -> keys + distinct
//!   path lengths`, and `(hostname, port, path) -> keys`. A lookup finds the image's host with one
//!   probe; for a host with at most 8 keys it checks each key's path prefix, otherwise it probes
//!   `(hostname, port, image_path[..len])` once per distinct key-path length of that host: exactly the
//!   keys whose path is a string prefix of the image path.
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

use crate::hostglob::{explain_match, match_labels, urls_match_str, HostParts};
use crate::url::{escape_host, escape_path, parse_ref, parse_schemeless_ref};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};

/// The key the kubelet's default-registry fallback reads (§c.3 step 3).
pub const DEFAULT_REGISTRY_KEY: &str = "index.docker.io";

/// One registry credential as read from a docker config entry or a Secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthEntry {
    /// Username (from `username`, or the part of a decoded `auth` before the first `:`).
    pub username: String,
    /// Password: a secret, never displayed.
    pub password: String,
    /// Carried like the kubelet carries it; unused by pulls.
    pub email: String,
    /// Carried for the gRPC API; never used in kubelet answers.
    pub identity_token: String,
    /// Carried for the gRPC API; never used in kubelet answers.
    pub registry_token: String,
}

/// A credential in a keyring: the entry, its normalised key, the key as written, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The normalised key (§c.1) the kubelet matches against images.
    pub key: String,
    /// The key as written in its source (may hold a `user:password@` part: do not show it unredacted).
    pub raw_key: String,
    /// The credential itself.
    pub auth: AuthEntry,
    /// A file path or `secret:<namespace>/<name>`: whatever the caller passed to `add`.
    pub source: String,
}

/// A key that matched nothing for an image, and why (for `explain`); one per credential of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The normalised key that did not match.
    pub key: String,
    /// The key as written (may hold a `user:password@` part: do not show it unredacted).
    pub raw_key: String,
    /// Where the credential came from (as passed to `BasicKeyring::add`).
    pub source: String,
    /// The `Mismatch` Display, e.g. `port "5000" != ""`.
    pub reason: String,
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

fn is_literal(label: &str) -> bool {
    !label.contains(['*', '?', '[', '\\'])
}

/// A small list of indices that needs no heap allocation for one element.
#[derive(Debug, Clone)]
enum Ids {
    One(u32),
    Many(Vec<u32>),
}

impl Ids {
    fn push(&mut self, v: u32) {
        match self {
            Ids::One(a) => *self = Ids::Many(vec![*a, v]),
            Ids::Many(list) => list.push(v),
        }
    }
    fn as_slice(&self) -> &[u32] {
        match self {
            Ids::One(a) => std::slice::from_ref(a),
            Ids::Many(list) => list,
        }
    }
    fn first(&self) -> u32 {
        self.as_slice().first().copied().unwrap_or(u32::MAX)
    }
}

/// The index maps are keyed by 64-bit hashes from the keyring's own `RandomState`; this hasher
/// passes them through. A collision only costs time: every candidate found by hash is verified.
#[derive(Debug, Clone, Copy, Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type HashIndex<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

/// A byte range of a key's text.
type Span = (u32, u32);

/// A normalised key, parsed again the way `URLsMatchStr` parses it (§c.2): spans of the key itself,
/// or of `owned` when the parse decoded something.
#[derive(Debug, Clone)]
struct ParsedKey {
    owned: Option<Box<str>>,
    hostname: Span,
    port: Span,
    path: Span,
    labels: u32,
}

#[derive(Debug, Clone)]
struct KeyEntry {
    /// Indices into `BasicKeyring::creds`, in insertion order (the key text is the first one's).
    creds: Ids,
    /// `None` when the key does not parse as a schemeless URL: it never matches.
    parsed: Option<ParsedKey>,
}

/// The exact (glob-free) keys of one hostname and port.
#[derive(Debug, Clone)]
struct HostEntry {
    keys: Ids,
    /// Distinct key-path lengths, ascending.
    lens: Ids,
}

/// The glob keys of one port and label count.
#[derive(Debug, Clone, Default)]
struct GlobSet {
    /// Label positions some key is filed under, ascending.
    positions: Vec<u32>,
    /// Keys without any literal label.
    wild: Vec<u32>,
}

/// The parts of a parsed key or image that matching reads.
#[derive(Debug, Clone, Copy)]
struct Parts<'a> {
    hostname: &'a str,
    port: &'a str,
    path: &'a str,
    labels: u32,
}

impl<'a> Parts<'a> {
    fn of(host: &'a str, path: &'a str) -> Self {
        let hp = HostParts::new(host, path);
        Parts {
            hostname: hp.hostname,
            port: hp.port,
            path,
            labels: label_count(hp.hostname),
        }
    }
}

/// One `BasicDockerKeyring` (§c.1, §c.3), indexed (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct BasicKeyring {
    creds: Vec<Credential>,
    keys: Vec<KeyEntry>,
    seed: RandomState,
    /// hash(key) -> keys
    by_key: HashIndex<Ids>,
    /// hash(hostname, port) -> the exact keys of that host
    hosts: HashIndex<HostEntry>,
    /// hash(hostname, port, path) -> exact keys
    exact: HashIndex<Ids>,
    /// hash(port, label count) -> where its glob keys are filed
    glob_sets: HashIndex<GlobSet>,
    /// hash(port, label count, position, label) -> glob keys
    glob_labels: HashIndex<Ids>,
}

fn label_count(hostname: &str) -> u32 {
    u32::try_from(hostname.bytes().filter(|&b| b == b'.').count() + 1).unwrap_or(u32::MAX)
}

/// The span of `part` inside `base` (`part` must be a sub-slice of `base`, or empty).
fn span_of(base: &str, part: &str) -> Span {
    if part.is_empty() {
        return (0, 0);
    }
    let start = (part.as_ptr() as usize).saturating_sub(base.as_ptr() as usize);
    let end = start.saturating_add(part.len());
    (
        u32::try_from(start).unwrap_or(u32::MAX),
        u32::try_from(end).unwrap_or(u32::MAX),
    )
}

fn in_span(text: &str, (a, b): Span) -> &str {
    text.get(a as usize..b as usize).unwrap_or("")
}

fn parse_key(key: &str) -> Option<ParsedKey> {
    let u = parse_schemeless_ref(key).ok()?;
    let owned = match (&u.host, &u.path) {
        (Cow::Borrowed(_), Cow::Borrowed(_)) => None,
        _ => Some(format!("{}{}", u.host, u.path).into_boxed_str()),
    };
    let base: &str = owned.as_deref().unwrap_or(key);
    let parts = match &owned {
        None => Parts::of(&u.host, &u.path),
        Some(t) => Parts::of(t.get(..u.host.len()).unwrap_or(""), t.get(u.host.len()..).unwrap_or("")),
    };
    let (hostname, port, path, labels) = (
        span_of(base, parts.hostname),
        span_of(base, parts.port),
        span_of(base, parts.path),
        parts.labels,
    );
    Some(ParsedKey {
        owned,
        hostname,
        port,
        path,
        labels,
    })
}

impl BasicKeyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    fn hash(&self, x: impl Hash) -> u64 {
        self.seed.hash_one(x)
    }

    fn key_str(&self, k: u32) -> &str {
        self.keys
            .get(k as usize)
            .and_then(|e| self.creds.get(e.creds.first() as usize))
            .map_or("", |c| c.key.as_str())
    }

    fn key_index(&self, key: &str) -> Option<u32> {
        let ids = self.by_key.get(&self.hash(key))?;
        ids.as_slice().iter().copied().find(|&k| self.key_str(k) == key)
    }

    fn parts(&self, k: u32) -> Option<Parts<'_>> {
        let p = self.keys.get(k as usize)?.parsed.as_ref()?;
        let text = p.owned.as_deref().unwrap_or_else(|| self.key_str(k));
        Some(Parts {
            hostname: in_span(text, p.hostname),
            port: in_span(text, p.port),
            path: in_span(text, p.path),
            labels: p.labels,
        })
    }

    /// `Add` one entry (§c.1); `false` (entry skipped) when the key does not normalise.
    /// Entries are appended, never replaced: duplicates are kept.
    pub fn add(&mut self, raw_key: &str, auth: AuthEntry, source: &str) -> bool {
        let Some(key) = normalize_key(raw_key) else {
            return false;
        };
        let (Ok(ci), Ok(k)) = (u32::try_from(self.creds.len()), u32::try_from(self.keys.len())) else {
            return false;
        };
        let existing = self.key_index(&key);
        let parsed = if existing.is_none() { parse_key(&key) } else { None };
        let hk = self.hash(key.as_str());
        self.creds.push(Credential {
            key,
            raw_key: raw_key.to_owned(),
            auth,
            source: source.to_owned(),
        });
        if let Some(entry) = existing.and_then(|e| self.keys.get_mut(e as usize)) {
            entry.creds.push(ci);
            return true;
        }
        self.keys.push(KeyEntry {
            creds: Ids::One(ci),
            parsed,
        });
        match self.by_key.get_mut(&hk) {
            Some(ids) => ids.push(k),
            None => {
                self.by_key.insert(hk, Ids::One(k));
            }
        }
        self.index(k);
        true
    }

    fn index(&mut self, k: u32) {
        let Some(p) = self.parts(k) else {
            return;
        };
        if is_literal(p.hostname) {
            let hh = self.hash((p.hostname, p.port));
            let he = self.hash((p.hostname, p.port, p.path));
            let len = u32::try_from(p.path.len()).unwrap_or(u32::MAX);
            if let Some(h) = self.hosts.get_mut(&hh) {
                h.keys.push(k);
                let mut lens = h.lens.as_slice().to_vec();
                if let Err(at) = lens.binary_search(&len) {
                    lens.insert(at, len);
                    h.lens = Ids::Many(lens);
                }
            } else {
                self.hosts.insert(
                    hh,
                    HostEntry {
                        keys: Ids::One(k),
                        lens: Ids::One(len),
                    },
                );
            }
            if let Some(ids) = self.exact.get_mut(&he) {
                ids.push(k);
            } else {
                self.exact.insert(he, Ids::One(k));
            }
            return;
        }
        let hs = self.hash((p.port, p.labels));
        // File the key under its literal label whose list is shortest (leftmost on ties).
        let mut best: Option<(usize, u32, u64)> = None;
        for (pos, label) in (0u32..).zip(p.hostname.split('.')) {
            if !is_literal(label) {
                continue;
            }
            let hl = self.hash((p.port, p.labels, pos, label));
            let size = self.glob_labels.get(&hl).map_or(0, |ids| ids.as_slice().len());
            let better = match best {
                None => true,
                Some((n, _, _)) => size < n,
            };
            if better {
                best = Some((size, pos, hl));
            }
        }
        let filed = best.map(|(_, pos, hl)| (pos, hl));
        let set = self.glob_sets.entry(hs).or_default();
        let Some((pos, hl)) = filed else {
            set.wild.push(k);
            return;
        };
        if let Err(at) = set.positions.binary_search(&pos) {
            set.positions.insert(at, pos);
        }
        if let Some(ids) = self.glob_labels.get_mut(&hl) {
            ids.push(k);
        } else {
            self.glob_labels.insert(hl, Ids::One(k));
        }
    }

    /// Release the spare capacity left by `add` (call once loading is done).
    pub fn shrink_to_fit(&mut self) {
        self.creds.shrink_to_fit();
        self.keys.shrink_to_fit();
        self.by_key.shrink_to_fit();
        self.hosts.shrink_to_fit();
        self.exact.shrink_to_fit();
        self.glob_sets.shrink_to_fit();
        self.glob_labels.shrink_to_fit();
    }

    /// Number of credentials (not keys).
    pub fn len(&self) -> usize {
        self.creds.len()
    }

    /// Whether the keyring holds no credential.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every credential, in insertion order.
    pub fn credentials(&self) -> &[Credential] {
        &self.creds
    }

    /// Key indices in the kubelet's index order (descending bytes, §c.1 step 6).
    fn sorted_keys(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..u32::try_from(self.keys.len()).unwrap_or(u32::MAX)).collect();
        order.sort_unstable_by(|&a, &b| self.key_str(b).cmp(self.key_str(a)));
        order
    }

    /// The distinct normalised keys in the kubelet's index order (descending bytes, §c.1 step 6).
    pub fn keys(&self) -> Vec<&str> {
        self.sorted_keys().into_iter().map(|k| self.key_str(k)).collect()
    }

    /// `Lookup(image)` (§c.3, with the `index.docker.io` fallback of §c.4), in kubelet order.
    ///
    /// ```
    /// use _core::keyring::{AuthEntry, BasicKeyring};
    /// let mut k = BasicKeyring::new();
    /// let auth = |u: &str| AuthEntry { username: u.into(), ..AuthEntry::default() };
    /// k.add("bar.example.com", auth("ada"), "a.json");
    /// k.add("bar.example.com/pong", auth("grace"), "a.json");
    /// let users: Vec<_> = k.lookup("bar.example.com/pong/x").iter().map(|c| c.auth.username.as_str()).collect();
    /// assert_eq!(users, ["grace", "ada"]);
    /// ```
    pub fn lookup(&self, image: &str) -> Vec<&Credential> {
        let parsed = parse_schemeless_ref(image).ok();
        let parts = parsed.as_ref().map(|u| Parts::of(&u.host, &u.path));
        let mut out = Vec::new();
        self.lookup_parsed(image, parts.as_ref(), &mut out);
        out
    }

    /// Appends this keyring's answer; returns whether the default-registry fallback produced it.
    fn lookup_parsed<'a>(&'a self, image: &str, t: Option<&Parts<'_>>, out: &mut Vec<&'a Credential>) -> bool {
        let start = out.len();
        if let Some(t) = t {
            for k in self.matched_keys(t) {
                self.push_creds(k, out);
            }
        }
        if out.len() == start && is_default_registry_match(image) {
            if let Some(k) = self.key_index(DEFAULT_REGISTRY_KEY) {
                self.push_creds(k, out);
                return true;
            }
        }
        false
    }

    fn push_creds<'a>(&'a self, k: u32, out: &mut Vec<&'a Credential>) {
        if let Some(e) = self.keys.get(k as usize) {
            out.extend(e.creds.as_slice().iter().filter_map(|&c| self.creds.get(c as usize)));
        }
    }

    /// The keys matching the parsed image, in descending key order.
    fn matched_keys(&self, t: &Parts<'_>) -> Vec<u32> {
        let mut out = Vec::new();
        if let Some(h) = self.hosts.get(&self.hash((t.hostname, t.port))) {
            let same_host = |p: &Parts<'_>| p.hostname == t.hostname && p.port == t.port;
            let keys = h.keys.as_slice();
            if keys.len() <= SMALL_HOST {
                for &k in keys {
                    if self
                        .parts(k)
                        .is_some_and(|p| same_host(&p) && t.path.starts_with(p.path))
                    {
                        out.push(k);
                    }
                }
            } else {
                for &len in h.lens.as_slice() {
                    let Some(prefix) = t.path.get(..len as usize) else {
                        if len as usize > t.path.len() {
                            break;
                        }
                        continue;
                    };
                    if let Some(ids) = self.exact.get(&self.hash((t.hostname, t.port, prefix))) {
                        for &k in ids.as_slice() {
                            if self.parts(k).is_some_and(|p| same_host(&p) && p.path == prefix) {
                                out.push(k);
                            }
                        }
                    }
                }
            }
        }
        self.glob_candidates(t, |k, p| {
            if t.path.starts_with(p.path) && match_labels(p.hostname, t.hostname).is_ok() {
                out.push(k);
            }
        });
        out.sort_unstable_by(|&a, &b| self.key_str(b).cmp(self.key_str(a)));
        out.dedup();
        out
    }

    /// Calls `f` for every glob key that has the image's port and label count and could match it.
    fn glob_candidates(&self, t: &Parts<'_>, mut f: impl FnMut(u32, Parts<'_>)) {
        let Some(set) = self.glob_sets.get(&self.hash((t.port, t.labels))) else {
            return;
        };
        let mut visit = |k: u32| {
            if let Some(p) = self.parts(k).filter(|p| p.port == t.port && p.labels == t.labels) {
                f(k, p);
            }
        };
        if !set.positions.is_empty() {
            let labels: Vec<&str> = t.hostname.split('.').collect();
            for &pos in &set.positions {
                let Some(label) = labels.get(pos as usize) else {
                    continue;
                };
                if let Some(ids) = self.glob_labels.get(&self.hash((t.port, t.labels, pos, *label))) {
                    for &k in ids.as_slice() {
                        visit(k);
                    }
                }
            }
        }
        for &k in &set.wild {
            visit(k);
        }
    }

    /// The kubelet's own algorithm, a linear scan over all keys in descending order (§c.3). A
    /// reference for tests and benchmarks; `lookup` returns the same list.
    pub fn lookup_linear(&self, image: &str) -> Vec<&Credential> {
        let mut out = Vec::new();
        for k in self.sorted_keys() {
            if urls_match_str(self.key_str(k), image) {
                self.push_creds(k, &mut out);
            }
        }
        if out.is_empty() && is_default_registry_match(image) {
            if let Some(k) = self.key_index(DEFAULT_REGISTRY_KEY) {
                self.push_creds(k, &mut out);
            }
        }
        out
    }

    /// Keys that match some image whose host is `t`'s host (any path), via the index.
    fn host_keys(&self, t: &Parts<'_>) -> Vec<u32> {
        let mut out = Vec::new();
        if let Some(h) = self.hosts.get(&self.hash((t.hostname, t.port))) {
            for &k in h.keys.as_slice() {
                if self
                    .parts(k)
                    .is_some_and(|p| p.hostname == t.hostname && p.port == t.port)
                {
                    out.push(k);
                }
            }
        }
        self.glob_candidates(t, |k, p| {
            if match_labels(p.hostname, t.hostname).is_ok() {
                out.push(k);
            }
        });
        out.sort_unstable();
        out.dedup();
        out
    }

    fn explain_into<'a>(&'a self, image: &str, t: Option<&Parts<'_>>, ex: &mut Explanation<'a>) {
        let start = ex.credentials.len();
        let fallback = self.lookup_parsed(image, t, &mut ex.credentials);
        ex.fallback.resize(ex.credentials.len(), fallback);
        let matched_any = ex.credentials.len() > start && !fallback;
        for k in self.sorted_keys() {
            let key = self.key_str(k);
            let Err(why) = explain_match(key, image) else {
                continue;
            };
            if fallback && key == DEFAULT_REGISTRY_KEY {
                continue;
            }
            let mut reason = why.to_string();
            if key == DEFAULT_REGISTRY_KEY {
                reason.push_str(if !is_default_registry_match(image) {
                    "; not a Docker Hub image, so the index.docker.io fallback does not apply"
                } else if matched_any {
                    "; the index.docker.io fallback is not used because other keys matched"
                } else {
                    ""
                });
            }
            let creds = self.keys.get(k as usize).map_or(&[][..], |e| e.creds.as_slice());
            for c in creds.iter().filter_map(|&c| self.creds.get(c as usize)) {
                ex.rejected.push(Rejection {
                    key: c.key.clone(),
                    raw_key: c.raw_key.clone(),
                    source: c.source.clone(),
                    reason: reason.clone(),
                });
            }
        }
    }
}

/// Hosts with at most this many exact keys are checked key by key instead of probing per path length.
const SMALL_HOST: usize = 8;

/// How the kubelet may cache a plugin response (§e.2 step 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKeyType {
    /// Reused for the same image (repository) only.
    Image,
    /// Reused for every image of the same `host[:port]` (the image up to its first `/`).
    Registry,
    /// Reused for every image.
    Global,
}

/// pullkey's choice of `cacheKeyType`: `Auto` picks the widest type that stays exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// `Registry` when it is exact for the image's host, else `Image`.
    Auto,
    /// Always `Image`.
    Image,
    /// `Registry` when exact, else `Image`.
    Registry,
    /// `Global` when exact, else `Image`.
    Global,
}

/// The `auth` map of a kubelet response: keys (in no particular order, they are a JSON map) whose
/// kubelet matching reproduces `Keyring::lookup` exactly, for every image the cache entry serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseAuth<'a> {
    /// The `cacheKeyType` to answer with (what the policy resolved to).
    pub cache_key_type: CacheKeyType,
    /// (raw key for the `auth` map, credential): send only its username and password.
    pub entries: Vec<(String, &'a AuthEntry)>,
}

/// The result of `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation<'a> {
    /// The credentials `lookup` returns, in kubelet order.
    pub credentials: Vec<&'a Credential>,
    /// Parallel to `credentials`: `true` when the credential came from the `index.docker.io`
    /// default-registry fallback (§c.3 step 3) rather than from its key matching the image.
    pub fallback: Vec<bool>,
    /// Every credential whose key did not match, with the reason (groups in order, keys descending).
    pub rejected: Vec<Rejection>,
}

/// A `UnionDockerKeyring` of basic keyrings (pull secrets first, then node files), §d.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    /// The member keyrings, in lookup order.
    pub groups: Vec<BasicKeyring>,
}

/// The `Image` ladder masks at most this many host labels with `*` (see `Keyring::response_auth`).
const LADDER_MAX_MASK_LABELS: usize = 6;
/// ... and uses globs of at most this many stars (`*`, `**`, ...: same meaning, distinct keys).
const LADDER_MAX_STARS: usize = 8;

impl Keyring {
    /// Number of credentials in all groups.
    pub fn len(&self) -> usize {
        self.groups.iter().map(BasicKeyring::len).sum()
    }

    /// Whether no group holds a credential.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `UnionDockerKeyring.Lookup` (§c.5, §d): each group's lookup (with its own `index.docker.io`
    /// fallback), concatenated in group order. The image is parsed once.
    pub fn lookup(&self, image: &str) -> Vec<&Credential> {
        let parsed = parse_schemeless_ref(image).ok();
        let parts = parsed.as_ref().map(|u| Parts::of(&u.host, &u.path));
        let mut out = Vec::new();
        for g in &self.groups {
            g.lookup_parsed(image, parts.as_ref(), &mut out);
        }
        out
    }

    /// The credentials of `lookup`, plus every other credential with the reason its key did not match.
    pub fn explain(&self, image: &str) -> Explanation<'_> {
        let parsed = parse_schemeless_ref(image).ok();
        let parts = parsed.as_ref().map(|u| Parts::of(&u.host, &u.path));
        let mut ex = Explanation {
            credentials: Vec::new(),
            fallback: Vec::new(),
            rejected: Vec::new(),
        };
        for g in &self.groups {
            g.explain_into(image, parts.as_ref(), &mut ex);
        }
        ex
    }

    /// Build the response `auth` map for `image` under `policy` (see `ResponseAuth`, §e.2 steps 7-9).
    ///
    /// The kubelet adds the map (one credential per key) to a fresh keyring and looks images up in
    /// it; with `Registry` it reuses the response for every image of the same `host[:port]`, with
    /// `Global` for every image. The map always makes the kubelet try exactly `self.lookup(image2)`
    /// (username/password, same order) for every `image2` the cache entry serves:
    ///
    /// - `Registry` is exact when, among all groups, only one can contribute credentials for images
    ///   of this host (a key matching the host, or its `index.docker.io` fallback where the host is a
    ///   Docker Hub match), and each of its contributing keys holds exactly one credential. The map
    ///   is then those keys.
    /// - `Global` is exact when only one group holds credentials and each key holds one: every key.
    /// - `Image` (also the answer when `Registry`/`Global` would not be exact; `Auto` = `Registry`
    ///   when exact, else `Image`): a ladder of keys that all match `image` and sort in the wanted
    ///   order (prefixes of the repository, then `*` variants of the host labels). If the ladder has
    ///   fewer rungs than the list (only with very many credentials for one image, or an image that
    ///   does not parse), the list is truncated to the rungs available.
    pub fn response_auth(&self, image: &str, policy: CachePolicy) -> ResponseAuth<'_> {
        match policy {
            CachePolicy::Global => {
                if let Some(entries) = self.global_entries() {
                    return ResponseAuth {
                        cache_key_type: CacheKeyType::Global,
                        entries,
                    };
                }
            }
            CachePolicy::Registry | CachePolicy::Auto => {
                if let Some(entries) = self.registry_entries(image) {
                    return ResponseAuth {
                        cache_key_type: CacheKeyType::Registry,
                        entries,
                    };
                }
            }
            CachePolicy::Image => {}
        }
        ResponseAuth {
            cache_key_type: CacheKeyType::Image,
            entries: self.image_entries(image),
        }
    }

    /// The `cacheKeyType` that `response_auth(image, policy)` answers with, without building the map.
    pub fn cache_key_type(&self, image: &str, policy: CachePolicy) -> CacheKeyType {
        let exact = |sel: Option<Selection<'_>>| sel.is_some_and(|(g, keys)| one_credential_each(g, &keys));
        match policy {
            CachePolicy::Global if exact(self.global_selection()) => CacheKeyType::Global,
            CachePolicy::Registry | CachePolicy::Auto if exact(self.registry_selection(image)) => {
                CacheKeyType::Registry
            }
            _ => CacheKeyType::Image,
        }
    }

    /// The only group with credentials and all its keys; `None` when several groups have some.
    fn global_selection(&self) -> Option<Selection<'_>> {
        let mut groups = self.groups.iter().filter(|g| !g.is_empty());
        let Some(g) = groups.next() else {
            return Some((None, Vec::new()));
        };
        if groups.next().is_some() {
            return None;
        }
        Some((
            Some(g),
            (0..g.keys.len()).filter_map(|k| u32::try_from(k).ok()).collect(),
        ))
    }

    /// The only group that can contribute credentials to images of `image`'s registry, and those of
    /// its keys that can; `None` when several groups can.
    fn registry_selection(&self, image: &str) -> Option<Selection<'_>> {
        // kubelet plugin.go: the registry cache key is the image up to its first `/`; it serves every
        // image that starts with it and a `/` (the kubelet always looks up `domain/path` names), and
        // the bare registry itself when the image had no `/`.
        let registry = image.split('/').next().unwrap_or("");
        let probe = format!("{registry}/x");
        let fallback_possible = is_default_registry_match(&probe) || (!image.contains('/') && !registry.is_empty());
        // Every served image parses to the same host (or fails to parse: then only fallbacks apply).
        let parsed = parse_schemeless_ref(&probe).ok();
        let host = parsed.as_ref().map(|u| Parts::of(&u.host, ""));
        let mut chosen: Selection<'_> = (None, Vec::new());
        for g in &self.groups {
            let mut keys = host.as_ref().map(|h| g.host_keys(h)).unwrap_or_default();
            if fallback_possible {
                if let Some(k) = g.key_index(DEFAULT_REGISTRY_KEY) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
            if keys.is_empty() {
                continue;
            }
            if chosen.0.is_some() {
                return None;
            }
            chosen = (Some(g), keys);
        }
        Some(chosen)
    }

    fn global_entries(&self) -> Option<Vec<(String, &AuthEntry)>> {
        let (g, keys) = self.global_selection()?;
        g.map_or(Some(Vec::new()), |g| response_entries(g, keys))
    }

    fn registry_entries(&self, image: &str) -> Option<Vec<(String, &AuthEntry)>> {
        let (g, keys) = self.registry_selection(image)?;
        g.map_or(Some(Vec::new()), |g| response_entries(g, keys))
    }

    fn image_entries(&self, image: &str) -> Vec<(String, &AuthEntry)> {
        let want = self.lookup(image);
        if want.is_empty() {
            return Vec::new();
        }
        let ladder = ladder(image, want.len());
        if ladder.is_empty() {
            // Only for images that do not parse: the kubelet can then only reach the fallback key.
            return match want.first() {
                Some(c) if is_default_registry_match(image) => vec![(DEFAULT_REGISTRY_KEY.to_owned(), &c.auth)],
                _ => Vec::new(),
            };
        }
        ladder.into_iter().zip(want).map(|(raw, c)| (raw, &c.auth)).collect()
    }

    /// `matchImages` patterns (`URLsMatchStr` syntax, §e.2 step 1) covering every image a key of this
    /// keyring can match: the `host[:port]` part of each key (deduplicated, sorted); when
    /// `index.docker.io` is a key, also `docker.io` and `*` (the images its default-registry fallback
    /// serves: Docker Hub names and single-label hosts such as `localhost`). Keys that do not parse
    /// match nothing and are left out.
    pub fn match_images(&self) -> Vec<String> {
        let mut out = BTreeSet::new();
        for g in &self.groups {
            for k in (0..g.keys.len())
                .filter_map(|k| u32::try_from(k).ok())
                .filter(|&k| g.parts(k).is_some())
            {
                let key = g.key_str(k);
                out.insert(key.split('/').next().unwrap_or("").to_owned());
                if key == DEFAULT_REGISTRY_KEY {
                    out.insert("docker.io".to_owned());
                    out.insert("*".to_owned());
                }
            }
        }
        out.into_iter().collect()
    }
}

/// A group (if any contributes) and the keys of it a response must carry.
type Selection<'a> = (Option<&'a BasicKeyring>, Vec<u32>);

fn one_credential_each(g: Option<&BasicKeyring>, keys: &[u32]) -> bool {
    match g {
        None => true,
        Some(g) => keys
            .iter()
            .all(|&k| g.keys.get(k as usize).is_some_and(|e| e.creds.as_slice().len() == 1)),
    }
}

/// The response entries for `keys` of `g`, or `None` when a key holds more than one credential.
fn response_entries(g: &BasicKeyring, keys: impl IntoIterator<Item = u32>) -> Option<Vec<(String, &AuthEntry)>> {
    let mut out = Vec::new();
    for k in keys {
        let e = g.keys.get(k as usize)?;
        let [c] = e.creds.as_slice() else {
            return None;
        };
        let cred = g.creds.get(*c as usize)?;
        out.push((
            response_key(&cred.key).unwrap_or_else(|| cred.raw_key.clone()),
            &cred.auth,
        ));
    }
    Some(out)
}

/// A raw key the kubelet normalises back to exactly `key` (§c.1), written without userinfo, query or
/// fragment: the host and path re-escaped the way Go's `url.String` would, and a path that starts with
/// `/v1/` or `/v2/` protected by an extra `/v2` (which normalisation strips).
fn response_key(key: &str) -> Option<String> {
    let (host, path) = match key.find('/') {
        Some(i) => (key.get(..i)?, key.get(i..)?),
        None => (key, ""),
    };
    let guard = if path.starts_with("/v1/") || path.starts_with("/v2/") {
        "/v2"
    } else {
        ""
    };
    let raw = format!("{}{guard}{}", escape_host(host), escape_path(path));
    (normalize_key(&raw).as_deref() == Some(key)).then_some(raw)
}

/// Up to `n` raw keys that all match `image`, in descending order of their normalised keys.
///
/// Rungs: the image's host followed by every prefix of its path (longest first), then the same with
/// host labels replaced by `*`, `**`, ... (all equivalent globs, distinct keys). Every candidate is
/// checked: it must match `image` and its raw form must normalise back to it.
fn ladder(image: &str, n: usize) -> Vec<String> {
    let Ok(u) = parse_schemeless_ref(image) else {
        return Vec::new();
    };
    let (host, path) = (u.host.as_ref(), u.path.as_ref());
    let hp = HostParts::new(host, path);
    let labels: Vec<&str> = hp.hostname.split('.').collect();
    let port = if hp.port.is_empty() {
        String::new()
    } else {
        format!(":{}", hp.port)
    };
    let masks: u32 = if labels.len() <= LADDER_MAX_MASK_LABELS {
        (1u32 << labels.len()) - 1
    } else {
        0
    };
    let variants = (1..=LADDER_MAX_STARS).flat_map(|stars| (1..=masks).map(move |mask| (stars, mask)));
    let hosts = std::iter::once(host.to_owned()).chain(variants.map(|(stars, mask)| {
        let star = "*".repeat(stars);
        let v: Vec<&str> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| if mask & (1 << i) != 0 { star.as_str() } else { l })
            .collect();
        format!("{}{port}", v.join("."))
    }));
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut raws: HashMap<String, String> = HashMap::new();
    'outer: for h in hosts {
        for len in (0..=path.len()).rev() {
            let Some(p) = path.get(..len) else {
                continue;
            };
            let key = if p.is_empty() || p == "/" {
                h.clone()
            } else {
                format!("{h}{p}")
            };
            if found.contains(&key) || explain_match(&key, image).is_err() {
                continue;
            }
            if let Some(raw) = response_key(&key) {
                raws.insert(key.clone(), raw);
                found.insert(key);
                if found.len() >= n {
                    break 'outer;
                }
            }
        }
    }
    found.into_iter().rev().filter_map(|k| raws.remove(&k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn auth(user: &str) -> AuthEntry {
        AuthEntry {
            username: user.to_owned(),
            password: format!("pw-{user}"),
            ..AuthEntry::default()
        }
    }

    fn ring(entries: &[(&str, &str)]) -> BasicKeyring {
        let mut k = BasicKeyring::new();
        for (key, user) in entries {
            k.add(key, auth(user), "test");
        }
        k
    }

    fn users(creds: &[&Credential]) -> Vec<String> {
        creds.iter().map(|c| c.auth.username.clone()).collect()
    }

    #[test]
    fn normalize_key_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("quay.io", Some("quay.io")),
            ("https://quay.io", Some("quay.io")),
            ("http://quay.io/", Some("quay.io")),
            ("https://quay.io/v1/", Some("quay.io")),
            ("https://quay.io/v2/", Some("quay.io")),
            ("quay.io/v2/team", Some("quay.io/team")),
            ("quay.io/v1/team/", Some("quay.io/team/")),
            ("quay.io/v1", Some("quay.io/v1")),
            ("quay.io/v2/v2/x", Some("quay.io/v2/x")),
            ("quay.io/v3/x", Some("quay.io/v3/x")),
            ("quay.io/foo/", Some("quay.io/foo/")),
            ("index.docker.io/v1/", Some("index.docker.io")),
            ("https://index.docker.io/v1/", Some("index.docker.io")),
            ("Quay.IO/Team", Some("Quay.IO/Team")),
            ("registry:5000", Some("registry:5000")),
            ("registry?.io", Some("registry")),
            ("quay.io#frag", Some("quay.io")),
            ("user:pass@quay.io/x", Some("quay.io/x")),
            ("quay.io/a%20b", Some("quay.io/a b")),
            ("quay.io/a%3Fb", Some("quay.io/a?b")),
            ("*.example.com", Some("*.example.com")),
            ("HTTPS://quay.io", Some("HTTPS://quay.io")),
            ("ftp://quay.io", Some("ftp://quay.io")),
            ("", Some("")),
            ("bad host", None),
            ("a{b}", None),
            ("registry:abc", None),
            ("quay.io/%zz", None),
            ("quay.io/\n", None),
            ("[1.2.3.4]", None),
        ];
        for &(raw, want) in cases {
            assert_eq!(normalize_key(raw).as_deref(), want, "{raw:?}");
        }
    }

    #[test]
    fn kubelet_is_default_registry_match() {
        // kubelet keyring_test.go TestIsDefaultRegistryMatch, plus §c.4.
        for (image, want) in [
            ("foo/bar", true),
            ("docker.io/foo/bar", true),
            ("index.docker.io/foo/bar", true),
            ("foo", true),
            ("quay.io", true),
            ("", false),
            ("/foo", false),
            ("registry.tld/foo/bar", false),
            ("registry:5000/foo/bar", false),
            ("myhostdocker.io/foo/bar", false),
            ("localhost/foo", true),
        ] {
            assert_eq!(is_default_registry_match(image), want, "{image:?}");
        }
    }

    #[test]
    fn kubelet_docker_keyring_lookup() {
        // kubelet TestDockerKeyringLookup.
        let k = ring(&[("bar.example.com/pong", "grace"), ("bar.example.com", "ada")]);
        let cases: &[(&str, &[&str])] = &[
            ("bar.example.com", &["ada"]),
            ("bar.example.com/pong", &["grace", "ada"]),
            ("bar.example.com/ping", &["ada"]),
            ("bar.example.com/pongz", &["grace", "ada"]),
            ("bar.example.com/pong/pang", &["grace", "ada"]),
            ("example.com", &[]),
            ("foo.example.com", &[]),
        ];
        for &(image, want) in cases {
            assert_eq!(users(&k.lookup(image)), want, "{image}");
        }
        // kubelet TestIssue3797: a key with a scheme and /v1/ path matches the bare host.
        let k = ring(&[("https://quay.io/v1/", "rex")]);
        for image in ["quay.io", "quay.io/foo", "quay.io/foo/bar"] {
            assert_eq!(users(&k.lookup(image)), ["rex"], "{image}");
        }
    }

    #[test]
    fn kubelet_docker_keyring_for_glob() {
        // kubelet TestDockerKeyringForGlob: each key alone must match target + "/foo/bar".
        let cases = [
            ("https://hello.kubernetes.io", "hello.kubernetes.io"),
            ("https://*.docker.io", "prefix.docker.io"),
            ("https://prefix.*.io", "prefix.docker.io"),
            ("https://prefix.docker.*", "prefix.docker.io"),
            ("https://*.docker.io/path", "prefix.docker.io/path"),
            ("https://prefix.*.io/path", "prefix.docker.io/path/subpath"),
            ("https://prefix.docker.*/path", "prefix.docker.io/path"),
            ("https://*.docker.io:8888", "prefix.docker.io:8888"),
            ("https://prefix.*.io:8888", "prefix.docker.io:8888"),
            ("https://prefix.docker.*:8888", "prefix.docker.io:8888"),
            ("https://*.docker.io/path:1111", "prefix.docker.io/path:1111"),
            ("https://*.docker.io/v1/", "prefix.docker.io/path:1111"),
            ("https://*.docker.io/v2/", "prefix.docker.io/path:1111"),
            ("https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111"),
            ("prefix.docker.io:1111", "prefix.docker.io:1111/path"),
            ("*.docker.io:1111", "prefix.docker.io:1111/path"),
        ];
        for (key, target) in cases {
            let k = ring(&[(key, "foo")]);
            let image = format!("{target}/foo/bar");
            assert_eq!(users(&k.lookup(&image)), ["foo"], "{key} {image}");
            assert_eq!(users(&k.lookup_linear(&image)), ["foo"], "{key} {image}");
        }
    }

    #[test]
    fn kubelet_keyring_miss() {
        // kubelet TestKeyringMiss: lookups of target + "/foo/bar" find nothing.
        let cases = [
            ("https://hello.kubernetes.io", "world.mesos.org/foo/bar"),
            ("https://*.docker.com", "prefix.docker.io"),
            ("https://suffix.*.io", "prefix.docker.io"),
            ("https://prefix.docker.c*", "prefix.docker.io"),
            ("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"),
            ("suffix.*.io", "prefix.docker.io"),
        ];
        for (key, target) in cases {
            let k = ring(&[(key, "foo")]);
            assert!(k.lookup(&format!("{target}/foo/bar")).is_empty(), "{key} {target}");
        }
    }

    #[test]
    fn kubelet_docker_hub_fallback() {
        let k = ring(&[("https://index.docker.io/v1/", "foo")]);
        // TestKeyringMissWithDockerHubCredentials
        assert!(k.lookup("world.mesos.org/foo/bar").is_empty());
        // TestKeyringHitWithUnqualifiedDockerHub / UnqualifiedLibraryDockerHub
        assert_eq!(users(&k.lookup("google/docker-registry")), ["foo"]);
        assert_eq!(users(&k.lookup("jenkins")), ["foo"]);
        // TestKeyringHitWithQualifiedDockerHub (the key matches directly here)
        assert_eq!(users(&k.lookup("index.docker.io/v1//google/docker-registry")), ["foo"]);
        // §a: normalised Docker Hub names reach it only through the fallback.
        assert_eq!(users(&k.lookup("docker.io/library/nginx")), ["foo"]);
        assert_eq!(users(&k.lookup("localhost/x")), ["foo"]);
        assert!(k.lookup("localhost:5000/x").is_empty());
        // The fallback is not used when another key matched.
        let k = ring(&[("index.docker.io", "hub"), ("docker.io/library", "lib")]);
        assert_eq!(users(&k.lookup("docker.io/library/nginx")), ["lib"]);
        assert_eq!(users(&k.lookup("docker.io/user/app")), ["hub"]);
        // A key literally named docker.io matches directly.
        let k = ring(&[("docker.io", "d")]);
        assert_eq!(users(&k.lookup("docker.io/library/nginx")), ["d"]);
    }

    #[test]
    fn ordering_duplicates_and_ports() {
        let k = ring(&[
            ("*.example.com", "star"),
            ("foo.*.com", "foo-star"),
            ("foo.example.com", "exact1"),
            ("https://foo.example.com/", "exact2"),
            ("foo.example.com/team", "team"),
            ("foo.example.com/team/", "team-slash"),
            ("foo.example.com", "exact1"),
            ("foo.example.com:5000", "port"),
            ("foo.example.*", "foo-ex-star"),
        ]);
        // Descending key order; same key: insertion order, duplicates kept.
        assert_eq!(
            users(&k.lookup("foo.example.com/team/app")),
            [
                "team-slash",
                "team",
                "exact1",
                "exact2",
                "exact1",
                "foo.example.*",
                "foo-star",
                "star"
            ]
            .map(|u| if u == "foo.example.*" { "foo-ex-star" } else { u })
        );
        assert_eq!(users(&k.lookup("foo.example.com:5000/team")), ["port"]);
        assert_eq!(users(&k.lookup("bar.example.com/x")), ["star"]);
        assert_eq!(k.len(), 9);
        assert_eq!(
            k.keys(),
            [
                "foo.example.com:5000",
                "foo.example.com/team/",
                "foo.example.com/team",
                "foo.example.com",
                "foo.example.*",
                "foo.*.com",
                "*.example.com"
            ]
        );
        assert!(!k.clone().add("bad host", auth("x"), "s"));
    }

    #[test]
    fn crowded_hosts_use_the_path_index() {
        // More exact keys on one host than SMALL_HOST, plus decoded keys and many globs in one bucket.
        let mut k = BasicKeyring::new();
        let paths = [
            "",
            "/",
            "/t",
            "/te",
            "/team",
            "/team/",
            "/team/app",
            "/team/app2",
            "/other",
            "/a%20b",
            "/a b",
        ];
        for (i, p) in paths.iter().enumerate() {
            for host in ["quay.io", "quay.io:443", "Quay.io"] {
                k.add(&format!("{host}{p}"), auth(&format!("u{i}")), "s");
            }
        }
        for i in 0..20 {
            k.add(&format!("*.tenant-{i}.example.com/x"), auth(&format!("g{i}")), "s");
            k.add(&format!("app-{i}.*.example.com"), auth(&format!("h{i}")), "s");
        }
        for image in [
            "quay.io/team/app",
            "quay.io/team/app2/x",
            "quay.io:443/t",
            "quay.io",
            "quay.io/a b/c",
            "Quay.io/other",
            "a.tenant-7.example.com/x/y",
            "app-3.tenant-3.example.com/x",
            "app-3.tenant-9.example.com/y",
        ] {
            let fast: Vec<*const Credential> = k.lookup(image).into_iter().map(std::ptr::from_ref).collect();
            let slow: Vec<*const Credential> = k.lookup_linear(image).into_iter().map(std::ptr::from_ref).collect();
            assert!(!fast.is_empty(), "{image}");
            assert_eq!(fast, slow, "{image}");
        }
        assert_eq!(users(&k.lookup("quay.io/team/x")), ["u5", "u4", "u3", "u2", "u0", "u1"]);
    }

    #[test]
    fn lookups_visit_few_candidates() {
        // Deterministic guard for the index: with 3,000 glob keys sharing their last labels, an image
        // must only reach the keys filed under its own distinctive label.
        let mut k = BasicKeyring::new();
        for i in 0..1000 {
            k.add(&format!("*.tenant-{i}.example.com"), auth("g"), "s");
            k.add(&format!("app-*.team-{i}.example.com/x"), auth("h"), "s");
            k.add(&format!("registry-{i}.example.com/team-{i}"), auth("e"), "s");
        }
        let visited = |image: &str| {
            let u = parse_schemeless_ref(image).unwrap();
            let t = Parts::of(&u.host, &u.path);
            let mut n = 0;
            k.glob_candidates(&t, |_, _| n += 1);
            n
        };
        assert_eq!(visited("a.tenant-7.example.com/x"), 1);
        assert_eq!(visited("app-1.team-9.example.com/x"), 1);
        assert_eq!(visited("a.b.c.d/x"), 0);
        assert_eq!(users(&k.lookup("registry-5.example.com/team-5/x")), ["e"]);
    }

    #[test]
    fn union_concatenates_groups_each_with_its_fallback() {
        let secrets = ring(&[("quay.io", "secret"), ("index.docker.io", "secret-hub")]);
        let node = ring(&[
            ("quay.io/team", "node-team"),
            ("index.docker.io", "node-hub"),
            ("*.io", "node-star"),
        ]);
        let kr = Keyring {
            groups: vec![secrets, BasicKeyring::new(), node],
        };
        assert_eq!(
            users(&kr.lookup("quay.io/team/app")),
            ["secret", "node-team", "node-star"]
        );
        // node: *.io matches docker.io, so its fallback is not used; secrets fall back.
        assert_eq!(users(&kr.lookup("docker.io/library/x")), ["secret-hub", "node-star"]);
        assert_eq!(users(&kr.lookup("localhost/x")), ["secret-hub", "node-hub"]);
        assert!(kr.lookup("other.example.com/x").is_empty());
        assert_eq!(kr.len(), 5);
    }

    #[test]
    fn explain_lists_rejections_and_fallback() {
        let secrets = ring(&[("quay.io:5000", "p"), ("quay.io/team", "t"), ("k*.io", "k")]);
        let node = ring(&[("index.docker.io", "hub"), ("a.b.quay.io", "deep")]);
        let kr = Keyring {
            groups: vec![secrets, node],
        };
        let ex = kr.explain("quay.io/other/app");
        assert!(ex.credentials.is_empty());
        let reasons: Vec<(&str, &str)> = ex
            .rejected
            .iter()
            .map(|r| (r.key.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("quay.io:5000", r#"port "5000" != """#),
                ("quay.io/team", r#"path "/team" is not a prefix of "/other/app""#),
                ("k*.io", r#"label 1 "k*" does not match "quay""#),
                (
                    "index.docker.io",
                    "3 labels, image has 2; not a Docker Hub image, so the index.docker.io fallback does not apply"
                ),
                ("a.b.quay.io", "4 labels, image has 2"),
            ]
        );
        let ex = kr.explain("docker.io/library/x");
        assert_eq!(users(&ex.credentials), ["hub"]);
        assert_eq!(ex.fallback, [true]);
        assert!(ex.rejected.iter().all(|r| r.key != "index.docker.io"));
        let ex = kr.explain("quay.io/team/x");
        assert_eq!(users(&ex.credentials), ["t"]);
        assert_eq!(ex.fallback, [false]);
        assert_eq!(ex.rejected.len(), 4);
    }

    #[test]
    fn match_images_cover_keys() {
        let kr = Keyring {
            groups: vec![
                ring(&[("quay.io/team", "a"), ("*.example.com:5000/x", "b"), ("bad host", "c")]),
                ring(&[("https://index.docker.io/v1/", "d"), ("quay.io", "e")]),
            ],
        };
        assert_eq!(
            kr.match_images(),
            ["*", "*.example.com:5000", "docker.io", "index.docker.io", "quay.io"]
        );
        for image in [
            "quay.io/team/x",
            "a.example.com:5000/x/y",
            "docker.io/library/n",
            "localhost/x",
        ] {
            assert!(!kr.lookup(image).is_empty(), "{image}");
            assert!(kr.match_images().iter().any(|p| urls_match_str(p, image)), "{image}");
        }
    }

    /// What the kubelet does with a response `auth` map: a fresh keyring, one entry per key, and its
    /// own linear lookup.
    fn kubelet_view(entries: &[(String, &AuthEntry)], image: &str) -> Vec<(String, String)> {
        let mut k = BasicKeyring::new();
        let mut seen = BTreeSet::new();
        for (raw, a) in entries {
            let key = normalize_key(raw).expect("response keys must normalise");
            assert!(seen.insert(key.clone()), "two response keys normalise to {key}");
            let plain = AuthEntry {
                username: a.username.clone(),
                password: a.password.clone(),
                ..AuthEntry::default()
            };
            k.add(raw, plain, "plugin");
        }
        pairs(&k.lookup_linear(image))
    }

    fn pairs(creds: &[&Credential]) -> Vec<(String, String)> {
        creds
            .iter()
            .map(|c| (c.auth.username.clone(), c.auth.password.clone()))
            .collect()
    }

    #[test]
    fn image_ladder_reproduces_lookup() {
        let kr = Keyring {
            groups: vec![
                ring(&[("quay.io", "a"), ("quay.io", "b"), ("*.io", "c")]),
                ring(&[("quay.io/team", "d"), ("quay.io", "a"), ("index.docker.io", "e")]),
            ],
        };
        for image in [
            "quay.io/team/app",
            "quay.io/v2/x",
            "quay.io/v1/team",
            "quay.io/x",
            "docker.io/library/x",
        ] {
            let r = kr.response_auth(image, CachePolicy::Image);
            assert_eq!(r.cache_key_type, CacheKeyType::Image);
            assert_eq!(kubelet_view(&r.entries, image), pairs(&kr.lookup(image)), "{image}");
            assert!(r.entries.iter().all(|(k, _)| !k.contains('@')));
        }
        // A path starting with /v2/ is protected from normalisation.
        let r = kr.response_auth("quay.io/v2/x", CachePolicy::Image);
        assert!(r.entries.iter().any(|(k, _)| k == "quay.io/v2/v2/x"), "{:?}", r.entries);
        assert!(kr
            .response_auth("nothing.example.com/x", CachePolicy::Image)
            .entries
            .is_empty());
    }

    #[test]
    fn image_ladder_is_long_and_truncates_when_out_of_rungs() {
        // Host "h" has one label and path "/a": rungs h/a, h, then */a, *, **/a, **, ... (8 star counts).
        let mut k = BasicKeyring::new();
        for i in 0..30 {
            k.add("h", auth(&format!("u{i}")), "s");
        }
        let kr = Keyring { groups: vec![k] };
        let r = kr.response_auth("h/a", CachePolicy::Auto);
        assert_eq!(r.cache_key_type, CacheKeyType::Image);
        assert_eq!(r.entries.len(), 18);
        let want: Vec<_> = pairs(&kr.lookup("h/a")).into_iter().take(18).collect();
        assert_eq!(kubelet_view(&r.entries, "h/a"), want);
        let r = kr.response_auth("h/a", CachePolicy::Image);
        let keys: Vec<String> = r.entries.iter().map(|(k, _)| normalize_key(k).unwrap()).collect();
        // Descending: `/` (0x2F) sorts above `*` (0x2A), so `*/a` precedes `**/a` and `*` comes last.
        assert_eq!(keys[..4], ["h/a", "h", "*/a", "**/a"]);
        assert_eq!(keys.last().map(String::as_str), Some("*"));
        // An image that does not parse can only be served by the index.docker.io fallback: one credential.
        let hub = ring(&[("index.docker.io", "a"), ("index.docker.io", "b")]);
        let kr = Keyring { groups: vec![hub] };
        assert_eq!(users(&kr.lookup("bad image")), ["a", "b"]);
        let r = kr.response_auth("bad image", CachePolicy::Image);
        assert_eq!(
            kubelet_view(&r.entries, "bad image"),
            pairs(&kr.lookup("bad image"))[..1]
        );
    }

    #[test]
    fn registry_and_global_only_when_exact() {
        let node = ring(&[
            ("quay.io", "a"),
            ("quay.io/team", "b"),
            ("*.io", "c"),
            ("other.com", "d"),
        ]);
        let kr = Keyring {
            groups: vec![BasicKeyring::new(), node.clone()],
        };
        let r = kr.response_auth("quay.io/team/x", CachePolicy::Auto);
        assert_eq!(r.cache_key_type, CacheKeyType::Registry);
        let mut keys: Vec<&str> = r.entries.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["*.io", "quay.io", "quay.io/team"]);
        let r = kr.response_auth("quay.io/team/x", CachePolicy::Global);
        assert_eq!((r.cache_key_type, r.entries.len()), (CacheKeyType::Global, 4));
        assert_eq!(
            kr.response_auth("quay.io/x", CachePolicy::Image).cache_key_type,
            CacheKeyType::Image
        );

        // Two credentials under one key: neither Registry nor Global can carry them.
        let mut dup = node.clone();
        dup.add("quay.io", auth("a2"), "s");
        let kr2 = Keyring { groups: vec![dup] };
        assert_eq!(
            kr2.response_auth("quay.io/x", CachePolicy::Registry).cache_key_type,
            CacheKeyType::Image
        );
        assert_eq!(
            kr2.response_auth("quay.io/x", CachePolicy::Global).cache_key_type,
            CacheKeyType::Image
        );
        // ...but other hosts of that keyring are fine.
        assert_eq!(
            kr2.response_auth("other.com/x", CachePolicy::Auto).cache_key_type,
            CacheKeyType::Registry
        );

        // Two groups contributing to one host: not exact.
        let kr3 = Keyring {
            groups: vec![ring(&[("quay.io/x", "s")]), node.clone()],
        };
        assert_eq!(
            kr3.response_auth("quay.io/y", CachePolicy::Auto).cache_key_type,
            CacheKeyType::Image
        );
        assert_eq!(
            kr3.response_auth("quay.io/y", CachePolicy::Global).cache_key_type,
            CacheKeyType::Image
        );
        assert_eq!(
            kr3.response_auth("other.com/y", CachePolicy::Auto).cache_key_type,
            CacheKeyType::Registry
        );

        // Fallback keys of other groups count for Docker Hub-like hosts only.
        let kr4 = Keyring {
            groups: vec![ring(&[("index.docker.io", "hub")]), node],
        };
        assert_eq!(
            kr4.response_auth("quay.io/y", CachePolicy::Auto).cache_key_type,
            CacheKeyType::Registry
        );
        assert_eq!(
            kr4.response_auth("localhost/y", CachePolicy::Auto).cache_key_type,
            CacheKeyType::Registry
        );
        assert_eq!(
            kr4.response_auth("docker.io/y", CachePolicy::Auto).cache_key_type,
            CacheKeyType::Image
        );

        // Nothing for the host at all: an exact, empty Registry answer.
        let r = kr4.response_auth("nothing.example.org/y", CachePolicy::Auto);
        assert_eq!((r.cache_key_type, r.entries.len()), (CacheKeyType::Registry, 0));
    }

    #[test]
    fn response_keys_drop_userinfo_and_survive_normalisation() {
        let kr = Keyring {
            groups: vec![ring(&[
                ("alice:s3cret@quay.io/v2/v2/team", "a"),
                ("quay.io/a%3Fb", "b"),
            ])],
        };
        let r = kr.response_auth("quay.io/v2/team/x", CachePolicy::Registry);
        assert_eq!(r.cache_key_type, CacheKeyType::Registry);
        assert!(r.entries.iter().all(|(k, _)| !k.contains("s3cret")), "{:?}", r.entries);
        for (raw, _) in &r.entries {
            assert!(kr.groups[0].keys().contains(&normalize_key(raw).unwrap().as_str()));
        }
        assert_eq!(response_key("quay.io/a?b").as_deref(), Some("quay.io/a%3Fb"));
        assert_eq!(response_key("quay.io/v1/x").as_deref(), Some("quay.io/v2/v1/x"));
        assert_eq!(response_key("a%b").as_deref(), Some("a%25b"));
    }

    // ---- property tests -------------------------------------------------------------------------

    const HOSTS: &[&str] = &[
        "quay.io",
        "a.quay.io",
        "docker.io",
        "index.docker.io",
        "localhost",
        "registry:5000",
        "registry",
        "b.example.com",
        "x.b.example.com",
        "[::1]:5000",
        "quay.io:443",
    ];
    const GLOBS: &[&str] = &[
        "*.quay.io",
        "*.io",
        "*",
        "quay.*",
        "*.example.com",
        "*.b.example.com",
        "x.*.example.com",
        "registry:*",
        "r*y:5000",
        "*:5000",
        "q*.io",
        "*.*",
        "[::1]",
        "bad host",
    ];
    const KEY_PATHS: &[&str] = &[
        "",
        "",
        "/",
        "/team",
        "/team/",
        "/team/app",
        "/te",
        "/v2/team",
        "/v1/",
        "/other",
        "#x",
    ];
    const IMAGE_PATHS: &[&str] = &[
        "/team/app",
        "/team",
        "/teamx/y",
        "/other/x",
        "/library/nginx",
        "/v2/team/x",
        "/t",
    ];
    const SCHEMES: &[&str] = &["", "", "https://", "http://"];

    fn arb_key() -> impl Strategy<Value = String> {
        (
            prop::sample::select(SCHEMES),
            prop_oneof![3 => prop::sample::select(HOSTS), 2 => prop::sample::select(GLOBS)],
            prop::sample::select(KEY_PATHS),
        )
            .prop_map(|(s, h, p)| format!("{s}{h}{p}"))
    }

    fn arb_group() -> impl Strategy<Value = Vec<(String, u8)>> {
        prop::collection::vec((arb_key(), 0u8..6), 0..12)
    }

    fn arb_image() -> impl Strategy<Value = String> {
        (
            prop_oneof![4 => prop::sample::select(HOSTS), 1 => prop::sample::select(&["sub.a.quay.io", "other.org", "x.quay.io"][..])],
            prop::sample::select(IMAGE_PATHS),
        )
            .prop_map(|(h, p)| format!("{h}{p}"))
    }

    fn build(groups: &[Vec<(String, u8)>]) -> Keyring {
        Keyring {
            groups: groups
                .iter()
                .map(|g| {
                    let mut k = BasicKeyring::new();
                    for (key, u) in g {
                        k.add(key, auth(&format!("u{u}")), "p");
                    }
                    k
                })
                .collect(),
        }
    }

    fn linear(kr: &Keyring, image: &str) -> Vec<(String, String)> {
        pairs(
            &kr.groups
                .iter()
                .flat_map(|g| g.lookup_linear(image))
                .collect::<Vec<_>>(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn indexed_lookup_equals_linear_scan(groups in prop::collection::vec(arb_group(), 1..3),
                                             images in prop::collection::vec(arb_image(), 1..6),
                                             odd in "\\PC{0,12}") {
            let kr = build(&groups);
            for image in images.iter().chain([&odd]) {
                let fast: Vec<*const Credential> = kr.lookup(image).into_iter().map(std::ptr::from_ref).collect();
                let slow: Vec<*const Credential> =
                    kr.groups.iter().flat_map(|g| g.lookup_linear(image)).map(std::ptr::from_ref).collect();
                prop_assert_eq!(fast, slow, "image {}", image);
                let ex = kr.explain(image);
                prop_assert_eq!(ex.credentials.len(), kr.lookup(image).len());
                // Every credential is either returned or rejected, exactly once.
                prop_assert_eq!(ex.credentials.len() + ex.rejected.len(), kr.len());
                prop_assert_eq!(ex.fallback.len(), ex.credentials.len());
            }
        }

        #[test]
        fn arbitrary_keys_lookup_equals_linear_scan(keys in prop::collection::vec("[a-c.*?:/%\\[\\]@#0-9 -]{0,10}", 0..10),
                                                    images in prop::collection::vec("[a-c.:/0-9-]{0,10}", 1..6)) {
            let mut g = BasicKeyring::new();
            for (i, key) in keys.iter().enumerate() {
                g.add(key, auth(&format!("u{}", i % 3)), "p");
            }
            let kr = Keyring { groups: vec![g] };
            for image in &images {
                let fast: Vec<*const Credential> = kr.lookup(image).into_iter().map(std::ptr::from_ref).collect();
                let slow: Vec<*const Credential> = kr.groups[0].lookup_linear(image).into_iter().map(std::ptr::from_ref).collect();
                prop_assert_eq!(fast, slow, "image {:?}", image);
                for policy in [CachePolicy::Auto, CachePolicy::Global] {
                    let r = kr.response_auth(image, policy);
                    prop_assert_eq!(kubelet_view(&r.entries, image), linear(&kr, image), "image {:?}", image);
                }
                let _ = kr.match_images();
            }
        }

        #[test]
        fn image_responses_are_exact(groups in prop::collection::vec(arb_group(), 1..3), image in arb_image()) {
            let kr = build(&groups);
            let r = kr.response_auth(&image, CachePolicy::Image);
            let want = pairs(&kr.lookup(&image));
            let got = kubelet_view(&r.entries, &image);
            // Truncation only happens past the ladder's length, which these images never reach.
            prop_assert_eq!(got, want, "image {}", image);
        }

        #[test]
        fn cached_responses_stay_exact(groups in prop::collection::vec(arb_group(), 1..3),
                                       images in prop::collection::vec(arb_image(), 1..10),
                                       policy in prop::sample::select(&[CachePolicy::Auto, CachePolicy::Image,
                                                                        CachePolicy::Registry, CachePolicy::Global][..])) {
            let kr = build(&groups);
            // The kubelet's plugin cache (§e.5): bases image, registry, <global>; first hit wins.
            let mut cache: HashMap<String, ResponseAuth<'_>> = HashMap::new();
            for image in &images {
                let registry = image.split('/').next().unwrap_or("").to_owned();
                let hit = [image.clone(), registry.clone(), "<global>".to_owned()]
                    .into_iter()
                    .find_map(|b| cache.get(&b).cloned());
                let r = if let Some(r) = hit { r } else {
                        let r = kr.response_auth(image, policy);
                        let base = match r.cache_key_type {
                            CacheKeyType::Image => image.clone(),
                            CacheKeyType::Registry => registry,
                            CacheKeyType::Global => "<global>".to_owned(),
                        };
                        cache.insert(base, r.clone());
                        r
                };
                prop_assert_eq!(kubelet_view(&r.entries, image), linear(&kr, image), "image {} via {:?}", image, r.cache_key_type);
            }
        }
    }
}

#[cfg(test)]
mod scale {
    use super::*;
    use std::time::Instant;

    fn keyring(n: usize) -> Keyring {
        let mut g = BasicKeyring::new();
        for i in 0..n {
            let a = AuthEntry {
                username: format!("u{i}"),
                ..AuthEntry::default()
            };
            match i % 5 {
                0 => g.add(&format!("registry-{i}.example.com"), a, "s"),
                1 => g.add(&format!("https://registry-{}.example.com/team-{i}", i / 7), a, "s"),
                2 => g.add(&format!("*.tenant-{i}.example.com"), a, "s"),
                3 => g.add(&format!("registry-{i}.example.com:5000"), a, "s"),
                _ => g.add(&format!("team-{i}.corp.example.org/v2/app"), a, "s"),
            };
        }
        g.add("index.docker.io", AuthEntry::default(), "s");
        Keyring { groups: vec![g] }
    }

    /// Lookup time must not grow with unrelated entries (run: `cargo test --lib -- --ignored scale`).
    #[test]
    #[ignore = "timing; run explicitly"]
    fn lookup_time_is_flat() {
        let images = [
            "registry-5.example.com/team-6/app",
            "a.tenant-7.example.com/x",
            "docker.io/library/nginx",
        ];
        let mut per = Vec::new();
        for n in [10, 10_000, 100_000] {
            let kr = keyring(n);
            let start = Instant::now();
            let mut found = 0;
            for _ in 0..20_000 {
                for image in images {
                    found += kr.lookup(image).len();
                }
            }
            let ns = start.elapsed().as_nanos() / 60_000;
            per.push(ns);
            assert!(found > 0);
        }
        let (small, large) = (per[0], per[2]);
        assert!(large < small * 2 + 200, "ns per lookup at 10/10k/100k entries: {per:?}");
    }
}
