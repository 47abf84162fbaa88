//! The one error type of the core. Each module owns its detailed error; this enum gathers them so
//! the binding layer (`py/`) maps every failure class to a Python exception in one place.
//!
//! Display texts are user-facing: they name the offending input (a reference, a file, a field
//! path), never a secret value.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoreError {
    #[error(transparent)]
    Reference(#[from] crate::reference::ReferenceError),
    #[error(transparent)]
    DockerConfig(#[from] crate::dockercfg::DockerConfigError),
    #[error(transparent)]
    Request(#[from] crate::exec::RequestError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}
