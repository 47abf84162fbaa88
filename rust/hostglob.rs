//! The kubelet's registry pattern matching, `URLsMatchStr`, with the reason of a mismatch.
//! Spec: ../shared/spec/kubelet.md §c.2. Owner: keyring helper.
//!
//! kubelet `pkg/credentialprovider/keyring.go`: `URLsMatchStr(glob, target)` parses both as
//! schemeless URLs, splits the hosts with `net.SplitHostPort` (whole host and empty port on error),
//! then requires equal ports, equal label counts, the target path to start with the pattern path
//! (plain string prefix) and every pattern label to `filepath.Match` its target label.

use crate::url::{parse_schemeless_ref, split_host_port};
use std::fmt;

/// Why a pattern did not match a target (for `explain`). Display is a short human phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The pattern or the target does not parse as a schemeless URL.
    Unparseable {
        /// `"pattern"` or `"image"`.
        what: &'static str,
        /// Go's parse error (userinfo never included).
        reason: String,
    },
    /// The ports differ (string comparison; empty == no port).
    Port {
        /// The pattern's port (empty: none).
        pattern: String,
        /// The target's port (empty: none).
        target: String,
    },
    /// The hosts have different numbers of `.`-separated labels.
    LabelCount {
        /// Labels in the pattern host.
        pattern: usize,
        /// Labels in the target host.
        target: usize,
    },
    /// The target path does not start with the pattern path.
    PathPrefix {
        /// The pattern's path.
        pattern: String,
        /// The target's path.
        target: String,
    },
    /// Label `index` (0-based) of the pattern does not glob-match that of the target.
    Label {
        /// 0-based label position (Display shows it 1-based).
        index: usize,
        /// The pattern label.
        pattern: String,
        /// The target label.
        target: String,
    },
    /// A label of the pattern is not a valid `filepath.Match` pattern (`ErrBadPattern`).
    BadPattern {
        /// The malformed pattern label.
        label: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Unparseable { what, reason } => write!(f, "{what} does not parse: {reason}"),
            Mismatch::Port { pattern, target } => write!(f, "port {pattern:?} != {target:?}"),
            Mismatch::LabelCount { pattern, target } => {
                let s = if *pattern == 1 { "" } else { "s" };
                write!(f, "{pattern} label{s}, image has {target}")
            }
            Mismatch::PathPrefix { pattern, target } => write!(f, "path {pattern:?} is not a prefix of {target:?}"),
            Mismatch::Label { index, pattern, target } => {
                write!(f, "label {} {pattern:?} does not match {target:?}", index + 1)
            }
            Mismatch::BadPattern { label } => write!(f, "label {label:?} is not a valid glob"),
        }
    }
}

/// Go `path/filepath.Match` (Unix): `Err(())` for a malformed pattern (`ErrBadPattern`).
///
/// `*` matches any run of non-`/` characters, `?` one non-`/` character, `[...]` / `[^...]` a
/// character class with `lo-hi` ranges, `\` escapes the next character. Classes and `?` work on
/// runes (invalid UTF-8 is one U+FFFD per byte, as Go decodes it). Note: `[!...]` is NOT a negation
/// in Go, `!` is an ordinary member of the class.
///
/// ```
/// use _core::hostglob::filepath_match;
/// assert_eq!(filepath_match("app*", "app1"), Ok(true));
/// assert_eq!(filepath_match("[^a-c]x", "dx"), Ok(true));
/// assert_eq!(filepath_match("[", "a"), Err(()));
/// ```
#[allow(clippy::result_unit_err)]
pub fn filepath_match(pattern: &str, name: &str) -> Result<bool, ()> {
    match_bytes(pattern.as_bytes(), name.as_bytes())
}

const SEPARATOR: u8 = b'/';
const RUNE_ERROR: u32 = 0xFFFD;

/// Go `utf8.DecodeRune`: (rune, bytes consumed); invalid input is (U+FFFD, 1), empty is (U+FFFD, 0).
fn decode_rune(s: &[u8]) -> (u32, usize) {
    let Some(&first) = s.first() else {
        return (RUNE_ERROR, 0);
    };
    let n = match first {
        0x00..=0x7f => return (u32::from(first), 1),
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return (RUNE_ERROR, 1),
    };
    match s.get(..n).map(std::str::from_utf8) {
        Some(Ok(st)) => st.chars().next().map_or((RUNE_ERROR, 1), |c| (u32::from(c), n)),
        _ => (RUNE_ERROR, 1),
    }
}

