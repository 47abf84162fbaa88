//! Image references: grammar and normalisation of distribution/reference v0.6 (CONTRACT STUB).
//! Spec: ../shared/spec/reference.md. Owner: reference helper.

use std::fmt;

/// Error classes of spec/reference.md §4, each with a stable machine-readable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceErrorKind {
    /// `ErrReferenceInvalidFormat`
    InvalidFormat,
    /// `ErrTagInvalidFormat` (WithTag only)
    TagInvalidFormat,
    /// `ErrDigestInvalidFormat` of the reference package (WithDigest only)
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
    /// ParseNormalizedNamed: "repository name (X) must be lowercase"
    NormalizedNameNotLowercase,
    /// ParseNormalizedNamed: "cannot specify 64-byte hexadecimal strings"
    NormalizedNameIsIdentifier,
}

impl ReferenceErrorKind {
    /// Stable snake_case code, e.g. `invalid_format`, `name_contains_uppercase`, `digest_invalid_length`.
    pub fn code(self) -> &'static str {
        todo!()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError {
    pub kind: ReferenceErrorKind,
    /// The offending input, as given.
    pub input: String,
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
    }
}
impl std::error::Error for ReferenceError {}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    pub fn domain(&self) -> &str {
        &self.domain
    }
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
    /// `domain/path` (or `path` when the domain is empty): what the kubelet matches keys against.
    pub fn name(&self) -> String {
        todo!()
    }
    /// `ParseDockerRef` applied to this reference (tag dropped when a digest exists, `latest` added when neither).
    pub fn docker_ref(&self) -> Reference {
        todo!()
    }
    /// `FamiliarString`.
    pub fn familiar_string(&self) -> String {
        todo!()
    }
    /// `FamiliarName`.
    pub fn familiar_name(&self) -> String {
        todo!()
    }
}

/// `String()`: name[:tag][@digest].
impl fmt::Display for Reference {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
    }
}

/// Raw `Parse`.
pub fn parse(_s: &str) -> Result<Reference, ReferenceError> {
    todo!()
}

/// `ParseNormalizedNamed`.
pub fn parse_normalized_named(_s: &str) -> Result<Reference, ReferenceError> {
    todo!()
}

/// `ParseDockerRef` = `parse_normalized_named(s)?.docker_ref()`.
pub fn parse_docker_ref(_s: &str) -> Result<Reference, ReferenceError> {
    todo!()
}
