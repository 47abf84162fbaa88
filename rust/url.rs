//! The subset of Go's `net/url.Parse` the kubelet applies to keys and patterns (CONTRACT STUB).
//! Spec: ../shared/spec/kubelet.md §c.1, §c.2. Owner: keyring helper.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoUrl {
    pub scheme: String,
    /// Host with its `:port`, as written (not lower-cased); brackets of IPv6 hosts kept.
    pub host: String,
    /// The percent-decoded path.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    pub input: String,
    pub reason: String,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parse {:?}: {}", self.input, self.reason)
    }
}
impl std::error::Error for UrlError {}

/// Go `url.Parse(raw)`.
pub fn parse(_raw: &str) -> Result<GoUrl, UrlError> {
    todo!()
}

/// The kubelet's `ParseSchemelessURL`: `url.Parse("https://" + s)` with the scheme cleared.
pub fn parse_schemeless(_s: &str) -> Result<GoUrl, UrlError> {
    todo!()
}

/// Go `net.SplitHostPort` falling back to (whole host, "") on error, as `URLsMatch` does.
pub fn split_host_port(_host: &str) -> (&str, &str) {
    todo!()
}
