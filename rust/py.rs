//! The only pyo3 file: the `pullkey._core` extension module. Each function converts its arguments,
//! calls the core, converts the result, and maps `CoreError` through the one `From` below.
//! User code imports from `pullkey`, never from `pullkey._core`.
#![allow(clippy::needless_pass_by_value)] // reason: pyo3 extracts Python arguments into owned values

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

// Exception classes are defined in Python (pullkey/errors.py) and only raised from here: every error
// is a `PullkeyError` subclass with a stable `code`.
pyo3::import_exception!(pullkey.errors, InvalidReference);
pyo3::import_exception!(pullkey.errors, ConfigError);
pyo3::import_exception!(pullkey.errors, InvalidRequest);
pyo3::import_exception!(pullkey.errors, TokenError);

/// The `code` of a `ConfigError` for a docker config or Secret that does not parse.
fn docker_config_code(kind: DockerConfigErrorKind) -> &'static str {
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
const CACHE_POLICIES: &[(&str, CachePolicy)] = CachePolicy::NAMES;
const CACHE_KEY_TYPES: &[(&str, CacheKeyType)] = CacheKeyType::NAMES;
const SEARCH_POLICIES: &[(&str, SearchPolicy)] = SearchPolicy::NAMES;
const DOCKER_CONFIG_FORMATS: &[(&str, Format)] = Format::NAMES;

/// What the bytes of a `SourceFile` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceFormat {
    DockerConfig(Option<ConfigFormat>),
    Secret,
    SecretDir,
}
const SOURCE_FORMATS: [(&str, SourceFormat); 5] = [
    ("auto", SourceFormat::DockerConfig(None)),
    (
        "config.json",
        SourceFormat::DockerConfig(Some(ConfigFormat::ConfigJson)),
    ),
    ("dockercfg", SourceFormat::DockerConfig(Some(ConfigFormat::DockerCfg))),
    ("secret", SourceFormat::Secret),
    ("secret-dir", SourceFormat::SecretDir),
];

fn name_of<T: PartialEq>(table: &[(&'static str, T)], value: &T) -> &'static str {
    table.iter().find(|(_, v)| v == value).map_or("", |(n, _)| n)
}

/// The value named `name` in `table`; a `ConfigError` (code `invalid_config`) naming `what` otherwise.
fn by_name<T: Copy>(table: &[(&'static str, T)], what: &str, name: &str) -> PyResult<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).ok_or_else(|| {
        let expected: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
        ConfigError::new_err((
            format!("unknown {what} {name:?}, expected one of {}", expected.join(", ")),
            "",
            "invalid_config",
        ))
    })
}

fn names<T>(py: Python<'_>, table: &[(&'static str, T)]) -> PyResult<Py<PyTuple>> {
    Ok(PyTuple::new(py, table.iter().map(|(n, _)| *n))?.unbind())
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
    by_name(CACHE_POLICIES, "cache policy", name)
}

/// A credential source read by the Python loader: a display name, what its bytes are, the bytes (or,
/// for a mounted secret volume, its files) and whether it is a kubelet search-path candidate.
#[pyclass(frozen, module = "pullkey._core", name = "SourceFile")]
pub struct PySourceFile {
    name: String,
    format: SourceFormat,
    data: Py<PyAny>,
    search_path: bool,
}

#[pymethods]
impl PySourceFile {
    #[new]
    #[pyo3(signature = (name, format, data, search_path = false))]
    fn new(name: String, format: &str, data: Py<PyAny>, search_path: bool) -> PyResult<Self> {
        Ok(Self {
            name,
            format: by_name(&SOURCE_FORMATS, "source format", format)?,
            data,
            search_path,
        })
    }
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }
    #[getter]
    fn format(&self) -> &'static str {
        name_of(&SOURCE_FORMATS, &self.format)
    }
    #[getter]
    fn search_path(&self) -> bool {
        self.search_path
    }
    fn __repr__(&self) -> String {
        format!(
            "SourceFile({:?}, {:?}, search_path={})",
            self.name,
            name_of(&SOURCE_FORMATS, &self.format),
            if self.search_path { "True" } else { "False" }
        )
    }
}

