//! The only pyo3 code: the `pullkey._core` extension module, one file per thing it exposes
//! (`references`, `keyrings`, `configs`, `helpers`, `tenants`); this file holds the error mapping, the
//! names at the boundary and the module itself. Each function converts its arguments, calls the core,
//! converts the result, and maps `CoreError` through the one `From` below. User code imports from
//! `pullkey`, never from `pullkey._core`.
#![allow(clippy::needless_pass_by_value)] // reason: pyo3 extracts Python arguments into owned values
#![allow(clippy::wildcard_imports)] // reason: the binding files share this file's imports (`use super::*`)

use std::borrow::Cow;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::config::{self, Format, HelperEnv, HelpersConfig, ProviderConfig, SourceKind};
use crate::credential;
use crate::credhelper::{self, GetOutcome};
use crate::dockercfg::{ConfigFormat, DockerConfigErrorKind};
use crate::error::CoreError;
use crate::go::duration;
use crate::grpc;
use crate::hostglob;
use crate::keyring::{self, CacheKeyType, CachePolicy};
use crate::names::Named;
use crate::operations::{self, SearchPolicy, SourceData, SourceFile};
use crate::reference::ReferenceView;
use crate::tenant;

mod configs;
mod helpers;
mod keyrings;
mod references;
mod tenants;

use configs::*;
use helpers::*;
use keyrings::*;
use references::*;
use tenants::*;

// Exception classes are defined in Python (pullkey/errors.py) and only raised from here: every error
// is a `PullkeyError` subclass with a stable `code`.
pyo3::import_exception!(pullkey.errors, InvalidReference);
pyo3::import_exception!(pullkey.errors, ConfigError);
pyo3::import_exception!(pullkey.errors, InvalidRequest);
pyo3::import_exception!(pullkey.errors, TokenError);

/// The `code` of a `ConfigError` for a docker config or Secret that does not parse.
pub(crate) fn docker_config_code(kind: DockerConfigErrorKind) -> &'static str {
    match kind {
        DockerConfigErrorKind::Json => "invalid_docker_config",
        DockerConfigErrorKind::Auth => "invalid_auth",
        DockerConfigErrorKind::Manifest => "invalid_manifest",
    }
}

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        let message = err.to_string();
        match err {
            CoreError::Reference(e) => InvalidReference::new_err((message, e.kind.code(), e.input)),
            CoreError::DockerConfig(e) => ConfigError::new_err((message, "", docker_config_code(e.kind))),
            CoreError::Config(e) => ConfigError::new_err((message, e.path, "invalid_config")),
            CoreError::Request(_) => InvalidRequest::new_err(message),
        }
    }
}

// The names at the Rust/Python boundary come from the core's one table per enum (`names::Named`);
// the module exports them (`_core.CACHE_POLICIES`, ...), and `_types.py` types them.
pub(crate) const CACHE_POLICIES: &[(&str, CachePolicy)] = CachePolicy::NAMES;
pub(crate) const CACHE_KEY_TYPES: &[(&str, CacheKeyType)] = CacheKeyType::NAMES;
pub(crate) const SEARCH_POLICIES: &[(&str, SearchPolicy)] = SearchPolicy::NAMES;
pub(crate) const DOCKER_CONFIG_FORMATS: &[(&str, Format)] = Format::NAMES;

/// What the bytes of a `SourceFile` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceFormat {
    DockerConfig(Option<ConfigFormat>),
    Secret,
    SecretDir,
}
pub(crate) const SOURCE_FORMATS: [(&str, SourceFormat); 5] = [
    ("auto", SourceFormat::DockerConfig(None)),
    (
        "config.json",
        SourceFormat::DockerConfig(Some(ConfigFormat::ConfigJson)),
    ),
    ("dockercfg", SourceFormat::DockerConfig(Some(ConfigFormat::DockerCfg))),
    ("secret", SourceFormat::Secret),
    ("secret-dir", SourceFormat::SecretDir),
];

