//! Go `time.Duration`: `Duration.String()` formatting and `time.ParseDuration` (Go `time/time.go`,
//! `time/format.go`), for the kubelet's `cacheDuration` and `defaultCacheDuration` fields.

use crate::limits::Excerpt;
use std::fmt;
use std::fmt::Write as _;

/// Largest whole number of seconds a Go `time.Duration` holds (`(2^63 - 1) ns`, 292 years).
pub const MAX_GO_DURATION_SECS: u64 = 9_223_372_036;

/// Go `time.Duration.String()` for a whole number of seconds: `0s`, `45s`, `5m0s`, `1h30m0s`.
///
/// Formats any `u64` arithmetically (Go itself cannot hold more than [`MAX_GO_DURATION_SECS`]).
///
/// ```
/// use _core::go::duration::format_go_duration;
/// assert_eq!(format_go_duration(5400), "1h30m0s");
/// ```
pub fn format_go_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// Go `time.Duration.String()` for any duration in nanoseconds (e.g. `-1m0s`, `1.5s`, `250ms`, `0s`).
pub fn format_go_duration_nanos(nanos: i64) -> String {
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if u == 0 {
        return "0s".to_owned();
    }
    if u < 1_000_000_000 {
        // Sub-second: the largest unit that keeps an integer part, with a trimmed fraction.
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        push_fraction(&mut out, u / scale, u % scale, scale);
        out.push_str(unit);
        return out;
    }
    let secs = u / 1_000_000_000;
    let frac = u % 1_000_000_000;
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if h > 0 || m > 0 {
        let _ = write!(out, "{m}m");
    }
    push_fraction(&mut out, s, frac, 1_000_000_000);
    out.push('s');
    out
}

/// Writes `int[.frac]` with the fraction (of `scale`) trimmed of trailing zeros.
fn push_fraction(out: &mut String, int: u64, frac: u64, scale: u64) {
    let _ = write!(out, "{int}");
    if frac == 0 || scale <= 1 {
        return;
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    out.push('.');
    out.push_str(digits.trim_end_matches('0'));
}

/// Why a Go duration string was refused, with Go's `time.ParseDuration` wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Malformed or out of range (Go reports overflow this way too).
    Invalid {
        /// The whole string given.
        input: String,
    },
    /// A number without a unit (`"5"`; only `"0"` may omit it).
    MissingUnit {
        /// The whole string given.
        input: String,
    },
    /// A unit other than ns, us, µs, μs, ms, s, m, h.
    UnknownUnit {
        /// The unknown unit.
        unit: String,
        /// The whole string given.
        input: String,
    },
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Invalid { input } => write!(f, "time: invalid duration {}", Excerpt::debug(input)),
            DurationError::MissingUnit { input } => {
                write!(f, "time: missing unit in duration {}", Excerpt::debug(input))
            }
            DurationError::UnknownUnit { unit, input } => {
                write!(
                    f,
                    "time: unknown unit {} in duration {}",
                    Excerpt::debug(unit),
                    Excerpt::debug(input)
                )
            }
        }
    }
}
impl std::error::Error for DurationError {}

const NANOS_LIMIT: u64 = 1 << 63;