impl PySourceFile {
    /// The core's view: borrows the bytes Python read (no copy of a large file).
    fn to_core(&self, py: Python<'_>) -> PyResult<SourceFile<PyBackedBytes>> {
        let data = self.data.bind(py);
        let data = match self.format {
            SourceFormat::DockerConfig(format) => SourceData::DockerConfig {
                format,
                data: data.extract()?,
            },
            SourceFormat::Secret => SourceData::SecretManifest { data: data.extract()? },
            SourceFormat::SecretDir => SourceData::SecretDir { files: data.extract()? },
        };
        Ok(SourceFile {
            name: self.name.clone(),
            data,
            search_path: self.search_path,
        })
    }
}

fn source_files(py: Python<'_>, sources: &[PyRef<'_, PySourceFile>]) -> PyResult<Vec<SourceFile<PyBackedBytes>>> {
    sources.iter().map(|source| source.to_core(py)).collect()
}

/// The merged keyring (pull-secret group, then node group). Built by the loader
/// (`_build_keyring`) or from one docker config (`from_docker_config`); no empty constructor.
#[pyclass(frozen, module = "pullkey._core", name = "Keyring")]
pub struct PyKeyring {
    inner: keyring::Keyring,
}

#[pymethods]
impl PyKeyring {
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
        // One document: one that does not parse is this call's error.
        let mut built = operations::build_keyring(&[], &node, SearchPolicy::Merge);
        if let Some(err) = built.skipped.pop() {
            return Err(err.into());
        }
        Ok(Self { inner: built.keyring })
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
            name_of(CACHE_KEY_TYPES, &kind),
        ))
    }

    /// The `explain` object for `image` (no secret in it): `_types.KeyringExplanation`.
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

    /// `matchImages` patterns covering every image a key of this keyring can match.
    fn match_images(&self) -> Vec<String> {
        self.inner.match_images()
    }
}

/// `(keyring, warnings, used source names, errors of the skipped sources)`.
type BuildResult<'py> = (PyKeyring, Vec<String>, Vec<String>, Vec<Bound<'py, PyAny>>);

/// Builds the merged keyring from read sources: `(keyring, warnings, used source names, errors of the
/// sources that did not parse)`. Whether such an error is fatal (`strict`) is the caller's decision.
#[pyfunction]
#[pyo3(name = "_build_keyring")]
fn build_keyring<'py>(
    py: Python<'py>,
    secrets: Vec<PyRef<'py, PySourceFile>>,
    node: Vec<PyRef<'py, PySourceFile>>,
    search_policy: &str,
) -> PyResult<BuildResult<'py>> {
    let policy = by_name(SEARCH_POLICIES, "search policy", search_policy)?;
    let (secrets, node) = (source_files(py, &secrets)?, source_files(py, &node)?);
    // A build of a large config takes a while: the gRPC server keeps answering meanwhile.
    let built = py.detach(|| operations::build_keyring(&secrets, &node, policy));
    let skipped = built
        .skipped
        .into_iter()
        .map(|err| PyErr::from(err).into_value(py).into_bound(py).into_any())
        .collect();
    Ok((PyKeyring { inner: built.keyring }, built.warnings, built.used, skipped))
}

// The transport encoders: private functions of the module (the exec plugin and the gRPC server call
// them through `pullkey.service.Resolver`/`pullkey._exec`), not methods of the public `Keyring`.

/// Answers one kubelet exec request (stdin bytes) with the response bytes for stdout.
#[pyfunction]
#[pyo3(name = "_exec_respond", signature = (keyring, request, cache_policy, cache_duration, mirrors = Vec::new()))]
fn exec_respond<'py>(
    py: Python<'py>,
    keyring: &PyKeyring,
    request: &[u8],
    cache_policy: &str,
    cache_duration: u64,
    mirrors: Vec<(String, Vec<String>)>,
) -> PyResult<Bound<'py, PyBytes>> {
    let policy = self::cache_policy(cache_policy)?;
    let rules = mirror_rules(mirrors);
    let out = operations::exec_respond_mirrored(&keyring.inner, request, policy, cache_duration, &rules)?;
    Ok(PyBytes::new(py, &out))
}

