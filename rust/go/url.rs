//! The subset of Go's `net/url.Parse` the kubelet applies to registry keys and patterns.
//! Spec: docs/kubelet.md §c.1, §c.2.
//!
//! Behaviour followed (Go `net/url/url.go`, `net/net.go`):
//! - `#fragment` is cut first (its `%` escapes must still be valid); control bytes (< 0x20, 0x7f) in
//!   the part before it are an error.
//! - `?query` is cut and dropped, unvalidated.
//! - `//authority`: the last `@` ends the userinfo (dropped; it must only hold RFC 3986 userinfo
//!   characters and valid escapes); the host keeps its case.
//! - Host bytes: ASCII letters, digits, `-_.~!$&'()*+,;=:[]<>"`, any byte >= 0x80, and `%XX` escapes
//!   of bytes >= 0x80 or `%25`; escapes are decoded. Anything else is "invalid character in host".
//! - The port after the last `:` must be digits only (possibly empty): Go's `validOptionalPort`.
//! - A `[` is only allowed as the first host byte and then encloses an IPv6 address (an optional zone
//!   after `%25`) followed by `]` and an optional port (the CVE-2025-47912 / CVE-2026-25679 fixes).
//! - The path is percent-decoded; a bad escape is an error.
//!
//! NOTE: Go 1.26 added a stricter colon rule behind `GODEBUG=urlstrictcolons` (first colon starts the
//! port). Kubernetes pins older GODEBUG defaults through its `go.mod`, so the kubelet keeps the
//! last-colon rule, and so does this module: `validOptionalPort` on the text after the LAST colon.
//!
//! NOTE: decoded bytes that are not UTF-8 (e.g. `%FF`) are replaced with U+FFFD; such keys cannot
//! match a valid image reference either way.

use crate::credential::redact_with;
use crate::limits::Excerpt;
use std::borrow::Cow;
use std::fmt;

/// A parsed URL, the fields the kubelet reads (Go `url.URL` subset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoUrl {
    /// Lower-cased scheme (`https`), empty for `parse_schemeless`.
    pub scheme: String,
    /// Host with its `:port`, as written (not lower-cased); brackets of IPv6 hosts kept.
    pub host: String,
    /// The percent-decoded path.
    pub path: String,
}

/// Why Go's `url.Parse` rejects an input; `input` has any userinfo redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    /// The input, with a `user:password@` part replaced by `***@` (never shown to users verbatim).
    pub input: String,
    /// Go's error text, e.g. `invalid character " " in host name`.
    pub reason: String,
}

/// A piece of a URL as a message quotes it: credentials redacted, bounded.
fn shown(piece: &str) -> String {
    Excerpt::debug(&redact(piece)).to_string()
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parse {}: {}", Excerpt::debug(&self.input), self.reason)
    }
}
impl std::error::Error for UrlError {}

/// The host and path of a parsed URL, borrowed from the input when nothing needed decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlRef<'a> {
    pub(crate) scheme: Cow<'a, str>,
    pub(crate) host: Cow<'a, str>,
    pub(crate) path: Cow<'a, str>,
}

/// Go `url.Parse(raw)` (docs/kubelet.md §c.1 step 2).
///
/// ```
/// use _core::go::url::parse;
/// let u = parse("https://user:pw@Registry.io:5000/v2/team%2Fx?q=1#frag").unwrap();
/// assert_eq!((u.host.as_str(), u.path.as_str()), ("Registry.io:5000", "/v2/team/x"));
/// assert!(parse("https://bad host/").is_err());
/// ```
pub fn parse(raw: &str) -> Result<GoUrl, UrlError> {
    parse_ref(raw).map(|u| GoUrl {
        scheme: u.scheme.into_owned(),
        host: u.host.into_owned(),
        path: u.path.into_owned(),
    })
}

/// The kubelet's `ParseSchemelessURL`: `url.Parse("https://" + s)` with the scheme cleared (§c.2).
///
/// ```
/// use _core::go::url::parse_schemeless;
/// let u = parse_schemeless("registry?.io/x").unwrap();
/// assert_eq!((u.scheme.as_str(), u.host.as_str(), u.path.as_str()), ("", "registry", ""));
/// ```
pub fn parse_schemeless(s: &str) -> Result<GoUrl, UrlError> {
    parse_schemeless_ref(s).map(|u| GoUrl {
        scheme: String::new(),
        host: u.host.into_owned(),
        path: u.path.into_owned(),
    })
}