fn match_bytes(mut pattern: &[u8], mut name: &[u8]) -> Result<bool, ()> {
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // Trailing * matches the rest of the name unless it has a separator.
            return Ok(!name.contains(&SEPARATOR));
        }
        let res = match_chunk(chunk, name);
        if let Ok(Some(t)) = res {
            if t.is_empty() || !pattern.is_empty() {
                name = t;
                continue;
            }
        }
        res?;
        if star {
            let mut i = 0;
            while i < name.len() && name.get(i) != Some(&SEPARATOR) {
                let t = match_chunk(chunk, name.get(i + 1..).unwrap_or_default())?;
                if let Some(t) = t {
                    if !pattern.is_empty() || t.is_empty() {
                        name = t;
                        continue 'pattern;
                    }
                }
                i += 1;
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Go `scanChunk`: leading stars, then the chunk up to the next star outside a class.
fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut p = pattern;
    let mut star = false;
    while p.first() == Some(&b'*') {
        p = p.get(1..).unwrap_or_default();
        star = true;
    }
    let mut inrange = false;
    let mut i = 0;
    while let Some(&c) = p.get(i) {
        match c {
            b'\\' if i + 1 < p.len() => i += 1,
            b'[' => inrange = true,
            b']' => inrange = false,
            b'*' if !inrange => break,
            _ => {}
        }
        i += 1;
    }
    let (chunk, rest) = p.split_at(i.min(p.len()));
    (star, chunk, rest)
}

/// Go `matchChunk`: `Ok(Some(rest))` on a match, `Ok(None)` on a mismatch, `Err` on a bad pattern
/// (the whole chunk is checked even after a mismatch).
fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> Result<Option<&'a [u8]>, ()> {
    let mut failed = false;
    while let Some(&c) = chunk.first() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c {
            b'[' => {
                let mut r = 0u32;
                if !failed {
                    let (rr, n) = decode_rune(s);
                    r = rr;
                    s = s.get(n..).unwrap_or_default();
                }
                chunk = chunk.get(1..).unwrap_or_default();
                let mut negated = false;
                if chunk.first() == Some(&b'^') {
                    negated = true;
                    chunk = chunk.get(1..).unwrap_or_default();
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&b']') && nrange > 0 {
                        chunk = chunk.get(1..).unwrap_or_default();
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&b'-') {
                        let (h, rest) = get_esc(chunk.get(1..).unwrap_or_default())?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s.first() == Some(&SEPARATOR) {
                        failed = true;
                    }
                    let (_, n) = decode_rune(s);
                    s = s.get(n..).unwrap_or_default();
                }
                chunk = chunk.get(1..).unwrap_or_default();
            }
            _ => {
                if c == b'\\' {
                    chunk = chunk.get(1..).unwrap_or_default();
                    if chunk.is_empty() {
                        return Err(());
                    }
                }
                if !failed {
                    if chunk.first() != s.first() {
                        failed = true;
                    }
                    s = s.get(1..).unwrap_or_default();
                }
                chunk = chunk.get(1..).unwrap_or_default();
            }
        }
    }
    Ok(if failed { None } else { Some(s) })
}

/// Go `getEsc`: one possibly escaped class member; the class must continue after it.
fn get_esc(chunk: &[u8]) -> Result<(u32, &[u8]), ()> {
    let mut c = chunk;
    match c.first() {
        None | Some(b'-' | b']') => return Err(()),
        Some(b'\\') => {
            c = c.get(1..).unwrap_or_default();
            if c.is_empty() {
                return Err(());
            }
        }
        Some(_) => {}
    }
    let (r, n) = decode_rune(c);
    if r == RUNE_ERROR && n == 1 {
        return Err(());
    }
    let rest = c.get(n..).unwrap_or_default();
    if rest.is_empty() {
        return Err(());
    }
    Ok((r, rest))
}

/// A host split the way `URLsMatch` splits it (kubelet `splitURL`), plus the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostParts<'a> {
    /// The host without its port (brackets of `[v6]:port` removed by `SplitHostPort`).
    pub(crate) hostname: &'a str,
    pub(crate) port: &'a str,
    pub(crate) path: &'a str,
}

impl<'a> HostParts<'a> {
    pub(crate) fn new(host: &'a str, path: &'a str) -> Self {
        let (hostname, port) = split_host_port(host);
        HostParts { hostname, port, path }
    }
    pub(crate) fn label_count(&self) -> usize {
        self.hostname.bytes().filter(|&b| b == b'.').count() + 1
    }
}

