//! Upstream kubelet plugins as a source (docs/provider-config.md "Upstream plugins"): their answers
//! form one more keyring group, after node files — the place the kubelet's own plugin providers
//! take after its docker-config provider (docs/kubelet.md §c.5, §e.2).

use super::HelperAnswer;
use crate::credential::AuthEntry;
use crate::keyring::{BasicKeyring, Keyring};

/// `keyring` with a last group holding the upstream plugins' answers (same fields as a helper
/// answer: source, key, username, password). Answers whose key does not normalise are dropped, as
/// the kubelet drops them (docs/kubelet.md §c.1.2).
#[must_use]
pub fn with_upstream_answers(keyring: &Keyring, answers: Vec<HelperAnswer>) -> Keyring {
    let mut group = BasicKeyring::new();
    for answer in answers {
        let entry = AuthEntry {
            username: answer.username,
            password: answer.password,
            ..AuthEntry::default()
        };
        group.add(&answer.key, entry, &answer.source);
    }
    let mut groups = keyring.groups.clone();
    groups.push(group);
    Keyring { groups }
}
