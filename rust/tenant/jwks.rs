//! The service-account issuer's public keys: a JWK set (RFC 7517) as the API server serves it at
//! `/openid/v1/jwks` (`kubectl get --raw /openid/v1/jwks`). Each key is read on its own: a key of a
//! type pullkey cannot use (an HMAC secret, `OKP`, a curve other than P-256/P-384, `use: enc`) is
//! skipped with a warning, and only a set without any usable key is an error.

use super::error::{TenantError, TenantErrorKind};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// Largest JWKS document accepted (the API server's has a handful of keys, a few KiB).
pub const MAX_JWKS_BYTES: usize = 1 << 20;

/// The family of a key, which decides the algorithms it verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyFamily {
    /// RS256/384/512 and PS256/384/512.
    Rsa,
    /// ES256.
    P256,
    /// ES384.
    P384,
}

impl KeyFamily {
    pub(super) fn verifies(self, alg: Algorithm) -> bool {
        match self {
            KeyFamily::Rsa => matches!(
                alg,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ),
            KeyFamily::P256 => alg == Algorithm::ES256,
            KeyFamily::P384 => alg == Algorithm::ES384,
        }
    }
}

/// One usable public key.
pub(super) struct PublicKey {
    pub(super) kid: Option<String>,
    /// The key's own `alg`, when the JWK states one: only that algorithm then verifies with it.
    pub(super) alg: Option<Algorithm>,
    pub(super) family: KeyFamily,
    pub(super) key: DecodingKey,
}

/// The usable keys of a JWK set, and what was skipped.
pub struct Jwks {
    pub(super) keys: Vec<PublicKey>,
    /// One line per skipped key (index, `kid`, why).
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("kids", &self.kids())
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

fn key_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        _ => return None,
    })
}

fn usable(jwk: &Jwk) -> Result<PublicKey, String> {
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return Err("not a signing key (use is not \"sig\")".to_owned());
    }
    let family = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => KeyFamily::Rsa,
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => KeyFamily::P256,
            EllipticCurve::P384 => KeyFamily::P384,
            _ => return Err("unsupported curve (P-256 and P-384 are)".to_owned()),
        },
        AlgorithmParameters::OctetKey(_) => return Err("a symmetric key cannot verify a token".to_owned()),
        AlgorithmParameters::OctetKeyPair(_) => return Err("unsupported key type OKP".to_owned()),
    };
    let alg = match jwk.common.key_algorithm {
        None => None,
        Some(a) => match key_algorithm(a) {
            Some(alg) if family.verifies(alg) => Some(alg),
            _ => return Err(format!("algorithm {a:?} does not fit the key")),
        },
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("unusable key material ({e})"))?;
    Ok(PublicKey {
        kid: jwk.common.key_id.clone(),
        alg,
        family,
        key,
    })
}

impl Jwks {
    /// Parses a JWK set document: a JSON object with a `keys` array. Keys that cannot verify a token
    /// are skipped (see [`Jwks::warnings`]); a document without any usable key is an error
    /// (`invalid_jwks`). `name` (a path) prefixes the messages.
    pub fn parse(data: &[u8], name: &str) -> Result<Jwks, TenantError> {
        let fail = |m: String| TenantError::new(TenantErrorKind::Jwks, format!("{name}: {m}"));
        if data.len() > MAX_JWKS_BYTES {
            return Err(fail("JWKS larger than 1 MiB".to_owned()));
        }
        let document: Value =
            serde_json::from_slice(data).map_err(|e| fail(format!("not a JWK set: invalid JSON ({e})")))?;
        let Some(keys) = document.get("keys").and_then(Value::as_array) else {
            return Err(fail(
                "not a JWK set: expected an object with a \"keys\" array (as served at /openid/v1/jwks)".to_owned(),
            ));
        };
        let mut jwks = Jwks {
            keys: Vec::new(),
            warnings: Vec::new(),
        };
        for (i, raw) in keys.iter().enumerate() {
            let kid = raw.get("kid").and_then(Value::as_str).unwrap_or("");
            let result = serde_json::from_value::<Jwk>(raw.clone())
                .map_err(|e| format!("not a JWK ({e})"))
                .and_then(|jwk| usable(&jwk));
            match result {
                Ok(key) => jwks.keys.push(key),
                Err(why) => jwks
                    .warnings
                    .push(format!("{name}: keys[{i}] (kid {kid:?}) skipped: {why}")),
            }
        }
        if jwks.keys.is_empty() {
            return Err(fail(format!(
                "no usable signing key among {} key(s){}",
                keys.len(),
                jwks.warnings.first().map(|w| format!(": {w}")).unwrap_or_default()
            )));
        }
        Ok(jwks)
    }

    /// The `kid` of every usable key (empty for keys without one), in document order.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.kid.as_deref().unwrap_or("")).collect()
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no usable key (never true for a parsed set).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
