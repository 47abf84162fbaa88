//! Mirrors (docs/mirrors.md): the credentials of an image whose registry is mirrored, and the exec
//! answer that carries them in the order the runtimes' attempts need.

use crate::config::MirrorRule;
use crate::credential::{AuthEntry, Credential};
use crate::exec;
use crate::hostglob::urls_match_str;
use crate::keyring::{ladder, CacheKeyType, CachePolicy, Keyring};
use crate::CoreError;

/// The first rule whose `registry` matches the host of `repository` (a normalised repository name,
/// docs/kubelet.md §a), and the image names the mirrors serve it under, in rule order
/// (docs/mirrors.md §2 step 1).
#[must_use]
pub fn mirror_images(rules: &[MirrorRule], repository: &str) -> Option<(usize, Vec<String>)> {
    let (host, path) = repository.split_once('/')?;
    let index = rules.iter().position(|r| urls_match_str(&r.registry, host))?;
    let images = rules[index]
        .endpoints
        .iter()
        .map(|endpoint| format!("{endpoint}/{path}"))
        .collect();
    Some((index, images))
}

/// For a mirrored `repository`: each credential the kubelet should try, in order, with the image
/// name it was found for (a mirror's, or `repository` itself for the upstream's). Credentials with the
/// same username and password keep their first place. `None` when no rule matches.
#[must_use]
pub fn mirrored_credentials<'a>(
    keyring: &'a Keyring,
    rules: &[MirrorRule],
    repository: &str,
) -> Option<Vec<(String, &'a Credential)>> {
    let (_, images) = mirror_images(rules, repository)?;
    let mut out: Vec<(String, &Credential)> = Vec::new();
    for image in images.iter().map(String::as_str).chain(std::iter::once(repository)) {
        for credential in keyring.lookup(image) {
            let auth = credential.auth();
            if !out.iter().any(|(_, c)| same_login(&c.auth(), &auth)) {
                out.push((image.to_owned(), credential));
            }
        }
    }
    Some(out)
}

fn same_login(a: &AuthEntry, b: &AuthEntry) -> bool {
    a.username == b.username && a.password == b.password
}

/// The `auth` entries and `cacheKeyType` pullkey answers for `repository`, mirrors considered
/// (docs/mirrors.md §2 step 4).
#[must_use]
pub fn response_with_mirrors(
    keyring: &Keyring,
    rules: &[MirrorRule],
    repository: &str,
    policy: CachePolicy,
) -> (CacheKeyType, Vec<(String, AuthEntry)>) {
    if let Some(list) = mirrored_credentials(keyring, rules, repository) {
        // `Image`: the ladder's keys all match `repository` and sort in the list's order.
        let keys = ladder(repository, list.len());
        let entries = keys.into_iter().zip(list).map(|(k, (_, c))| (k, c.auth())).collect();
        return (CacheKeyType::Image, entries);
    }
    // A `Global` answer would also serve mirrored images: never while mirrors are configured.
    let policy = if !rules.is_empty() && policy == CachePolicy::Global {
        CachePolicy::Registry
    } else {
        policy
    };
    let auth = keyring.response_auth(repository, policy);
    (auth.cache_key_type, auth.entries)
}

