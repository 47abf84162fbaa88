//! The only pyo3 file: the `pullkey._core` extension module. Each function converts its arguments,
//! calls the core, converts the result, and maps `CoreError` through the one `From` below.
//! User code imports from `pullkey`, never from `pullkey._core`.
#![allow(clippy::needless_pass_by_value)] // reason: pyo3 extracts Python arguments into owned values

use std::borrow::Cow;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::config::{self, Format};
use crate::credential;
use crate::dockercfg::ConfigFormat;
use crate::error::CoreError;
use crate::go::duration;
use crate::grpc;
use crate::hostglob;
use crate::keyring::{self, CacheKeyType, CachePolicy};
use crate::operations::{self, SearchPolicy, SourceData, SourceFile};
use crate::reference::ReferenceView;

// Exception classes are defined in Python (pullkey/errors.py) and only raised from here.
pyo3::import_exception!(pullkey.errors, InvalidReference);
pyo3::import_exception!(pullkey.errors, ConfigError);
pyo3::import_exception!(pullkey.errors, InvalidRequest);

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        let message = err.to_string();
        match err {
            CoreError::Reference(e) => InvalidReference::new_err((message, e.kind.code(), e.input)),
            CoreError::DockerConfig(_) => ConfigError::new_err((message, "")),
            CoreError::Config(e) => ConfigError::new_err((message, e.path)),
            CoreError::Request(_) => InvalidRequest::new_err(message),
        }
    }
}

/// A parsed image reference (see `_core.pyi`).
///
/// Holds the core reference (one string plus offsets); every attribute is derived and converted to
/// a Python object only when it is read, so parsing builds one Rust string and one Python object.
#[pyclass(frozen, eq, hash, module = "pullkey._core", name = "Reference")]
#[derive(PartialEq, Eq, Hash)]
pub struct PyReference {
    view: ReferenceView,
}

#[pymethods]
impl PyReference {
    /// The registry host[:port] (`docker.io` for Docker Hub when normalised; may be "" raw).
    #[getter]
    fn domain(&self) -> &str {
        self.view.domain()
    }
    /// The repository path (`library/nginx`).
    #[getter]
    fn path(&self) -> &str {
        self.view.path()
    }
    /// The tag as written, or None.
    #[getter]
    fn tag(&self) -> Option<&str> {
        self.view.tag()
    }
    /// The digest as written (`sha256:...`), or None.
    #[getter]
    fn digest(&self) -> Option<&str> {
        self.view.digest()
    }
    /// `domain/path`: the string the kubelet matches credentials against.
    #[getter]
    fn repository(&self) -> &str {
        self.view.repository()
    }
    /// Fully qualified, as `ParseDockerRef` prints it (`docker.io/library/nginx:latest`).
    #[getter]
    fn normalized(&self) -> Cow<'_, str> {
        self.view.normalized()
    }
    /// The short form Docker prints (`nginx`).
    #[getter]
    fn familiar(&self) -> &str {
        self.view.familiar()
    }
    /// `Always` when the tag is `latest` or absent without a digest, else `IfNotPresent`.
    #[getter]
    fn default_pull_policy(&self) -> &'static str {
        self.view.default_pull_policy()
    }
    fn __str__(&self) -> Cow<'_, str> {
        self.view.normalized()
    }
    fn __repr__(&self) -> String {
        format!("Reference({:?})", self.view.normalized())
    }
}

#[pyfunction]
#[pyo3(signature = (text, *, normalize = true))]
fn parse_reference(text: &str, normalize: bool) -> PyResult<PyReference> {
    Ok(PyReference {
        view: operations::describe_reference(text, normalize)?,
    })
}

