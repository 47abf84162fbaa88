//! Docker `config.json` / legacy `.dockercfg` files and Kubernetes pull-secret manifests (CONTRACT STUB).
//! Spec: ../shared/spec/kubelet.md §b.1, §d. Owner: dockercfg helper.

use crate::keyring::AuthEntry;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// `{"auths": {...}, "HttpHeaders": ..., "credsStore": ..., "credHelpers": ...}`
    ConfigJson,
    /// Legacy: the top-level object is the map of registry key -> entry.
    DockerCfg,
}

/// A parsed docker config, entries in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerConfig {
    pub entries: Vec<(String, AuthEntry)>,
    pub http_headers: Vec<(String, String)>,
    pub creds_store: Option<String>,
    pub cred_helpers: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerConfigErrorKind {
    /// Not JSON, or JSON of the wrong shape/types.
    Json,
    /// An `auth` value that is not base64 of `user:password`.
    Auth,
    /// A Secret manifest that is not a Secret/List, or lacks what its type requires.
    Manifest,
}

/// Names the source and the key/field at fault, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfigError {
    pub kind: DockerConfigErrorKind,
    pub message: String,
}

impl fmt::Display for DockerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for DockerConfigError {}

/// Parse one docker config file's bytes in the given format.
pub fn parse_docker_config(_data: &[u8], _format: ConfigFormat) -> Result<DockerConfig, DockerConfigError> {
    todo!()
}

/// Parse either format: `config.json` when the top-level object has an `auths` member (any case), else `.dockercfg`.
pub fn parse_docker_config_auto(_data: &[u8]) -> Result<DockerConfig, DockerConfigError> {
    todo!()
}

/// One pull secret from a manifest, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSecret {
    pub namespace: String,
    pub name: String,
    /// `None` when the kubelet would silently ignore the secret (other type, mismatched key, empty data).
    pub config: Option<DockerConfig>,
}

/// Parse Kubernetes Secret manifests (JSON or YAML; one Secret, a `List` of them, or several YAML documents).
pub fn parse_secret_manifests(_data: &[u8]) -> Result<Vec<PullSecret>, DockerConfigError> {
    todo!()
}

/// A mounted secret directory's files: (file name, contents). Recognises `.dockerconfigjson` / `.dockercfg`.
pub fn parse_secret_dir(_files: &[(String, Vec<u8>)]) -> Result<Option<DockerConfig>, DockerConfigError> {
    todo!()
}
