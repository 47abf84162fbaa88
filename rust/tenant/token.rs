//! Service-account tokens: verification and the identity they carry.
//!
//! A kubelet-requested token (docs/kubelet.md §e.2 step 2) is a compact JWS signed by the cluster's
//! service-account issuer, audience `[tokenAttributes.serviceAccountTokenAudience]`, bound to the pod.
//! Its claims (kubernetes/kubernetes pkg/serviceaccount/claims.go (v1.34)): `iss`, `aud`, `exp`,
//! `iat`, `nbf`, `sub` (`system:serviceaccount:<namespace>:<name>`) and `kubernetes.io` with
//! `namespace`, `serviceaccount: {name, uid}`, `pod: {name, uid}` (and `node`, `warnafter`).
//!
//! Checks, in this order, each failing with its own [`TenantErrorKind`]:
//! 1. shape: three base64url parts, at most [`MAX_TOKEN_BYTES`]; the header a JSON object;
//! 2. `alg`: RS256/384/512, PS256/384/512, ES256 or ES384 (`none` and HMAC are refused: a public key
//!    is not a secret);
//! 3. key: the JWKS keys with the header's `kid` (every key when it has none) that fit `alg`;
//! 4. signature (`jsonwebtoken`), against each candidate key;
//! 5. `iss` equal to the configured issuer; `aud` exactly the configured audience (a string, or an
//!    array holding only it: a token minted for several audiences could be replayed by any of them);
//! 6. `exp` required and `now <= exp + leeway`; `nbf`, when present, `nbf - leeway <= now`;
//! 7. `kubernetes.io.namespace` and `kubernetes.io.serviceaccount.{name,uid}` present and non-empty,
//!    and `sub`, when present, equal to `system:serviceaccount:<namespace>:<name>`.

use super::error::{TenantError, TenantErrorKind};
use super::jwks::Jwks;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// Clock skew allowed on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 30;
/// Largest token accepted (the API server's are about 1 KiB).
pub const MAX_TOKEN_BYTES: usize = 64 << 10;

/// Who is pulling, as the token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `kubernetes.io.namespace`.
    pub namespace: String,
    /// `kubernetes.io.serviceaccount.name`.
    pub service_account: String,
    /// `kubernetes.io.serviceaccount.uid`.
    pub service_account_uid: String,
    /// `kubernetes.io.pod.name` (empty when the token is not bound to a pod).
    pub pod_name: String,
    /// `kubernetes.io.pod.uid` (empty when the token is not bound to a pod).
    pub pod_uid: String,
    /// `exp`, seconds since the Unix epoch.
    pub expires_at: i64,
    /// Whether the signature was verified (false only with `trustKubeletRequest`).
    pub verified: bool,
}

/// How tokens are checked: the audience, the issuer and the keys (or none: trust the kubelet).
#[derive(Debug)]
pub struct TokenVerifier {
    audience: String,
    issuer: Option<String>,
    /// `None`: the signature is not checked (`trustKubeletRequest` on the exec path).
    keys: Option<Jwks>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct ObjectRef {
    name: Option<String>,
    uid: Option<String>,
}

#[derive(Deserialize)]
struct KubernetesClaims {
    namespace: Option<String>,
    serviceaccount: Option<ObjectRef>,
    pod: Option<ObjectRef>,
}

/// The claims pullkey reads; every other claim is ignored.
#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<StringOrList>,
    exp: Option<Value>,
    nbf: Option<Value>,
    sub: Option<String>,
    #[serde(rename = "kubernetes.io")]
    kubernetes: Option<KubernetesClaims>,
}

fn err(kind: TenantErrorKind, message: impl Into<String>) -> TenantError {
    TenantError::new(kind, message)
}

/// A JSON `NumericDate` (seconds, possibly fractional) as whole seconds, rounded down.
fn numeric_date(value: &Value, claim: &str) -> Result<i64, TenantError> {
    #[allow(clippy::cast_possible_truncation)] // reason: checked to be within i64 range first
    let secs = value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && f.abs() < 9.0e18)
            .map(|f| f.floor() as i64)
    });
    secs.ok_or_else(|| err(TenantErrorKind::Claims, format!("claim {claim} is not a NumericDate")))
}

