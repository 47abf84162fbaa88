//! Building the merged keyring from the contents of its sources.

use crate::credential::redact_userinfo;
use crate::dockercfg::{self, ConfigFormat, DockerConfig};
use crate::keyring::BasicKeyring;
use crate::keyring::Keyring;
use crate::limits::Excerpt;
use crate::CoreError;

/// What one source file holds. `B` is the buffer of a file's bytes: the caller's own (the Python
/// binding lends the `bytes` it read, so a large file is not copied), `Vec<u8>` by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceData<B = Vec<u8>> {
    /// A docker config file. `format: None` detects the format (`auths` member or not).
    DockerConfig { format: Option<ConfigFormat>, data: B },
    /// A file of Kubernetes Secret manifests (JSON/YAML, Secret or List).
    SecretManifest { data: B },
    /// A mounted secret volume: its files (name, contents).
    SecretDir { files: Vec<(String, Vec<u8>)> },
}

/// One source: a display name (a path; never contents) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile<B = Vec<u8>> {
    pub name: String,
    pub data: SourceData<B>,
    /// True for the kubelet search-path candidates (subject to the `first` search policy).
    pub search_path: bool,
}

/// A built keyring, the warnings about sources that were skipped, the sources that were used, and
/// the error of each source that did not parse (its name in front; the caller decides whether that
/// is fatal: `strict` is a loader setting, decided in one place by the Python loader).
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub keyring: Keyring,
    pub warnings: Vec<String>,
    pub used: Vec<String>,
    pub skipped: Vec<CoreError>,
}

pub use crate::config::SearchPolicy;

fn parse_configs<B: AsRef<[u8]>>(source: &SourceFile<B>) -> Result<Vec<(String, DockerConfig)>, CoreError> {
    Ok(match &source.data {
        SourceData::DockerConfig {
            format: Some(format),
            data,
        } => {
            vec![(
                source.name.clone(),
                dockercfg::parse_docker_config(data.as_ref(), *format)?,
            )]
        }
        SourceData::DockerConfig { format: None, data } => {
            vec![(source.name.clone(), dockercfg::parse_docker_config_auto(data.as_ref())?)]
        }
        SourceData::SecretManifest { data } => dockercfg::parse_secret_manifests(data.as_ref())?
            .into_iter()
            .filter_map(|secret| {
                let name = format!("{} (secret {}/{})", source.name, secret.namespace, secret.name);
                secret.config.map(|config| (name, config))
            })
            .collect(),
        SourceData::SecretDir { files } => dockercfg::parse_secret_dir(files)?
            .map(|config| vec![(source.name.clone(), config)])
            .unwrap_or_default(),
    })
}

/// Prefixes a source error with the source's name (a path; never contents).
fn in_source(name: &str, err: CoreError) -> CoreError {
    match err {
        CoreError::DockerConfig(e) => CoreError::DockerConfig(dockercfg::DockerConfigError {
            kind: e.kind,
            message: format!("{name}: {}", e.message),
        }),
        other => other,
    }
}

fn add_all(group: &mut BasicKeyring, name: &str, config: DockerConfig, warnings: &mut Vec<String>) {
    for raw_key in group.add_all(config.entries, name) {
        // kubelet keyring.go Add: an entry whose key does not parse as a URL is logged and ignored.
        warnings.push(format!(
            "{name}: registry key {} is not a valid URL, ignoring it",
            Excerpt::debug(&redact_userinfo(&raw_key))
        ));
    }
}

/// Builds the merged keyring: one group for every pull secret (they share one keyring, docs/kubelet.md §d), then
/// one group for node files (search paths and extra docker configs, in the order given).
///
/// A source that does not parse is skipped with a warning naming it, and its error is kept in
/// `Built::skipped`.
pub fn build_keyring<B: AsRef<[u8]>>(secrets: &[SourceFile<B>], node: &[SourceFile<B>], policy: SearchPolicy) -> Built {
    let mut built = Built::default();
    let mut secret_group = BasicKeyring::new();
    let mut node_group = BasicKeyring::new();
    for source in secrets {
        match parse_configs(source) {
            Ok(configs) => {
                built.used.push(source.name.clone());
                for (name, config) in configs {
                    add_all(&mut secret_group, &name, config, &mut built.warnings);
                }
            }
            Err(err) => skip(&mut built, &source.name, err),
        }
    }
    // `first`: among search-path candidates, the first parseable config.json wins, else the first
    // parseable .dockercfg (kubelet config.go ReadDockerConfigFile). Candidates arrive in search
    // order with every config.json before every .dockercfg, so "first parseable" is enough once a
    // config.json has been taken: later .dockercfg candidates are then never read.
    let mut search_path_taken = false;
    for source in node {
        if source.search_path && policy == SearchPolicy::First && search_path_taken {
            continue;
        }
        match parse_configs(source) {
            Ok(configs) => {
                if source.search_path {
                    search_path_taken = true;
                }
                built.used.push(source.name.clone());
                for (name, config) in configs {
                    add_all(&mut node_group, &name, config, &mut built.warnings);
                }
            }
            Err(err) => skip(&mut built, &source.name, err),
        }
    }
    secret_group.shrink_to_fit();
    node_group.shrink_to_fit();
    built.keyring.groups = vec![secret_group, node_group];
    built
}

fn skip(built: &mut Built, name: &str, err: CoreError) {
    built.warnings.push(format!("{name}: skipped: {err}"));
    built.skipped.push(in_source(name, err));
}
