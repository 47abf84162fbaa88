//! One `BasicDockerKeyring` (docs/kubelet.md §c.1, §c.3), indexed as the module docs describe.

use super::{is_default_registry_match, normalize_key, Explanation, Nearest, Rejection, DEFAULT_REGISTRY_KEY};
use crate::credential::{redact_userinfo, AuthEntry, Credential, Extra, Layout};
use crate::go::url::parse_schemeless_ref;
use crate::hostglob::{explain_match, match_labels, urls_match_str, HostParts};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::Arc;

pub(super) fn is_literal(label: &str) -> bool {
    !label.contains(['*', '?', '[', '\\'])
}

/// The end of a chain of keys or credentials (and "no entry").
const NIL: u32 = u32::MAX;

/// The index maps are keyed by 32-bit hashes from the keyring's own `RandomState`; this hasher
/// spreads them over the 64 bits the map reads. A collision only costs time: every candidate found by
/// hash is verified.
#[derive(Debug, Clone, Copy, Default)]
struct Spread(u64);

impl Hasher for Spread {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = (u64::from(v) << 32) | u64::from(v);
    }
}

type HashIndex<V> = HashMap<u32, V, BuildHasherDefault<Spread>>;

/// A byte range of a key's text.
type Span = (u32, u32);

/// The first key of a chain (linked through `KeyEntry`) and how many keys it holds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Chain {
    head: u32,
    len: u32,
}

impl Chain {
    const EMPTY: Chain = Chain { head: NIL, len: 0 };
}

/// How a key's text parsed as a schemeless URL (§c.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyForm {
    /// It does not parse: it never matches.
    Unparsed,
    /// The spans are of the key text itself.
    Plain,
    /// The parse decoded something: the spans are of the decoded text in `BasicKeyring::decoded`.
    Decoded,
}

/// One distinct normalised key: its credentials, its parse (spans of its text, re-parsed the way
/// `URLsMatchStr` parses it, §c.2) and its links in the index chains. The key text is that of its
/// first credential.
#[derive(Debug, Clone)]
pub(super) struct KeyEntry {
    /// First and last credential of the key (insertion order, linked through `next_cred`).
    pub(super) first_cred: u32,
    pub(super) last_cred: u32,
    /// Next key in the same `by_key` chain.
    next_key: u32,
    /// Next key in the same `hosts` chain (exact keys) or `glob_labels` chain (glob keys).
    next_host: u32,
    /// Next key in the same `exact` chain (keys of crowded hosts only).
    next_exact: u32,
    hostname: Span,
    port: Span,
    path: Span,
    labels: u32,
    form: KeyForm,
}

/// A set of key-path lengths, iterated ascending: a bitmap below 256 (no allocation), a list above.
#[derive(Debug, Clone, Default)]
pub(super) struct Lens {
    low: [u64; 4],
    /// Lengths of 256 and more, ascending.
    high: Vec<u32>,
}

impl Lens {
    pub(super) fn insert(&mut self, len: u32) {
        if let Some(word) = self.low.get_mut(len as usize / 64) {
            *word |= 1u64 << (len % 64);
        } else if let Err(at) = self.high.binary_search(&len) {
            self.high.insert(at, len);
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0u32..)
            .zip(self.low)
            .flat_map(|(w, mut bits)| {
                std::iter::from_fn(move || {
                    let b = (bits != 0).then(|| bits.trailing_zeros())?;
                    bits &= bits - 1;
                    Some(w * 64 + b)
                })
            })
            .chain(self.high.iter().copied())
    }
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
pub(super) struct Parts<'a> {
    hostname: &'a str,
    port: &'a str,
    path: &'a str,
    labels: u32,
}

