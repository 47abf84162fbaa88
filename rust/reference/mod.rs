//! Image references: grammar and normalisation of `github.com/distribution/reference` v0.6.
//!
//! Spec: `docs/reference.md` (§1 grammar, §2 `Parse`, §3 normalisation, §4 errors, §5 go-digest).
//!
//! The Go package matches one anchored RE2 regexp (leftmost-first) and then re-splits the name with a
//! second one. This module is a hand-written equivalent: every function below scans its input once
//! (the whole parse is a constant number of linear passes), never backtracks, never slices a string
//! except at ASCII delimiters it found itself, and so cannot panic on any input, multi-byte UTF-8
//! included. All character classes are ASCII, and a match always covers the whole input (Go's `$`
//! is end of text, so `"foo\n"` is rejected).

mod grammar;
mod normalize;
mod view;

pub use grammar::{is_identifier, parse};
pub use normalize::{parse_docker_ref, parse_named, parse_normalized_named};
pub use view::{default_pull_policy, ReferenceView};

use crate::limits::Excerpt;
use grammar::Spans;
use normalize::normalized_remote;
use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};

/// `RepositoryNameTotalLengthMax`: the limit on the *path* (domain excluded since v0.6.0, docs/reference.md §2.4).
pub const REPOSITORY_NAME_MAX_LEN: usize = 255;
/// The longest tag the grammar accepts (`[\w][\w.-]{0,127}`, docs/reference.md §1).
pub const TAG_MAX_LEN: usize = 128;
/// `defaultDomain` of normalize.go: Docker Hub's namespace (not a host, docs/reference.md §3).
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// `legacyDefaultDomain` of normalize.go, folded into [`DEFAULT_DOMAIN`] by normalisation.
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// `officialRepoPrefix` of normalize.go.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// `defaultTag` of normalize.go, added by `ParseDockerRef` / `TagNameOnly`.
pub const DEFAULT_TAG: &str = "latest";

/// Error classes of docs/reference.md §4, each with a stable machine-readable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferenceErrorKind {
    /// `ErrReferenceInvalidFormat`
    InvalidFormat,
    /// `ErrTagInvalidFormat` (`WithTag` only)
    TagInvalidFormat,
    /// `ErrDigestInvalidFormat` of the reference package (`WithDigest` only)
    ReferenceDigestInvalidFormat,
    /// `ErrNameContainsUppercase`
    NameContainsUppercase,
    /// `ErrNameEmpty`
    NameEmpty,
    /// `ErrNameTooLong`
    NameTooLong,
    /// `ErrNameNotCanonical`
    NameNotCanonical,
    /// go-digest `ErrDigestInvalidFormat`
    DigestInvalidFormat,
    /// go-digest `ErrDigestInvalidLength`
    DigestInvalidLength,
    /// go-digest `ErrDigestUnsupported`
    DigestUnsupported,
    /// `ParseNormalizedNamed`: "repository name (X) must be lowercase"
    NormalizedNameNotLowercase,
    /// `ParseNormalizedNamed`: "cannot specify 64-byte hexadecimal strings"
    NormalizedNameIsIdentifier,
}

impl ReferenceErrorKind {
    /// Every kind, in the order of docs/reference.md §4 (for bindings and exhaustive tests).
    pub const ALL: [ReferenceErrorKind; 12] = [
        Self::InvalidFormat,
        Self::TagInvalidFormat,
        Self::ReferenceDigestInvalidFormat,
        Self::NameContainsUppercase,
        Self::NameEmpty,
        Self::NameTooLong,
        Self::NameNotCanonical,
        Self::DigestInvalidFormat,
        Self::DigestInvalidLength,
        Self::DigestUnsupported,
        Self::NormalizedNameNotLowercase,
        Self::NormalizedNameIsIdentifier,
    ];

    /// Stable `snake_case` code, e.g. `invalid_format`, `name_contains_uppercase`, `digest_invalid_length`.
    ///
    /// These strings are API: Python exposes them as `InvalidReference.code`.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidFormat => "invalid_format",
            Self::TagInvalidFormat => "tag_invalid_format",
            Self::ReferenceDigestInvalidFormat => "reference_digest_invalid_format",
            Self::NameContainsUppercase => "name_contains_uppercase",
            Self::NameEmpty => "name_empty",
            Self::NameTooLong => "name_too_long",
            Self::NameNotCanonical => "name_not_canonical",
            Self::DigestInvalidFormat => "digest_invalid_format",
            Self::DigestInvalidLength => "digest_invalid_length",
            Self::DigestUnsupported => "digest_unsupported",
            Self::NormalizedNameNotLowercase => "normalized_name_not_lowercase",
            Self::NormalizedNameIsIdentifier => "normalized_name_is_identifier",
        }
    }

    /// The Go error text of docs/reference.md §4 for the sentinel errors. The two plain (non-sentinel) errors of
    /// `ParseNormalizedNamed` embed a name; [`ReferenceError::message`] fills it in, this returns the
    /// text with a literal `X` in its place.
    pub fn go_message(self) -> &'static str {
        match self {
            Self::InvalidFormat => "invalid reference format",
            Self::TagInvalidFormat => "invalid tag format",
            Self::ReferenceDigestInvalidFormat => "invalid digest format",
            Self::NameContainsUppercase => "repository name must be lowercase",
            Self::NameEmpty => "repository name must have at least one component",
            Self::NameTooLong => "repository name must not be more than 255 characters",
            Self::NameNotCanonical => "repository name must be canonical",
            Self::DigestInvalidFormat => "invalid checksum digest format",
            Self::DigestInvalidLength => "invalid checksum digest length",
            Self::DigestUnsupported => "unsupported digest algorithm",
            Self::NormalizedNameNotLowercase => "invalid reference format: repository name (X) must be lowercase",
            Self::NormalizedNameIsIdentifier => {
                "invalid repository name (X), cannot specify 64-byte hexadecimal strings"
            }
        }
    }
}