/// `exec_respond` with mirrors: answers one kubelet `CredentialProviderRequest` (stdin bytes).
pub fn exec_respond_mirrored(
    keyring: &Keyring,
    request: &[u8],
    policy: CachePolicy,
    cache_duration_secs: u64,
    rules: &[MirrorRule],
) -> Result<Vec<u8>, CoreError> {
    let request = exec::decode_request(request)?;
    let repository = super::repository_of(&request.image)?;
    let (cache_key_type, auth) = response_with_mirrors(keyring, rules, &repository, policy);
    let entries: Vec<(String, &AuthEntry)> = auth.iter().map(|(k, a)| (k.clone(), a)).collect();
    Ok(exec::encode_response(
        request.api_version,
        cache_key_type,
        cache_duration_secs,
        &entries,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_provider_config;
    use crate::keyring::BasicKeyring;

    fn keyring(entries: &[(&str, &str)]) -> Keyring {
        let mut g = BasicKeyring::new();
        for (key, user) in entries {
            let auth = AuthEntry {
                username: (*user).to_owned(),
                password: format!("pw-{user}"),
                ..AuthEntry::default()
            };
            assert!(g.add(key, auth, "test"));
        }
        Keyring { groups: vec![g] }
    }

    fn rules() -> Vec<MirrorRule> {
        let cfg = parse_provider_config(
            b"apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\nmirrors:\n- registry: docker.io\n  endpoints: [m.corp:5000/hub, m2.corp]\n- registry: '*.corp.example'\n  endpoints: [cache.example]\n",
            "c.yaml",
        )
        .unwrap();
        cfg.mirrors
    }

    #[test]
    fn mirror_names_keep_the_path_and_the_prefix() {
        let (i, names) = mirror_images(&rules(), "docker.io/library/nginx").unwrap();
        assert_eq!(i, 0);
        assert_eq!(names, ["m.corp:5000/hub/library/nginx", "m2.corp/library/nginx"]);
        assert_eq!(mirror_images(&rules(), "a.corp.example/x").unwrap().0, 1);
        assert!(
            mirror_images(&rules(), "corp.example/x").is_none(),
            "a glob label matches one label"
        );
        assert!(mirror_images(&rules(), "quay.io/x").is_none());
    }

    #[test]
    fn mirror_credentials_come_first_once_each() {
        let k = keyring(&[
            ("docker.io", "hub"),
            ("m2.corp", "m2"),
            ("m.corp:5000/hub", "m1"),
            ("*.corp", "hub"),
        ]);
        let list = mirrored_credentials(&k, &rules(), "docker.io/library/nginx").unwrap();
        let users: Vec<_> = list.iter().map(|(_, c)| c.auth().username).collect();
        // m2.corp matches both the m2 key and the `*.corp` glob (whose login equals docker.io's).
        assert_eq!(users, ["m1", "m2", "hub"]);
        let (cache, entries) = response_with_mirrors(&k, &rules(), "docker.io/library/nginx", CachePolicy::Global);
        assert_eq!(cache, CacheKeyType::Image);
        let mut keys: Vec<_> = entries.iter().map(|(k, a)| (k.clone(), a.username.clone())).collect();
        keys.sort_by(|a, b| b.0.cmp(&a.0)); // the kubelet's index order, docs/kubelet.md §c.1.6
        let users: Vec<_> = keys.into_iter().map(|(_, u)| u).collect();
        assert_eq!(users, ["m1", "m2", "hub"]);
    }

    #[test]
    fn global_is_never_answered_while_mirrors_are_configured() {
        let k = keyring(&[("quay.io", "q")]);
        let (cache, _) = response_with_mirrors(&k, &rules(), "quay.io/x", CachePolicy::Global);
        assert_eq!(cache, CacheKeyType::Registry);
        let (cache, _) = response_with_mirrors(&k, &[], "quay.io/x", CachePolicy::Global);
        assert_eq!(cache, CacheKeyType::Global);
    }

    #[test]
    fn config_errors_name_the_field() {
        for (doc, path) in [
            ("- registry: docker.io\n", "mirrors[0].endpoints"),
            (
                "- registry: docker.io\n  endpoints: [a, 'http://b']\n",
                "mirrors[0].endpoints[1]",
            ),
            ("- registry: 'docker.io/x'\n  endpoints: [a]\n", "mirrors[0].registry"),
            ("- {registry: a, endpoints: [b], x: 1}\n", "mirrors[0].x"),
        ] {
            let text = format!("apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\nmirrors:\n{doc}");
            let err = parse_provider_config(text.as_bytes(), "c.yaml").unwrap_err();
            assert_eq!(err.path, path, "{doc}");
        }
    }
}
