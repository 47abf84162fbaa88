//! The kubelet exec credential-provider wire format: `CredentialProviderRequest` in,
//! `CredentialProviderResponse` out (Go `time.Duration` strings are in [`crate::go::duration`]).
//!
//! Spec: docs/kubelet.md §e.3 (process execution, strict response decoding), §e.4 (wire
//! types, group `credentialprovider.kubelet.k8s.io`, versions v1alpha1, v1beta1, v1).
//!
//! Decoding decisions (the kubelet is the only sender, so these only matter for hand-made input):
//! - The request must be one JSON object (YAML, several values or trailing text are rejected).
//! - Unknown fields are accepted and ignored: a newer kubelet may add fields.
//! - A key repeated at the top level is rejected (its name is given only if it is a known field).
//! - `serviceAccountToken` / `serviceAccountAnnotations` are read only in `v1` (the kubelet's
//!   conversions drop them for v1alpha1/v1beta1); in the older versions they are ignored unchecked.
//! - Error messages never contain input text: the request may carry a service-account token.

mod plugin;
mod request;
mod response;

pub use plugin::{decode_plugin_response, encode_plugin_request, PluginResponse};
pub use request::{decode_request, Request, RequestError};
pub use response::{cache_key_type_str, encode_response};

use std::fmt;

/// The API group of the exec protocol (§e.4).
pub const GROUP: &str = "credentialprovider.kubelet.k8s.io";

/// Largest request accepted on stdin (the kubelet sends a few hundred bytes).
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// A version of the `credentialprovider.kubelet.k8s.io` API (§e.4); the three are structurally
/// identical except the v1 request's service-account fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `credentialprovider.kubelet.k8s.io/v1` (GA in 1.26; the only one with service-account fields).
    V1,
    /// `credentialprovider.kubelet.k8s.io/v1beta1` (1.24).
    V1beta1,
    /// `credentialprovider.kubelet.k8s.io/v1alpha1` (1.20).
    V1alpha1,
}

impl ApiVersion {
    /// All versions, newest first.
    pub const ALL: [ApiVersion; 3] = [ApiVersion::V1, ApiVersion::V1beta1, ApiVersion::V1alpha1];

    /// The full `apiVersion` string, e.g. `credentialprovider.kubelet.k8s.io/v1`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "credentialprovider.kubelet.k8s.io/v1",
            ApiVersion::V1beta1 => "credentialprovider.kubelet.k8s.io/v1beta1",
            ApiVersion::V1alpha1 => "credentialprovider.kubelet.k8s.io/v1alpha1",
        }
    }

    /// Parses a full `apiVersion` string (exact, case-sensitive, as the kubelet scheme does).
    pub fn from_api_version(s: &str) -> Option<ApiVersion> {
        ApiVersion::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
