//! The reference grammar (docs/reference.md §1) as single left-to-right scans over bytes, and the raw `Parse`.

use super::{Reference, ReferenceError, ReferenceErrorKind, REPOSITORY_NAME_MAX_LEN, TAG_MAX_LEN};

/// `s` split around the first `delimiter` (an ASCII byte, so both sides are whole characters).
pub(super) fn split_once_byte(s: &str, delimiter: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|c| c == delimiter)?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// `s` split before the first byte that `is_delimiter` accepts (an ASCII byte: a char boundary);
/// the second part starts with that delimiter, or is "" when there is none.
pub(super) fn split_before(s: &str, is_delimiter: impl Fn(u8) -> bool) -> (&str, &str) {
    let at = s.bytes().position(is_delimiter).unwrap_or(s.len());
    s.split_at_checked(at).unwrap_or((s, ""))
}

/// `bytes.iter().all(pred)` without the early exit, so that the compiler can vectorise it: digests
/// are long (64-128 hex digits) and almost always valid, so the whole run is read anyway.
pub(super) fn all_bytes(bytes: &[u8], pred: impl Fn(u8) -> bool) -> bool {
    bytes.iter().fold(true, |ok, &c| ok & pred(c))
}

/// `[0-9a-f]`
pub(super) fn is_lower_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
}

/// `[a-z0-9]`
fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Go's ASCII `\w`: `[0-9A-Za-z_]`.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Byte classes of the grammar, one bit each, looked up in [`CLASSES`] (one load per byte in the
/// hot scans instead of a chain of range tests).
const LOWER_ALNUM: u8 = 1; // [a-z0-9]
const TAG_CHAR: u8 = 2; // [\w.-]

/// [`LOWER_ALNUM`] and [`TAG_CHAR`] of every byte (non-ASCII bytes are in no class).
static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c: u8 = 0;
    loop {
        let mut class = 0;
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            class |= LOWER_ALNUM;
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-' {
            class |= TAG_CHAR;
        }
        table[c as usize] = class;
        if c == u8::MAX {
            break table;
        }
        c += 1;
    }
};

/// Whether byte `c` is in `class` (a bit of [`CLASSES`]).
fn in_class(c: u8, class: u8) -> bool {
    CLASSES[usize::from(c)] & class != 0
}

/// `path = component { "/" component }` (regexp.go `remoteName`), where
/// `component = alnum { separator alnum }`, `alnum = [a-z0-9]+`, `separator = "." | "_" | "__" | -+`,
/// matched at the start of `b`: the length of the path, or `None` when `b` does not start with one
/// that ends cleanly (a separator or `/` with no alphanumeric after it).
///
/// One scan: a `/` behaves like a separator (an alphanumeric run must follow it), so the whole
/// path is "runs joined by single separators or `/`", starting and ending with a run. The scan
/// stops at the first byte that cannot continue the path; the caller decides whether that byte
/// may follow a path. The path holds no `:` or `@`, so this is the same as checking the text
/// before the first `:`/`@` as a whole.
fn scan_path(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        // One alphanumeric run, at least one byte.
        let start = i;
        while b.get(i).is_some_and(|&c| in_class(c, LOWER_ALNUM)) {
            i += 1;
        }
        if i == start {
            return None;
        }
        // Then exactly one separator (or `/`) followed by another run, or the end of the path.
        match b.get(i) {
            Some(b'/' | b'.') => i += 1,
            Some(b'_') => i += if b.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            Some(b'-') => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return Some(i),
        }
    }
}

/// `domainName = label {"." label}`, `label = [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]`
/// (uppercase allowed, no length cap), matched at the start of `b` in one scan: its length, or
/// `None` when `b` does not start with one that ends cleanly. The scan stops at the first byte
/// outside `[A-Za-z0-9.-]`, which the caller then checks (`:` of a port, or the end).
fn scan_domain_name(b: &[u8]) -> Option<usize> {
    let mut label_len = 0usize;
    let mut prev = b'.';
    let mut end = b.len();
    for (i, &c) in b.iter().enumerate() {
        match c {
            // A label ends: it must be non-empty and end with an alphanumeric.
            b'.' if label_len == 0 || prev == b'-' => return None,
            b'.' => label_len = 0,
            // A `-` never starts a label.
            b'-' if label_len == 0 => return None,
            c if c == b'-' || c.is_ascii_alphanumeric() => label_len += 1,
            _ => {
                end = i;
                break;
            }
        }
        prev = c;
    }
    // The last label: non-empty, ending with an alphanumeric.
    (label_len > 0 && prev != b'-').then_some(end)
}