pub(crate) fn name_of<T: PartialEq>(table: &[(&'static str, T)], value: &T) -> &'static str {
    table.iter().find(|(_, v)| v == value).map_or("", |(n, _)| n)
}

/// The value named `name` in `table`; a `ConfigError` (code `invalid_config`) naming `what` otherwise.
pub(crate) fn by_name<T: Copy>(table: &[(&'static str, T)], what: &str, name: &str) -> PyResult<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).ok_or_else(|| {
        let expected: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
        ConfigError::new_err((
            format!("unknown {what} {name:?}, expected one of {}", expected.join(", ")),
            "",
            "invalid_config",
        ))
    })
}

pub(crate) fn names<T>(py: Python<'_>, table: &[(&'static str, T)]) -> PyResult<Py<PyTuple>> {
    Ok(PyTuple::new(py, table.iter().map(|(n, _)| *n))?.unbind())
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("CACHE_POLICIES", names(py, CACHE_POLICIES)?)?;
    m.add("CACHE_KEY_TYPES", names(py, CACHE_KEY_TYPES)?)?;
    m.add("SEARCH_POLICIES", names(py, SEARCH_POLICIES)?)?;
    m.add("DOCKER_CONFIG_FORMATS", names(py, DOCKER_CONFIG_FORMATS)?)?;
    m.add("SOURCE_FORMATS", names(py, &SOURCE_FORMATS)?)?;
    m.add("SOURCE_TYPES", names(py, SourceKind::NAMES)?)?;
    m.add("MAX_EXPLAIN_REJECTED", crate::limits::MAX_EXPLAIN_REJECTED)?;
    m.add_class::<PyReference>()?;
    m.add_class::<PyCredential>()?;
    m.add_class::<PyKeyring>()?;
    m.add_class::<PySourceFile>()?;
    m.add_class::<PyConfigSource>()?;
    m.add_class::<PyProviderConfig>()?;
    m.add_class::<PyHelpersConfig>()?;
    m.add_function(wrap_pyfunction!(helper_refs, m)?)?;
    m.add_function(wrap_pyfunction!(with_helper_answers, m)?)?;
    m.add_function(wrap_pyfunction!(helper_interpret_get, m)?)?;
    m.add_function(wrap_pyfunction!(helper_summarize, m)?)?;
    m.add_function(wrap_pyfunction!(helper_server_url, m)?)?;
    m.add_function(wrap_pyfunction!(helper_registry, m)?)?;
    m.add_function(wrap_pyfunction!(is_helper_name, m)?)?;
    m.add_function(wrap_pyfunction!(helper_answer, m)?)?;
    m.add_function(wrap_pyfunction!(helper_list, m)?)?;
    m.add_function(wrap_pyfunction!(exec_request_image, m)?)?;
    m.add_function(wrap_pyfunction!(batch_images, m)?)?;
    m.add_class::<PyTenants>()?;
    m.add_class::<PyIdentity>()?;
    m.add_class::<PyTokenVerifier>()?;
    m.add_function(wrap_pyfunction!(request_identity, m)?)?;
    m.add_function(wrap_pyfunction!(claimed_identity, m)?)?;
    m.add_function(wrap_pyfunction!(tenant_keyring, m)?)?;
    m.add_function(wrap_pyfunction!(render_token_attributes, m)?)?;
    m.add_function(wrap_pyfunction!(batch_token, m)?)?;
    m.add_function(wrap_pyfunction!(parse_reference, m)?)?;
    m.add_function(wrap_pyfunction!(parse_references, m)?)?;
    m.add_function(wrap_pyfunction!(match_image, m)?)?;
    m.add_function(wrap_pyfunction!(load_provider_config, m)?)?;
    m.add_function(wrap_pyfunction!(parse_duration_seconds, m)?)?;
    m.add_function(wrap_pyfunction!(validate_kubelet_config, m)?)?;
    m.add_function(wrap_pyfunction!(render_kubelet_config, m)?)?;
    m.add_function(wrap_pyfunction!(build_keyring, m)?)?;
    m.add_function(wrap_pyfunction!(exec_respond, m)?)?;
    m.add_function(wrap_pyfunction!(mirror_plan, m)?)?;
    m.add_function(wrap_pyfunction!(with_upstream_answers, m)?)?;
    m.add_function(wrap_pyfunction!(encode_plugin_request, m)?)?;
    m.add_function(wrap_pyfunction!(decode_plugin_response, m)?)?;
    m.add_function(wrap_pyfunction!(encode_answer, m)?)?;
    m.add_function(wrap_pyfunction!(encode_batch, m)?)?;
    m.add_function(wrap_pyfunction!(encode_batch_request, m)?)?;
    m.add_function(wrap_pyfunction!(encode_batch_span, m)?)?;
    m.add_function(wrap_pyfunction!(batch_slices, m)?)?;
    // What users should call (`m.add` lists every name): the rest is for pullkey's own modules.
    let public = [
        "Credential",
        "Keyring",
        "Reference",
        "__version__",
        "match_image",
        "parse_reference",
        "parse_references",
    ];
    m.setattr("__all__", PyList::new(py, public)?)?;
    Ok(())
}
