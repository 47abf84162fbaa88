//! Docker credential helpers in the keyring (docs/helpers.md): which helpers the node docker configs
//! name, and the keyring with the helpers' answers in their place in the kubelet order.

use super::build::{SourceData, SourceFile};
use crate::credential::AuthEntry;
use crate::dockercfg;
use crate::keyring::{BasicKeyring, Keyring};

/// The helper references of one docker config: its name, `credsStore` and `credHelpers` in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperRefs {
    /// The source's display name (a path).
    pub source: String,
    /// `credsStore`, when a non-empty string.
    pub creds_store: Option<String>,
    /// `credHelpers`: (server URL as written, helper name), in file order.
    pub cred_helpers: Vec<(String, String)>,
}

/// The helper references of docker config sources, in the order given; sources that are not docker
/// configs (pull secrets: a Secret's content never chooses a program to run on the node), that do not
/// parse (their error is reported by the build) or that name no helper are left out.
pub fn helper_refs<B: AsRef<[u8]>>(sources: &[SourceFile<B>]) -> Vec<HelperRefs> {
    let mut out = Vec::new();
    for source in sources {
        let SourceData::DockerConfig { format, data } = &source.data else {
            continue;
        };
        let parsed = match format {
            Some(format) => dockercfg::parse_docker_config(data.as_ref(), *format),
            None => dockercfg::parse_docker_config_auto(data.as_ref()),
        };
        let Ok(config) = parsed else { continue };
        if config.creds_store.is_none() && config.cred_helpers.is_empty() {
            continue;
        }
        out.push(HelperRefs {
            source: source.name.clone(),
            creds_store: config.creds_store,
            cred_helpers: config.cred_helpers,
        });
    }
    out
}

/// One helper answer to put in the keyring.
#[derive(Clone, PartialEq, Eq)]
pub struct HelperAnswer {
    /// Where it came from (shown by `explain` as the credential's source).
    pub source: String,
    /// The registry key: the server URL asked (`https://index.docker.io/v1/` or `host[:port]`).
    pub key: String,
    /// The helper's `Username`.
    pub username: String,
    /// The helper's `Secret` (a password).
    pub password: String,
}

/// `keyring` with a group of helper answers between its first group (pull secrets) and the rest
/// (node docker configs): docs/helpers.md "Order". Answers whose key does not normalise are dropped.
#[must_use]
pub fn with_helper_answers(keyring: &Keyring, answers: Vec<HelperAnswer>) -> Keyring {
    let mut group = BasicKeyring::new();
    for answer in answers {
        let entry = AuthEntry {
            username: answer.username,
            password: answer.password,
            ..AuthEntry::default()
        };
        group.add(&answer.key, entry, &answer.source);
    }
    let at = keyring.groups.len().min(1);
    let mut groups = Vec::with_capacity(keyring.groups.len() + 1);
    groups.extend(keyring.groups[..at].iter().cloned());
    groups.push(group);
    groups.extend(keyring.groups[at..].iter().cloned());
    Keyring { groups }
}