/// `domain "/"` at the start of `b`, with `domain = host [":" port]` and
/// `host = domainName | "[" [A-Fa-f0-9:]+ "]"` (regexp.go `domainAndPort`): the length of the
/// domain when `b` starts with one followed by a `/`.
///
/// A domain holds no `/`, so this is the same as asking whether the text before the first `/` is a
/// `domainAndPort`; scanning the grammar directly just finds that `/` on the way.
fn scan_domain_then_slash(b: &[u8]) -> Option<usize> {
    let host_end = if b.first() == Some(&b'[') {
        // ipv6address = `\[(?:[a-fA-F0-9:]+)\]`: no `]` inside, so the host ends at the first `]`.
        let inner_len = b.get(1..)?.iter().position(|&c| c == b']')?;
        let inner = b.get(1..=inner_len)?;
        if inner.is_empty() || !inner.iter().all(|&c| c.is_ascii_hexdigit() || c == b':') {
            return None;
        }
        inner_len + 2
    } else {
        scan_domain_name(b)?
    };
    // optionalPort = `(:[0-9]+)?`
    let end = if b.get(host_end) == Some(&b':') {
        let digits = b.get(host_end + 1..)?.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        host_end + 1 + digits
    } else {
        host_end
    };
    (b.get(end) == Some(&b'/')).then_some(end)
}

/// `tag = [\w][\w.-]{0,127}` (ASCII `\w`) at the start of `b`: its length, or `None` when `b`
/// does not start with a tag or the tag run is longer than [`TAG_MAX_LEN`]. The tag holds no `@`,
/// so the run ends at the `@` of a digest (or at a byte the caller then rejects).
fn scan_tag(b: &[u8]) -> Option<usize> {
    if !is_word(*b.first()?) {
        return None;
    }
    let len = b.iter().position(|&c| !in_class(c, TAG_CHAR)).unwrap_or(b.len());
    (len <= TAG_MAX_LEN).then_some(len)
}

/// Digest at the reference level (regexp.go `digestPat`):
/// `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[[:xdigit:]]{32,}`.
fn is_reference_digest(d: &[u8]) -> bool {
    let Some(colon) = d.iter().position(|&c| c == b':') else {
        return false;
    };
    let (algorithm, hex) = d.split_at(colon);
    let hex = hex.get(1..).unwrap_or_default();
    let component_ok = |c: &[u8]| match c.split_first() {
        Some((first, rest)) => first.is_ascii_alphabetic() && rest.iter().all(u8::is_ascii_alphanumeric),
        None => false,
    };
    hex.len() >= 32
        && all_bytes(hex, |c| c.is_ascii_hexdigit())
        && algorithm
            .split(|c| matches!(c, b'-' | b'_' | b'+' | b'.'))
            .all(component_ok)
}

/// go-digest v1.0.0 `Digest.Validate` (docs/reference.md §5), with sha256, sha384 and sha512 available (what a
/// real binary that links TLS registers). Returns the go-digest error class.
pub(super) fn validate_digest(d: &str) -> Result<(), ReferenceErrorKind> {
    // `i := strings.Index(s, ":"); if i <= 0 || i+1 == len(s)` → ErrDigestInvalidFormat.
    let Some((algorithm, encoded)) = split_once_byte(d, b':') else {
        return Err(ReferenceErrorKind::DigestInvalidFormat);
    };
    if algorithm.is_empty() || encoded.is_empty() {
        return Err(ReferenceErrorKind::DigestInvalidFormat);
    }
    let hex_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        // Not available: Unsupported only if the whole string matches go-digest's DigestRegexp.
        _ if is_go_digest_syntax(algorithm, encoded) => return Err(ReferenceErrorKind::DigestUnsupported),
        _ => return Err(ReferenceErrorKind::DigestInvalidFormat),
    };
    // Algorithm.Validate: length first, then the lowercase-hex pattern.
    if encoded.len() != hex_len {
        return Err(ReferenceErrorKind::DigestInvalidLength);
    }
    if !all_bytes(encoded.as_bytes(), is_lower_hex) {
        return Err(ReferenceErrorKind::DigestInvalidFormat);
    }
    Ok(())
}

/// go-digest `DigestRegexpAnchored`: `^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`, given the
/// text split at the first `:` (neither side of the pattern can hold a `:`).
fn is_go_digest_syntax(algorithm: &str, encoded: &str) -> bool {
    let alg_ok = algorithm
        .as_bytes()
        .split(|c| matches!(c, b'.' | b'+' | b'_' | b'-'))
        .all(|part| !part.is_empty() && part.iter().copied().all(is_lower_alnum));
    let enc_ok = !encoded.is_empty()
        && encoded
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'=' | b'_' | b'-'));
    alg_ok && enc_ok
}

/// `path [":" tag] ["@" digest]`, anchored at both ends: (end of the path, end of the tag), with
/// the tag end equal to the path end when there is no tag; a digest, if any, is the rest after
/// the byte at the tag end. The path cannot hold `:` or `@` and the tag cannot hold `@`, so each
/// part ends at the first delimiter: there is nothing to choose.
fn match_remainder(b: &[u8]) -> Option<(usize, usize)> {
    let path_end = scan_path(b)?;
    let tag_end = match b.get(path_end) {
        None | Some(b'@') => path_end,
        Some(b':') => path_end + 1 + scan_tag(b.get(path_end + 1..)?)?,
        Some(_) => return None,
    };
    match b.get(tag_end) {
        None => Some((path_end, tag_end)),
        Some(b'@') if is_reference_digest(b.get(tag_end + 1..)?) => Some((path_end, tag_end)),
        Some(_) => None,
    }
}

