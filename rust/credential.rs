//! The credential types every part of the core shares: what a docker config entry holds
//! ([`AuthEntry`]), a credential as a keyring stores it with its key and provenance ([`Credential`]),
//! and the two ways a secret is kept out of output ([`Redacted`], [`redact_userinfo`]).
//!
//! A leaf module: it depends on nothing else in the crate, so the docker config parser and the
//! keyring can both use it without depending on each other.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

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
///
/// Stored compactly (one keyring holds up to ~100,000 of them within the daemon's memory budget,
/// docs/architecture.md): the credentials added together by `BasicKeyring::add_all` share one text
/// allocation holding their source once, then for each its key, its raw key (only when it differs
/// from the key), username and password; email and tokens, rarely set, live behind one optional box.
/// `Debug` redacts the secrets; equality compares the fields, not the layout.
#[derive(Clone)]
pub struct Credential {
    /// The source, then (from `start`) key | raw key (when it differs) | username | password; shared.
    text: Arc<str>,
    source_end: u32,
    start: u32,
    key_end: u32,
    /// `== key_end` when the raw key is the key.
    raw_end: u32,
    user_end: u32,
    end: u32,
    extra: Option<Box<Extra>>,
}

/// The rarely set fields of a credential.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Extra {
    email: Box<str>,
    identity_token: Box<str>,
    registry_token: Box<str>,
}

/// Where one credential's parts lie in a shared text (see `Credential`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    start: u32,
    key_end: u32,
    raw_end: u32,
    user_end: u32,
    end: u32,
}

impl Layout {
    /// Appends the credential's text to `text`; `None` (and `text` unchanged) when it would end past
    /// `u32::MAX` bytes.
    pub(crate) fn push(text: &mut String, key: &str, raw_key: &str, auth: &AuthEntry) -> Option<Layout> {
        let raw = if raw_key == key { "" } else { raw_key };
        let at = |n: usize| u32::try_from(text.len() + n).ok();
        let start = at(0)?;
        let key_end = at(key.len())?;
        let raw_end = at(key.len() + raw.len())?;
        let user_end = at(key.len() + raw.len() + auth.username.len())?;
        let end = at(key.len() + raw.len() + auth.username.len() + auth.password.len())?;
        text.push_str(key);
        text.push_str(raw);
        text.push_str(&auth.username);
        text.push_str(&auth.password);
        Some(Layout {
            start,
            key_end,
            raw_end,
            user_end,
            end,
        })
    }
}

impl Extra {
    /// The rare fields of `auth` (moved out), or `None` when they are all empty.
    pub(crate) fn take(auth: &mut AuthEntry) -> Option<Box<Extra>> {
        if auth.email.is_empty() && auth.identity_token.is_empty() && auth.registry_token.is_empty() {
            return None;
        }
        Some(Box::new(Extra {
            email: std::mem::take(&mut auth.email).into_boxed_str(),
            identity_token: std::mem::take(&mut auth.identity_token).into_boxed_str(),
            registry_token: std::mem::take(&mut auth.registry_token).into_boxed_str(),
        }))
    }
}

impl Credential {
    /// A credential for `key` (normalised, §c.1) written as `raw_key` in `source`, with its own text
    /// allocation; `None` when its text would exceed 4 GiB. (`raw_key` must normalise to `key`, so
    /// it is only empty when `key` is: the layout cannot tell an empty raw key from "same as key".)
    #[cfg(test)]
    pub(crate) fn new(key: &str, raw_key: &str, mut auth: AuthEntry, source: &str) -> Option<Self> {
        let mut text =
            String::with_capacity(source.len() + key.len() + raw_key.len() + auth.username.len() + auth.password.len());
        text.push_str(source);
        let source_end = u32::try_from(text.len()).ok()?;
        let layout = Layout::push(&mut text, key, raw_key, &auth)?;
        let extra = Extra::take(&mut auth);
        Some(Credential::with_layout(Arc::from(text), source_end, layout, extra))
    }

    pub(crate) fn with_layout(text: Arc<str>, source_end: u32, l: Layout, extra: Option<Box<Extra>>) -> Self {
        Credential {
            text,
            source_end,
            start: l.start,
            key_end: l.key_end,
            raw_end: l.raw_end,
            user_end: l.user_end,
            end: l.end,
            extra,
        }
    }

    fn part(&self, from: u32, to: u32) -> &str {
        self.text.get(from as usize..to as usize).unwrap_or("")
    }

    /// The normalised key (§c.1) the kubelet matches against images.
    pub fn key(&self) -> &str {
        self.part(self.start, self.key_end)
    }

    /// The key as written in its source (may hold a `user:password@` part: do not show it unredacted).
    pub fn raw_key(&self) -> &str {
        if self.raw_end == self.key_end {
            self.key()
        } else {
            self.part(self.key_end, self.raw_end)
        }
    }

    /// Username (from `username`, or the part of a decoded `auth` before the first `:`).
    pub fn username(&self) -> &str {
        self.part(self.raw_end, self.user_end)
    }

    /// Password: a secret, never displayed.
    pub fn password(&self) -> &str {
        self.part(self.user_end, self.end)
    }

