//! The one error of the tenant module.

use std::fmt;

/// What went wrong with a service-account token or the issuer's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantErrorKind {
    /// Not a compact JWS (three base64url parts), or its header or claims are not JSON objects.
    Malformed,
    /// The header's `alg` is not one pullkey accepts (`none`, HMAC, unknown).
    Algorithm,
    /// No key of the JWKS has the token's `kid` (or fits its `alg`).
    UnknownKey,
    /// The signature does not verify with the issuer's key.
    Signature,
    /// `iss` differs from the configured issuer.
    Issuer,
    /// `aud` is not exactly the configured audience.
    Audience,
    /// `exp` is past (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// A claim pullkey needs is missing or mistyped (`exp`, `kubernetes.io` namespace, service account).
    Claims,
    /// The JWKS document is not a JWK set with at least one usable signing key.
    Jwks,
    /// No way to verify a token here (the gRPC service without `tenants.jwksPath`).
    Unverifiable,
}

impl TenantErrorKind {
    /// The stable machine-readable code (Python `TokenError.code`, the gRPC `pullkey-error-reason`).
    pub fn code(self) -> &'static str {
        match self {
            TenantErrorKind::Malformed => "token_malformed",
            TenantErrorKind::Algorithm => "token_algorithm",
            TenantErrorKind::UnknownKey => "token_unknown_key",
            TenantErrorKind::Signature => "token_signature",
            TenantErrorKind::Issuer => "token_issuer",
            TenantErrorKind::Audience => "token_audience",
            TenantErrorKind::Expired => "token_expired",
            TenantErrorKind::NotYetValid => "token_not_yet_valid",
            TenantErrorKind::Claims => "token_claims",
            TenantErrorKind::Jwks => "invalid_jwks",
            TenantErrorKind::Unverifiable => "token_unverifiable",
        }
    }
}

/// A token or JWKS failure: its kind and one line naming what is wrong (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantError {
    /// The class of failure.
    pub kind: TenantErrorKind,
    /// One line; may quote claim values (issuer, audience, namespace) but never the token.
    pub message: String,
}

impl TenantError {
    pub(crate) fn new(kind: TenantErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for TenantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TenantError {}