/// Go `net.SplitHostPort` falling back to (whole host, "") on error, as `URLsMatch` does (§c.2 step 1).
///
/// ```
/// use _core::go::url::split_host_port;
/// assert_eq!(split_host_port("quay.io:443"), ("quay.io", "443"));
/// assert_eq!(split_host_port("[::1]:5000"), ("::1", "5000"));
/// assert_eq!(split_host_port("[::1]"), ("[::1]", ""));
/// assert_eq!(split_host_port("a:b:c"), ("a:b:c", ""));
/// ```
pub fn split_host_port(host: &str) -> (&str, &str) {
    go_split_host_port(host).unwrap_or((host, ""))
}

/// Go `net.SplitHostPort` (net/ipsock.go).
fn go_split_host_port(hp: &str) -> Option<(&str, &str)> {
    let b = hp.as_bytes();
    let i = hp.rfind(':')?;
    let (host, j, k) = if b.first() == Some(&b'[') {
        let end = hp.find(']')?;
        if end + 1 != i {
            // `]` not followed by the last colon: missing port or too many colons.
            return None;
        }
        (hp.get(1..end)?, 1, end + 1)
    } else {
        let host = hp.get(..i)?;
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hp.get(j..)?.contains('[') || hp.get(k..)?.contains(']') {
        return None;
    }
    Some((host, hp.get(i + 1..)?))
}

/// `parse` returning borrowed parts.
pub(crate) fn parse_ref(raw: &str) -> Result<UrlRef<'_>, UrlError> {
    let err = |reason: String| UrlError {
        input: redact(raw),
        reason,
    };
    let (u, frag) = cut(raw, '#');
    let (scheme, rest) = get_scheme(u).map_err(|r| err(r.to_owned()))?;
    let parsed = parse_inner(u, scheme, rest).map_err(err)?;
    check_fragment(frag).map_err(err)?;
    Ok(parsed)
}

/// `parse_schemeless` returning borrowed parts (no allocation when nothing is escaped).
pub(crate) fn parse_schemeless_ref(s: &str) -> Result<UrlRef<'_>, UrlError> {
    let err = |reason: String| UrlError {
        input: redact(&format!("https://{s}")),
        reason,
    };
    let (u, frag) = cut(s, '#');
    // "https://" + u: the scheme is https and the rest starts with "//"; only `u` can hold control bytes.
    let parsed = parse_authority_and_path(u).map_err(err)?;
    check_fragment(frag).map_err(err)?;
    Ok(UrlRef {
        scheme: Cow::Borrowed(""),
        ..parsed
    })
}

fn check_fragment(frag: Option<&str>) -> Result<(), String> {
    match frag {
        Some(f) if !f.is_empty() => unescape(f, Mode::Fragment).map(|_| ()),
        _ => Ok(()),
    }
}

fn cut(s: &str, sep: char) -> (&str, Option<&str>) {
    match s.split_once(sep) {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    }
}

fn has_ctl(s: &str) -> bool {
    s.bytes().any(|b| b < b' ' || b == 0x7f)
}

/// Go `getScheme`: `[a-zA-Z][a-zA-Z0-9+-.]*:`.
fn get_scheme(raw: &str) -> Result<(&str, &str), &'static str> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme");
                }
                return Ok((raw.get(..i).unwrap_or(""), raw.get(i + 1..).unwrap_or("")));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

