//! Go `encoding/base64` decoding (`StdEncoding`, `RawStdEncoding`; Go `encoding/base64/base64.go`).

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// Go `base64.StdEncoding` (`padded`) / `base64.RawStdEncoding` decoding: standard alphabet only,
/// `\r` and `\n` skipped anywhere, padding strictly required (padded) or forbidden (raw), non-zero
/// trailing bits accepted (Go's default, non-`Strict` decoder).
pub(crate) fn go_base64_decode(input: &str, padded: bool) -> Result<Vec<u8>, base64::DecodeError> {
    const PADDED: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    const RAW: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );
    let engine = if padded { &PADDED } else { &RAW };
    if input.contains(['\r', '\n']) {
        let cleaned: String = input.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
        engine.decode(cleaned)
    } else {
        engine.decode(input)
    }
}