/// One result of `parse_references`: the reference, or the `InvalidReference` instance.
fn reference_or_error<'py>(item: &Bound<'py, PyAny>, normalize: bool) -> PyResult<Bound<'py, PyAny>> {
    let py = item.py();
    // Borrow the text from the Python string: no copy of the input.
    let text = item.cast::<PyString>()?.to_str()?;
    match operations::describe_reference(text, normalize) {
        Ok(view) => Ok(Bound::new(py, PyReference { view })?.into_any()),
        // The instance `From<CoreError>` would raise, made by calling the class directly: no
        // raise-and-fetch round trip through the interpreter's error indicator.
        Err(CoreError::Reference(e)) => {
            py.get_type::<InvalidReference>()
                .call1((e.to_string(), e.kind.code(), e.input))
        }
        Err(err) => Ok(PyErr::from(err).into_value(py).into_bound(py).into_any()),
    }
}

#[pyfunction]
#[pyo3(signature = (texts, *, normalize = true))]
fn parse_references<'py>(texts: &Bound<'py, PyAny>, normalize: bool) -> PyResult<Bound<'py, PyList>> {
    let py = texts.py();
    if let Ok(list) = texts.cast::<PyList>() {
        let mut out = Vec::with_capacity(list.len());
        for item in list.iter() {
            out.push(reference_or_error(&item, normalize)?);
        }
        return PyList::new(py, out);
    }
    // Any other iterable of str, except a str itself (which would iterate its characters).
    if texts.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("texts must be a list of str, not a str"));
    }
    let out = texts
        .try_iter()?
        .map(|item| reference_or_error(&item?, normalize))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, out)
}

#[pyfunction]
fn match_image(pattern: &str, image: &str) -> bool {
    hostglob::urls_match_str(pattern, image)
}

/// One credential with its provenance. The password and tokens never appear in `repr`.
#[pyclass(frozen, get_all, module = "pullkey._core", name = "Credential")]
pub struct PyCredential {
    key: String,
    raw_key: String,
    username: String,
    password: String,
    email: String,
    identity_token: String,
    registry_token: String,
    source: String,
}

impl From<&credential::Credential> for PyCredential {
    fn from(c: &credential::Credential) -> Self {
        Self {
            key: c.key().to_owned(),
            raw_key: credential::redact_userinfo(c.raw_key()).into_owned(),
            username: c.username().to_owned(),
            password: c.password().to_owned(),
            email: c.email().to_owned(),
            identity_token: c.identity_token().to_owned(),
            registry_token: c.registry_token().to_owned(),
            source: c.source().to_owned(),
        }
    }
}

#[pymethods]
impl PyCredential {
    fn __repr__(&self) -> String {
        format!(
            "Credential(key={:?}, username={:?}, password=<redacted>, source={:?})",
            self.key, self.username, self.source
        )
    }
}

fn cache_policy(name: &str) -> PyResult<CachePolicy> {
    match name {
        "auto" => Ok(CachePolicy::Auto),
        "Image" => Ok(CachePolicy::Image),
        "Registry" => Ok(CachePolicy::Registry),
        "Global" => Ok(CachePolicy::Global),
        _ => Err(PyValueError::new_err(format!(
            "unknown cache policy {name:?}, expected one of auto, Image, Registry, Global"
        ))),
    }
}

fn cache_key_type_name(t: CacheKeyType) -> &'static str {
    match t {
        CacheKeyType::Image => "Image",
        CacheKeyType::Registry => "Registry",
        CacheKeyType::Global => "Global",
    }
}

fn source_file(
    name: String,
    kind: &str,
    data: &Bound<'_, PyAny>,
    search_path: bool,
) -> PyResult<SourceFile<PyBackedBytes>> {
    let data = match kind {
        "auto" => SourceData::DockerConfig {
            format: None,
            data: data.extract()?,
        },
        "config.json" => SourceData::DockerConfig {
            format: Some(ConfigFormat::ConfigJson),
            data: data.extract()?,
        },
        "dockercfg" => SourceData::DockerConfig {
            format: Some(ConfigFormat::DockerCfg),
            data: data.extract()?,
        },
        "secret" => SourceData::SecretManifest { data: data.extract()? },
        "secret-dir" => SourceData::SecretDir { files: data.extract()? },
        _ => return Err(PyValueError::new_err(format!("unknown source kind {kind:?}"))),
    };
    Ok(SourceFile {
        name,
        data,
        search_path,
    })
}

