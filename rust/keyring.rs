//! The kubelet's `BasicDockerKeyring` and `UnionDockerKeyring`, indexed (CONTRACT STUB).
//! Spec: ../shared/spec/kubelet.md §c, §d, §e.2 (7-9). Owner: keyring helper.

/// One registry credential as read from a docker config entry or a Secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthEntry {
    pub username: String,
    pub password: String,
    pub email: String,
    /// Carried for the gRPC API; never used in kubelet answers.
    pub identity_token: String,
    /// Carried for the gRPC API; never used in kubelet answers.
    pub registry_token: String,
}

/// A credential in a keyring: the entry, its normalised key, the key as written, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub key: String,
    pub raw_key: String,
    pub auth: AuthEntry,
    /// A file path or `secret:<namespace>/<name>`: whatever the caller passed to `add`.
    pub source: String,
}

/// A key that matched nothing for an image, and why (for `explain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub key: String,
    pub raw_key: String,
    pub source: String,
    pub reason: String,
}

/// Kubelet key normalisation (§c.1): `None` when the kubelet would log "invalid, ignoring".
pub fn normalize_key(_raw: &str) -> Option<String> {
    todo!()
}

/// One `BasicDockerKeyring`.
#[derive(Debug, Clone, Default)]
pub struct BasicKeyring {}

impl BasicKeyring {
    pub fn new() -> Self {
        Self::default()
    }
    /// `Add` one entry; `false` (entry skipped) when the key does not normalise.
    pub fn add(&mut self, _raw_key: &str, _auth: AuthEntry, _source: &str) -> bool {
        todo!()
    }
    /// Number of credentials (not keys).
    pub fn len(&self) -> usize {
        todo!()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `Lookup(image)` (§c.3, with the `index.docker.io` fallback of §c.4), in kubelet order.
    pub fn lookup(&self, _image: &str) -> Vec<&Credential> {
        todo!()
    }
}

/// How the kubelet may cache a plugin response (§e.2 step 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKeyType {
    Image,
    Registry,
    Global,
}

/// pullkey's choice of `cacheKeyType`: `Auto` picks the widest type that stays exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    Auto,
    Image,
    Registry,
    Global,
}

/// The `auth` map of a kubelet response: keys (in no particular order, they are a JSON map) whose
/// kubelet matching reproduces `Keyring::lookup` exactly, for every image the cache entry serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseAuth<'a> {
    pub cache_key_type: CacheKeyType,
    pub entries: Vec<(String, &'a AuthEntry)>,
}

/// The result of `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation<'a> {
    pub credentials: Vec<&'a Credential>,
    pub rejected: Vec<Rejection>,
}

/// A `UnionDockerKeyring` of basic keyrings (pull secrets first, then node files), §d.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    pub groups: Vec<BasicKeyring>,
}

impl Keyring {
    pub fn len(&self) -> usize {
        self.groups.iter().map(BasicKeyring::len).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn lookup(&self, _image: &str) -> Vec<&Credential> {
        todo!()
    }
    pub fn explain(&self, _image: &str) -> Explanation<'_> {
        todo!()
    }
    /// Build the response `auth` map for `image` under `policy` (see `ResponseAuth`).
    pub fn response_auth(&self, _image: &str, _policy: CachePolicy) -> ResponseAuth<'_> {
        todo!()
    }
}

impl Keyring {
    /// `matchImages` patterns that cover every image any key of the keyring can match.
    pub fn match_images(&self) -> Vec<String> {
        todo!()
    }
}