fn mirror_rules(mirrors: Vec<(String, Vec<String>)>) -> Vec<config::MirrorRule> {
    mirrors
        .into_iter()
        .map(|(registry, endpoints)| config::MirrorRule { registry, endpoints })
        .collect()
}

/// For `explain` (docs/mirrors.md §2 step 5): `None` when no rule matches `image`, else the rule's
/// index, the mirror image names in order, and `(image name found for, username)` of each credential
/// the kubelet will try, in order. Never a secret.
#[pyfunction]
#[pyo3(name = "_mirror_plan")]
#[allow(clippy::type_complexity)]
fn mirror_plan(
    keyring: &PyKeyring,
    mirrors: Vec<(String, Vec<String>)>,
    image: &str,
) -> PyResult<Option<(usize, Vec<String>, Vec<(String, String)>)>> {
    let rules = mirror_rules(mirrors);
    let repository = operations::repository_of(image)?;
    let Some((index, images)) = operations::mirror_images(&rules, &repository) else {
        return Ok(None);
    };
    let order = operations::mirrored_credentials(&keyring.inner, &rules, &repository)
        .unwrap_or_default()
        .into_iter()
        .map(|(found_for, c)| (found_for, c.auth().username))
        .collect();
    Ok(Some((index, images, order)))
}

/// The serialized `pullkey.v1.GetCredentialsResponse` for `image`.
#[pyfunction]
#[pyo3(name = "_encode_answer")]
fn encode_answer<'py>(
    py: Python<'py>,
    keyring: &PyKeyring,
    image: &str,
    cache_policy: &str,
    cache_duration: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let policy = self::cache_policy(cache_policy)?;
    let out = grpc::encode_get_credentials(&keyring.inner, image, policy, cache_duration)?;
    Ok(PyBytes::new(py, &out))
}

/// The serialized `pullkey.v1.BatchGetCredentialsResponse` for `images` (bad images as per-item errors).
#[pyfunction]
#[pyo3(name = "_encode_batch")]
fn encode_batch<'py>(
    py: Python<'py>,
    keyring: &PyKeyring,
    images: Vec<PyBackedStr>,
    cache_policy: &str,
    cache_duration: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let policy = self::cache_policy(cache_policy)?;
    // PyBackedStr borrows each Python string's UTF-8 (no copy for ASCII strings) and is Send.
    let refs: Vec<&str> = images.iter().map(|image| &**image).collect();
    // Pure Rust work on owned inputs: other Python threads (the event loop) run meanwhile.
    let out = py.detach(|| grpc::encode_batch(&keyring.inner, &refs, policy, cache_duration));
    Ok(PyBytes::new(py, &out))
}

/// Like `_encode_batch`, for `images[start:stop]` of a serialized `BatchGetCredentialsRequest`.
#[pyfunction]
#[pyo3(name = "_encode_batch_request")]
fn encode_batch_request<'py>(
    py: Python<'py>,
    keyring: &PyKeyring,
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
        &grpc::encode_batch(&keyring.inner, slice, policy, cache_duration),
    ))
}

/// The `service_account_token` of a serialized `BatchGetCredentialsRequest`, or `None`.
#[pyfunction]
#[pyo3(name = "_batch_token")]
fn batch_token(request: &[u8]) -> PyResult<Option<String>> {
    Ok(grpc::decode_batch_token(request)?.map(str::to_owned))
}

/// Like `_encode_batch`, for the images of `request[start:end]`, a byte range `_batch_slices` gave.
#[pyfunction]
#[pyo3(name = "_encode_batch_span")]
fn encode_batch_span<'py>(
    py: Python<'py>,
    keyring: &PyKeyring,
    request: &[u8],
    start: usize,
    end: usize,
    cache_policy: &str,
    cache_duration: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let policy = self::cache_policy(cache_policy)?;
    let span = request.get(start..end).unwrap_or_default();
    let images = grpc::decode_batch_images(span)?;
    Ok(PyBytes::new(
        py,
        &grpc::encode_batch(&keyring.inner, &images, policy, cache_duration),
    ))
}

