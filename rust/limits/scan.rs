//! Linear pre-scans that bound a document's nesting and node count before a parser builds anything.
//!
//! # YAML
//!
//! `serde_norway` (a port of libyaml 0.2.5, `unsafe-libyaml-norway` 0.2.15 `src/scanner.rs`) reads a
//! whole document into events before it checks any limit, and its scanner does work proportional to
//! the flow depth for every token (it re-checks one pending simple key per open `[`/`{`): 64 KiB of
//! `[` took 9 s, 256 KiB 147 s. [`check_yaml`] walks the text once, token by token as that scanner
//! does, and stops at the first position where the nesting or the node count goes over its limit.
//!
//! It follows the scanner's rules wherever they decide what is a token and what is scalar text,
//! because a mistake there could hide brackets from the count: comments (`#` at a token start, up
//! to a line break, including the Unicode breaks NEL, LS and PS), single- and double-quoted scalars
//! (over several lines), plain scalars (which end at `: `, ` #`, a flow indicator inside a flow
//! collection, or a less indented line in block context), block scalars (`|`, `>`: their indented
//! lines), anchors, aliases, tags and directives. Block indentation is tracked as the scanner
//! tracks it (a level per `-`, `?`, or key on a more indented column), simple keys included,
//! since a plain scalar's continuation lines depend on it.
//!
//! Where the scanner would stop with an error, this scan goes on: what follows is never parsed,
//! so counting it can only make the estimate larger. The count is therefore an upper bound of
//! what the scanner sees, and real documents (nesting below 20) are nowhere near the limits.

use super::{MAX_DOCUMENT_NODES, MAX_NESTING, MAX_YAML_BYTES};
use std::collections::HashMap;
use std::fmt;

/// A document over one of the limits of [`super`]. The message names the limit, never content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// Larger than [`MAX_YAML_BYTES`].
    Size { limit: usize },
    /// Nested deeper than [`MAX_NESTING`] at this line and column (1-based; columns in characters).
    Nesting { limit: usize, line: usize, column: usize },
    /// More than [`MAX_DOCUMENT_NODES`] nodes.
    Nodes { limit: usize },
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Size { limit } => write!(f, "larger than {} MiB, the limit for a YAML document", limit >> 20),
            Self::Nesting { limit, line, column } => write!(
                f,
                "nested deeper than {limit} levels at line {line} column {column} (the nesting limit)"
            ),
            Self::Nodes { limit } => write!(
                f,
                "more than {limit} nodes, aliases expanded (the limit for one document)"
            ),
        }
    }
}

impl std::error::Error for LimitError {}

/// Checks a YAML stream against [`MAX_YAML_BYTES`], [`MAX_NESTING`] and [`MAX_DOCUMENT_NODES`] in
/// one linear pass (see the module docs), before `serde_norway` sees it.
pub fn check_yaml(data: &[u8]) -> Result<(), LimitError> {
    if data.len() > MAX_YAML_BYTES {
        return Err(LimitError::Size { limit: MAX_YAML_BYTES });
    }
    Yaml::new(data, MAX_NESTING, MAX_DOCUMENT_NODES).run()
}

/// Checks a JSON text against [`MAX_DOCUMENT_NODES`] (values and member names; `serde_json` bounds
/// the nesting itself at 128) in one pass, before a value tree is built.
pub fn check_json(data: &[u8]) -> Result<(), LimitError> {
    check_json_nodes(data, MAX_DOCUMENT_NODES)
}

pub(super) fn check_json_nodes(data: &[u8], limit: usize) -> Result<(), LimitError> {
    let mut nodes = 1usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in data {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b'[' | b'{' | b',' | b':') {
            // Every value but the first follows one of these; every member name one `:`.
            nodes += 1;
            if nodes > limit {
                return Err(LimitError::Nodes { limit });
            }
        }
    }
    Ok(())
}

/// A pending simple key of the block context (libyaml: `simple_keys[0]`): where a token that may
/// turn out to be a mapping key started.
#[derive(Clone, Copy)]
struct Key {
    line: usize,
    column: usize,
}

pub(super) struct Yaml<'a> {
    b: &'a [u8],
    i: usize,
    line: usize,
    /// In characters, as libyaml counts columns.
    column: usize,
    flow: usize,
    /// Columns of the open block collections (libyaml `indents` plus `indent`).
    indents: Vec<usize>,
    simple_key_allowed: bool,
    key: Option<Key>,
    nodes: usize,
    /// Anchor name -> the node count where it was defined: an alias repeats at most the nodes
    /// since then.
    anchors: HashMap<&'a [u8], usize>,
    max_nesting: usize,
    max_nodes: usize,
}

