//! The kubelet's registry pattern matching, `URLsMatchStr`, with the reason of a mismatch.
//! Spec: docs/kubelet.md §c.2.
//!
//! kubelet `pkg/credentialprovider/keyring.go`: `URLsMatchStr(glob, target)` parses both as
//! schemeless URLs, splits the hosts with `net.SplitHostPort` (whole host and empty port on error),
//! then requires equal ports, equal label counts, the target path to start with the pattern path
//! (plain string prefix) and every pattern label to `filepath.Match` its target label.

use crate::credential::redact_userinfo;
use crate::go::filepath::filepath_match;
use crate::go::url::{parse_schemeless_ref, split_host_port};
use crate::limits::Excerpt;
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

/// A piece of a pattern (a registry key) as a message shows it: credentials redacted, bounded.
fn shown(piece: &str) -> String {
    Excerpt::debug(&redact_userinfo(piece)).to_string()
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Unparseable { what, reason } => write!(f, "{what} does not parse: {reason}"),
            Mismatch::Port { pattern, target } => {
                write!(f, "port {} != {}", shown(pattern), Excerpt::debug(target))
            }
            Mismatch::LabelCount { pattern, target } => {
                let s = if *pattern == 1 { "" } else { "s" };
                write!(f, "{pattern} label{s}, image has {target}")
            }
            Mismatch::PathPrefix { pattern, target } => write!(
                f,
                "path {} is not a prefix of {}",
                shown(pattern),
                Excerpt::debug(target)
            ),
            Mismatch::Label { index, pattern, target } => {
                write!(
                    f,
                    "label {} {} does not match {}",
                    index + 1,
                    shown(pattern),
                    Excerpt::debug(target)
                )
            }
            Mismatch::BadPattern { label } => write!(f, "label {} is not a valid glob", shown(label)),
        }
    }
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

/// `URLsMatchStr(pattern, target)` with the reason of a mismatch (docs/kubelet.md §c.2).
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

/// `URLsMatchStr(pattern, target)` (docs/kubelet.md §c.2): whether a `matchImages` entry or keyring key
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
mod tests;
