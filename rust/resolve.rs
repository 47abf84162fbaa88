//! Composition of the core pieces into what the transports need: building the merged keyring from
//! source contents, looking an image up, and answering a kubelet exec request.
//!
//! Pure like the rest of the core: the caller (Python) finds and reads the files and passes their
//! bytes in; this module never touches the file system.

use crate::dockercfg::{self, ConfigFormat, DockerConfig};
use crate::keyring::{AuthEntry, BasicKeyring, CachePolicy, Credential, Keyring};
use crate::protocol;
use crate::reference;
use crate::CoreError;
use std::borrow::Cow;

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

pub use crate::pconfig::SearchPolicy;

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
            "{name}: registry key {raw_key:?} is not a valid URL, ignoring it"
        ));
    }
}

/// Builds the merged keyring: one group for every pull secret (they share one keyring, §d), then
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

/// Normalises `image` as the kubelet does before a lookup (spec/kubelet.md §a): the repository of
/// `ParseNormalizedNamed`, without tag or digest.
pub fn repository_of(image: &str) -> Result<String, CoreError> {
    Ok(reference::parse_normalized_named(image)?.name())
}

/// Looks `image` (any reference form) up: its repository and the credentials in kubelet order.
pub fn lookup_image<'a>(keyring: &'a Keyring, image: &str) -> Result<(String, Vec<&'a Credential>), CoreError> {
    let repository = repository_of(image)?;
    let credentials = keyring.lookup(&repository);
    Ok((repository, credentials))
}

/// Answers one kubelet `CredentialProviderRequest` (the bytes read from stdin) with the bytes of the
/// `CredentialProviderResponse` to write to stdout, in the request's `apiVersion`.
pub fn exec_respond(
    keyring: &Keyring,
    request: &[u8],
    policy: CachePolicy,
    cache_duration_secs: u64,
) -> Result<Vec<u8>, CoreError> {
    let request = protocol::decode_request(request)?;
    let repository = repository_of(&request.image)?;
    let auth = keyring.response_auth(&repository, policy);
    let entries: Vec<(String, &AuthEntry)> = auth.entries.iter().map(|(k, a)| (k.clone(), a)).collect();
    Ok(protocol::encode_response(
        request.api_version,
        auth.cache_key_type,
        cache_duration_secs,
        &entries,
    ))
}

/// Everything `pullkey parse` and `pullkey.parse_reference` report about one reference.
///
/// Holds the parsed reference (one string, spec/reference.md §2-§3) and derives every other form on
/// demand: `repository` and `familiar` are slices of it, `normalized` borrows it unless
/// `ParseDockerRef` changes the text. Equality and hashing are those of the reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReferenceView {
    reference: reference::Reference,
}

impl ReferenceView {
    /// The parsed reference.
    pub fn reference(&self) -> &reference::Reference {
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

/// The pull policy Kubernetes defaults a container to (seed/container-images.md "Image pull
/// policy"; API defaulting via `parsers.ParseImageName`): `Always` when the tag is `latest`, or when
/// there is neither tag nor digest (the tag then defaults to `latest`); otherwise `IfNotPresent`.
pub fn default_pull_policy(tag: Option<&str>, digest: Option<&str>) -> &'static str {
    match (tag, digest) {
        (Some("latest"), _) | (None, None) => "Always",
        _ => "IfNotPresent",
    }
}

/// Parses `text` (normalised like `ParseNormalizedNamed`, or raw like `Parse`) into a [`ReferenceView`].
pub fn describe_reference(text: &str, normalize: bool) -> Result<ReferenceView, CoreError> {
    let reference = if normalize {
        reference::parse_normalized_named(text)?
    } else {
        reference::parse(text)?
    };
    Ok(ReferenceView { reference })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(default_pull_policy(None, None), "Always");
        assert_eq!(default_pull_policy(Some("latest"), None), "Always");
        assert_eq!(default_pull_policy(Some("latest"), Some("sha256:x")), "Always");
        assert_eq!(default_pull_policy(Some("1.0"), None), "IfNotPresent");
        assert_eq!(default_pull_policy(None, Some("sha256:x")), "IfNotPresent");
    }

    #[test]
    fn describe_reference_forms() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        // spec/reference.md §3. `D` stands for the digest, `-` for none, `raw` for normalize=false.
        // input | mode | domain | path | tag | digest | repository | normalized | familiar | pull policy
        let rows = "
            nginx | norm | docker.io | library/nginx | - | - | docker.io/library/nginx | docker.io/library/nginx:latest | nginx | Always
            nginx | raw | | nginx | - | - | nginx | nginx:latest | nginx | Always
            index.docker.io/team/app:1.0 | norm | docker.io | team/app | 1.0 | - | docker.io/team/app | docker.io/team/app:1.0 | team/app:1.0 | IfNotPresent
            gcr.io/a/b:latest | norm | gcr.io | a/b | latest | - | gcr.io/a/b | gcr.io/a/b:latest | gcr.io/a/b:latest | Always
            localhost:5000/x:t@D | norm | localhost:5000 | x | t | D | localhost:5000/x | localhost:5000/x@D | localhost:5000/x:t@D | IfNotPresent
            foo@D | norm | docker.io | library/foo | - | D | docker.io/library/foo | docker.io/library/foo@D | foo@D | IfNotPresent
        ";
        for row in rows.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let row = row.replace('D', &digest);
            let cols: Vec<&str> = row.split('|').map(str::trim).collect();
            let [input, mode, domain, path, tag, dig, repository, normalized, familiar, policy] = cols[..] else {
                panic!("bad row {row}");
            };
            let v = describe_reference(input, mode == "norm").unwrap();
            let got = (v.domain(), v.path(), v.tag(), v.digest());
            assert_eq!(
                got,
                (domain, path, (tag != "-").then_some(tag), (dig != "-").then_some(dig)),
                "{row}"
            );
            assert_eq!(v.repository(), repository, "{row}");
            assert_eq!(v.normalized(), normalized, "{row}");
            assert_eq!(v.familiar(), familiar, "{row}");
            assert_eq!(v.default_pull_policy(), policy, "{row}");
        }
        let err = describe_reference("Foo", true).unwrap_err();
        assert!(
            matches!(err, CoreError::Reference(e) if e.kind == reference::ReferenceErrorKind::NormalizedNameNotLowercase)
        );
        let err = describe_reference("Foo", false).unwrap_err();
        assert!(
            matches!(err, CoreError::Reference(e) if e.kind == reference::ReferenceErrorKind::NameContainsUppercase)
        );
        assert_eq!(
            describe_reference("nginx", true).unwrap(),
            describe_reference("docker.io/library/nginx", false).unwrap()
        );
    }
}
