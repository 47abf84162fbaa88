//! pullkey's engine: the pure Rust core behind the `pullkey` kubelet credential provider.
//!
//! # Layout
//!
//! `rust/` is the crate root, not `src/`: this is a maturin layout, where `Cargo.toml` points
//! `[lib] path` at `rust/lib.rs` and the Python package lives beside it in `python/`. The crate
//! builds as the `pullkey._core` extension module (`cdylib`) and as a plain Rust library (`rlib`)
//! for `cargo test`. pyo3 appears only in `py/`, behind the `python` feature, so `cargo test`
//! needs no libpython.
//!
//! Everything else is plain Rust over plain types: no file or network I/O (file contents and the
//! environment are passed in).
//!
//! # Modules, from the leaves up (a module only uses modules listed before it)
//!
//! - [`limits`]: every bound on the cost of an input (sizes, depths, counts), the pre-scans that
//!   enforce them, and [`limits::Excerpt`], the bounded quoting of inputs in messages.
//! - [`credential`]: the shared credential types (entries, keyring credentials, redaction).
//! - [`go`]: Go compatibility (`net/url`, `path/filepath.Match`, `time.Duration`, `encoding/json`
//!   and `encoding/base64` quirks, `strconv.Quote`).
//! - [`reference`]: image references, as `github.com/distribution/reference` v0.6 parses them.
//! - [`hostglob`]: the kubelet's `URLsMatchStr` (one `filepath.Match` glob per DNS label).
//! - [`dockercfg`]: docker `config.json` / `.dockercfg` files and Kubernetes pull-secret manifests.
//! - [`keyring`]: the kubelet's `BasicDockerKeyring` / `UnionDockerKeyring`, indexed, with
//!   provenance, explanations and the cache-safe response map.
//! - [`exec`]: the `credentialprovider.kubelet.k8s.io` exec wire format (request in, response out).
//! - [`credhelper`]: the docker-credential-helpers protocol both ways (helper output in, pullkey's
//!   answers as a helper out) and Docker's server URLs.
//! - [`config`]: pullkey's own `ProviderConfig` and the kubelet's `CredentialProviderConfig`.
//! - [`error`]: [`CoreError`], every module's error in one enum for the bindings.
//! - [`operations`]: what the bindings call: build a keyring from sources, look an image up,
//!   answer an exec request, describe a reference.
//! - [`grpc`]: protobuf encoding of the gRPC service's answers (`protos/pullkey/v1`).

pub mod config;
pub mod credential;
pub mod credhelper;
pub mod dockercfg;
pub mod error;
pub mod exec;
pub mod go;
pub mod grpc;
pub mod hostglob;
pub mod keyring;
pub mod limits;
pub mod names;
pub mod operations;
pub mod reference;
pub mod tenant;

pub use error::CoreError;

#[cfg(feature = "python")]
mod py;
