//! pullkey's own `ProviderConfig` and the kubelet's `CredentialProviderConfig` (CONTRACT STUB).
//! Spec: ../shared/spec/kubelet.md §f. Owner: protocol helper.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Field path, e.g. `sources[2].path` (empty for document-level errors).
    pub path: String,
    pub message: String,
}
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}
impl std::error::Error for ConfigError {}
