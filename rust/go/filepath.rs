//! Go `path/filepath.Match` (Unix), the glob the kubelet applies to each DNS label of a registry
//! pattern (Go `path/filepath/match.go`).

/// Go `path/filepath.Match` (Unix): `Err(())` for a malformed pattern (`ErrBadPattern`).
///
/// `*` matches any run of non-`/` characters, `?` one non-`/` character, `[...]` / `[^...]` a
/// character class with `lo-hi` ranges, `\` escapes the next character. Classes and `?` work on
/// runes (invalid UTF-8 is one U+FFFD per byte, as Go decodes it). Note: `[!...]` is NOT a negation
/// in Go, `!` is an ordinary member of the class.
///
/// ```
/// use _core::go::filepath::filepath_match;
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

#[cfg(test)]
mod tests;