/// `URLsMatch` on already parsed pattern and target, in the kubelet's order of checks.
pub(crate) fn match_parts(p: &HostParts<'_>, t: &HostParts<'_>) -> Result<(), Mismatch> {
    if p.port != t.port {
        return Err(Mismatch::Port {
            pattern: p.port.to_owned(),
            target: t.port.to_owned(),
        });
    }
    let (pc, tc) = (p.label_count(), t.label_count());
    if pc != tc {
        return Err(Mismatch::LabelCount {
            pattern: pc,
            target: tc,
        });
    }
    if !t.path.starts_with(p.path) {
        return Err(Mismatch::PathPrefix {
            pattern: p.path.to_owned(),
            target: t.path.to_owned(),
        });
    }
    match_labels(p.hostname, t.hostname)
}

/// The per-label globs of `URLsMatch` (label counts already equal).
pub(crate) fn match_labels(pattern_host: &str, target_host: &str) -> Result<(), Mismatch> {
    for (index, (pl, tl)) in pattern_host.split('.').zip(target_host.split('.')).enumerate() {
        match filepath_match(pl, tl) {
            Ok(true) => {}
            Ok(false) => {
                return Err(Mismatch::Label {
                    index,
                    pattern: pl.to_owned(),
                    target: tl.to_owned(),
                });
            }
            Err(()) => return Err(Mismatch::BadPattern { label: pl.to_owned() }),
        }
    }
    Ok(())
}

/// `URLsMatchStr(pattern, target)` with the reason of a mismatch (kubelet.md §c.2).
///
/// ```
/// use _core::hostglob::explain_match;
/// assert!(explain_match("*.k8s.io", "app.k8s.io/x").is_ok());
/// assert_eq!(explain_match("k*.io", "quay.io").unwrap_err().to_string(), r#"label 1 "k*" does not match "quay""#);
/// assert_eq!(explain_match("*.k8s.io", "k8s.io").unwrap_err().to_string(), "3 labels, image has 2");
/// ```
pub fn explain_match(pattern: &str, target: &str) -> Result<(), Mismatch> {
    let p = parse_schemeless_ref(pattern).map_err(|e| Mismatch::Unparseable {
        what: "pattern",
        reason: e.reason,
    })?;
    let t = parse_schemeless_ref(target).map_err(|e| Mismatch::Unparseable {
        what: "image",
        reason: e.reason,
    })?;
    match_parts(&HostParts::new(&p.host, &p.path), &HostParts::new(&t.host, &t.path))
}

