//! Every form of one parsed reference, as `pullkey parse` reports it.

use super::Reference;
use std::borrow::Cow;

/// Everything `pullkey parse` and `pullkey.parse_reference` report about one reference.
///
/// Holds the parsed reference (one string, docs/reference.md §2-§3) and derives every other form on
/// demand: `repository` and `familiar` are slices of it, `normalized` borrows it unless
/// `ParseDockerRef` changes the text. Equality and hashing are those of the reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReferenceView {
    reference: Reference,
}

impl ReferenceView {
    /// The view of `reference`.
    pub(crate) fn new(reference: Reference) -> Self {
        ReferenceView { reference }
    }
    /// The parsed reference.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }
    /// `Domain()` (may be "" for a raw parse).
    pub fn domain(&self) -> &str {
        self.reference.domain()
    }
    /// `Path()`.
    pub fn path(&self) -> &str {
        self.reference.path()
    }
    /// The tag as written.
    pub fn tag(&self) -> Option<&str> {
        self.reference.tag()
    }
    /// The digest as written.
    pub fn digest(&self) -> Option<&str> {
        self.reference.digest()
    }
    /// `domain/path`: the string the kubelet matches credentials against.
    pub fn repository(&self) -> &str {
        self.reference.name_str()
    }
    /// Fully qualified, as `ParseDockerRef` prints it.
    pub fn normalized(&self) -> Cow<'_, str> {
        self.reference.docker_ref_string()
    }
    /// `FamiliarString`.
    pub fn familiar(&self) -> &str {
        self.reference.familiar_str()
    }
    /// `Always` or `IfNotPresent` (see [`default_pull_policy`]).
    pub fn default_pull_policy(&self) -> &'static str {
        default_pull_policy(self.reference.tag(), self.reference.digest())
    }
}

/// The pull policy Kubernetes defaults a container to (`kubernetes/kubernetes`
/// `pkg/apis/core/v1/defaults.go` `SetDefaults_Container` (v1.34), which reads the tag with
/// `parsers.ParseImageName`): `Always` when the tag is `latest`, or when
/// there is neither tag nor digest (the tag then defaults to `latest`); otherwise `IfNotPresent`.
pub fn default_pull_policy(tag: Option<&str>, digest: Option<&str>) -> &'static str {
    match (tag, digest) {
        (Some("latest"), _) | (None, None) => "Always",
        _ => "IfNotPresent",
    }
}
