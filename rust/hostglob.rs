//! The kubelet's registry pattern matching, `URLsMatchStr` (CONTRACT STUB).
//! Spec: ../shared/spec/kubelet.md §c.2. Owner: keyring helper.

/// Why a pattern did not match a target (for `explain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The pattern or the target does not parse as a schemeless URL.
    Unparseable {
        what: &'static str,
        reason: String,
    },
    Port {
        pattern: String,
        target: String,
    },
    LabelCount {
        pattern: usize,
        target: usize,
    },
    PathPrefix {
        pattern: String,
        target: String,
    },
    /// Label `index` (0-based) of the pattern does not glob-match that of the target.
    Label {
        index: usize,
        pattern: String,
        target: String,
    },
    BadPattern {
        label: String,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        todo!()
    }
}

/// Go `path/filepath.Match` (Unix): `Err(())` for a malformed pattern.
#[allow(clippy::result_unit_err)]
pub fn filepath_match(_pattern: &str, _name: &str) -> Result<bool, ()> {
    todo!()
}

/// `URLsMatchStr(pattern, target)` with the reason of a mismatch.
pub fn explain_match(_pattern: &str, _target: &str) -> Result<(), Mismatch> {
    todo!()
}

/// `URLsMatchStr(pattern, target)`.
pub fn urls_match_str(pattern: &str, target: &str) -> bool {
    explain_match(pattern, target).is_ok()
}
