//! Why a reference does not parse: the error kinds of `distribution/reference` and their messages.

use super::normalize::normalized_remote;
use std::fmt;

/// Error classes of spec/reference.md §4, each with a stable machine-readable code.
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
    /// Every kind, in the order of spec §4 (for bindings and exhaustive tests).
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

    /// The Go error text of spec §4 for the sentinel errors. The two plain (non-sentinel) errors of
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
/// `Display` is `invalid reference "<input, Rust-escaped>": <Go message of spec §4>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError {
    /// The error class (spec §4).
    pub kind: ReferenceErrorKind,
    /// The offending input, as given.
    pub input: String,
}

impl ReferenceError {
    pub(super) fn new(kind: ReferenceErrorKind, input: &str) -> Self {
        ReferenceError {
            kind,
            input: input.to_owned(),
        }
    }

    /// The Go error message (spec §4), with the name filled in for the two plain errors of
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
                input.escape_debug()
            ),
            // normalize.go: fmt.Errorf("invalid reference format: repository name (%s) must be lowercase", remote)
            ReferenceErrorKind::NormalizedNameNotLowercase => write!(
                f,
                "invalid reference format: repository name ({}) must be lowercase",
                normalized_remote(input).escape_debug()
            ),
            kind => f.write_str(kind.go_message()),
        }
    }
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid reference {:?}: {}", self.input, MessageOf(self))
    }
}
impl std::error::Error for ReferenceError {}
