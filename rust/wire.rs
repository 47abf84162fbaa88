//! Protobuf encoding of the gRPC answers (`protos/pullkey/v1/credential.proto`), so the service can
//! answer a batch of lookups in one call across the Python boundary.
//!
//! NOTE: the field numbers below must stay in sync with `protos/pullkey/v1/credential.proto`; the
//! Python tests decode these bytes with the generated classes and compare them with messages built
//! field by field, so a drift fails the suite. Wire format: protobuf.dev/programming-guides/encoding
//! (a length-delimited field is `tag = field << 3 | 2`, a varint length, the bytes; proto3 omits
//! empty strings and zero integers; fields are written in field-number order, as protobuf does).

use crate::keyring::{CachePolicy, Keyring};
use crate::protocol::cache_key_type_str;
use crate::resolve;
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
    let (repository, credentials) = resolve::lookup_image(keyring, image)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_protobuf_examples() {
        // protobuf.dev encoding guide: 1 -> 01, 150 -> 96 01, 300 -> ac 02.
        for (n, bytes) in [
            (1u64, vec![1u8]),
            (150, vec![0x96, 0x01]),
            (300, vec![0xac, 0x02]),
            (0, vec![0]),
        ] {
            let mut out = Vec::new();
            varint(&mut out, n);
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn empty_strings_are_omitted_and_errors_carry_their_code() {
        assert_eq!(encode_item_error(3, "", ""), vec![0x08, 0x03]);
        assert_eq!(
            encode_item_error(3, "m", "r"),
            vec![0x08, 0x03, 0x12, 1, b'm', 0x1a, 1, b'r']
        );
    }

    #[test]
    fn a_batch_reports_bad_images_in_place() {
        let keyring = Keyring::default();
        let out = encode_batch(&keyring, &["foo//bar", "nginx"], CachePolicy::Auto, 300);
        // First result: image "foo//bar" then an error (field 3) ...
        assert_eq!(out[0], 0x0a);
        assert_eq!(&out[2..4], &[0x0a, 8]);
        assert_eq!(&out[4..12], b"foo//bar");
        assert_eq!(out[12], 0x1a);
        // ... and the second one a response (field 2) whose repository is normalised.
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("docker.io/library/nginx"));
        assert!(text.contains("invalid_format"));
    }
}
