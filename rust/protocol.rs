//! The kubelet exec credential-provider wire format: `CredentialProviderRequest` in,
//! `CredentialProviderResponse` out, plus Go `time.Duration` strings.
//!
//! Spec: ../shared/spec/kubelet.md §e.3 (process execution, strict response decoding), §e.4 (wire
//! types, group `credentialprovider.kubelet.k8s.io`, versions v1alpha1, v1beta1, v1).
//!
//! Decoding decisions (the kubelet is the only sender, so these only matter for hand-made input):
//! - The request must be one JSON object (YAML, several values or trailing text are rejected).
//! - Unknown fields are accepted and ignored: a newer kubelet may add fields.
//! - A key repeated at the top level is rejected (its name is given only if it is a known field).
//! - `serviceAccountToken` / `serviceAccountAnnotations` are read only in `v1` (the kubelet's
//!   conversions drop them for v1alpha1/v1beta1); in the older versions they are ignored unchecked.
//! - Error messages never contain input text: the request may carry a service-account token.

use crate::keyring::{AuthEntry, CacheKeyType};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;
use std::fmt::Write as _;

/// The API group of the exec protocol (§e.4).
pub const GROUP: &str = "credentialprovider.kubelet.k8s.io";

/// Largest request accepted on stdin (the kubelet sends a few hundred bytes).
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// Largest whole number of seconds a Go `time.Duration` holds (`(2^63 - 1) ns`, 292 years).
pub const MAX_GO_DURATION_SECS: u64 = 9_223_372_036;

/// A version of the `credentialprovider.kubelet.k8s.io` API (§e.4); the three are structurally
/// identical except the v1 request's service-account fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `credentialprovider.kubelet.k8s.io/v1` (GA in 1.26; the only one with service-account fields).
    V1,
    /// `credentialprovider.kubelet.k8s.io/v1beta1` (1.24).
    V1beta1,
    /// `credentialprovider.kubelet.k8s.io/v1alpha1` (1.20).
    V1alpha1,
}

impl ApiVersion {
    /// All versions, newest first.
    pub const ALL: [ApiVersion; 3] = [ApiVersion::V1, ApiVersion::V1beta1, ApiVersion::V1alpha1];

    /// The full `apiVersion` string, e.g. `credentialprovider.kubelet.k8s.io/v1`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "credentialprovider.kubelet.k8s.io/v1",
            ApiVersion::V1beta1 => "credentialprovider.kubelet.k8s.io/v1beta1",
            ApiVersion::V1alpha1 => "credentialprovider.kubelet.k8s.io/v1alpha1",
        }
    }

    /// Parses a full `apiVersion` string (exact, case-sensitive, as the kubelet scheme does).
    pub fn from_api_version(s: &str) -> Option<ApiVersion> {
        ApiVersion::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decoded `CredentialProviderRequest` (§e.4).
///
/// `Debug` redacts the token; nothing in this module ever prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The request's version; the response must use the same one (§e.3).
    pub api_version: ApiVersion,
    /// As sent (the kubelet sends the normalised repository). Non-empty; its syntax is the
    /// caller's to check with the reference parser.
    pub image: String,
    /// v1 only; `None` when absent, null or empty.
    pub service_account_token: Option<String>,
    /// v1 only; sorted by key (the kubelet sends them sorted too).
    pub service_account_annotations: Vec<(String, String)>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("api_version", &self.api_version)
            .field("image", &self.image)
            .field(
                "service_account_token",
                &self.service_account_token.as_ref().map(|_| "<redacted>"),
            )
            .field("service_account_annotations", &self.service_account_annotations)
            .finish()
    }
}

/// Why a request was refused. The message names the field, never its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// One line, naming the offending field; never request content.
    pub message: String,
}
impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for RequestError {}

fn request_error(message: impl Into<String>) -> RequestError {
    RequestError {
        message: message.into(),
    }
}

/// The JSON type name of a value, for messages that must not quote the value.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const REQUEST_FIELDS: [&str; 5] = [
    "kind",
    "apiVersion",
    "image",
    "serviceAccountToken",
    "serviceAccountAnnotations",
];

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
                    de::Error::custom(format_args!("duplicate key {key:?}"))
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

