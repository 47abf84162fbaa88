//! pullkey's own `ProviderConfig` and the kubelet's `CredentialProviderConfig`.
//!
//! Spec: docs/kubelet.md §f (kubelet config reading, schema, validation) and the
//! `ProviderConfig` schema in docs/provider-config.md.
//!
//! Both are read the same way: JSON when the first non-blank byte is `{` (as apimachinery's
//! `yaml.IsJSONBuffer` decides), YAML otherwise; one document; a key repeated in a mapping is an
//! error; then a strict typed decode in which an unknown field is an error naming its path
//! (`sources[2].paht`, `providers[0].x`). YAML is read as YAML 1.2 (`yes`/`on` are strings, not
//! booleans as in the kubelet's YAML 1.1 reader); merge keys (`<<`) are applied as the kubelet does.

mod document;
mod helpers;
mod kubelet;
mod mirrors;
mod provider;
mod source;
mod tenants;
mod upstreams;

pub use helpers::{
    is_helper_name, HelperEnv, HelpersConfig, DEFAULT_HELPER_CACHE_SECS, DEFAULT_HELPER_DIRS,
    DEFAULT_HELPER_TIMEOUT_MS, PATH_DIRS,
};
pub use kubelet::{
    render_kubelet_config, validate_kubelet_config, KubeletConfig, KubeletProvider, TokenAttributes,
    KUBELET_CONFIG_GROUP,
};
pub use mirrors::MirrorRule;
pub use provider::{
    parse_provider_config, CacheConfig, ProviderConfig, SearchPolicy, DEFAULT_CACHE_DURATION_SECS,
    PROVIDER_CONFIG_API_VERSION, PROVIDER_CONFIG_KIND,
};
pub use source::{Format, Source, SourceKind};
pub use tenants::{render_token_attributes, CredentialSet, Selector, TenantSettings, Tenants, TokenCacheType};
pub use upstreams::{Upstream, DEFAULT_UPSTREAM_TIMEOUT_MS, MAX_UPSTREAM_TIMEOUT_MS};

use std::fmt;

/// An error in a pullkey `ProviderConfig`: the file, the field path and what is wrong.
///
/// Messages quote only the offending scalar (config values here are paths and enumerations,
/// never secrets), never the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file's display name as passed to [`parse_provider_config`] (may be empty).
    pub file: String,
    /// Field path, e.g. `sources[2].path` (empty for document-level errors).
    pub path: String,
    /// What is wrong, quoting at most the offending scalar.
    pub message: String,
}
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file.is_empty() {
            write!(f, "{}: ", self.file)?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}
impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests;