/// `(start, end, images)` byte ranges of a serialized `BatchGetCredentialsRequest`, at most
/// `per_slice` images each, from one scan of the request.
#[pyfunction]
#[pyo3(name = "_batch_slices")]
fn batch_slices(request: &[u8], per_slice: usize) -> PyResult<Vec<(usize, usize, usize)>> {
    Ok(grpc::batch_slices(request, per_slice)?)
}

/// One entry of a `ProviderConfig`'s `sources`.
#[pyclass(frozen, eq, module = "pullkey._core", name = "ConfigSource")]
#[derive(Clone, PartialEq, Eq)]
pub struct PyConfigSource {
    kind: SourceKind,
    path: Option<String>,
    format: Format,
}

#[pymethods]
impl PyConfigSource {
    /// `type`: `SearchPaths`, `DockerConfig`, `PullSecret` or `PullSecretDir`.
    #[getter(r#type)]
    fn kind(&self) -> &'static str {
        self.kind.as_str()
    }
    #[getter]
    fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }
    #[getter]
    fn format(&self) -> &'static str {
        name_of(DOCKER_CONFIG_FORMATS, &self.format)
    }
    /// The same source with another `path` (the loader makes config-relative paths absolute).
    fn with_path(&self, path: String) -> Self {
        Self {
            path: Some(path),
            ..self.clone()
        }
    }
    fn __repr__(&self) -> String {
        format!(
            "ConfigSource(type={:?}, path={:?}, format={:?})",
            self.kind.as_str(),
            self.path,
            name_of(DOCKER_CONFIG_FORMATS, &self.format)
        )
    }
}

/// pullkey's `ProviderConfig`, parsed and checked by the core; `ProviderConfig()` is the default
/// configuration (no file): `[{type: SearchPaths}]`, search `merge`, cache `auto` for 5m.
#[pyclass(frozen, module = "pullkey._core", name = "ProviderConfig")]
pub struct PyProviderConfig {
    inner: ProviderConfig,
}

#[pymethods]
impl PyProviderConfig {
    #[new]
    fn new() -> Self {
        Self {
            inner: ProviderConfig::default(),
        }
    }
    /// `rootDir` as written, or `None`.
    #[getter]
    fn root_dir(&self) -> Option<&str> {
        self.inner.root_dir.as_deref()
    }
    #[getter]
    fn search_policy(&self) -> &'static str {
        name_of(SEARCH_POLICIES, &self.inner.search_policy)
    }
    #[getter]
    fn strict(&self) -> bool {
        self.inner.strict
    }
    #[getter]
    fn sources(&self) -> Vec<PyConfigSource> {
        self.inner
            .sources
            .iter()
            .map(|s| PyConfigSource {
                kind: s.kind,
                path: s.path.clone(),
                format: s.format,
            })
            .collect()
    }
    /// `cache.policy`.
    #[getter]
    fn cache_policy(&self) -> &'static str {
        name_of(CACHE_POLICIES, &self.inner.cache.policy)
    }
    /// `cache.duration` in whole seconds.
    #[getter]
    fn cache_duration(&self) -> u64 {
        self.inner.cache.duration_secs
    }
    /// The `helpers` block (docs/helpers.md).
    #[getter]
    fn helpers(&self) -> PyHelpersConfig {
        PyHelpersConfig {
            inner: self.inner.helpers.clone(),
        }
    }
    /// `mirrors`: `(registry, endpoints)` of each rule, in order (docs/mirrors.md).
    #[getter]
    fn mirrors(&self) -> Vec<(String, Vec<String>)> {
        self.inner
            .mirrors
            .iter()
            .map(|r| (r.registry.clone(), r.endpoints.clone()))
            .collect()
    }
    /// `tenants` and `credentialSets`, or `None`.
    #[getter]
    fn tenants(&self) -> Option<PyTenants> {
        self.inner.tenants.clone().map(|inner| PyTenants { inner })
    }
}

