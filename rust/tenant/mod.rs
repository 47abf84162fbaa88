//! Tenants: which credential set a pull gets, decided by the pulling pod's service account and proven
//! by its token (docs/kubelet.md §e.2 step 2, §e.4, §e.5; the config is `config::Tenants`).
//!
//! - [`jwks`]: the issuer's public keys, from the JWKS document the API server serves at
//!   `/openid/v1/jwks` (bytes passed in: the core reads no file).
//! - [`token`]: verifying a service-account token against those keys (signature with
//!   `jsonwebtoken`, RS256/384/512, PS256/384/512, ES256/384; `iss`, `aud`, `exp`, `nbf` checked here
//!   with [`LEEWAY_SECS`] against a time passed in) and reading its `kubernetes.io` claims into an
//!   [`Identity`].
//! - [`select`]: choosing the credential set of an identity, with the reason for every set.
//!
//! Every failure is a [`TenantError`] with a stable [`code`](TenantErrorKind::code); nothing here
//! panics on input, and no message quotes the token.

mod error;
pub mod jwks;
pub mod select;
pub mod token;

pub use error::{TenantError, TenantErrorKind};
pub use jwks::Jwks;
pub use select::{select_set, SetVerdict, TenantSelection};
pub use token::{read_unverified, Identity, TokenVerifier, LEEWAY_SECS, MAX_TOKEN_BYTES};

use crate::keyring::Keyring;

/// The keyring of a pull that a credential set applies to: the set's credentials first, then the node
/// sources' (docs/provider-config.md "Tenants": the tenant's own grant is tried before the shared
/// fallback; the kubelet stops at the first credential that pulls, docs/kubelet.md §0 step 4).
pub fn tenant_keyring(set: &Keyring, node: &Keyring) -> Keyring {
    Keyring {
        groups: set.groups.iter().chain(node.groups.iter()).cloned().collect(),
    }
}

#[cfg(test)]
mod tests;