/// A reference that failed to parse: the error class and the input exactly as given.
///
/// `Display` is `invalid reference "<input, Rust-escaped>": <Go message of docs/reference.md §4>`;
/// an input longer than [`MAX_QUOTED_BYTES`](crate::limits::MAX_QUOTED_BYTES) is quoted in part
/// ([`Excerpt`]), here and in the message; `input` keeps all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError {
    /// The error class (docs/reference.md §4).
    pub kind: ReferenceErrorKind,
    /// The offending input, as given.
    pub input: String,
}

impl ReferenceError {
    fn new(kind: ReferenceErrorKind, input: &str) -> Self {
        ReferenceError {
            kind,
            input: input.to_owned(),
        }
    }

    /// The Go error message (docs/reference.md §4), with the name filled in for the two plain errors of
    /// `ParseNormalizedNamed`. The embedded name is escaped like `str::escape_debug` so that the
    /// message stays on one line whatever the input holds.
    pub fn message(&self) -> String {
        MessageOf(self).to_string()
    }
}

/// `Display` of [`ReferenceError::message`], written straight into the formatter (no temporary).
struct MessageOf<'a>(&'a ReferenceError);

impl fmt::Display for MessageOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = &self.0.input;
        match self.0.kind {
            // normalize.go: fmt.Errorf("invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s)
            ReferenceErrorKind::NormalizedNameIsIdentifier => write!(
                f,
                "invalid repository name ({}), cannot specify 64-byte hexadecimal strings",
                Excerpt::escaped(input)
            ),
            // normalize.go: fmt.Errorf("invalid reference format: repository name (%s) must be lowercase", remote)
            ReferenceErrorKind::NormalizedNameNotLowercase => write!(
                f,
                "invalid reference format: repository name ({}) must be lowercase",
                Excerpt::escaped(&normalized_remote(input))
            ),
            kind => f.write_str(kind.go_message()),
        }
    }
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid reference {}: {}",
            Excerpt::debug(&self.input),
            MessageOf(self)
        )
    }
}
impl std::error::Error for ReferenceError {}

/// A parsed image reference: `[domain "/"] path [":" tag] ["@" digest]` (docs/reference.md §1).
///
/// Produced by [`parse`] (raw `Parse`: domain may be empty) or [`parse_normalized_named`]
/// (domain always set, Docker Hub names expanded). `Display` is Go's `String()`.
///
/// NOTE (layout): the reference is stored as its one `String()` text plus the byte offsets of the
/// delimiters, so the parts are slices of that text and parsing allocates a single string. This
/// works because `String()` reproduces every valid input of `Parse` exactly (docs/reference.md §2.7) and
/// `ParseNormalizedNamed` ends with `Parse(domain + "/" + remainder)`: the text parsed is the text
/// kept. Equality and hashing are on the four parts, as Go compares references.
#[derive(Clone)]
pub struct Reference {
    /// `[domain "/"] path [":" tag] ["@" digest]`.
    text: String,
    /// `text[..domain_len]` is the domain (0: none, and the path starts at 0).
    domain_len: usize,
    /// The path ends here (exclusive); a `:` (tag) or `@` (digest) or the end follows.
    path_end: usize,
    /// The tag ends here (exclusive); `tag_end == path_end` when there is no tag.
    tag_end: usize,
}