fn source_files(sources: Vec<(String, String, Bound<'_, PyAny>, bool)>) -> PyResult<Vec<SourceFile<PyBackedBytes>>> {
    sources
        .into_iter()
        .map(|(name, kind, data, search_path)| source_file(name, &kind, &data, search_path))
        .collect()
}

/// The merged keyring (pull-secret group, then node group).
#[pyclass(frozen, module = "pullkey._core", name = "Keyring")]
pub struct PyKeyring {
    inner: keyring::Keyring,
}

#[pymethods]
impl PyKeyring {
    #[new]
    fn new() -> Self {
        Self {
            inner: keyring::Keyring::default(),
        }
    }

    #[classmethod]
    #[pyo3(signature = (data, source = ""))]
    fn from_docker_config(
        _cls: &Bound<'_, pyo3::types::PyType>,
        data: &Bound<'_, PyAny>,
        source: &str,
    ) -> PyResult<Self> {
        // A mapping is serialised with the stdlib json module; text and bytes are parsed as they are.
        let bytes: Vec<u8> = if let Ok(text) = data.cast::<PyString>() {
            text.to_str()?.as_bytes().to_vec()
        } else if let Ok(raw) = data.cast::<PyBytes>() {
            raw.as_bytes().to_vec()
        } else {
            let json = data.py().import("json")?;
            json.call_method1("dumps", (data,))?.extract::<String>()?.into_bytes()
        };
        let node = [SourceFile {
            name: source.to_owned(),
            data: SourceData::DockerConfig {
                format: None,
                data: bytes,
            },
            search_path: false,
        }];
        Ok(Self {
            inner: operations::build_keyring(&[], &node, SearchPolicy::Merge, true)?.keyring,
        })
    }

    /// Build from source contents: returns (keyring, warnings, used source names).
    #[staticmethod]
    #[pyo3(signature = (secrets, node, *, search_policy = "merge", strict = false))]
    fn build(
        py: Python<'_>,
        secrets: Vec<(String, String, Bound<'_, PyAny>, bool)>,
        node: Vec<(String, String, Bound<'_, PyAny>, bool)>,
        search_policy: &str,
        strict: bool,
    ) -> PyResult<(Self, Vec<String>, Vec<String>)> {
        let policy = match search_policy {
            "merge" => SearchPolicy::Merge,
            "first" => SearchPolicy::First,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "unknown search policy {search_policy:?}, expected merge or first"
                )))
            }
        };
        let (secrets, node) = (source_files(secrets)?, source_files(node)?);
        // A build of a large config takes a while: the gRPC server keeps answering meanwhile.
        let built = py.detach(|| operations::build_keyring(&secrets, &node, policy, strict))?;
        Ok((Self { inner: built.keyring }, built.warnings, built.used))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!("Keyring(<{} credentials>)", self.inner.len())
    }

    /// Credentials for `image` in kubelet order (the image is normalised first).
    fn lookup(&self, image: &str) -> PyResult<Vec<PyCredential>> {
        let (_, credentials) = operations::lookup_image(&self.inner, image)?;
        Ok(credentials.into_iter().map(PyCredential::from).collect())
    }

    /// (repository, credentials, cache key type) for `image` under `cache_policy`.
    #[pyo3(signature = (image, cache_policy = "auto"))]
    fn resolve(&self, image: &str, cache_policy: &str) -> PyResult<(String, Vec<PyCredential>, &'static str)> {
        let policy = self::cache_policy(cache_policy)?;
        let (repository, credentials) = operations::lookup_image(&self.inner, image)?;
        let kind = self.inner.cache_key_type(&repository, policy);
        Ok((
            repository,
            credentials.into_iter().map(PyCredential::from).collect(),
            cache_key_type_name(kind),
        ))
    }

    /// The `explain --json` object for `image` (no secret in it).
    fn explain<'py>(&self, py: Python<'py>, image: &str) -> PyResult<Bound<'py, PyDict>> {
        let repository = operations::repository_of(image)?;
        let explanation = self.inner.explain(&repository);
        let out = PyDict::new(py);
        out.set_item("image", image)?;
        out.set_item("repository", &repository)?;
        let credentials = PyList::empty(py);
        for (c, fallback) in explanation.credentials.iter().zip(explanation.fallback.iter()) {
            let item = PyDict::new(py);
            item.set_item("key", credential::redact_userinfo(c.key()))?;
            item.set_item("raw_key", credential::redact_userinfo(c.raw_key()))?;
            item.set_item("username", c.username())?;
            item.set_item("source", c.source())?;
            item.set_item("fallback", *fallback)?;
            credentials.append(item)?;
        }
        out.set_item("credentials", credentials)?;
        let rejected = PyList::empty(py);
        for r in explanation.rejected {
            let item = PyDict::new(py);
            item.set_item("key", r.key)?;
            item.set_item("raw_key", credential::redact_userinfo(&r.raw_key))?;
            item.set_item("source", r.source)?;
            item.set_item("reason", r.reason)?;
            rejected.append(item)?;
        }
        out.set_item("rejected", rejected)?;
        out.set_item("rejected_total", explanation.rejected_total)?;
        Ok(out)
    }

    /// Answer one kubelet exec request (stdin bytes) with the response bytes for stdout.
    #[pyo3(signature = (request, cache_policy = "auto", cache_duration = 300))]
    fn exec_respond<'py>(
        &self,
        py: Python<'py>,
        request: &[u8],
        cache_policy: &str,
        cache_duration: u64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let policy = self::cache_policy(cache_policy)?;
        let out = operations::exec_respond(&self.inner, request, policy, cache_duration)?;
        Ok(PyBytes::new(py, &out))
    }

    /// Like `batch_pb`, for `images[start:stop]` of a serialized `BatchGetCredentialsRequest`.
    #[pyo3(signature = (request, start, stop, cache_policy = "auto", cache_duration = 300))]
    fn batch_pb_request<'py>(
        &self,
        py: Python<'py>,
        request: &[u8],
        start: usize,
        stop: usize,
        cache_policy: &str,
        cache_duration: u64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let policy = self::cache_policy(cache_policy)?;
        let images = grpc::decode_batch_images(request)?;
        let slice = images.get(start..stop.min(images.len())).unwrap_or_default();
        Ok(PyBytes::new(
            py,
            &grpc::encode_batch(&self.inner, slice, policy, cache_duration),
        ))
    }

    /// `matchImages` patterns covering every image a key of this keyring can match.
    fn match_images(&self) -> Vec<String> {
        self.inner.match_images()
    }

    /// The serialized `pullkey.v1.GetCredentialsResponse` for `image`.
    #[pyo3(signature = (image, cache_policy = "auto", cache_duration = 300))]
    fn answer_pb<'py>(
        &self,
        py: Python<'py>,
        image: &str,
        cache_policy: &str,
        cache_duration: u64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let policy = self::cache_policy(cache_policy)?;
        let out = grpc::encode_get_credentials(&self.inner, image, policy, cache_duration)?;
        Ok(PyBytes::new(py, &out))
    }

    /// The serialized `pullkey.v1.BatchGetCredentialsResponse` for `images` (bad images as per-item errors).
    #[pyo3(signature = (images, cache_policy = "auto", cache_duration = 300))]
    fn batch_pb<'py>(
        &self,
        py: Python<'py>,
        images: Vec<PyBackedStr>,
        cache_policy: &str,
        cache_duration: u64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let policy = self::cache_policy(cache_policy)?;
        // PyBackedStr borrows each Python string's UTF-8 (no copy for ASCII strings) and is Send.
        let refs: Vec<&str> = images.iter().map(|image| &**image).collect();
        // Pure Rust work on owned inputs: other Python threads (the event loop) run meanwhile.
        let out = py.detach(|| grpc::encode_batch(&self.inner, &refs, policy, cache_duration));
        Ok(PyBytes::new(py, &out))
    }
}

