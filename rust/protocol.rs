//! The kubelet exec credential-provider wire format (CONTRACT STUB).
//! Spec: ../shared/spec/kubelet.md §e.3, §e.4. Owner: protocol helper.

use crate::keyring::{AuthEntry, CacheKeyType};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    V1beta1,
    V1alpha1,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub api_version: ApiVersion,
    /// As sent (the kubelet sends the normalised repository).
    pub image: String,
    pub service_account_token: Option<String>,
    pub service_account_annotations: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    pub message: String,
}
impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for RequestError {}

/// Decode one request (JSON only; size limit, kind, apiVersion, image validated). Never echoes a token.
pub fn decode_request(_data: &[u8]) -> Result<Request, RequestError> {
    todo!()
}

/// Encode one response, exactly as the kubelet's strict decoder accepts it, newline-terminated.
pub fn encode_response(
    _api_version: ApiVersion,
    _cache_key_type: CacheKeyType,
    _cache_duration_secs: u64,
    _auth: &[(String, &AuthEntry)],
) -> Vec<u8> {
    todo!()
}
