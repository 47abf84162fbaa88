//! Docker Hub normalisation: `ParseNormalizedNamed`, `ParseDockerRef`, `ParseNamed` (docs/reference.md §3).

use super::grammar::is_identifier;
use super::grammar::{has_upper_unicode, parse_spans, split_before, split_once_byte};
use super::{
    Reference, ReferenceError, ReferenceErrorKind, DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX,
};

/// `splitDockerDomain` of normalize.go (docs/reference.md §3 step 2), case-sensitive, without allocating:
/// (domain, prefix, rest) where the normalised remainder is `prefix + rest` and `prefix` is either
/// "" or [`OFFICIAL_REPO_PREFIX`].
fn split_docker_domain(s: &str) -> (&str, &'static str, &str) {
    let Some((first, rest)) = split_once_byte(s, b'/') else {
        // No `/` at all: a Docker Hub official image, before any host detection (Go's FIXME).
        return (DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX, s);
    };
    // The order of Go's switch matters: `index.docker.io` also contains a `.`.
    let (domain, remainder) = if first == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, rest)
    } else if first == "localhost" || looks_like_host(first) {
        (first, rest)
    } else {
        (DEFAULT_DOMAIN, s)
    };
    if domain == DEFAULT_DOMAIN && !remainder.bytes().any(|c| c == b'/') {
        (domain, OFFICIAL_REPO_PREFIX, remainder)
    } else {
        (domain, "", remainder)
    }
}

/// The host test of `splitDockerDomain` after `localhost`: the first segment holds a `.` or a `:`,
/// or is not all lowercase (`strings.ToLower(s) != s`). One pass over ASCII text.
fn looks_like_host(first: &str) -> bool {
    for c in first.bytes() {
        if c == b'.' || c == b':' || c.is_ascii_uppercase() {
            return true;
        }
        if !c.is_ascii() {
            return first.contains(['.', ':']) || has_upper_unicode(first);
        }
    }
    false
}

/// `strings.ToLower(r) != r` for `r` = `s` up to its first `:`, in one pass over ASCII text.
fn has_upper_before_colon(s: &str) -> bool {
    for c in s.bytes() {
        if c == b':' {
            return false;
        }
        if c.is_ascii_uppercase() {
            return true;
        }
        if !c.is_ascii() {
            return has_upper_unicode(before_colon(s));
        }
    }
    false
}

/// The text before the first `:` (all of `s` when there is none).
fn before_colon(s: &str) -> &str {
    split_before(s, |c| c == b':').0
}

/// The `X` of the "repository name (X) must be lowercase" error: the normalised remainder up to
/// its first `:` (the prefix holds no `:`).
pub(super) fn normalized_remote(s: &str) -> String {
    let (_, prefix, rest) = split_docker_domain(s);
    format!("{prefix}{}", before_colon(rest))
}

/// `ParseNormalizedNamed` (normalize.go, docs/reference.md §3): turn a familiar Docker name into a fully
/// qualified one, then validate it with [`parse`].
///
/// Steps: a bare 64-hex identifier is refused; `splitDockerDomain` picks the domain (`localhost`,
/// `index.docker.io` → `docker.io`, a first segment with `.`, `:` or an uppercase letter, else
/// `docker.io`, plus `library/` for single-segment Hub names); the remainder up to its first `:`
/// must be lowercase; finally `Parse(domain + "/" + remainder)` decides, so the domain is
/// re-derived by the grammar (`foo_bar.com/baz` ends up with domain "").
///
/// Behaviour and examples follow github.com/distribution/reference v0.6 (`normalize.go` and
/// `normalize_test.go`):
///
/// ```
/// use _core::reference::{parse_normalized_named, ReferenceErrorKind};
///
/// let r = parse_normalized_named("ubuntu").unwrap();
/// assert_eq!((r.domain(), r.path(), r.tag()), ("docker.io", "library/ubuntu", None));
/// assert_eq!(r.docker_ref().to_string(), "docker.io/library/ubuntu:latest");
/// assert_eq!(r.familiar_string(), "ubuntu");
///
/// // `host:port` is a port only when a `/` follows.
/// let r = parse_normalized_named("localhost:5000/foo/bar:v1").unwrap();
/// assert_eq!((r.domain(), r.path(), r.tag()), ("localhost:5000", "foo/bar", Some("v1")));
/// assert_eq!(parse_normalized_named("localhost:5000").unwrap().to_string(), "docker.io/library/localhost:5000");
///
/// let err = parse_normalized_named("Docker.io/Foo").unwrap_err();
/// assert_eq!(err.kind, ReferenceErrorKind::NormalizedNameNotLowercase);
/// assert_eq!(
///     err.to_string(),
///     r#"invalid reference "Docker.io/Foo": invalid reference format: repository name (Foo) must be lowercase"#
/// );
/// ```
pub fn parse_normalized_named(s: &str) -> Result<Reference, ReferenceError> {
    if is_identifier(s) {
        return Err(ReferenceError::new(ReferenceErrorKind::NormalizedNameIsIdentifier, s));
    }
    let (domain, prefix, rest) = split_docker_domain(s);
    // The one allocation of a successful parse: `Parse(domain + "/" + remainder)` keeps this text.
    let mut full = String::with_capacity(domain.len() + 1 + prefix.len() + rest.len());
    full.push_str(domain);
    full.push('/');
    full.push_str(prefix);
    full.push_str(rest);
    // NOTE: Go checks that `remote` (the remainder up to its first `:`) is lowercase BEFORE `Parse`.
    // Checking it only when `Parse` fails gives the same result: when `Parse` succeeds, `remote` is
    // the path (lowercase by the grammar), or the path plus `@` and a digest algorithm that
    // go-digest accepted (sha256/sha384/sha512, lowercase); a `:` in the domain part cannot be
    // in a successful no-domain parse (it would start a tag holding a `/`). So the lowercase error
    // wins over every `Parse` error, as in Go, and valid input is scanned once.
    match parse_spans(&full) {
        Ok(spans) => Ok(Reference::from_spans(full, spans)),
        // `remote` = (prefix + rest) up to its first `:`; the prefix is lowercase and holds no `:`.
        Err(_) if has_upper_before_colon(rest) => {
            Err(ReferenceError::new(ReferenceErrorKind::NormalizedNameNotLowercase, s))
        }
        // Errors name the caller's input, not the rebuilt string.
        Err(kind) => Err(ReferenceError::new(kind, s)),
    }
}

/// `ParseDockerRef` = `parse_normalized_named(s)?.docker_ref()` (docs/reference.md §3): the fully qualified
/// form, e.g. `busybox` → `docker.io/library/busybox:latest`.
pub fn parse_docker_ref(s: &str) -> Result<Reference, ReferenceError> {
    let r = parse_normalized_named(s)?;
    // Tagged or digested (not both): already in `ParseDockerRef` form.
    Ok(if r.tag().is_some() == r.digest().is_some() {
        r.docker_ref()
    } else {
        r
    })
}

/// `ParseNamed` (reference.go, docs/reference.md §3): [`parse_normalized_named`], then `NameNotCanonical`
/// unless the normalised `String()` equals the input (`docker.io/library/foo` is canonical, `foo` is not).
pub fn parse_named(s: &str) -> Result<Reference, ReferenceError> {
    let r = parse_normalized_named(s)?;
    if r.as_str() != s {
        return Err(ReferenceError::new(ReferenceErrorKind::NameNotCanonical, s));
    }
    Ok(r)
}