impl<'a> Parts<'a> {
    pub(super) fn of(host: &'a str, path: &'a str) -> Self {
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
    pub(super) creds: Vec<Credential>,
    /// Parallel to `creds`: the next credential of the same key, or `NIL`.
    next_cred: Vec<u32>,
    pub(super) keys: Vec<KeyEntry>,
    /// (key, decoded text) for the keys whose parse decoded something, ascending by key.
    decoded: Vec<(u32, Box<str>)>,
    seed: RandomState,
    /// hash(key) -> keys (chained by `next_key`)
    by_key: HashIndex<u32>,
    /// hash(hostname, port) -> the exact keys of that host (chained by `next_host`)
    hosts: HashIndex<Chain>,
    /// hash(hostname, port) of a crowded host -> the distinct path lengths of its keys, ascending
    host_lens: HashIndex<Lens>,
    /// hash(hostname, port, path) -> exact keys of crowded hosts (chained by `next_exact`)
    exact: HashIndex<u32>,
    /// hash(port, label count) -> where its glob keys are filed
    glob_sets: HashIndex<GlobSet>,
    /// hash(port, label count, position, label) -> glob keys (chained by `next_host`)
    glob_labels: HashIndex<Chain>,
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

/// A key's parse: the decoded text (when the parse decoded something), the spans and the label count.
struct ParsedKey {
    owned: Option<Box<str>>,
    hostname: Span,
    port: Span,
    path: Span,
    labels: u32,
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

    fn hash(&self, x: impl Hash) -> u32 {
        u32::try_from(self.seed.hash_one(x) >> 32).unwrap_or_default()
    }

    /// The keys of a chain starting at `head`, following `next`.
    fn chain(&self, head: u32, next: fn(&KeyEntry) -> u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(self.keys.get(head as usize).map(|_| head), move |&k| {
            let n = self.keys.get(k as usize).map_or(NIL, next);
            self.keys.get(n as usize).map(|_| n)
        })
    }

    /// The credentials of key `k`, in insertion order.
    fn creds_of(&self, k: u32) -> impl Iterator<Item = &Credential> + '_ {
        let first = self.keys.get(k as usize).map_or(NIL, |e| e.first_cred);
        std::iter::successors(self.creds.get(first as usize).map(|c| (first, c)), move |&(i, _)| {
            let n = self.next_cred.get(i as usize).copied().unwrap_or(NIL);
            self.creds.get(n as usize).map(|c| (n, c))
        })
        .map(|(_, c)| c)
    }

    pub(super) fn key_str(&self, k: u32) -> &str {
        self.keys
            .get(k as usize)
            .and_then(|e| self.creds.get(e.first_cred as usize))
            .map_or("", Credential::key)
    }

    pub(super) fn key_index(&self, key: &str) -> Option<u32> {
        let head = *self.by_key.get(&self.hash(key))?;
        self.chain(head, |e| e.next_key).find(|&k| self.key_str(k) == key)
    }

    pub(super) fn parts(&self, k: u32) -> Option<Parts<'_>> {
        let e = self.keys.get(k as usize)?;
        let text = match e.form {
            KeyForm::Unparsed => return None,
            KeyForm::Plain => self.key_str(k),
            KeyForm::Decoded => {
                let at = self.decoded.binary_search_by_key(&k, |(i, _)| *i).ok()?;
                self.decoded.get(at).map_or("", |(_, t)| t)
            }
        };
        Some(Parts {
            hostname: in_span(text, e.hostname),
            port: in_span(text, e.port),
            path: in_span(text, e.path),
            labels: e.labels,
        })
    }

    /// `Add` one entry (§c.1); `false` (entry skipped) when the key does not normalise.
    /// Entries are appended, never replaced: duplicates are kept.
    pub fn add(&mut self, raw_key: &str, auth: AuthEntry, source: &str) -> bool {
        self.add_all(vec![(raw_key.to_owned(), auth)], source).is_empty()
    }

    /// `Add` every entry of one source in order (§c.1), like `add` for each, with one text allocation
    /// for all of them (see `Credential`). Returns the raw keys of the entries skipped because their
    /// key does not normalise (or, never in practice, because the text of the source passes 4 GiB).
    pub fn add_all(&mut self, entries: Vec<(String, AuthEntry)>, source: &str) -> Vec<String> {
        let mut skipped = Vec::new();
        let mut text = String::from(source);
        let Ok(source_end) = u32::try_from(text.len()) else {
            return entries.into_iter().map(|(raw_key, _)| raw_key).collect();
        };
        let mut pending = Vec::with_capacity(entries.len());
        for (raw_key, mut auth) in entries {
            let layout = normalize_key(&raw_key).and_then(|key| Layout::push(&mut text, &key, &raw_key, &auth));
            match layout {
                Some(layout) => pending.push((layout, Extra::take(&mut auth))),
                None => skipped.push(raw_key),
            }
        }
        let text: Arc<str> = Arc::from(text);
        // One allocation each, made now that the entries are freed (they can reuse that space).
        self.creds.reserve(pending.len());
        self.next_cred.reserve(pending.len());
        self.keys.reserve(pending.len());
        self.by_key.reserve(pending.len());
        for (layout, extra) in pending {
            let cred = Credential::with_layout(Arc::clone(&text), source_end, layout, extra);
            if let Err(cred) = self.insert(cred) {
                skipped.push(cred.raw_key().to_owned());
            }
        }
        skipped
    }