/// Full match of `ReferenceRegexp`, plus the domain/path split of `anchoredNameRegexp`: where the
/// parts end in `s` (see [`Reference`] for the layout).
///
/// NOTE: the regexp's optional `(domain "/")` is tried first (leftmost-first). A domain holds no
/// `/`, so a domain, when there is one, is exactly the text before the first `/`: it is taken iff
/// that text is a `domainAndPort` AND the rest matches `path[:tag][@digest]` to the end. Otherwise
/// the whole input must match without a domain (and the name re-split then finds no domain either:
/// had it found one, the first alternative would have matched). E.g. `foo/bar` → domain `foo`;
/// `a:b/c` → no domain (`b` is no port) and `b/c` is no tag → no match.
fn match_reference(s: &str) -> Option<Spans> {
    let b = s.as_bytes();
    if let Some(slash) = scan_domain_then_slash(b) {
        if let Some((path_end, tag_end)) = match_remainder(b.get(slash + 1..)?) {
            return Some(Spans {
                domain_len: slash,
                path_end: slash + 1 + path_end,
                tag_end: slash + 1 + tag_end,
            });
        }
    }
    let (path_end, tag_end) = match_remainder(b)?;
    Some(Spans {
        domain_len: 0,
        path_end,
        tag_end,
    })
}

/// Go's `strings.ToLower(s)`, but only when the result could match the (ASCII-only) grammar.
///
/// NOTE: Go lowercases with Unicode simple case mappings. Exactly two non-ASCII characters map to
/// ASCII: U+212A KELVIN SIGN → `k` and U+0130 (I with dot above) → `i`; so `Parse("\u{212A}")`
/// is `ErrNameContainsUppercase` in Go. Any other non-ASCII character stays non-ASCII, the lowered
/// string cannot match, and `None` is returned.
fn go_lower_if_matchable(s: &str) -> Option<String> {
    s.chars()
        .map(|c| match c {
            '\u{212A}' => Some('k'),
            '\u{0130}' => Some('i'),
            c if c.is_ascii() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// `strings.ToLower(s) != s`: some character changes under (Unicode) lowercasing. The callers
/// scan ASCII text byte by byte and hand over to this at the first non-ASCII byte.
pub(super) fn has_upper_unicode(s: &str) -> bool {
    s.chars().any(|c| {
        if c.is_ascii() {
            c.is_ascii_uppercase()
        } else {
            // Rust's full mapping differs from Go's simple one only for U+0130, which changes either way.
            let mut lower = c.to_lowercase();
            !(lower.len() == 1 && lower.next() == Some(c))
        }
    })
}

/// Raw `Parse` (reference.go, docs/reference.md §2): no normalisation; the domain is whatever the regexp takes
/// (`foo/bar` → domain `foo`), possibly empty.
///
/// Errors: "" → `NameEmpty`; no match → `NameContainsUppercase` if lowercasing the whole input
/// makes it match, else `InvalidFormat`; path over 255 → `NameTooLong`; then go-digest's errors.
pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
    match parse_spans(s) {
        Ok(spans) => Ok(Reference::from_spans(s.to_owned(), spans)),
        Err(kind) => Err(ReferenceError::new(kind, s)),
    }
}

/// Where the parts of a matched reference end in its text (see [`Reference`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Spans {
    pub(super) domain_len: usize,
    pub(super) path_end: usize,
    pub(super) tag_end: usize,
}

/// [`parse`] without building anything: the offsets of the parts in `s`, or the error class.
pub(super) fn parse_spans(s: &str) -> Result<Spans, ReferenceErrorKind> {
    if s.is_empty() {
        return Err(ReferenceErrorKind::NameEmpty);
    }
    let Some(spans) = match_reference(s) else {
        return Err(match go_lower_if_matchable(s) {
            Some(lower) if lower != s && match_reference(&lower).is_some() => ReferenceErrorKind::NameContainsUppercase,
            _ => ReferenceErrorKind::InvalidFormat,
        });
    };
    // v0.6.0 (distribution/reference PR #9): only the path counts.
    let path_start = if spans.domain_len == 0 { 0 } else { spans.domain_len + 1 };
    if spans.path_end - path_start > REPOSITORY_NAME_MAX_LEN {
        return Err(ReferenceErrorKind::NameTooLong);
    }
    if let Some(digest) = s.get(spans.tag_end + 1..) {
        validate_digest(digest)?;
    }
    Ok(spans)
}

/// `anchoredIdentifierRegexp`: exactly 64 lowercase hex characters (a bare image ID).
pub fn is_identifier(s: &str) -> bool {
    s.len() == 64 && all_bytes(s.as_bytes(), is_lower_hex)
}