fn signed(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

fn unsigned(n: isize) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// libyaml `IS_ALPHA`: the characters of anchor and alias names.
fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

impl<'a> Yaml<'a> {
    pub(super) fn new(b: &'a [u8], max_nesting: usize, max_nodes: usize) -> Self {
        Yaml {
            b,
            i: 0,
            line: 1,
            column: 0,
            flow: 0,
            indents: Vec::new(),
            simple_key_allowed: true,
            key: None,
            nodes: 0,
            anchors: HashMap::new(),
            max_nesting,
            max_nodes,
        }
    }

    fn at(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }

    fn is(&self, k: usize, c: u8) -> bool {
        self.at(k) == Some(c)
    }

    /// The length of the line break at `i + k` (`\r\n`, `\r`, `\n`, NEL, LS, PS), or 0.
    fn break_len(&self, k: usize) -> usize {
        match (self.at(k), self.at(k + 1), self.at(k + 2)) {
            (Some(b'\r'), Some(b'\n'), _) | (Some(0xC2), Some(0x85), _) => 2,
            (Some(b'\r' | b'\n'), _, _) => 1,
            (Some(0xE2), Some(0x80), Some(0xA8 | 0xA9)) => 3,
            _ => 0,
        }
    }

    fn is_blank(&self, k: usize) -> bool {
        matches!(self.at(k), Some(b' ' | b'\t'))
    }

    /// Blank, break or end of input (libyaml `IS_BLANKZ`; a NUL ends its input too).
    fn is_blankz(&self, k: usize) -> bool {
        matches!(self.at(k), None | Some(b' ' | b'\t' | 0)) || self.break_len(k) > 0
    }

    fn eof(&self) -> bool {
        self.i >= self.b.len()
    }

    /// Advances over one character that is not a line break.
    fn skip_char(&mut self) {
        self.i += 1;
        while self.at(0).is_some_and(|b| b & 0xC0 == 0x80) {
            self.i += 1;
        }
        self.column += 1;
    }

    /// Advances over a line break if there is one; whether there was.
    fn skip_break(&mut self) -> bool {
        let n = self.break_len(0);
        if n == 0 {
            return false;
        }
        self.i += n;
        self.line += 1;
        self.column = 0;
        true
    }

    fn skip_to_break(&mut self) {
        while !self.eof() && self.break_len(0) == 0 {
            self.skip_char();
        }
    }

    fn too_deep(&self) -> Result<(), LimitError> {
        if self.flow + self.indents.len() > self.max_nesting {
            return Err(LimitError::Nesting {
                limit: self.max_nesting,
                line: self.line,
                column: self.column + 1,
            });
        }
        Ok(())
    }

    fn add_nodes(&mut self, n: usize) -> Result<(), LimitError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.max_nodes {
            return Err(LimitError::Nodes { limit: self.max_nodes });
        }
        Ok(())
    }

    /// The block indentation (libyaml `indent`: -1 outside any block collection).
    fn indent(&self) -> isize {
        self.indents.last().map_or(-1, |&c| signed(c))
    }

    /// libyaml `roll_indent`: a block collection starting at `column`.
    fn roll(&mut self, column: usize) -> Result<(), LimitError> {
        if self.flow == 0 && self.indent() < signed(column) {
            self.indents.push(column);
            self.add_nodes(1)?;
            self.too_deep()?;
        }
        Ok(())
    }

    /// libyaml `save_simple_key`, for the block context (flow keys never move the indentation).
    fn save_key(&mut self) {
        if self.flow == 0 && self.simple_key_allowed {
            self.key = Some(Key {
                line: self.line,
                column: self.column,
            });
        }
    }

    /// The pending simple key if it is still possible (same line, at most 1024 characters back).
    fn take_key(&mut self) -> Option<Key> {
        self.key
            .take()
            .filter(|k| k.line == self.line && k.column + 1024 >= self.column)
    }

    /// libyaml `scan_to_next_token`: blanks, comments and line breaks.
    fn skip_to_token(&mut self) {
        loop {
            if self.column == 0 && self.b.get(self.i..self.i + 3) == Some(b"\xEF\xBB\xBF") {
                self.i += 3;
            }
            while self.is_blank(0) {
                self.skip_char();
            }
            if self.is(0, b'#') {
                self.skip_to_break();
            }
            if !self.skip_break() {
                return;
            }
            if self.flow == 0 {
                self.simple_key_allowed = true;
            }
        }
    }

    pub(super) fn run(mut self) -> Result<(), LimitError> {
        loop {
            self.skip_to_token();
            let Some(c) = self.at(0) else {
                return Ok(());
            };
            if self.flow == 0 {
                // libyaml `unroll_indent`: collections indented deeper than this token end.
                while self.indent() > signed(self.column) {
                    self.indents.pop();
                }
            }
            if self
                .key
                .is_some_and(|k| k.line != self.line || k.column + 1024 < self.column)
            {
                self.key = None;
            }
            let marker = self.column == 0
                && (self.b.get(self.i..self.i + 3) == Some(b"---") || self.b.get(self.i..self.i + 3) == Some(b"..."))
                && self.is_blankz(3);
            if marker {
                self.indents.clear();
                self.key = None;
                self.anchors.clear();
                self.simple_key_allowed = false;
                for _ in 0..3 {
                    self.skip_char();
                }
                continue;
            }
            self.token(c)?;
        }
    }

    /// libyaml `fetch_next_token` from `c`, a token's first byte.
    fn token(&mut self, c: u8) -> Result<(), LimitError> {
        match c {
            b'%' if self.column == 0 => {
                self.skip_to_break();
                self.simple_key_allowed = false;
            }
            b'[' | b'{' => {
                self.save_key();
                self.flow += 1;
                self.add_nodes(1)?;
                self.too_deep()?;
                self.skip_char();
                self.simple_key_allowed = true;
            }
            b']' | b'}' => {
                self.flow = self.flow.saturating_sub(1);
                self.skip_char();
                self.simple_key_allowed = false;
            }
            b',' => {
                self.skip_char();
                self.simple_key_allowed = true;
            }
            b'-' if self.is_blankz(1) => {
                self.roll(self.column)?;
                self.key = None;
                self.skip_char();
                self.add_nodes(1)?;
                self.simple_key_allowed = true;
            }
            b'?' if self.flow > 0 || self.is_blankz(1) => {
                self.roll(self.column)?;
                self.key = None;
                self.skip_char();
                self.add_nodes(1)?;
                self.simple_key_allowed = self.flow == 0;
            }
            b':' if self.flow > 0 || self.is_blankz(1) => {
                if let Some(key) = self.take_key() {
                    self.roll(key.column)?;
                    self.simple_key_allowed = false;
                } else {
                    self.roll(self.column)?;
                    self.simple_key_allowed = self.flow == 0;
                }
                self.skip_char();
                self.add_nodes(1)?;
            }
            b'*' | b'&' => {
                self.save_key();
                self.skip_char();
                let start = self.i;
                while self.at(0).is_some_and(is_name) {
                    self.skip_char();
                }
                let name = self.b.get(start..self.i).unwrap_or_default();
                if c == b'&' {
                    self.anchors.insert(name, self.nodes);
                } else {
                    // An alias repeats its anchor's node: at most every node since the anchor.
                    let since = self.anchors.get(name).map_or(0, |&at| self.nodes - at);
                    self.add_nodes(since.max(1))?;
                }
                self.simple_key_allowed = false;
            }
            b'!' => {
                self.save_key();
                self.skip_char();
                if self.is(0, b'<') {
                    while !self.is_blankz(0) && !self.is(0, b'>') {
                        self.skip_char();
                    }
                    if self.is(0, b'>') {
                        self.skip_char();
                    }
                } else {
                    while !self.is_blankz(0) && !matches!(self.at(0), Some(b',' | b'[' | b']' | b'{' | b'}')) {
                        self.skip_char();
                    }
                }
                self.simple_key_allowed = false;
            }
            b'|' | b'>' if self.flow == 0 => {
                self.key = None;
                self.block_scalar();
                self.add_nodes(1)?;
                self.simple_key_allowed = true;
            }
            b'\'' | b'"' => {
                self.save_key();
                self.quoted(c);
                self.add_nodes(1)?;
                self.simple_key_allowed = false;
            }
            _ if self.starts_plain(c) => {
                self.save_key();
                self.plain();
                self.add_nodes(1)?;
            }
            // Cannot start any token: the scanner stops here; going on only over-counts.
            _ => self.skip_char(),
        }
        Ok(())
    }

    /// libyaml `fetch_next_token`: whether `c` starts a plain scalar here.
    fn starts_plain(&self, c: u8) -> bool {
        let indicator = matches!(
            c,
            b'-' | b'?'
                | b':'
                | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
        );
        !(self.is_blankz(0) || indicator)
            || (c == b'-' && !self.is_blank(1))
            || (self.flow == 0 && matches!(c, b'?' | b':') && !self.is_blankz(1))
    }

    /// libyaml `scan_flow_scalar`: a single- or double-quoted scalar, over several lines. Ends at
    /// the closing quote or at the end of the input (a scanner error).
    fn quoted(&mut self, quote: u8) {
        self.skip_char();
        loop {
            if self.eof() {
                return;
            }
            if self.skip_break() {
                continue;
            }
            match self.at(0) {
                Some(b'\'') if quote == b'\'' && self.is(1, b'\'') => {
                    self.skip_char();
                    self.skip_char();
                }
                Some(b'\\') if quote == b'"' => {
                    self.skip_char();
                    if !self.skip_break() && !self.eof() {
                        self.skip_char();
                    }
                }
                Some(c) if c == quote => {
                    self.skip_char();
                    return;
                }
                _ => self.skip_char(),
            }
        }
    }

    /// libyaml `scan_plain_scalar`.
    fn plain(&mut self) {
        let min_column = self.indent() + 1;
        let mut leading_blanks = false;
        loop {
            let marker = self.column == 0
                && (self.b.get(self.i..self.i + 3) == Some(b"---") || self.b.get(self.i..self.i + 3) == Some(b"..."))
                && self.is_blankz(3);
            if marker || self.is(0, b'#') {
                break;
            }
            while !self.is_blankz(0) {
                let c = self.at(0);
                if (c == Some(b':') && self.is_blankz(1))
                    || (self.flow > 0 && (c == Some(b':') || matches!(c, Some(b',' | b'[' | b']' | b'{' | b'}'))))
                {
                    // A value indicator, a flow indicator (or, for `:` before a flow indicator in
                    // a flow collection, a scanner error): the scalar ends before it.
                    if c != Some(b':') || self.flow == 0 || self.is_blankz(1) || self.ends_flow_colon() {
                        if leading_blanks {
                            self.simple_key_allowed = true;
                        }
                        return;
                    }
                }
                self.skip_char();
            }
            if !(self.is_blank(0) || self.break_len(0) > 0) {
                break;
            }
            while self.is_blank(0) || self.break_len(0) > 0 {
                if self.skip_break() {
                    leading_blanks = true;
                } else {
                    self.skip_char();
                }
            }
            if self.eof() || (self.flow == 0 && signed(self.column) < min_column) {
                break;
            }
        }
        if leading_blanks {
            self.simple_key_allowed = true;
        }
    }

    /// In a flow collection, a `:` inside a plain scalar ends it only before a blank or a flow
    /// indicator (`,?[]{}`: libyaml reports an error for those, which ends the scan as well).
    fn ends_flow_colon(&self) -> bool {
        matches!(self.at(1), Some(b',' | b'?' | b'[' | b']' | b'{' | b'}'))
    }

    /// libyaml `scan_block_scalar` (`|` or `>`): the header line, then every line indented at least
    /// as much as the first non-empty one (or as the indentation indicator says).
    fn block_scalar(&mut self) {
        self.skip_char();
        let mut increment = 0usize;
        for _ in 0..2 {
            match self.at(0) {
                Some(b'+' | b'-') => self.skip_char(),
                Some(d @ b'1'..=b'9') => {
                    increment = usize::from(d - b'0');
                    self.skip_char();
                }
                _ => break,
            }
        }
        while self.is_blank(0) {
            self.skip_char();
        }
        if self.is(0, b'#') {
            self.skip_to_break();
        }
        if !self.skip_break() {
            // A scanner error (text after the header) or the end of the input.
            return;
        }
        let parent = self.indent();
        let mut indent = if increment > 0 {
            unsigned(parent.max(0)) + increment
        } else {
            0
        };
        // Leading empty lines, then the first content line's indentation (libyaml
        // `scan_block_scalar_breaks`).
        let mut max_indent = 0usize;
        loop {
            while (indent == 0 || self.column < indent) && self.is(0, b' ') {
                self.skip_char();
            }
            max_indent = max_indent.max(self.column);
            if !self.skip_break() {
                break;
            }
        }
        if indent == 0 {
            indent = max_indent.max(unsigned((parent + 1).max(1)));
        }
        while self.column == indent && !self.eof() {
            self.skip_to_break();
            if !self.skip_break() {
                return;
            }
            loop {
                while self.column < indent && self.is(0, b' ') {
                    self.skip_char();
                }
                if !self.skip_break() {
                    break;
                }
            }
        }
    }
}