/// The `helpers` block of a `ProviderConfig` (docs/helpers.md); `HelpersConfig()` is the default (off).
#[pyclass(frozen, module = "pullkey._core", name = "HelpersConfig")]
pub struct PyHelpersConfig {
    inner: HelpersConfig,
}

#[pymethods]
impl PyHelpersConfig {
    #[new]
    fn new() -> Self {
        Self {
            inner: HelpersConfig::default(),
        }
    }
    #[getter]
    fn enabled(&self) -> bool {
        self.inner.enabled
    }
    /// `allow`, or `None` (any helper name found in `dirs`).
    #[getter]
    fn allow(&self) -> Option<Vec<String>> {
        self.inner.allow.clone()
    }
    #[getter]
    fn dirs(&self) -> Vec<String> {
        self.inner.dirs.clone()
    }
    /// `timeout` in milliseconds.
    #[getter]
    fn timeout_ms(&self) -> u64 {
        self.inner.timeout_ms
    }
    #[getter]
    fn max_output_bytes(&self) -> u64 {
        self.inner.max_output_bytes
    }
    /// `env`: `(NAME, None)` to pass from pullkey's environment, `(NAME, value)` to set.
    #[getter]
    fn env(&self) -> Vec<(String, Option<String>)> {
        self.inner
            .env
            .iter()
            .map(|e| match e {
                HelperEnv::Pass(n) => (n.clone(), None),
                HelperEnv::Set(n, v) => (n.clone(), Some(v.clone())),
            })
            .collect()
    }
    /// `cacheDuration` in whole seconds.
    #[getter]
    fn cache_duration(&self) -> u64 {
        self.inner.cache_duration_secs
    }
    /// The same block, enabled or not.
    fn with_enabled(&self, enabled: bool) -> Self {
        Self {
            inner: HelpersConfig {
                enabled,
                ..self.inner.clone()
            },
        }
    }
    fn __repr__(&self) -> String {
        format!(
            "HelpersConfig(enabled={}, allow={:?}, dirs={:?}, timeout_ms={}, cache_duration={})",
            if self.inner.enabled { "True" } else { "False" },
            self.inner.allow,
            self.inner.dirs,
            self.inner.timeout_ms,
            self.inner.cache_duration_secs
        )
    }
}

// Tenants (rust/tenant/): the config block, token verification, set selection.

fn token_error(e: tenant::TenantError) -> PyErr {
    TokenError::new_err((e.message, e.kind.code()))
}

fn config_sources(sources: &[config::Source]) -> Vec<PyConfigSource> {
    sources
        .iter()
        .map(|s| PyConfigSource {
            kind: s.kind,
            path: s.path.clone(),
            format: s.format,
        })
        .collect()
}

/// The `tenants` block with its `credentialSets` (see `_core.pyi`).
#[pyclass(frozen, module = "pullkey._core", name = "Tenants")]
pub struct PyTenants {
    inner: config::Tenants,
}