impl Reference {
    /// Builds a reference over `text`, already split by the grammar.
    fn from_spans(text: String, spans: Spans) -> Self {
        Reference {
            text,
            domain_len: spans.domain_len,
            path_end: spans.path_end,
            tag_end: spans.tag_end,
        }
    }
    /// `text[range]`, "" when out of range (never: every offset sits at an ASCII delimiter we found).
    fn slice(&self, start: usize, end: usize) -> &str {
        self.text.get(start..end).unwrap_or_default()
    }
    fn path_start(&self) -> usize {
        if self.domain_len == 0 {
            0
        } else {
            self.domain_len + 1
        }
    }
    /// `Domain()`: host and optional port, e.g. `localhost:5000`, `[::1]`; "" when none was matched.
    pub fn domain(&self) -> &str {
        self.slice(0, self.domain_len)
    }
    /// `Path()`: the repository path without the domain, e.g. `library/ubuntu`.
    pub fn path(&self) -> &str {
        self.slice(self.path_start(), self.path_end)
    }
    /// The tag, if one was written (or added by [`Reference::docker_ref`]).
    pub fn tag(&self) -> Option<&str> {
        (self.tag_end > self.path_end).then(|| self.slice(self.path_end + 1, self.tag_end))
    }
    /// The digest (`algorithm:hex`, validated by go-digest rules, docs/reference.md §5), if any.
    pub fn digest(&self) -> Option<&str> {
        (self.text.len() > self.tag_end).then(|| self.slice(self.tag_end + 1, self.text.len()))
    }
    /// Go's `String()` (docs/reference.md §2.7) without allocating: the same text as `Display`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// `domain/path` (or `path` when the domain is empty): what the kubelet matches keys against.
    pub fn name(&self) -> String {
        self.name_str().to_owned()
    }
    /// [`Reference::name`] without allocating (a slice of the reference's text).
    pub fn name_str(&self) -> &str {
        self.slice(0, self.path_end)
    }
    /// `ParseDockerRef` applied to this reference (tag dropped when a digest exists, `latest` added when neither).
    #[must_use]
    pub fn docker_ref(&self) -> Reference {
        let text = self.docker_ref_string().into_owned();
        let tag_end = match (self.tag(), self.digest()) {
            // The tag went: the digest follows the name.
            (Some(_), Some(_)) => self.path_end,
            // `:latest` was appended.
            (None, None) => text.len(),
            _ => self.tag_end,
        };
        Reference {
            text,
            domain_len: self.domain_len,
            path_end: self.path_end,
            tag_end,
        }
    }
    /// `String()` of [`Reference::docker_ref`], borrowed when this reference already has that form
    /// (a tag or a digest, not both), so a fully qualified reference costs no allocation.
    pub fn docker_ref_string(&self) -> Cow<'_, str> {
        match (self.tag(), self.digest()) {
            // normalize.go ParseDockerRef: tagged+digested → WithDigest(WithName(name), digest).
            (Some(_), Some(digest)) => {
                let name = self.name_str();
                let mut out = String::with_capacity(name.len() + 1 + digest.len());
                out.push_str(name);
                out.push('@');
                out.push_str(digest);
                Cow::Owned(out)
            }
            // TagNameOnly.
            (None, None) => {
                let mut out = String::with_capacity(self.text.len() + 1 + DEFAULT_TAG.len());
                out.push_str(&self.text);
                out.push(':');
                out.push_str(DEFAULT_TAG);
                Cow::Owned(out)
            }
            _ => Cow::Borrowed(&self.text),
        }
    }
    /// `FamiliarString`: the familiar name (see [`Reference::familiar_name`]) with tag and digest kept.
    pub fn familiar_string(&self) -> String {
        self.familiar_str().to_owned()
    }
    /// [`Reference::familiar_string`] without allocating: the familiar form is always a suffix of
    /// the reference's text (only a leading `docker.io/` and `library/` are ever dropped).
    pub fn familiar_str(&self) -> &str {
        self.slice(self.familiar_start(), self.text.len())
    }
    /// `FamiliarName` (docs/reference.md §3): only for domain `docker.io`, drop the domain, and drop a leading
    /// `library/` when what remains has no further `/`. Anything else is the plain [`Reference::name`].
    pub fn familiar_name(&self) -> String {
        self.slice(self.familiar_start(), self.path_end).to_owned()
    }
    /// Where `FamiliarName` starts in the text (docs/reference.md §3).
    fn familiar_start(&self) -> usize {
        if self.domain() != DEFAULT_DOMAIN {
            return 0;
        }
        match self.path().strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => self.path_start() + OFFICIAL_REPO_PREFIX.len(),
            _ => self.path_start(),
        }
    }
    /// `IsNameOnly`: neither tag nor digest.
    pub fn is_name_only(&self) -> bool {
        self.path_end == self.text.len()
    }
}

/// The four parts, as Go compares references (and as the derived impls on owned parts did).
impl PartialEq for Reference {
    fn eq(&self, other: &Self) -> bool {
        // The text and the offsets determine the parts and vice versa.
        self.text == other.text
            && self.domain_len == other.domain_len
            && self.path_end == other.path_end
            && self.tag_end == other.tag_end
    }
}
impl Eq for Reference {}

impl Hash for Reference {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
        self.domain_len.hash(state);
        self.path_end.hash(state);
        self.tag_end.hash(state);
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reference")
            .field("domain", &self.domain())
            .field("path", &self.path())
            .field("tag", &self.tag())
            .field("digest", &self.digest())
            .finish()
    }
}

/// Go's `String()`: `name[:tag][@digest]`, reproducing every valid raw input exactly (docs/reference.md §2.7).
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // reason: table tests read best as one table per function
mod tests;
