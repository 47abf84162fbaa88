//! Go `encoding/json` behaviour the kubelet's decoders show and `serde_json` does not: the validity
//! scan that runs before any decoding (`checkValid`), invalid UTF-8 read as U+FFFD per byte,
//! case-insensitive field names, and the strict decoders' rejection of a repeated object key
//! (`sigs.k8s.io/json`, used by the kubelet for its config and exec responses).

use crate::limits::Excerpt;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// Invalid UTF-8 as Go's JSON decoder reads it: one U+FFFD per offending byte (Go decodes rune by
/// rune and skips one byte per error) instead of failing the file.
pub(crate) fn go_lossy(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return Cow::Owned(out);
            }
            Err(e) => {
                let (valid, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push('\u{FFFD}');
                rest = bad.get(1..).unwrap_or_default();
            }
        }
    }
}

/// Where and why [`go_json_check`] rejects a text: a value-free description, 1-based line and
/// column (in bytes). `Display`: `<what> at line <line> column <column>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) what: &'static str,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at line {} column {}", self.what, self.line, self.column)
    }
}

/// Go `encoding/json`'s nesting limit (`maxNestingDepth`).
pub(crate) const MAX_DEPTH: usize = 10_000;

/// Go `encoding/json` validates the whole text before decoding anything (`checkValid`); this is that
/// scan, with value-free messages. It also makes the text safe for `serde_json` without changing any
/// byte offset:
/// - a lone UTF-16 surrogate escape (`\ud800` not followed by a low-surrogate escape, or a lone
///   `\udc00`) is rewritten to `\ufffd`, which is what Go decodes it to (`serde_json` would fail);
/// - every number is rewritten to `0` padded with spaces: no member we read holds a number (a number
///   where a string is expected is an error whatever its value), and `serde_json` would otherwise
///   reject numbers beyond `f64` range that Go skips. No number can then appear in an error message.
pub(crate) fn go_json_check(text: &str) -> Result<Cow<'_, str>, SyntaxError> {
    let mut scan = Scanner {
        b: text.as_bytes(),
        i: 0,
        stack: Vec::new(),
        fixes: Vec::new(),
    };
    if let Err((at, what)) = scan.run() {
        let before = text.as_bytes().get(..at).unwrap_or_default();
        let line = before.split(|&c| c == b'\n').count();
        let column = at - before.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1) + 1;
        return Err(SyntaxError { what, line, column });
    }
    if scan.fixes.is_empty() {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (at, len, replacement) in scan.fixes {
        out.push_str(text.get(done..at).unwrap_or_default());
        out.push_str(replacement);
        out.extend(std::iter::repeat(' ').take(len.saturating_sub(replacement.len())));
        done = at + len;
    }
    out.push_str(text.get(done..).unwrap_or_default());
    Ok(Cow::Owned(out))
}