#[pymethods]
impl PyTenants {
    #[getter]
    fn audience(&self) -> &str {
        &self.inner.settings.audience
    }
    #[getter]
    fn issuer(&self) -> Option<&str> {
        self.inner.settings.issuer.as_deref()
    }
    /// `jwksPath` as written (relative to the config file's directory).
    #[getter]
    fn jwks_path(&self) -> Option<&str> {
        self.inner.settings.jwks_path.as_deref()
    }
    #[getter]
    fn cache_type(&self) -> &'static str {
        self.inner.settings.cache_type.as_str()
    }
    #[getter]
    fn trust_kubelet_request(&self) -> bool {
        self.inner.settings.trust_kubelet_request
    }
    #[getter]
    fn require_service_account(&self) -> bool {
        self.inner.settings.require_service_account
    }
    /// The annotation keys the selectors read (sorted): what the kubelet must send.
    #[getter]
    fn annotation_keys(&self) -> Vec<String> {
        self.inner.annotation_keys()
    }
    /// The set names, in config order.
    #[getter]
    fn set_names(&self) -> Vec<String> {
        self.inner.sets.iter().map(|s| s.name.clone()).collect()
    }
    /// The sources of set `index` (paths as written).
    fn set_sources(&self, index: usize) -> PyResult<Vec<PyConfigSource>> {
        self.inner
            .sets
            .get(index)
            .map(|s| config_sources(&s.sources))
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err("no such credential set"))
    }
    /// The selector of set `index`: `{"namespaces": [...], "serviceAccounts": [...], "annotations": {...}}`.
    fn set_selector<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyDict>> {
        let set = self
            .inner
            .sets
            .get(index)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err("no such credential set"))?;
        let out = PyDict::new(py);
        out.set_item("namespaces", &set.selector.namespaces)?;
        let accounts: Vec<String> = set
            .selector
            .service_accounts
            .iter()
            .map(|(ns, name)| format!("{ns}/{name}"))
            .collect();
        out.set_item("serviceAccounts", accounts)?;
        let annotations = PyDict::new(py);
        for (k, v) in &set.selector.annotations {
            annotations.set_item(k, v)?;
        }
        out.set_item("annotations", annotations)?;
        Ok(out)
    }
    /// `(index of the chosen set or None, [(name, selected, reason)] per set)` for `identity`;
    /// `annotations` is `None` where nobody vouches for them (gRPC).
    #[pyo3(signature = (identity, annotations = None))]
    fn select(
        &self,
        identity: &PyIdentity,
        annotations: Option<Vec<(String, String)>>,
    ) -> (Option<usize>, Vec<(String, bool, String)>) {
        let mut annotations = annotations;
        if let Some(a) = annotations.as_mut() {
            a.sort();
        }
        let selection = tenant::select_set(&self.inner.sets, &identity.inner, annotations.as_deref());
        (
            selection.chosen,
            selection
                .verdicts
                .into_iter()
                .map(|v| (v.name, v.selected, v.reason))
                .collect(),
        )
    }
    fn __repr__(&self) -> String {
        format!(
            "Tenants(audience={:?}, cache_type={:?}, sets={:?})",
            self.inner.settings.audience,
            self.inner.settings.cache_type.as_str(),
            self.inner.sets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>()
        )
    }
}

// Docker credential helpers (docs/helpers.md): the Python runner starts the programs; the core reads
// their output, writes pullkey's own answers as a helper, and places helper answers in the keyring.

/// `(source, credsStore, credHelpers)` of the docker config sources that name helpers.
type HelperRefsTuple = (String, Option<String>, Vec<(String, String)>);

#[pyfunction]
#[pyo3(name = "_helper_refs")]
fn helper_refs(py: Python<'_>, sources: Vec<PyRef<'_, PySourceFile>>) -> PyResult<Vec<HelperRefsTuple>> {
    let sources = source_files(py, &sources)?;
    Ok(operations::helper_refs(&sources)
        .into_iter()
        .map(|r| (r.source, r.creds_store, r.cred_helpers))
        .collect())
}

/// `keyring` with the helpers' answers `(source, key, username, secret)` between pull secrets and node files.
#[pyfunction]
#[pyo3(name = "_with_helper_answers")]
fn with_helper_answers(keyring: &PyKeyring, answers: Vec<(String, String, String, String)>) -> PyKeyring {
    let answers = answers
        .into_iter()
        .map(|(source, key, username, password)| operations::HelperAnswer {
            source,
            key,
            username,
            password,
        })
        .collect();
    PyKeyring {
        inner: operations::with_helper_answers(&keyring.inner, answers),
    }
}

/// A helper's `get` run: `("found", username, secret, identity_token)`, `("not found", "", "", False)`
/// or `("error", message, "", False)`.
#[pyfunction]
#[pyo3(name = "_helper_interpret_get")]
fn helper_interpret_get(exit_ok: bool, stdout: &[u8]) -> (&'static str, String, String, bool) {
    match credhelper::interpret_get(exit_ok, stdout) {
        GetOutcome::Found {
            username,
            secret,
            identity_token,
        } => ("found", username, secret, identity_token),
        GetOutcome::NotFound => ("not found", String::new(), String::new(), false),
        GetOutcome::Error(message) => ("error", message, String::new(), false),
    }
}