/// Decodes one `CredentialProviderRequest` (§e.4): at most [`MAX_REQUEST_BYTES`], one JSON object,
/// `kind` `CredentialProviderRequest`, a supported `apiVersion`, a non-empty string `image`.
/// Unknown fields are ignored. No error message contains input text.
///
/// ```
/// use _core::protocol::{decode_request, ApiVersion};
/// let req = decode_request(br#"{"kind":"CredentialProviderRequest",
///     "apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"registry.io/a/b"}"#).unwrap();
/// assert_eq!((req.api_version, req.image.as_str()), (ApiVersion::V1, "registry.io/a/b"));
/// ```
pub fn decode_request(data: &[u8]) -> Result<Request, RequestError> {
    if data.len() > MAX_REQUEST_BYTES {
        return Err(request_error("request is larger than 1 MiB"));
    }
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(request_error("empty request on stdin"));
    }
    let value = parse_strict_json(data, Some(&REQUEST_FIELDS))
        .map_err(|err| request_error(format!("request is not JSON: {err}")))?;
    let Value::Object(object) = value else {
        return Err(request_error(format!(
            "request is not a JSON object (got {})",
            json_type(&value)
        )));
    };

    match object.get("kind") {
        None | Some(Value::Null) => {
            return Err(request_error("kind: required, expected \"CredentialProviderRequest\""))
        }
        Some(Value::String(kind)) if kind == "CredentialProviderRequest" => {}
        Some(Value::String(_)) => return Err(request_error("kind: expected \"CredentialProviderRequest\"")),
        Some(other) => {
            return Err(request_error(format!(
                "kind: expected the string \"CredentialProviderRequest\", got {}",
                json_type(other)
            )))
        }
    }

    let supported = || {
        ApiVersion::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let api_version = match object.get("apiVersion") {
        None | Some(Value::Null) => {
            return Err(request_error(format!(
                "apiVersion: required, expected one of {}",
                supported()
            )))
        }
        Some(Value::String(s)) => ApiVersion::from_api_version(s)
            .ok_or_else(|| request_error(format!("apiVersion: unsupported, expected one of {}", supported())))?,
        Some(other) => {
            return Err(request_error(format!(
                "apiVersion: expected a string, got {}",
                json_type(other)
            )))
        }
    };

    let image = match object.get("image") {
        None | Some(Value::Null) => return Err(request_error("image: required")),
        Some(Value::String(s)) if s.is_empty() => return Err(request_error("image: must not be empty")),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(request_error(format!(
                "image: expected a string, got {}",
                json_type(other)
            )))
        }
    };

    let mut request = Request {
        api_version,
        image,
        service_account_token: None,
        service_account_annotations: Vec::new(),
    };
    if api_version == ApiVersion::V1 {
        // The kubelet's v1alpha1/v1beta1 conversions drop the token fields (§e.4): ignored there.
        decode_service_account_fields(&object, &mut request)?;
    }
    Ok(request)
}

/// The v1-only `serviceAccountToken` and `serviceAccountAnnotations` (§e.4); values are never echoed.
fn decode_service_account_fields(object: &Map<String, Value>, request: &mut Request) -> Result<(), RequestError> {
    match object.get("serviceAccountToken") {
        None | Some(Value::Null) => {}
        Some(Value::String(token)) => {
            if !token.is_empty() {
                request.service_account_token = Some(token.clone());
            }
        }
        Some(other) => {
            return Err(request_error(format!(
                "serviceAccountToken: expected a string, got {}",
                json_type(other)
            )))
        }
    }
    match object.get("serviceAccountAnnotations") {
        None | Some(Value::Null) => {}
        Some(Value::Object(annotations)) => {
            for (key, value) in annotations {
                match value {
                    Value::String(v) => request.service_account_annotations.push((key.clone(), v.clone())),
                    // Annotation keys are configured names (not secrets); values are not echoed.
                    other => {
                        return Err(request_error(format!(
                            "serviceAccountAnnotations[{key:?}]: expected a string, got {}",
                            json_type(other)
                        )))
                    }
                }
            }
            request.service_account_annotations.sort();
        }
        Some(other) => {
            return Err(request_error(format!(
                "serviceAccountAnnotations: expected an object of strings, got {}",
                json_type(other)
            )))
        }
    }
    Ok(())
}

/// The `cacheKeyType` string of the wire format (§e.2 step 7: exact case).
pub fn cache_key_type_str(cache_key_type: CacheKeyType) -> &'static str {
    match cache_key_type {
        CacheKeyType::Image => "Image",
        CacheKeyType::Registry => "Registry",
        CacheKeyType::Global => "Global",
    }
}