/// Go `parse(rawURL, viaRequest=false)` after the scheme split.
fn parse_inner<'a>(u: &'a str, scheme: &'a str, rest: &'a str) -> Result<UrlRef<'a>, String> {
    if has_ctl(u) {
        return Err("net/url: invalid control character in URL".to_owned());
    }
    let scheme_cow: Cow<'a, str> = if scheme.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(scheme.to_ascii_lowercase())
    } else {
        Cow::Borrowed(scheme)
    };
    if u == "*" {
        return Ok(UrlRef {
            scheme: scheme_cow,
            host: Cow::Borrowed(""),
            path: Cow::Borrowed("*"),
        });
    }
    // `?query` is cut (and a lone trailing `?` stripped): either way the query is dropped.
    let rest = cut(rest, '?').0;
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            // Opaque URL ("scheme:opaque"): no host, no path.
            return Ok(UrlRef {
                scheme: scheme_cow,
                host: Cow::Borrowed(""),
                path: Cow::Borrowed(""),
            });
        }
        if cut(rest, '/').0.contains(':') {
            return Err("first path segment in URL cannot contain colon".to_owned());
        }
    }
    if (!scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let parsed = parse_authority_and_path(rest.get(2..).unwrap_or(""))?;
        return Ok(UrlRef {
            scheme: scheme_cow,
            ..parsed
        });
    }
    let path = unescape(rest, Mode::Path)?;
    Ok(UrlRef {
        scheme: scheme_cow,
        host: Cow::Borrowed(""),
        path,
    })
}

/// `authority[/path][?query]` after `//` (fragment already cut).
fn parse_authority_and_path(s: &str) -> Result<UrlRef<'_>, String> {
    if has_ctl(s) {
        return Err("net/url: invalid control character in URL".to_owned());
    }
    let s = cut(s, '?').0;
    let (authority, path) = match s.find('/') {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i..).unwrap_or("")),
        None => (s, ""),
    };
    let host = parse_authority(authority)?;
    let path = unescape(path, Mode::Path)?;
    Ok(UrlRef {
        scheme: Cow::Borrowed(""),
        host,
        path,
    })
}

/// Go `parseAuthority`: the host after the last `@`, then the userinfo is validated and dropped.
fn parse_authority(authority: &str) -> Result<Cow<'_, str>, String> {
    let at = authority.rfind('@');
    let host = match at {
        None => parse_host(authority)?,
        Some(i) => parse_host(authority.get(i + 1..).unwrap_or(""))?,
    };
    if let Some(i) = at {
        let userinfo = authority.get(..i).unwrap_or("");
        if !userinfo.chars().all(valid_userinfo_char) {
            return Err("net/url: invalid userinfo".to_owned());
        }
        for part in userinfo.splitn(2, ':') {
            unescape(part, Mode::UserPassword)?;
        }
    }
    Ok(host)
}

fn valid_userinfo_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.' | '_' | ':' | '~' | '!' | '$' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | ';' | '=' | '%' | '@'
        )
}

/// Go `validOptionalPort`: empty, or `:` followed by digits only.
fn valid_optional_port(port: &str) -> bool {
    match port.as_bytes().split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

/// Go `parseHost` (with the bracketed-host fixes of Go 1.24.8/1.25.2 and 1.25.8/1.26.1).
fn parse_host(host: &str) -> Result<Cow<'_, str>, String> {
    if let Some(open) = host.rfind('[') {
        if open > 0 {
            return Err("invalid IP-literal".to_owned());
        }
        let close = host.rfind(']').ok_or_else(|| "missing ']' in host".to_owned())?;
        let colon_port = host.get(close + 1..).unwrap_or("");
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", shown(colon_port)));
        }
        let hostname = host.get(1..close).unwrap_or("");
        let unescaped: Cow<'_, str> = match hostname.find("%25") {
            Some(z) => {
                let a = unescape(hostname.get(..z).unwrap_or(""), Mode::Host)?;
                let b = unescape(hostname.get(z..).unwrap_or(""), Mode::Zone)?;
                Cow::Owned(format!("{a}{b}"))
            }
            None => unescape(hostname, Mode::Host)?,
        };
        check_ipv6_literal(&unescaped)?;
        return Ok(match unescaped {
            Cow::Borrowed(_) => Cow::Borrowed(host),
            Cow::Owned(h) => Cow::Owned(format!("[{h}]{colon_port}")),
        });
    }
    if let Some(i) = host.rfind(':') {
        let colon_port = host.get(i..).unwrap_or("");
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", shown(colon_port)));
        }
    }
    unescape(host, Mode::Host)
}

