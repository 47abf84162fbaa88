//! Go `strconv.Quote`, so that messages quote values the way the kubelet's own messages do.

use crate::limits::Excerpt;
use std::fmt::Write as _;

/// Go `strconv.Quote`-style quoting for messages (printable Unicode kept), bounded like every
/// input a message quotes ([`Excerpt`]: a long value is cut, with `…` and its length).
pub(crate) fn go_quote(s: &str) -> String {
    Excerpt::with(s, go_quote_whole).to_string()
}

/// [`go_quote`] of the whole text.
fn go_quote_whole(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