/// `URLsMatchStr(pattern, target)` (kubelet.md §c.2): whether a `matchImages` entry or keyring key
/// applies to an image.
///
/// ```
/// use _core::hostglob::urls_match_str;
/// assert!(urls_match_str("*k8s.io", "k8s.io"));
/// assert!(!urls_match_str("https://quay.io", "quay.io"));
/// ```
pub fn urls_match_str(pattern: &str, target: &str) -> bool {
    explain_match(pattern, target).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filepath_match_table() {
        let cases: &[(&str, &str, Result<bool, ()>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("a[^a][^a][^a]b", "a☺b", Ok(false)),
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\-x]", "x", Ok(true)),
            ("[\\-x]", "a", Ok(false)),
            ("[]a]", "]", Err(())),
            ("[-]", "-", Err(())),
            ("[x-]", "x", Err(())),
            ("[-x]", "x", Err(())),
            ("\\", "a", Err(())),
            ("[a-b-c]", "a", Err(())),
            ("[", "a", Err(())),
            ("[^", "a", Err(())),
            ("[^bc", "a", Err(())),
            ("a[", "a", Err(())),
            ("a[", "ab", Err(())),
            ("a[", "x", Err(())),
            ("a/b[", "x", Err(())),
            ("*x", "xxx", Ok(true)),
            // `!` is not a negation in Go's filepath.Match.
            ("[!a]", "b", Ok(false)),
            ("[!a]", "!", Ok(true)),
            ("", "", Ok(true)),
            ("", "a", Ok(false)),
            ("?", "", Ok(false)),
            // A malformed later chunk is not reported once an earlier chunk failed without a star.
            ("x*[", "y", Ok(false)),
            // Go commits to the leftmost match of a chunk that is followed by more pattern, so a class
            // that could have taken the `/` does not get a second chance (labels never hold `/`).
            ("*[^a]*", "b/", Ok(false)),
        ];
        for (p, n, want) in cases {
            assert_eq!(filepath_match(p, n), *want, "Match({p:?}, {n:?})");
        }
    }

    #[test]
    fn decode_rune_like_go() {
        assert_eq!(decode_rune(b""), (RUNE_ERROR, 0));
        assert_eq!(decode_rune(b"a"), (97, 1));
        assert_eq!(decode_rune("é".as_bytes()), (0xe9, 2));
        assert_eq!(decode_rune(&[0xe9]), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(&[0xc0, 0x80]), (RUNE_ERROR, 1));
        assert_eq!(decode_rune(&[0xed, 0xa0, 0x80]), (RUNE_ERROR, 1));
    }

    fn m(p: &str, t: &str) -> bool {
        urls_match_str(p, t)
    }

    #[test]
    fn kubelet_test_urls_match() {
        // kubelet keyring_test.go TestURLsMatch (inputs and expectations).
        let cases: &[(&str, &str, bool)] = &[
            ("*.kubernetes.io", "prefix.kubernetes.io", true),
            ("prefix.*.io", "prefix.kubernetes.io", true),
            ("prefix.kubernetes.*", "prefix.kubernetes.io", true),
            ("*-good.kubernetes.io", "prefix-good.kubernetes.io", true),
            ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true),
            ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true),
            ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true),
            ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true),
            ("*.kubernetes.io", "kubernetes.io", false),
            ("*.*.kubernetes.io", "prefix.kubernetes.io", false),
            ("*.*.kubernetes.io", "kubernetes.io", false),
            ("*kubernetes.io", "a.kubernetes.io", false),
            ("*kubernetes.io", "kubernetes.io", true),
            ("*.*.*.kubernetes.io", "a.b.c.kubernetes.io", true),
            ("kubernetes.io", "kubernetes.com", false),
            ("k*.io", "quay.io", false),
            ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false),
            ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false),
        ];
        for &(p, t, want) in cases {
            assert_eq!(m(p, t), want, "URLsMatchStr({p:?}, {t:?})");
        }
    }

    #[test]
    fn spec_c2_examples_and_edges() {
        let cases: &[(&str, &str, bool)] = &[
            // §c.2 step 5 examples
            ("*.k8s.io", "k8s.io", false),
            ("*k8s.io", "k8s.io", true),
            ("*.io", "a.b.io", false),
            ("k*.io", "quay.io", false),
            ("app*.k8s.io", "app1.k8s.io", true),
            ("k8s.*", "k8s.io", true),
            // partial labels
            ("registry-*.example.com", "registry-7.example.com/x", true),
            ("*-registry.example.com", "eu-registry.example.com/x", true),
            ("r*y.example.com", "registry.example.com", true),
            ("r*y.example.com", "registrx.example.com", false),
            // ports: string equality, no globbing
            ("registry:5000", "registry:5000/x", true),
            ("registry", "registry:5000/x", false),
            ("registry:5000", "registry/x", false),
            ("registry:*", "registry:5000/x", false),
            ("registry:05000", "registry:5000/x", false),
            ("registry:", "registry/x", true),
            // paths: plain string prefix, no globbing, "/" does not match an empty path
            ("quay.io/foo", "quay.io/foobar", true),
            ("quay.io/foo/", "quay.io/foo", false),
            ("quay.io/", "quay.io", false),
            ("quay.io/", "quay.io/x", true),
            ("quay.io/*", "quay.io/x", false),
            ("quay.io/*", "quay.io/*", true),
            ("quay.io/v2/x", "quay.io/x", false),
            // `?`, `#`, userinfo and percent escapes act through the URL parse
            ("registry?.io", "registry/x", true),
            ("registry?.io", "registry.io/x", false),
            ("quay.io#x", "quay.io/a", true),
            ("quay.io/a#x", "quay.io/ab", true),
            ("user:pw@quay.io", "quay.io/a", true),
            ("quay.io/a%20b", "quay.io/a b/c", true),
            ("quay.io/a%2", "quay.io/a", false),
            ("qu%61y.io", "quay.io", false),
            ("%C3%A9.io", "é.io", true),
            // schemes in patterns never match
            ("https://quay.io", "quay.io", false),
            ("http://quay.io", "quay.io/x", false),
            // the empty pattern never matches a real image
            ("", "quay.io/x", false),
            ("", "localhost/x", false),
            // case-sensitive
            ("Quay.io", "quay.io", false),
            // IPv6: without a port the bracketed host is a glob class and never matches
            ("[::1]:5000", "[::1]:5000/x", true),
            ("[::1]", "[::1]/x", false),
            ("[::1]:5000", "[::2]:5000/x", false),
            // malformed
            ("bad host", "bad host", false),
            ("quay.io", "bad host/x", false),
        ];
        for &(p, t, want) in cases {
            assert_eq!(m(p, t), want, "URLsMatchStr({p:?}, {t:?})");
        }
    }

    #[test]
    fn mismatch_reasons() {
        let why = |p: &str, t: &str| explain_match(p, t).unwrap_err();
        assert_eq!(why("quay.io:5000", "quay.io/x").to_string(), r#"port "5000" != """#);
        assert_eq!(why("a.b.c", "b.c").to_string(), "3 labels, image has 2");
        assert_eq!(why("localhost", "a.b").to_string(), "1 label, image has 2");
        assert_eq!(
            why("quay.io/team", "quay.io/other/app").to_string(),
            r#"path "/team" is not a prefix of "/other/app""#
        );
        assert_eq!(
            why("k*.io", "quay.io").to_string(),
            r#"label 1 "k*" does not match "quay""#
        );
        assert_eq!(
            why("quay.c*", "quay.io").to_string(),
            r#"label 2 "c*" does not match "io""#
        );
        // `[` cannot appear in a host except as an IPv6 literal; a zone ending in `-` makes a bad class.
        assert!(matches!(why("a[.io", "a.io"), Mismatch::Unparseable { .. }));
        assert_eq!(
            why("[::1%25a-]", "x"),
            Mismatch::BadPattern {
                label: "[::1%a-]".to_owned()
            }
        );
        assert_eq!(
            why("[::1%25a-]", "x").to_string(),
            r#"label "[::1%a-]" is not a valid glob"#
        );
        assert!(matches!(
            why("bad host", "x"),
            Mismatch::Unparseable { what: "pattern", .. }
        ));
        assert!(matches!(
            why("x", "bad host"),
            Mismatch::Unparseable { what: "image", .. }
        ));
        // The kubelet stops at the first mismatching label: a bad glob after it is not reported.
        assert!(matches!(
            match_labels("x.a[", "y.b"),
            Err(Mismatch::Label { index: 0, .. })
        ));
        assert!(matches!(match_labels("y.a[", "y.b"), Err(Mismatch::BadPattern { .. })));
        // Check order: port before label count before path before labels.
        assert!(matches!(why("a.b:1/x", "c:2/y"), Mismatch::Port { .. }));
        assert!(matches!(why("a.b/x", "c/y"), Mismatch::LabelCount { .. }));
        assert!(matches!(why("a.b/x", "c.d/y"), Mismatch::PathPrefix { .. }));
        assert!(why("u:secret@bad host", "x").to_string().find("secret").is_none());
    }

    /// A direct, slow reading of the glob rules (full backtracking over chars), to cross-check
    /// `filepath_match` on well-formed patterns made of literals, `*`, `?` and simple classes, on
    /// names without `/` (where Go's leftmost-commit strategy is equivalent to backtracking).
    fn naive(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| n[..i].iter().all(|&c| c != '/') && naive(rest, &n[i..])),
            Some(('?', rest)) => n.first().is_some_and(|&c| c != '/') && naive(rest, &n[1..]),
            Some(('[', rest)) => {
                let close = rest.iter().position(|&c| c == ']').unwrap();
                let (class, rest) = (&rest[..close], &rest[close + 1..]);
                let (neg, class) = match class.split_first() {
                    Some(('^', c)) => (true, c),
                    _ => (false, class),
                };
                n.first().is_some_and(|c| class.contains(c) != neg) && naive(rest, &n[1..])
            }
            Some((c, rest)) => n.first() == Some(c) && naive(rest, &n[1..]),
        }
    }

    proptest::proptest! {
        #[test]
        fn glob_agrees_with_naive(p in "([ab.*?-]|\\[\\^?[ab]{1,2}\\]){0,6}", n in "[ab.é-]{0,6}") {
            let pc: Vec<char> = p.chars().collect();
            let nc: Vec<char> = n.chars().collect();
            proptest::prop_assert_eq!(filepath_match(&p, &n), Ok(naive(&pc, &nc)), "{:?} {:?}", p, n);
        }

        #[test]
        fn never_panics(p in "\\PC{0,20}", n in "\\PC{0,20}", q in "[\\[\\]\\\\^*?a-c-]{0,10}") {
            let _ = filepath_match(&p, &n);
            let _ = filepath_match(&q, &n);
            let _ = explain_match(&p, &n);
            let _ = explain_match(&q, &p);
        }
    }
}
