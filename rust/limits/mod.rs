//! Every bound the core puts on the cost of an input, in one place (docs/architecture.md: every
//! input has a bounded cost in time and memory, enforced before the expensive work starts).
//!
//! | What | Limit | Where it is enforced |
//! |---|---|---|
//! | input quoted in an error or warning | [`MAX_QUOTED_BYTES`] bytes, then `…` and the total length | [`Excerpt`], used by every message that quotes input |
//! | YAML document (Secret manifests, configs) | [`MAX_YAML_BYTES`] bytes | [`check_yaml`], before `serde_norway` |
//! | nesting of a YAML document (flow `[`/`{` plus block levels) | [`MAX_NESTING`] levels | [`check_yaml`] |
//! | nodes of a YAML or JSON document (aliases expanded) | [`MAX_DOCUMENT_NODES`] | [`check_yaml`], [`check_json`] |
//! | keys that do not match, listed by `explain` | [`MAX_EXPLAIN_REJECTED`] (the rest counted) | `keyring::Keyring::explain` |
//!
//! The parsers' own limits, which stay in force behind these: `serde_norway` 0.9 refuses more than
//! 128 nested collections (`recursion limit exceeded`) and more alias dereferences than 100 times the
//! number of events of the document (`repetition limit exceeded`), both only after it has scanned
//! the whole document into events, which is why the scan here runs first; `serde_json` 1.x refuses
//! more than 128 nested arrays/objects; Go's JSON validity scan ([`crate::go::json`]) 10,000.
//!
//! A leaf module: it uses nothing else of the crate.

mod scan;

pub use scan::{check_json, check_yaml, LimitError};

use std::fmt;

/// At most this many bytes of an input are quoted in a message (escapes included, quotes not): a
/// repository name at its 255-character limit is still quoted whole, and a message that quotes
/// its input twice (a reference error) stays well under 1 KiB.
pub const MAX_QUOTED_BYTES: usize = 256;

/// The largest YAML document the core parses: the source-file limit of the Python layer.
pub const MAX_YAML_BYTES: usize = 16 << 20;

/// The deepest nesting of a YAML document: flow collections plus block indentation levels. Real
/// manifests and configs stay below 20; `serde_norway` fails anything over 128 anyway, but only
/// after a scan whose cost grows with the depth (quadratic for `[[[[...`).
pub const MAX_NESTING: usize = 64;

/// The most nodes (scalars, collections, `-`/`?`/`:` indicators, and the nodes an alias repeats)
/// of one YAML or JSON document stream: about 50 MB of parser memory. A `List` of 10,000 Secrets
/// fits; a 16 MiB flat list (8 million nodes, 1.6 GiB) does not.
pub const MAX_DOCUMENT_NODES: usize = 250_000;

/// `explain` lists at most this many keys that do not match (nearest first) and counts the rest.
pub const MAX_EXPLAIN_REJECTED: usize = 32;

/// How an [`Excerpt`] renders text: the renderer must not shorten it (escaping only adds bytes).
type Render = fn(&str) -> String;

/// An input quoted in a message, bounded: at most [`MAX_QUOTED_BYTES`] bytes of its rendering,
/// then, when it was cut, `…` and the input's total length (`"UPPER/aaaa"… (900006 bytes)`).
/// An input that fits is rendered exactly as its renderer renders it.
#[derive(Clone, Copy)]
pub struct Excerpt<'a> {
    text: &'a str,
    render: Render,
}

impl<'a> Excerpt<'a> {
    /// Rendered like Rust's `{:?}` (double quotes, escapes).
    pub fn debug(text: &'a str) -> Self {
        Excerpt {
            text,
            render: |s| format!("{s:?}"),
        }
    }

    /// Rendered like `str::escape_debug` (escapes, no quotes).
    pub fn escaped(text: &'a str) -> Self {
        Excerpt {
            text,
            render: |s| s.escape_debug().to_string(),
        }
    }

    /// Rendered by `render` (e.g. Go's `strconv.Quote`), which must never shorten its input.
    pub fn with(text: &'a str, render: Render) -> Self {
        Excerpt { text, render }
    }
}

/// The largest char boundary of `text` at or below `at`.
fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Two bytes of slack for the quotes a renderer adds.
        let budget = MAX_QUOTED_BYTES + 2;
        if self.text.len() <= MAX_QUOTED_BYTES {
            let whole = (self.render)(self.text);
            if whole.len() <= budget {
                return f.write_str(&whole);
            }
        }
        // Each input byte renders to at least one byte, so cutting the excess from the input
        // brings the rendering within budget in one step (the loop only re-aligns to a char).
        let mut cut = floor_boundary(self.text, MAX_QUOTED_BYTES);
        loop {
            let shown = (self.render)(self.text.get(..cut).unwrap_or_default());
            let excess = shown.len().saturating_sub(budget);
            if excess == 0 {
                return write!(f, "{shown}… ({} bytes)", self.text.len());
            }
            cut = floor_boundary(self.text, cut.saturating_sub(excess));
        }
    }
}

impl fmt::Debug for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests;
