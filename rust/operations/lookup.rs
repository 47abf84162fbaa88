//! Looking an image up, and answering a kubelet exec request.

use crate::credential::{AuthEntry, Credential};
use crate::exec;
use crate::keyring::{CachePolicy, Keyring};
use crate::reference;
use crate::CoreError;

/// Normalises `image` as the kubelet does before a lookup (docs/kubelet.md §a): the repository of
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
    let request = exec::decode_request(request)?;
    let repository = repository_of(&request.image)?;
    let auth = keyring.response_auth(&repository, policy);
    let entries: Vec<(String, &AuthEntry)> = auth.entries.iter().map(|(k, a)| (k.clone(), a)).collect();
    Ok(exec::encode_response(
        request.api_version,
        auth.cache_key_type,
        cache_duration_secs,
        &entries,
    ))
}
