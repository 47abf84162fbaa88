//! Protobuf encoding of the gRPC answers (`protos/pullkey/v1/credential.proto`), so the service can
//! answer a batch of lookups in one call across the Python boundary.
//!
//! NOTE: the field numbers below must stay in sync with `protos/pullkey/v1/credential.proto`; the
//! Python tests decode these bytes with the generated classes and compare them with messages built
//! field by field, so a drift fails the suite. Wire format: protobuf.dev/programming-guides/encoding
//! (a length-delimited field is `tag = field << 3 | 2`, a varint length, the bytes; proto3 omits
//! empty strings and zero integers; fields are written in field-number order, as protobuf does).

use crate::exec::{cache_key_type_str, RequestError};
use crate::keyring::{CachePolicy, Keyring};
use crate::operations;
use crate::CoreError;

/// gRPC `INVALID_ARGUMENT`, the code of a per-item error (grpc/doc/statuscodes.md).
pub const INVALID_ARGUMENT: u64 = 3;

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n > 0x7F {
        // Truncation is the point: the low seven bits with the continuation bit.
        #[allow(clippy::cast_possible_truncation)]
        out.push((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    out.push(n as u8);
}

fn bytes_field(out: &mut Vec<u8>, field: u64, data: &[u8]) {
    varint(out, field << 3 | 2);
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

fn string_field(out: &mut Vec<u8>, field: u64, text: &str) {
    if !text.is_empty() {
        bytes_field(out, field, text.as_bytes());
    }
}

/// Writes a nested message built by `build` as field `field` (length-prefixed).
fn message_field(out: &mut Vec<u8>, field: u64, build: impl FnOnce(&mut Vec<u8>)) {
    let mut body = Vec::new();
    build(&mut body);
    bytes_field(out, field, &body);
}

/// `GetCredentialsResponse` for `image` (any reference form): fields `image` = 1, `repository` = 2,
/// `credentials` = 3 (`Credential`: `key` 1, `username` 2, `password` 3, `identity_token` 4,
/// `registry_token` 5, `source` 6), `cache_key_type` = 4, `cache_duration` = 5
/// (`google.protobuf.Duration`, `seconds` = 1).
pub fn encode_get_credentials(
    keyring: &Keyring,
    image: &str,
    policy: CachePolicy,
    cache_duration_secs: u64,
) -> Result<Vec<u8>, CoreError> {
    let (repository, credentials) = operations::lookup_image(keyring, image)?;
    let mut out = Vec::with_capacity(64 + 96 * credentials.len());
    string_field(&mut out, 1, image);
    string_field(&mut out, 2, &repository);
    for c in credentials {
        message_field(&mut out, 3, |m| {
            string_field(m, 1, c.key());
            string_field(m, 2, c.username());
            string_field(m, 3, c.password());
            string_field(m, 4, c.identity_token());
            string_field(m, 5, c.registry_token());
            string_field(m, 6, c.source());
        });
    }
    string_field(
        &mut out,
        4,
        cache_key_type_str(keyring.cache_key_type(&repository, policy)),
    );
    message_field(&mut out, 5, |m| {
        if cache_duration_secs > 0 {
            varint(m, 1 << 3);
            varint(m, cache_duration_secs);
        }
    });
    Ok(out)
}

/// `ItemError`: `code` = 1, `message` = 2, `reason` = 3.
pub fn encode_item_error(code: u64, message: &str, reason: &str) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, 1 << 3);
    varint(&mut out, code);
    string_field(&mut out, 2, message);
    string_field(&mut out, 3, reason);
    out
}

/// The machine-readable reason of an error (the reference error code, else the error class).
fn reason(err: &CoreError) -> &'static str {
    match err {
        CoreError::Reference(e) => e.kind.code(),
        CoreError::DockerConfig(_) | CoreError::Config(_) => "ConfigError",
        CoreError::Request(_) => "InvalidRequest",
    }
}

/// `BatchGetCredentialsResponse` (`results` = 1) of `BatchResult`s (`image` = 1, then `response` = 2
/// or `error` = 3), one per image in order. An invalid image is a per-item `INVALID_ARGUMENT` error.
pub fn encode_batch(keyring: &Keyring, images: &[&str], policy: CachePolicy, cache_duration_secs: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(images.len() * 160);
    for image in images {
        message_field(&mut out, 1, |result| {
            string_field(result, 1, image);
            match encode_get_credentials(keyring, image, policy, cache_duration_secs) {
                Ok(response) => bytes_field(result, 2, &response),
                Err(err) => bytes_field(
                    result,
                    3,
                    &encode_item_error(INVALID_ARGUMENT, &err.to_string(), reason(&err)),
                ),
            }
        });
    }
    out
}

