//! Go compatibility: the parts of Go's standard library whose exact behaviour the kubelet's
//! answers depend on, reproduced byte for byte (inputs Go accepts, inputs it rejects, its error
//! wording where users see it).
//!
//! - [`url`]: `net/url.Parse` and `net.SplitHostPort`, as the kubelet applies them to registry keys.
//! - [`filepath`]: `path/filepath.Match`, the per-label glob of the kubelet's `URLsMatchStr`.
//! - [`duration`]: `time.Duration` formatting and `time.ParseDuration`.
//! - [`json`]: `encoding/json` quirks (validity scan, lossy UTF-8, case-insensitive field names) and
//!   the strict decoders' duplicate-key rejection.
//! - [`base64`]: `encoding/base64` `StdEncoding` / `RawStdEncoding` decoding.
//! - [`strconv`]: `strconv.Quote`, for messages worded like the kubelet's.
//!
//! Each item names the Go function it follows; none of them depends on another part of the crate
//! but the leaves [`crate::limits`] (bounded quoting in messages) and [`crate::credential`] (redaction).

pub mod base64;
pub mod duration;
pub mod filepath;
pub mod json;
pub mod strconv;
pub mod url;