#[pyfunction]
#[pyo3(name = "_helper_summarize")]
fn helper_summarize(output: &[u8]) -> String {
    credhelper::summarize(output)
}

#[pyfunction]
#[pyo3(name = "_helper_server_url")]
fn helper_server_url(domain: &str) -> String {
    credhelper::server_url_for_registry(domain)
}

#[pyfunction]
#[pyo3(name = "_helper_registry")]
fn helper_registry(server_url: &str) -> Option<String> {
    credhelper::registry_of_server_url(server_url)
}

#[pyfunction]
#[pyo3(name = "_is_helper_name")]
fn is_helper_name(name: &str) -> bool {
    config::is_helper_name(name)
}

/// pullkey as a helper, `get`: the output bytes for `registry` (`host[:port]` or `docker.io`), or
/// `None` when no credential opens it.
#[pyfunction]
#[pyo3(name = "_helper_answer")]
fn helper_answer<'py>(py: Python<'py>, keyring: &PyKeyring, registry: &str) -> Option<Bound<'py, PyBytes>> {
    credhelper::first_for_registry(&keyring.inner, registry).map(|c| {
        let url = credhelper::server_url_for_registry(registry);
        PyBytes::new(py, &credhelper::render_get(&url, c.username(), c.password()))
    })
}

/// pullkey as a helper, `list`: the output bytes.
#[pyfunction]
#[pyo3(name = "_helper_list")]
fn helper_list<'py>(py: Python<'py>, keyring: &PyKeyring) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &credhelper::render_list(&keyring.inner))
}

/// The `image` of a kubelet `CredentialProviderRequest`.
#[pyfunction]
#[pyo3(name = "_exec_request_image")]
fn exec_request_image(request: &[u8]) -> PyResult<String> {
    Ok(crate::exec::decode_request(request).map_err(CoreError::from)?.image)
}

/// The `images` of a serialized `BatchGetCredentialsRequest`.
#[pyfunction]
#[pyo3(name = "_batch_images")]
fn batch_images(request: &[u8]) -> PyResult<Vec<String>> {
    Ok(grpc::decode_batch_images(request)?
        .into_iter()
        .map(str::to_owned)
        .collect())
}

/// Who pulls, as a checked token says (no secret in it).
#[pyclass(frozen, module = "pullkey._core", name = "Identity")]
pub struct PyIdentity {
    inner: tenant::Identity,
}

#[pymethods]
impl PyIdentity {
    #[getter]
    fn namespace(&self) -> &str {
        &self.inner.namespace
    }
    #[getter]
    fn service_account(&self) -> &str {
        &self.inner.service_account
    }
    #[getter]
    fn service_account_uid(&self) -> &str {
        &self.inner.service_account_uid
    }
    #[getter]
    fn pod_name(&self) -> &str {
        &self.inner.pod_name
    }
    #[getter]
    fn pod_uid(&self) -> &str {
        &self.inner.pod_uid
    }
    /// `exp`, seconds since the Unix epoch.
    #[getter]
    fn expires_at(&self) -> i64 {
        self.inner.expires_at
    }
    /// Whether the signature was checked (false only with `trustKubeletRequest`).
    #[getter]
    fn verified(&self) -> bool {
        self.inner.verified
    }
    fn __repr__(&self) -> String {
        format!(
            "Identity({}/{}, pod={:?}, verified={})",
            self.inner.namespace,
            self.inner.service_account,
            self.inner.pod_name,
            if self.inner.verified { "True" } else { "False" }
        )
    }
}

/// Checks service-account tokens: against a JWKS (bytes read by the loader), or, with `jwks=None`,
/// trusting the signature (`trustKubeletRequest`) while still checking every claim.
#[pyclass(frozen, module = "pullkey._core", name = "TokenVerifier")]
pub struct PyTokenVerifier {
    inner: tenant::TokenVerifier,
    warnings: Vec<String>,
    kids: Vec<String>,
}