/// Appends `s` as a JSON string literal (quotes, backslash and control characters escaped,
/// everything else, non-ASCII included, kept as UTF-8).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Encodes one `CredentialProviderResponse` (§e.4), newline-terminated, in exactly the form the
/// kubelet's strict decoder accepts (§e.3): `kind`, `apiVersion`, `cacheKeyType`, `cacheDuration`
/// (a Go duration string; clamped to [`MAX_GO_DURATION_SECS`], beyond which Go's parser fails and
/// the kubelet would discard the whole response), and `auth` with only `username`/`password`.
///
/// `auth` keys are written sorted (byte order); when a key is passed twice the first entry wins.
///
/// ```
/// use _core::keyring::{AuthEntry, CacheKeyType};
/// use _core::protocol::{encode_response, ApiVersion};
/// let entry = AuthEntry { username: "u".into(), password: "p".into(), ..Default::default() };
/// let out = encode_response(ApiVersion::V1, CacheKeyType::Registry, 300, &[("r.io".into(), &entry)]);
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\
///      \"cacheKeyType\":\"Registry\",\"cacheDuration\":\"5m0s\",\
///      \"auth\":{\"r.io\":{\"username\":\"u\",\"password\":\"p\"}}}\n"
/// );
/// ```
pub fn encode_response(
    api_version: ApiVersion,
    cache_key_type: CacheKeyType,
    cache_duration_secs: u64,
    auth: &[(String, &AuthEntry)],
) -> Vec<u8> {
    let mut entries: Vec<&(String, &AuthEntry)> = auth.iter().collect();
    // Stable sort, then drop later duplicates: the caller's first entry for a key wins.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|later, earlier| later.0 == earlier.0);

    let mut out = String::with_capacity(200 + entries.len() * 64);
    out.push_str("{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":");
    push_json_string(&mut out, api_version.as_str());
    out.push_str(",\"cacheKeyType\":");
    push_json_string(&mut out, cache_key_type_str(cache_key_type));
    out.push_str(",\"cacheDuration\":");
    push_json_string(
        &mut out,
        &format_go_duration(cache_duration_secs.min(MAX_GO_DURATION_SECS)),
    );
    out.push_str(",\"auth\":{");
    for (i, (key, entry)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, key);
        out.push_str(":{\"username\":");
        push_json_string(&mut out, &entry.username);
        out.push_str(",\"password\":");
        push_json_string(&mut out, &entry.password);
        out.push('}');
    }
    out.push_str("}}\n");
    out.into_bytes()
}

