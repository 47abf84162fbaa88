//! The `UnionDockerKeyring` of the basic keyrings (docs/kubelet.md §d), its explanations, and the `auth`
//! map of an exec response that survives the kubelet's response cache (docs/kubelet.md §e.2 steps 7-9).

use super::index::{BasicKeyring, Parts};
use super::{is_default_registry_match, normalize_key, Explanation, Nearest, DEFAULT_REGISTRY_KEY};
use crate::credential::{AuthEntry, Credential};
use crate::go::url::{escape_host, escape_path, parse_schemeless_ref};
use crate::hostglob::{explain_match, HostParts};
use crate::limits::MAX_EXPLAIN_REJECTED;
use crate::names::Named;
use std::collections::{BTreeSet, HashMap};

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

impl Named for CacheKeyType {
    /// The exact spelling of the wire format (docs/kubelet.md §e.2 step 7).
    const NAMES: &'static [(&'static str, Self)] = &[
        ("Image", CacheKeyType::Image),
        ("Registry", CacheKeyType::Registry),
        ("Global", CacheKeyType::Global),
    ];
}

impl Named for CachePolicy {
    /// The names of `cache.policy` and `--cache-policy` (docs/provider-config.md).
    const NAMES: &'static [(&'static str, Self)] = &[
        ("auto", CachePolicy::Auto),
        ("Image", CachePolicy::Image),
        ("Registry", CachePolicy::Registry),
        ("Global", CachePolicy::Global),
    ];
}

/// The `auth` map of a kubelet response: keys (in no particular order, they are a JSON map) whose
/// kubelet matching reproduces `Keyring::lookup` exactly, for every image the cache entry serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseAuth {
    /// The `cacheKeyType` to answer with (what the policy resolved to).
    pub cache_key_type: CacheKeyType,
    /// (raw key for the `auth` map, credential): send only its username and password.
    pub entries: Vec<(String, AuthEntry)>,
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

    /// The credentials of `lookup`, plus the other credentials with the reason their key did not
    /// match: at most [`MAX_EXPLAIN_REJECTED`] of them, the nearest to the image, and their count
    /// (an explanation stays small whatever the size of the keyring).
    pub fn explain(&self, image: &str) -> Explanation<'_> {
        let parsed = parse_schemeless_ref(image).ok();
        let parts = parsed.as_ref().map(|u| Parts::of(&u.host, &u.path));
        let mut ex = Explanation {
            credentials: Vec::new(),
            fallback: Vec::new(),
            rejected: Vec::new(),
            rejected_total: 0,
        };
        let mut rejected = Nearest::new(image, MAX_EXPLAIN_REJECTED);
        for g in &self.groups {
            g.explain_into(image, parts.as_ref(), &mut ex, &mut rejected);
        }
        (ex.rejected, ex.rejected_total) = rejected.finish();
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
    pub fn response_auth(&self, image: &str, policy: CachePolicy) -> ResponseAuth {
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

    fn global_entries(&self) -> Option<Vec<(String, AuthEntry)>> {
        let (g, keys) = self.global_selection()?;
        g.map_or(Some(Vec::new()), |g| response_entries(g, keys))
    }

    fn registry_entries(&self, image: &str) -> Option<Vec<(String, AuthEntry)>> {
        let (g, keys) = self.registry_selection(image)?;
        g.map_or(Some(Vec::new()), |g| response_entries(g, keys))
    }

    fn image_entries(&self, image: &str) -> Vec<(String, AuthEntry)> {
        let want = self.lookup(image);
        if want.is_empty() {
            return Vec::new();
        }
        let ladder = ladder(image, want.len());
        if ladder.is_empty() {
            // Only for images that do not parse: the kubelet can then only reach the fallback key.
            return match want.first() {
                Some(c) if is_default_registry_match(image) => vec![(DEFAULT_REGISTRY_KEY.to_owned(), c.auth())],
                _ => Vec::new(),
            };
        }
        ladder.into_iter().zip(want).map(|(raw, c)| (raw, c.auth())).collect()
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
            .all(|&k| g.keys.get(k as usize).is_some_and(|e| e.first_cred == e.last_cred)),
    }
}

/// The response entries for `keys` of `g`, or `None` when a key holds more than one credential.
fn response_entries(g: &BasicKeyring, keys: impl IntoIterator<Item = u32>) -> Option<Vec<(String, AuthEntry)>> {
    let mut out = Vec::new();
    for k in keys {
        let e = g.keys.get(k as usize)?;
        if e.first_cred != e.last_cred {
            return None;
        }
        let cred = g.creds.get(e.first_cred as usize)?;
        out.push((
            response_key(cred.key()).unwrap_or_else(|| cred.raw_key().to_owned()),
            cred.auth(),
        ));
    }
    Some(out)
}

/// A raw key the kubelet normalises back to exactly `key` (§c.1), written without userinfo, query or
/// fragment: the host and path re-escaped the way Go's `url.String` would, and a path that starts with
/// `/v1/` or `/v2/` protected by an extra `/v2` (which normalisation strips).
pub(super) fn response_key(key: &str) -> Option<String> {
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
pub(crate) fn ladder(image: &str, n: usize) -> Vec<String> {
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
