//! The `sources` of a `ProviderConfig` (docs/provider-config.md), shared by the node's sources and
//! every credential set's (`tenants.rs`).

use crate::go::strconv::go_quote;
use crate::names::Named;
use serde::Deserialize;

/// The `type` of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// The kubelet docker-config search paths under `rootDir` (§b.2).
    SearchPaths,
    /// An extra `config.json` / `.dockercfg` file (`path`).
    DockerConfig,
    /// A file of Secret manifests (`path`).
    PullSecret,
    /// A directory of manifests and/or mounted secret volumes (`path`).
    PullSecretDir,
}

impl Named for SourceKind {
    /// The names of a source's `type`.
    const NAMES: &'static [(&'static str, Self)] = &[
        ("SearchPaths", SourceKind::SearchPaths),
        ("DockerConfig", SourceKind::DockerConfig),
        ("PullSecret", SourceKind::PullSecret),
        ("PullSecretDir", SourceKind::PullSecretDir),
    ];
}

impl SourceKind {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        self.name()
    }
}

impl Named for Format {
    /// The names of a `DockerConfig` source's `format`.
    const NAMES: &'static [(&'static str, Self)] = &[
        ("auto", Format::Auto),
        ("config.json", Format::ConfigJson),
        ("dockercfg", Format::DockerCfg),
    ];
}

/// The `format` of a `DockerConfig` source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `auto` (default): `config.json` when the document has an `auths` member, else `.dockercfg`.
    #[default]
    Auto,
    /// `config.json`
    ConfigJson,
    /// `dockercfg`
    DockerCfg,
}

/// One entry of `sources` (order = precedence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `type`.
    pub kind: SourceKind,
    /// Required for every type but `SearchPaths` (where it is refused).
    pub path: Option<String>,
    /// Only `DockerConfig` sources may set it; `Auto` otherwise.
    pub format: Format,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    #[serde(rename = "type")]
    kind: Option<String>,
    path: Option<String>,
    format: Option<String>,
}

/// The value named `name`, or "unknown WHAT "name", expected one of ..." (the names of [`Named`]).
pub(super) fn named<T: Named>(name: &str, what: &str) -> Result<T, String> {
    T::from_name(name).ok_or_else(|| format!("unknown {what} {}, expected one of {}", go_quote(name), T::expected()))
}

pub(super) fn convert_source(index: usize, raw: RawSource) -> Result<Source, (String, String)> {
    let at = |field: &str| format!("sources[{index}].{field}");
    let kind = match raw.kind {
        None => {
            return Err((
                at("type"),
                format!("required, expected one of {}", SourceKind::expected()),
            ))
        }
        Some(kind) => named(&kind, "source type").map_err(|m| (at("type"), m))?,
    };
    let path = match (kind, raw.path) {
        (SourceKind::SearchPaths, Some(_)) => {
            return Err((
                at("path"),
                "not allowed for type SearchPaths (the search paths are under rootDir)".to_owned(),
            ))
        }
        (SourceKind::SearchPaths, None) => None,
        (_, Some(path)) if !path.is_empty() => Some(path),
        (kind, _) => return Err((at("path"), format!("required for type {}", kind.as_str()))),
    };
    let format = match (kind, raw.format) {
        (_, None) => Format::Auto,
        (SourceKind::DockerConfig, Some(format)) => named(&format, "format").map_err(|m| (at("format"), m))?,
        (kind, Some(_)) => {
            return Err((
                at("format"),
                format!("only allowed for type DockerConfig, not {}", kind.as_str()),
            ))
        }
    };
    Ok(Source { kind, path, format })
}