/// Go `time.Duration.String()` for a whole number of seconds: `0s`, `45s`, `5m0s`, `1h30m0s`.
///
/// Formats any `u64` arithmetically (Go itself cannot hold more than [`MAX_GO_DURATION_SECS`]).
///
/// ```
/// use _core::protocol::format_go_duration;
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
            DurationError::Invalid { input } => write!(f, "time: invalid duration {input:?}"),
            DurationError::MissingUnit { input } => write!(f, "time: missing unit in duration {input:?}"),
            DurationError::UnknownUnit { unit, input } => {
                write!(f, "time: unknown unit {unit:?} in duration {input:?}")
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
/// use _core::protocol::parse_go_duration_nanos;
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
/// use _core::protocol::parse_go_duration;
/// assert_eq!(parse_go_duration("1h30m").unwrap().as_secs(), 5400);
/// assert!(parse_go_duration("-5m").unwrap_err().starts_with("negative duration"));
/// ```
pub fn parse_go_duration(s: &str) -> Result<std::time::Duration, String> {
    let nanos = parse_go_duration_nanos(s).map_err(|e| e.to_string())?;
    let nanos = u64::try_from(nanos).map_err(|_| format!("negative duration {s:?}"))?;
    Ok(std::time::Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    const V1_REQUEST: &str = include_str!("../tests/fixtures/requests/v1.json");
    const V1_TOKEN_REQUEST: &str = include_str!("../tests/fixtures/requests/v1-service-account.json");
    const V1BETA1_REQUEST: &str = include_str!("../tests/fixtures/requests/v1beta1.json");
    const V1ALPHA1_REQUEST: &str = include_str!("../tests/fixtures/requests/v1alpha1.json");

    fn err(data: &[u8]) -> String {
        decode_request(data).unwrap_err().message
    }

    #[test]
    fn golden_requests_of_every_version_decode() {
        let cases = [
            (V1_REQUEST, ApiVersion::V1, "registry.example.com/team/app"),
            (V1BETA1_REQUEST, ApiVersion::V1beta1, "docker.io/library/nginx"),
            (
                V1ALPHA1_REQUEST,
                ApiVersion::V1alpha1,
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            ),
        ];
        for (text, version, image) in cases {
            let req = decode_request(text.as_bytes()).unwrap();
            assert_eq!(req.api_version, version);
            assert_eq!(req.image, image);
            assert_eq!(req.service_account_token, None);
            assert!(req.service_account_annotations.is_empty());
        }
    }

    #[test]
    fn v1_request_with_service_account_fields() {
        let req = decode_request(V1_TOKEN_REQUEST.as_bytes()).unwrap();
        assert_eq!(req.api_version, ApiVersion::V1);
        assert_eq!(req.image, "registry.example.com/team/app");
        assert_eq!(
            req.service_account_token.as_deref(),
            Some("fake-token-for-tests.not.a.jwt")
        );
        assert_eq!(
            req.service_account_annotations,
            vec![
                ("a.example.com/role".to_owned(), "puller".to_owned()),
                ("z.example.com/tenant".to_owned(), "blue".to_owned()),
            ]
        );
        // Debug never shows the token.
        let debug = format!("{req:?}");
        assert!(!debug.contains("fake-token"), "{debug}");
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn token_fields_are_ignored_before_v1() {
        for version in ["v1beta1", "v1alpha1"] {
            let text = format!(
                r#"{{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/{version}",
                "image":"r.io/a","serviceAccountToken":123,"serviceAccountAnnotations":{{"k":"v"}}}}"#
            );
            let req = decode_request(text.as_bytes()).unwrap();
            assert_eq!(req.service_account_token, None);
            assert!(req.service_account_annotations.is_empty());
        }
    }

    #[test]
    fn empty_token_and_nulls_mean_absent() {
        let req = decode_request(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1",
            "image":"r.io/a","serviceAccountToken":"","serviceAccountAnnotations":null}"#,
        )
        .unwrap();
        assert_eq!(req.service_account_token, None);
        assert!(req.service_account_annotations.is_empty());
    }

    #[test]
    fn unknown_fields_and_surrounding_whitespace_are_accepted() {
        let req = decode_request(
            b" \n\t{\"futureField\":{\"x\":[1,2]},\"kind\":\"CredentialProviderRequest\",\
            \"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"image\":\"r.io/a\"}\r\n\n",
        )
        .unwrap();
        assert_eq!(req.image, "r.io/a");
    }

    #[test]
    fn size_limit() {
        let mut big = br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"}"#.to_vec();
        big.resize(MAX_REQUEST_BYTES, b' ');
        assert!(decode_request(&big).is_ok(), "exactly 1 MiB is accepted");
        big.push(b' ');
        assert_eq!(err(&big), "request is larger than 1 MiB");
    }

    #[test]
    fn empty_input() {
        for data in [&b""[..], b"   ", b"\n\r\n\t"] {
            assert_eq!(err(data), "empty request on stdin");
        }
    }

    #[test]
    fn not_json_never_echoes_the_input() {
        let secret = "s3cr3t-token-value";
        let cases: Vec<(String, &str)> = vec![
            (
                format!("kind: CredentialProviderRequest\nserviceAccountToken: {secret}\n"),
                "line 1 column 1",
            ),
            (
                format!(r#"{{"kind":"CredentialProviderRequest","serviceAccountToken":"{secret}"}} trailing"#),
                "trailing characters",
            ),
            (
                format!(r#"{{"kind":"CredentialProviderRequest"}}{{"serviceAccountToken":"{secret}"}}"#),
                "trailing characters",
            ),
            (format!(r#"{{"serviceAccountToken":"{secret}""#), "EOF"),
            (format!(r#"{{"serviceAccountToken":{secret}}}"#), "expected value"),
        ];
        for (input, needle) in cases {
            let message = err(input.as_bytes());
            assert!(message.starts_with("request is not JSON: "), "{message}");
            assert!(message.contains(needle), "{message} lacks {needle}");
            assert!(message.contains("line "), "position missing: {message}");
            assert!(!message.contains(secret), "echoed: {message}");
        }
    }

    #[test]
    fn invalid_utf8_is_not_json() {
        let message = err(b"{\"kind\":\"\xff\"}");
        assert!(message.starts_with("request is not JSON: "), "{message}");
    }

    #[test]
    fn non_object_values_are_refused_without_echo() {
        for (input, kind) in [
            (&br#""s3cr3t""#[..], "a string"),
            (b"[\"s3cr3t\"]", "an array"),
            (b"42", "a number"),
            (b"null", "null"),
            (b"true", "a boolean"),
        ] {
            let message = err(input);
            assert_eq!(message, format!("request is not a JSON object (got {kind})"));
        }
    }

    #[test]
    fn duplicate_top_level_keys() {
        let message = err(br#"{"kind":"CredentialProviderRequest","image":"a","image":"b"}"#);
        assert!(
            message.starts_with("request is not JSON: duplicate key \"image\""),
            "{message}"
        );
        let message = err(br#"{"s3cr3t":1,"s3cr3t":2}"#);
        assert!(
            message.starts_with("request is not JSON: duplicate key at"),
            "{message}"
        );
        assert!(!message.contains("s3cr3t"));
    }

    #[test]
    fn field_errors_name_the_field_not_the_value() {
        let v1 = "credentialprovider.kubelet.k8s.io/v1";
        let cases: Vec<(String, String)> = vec![
            (
                format!(r#"{{"apiVersion":"{v1}","image":"r.io/a"}}"#),
                "kind: required, expected \"CredentialProviderRequest\"".to_owned(),
            ),
            (
                format!(r#"{{"kind":"CredentialProviderResponse","apiVersion":"{v1}","image":"r.io/a"}}"#),
                "kind: expected \"CredentialProviderRequest\"".to_owned(),
            ),
            (
                format!(r#"{{"kind":"credentialproviderrequest","apiVersion":"{v1}","image":"r.io/a"}}"#),
                "kind: expected \"CredentialProviderRequest\"".to_owned(),
            ),
            (
                format!(r#"{{"kind":7,"apiVersion":"{v1}","image":"r.io/a"}}"#),
                "kind: expected the string \"CredentialProviderRequest\", got a number".to_owned(),
            ),
            (
                r#"{"kind":"CredentialProviderRequest","image":"r.io/a"}"#.to_owned(),
                "apiVersion: required, expected one of credentialprovider.kubelet.k8s.io/v1, \
                 credentialprovider.kubelet.k8s.io/v1beta1, credentialprovider.kubelet.k8s.io/v1alpha1"
                    .to_owned(),
            ),
            (
                r#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"r.io/a"}"#.to_owned(),
                "apiVersion: unsupported, expected one of credentialprovider.kubelet.k8s.io/v1, \
                 credentialprovider.kubelet.k8s.io/v1beta1, credentialprovider.kubelet.k8s.io/v1alpha1"
                    .to_owned(),
            ),
            (
                r#"{"kind":"CredentialProviderRequest","apiVersion":"Credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"}"#.to_owned(),
                "apiVersion: unsupported, expected one of credentialprovider.kubelet.k8s.io/v1, \
                 credentialprovider.kubelet.k8s.io/v1beta1, credentialprovider.kubelet.k8s.io/v1alpha1"
                    .to_owned(),
            ),
            (
                r#"{"kind":"CredentialProviderRequest","apiVersion":["v1"],"image":"r.io/a"}"#.to_owned(),
                "apiVersion: expected a string, got an array".to_owned(),
            ),
            (
                format!(r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}"}}"#),
                "image: required".to_owned(),
            ),
            (
                format!(r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":null}}"#),
                "image: required".to_owned(),
            ),
            (
                format!(r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":""}}"#),
                "image: must not be empty".to_owned(),
            ),
            (
                format!(r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":{{"s3cr3t":1}}}}"#),
                "image: expected a string, got an object".to_owned(),
            ),
            (
                format!(
                    r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":"r.io/a","serviceAccountToken":12345}}"#
                ),
                "serviceAccountToken: expected a string, got a number".to_owned(),
            ),
            (
                format!(
                    r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":"r.io/a","serviceAccountAnnotations":"s3cr3t"}}"#
                ),
                "serviceAccountAnnotations: expected an object of strings, got a string".to_owned(),
            ),
            (
                format!(
                    r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":"r.io/a","serviceAccountAnnotations":{{"k":7}}}}"#
                ),
                "serviceAccountAnnotations[\"k\"]: expected a string, got a number".to_owned(),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(err(input.as_bytes()), expected, "input {input}");
        }
    }

    #[test]
    fn invalid_fixtures_give_their_expected_errors() {
        let expected: BTreeMap<String, String> =
            serde_json::from_str(include_str!("../tests/fixtures/requests/invalid/expected.json")).unwrap();
        let files: [(&str, &str); 8] = [
            (
                "empty.json",
                include_str!("../tests/fixtures/requests/invalid/empty.json"),
            ),
            (
                "yaml.json",
                include_str!("../tests/fixtures/requests/invalid/yaml.json"),
            ),
            (
                "trailing-garbage.json",
                include_str!("../tests/fixtures/requests/invalid/trailing-garbage.json"),
            ),
            (
                "wrong-kind.json",
                include_str!("../tests/fixtures/requests/invalid/wrong-kind.json"),
            ),
            (
                "unknown-version.json",
                include_str!("../tests/fixtures/requests/invalid/unknown-version.json"),
            ),
            (
                "missing-image.json",
                include_str!("../tests/fixtures/requests/invalid/missing-image.json"),
            ),
            (
                "empty-image.json",
                include_str!("../tests/fixtures/requests/invalid/empty-image.json"),
            ),
            (
                "token-not-string.json",
                include_str!("../tests/fixtures/requests/invalid/token-not-string.json"),
            ),
        ];
        assert_eq!(expected.len(), files.len(), "every fixture has an expectation");
        for (name, data) in files {
            let message = err(data.as_bytes());
            assert_eq!(&message, &expected[name], "{name}");
            assert!(!message.contains("fake-token"), "{name} echoed the token");
        }
    }

    #[test]
    fn image_is_returned_as_sent() {
        // Syntax is the caller's to check (reference parser); decode only requires a non-empty string.
        let req = decode_request(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"NOT a ref \u00e9"}"#,
        )
        .unwrap();
        assert_eq!(req.image, "NOT a ref \u{e9}");
    }

    // ---- responses ----

    /// The kubelet's decoded response: unknown fields are errors, names are case-sensitive (§e.3).
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct StrictResponse {
        kind: String,
        #[serde(rename = "apiVersion")]
        api_version: String,
        #[serde(rename = "cacheKeyType")]
        cache_key_type: String,
        #[serde(rename = "cacheDuration")]
        cache_duration: Option<String>,
        auth: Option<BTreeMap<String, StrictAuth>>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct StrictAuth {
        username: String,
        password: String,
    }

    /// Decodes like the kubelet: one JSON value, no duplicate keys at any depth, strict fields.
    fn kubelet_decode(out: &[u8]) -> StrictResponse {
        let text = std::str::from_utf8(out).unwrap();
        assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
        assert_eq!(text.matches('\n').count(), 1, "one line");
        let value = parse_strict_json(out, None).unwrap();
        serde_json::from_value(value).unwrap()
    }

    fn entry(username: &str, password: &str) -> AuthEntry {
        AuthEntry {
            username: username.to_owned(),
            password: password.to_owned(),
            email: "never@emitted.example".to_owned(),
            identity_token: "never-emitted-identity".to_owned(),
            registry_token: "never-emitted-registry".to_owned(),
        }
    }

    #[test]
    fn response_exact_bytes() {
        let a = entry("user", "pass");
        let out = encode_response(
            ApiVersion::V1beta1,
            CacheKeyType::Image,
            0,
            &[("r.io/a".to_owned(), &a)],
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1beta1\",\
             \"cacheKeyType\":\"Image\",\"cacheDuration\":\"0s\",\
             \"auth\":{\"r.io/a\":{\"username\":\"user\",\"password\":\"pass\"}}}\n"
        );
        let out = encode_response(ApiVersion::V1alpha1, CacheKeyType::Global, 3600, &[]);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1alpha1\",\
             \"cacheKeyType\":\"Global\",\"cacheDuration\":\"1h0m0s\",\"auth\":{}}\n"
        );
    }

    #[test]
    fn response_keys_sorted_first_duplicate_wins() {
        let (a, b, c) = (entry("a", "1"), entry("b", "2"), entry("c", "3"));
        let auth = vec![
            ("z.io".to_owned(), &a),
            ("*.a.io".to_owned(), &b),
            ("z.io".to_owned(), &c),
            ("a.io:5000/p".to_owned(), &c),
        ];
        let out = encode_response(ApiVersion::V1, CacheKeyType::Registry, 300, &auth);
        let text = String::from_utf8(out.clone()).unwrap();
        let keys: Vec<usize> = ["\"*.a.io\"", "\"a.io:5000/p\"", "\"z.io\""]
            .iter()
            .map(|k| text.find(k).unwrap())
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{text}");
        let decoded = kubelet_decode(&out);
        let map = decoded.auth.unwrap();
        assert_eq!(map.len(), 3);
        assert_eq!(
            map["z.io"],
            StrictAuth {
                username: "a".into(),
                password: "1".into()
            }
        );
        assert!(!text.contains("never"), "only username/password are emitted: {text}");
    }

    #[test]
    fn response_escaping_round_trips() {
        let nasty = [
            "quote\" backslash\\ slash/",
            "ctl\u{0}\u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f}",
            "utf8 é 漢字 🚀 \u{2028}\u{2029}",
            "",
        ];
        for (i, s) in nasty.iter().enumerate() {
            let e = entry(s, s);
            let key = format!("{s}{i}");
            let out = encode_response(ApiVersion::V1, CacheKeyType::Image, 1, &[(key.clone(), &e)]);
            let text = std::str::from_utf8(&out).unwrap();
            assert!(
                !text.bytes().any(|b| b < 0x20 && b != b'\n'),
                "raw control char in {text:?}"
            );
            let decoded = kubelet_decode(&out);
            let got = &decoded.auth.unwrap()[&key];
            assert_eq!((got.username.as_str(), got.password.as_str()), (*s, *s));
        }
        // Non-ASCII stays UTF-8, not \u escapes.
        let e = entry("é", "漢");
        let out = encode_response(ApiVersion::V1, CacheKeyType::Image, 1, &[("k".into(), &e)]);
        assert!(std::str::from_utf8(&out)
            .unwrap()
            .contains("\"username\":\"é\",\"password\":\"漢\""));
    }

    #[test]
    fn response_passes_strict_decode_for_every_version_and_type() {
        let a = entry("u", "p");
        for version in ApiVersion::ALL {
            for (ckt, name) in [
                (CacheKeyType::Image, "Image"),
                (CacheKeyType::Registry, "Registry"),
                (CacheKeyType::Global, "Global"),
            ] {
                let out = encode_response(version, ckt, 90, &[("r.io".into(), &a)]);
                let decoded = kubelet_decode(&out);
                assert_eq!(decoded.kind, "CredentialProviderResponse");
                assert_eq!(decoded.api_version, version.as_str());
                assert_eq!(decoded.cache_key_type, name);
                let duration = decoded.cache_duration.unwrap();
                assert_eq!(duration, "1m30s");
                assert_eq!(parse_go_duration(&duration).unwrap().as_secs(), 90);
            }
        }
    }

    #[test]
    fn strict_decoder_emulation_rejects_what_the_kubelet_rejects() {
        // Sanity check of the emulation itself: a wrong-case field, an extra field, a duplicate key.
        let bad = [
            &br#"{"kind":"CredentialProviderResponse","apiVersion":"x","cacheKeyType":"Image","Auth":{}}"#[..],
            br#"{"kind":"CredentialProviderResponse","apiVersion":"x","cacheKeyType":"Image","auth":{"r":{"username":"u","password":"p","email":""}}}"#,
            br#"{"kind":"CredentialProviderResponse","apiVersion":"x","cacheKeyType":"Image","cacheKeyType":"Image"}"#,
        ];
        for data in bad {
            let ok = parse_strict_json(data, None)
                .ok()
                .and_then(|v| serde_json::from_value::<StrictResponse>(v).ok());
            assert!(ok.is_none(), "{}", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn cache_duration_is_clamped_to_go_range() {
        let out = encode_response(ApiVersion::V1, CacheKeyType::Image, u64::MAX, &[]);
        let decoded = kubelet_decode(&out);
        let d = decoded.cache_duration.unwrap();
        assert_eq!(d, "2562047h47m16s");
        assert_eq!(parse_go_duration(&d).unwrap().as_secs(), MAX_GO_DURATION_SECS);
    }

    // ---- durations ----

    #[test]
    fn format_whole_seconds_like_go() {
        for (secs, text) in [
            (0, "0s"),
            (1, "1s"),
            (45, "45s"),
            (59, "59s"),
            (60, "1m0s"),
            (300, "5m0s"),
            (3599, "59m59s"),
            (3600, "1h0m0s"),
            (5400, "1h30m0s"),
            (86_400, "24h0m0s"),
            (90_061, "25h1m1s"),
            (MAX_GO_DURATION_SECS, "2562047h47m16s"),
        ] {
            assert_eq!(format_go_duration(secs), text);
        }
    }

    #[test]
    fn format_nanos_like_go() {
        // Values from Go's time.Duration.String documentation and tests.
        for (nanos, text) in [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (-60_000_000_000, "-1m0s"),
            (4 * 60_000_000_000 + 5_001_000_000, "4m5.001s"),
            (5 * 3_600_000_000_000 + 6 * 60_000_000_000 + 7_001_000_000, "5h6m7.001s"),
            (8 * 60_000_000_000 + 1, "8m0.000000001s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(format_go_duration_nanos(nanos), text, "{nanos}");
        }
    }

    #[test]
    fn parse_valid_durations() {
        // Cases from Go's time.ParseDuration tests.
        let cases: [(&str, i64); 28] = [
            ("0", 0),
            ("5s", 5_000_000_000),
            ("30s", 30_000_000_000),
            ("1478s", 1_478_000_000_000),
            ("-5s", -5_000_000_000),
            ("+5s", 5_000_000_000),
            ("-0", 0),
            ("+0", 0),
            ("5.0s", 5_000_000_000),
            ("5.6s", 5_600_000_000),
            ("5.s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1.0s", 1_000_000_000),
            ("1.004s", 1_004_000_000),
            ("100.00100s", 100_001_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12µs", 12_000),
            ("12μs", 12_000),
            ("13ms", 13_000_000),
            ("14s", 14_000_000_000),
            ("15m", 900_000_000_000),
            ("16h", 57_600_000_000_000),
            ("3h30m", 12_600_000_000_000),
            ("10.5s4m", 250_500_000_000),
            ("-2m3.4s", -123_400_000_000),
            ("1.5h", 5_400_000_000_000),
            ("9223372036854775807ns", i64::MAX),
        ];
        for (input, nanos) in cases {
            assert_eq!(parse_go_duration_nanos(input), Ok(nanos), "{input}");
        }
        assert_eq!(parse_go_duration_nanos("-9223372036854775808ns"), Ok(i64::MIN));
        assert_eq!(parse_go_duration_nanos("0.3333333333333333333h"), Ok(1_200_000_000_000));
        assert_eq!(parse_go_duration_nanos("9007199254.740993ms"), Ok((1 << 53) + 1));
    }

    #[test]
    fn parse_invalid_durations() {
        let invalid = |s: &str| DurationError::Invalid { input: s.to_owned() };
        for input in [
            "",
            "3",
            "-",
            "+",
            "s",
            ".",
            "-.",
            ".s",
            "+.s",
            "1d",
            "5x",
            "1.5",
            "3000000h",
            "9223372036854775808ns",
            "9223372036854775807s",
            " 5s",
            "5s ",
            "5 s",
            "\u{e9}",
            "1h\u{e9}",
        ] {
            let got = parse_go_duration_nanos(input);
            assert!(got.is_err(), "{input:?} -> {got:?}");
        }
        assert_eq!(parse_go_duration_nanos(""), Err(invalid("")));
        assert_eq!(parse_go_duration_nanos("s"), Err(invalid("s")));
        assert_eq!(parse_go_duration_nanos(".s"), Err(invalid(".s")));
        assert_eq!(
            parse_go_duration_nanos("3"),
            Err(DurationError::MissingUnit { input: "3".into() })
        );
        assert_eq!(
            parse_go_duration_nanos("5x").unwrap_err().to_string(),
            "time: unknown unit \"x\" in duration \"5x\""
        );
        assert_eq!(
            parse_go_duration_nanos("3000000h").unwrap_err().to_string(),
            "time: invalid duration \"3000000h\""
        );
        assert_eq!(
            parse_go_duration_nanos("1.5").unwrap_err().to_string(),
            "time: missing unit in duration \"1.5\""
        );
    }

    #[test]
    fn std_duration_wrapper() {
        assert_eq!(parse_go_duration("1h30m"), Ok(std::time::Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("1.5s"), Ok(std::time::Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("-0s"), Ok(std::time::Duration::ZERO));
        assert_eq!(parse_go_duration("-5m"), Err("negative duration \"-5m\"".to_owned()));
        assert_eq!(
            parse_go_duration("5"),
            Err("time: missing unit in duration \"5\"".to_owned())
        );
    }

    #[test]
    fn format_then_parse_round_trips() {
        for secs in [0_u64, 1, 59, 61, 3599, 3601, 86_399, 1_000_000, MAX_GO_DURATION_SECS] {
            assert_eq!(parse_go_duration(&format_go_duration(secs)).unwrap().as_secs(), secs);
        }
        for nanos in [
            1_i64,
            999,
            1_001,
            999_999_999,
            1_000_000_001,
            -7,
            i64::MAX,
            i64::MIN + 1,
        ] {
            assert_eq!(
                parse_go_duration_nanos(&format_go_duration_nanos(nanos)),
                Ok(nanos),
                "{nanos}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = decode_request(&data);
        }

        #[test]
        fn parse_duration_never_panics(s in "\\PC{0,24}") {
            let _ = parse_go_duration_nanos(&s);
        }

        #[test]
        fn whole_seconds_round_trip(secs in 0..=MAX_GO_DURATION_SECS) {
            proptest::prop_assert_eq!(parse_go_duration(&format_go_duration(secs)).unwrap().as_secs(), secs);
        }

        #[test]
        fn nanos_round_trip(nanos in proptest::prelude::any::<i64>()) {
            proptest::prop_assert_eq!(parse_go_duration_nanos(&format_go_duration_nanos(nanos)), Ok(nanos));
        }

        #[test]
        fn any_strings_survive_encoding(user in "\\PC{0,16}|[\\x00-\\x1f\"\\\\]{0,8}", key in "\\PC{0,16}") {
            let e = AuthEntry { username: user.clone(), password: user.clone(), ..Default::default() };
            let out = encode_response(ApiVersion::V1, CacheKeyType::Image, 1, &[(key.clone(), &e)]);
            let decoded = kubelet_decode(&out);
            let auth = decoded.auth.unwrap();
            proptest::prop_assert_eq!(&auth[&key].username, &user);
        }
    }
}