#[pymethods]
impl PyTokenVerifier {
    #[new]
    #[pyo3(signature = (audience, issuer, jwks, jwks_name = ""))]
    fn new(audience: &str, issuer: Option<&str>, jwks: Option<&[u8]>, jwks_name: &str) -> PyResult<Self> {
        match jwks {
            None => Ok(Self {
                inner: tenant::TokenVerifier::trusting(audience, issuer),
                warnings: Vec::new(),
                kids: Vec::new(),
            }),
            Some(data) => {
                let keys = tenant::Jwks::parse(data, jwks_name).map_err(token_error)?;
                let warnings = keys.warnings.clone();
                let kids = keys.kids().into_iter().map(str::to_owned).collect();
                Ok(Self {
                    inner: tenant::TokenVerifier::new(audience, issuer, keys),
                    warnings,
                    kids,
                })
            }
        }
    }
    /// The identity of `token` at `now` (Unix seconds); `TokenError` (with its `code`) otherwise.
    fn verify(&self, token: &str, now: i64) -> PyResult<PyIdentity> {
        self.inner
            .verify(token, now)
            .map(|inner| PyIdentity { inner })
            .map_err(token_error)
    }
    /// Whether signatures are checked.
    #[getter]
    fn verifies_signatures(&self) -> bool {
        self.inner.verifies_signatures()
    }
    /// One line per JWKS key that was skipped.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
    /// The `kid` of each usable key.
    #[getter]
    fn kids(&self) -> Vec<String> {
        self.kids.clone()
    }
    fn __repr__(&self) -> String {
        format!(
            "TokenVerifier(audience={:?}, keys={})",
            self.inner.audience(),
            if self.inner.verifies_signatures() {
                self.kids.len().to_string()
            } else {
                "<signature trusted>".to_owned()
            }
        )
    }
}

/// The `tokenAttributes` lines to append to `render_kubelet_config`'s provider for `tenants`.
#[pyfunction]
fn render_token_attributes(tenants: &PyTenants) -> String {
    let t = &tenants.inner;
    config::render_token_attributes(
        &t.settings.audience,
        t.settings.cache_type,
        t.settings.require_service_account,
        &t.annotation_keys(),
    )
}

/// `(serviceAccountToken or None, serviceAccountAnnotations sorted)`.
type RequestIdentity = (Option<String>, Vec<(String, String)>);

/// `(serviceAccountToken or None, serviceAccountAnnotations sorted)` of an exec request (v1 only).
#[pyfunction]
#[pyo3(name = "_request_identity")]
fn request_identity(request: &[u8]) -> PyResult<RequestIdentity> {
    let request = crate::exec::decode_request(request).map_err(CoreError::from)?;
    Ok((request.service_account_token, request.service_account_annotations))
}

/// `(namespace, service account)` a token claims, unchecked: for `explain` of a rejected token only.
#[pyfunction]
#[pyo3(name = "_claimed_identity")]
fn claimed_identity(token: &str) -> PyResult<(String, String)> {
    tenant::read_unverified(token).map_err(token_error)
}

/// The keyring of a pull a credential set applies to: the set's groups, then the node's.
#[pyfunction]
#[pyo3(name = "_tenant_keyring")]
fn tenant_keyring(set: &PyKeyring, node: &PyKeyring) -> PyKeyring {
    PyKeyring {
        inner: tenant::tenant_keyring(&set.inner, &node.inner),
    }
}

/// Parses pullkey's `ProviderConfig` (YAML or JSON, strict).
#[pyfunction]
fn load_provider_config(data: &[u8], name: &str) -> PyResult<PyProviderConfig> {
    let inner = config::parse_provider_config(data, name).map_err(CoreError::from)?;
    Ok(PyProviderConfig { inner })
}

/// A Go duration string in whole seconds (rounded down); negative durations are refused.
#[pyfunction]
fn parse_duration_seconds(text: &str) -> PyResult<u64> {
    duration::parse_go_duration(text)
        .map(|d| d.as_secs())
        .map_err(|message| {
            ConfigError::new_err((format!("invalid duration {text:?}: {message}"), "", "invalid_config"))
        })
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