    /// Files one credential under its key; gives it back when the keyring is full (2^32 - 1 entries).
    fn insert(&mut self, cred: Credential) -> Result<(), Credential> {
        let (Ok(ci), Ok(k)) = (u32::try_from(self.creds.len()), u32::try_from(self.keys.len())) else {
            return Err(cred);
        };
        if ci == NIL || k == NIL {
            return Err(cred);
        }
        let existing = self.key_index(cred.key());
        if let Some(e) = existing {
            self.creds.push(cred);
            self.next_cred.push(NIL);
            if let Some(entry) = self.keys.get_mut(e as usize) {
                let last = std::mem::replace(&mut entry.last_cred, ci);
                if let Some(n) = self.next_cred.get_mut(last as usize) {
                    *n = ci;
                }
            }
            return Ok(());
        }
        let hk = self.hash(cred.key());
        let parsed = parse_key(cred.key());
        self.creds.push(cred);
        self.next_cred.push(NIL);
        let next_key = self.by_key.insert(hk, k).unwrap_or(NIL);
        let mut entry = KeyEntry {
            first_cred: ci,
            last_cred: ci,
            next_key,
            next_host: NIL,
            next_exact: NIL,
            hostname: (0, 0),
            port: (0, 0),
            path: (0, 0),
            labels: 0,
            form: KeyForm::Unparsed,
        };
        if let Some(p) = parsed {
            entry.hostname = p.hostname;
            entry.port = p.port;
            entry.path = p.path;
            entry.labels = p.labels;
            entry.form = match p.owned {
                None => KeyForm::Plain,
                Some(text) => {
                    self.decoded.push((k, text));
                    KeyForm::Decoded
                }
            };
        }
        self.keys.push(entry);
        self.index(k);
        Ok(())
    }

    fn set_link(&mut self, k: u32, set: impl FnOnce(&mut KeyEntry)) {
        if let Some(e) = self.keys.get_mut(k as usize) {
            set(e);
        }
    }

    fn index(&mut self, k: u32) {
        let Some(p) = self.parts(k) else {
            return;
        };
        if is_literal(p.hostname) {
            let hh = self.hash((p.hostname, p.port));
            let chain = self.hosts.entry(hh).or_insert(Chain::EMPTY);
            let next = std::mem::replace(&mut chain.head, k);
            chain.len = chain.len.saturating_add(1);
            let len = chain.len as usize;
            self.set_link(k, |e| e.next_host = next);
            if len == SMALL_HOST + 1 {
                // The host just became crowded: index all its keys by path.
                let members: Vec<u32> = self.chain(k, |e| e.next_host).collect();
                for m in members {
                    self.index_exact(hh, m);
                }
            } else if len > SMALL_HOST {
                self.index_exact(hh, k);
            }
            return;
        }
        let hs = self.hash((p.port, p.labels));
        // File the key under its literal label whose list is shortest (leftmost on ties).
        let mut best: Option<(u32, u32, u32)> = None;
        for (pos, label) in (0u32..).zip(p.hostname.split('.')) {
            if !is_literal(label) {
                continue;
            }
            let hl = self.hash((p.port, p.labels, pos, label));
            let size = self.glob_labels.get(&hl).map_or(0, |c| c.len);
            let better = match best {
                None => true,
                Some((n, _, _)) => size < n,
            };
            if better {
                best = Some((size, pos, hl));
            }
        }
        let set = self.glob_sets.entry(hs).or_default();
        let Some((_, pos, hl)) = best else {
            set.wild.push(k);
            return;
        };
        if let Err(at) = set.positions.binary_search(&pos) {
            set.positions.insert(at, pos);
        }
        let chain = self.glob_labels.entry(hl).or_insert(Chain::EMPTY);
        let next = std::mem::replace(&mut chain.head, k);
        chain.len = chain.len.saturating_add(1);
        self.set_link(k, |e| e.next_host = next);
    }

    /// Files exact key `m` of the crowded host `hh` under its path.
    fn index_exact(&mut self, hh: u32, m: u32) {
        let Some((he, len)) = self.parts(m).map(|p| {
            (
                self.hash((p.hostname, p.port, p.path)),
                u32::try_from(p.path.len()).unwrap_or(u32::MAX),
            )
        }) else {
            return;
        };
        self.host_lens.entry(hh).or_default().insert(len);
        let next = self.exact.insert(he, m).unwrap_or(NIL);
        self.set_link(m, |e| e.next_exact = next);
    }