fn cache_policy_name(p: CachePolicy) -> &'static str {
    match p {
        CachePolicy::Auto => "auto",
        CachePolicy::Image => "Image",
        CachePolicy::Registry => "Registry",
        CachePolicy::Global => "Global",
    }
}

/// pullkey's `ProviderConfig` as a dict (keys: `root_dir`, `search_policy`, `strict`, `sources`,
/// `cache_policy`, `cache_duration`).
#[pyfunction]
fn load_provider_config<'py>(py: Python<'py>, data: &[u8], name: &str) -> PyResult<Bound<'py, PyDict>> {
    let config = config::parse_provider_config(data, name).map_err(CoreError::from)?;
    let out = PyDict::new(py);
    out.set_item("root_dir", config.root_dir)?;
    out.set_item(
        "search_policy",
        match config.search_policy {
            SearchPolicy::Merge => "merge",
            SearchPolicy::First => "first",
        },
    )?;
    out.set_item("strict", config.strict)?;
    let sources = PyList::empty(py);
    for source in config.sources {
        let item = PyDict::new(py);
        item.set_item("type", source.kind.as_str())?;
        item.set_item("path", source.path)?;
        item.set_item(
            "format",
            match source.format {
                Format::Auto => "auto",
                Format::ConfigJson => "config.json",
                Format::DockerCfg => "dockercfg",
            },
        )?;
        sources.append(item)?;
    }
    out.set_item("sources", sources)?;
    out.set_item("cache_policy", cache_policy_name(config.cache.policy))?;
    out.set_item("cache_duration", config.cache.duration_secs)?;
    Ok(out)
}