/// Reads a varint at `*at`; `None` when the input ends inside it or it is longer than 10 bytes.
fn read_varint(data: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = *data.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The `images` (field 1) of a serialized `BatchGetCredentialsRequest`, borrowed from `data`, in
/// order; every other field is skipped by its wire type. Errors say what is malformed (never a value).
///
/// NOTE: decoding here instead of with the generated classes saves a Python string per image, per
/// request in flight (measured: the daemon's RSS under 32 concurrent 1,000-image batches).
pub fn decode_batch_images(data: &[u8]) -> Result<Vec<&str>, CoreError> {
    let mut images = Vec::new();
    scan_batch_images(data, |image, _, _| images.push(image))?;
    Ok(images)
}

/// Cuts a serialized `BatchGetCredentialsRequest` into byte ranges of at most `per_slice` images each
/// (`(start, end, images)`, in order, cut at field boundaries): `decode_batch_images(&data[start..end])`
/// is that slice's images. One scan, so encoding a large batch slice by slice decodes it once.
pub fn batch_slices(data: &[u8], per_slice: usize) -> Result<Vec<(usize, usize, usize)>, CoreError> {
    let per_slice = per_slice.max(1);
    let mut slices: Vec<(usize, usize, usize)> = Vec::new();
    scan_batch_images(data, |_, start, end| match slices.last_mut() {
        Some(last) if last.2 < per_slice => {
            last.1 = end;
            last.2 += 1;
        }
        _ => slices.push((start, end, 1)),
    })?;
    Ok(slices)
}

/// Calls `on_image(image, field_start, field_end)` for each `images` field of `data`, in order.
fn scan_batch_images<'a>(data: &'a [u8], on_image: impl FnMut(&'a str, usize, usize)) -> Result<(), CoreError> {
    scan_strings(data, 1, "image", on_image)
}

/// The `service_account_token` (field 2) of a serialized `BatchGetCredentialsRequest`, if set and
/// non-empty (the last occurrence wins, as in protobuf). Never logged.
pub fn decode_batch_token(data: &[u8]) -> Result<Option<&str>, CoreError> {
    let mut token = None;
    scan_strings(data, 2, "token", |text, _, _| {
        token = Some(text).filter(|t| !t.is_empty());
    })?;
    Ok(token)
}

/// Walks the fields of a serialized `BatchGetCredentialsRequest` and calls `on_string(text,
/// field_start, field_end)` for each occurrence of the string field `wanted`; every other field is
/// skipped by its wire type. Errors say what is malformed and where (never a value).
fn scan_strings<'a>(
    data: &'a [u8],
    wanted: u64,
    what: &str,
    mut on_string: impl FnMut(&'a str, usize, usize),
) -> Result<(), CoreError> {
    let malformed = |problem: &str, at: usize| {
        CoreError::Request(RequestError {
            message: format!("malformed BatchGetCredentialsRequest: {problem} at byte {at}"),
        })
    };
    let mut at = 0;
    while at < data.len() {
        let start = at;
        let key = read_varint(data, &mut at).ok_or_else(|| malformed("truncated field tag", start))?;
        let (field, wire_type) = (key >> 3, key & 7);
        match wire_type {
            0 => {
                read_varint(data, &mut at).ok_or_else(|| malformed("truncated varint", start))?;
            }
            1 | 5 => {
                at += if wire_type == 1 { 8 } else { 4 };
                if at > data.len() {
                    return Err(malformed("truncated fixed-size field", start));
                }
            }
            2 => {
                let len = read_varint(data, &mut at).ok_or_else(|| malformed("truncated length", start))?;
                let end = usize::try_from(len)
                    .ok()
                    .and_then(|len| at.checked_add(len))
                    .filter(|&end| end <= data.len())
                    .ok_or_else(|| malformed("length past the end", start))?;
                if field == wanted {
                    let bytes = data.get(at..end).unwrap_or_default();
                    let text = std::str::from_utf8(bytes)
                        .map_err(|_| malformed(&format!("{what} that is not UTF-8"), start))?;
                    on_string(text, start, end);
                }
                at = end;
            }
            _ => return Err(malformed("unsupported wire type", start)),
        }
        if field == 0 {
            return Err(malformed("field number 0", start));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