    /// Carried like the kubelet carries it; unused by pulls.
    pub fn email(&self) -> &str {
        self.extra.as_deref().map_or("", |e| &e.email)
    }

    /// Carried for the gRPC API; never used in kubelet answers.
    pub fn identity_token(&self) -> &str {
        self.extra.as_deref().map_or("", |e| &e.identity_token)
    }

    /// Carried for the gRPC API; never used in kubelet answers.
    pub fn registry_token(&self) -> &str {
        self.extra.as_deref().map_or("", |e| &e.registry_token)
    }

    /// A file path or `secret:<namespace>/<name>`: whatever the caller passed to `add`.
    pub fn source(&self) -> &str {
        self.part(0, self.source_end)
    }

    /// The credential itself, as an owned entry.
    pub fn auth(&self) -> AuthEntry {
        AuthEntry {
            username: self.username().to_owned(),
            password: self.password().to_owned(),
            email: self.email().to_owned(),
            identity_token: self.identity_token().to_owned(),
            registry_token: self.registry_token().to_owned(),
        }
    }
}

impl PartialEq for Credential {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
            && self.raw_key() == other.raw_key()
            && self.username() == other.username()
            && self.password() == other.password()
            && self.extra == other.extra
            && self.source() == other.source()
    }
}

impl Eq for Credential {}

/// Formats a secret as `<redacted>` (or `""` when empty, which reveals nothing): the one `Debug`
/// of a secret value in the crate (keyring credentials, parsed docker configs).
pub(crate) struct Redacted<'a>(pub(crate) &'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str("<redacted>")
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("key", &redact_userinfo(self.key()))
            .field("raw_key", &redact_userinfo(self.raw_key()))
            .field("username", &self.username())
            .field("password", &Redacted(self.password()))
            .field("email", &self.email())
            .field("identity_token", &Redacted(self.identity_token()))
            .field("registry_token", &Redacted(self.registry_token()))
            .field("source", &self.source())
            .finish()
    }
}

/// A registry key (or a piece of one) as it may be shown to users (messages, `Debug`, logs,
/// `explain`): everything after a scheme (`https://`, `HTTPS:/`, any case, any number of slashes)
/// up to the last `@` that ends credentials (one in the authority, or one whose path segment holds
/// a `:`, as `user:secret@` does) is replaced by `<redacted>`; other text is returned unchanged
/// (`r.io/ns@sha256:...` is a digest, not credentials). (Never print a secret, docs/architecture.md; docs/kubelet.md §c.1: keys are URLs.)
///
/// Deliberately wider than URL userinfo: a key the kubelet does not parse as a URL (`user:secret@r.io`
/// without a scheme, `https:/user:secret@r.io`, a key with a space, a password holding `/`) still has
/// its credentials where a person put them, before an `@`.
///
/// ```
/// use _core::credential::redact_userinfo;
/// assert_eq!(redact_userinfo("https://u:pw@r.io/x"), "https://<redacted>@r.io/x");
/// assert_eq!(redact_userinfo("HTTPS:/u:pw@r.io"), "HTTPS:/<redacted>@r.io");
/// assert_eq!(redact_userinfo("u:pw@r.io"), "<redacted>@r.io");
/// assert_eq!(redact_userinfo("r.io/a b:pw@x"), "<redacted>@x");
/// assert_eq!(redact_userinfo("r.io/team"), "r.io/team");
/// assert_eq!(redact_userinfo("https://u:pw@r.io/ns@sha256:ab"), "https://<redacted>@r.io/ns@sha256:ab");
/// ```
pub fn redact_userinfo(key: &str) -> Cow<'_, str> {
    redact_with(key, "<redacted>")
}

/// [`redact_userinfo`] with another marker (URL errors write `***`, as they always have).
pub(crate) fn redact_with<'k>(key: &'k str, marker: &str) -> Cow<'k, str> {
    let prefix = scheme_prefix_len(key).unwrap_or(0);
    // The last `@` that ends credentials: one in the authority (no `/` after the scheme before
    // it), or one whose path segment holds a `:` (`user:secret@`); not a digest's `ns@sha256:...`.
    let ends_credentials = |at: usize| {
        let before = key.get(..at).unwrap_or_default();
        let segment = before.rfind('/').map_or(0, |p| p + 1);
        segment <= prefix || before.get(segment..).is_some_and(|s| s.contains(':'))
    };
    let Some(at) = key.rmatch_indices('@').map(|(i, _)| i).find(|&i| ends_credentials(i)) else {
        return Cow::Borrowed(key);
    };
    let start = if prefix <= at { prefix } else { 0 };
    Cow::Owned(format!(
        "{}{marker}{}",
        key.get(..start).unwrap_or_default(),
        key.get(at..).unwrap_or_default()
    ))
}

/// The length of a leading `scheme:` and the slashes after it (at least one), as in `https://`.
fn scheme_prefix_len(key: &str) -> Option<usize> {
    let colon = key.find(':')?;
    let scheme = key.get(..colon)?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'));
    let slashes = key.get(colon + 1..)?.bytes().take_while(|&b| b == b'/').count();
    (valid && slashes > 0).then_some(colon + 1 + slashes)
}