/// A Go duration string in whole seconds (rounded down); negative durations are refused.
#[pyfunction]
fn parse_duration_seconds(text: &str) -> PyResult<u64> {
    duration::parse_go_duration(text)
        .map(|d| d.as_secs())
        .map_err(|message| ConfigError::new_err((format!("invalid duration {text:?}: {message}"), "")))
}

/// Every error the kubelet would report for these `CredentialProviderConfig` files (empty: valid).
#[pyfunction]
fn validate_kubelet_config(files: Vec<(String, Vec<u8>)>) -> Vec<String> {
    config::validate_kubelet_config(&files).err().unwrap_or_default()
}

#[pyfunction]
fn render_kubelet_config(
    name: &str,
    match_images: Vec<String>,
    default_cache_duration: u64,
    args: Vec<String>,
    env: Vec<(String, String)>,
) -> String {
    config::render_kubelet_config(name, &match_images, default_cache_duration, &args, &env)
}

/// The number of `images` in a serialized `BatchGetCredentialsRequest`.
#[pyfunction]
fn count_batch_images(request: &[u8]) -> PyResult<usize> {
    Ok(grpc::decode_batch_images(request)?.len())
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PyReference>()?;
    m.add_class::<PyCredential>()?;
    m.add_class::<PyKeyring>()?;
    m.add_function(wrap_pyfunction!(parse_reference, m)?)?;
    m.add_function(wrap_pyfunction!(parse_references, m)?)?;
    m.add_function(wrap_pyfunction!(match_image, m)?)?;
    m.add_function(wrap_pyfunction!(load_provider_config, m)?)?;
    m.add_function(wrap_pyfunction!(parse_duration_seconds, m)?)?;
    m.add_function(wrap_pyfunction!(validate_kubelet_config, m)?)?;
    m.add_function(wrap_pyfunction!(render_kubelet_config, m)?)?;
    m.add_function(wrap_pyfunction!(count_batch_images, m)?)?;
    Ok(())
}