fn unit_nanos(unit: &[u8]) -> Option<u64> {
    Some(match unit {
        b"ns" => 1,
        // "us", U+00B5 MICRO SIGN + s, U+03BC GREEK SMALL LETTER MU + s (Go time.unitMap).
        b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
        b"ms" => 1_000_000,
        b"s" => 1_000_000_000,
        b"m" => 60_000_000_000,
        b"h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Go `leadingFraction`: the digits at the start of `s` as (value, 10^digits kept, digits consumed).
/// Digits past the precision limit are consumed and ignored.
fn leading_fraction(s: &[u8]) -> (u64, f64, usize) {
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (mut frac, mut scale, mut overflow) = (0_u64, 1.0_f64, false);
    for &c in s.get(..digits).unwrap_or_default() {
        if overflow {
            continue;
        }
        if frac > (NANOS_LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let next = frac * 10 + u64::from(c - b'0');
        if next > NANOS_LIMIT {
            overflow = true;
            continue;
        }
        frac = next;
        scale *= 10.0;
    }
    (frac, scale, digits)
}

/// Go `time.ParseDuration` to signed nanoseconds: `[-+]?([0-9]*(\.[0-9]*)?unit)+`, or `0` alone.
/// Negative values are accepted, as Go does.
///
/// ```
/// use _core::go::duration::parse_go_duration_nanos;
/// assert_eq!(parse_go_duration_nanos("1.5h").unwrap(), 5_400_000_000_000);
/// assert_eq!(parse_go_duration_nanos("-1m").unwrap(), -60_000_000_000);
/// ```
pub fn parse_go_duration_nanos(input: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid {
        input: input.to_owned(),
    };
    let mut s = input.as_bytes();
    let mut neg = false;
    if let Some((&c, rest)) = s.split_first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = rest;
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while let Some(&first) = s.first() {
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        // Integer part (overflow is an error).
        let mut int: u64 = 0;
        let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
        for &c in s.get(..digits).unwrap_or_default() {
            if int > NANOS_LIMIT / 10 {
                return Err(invalid());
            }
            int = int * 10 + u64::from(c - b'0');
            if int > NANOS_LIMIT {
                return Err(invalid());
            }
        }
        let pre = digits > 0;
        s = s.get(digits..).unwrap_or_default();
        // Fraction: digits past the precision limit are consumed and ignored (Go leadingFraction).
        let (mut frac, mut scale, mut post) = (0, 1.0, false);
        if s.first() == Some(&b'.') {
            let consumed;
            (frac, scale, consumed) = leading_fraction(s.get(1..).unwrap_or_default());
            post = consumed > 0;
            s = s.get(1 + consumed..).unwrap_or_default();
        }
        if !pre && !post {
            return Err(invalid());
        }
        // Unit: everything up to the next '.' or digit.
        let ulen = s.iter().take_while(|&&c| c != b'.' && !c.is_ascii_digit()).count();
        if ulen == 0 {
            return Err(DurationError::MissingUnit {
                input: input.to_owned(),
            });
        }
        let unit_bytes = s.get(..ulen).unwrap_or_default();
        s = s.get(ulen..).unwrap_or_default();
        let Some(unit) = unit_nanos(unit_bytes) else {
            return Err(DurationError::UnknownUnit {
                unit: String::from_utf8_lossy(unit_bytes).into_owned(),
                input: input.to_owned(),
            });
        };
        if int > NANOS_LIMIT / unit {
            return Err(invalid());
        }
        let mut v = int * unit;
        if frac > 0 {
            // Go: float64 keeps fractions of hours nanosecond-accurate; truncation as in Go.
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            let f = (frac as f64 * (unit as f64 / scale)) as u64;
            v = v.checked_add(f).ok_or_else(invalid)?;
            if v > NANOS_LIMIT {
                return Err(invalid());
            }
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > NANOS_LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        // total <= 2^63, so -total fits (2^63 itself is i64::MIN).
        return Ok(0_i64.wrapping_sub_unsigned(total));
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Go `time.ParseDuration` (see [`parse_go_duration_nanos`]) for non-negative durations.
///
/// A negative duration parses in Go; here it is an `Err` whose text starts with
/// `negative duration` (callers that need the sign use [`parse_go_duration_nanos`]). Other errors
/// carry Go's wording, e.g. `time: unknown unit "x" in duration "5x"`.
///
/// ```
/// use _core::go::duration::parse_go_duration;
/// assert_eq!(parse_go_duration("1h30m").unwrap().as_secs(), 5400);
/// assert!(parse_go_duration("-5m").unwrap_err().starts_with("negative duration"));
/// ```
pub fn parse_go_duration(s: &str) -> Result<std::time::Duration, String> {
    let nanos = parse_go_duration_nanos(s).map_err(|e| e.to_string())?;
    let nanos = u64::try_from(nanos).map_err(|_| format!("negative duration {}", Excerpt::debug(s)))?;
    Ok(std::time::Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests;