/// A scan failure: byte offset and value-free description.
type ScanError = (usize, &'static str);

/// The state of [`go_json_check`]: iterative (an explicit stack), so any nesting up to Go's limit.
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    /// Open containers, `{` or `[`.
    stack: Vec<u8>,
    /// `(offset, length, replacement)`, replacement padded with spaces to `length`.
    fixes: Vec<(usize, usize, &'static str)>,
}

/// What to scan next.
enum Next {
    Value,
    AfterValue,
    Done,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    fn run(&mut self) -> Result<(), ScanError> {
        let mut next = Next::Value;
        loop {
            next = match next {
                Next::Value => self.value()?,
                Next::AfterValue => self.after_value()?,
                Next::Done => return Ok(()),
            };
        }
    }

    /// One value, or the opening of a container (then its first element or its end).
    fn value(&mut self) -> Result<Next, ScanError> {
        self.skip_ws();
        match self.peek() {
            None => Err((self.i, "unexpected end of input")),
            Some(open @ (b'{' | b'[')) => {
                self.i += 1;
                self.stack.push(open);
                if self.stack.len() > MAX_DEPTH {
                    return Err((self.i - 1, "nesting too deep"));
                }
                self.skip_ws();
                match (open, self.peek()) {
                    (b'{', Some(b'}')) | (b'[', Some(b']')) => {
                        self.i += 1;
                        self.stack.pop();
                        Ok(Next::AfterValue)
                    }
                    (b'{', _) => {
                        self.key()?;
                        Ok(Next::Value)
                    }
                    _ => Ok(Next::Value),
                }
            }
            Some(b'"') => {
                self.string()?;
                Ok(Next::AfterValue)
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                self.number()?;
                if self.i - start > 1 || self.b.get(start) != Some(&b'0') {
                    self.fixes.push((start, self.i - start, "0"));
                }
                Ok(Next::AfterValue)
            }
            Some(first @ (b't' | b'f' | b'n')) => {
                let word: &[u8] = match first {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if self.b.get(self.i..self.i + word.len()) != Some(word) {
                    return Err((self.i, "invalid literal"));
                }
                self.i += word.len();
                Ok(Next::AfterValue)
            }
            Some(_) => Err((self.i, "expected a value")),
        }
    }

    /// After a value: the next element, the end of a container, or the end of the text.
    fn after_value(&mut self) -> Result<Next, ScanError> {
        self.skip_ws();
        match (self.stack.last(), self.peek()) {
            (None, None) => Ok(Next::Done),
            (None, Some(_)) => Err((self.i, "data after the top-level value")),
            (Some(_), None) => Err((self.i, "unexpected end of input")),
            (Some(b'{'), Some(b',')) => {
                self.i += 1;
                self.skip_ws();
                self.key()?;
                Ok(Next::Value)
            }
            (Some(b'['), Some(b',')) => {
                self.i += 1;
                Ok(Next::Value)
            }
            (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']')) => {
                self.i += 1;
                self.stack.pop();
                Ok(Next::AfterValue)
            }
            (Some(b'{'), Some(_)) => Err((self.i, "expected ',' or '}' after an object member")),
            (Some(_), Some(_)) => Err((self.i, "expected ',' or ']' after an array element")),
        }
    }

    /// An object key (`"..."`), then whitespace and the `:`.
    fn key(&mut self) -> Result<(), ScanError> {
        match self.peek() {
            Some(b'"') => self.string()?,
            None => return Err((self.i, "unexpected end of input")),
            Some(_) => return Err((self.i, "expected a string for an object key")),
        }
        self.skip_ws();
        match self.peek() {
            Some(b':') => {
                self.i += 1;
                Ok(())
            }
            None => Err((self.i, "unexpected end of input")),
            Some(_) => Err((self.i, "expected ':' after an object key")),
        }
    }

    /// The 4 hex digits of a `\u` escape at `at` (the backslash), if well-formed.
    fn u4(&self, at: usize) -> Option<u32> {
        match self.b.get(at..at + 6)? {
            [b'\\', b'u', hex @ ..] => hex
                .iter()
                .try_fold(0u32, |acc, &c| Some(acc * 16 + char::from(c).to_digit(16)?)),
            _ => None,
        }
    }

    /// A string, from its opening quote to after its closing one.
    fn string(&mut self) -> Result<(), ScanError> {
        self.i += 1;
        loop {
            match self.peek() {
                None => return Err((self.i, "unexpected end of input in a string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => match self.b.get(self.i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
                    Some(b'u') => {
                        let Some(first) = self.u4(self.i) else {
                            return Err((self.i, "invalid \\u escape in a string"));
                        };
                        if (0xD800..=0xDFFF).contains(&first) {
                            // Go unquote: a high surrogate followed by a low-surrogate escape is one
                            // rune; otherwise this escape is U+FFFD and the next one is read on its own.
                            let paired = (0xD800..0xDC00).contains(&first)
                                && self
                                    .u4(self.i + 6)
                                    .is_some_and(|second| (0xDC00..=0xDFFF).contains(&second));
                            if paired {
                                self.i += 12;
                                continue;
                            }
                            self.fixes.push((self.i, 6, "\\ufffd"));
                        }
                        self.i += 6;
                    }
                    _ => return Err((self.i, "invalid escape in a string")),
                },
                Some(c) if c < 0x20 => return Err((self.i, "control character in a string")),
                Some(_) => self.i += 1,
            }
        }
    }

    fn digits(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i > start
    }

    /// A number (JSON grammar, as Go's scanner), from its first byte.
    fn number(&mut self) -> Result<(), ScanError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err((self.i, "invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.digits() {
                return Err((self.i, "invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.digits() {
                return Err((self.i, "invalid number"));
            }
        }
        Ok(())
    }
}

/// Go `encoding/json` field-name matching for our (lowercase ASCII) field names: ASCII
/// case-insensitive, plus the two non-ASCII runes whose simple case folding reaches an ASCII letter.
pub(crate) fn go_fold_eq(key: &str, lower_name: &str) -> bool {
    let mut key_chars = key.chars();
    for want in lower_name.chars() {
        let folded = match key_chars.next() {
            Some('\u{17F}') => 's',  // LATIN SMALL LETTER LONG S folds with s/S
            Some('\u{212A}') => 'k', // KELVIN SIGN folds with k/K
            Some(c) => c.to_ascii_lowercase(),
            None => return false,
        };
        if folded != want {
            return false;
        }
    }
    key_chars.next().is_none()
}

/// Deserialises any JSON value like `serde_json::Value`, but rejects an object key seen twice in
/// one object (the kubelet's strict decoders do; `Value` would silently keep the last).
///
/// Errors raised here never contain input text except, when `known_keys` lists it, the repeated key.
#[derive(Clone, Copy)]
pub(crate) struct StrictValue<'k> {
    /// Keys that may be named in a duplicate-key error; `None` names every key.
    pub(crate) known_keys: Option<&'k [&'k str]>,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let named = self.known_keys.map_or(true, |known| known.contains(&key.as_str()));
                return Err(if named {
                    de::Error::custom(format_args!("duplicate key {}", Excerpt::debug(&key)))
                } else {
                    de::Error::custom("duplicate key")
                });
            }
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Parses exactly one JSON value (trailing whitespace allowed), rejecting repeated object keys.
pub(crate) fn parse_strict_json(data: &[u8], known_keys: Option<&[&str]>) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(data);
    let value = StrictValue { known_keys }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

#[cfg(test)]
mod tests;