/// Go `netip.ParseAddr` on a bracketed host, which must be IPv6 (optionally with a non-empty zone).
fn check_ipv6_literal(s: &str) -> Result<(), String> {
    let invalid = |why: &str| Err(format!("invalid host: ParseAddr({}): {why}", shown(s)));
    match s.find(['.', ':', '%']).and_then(|i| s.as_bytes().get(i)) {
        Some(b':') => {}
        // IPv4 is never allowed in brackets; anything else with a dot first is not an address at all.
        Some(b'.') if s.parse::<std::net::Ipv4Addr>().is_ok() => return Err("invalid IP-literal".to_owned()),
        Some(b'.') => return invalid("unexpected character"),
        Some(_) => return invalid("missing IPv6 address"),
        None => return invalid("unable to parse IP"),
    }
    let (addr, zone) = cut(s, '%');
    if zone == Some("") {
        return invalid("zone must be a non-empty string");
    }
    match addr.parse::<std::net::Ipv6Addr>() {
        Ok(_) => Ok(()),
        Err(_) => invalid("invalid IPv6 address"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

/// Go `shouldEscape`, for the modes used by `unescape`'s host checks and by `escape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => return false,
            Mode::Host | Mode::Zone => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Go `unescape` (no `+` handling: only query components decode `+`, and queries are dropped).
fn unescape(input: &str, mode: Mode) -> Result<Cow<'_, str>, String> {
    let bytes = input.as_bytes();
    let escape_error = |bad: &[u8]| format!("invalid URL escape {}", shown(&String::from_utf8_lossy(bad)));
    let mut escapes = 0usize;
    let mut pos = 0usize;
    while let Some(&byte) = bytes.get(pos) {
        if byte == b'%' {
            escapes += 1;
            let (hi, lo) = match (bytes.get(pos + 1), bytes.get(pos + 2)) {
                (Some(&hi), Some(&lo)) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => (hi, lo),
                _ => {
                    return Err(escape_error(
                        bytes.get(pos..bytes.len().min(pos + 3)).unwrap_or_default(),
                    ))
                }
            };
            let three = bytes.get(pos..pos + 3).unwrap_or_default();
            if mode == Mode::Host && unhex(hi) < 8 && three != b"%25" {
                return Err(escape_error(three));
            }
            if mode == Mode::Zone {
                let value = (unhex(hi) << 4) | unhex(lo);
                if three != b"%25" && value != b' ' && should_escape(value, Mode::Host) {
                    return Err(escape_error(three));
                }
            }
            pos += 3;
        } else {
            if matches!(mode, Mode::Host | Mode::Zone) && byte < 0x80 && should_escape(byte, mode) {
                return Err(format!(
                    "invalid character {:?} in host name",
                    char::from(byte).to_string()
                ));
            }
            pos += 1;
        }
    }
    if escapes == 0 {
        return Ok(Cow::Borrowed(input));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut pos = 0usize;
    while let Some(&byte) = bytes.get(pos) {
        if byte == b'%' {
            let hi = bytes.get(pos + 1).copied().unwrap_or(b'0');
            let lo = bytes.get(pos + 2).copied().unwrap_or(b'0');
            out.push((unhex(hi) << 4) | unhex(lo));
            pos += 3;
        } else {
            out.push(byte);
            pos += 1;
        }
    }
    Ok(Cow::Owned(match String::from_utf8(out) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

/// Go `escape(s, encodeHost)` / `escape(s, encodePath)`: the inverse of decoding, used to write keys
/// that the kubelet parses back to exactly `s`.
pub(crate) fn escape_host(s: &str) -> String {
    escape(s, Mode::Host)
}

/// See [`escape_host`].
pub(crate) fn escape_path(s: &str) -> String {
    escape(s, Mode::Path)
}

fn escape(s: &str, mode: Mode) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if should_escape(c, mode) {
            out.push('%');
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 15)]));
        } else {
            out.push(char::from(c));
        }
    }
    // Bytes >= 0x80 are always escaped, so `out` is ASCII.
    out
}

/// Replace a `userinfo@` (and anything else before the last `@`, see
/// [`redact_userinfo`](crate::credential::redact_userinfo)) with `***@` so errors never show a password.
fn redact(raw: &str) -> String {
    redact_with(raw, "***").into_owned()
}

#[cfg(test)]
mod tests;