    /// Release the spare capacity left by `add` (call once loading is done).
    pub fn shrink_to_fit(&mut self) {
        self.creds.shrink_to_fit();
        self.next_cred.shrink_to_fit();
        self.keys.shrink_to_fit();
        self.decoded.shrink_to_fit();
        self.by_key.shrink_to_fit();
        self.hosts.shrink_to_fit();
        for lens in self.host_lens.values_mut() {
            lens.high.shrink_to_fit();
        }
        self.host_lens.shrink_to_fit();
        self.exact.shrink_to_fit();
        for set in self.glob_sets.values_mut() {
            set.positions.shrink_to_fit();
            set.wild.shrink_to_fit();
        }
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
    /// use _core::credential::AuthEntry;
    /// use _core::keyring::BasicKeyring;
    /// let mut k = BasicKeyring::new();
    /// let auth = |u: &str| AuthEntry { username: u.into(), ..AuthEntry::default() };
    /// k.add("bar.example.com", auth("ada"), "a.json");
    /// k.add("bar.example.com/pong", auth("grace"), "a.json");
    /// let users: Vec<_> = k.lookup("bar.example.com/pong/x").iter().map(|c| c.username()).collect();
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
    pub(super) fn lookup_parsed<'a>(
        &'a self,
        image: &str,
        t: Option<&Parts<'_>>,
        out: &mut Vec<&'a Credential>,
    ) -> bool {
        let start = out.len();
        if let Some(t) = t {
            for k in self.matched_keys(t) {
                out.extend(self.creds_of(k));
            }
        }
        if out.len() == start && is_default_registry_match(image) {
            if let Some(k) = self.key_index(DEFAULT_REGISTRY_KEY) {
                out.extend(self.creds_of(k));
                return true;
            }
        }
        false
    }

    /// The keys matching the parsed image, in descending key order.
    fn matched_keys(&self, t: &Parts<'_>) -> Vec<u32> {
        let mut out = Vec::new();
        let hh = self.hash((t.hostname, t.port));
        if let Some(h) = self.hosts.get(&hh) {
            let same_host = |p: &Parts<'_>| p.hostname == t.hostname && p.port == t.port;
            if h.len as usize <= SMALL_HOST {
                for k in self.chain(h.head, |e| e.next_host) {
                    if self
                        .parts(k)
                        .is_some_and(|p| same_host(&p) && t.path.starts_with(p.path))
                    {
                        out.push(k);
                    }
                }
            } else {
                for len in self.host_lens.get(&hh).into_iter().flat_map(Lens::iter) {
                    let Some(prefix) = t.path.get(..len as usize) else {
                        if len as usize > t.path.len() {
                            break;
                        }
                        continue;
                    };
                    if let Some(&head) = self.exact.get(&self.hash((t.hostname, t.port, prefix))) {
                        for k in self.chain(head, |e| e.next_exact) {
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
    pub(super) fn glob_candidates(&self, t: &Parts<'_>, mut f: impl FnMut(u32, Parts<'_>)) {
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
                if let Some(c) = self.glob_labels.get(&self.hash((t.port, t.labels, pos, *label))) {
                    for k in self.chain(c.head, |e| e.next_host) {
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
                out.extend(self.creds_of(k));
            }
        }
        if out.is_empty() && is_default_registry_match(image) {
            if let Some(k) = self.key_index(DEFAULT_REGISTRY_KEY) {
                out.extend(self.creds_of(k));
            }
        }
        out
    }

    /// Keys that match some image whose host is `t`'s host (any path), via the index.
    pub(super) fn host_keys(&self, t: &Parts<'_>) -> Vec<u32> {
        let mut out = Vec::new();
        if let Some(h) = self.hosts.get(&self.hash((t.hostname, t.port))) {
            for k in self.chain(h.head, |e| e.next_host) {
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

    pub(super) fn explain_into<'a>(
        &'a self,
        image: &str,
        t: Option<&Parts<'_>>,
        ex: &mut Explanation<'a>,
        rejected: &mut Nearest<'_>,
    ) {
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
            for c in self.creds_of(k) {
                rejected.offer(key, || Rejection {
                    key: redact_userinfo(c.key()).into_owned(),
                    raw_key: c.raw_key().to_owned(),
                    source: c.source().to_owned(),
                    reason: reason.clone(),
                });
            }
        }
    }
}
/// Hosts with at most this many exact keys are checked key by key instead of probing per path length.
pub(super) const SMALL_HOST: usize = 8;
