//! pullkey's engine: the pure Rust core behind the `pullkey` kubelet credential provider.
//!
//! Everything here is plain Rust over plain types: no pyo3 (only in `py.rs`, behind the `python`
//! feature), no file or network I/O (file contents and the environment are passed in).
//!
//! - [`reference`]: image references, as `github.com/distribution/reference` v0.6 parses them.
//! - [`url`]: the subset of Go's `net/url.Parse` the kubelet applies to registry keys and patterns.
//! - [`hostglob`]: the kubelet's `URLsMatchStr` (one `filepath.Match` glob per DNS label).
//! - [`dockercfg`]: docker `config.json` / `.dockercfg` files and Kubernetes pull-secret manifests.
//! - [`keyring`]: the kubelet's `BasicDockerKeyring`, indexed, with provenance and explanations.
//! - [`protocol`]: the `credentialprovider.kubelet.k8s.io` exec wire format.
//! - [`pconfig`]: pullkey's own `ProviderConfig` and the kubelet's `CredentialProviderConfig`.

pub mod dockercfg;
pub mod error;
pub mod hostglob;
pub mod keyring;
pub mod pconfig;
pub mod protocol;
pub mod reference;
pub mod resolve;
pub mod url;
pub mod wire;

pub use error::CoreError;

#[cfg(feature = "python")]
mod py;