/// The decoded header's `alg` and `kid`, with precise errors (the crate's `Header` refuses unknown
/// algorithms as a JSON error).
fn header(token: &str) -> Result<(Algorithm, Option<String>), TenantError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(err(TenantErrorKind::Malformed, "token larger than 64 KiB"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(err(
            TenantErrorKind::Malformed,
            format!(
                "not a JWT: expected 3 non-empty dot-separated parts, got {}",
                parts.len()
            ),
        ));
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[0])
        .map_err(|_| err(TenantErrorKind::Malformed, "not a JWT: the header is not base64url"))?;
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&raw) else {
        return Err(err(
            TenantErrorKind::Malformed,
            "not a JWT: the header is not a JSON object",
        ));
    };
    let alg = match object.get("alg") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(err(TenantErrorKind::Malformed, "not a JWT: the header has no alg")),
    };
    let alg = match alg {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        other => {
            let shown: String = other.chars().take(16).collect();
            return Err(err(
                TenantErrorKind::Algorithm,
                format!("algorithm {shown:?} is not accepted (RS256/384/512, PS256/384/512, ES256, ES384 are)"),
            ));
        }
    };
    let kid = match object.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(err(TenantErrorKind::Malformed, "not a JWT: kid is not a string")),
    };
    Ok((alg, kid))
}

fn crate_error(e: &jsonwebtoken::errors::Error) -> TenantError {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidSignature | ErrorKind::Crypto(_) => err(
            TenantErrorKind::Signature,
            "the signature does not verify with the issuer's key",
        ),
        ErrorKind::InvalidAlgorithm => err(TenantErrorKind::Algorithm, "the algorithm does not fit the key"),
        ErrorKind::Json(_) => err(
            TenantErrorKind::Claims,
            "the claims are not a JSON object of the expected types",
        ),
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidToken => {
            err(TenantErrorKind::Malformed, "not a JWT: a part is not base64url JSON")
        }
        _ => err(TenantErrorKind::Malformed, "the token cannot be decoded"),
    }
}

/// A `Validation` that checks the signature only: claims are checked by [`check_claims`] against the
/// time passed in (the crate would read the system clock).
fn signature_only(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation
}

impl TokenVerifier {
    /// Verifies signatures with `keys`; `iss` must equal `issuer` when given.
    pub fn new(audience: &str, issuer: Option<&str>, keys: Jwks) -> Self {
        Self {
            audience: audience.to_owned(),
            issuer: issuer.map(str::to_owned),
            keys: Some(keys),
        }
    }

    /// Trusts the signature (`trustKubeletRequest`: the kubelet just got the token from the API server);
    /// every claim is still checked.
    pub fn trusting(audience: &str, issuer: Option<&str>) -> Self {
        Self {
            audience: audience.to_owned(),
            issuer: issuer.map(str::to_owned),
            keys: None,
        }
    }

    /// Whether signatures are checked.
    pub fn verifies_signatures(&self) -> bool {
        self.keys.is_some()
    }

    /// The configured audience.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Checks `token` at `now` (seconds since the Unix epoch) and returns its identity.
    pub fn verify(&self, token: &str, now: i64) -> Result<Identity, TenantError> {
        let (alg, kid) = header(token)?;
        let claims = match &self.keys {
            None => {
                let mut validation = signature_only(alg);
                validation.insecure_disable_signature_validation();
                jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&[]), &validation)
                    .map_err(|e| crate_error(&e))?
                    .claims
            }
            Some(jwks) => {
                let candidates: Vec<_> = jwks
                    .keys
                    .iter()
                    .filter(|k| kid.is_none() || k.kid == kid)
                    .filter(|k| k.family.verifies(alg) && k.alg.map_or(true, |a| a == alg))
                    .collect();
                if candidates.is_empty() {
                    return Err(err(
                        TenantErrorKind::UnknownKey,
                        match &kid {
                            Some(kid) => format!("no key of the issuer's JWKS has kid {kid:?} and algorithm {alg:?}"),
                            None => format!("no key of the issuer's JWKS verifies {alg:?}"),
                        },
                    ));
                }
                let validation = signature_only(alg);
                let mut last = None;
                let mut verified = None;
                for key in candidates {
                    match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                        Ok(data) => {
                            verified = Some(data.claims);
                            break;
                        }
                        Err(e) => last = Some(crate_error(&e)),
                    }
                }
                match verified {
                    Some(claims) => claims,
                    None => {
                        return Err(
                            last.unwrap_or_else(|| err(TenantErrorKind::Signature, "the signature does not verify"))
                        )
                    }
                }
            }
        };
        self.check_claims(claims, now)
    }

    fn check_claims(&self, claims: Claims, now: i64) -> Result<Identity, TenantError> {
        let leeway = i64::try_from(LEEWAY_SECS).unwrap_or(0);
        if let Some(issuer) = &self.issuer {
            match &claims.iss {
                Some(iss) if iss == issuer => {}
                Some(iss) => {
                    return Err(err(
                        TenantErrorKind::Issuer,
                        format!("issuer {iss:?} is not the configured issuer {issuer:?}"),
                    ))
                }
                None => return Err(err(TenantErrorKind::Issuer, "the token has no iss claim")),
            }
        }
        match &claims.aud {
            Some(StringOrList::One(a)) if *a == self.audience => {}
            Some(StringOrList::Many(list)) if list.len() == 1 && list[0] == self.audience => {}
            Some(StringOrList::One(a)) => {
                return Err(err(
                    TenantErrorKind::Audience,
                    format!("audience {a:?} is not the configured audience {:?}", self.audience),
                ))
            }
            Some(StringOrList::Many(list)) => {
                return Err(err(
                    TenantErrorKind::Audience,
                    format!(
                        "audiences {list:?} are not exactly the configured audience {:?}",
                        self.audience
                    ),
                ))
            }
            None => return Err(err(TenantErrorKind::Audience, "the token has no aud claim")),
        }
        let exp = match &claims.exp {
            Some(v) => numeric_date(v, "exp")?,
            None => return Err(err(TenantErrorKind::Claims, "the token has no exp claim")),
        };
        if now > exp.saturating_add(leeway) {
            return Err(err(
                TenantErrorKind::Expired,
                format!("expired {} s ago (leeway {LEEWAY_SECS} s)", now.saturating_sub(exp)),
            ));
        }
        if let Some(v) = &claims.nbf {
            let nbf = numeric_date(v, "nbf")?;
            if nbf.saturating_sub(leeway) > now {
                return Err(err(
                    TenantErrorKind::NotYetValid,
                    format!(
                        "not valid for another {} s (leeway {LEEWAY_SECS} s)",
                        nbf.saturating_sub(now)
                    ),
                ));
            }
        }
        let missing = |what: &str| {
            err(
                TenantErrorKind::Claims,
                format!("the token has no kubernetes.io {what}"),
            )
        };
        let k8s = claims.kubernetes.ok_or_else(|| missing("claims"))?;
        let namespace = k8s
            .namespace
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("namespace"))?;
        let sa = k8s.serviceaccount.ok_or_else(|| missing("serviceaccount"))?;
        let service_account = sa
            .name
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("serviceaccount.name"))?;
        let service_account_uid = sa
            .uid
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("serviceaccount.uid"))?;
        if let Some(sub) = &claims.sub {
            let expected = format!("system:serviceaccount:{namespace}:{service_account}");
            if *sub != expected {
                return Err(err(
                    TenantErrorKind::Claims,
                    format!("sub {sub:?} does not name the service account {namespace}/{service_account}"),
                ));
            }
        }
        let (pod_name, pod_uid) = k8s
            .pod
            .map(|p| (p.name.unwrap_or_default(), p.uid.unwrap_or_default()))
            .unwrap_or_default();
        Ok(Identity {
            namespace,
            service_account,
            service_account_uid,
            pod_name,
            pod_uid,
            expires_at: exp,
            verified: self.keys.is_some(),
        })
    }
}

/// Reads a token's identity without checking anything but its shape (for `explain` of a token that
/// failed verification: whose token it claims to be). Never use the result to choose credentials.
pub fn read_unverified(token: &str) -> Result<(String, String), TenantError> {
    let (alg, _) = header(token)?;
    let mut validation = signature_only(alg);
    validation.insecure_disable_signature_validation();
    let claims = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&[]), &validation)
        .map_err(|e| crate_error(&e))?
        .claims;
    let k8s = claims
        .kubernetes
        .ok_or_else(|| err(TenantErrorKind::Claims, "no kubernetes.io claims"))?;
    Ok((
        k8s.namespace.unwrap_or_default(),
        k8s.serviceaccount.and_then(|s| s.name).unwrap_or_default(),
    ))
}
