//! The keyring for Python: `Credential`, `SourceFile`, `Keyring`, the build, and the private
//! transport encoders the exec plugin and the gRPC server call.

use super::*;

/// One credential with its provenance. The password and tokens never appear in `repr`.
#[pyclass(frozen, get_all, module = "pullkey._core", name = "Credential")]
pub struct PyCredential {
    pub(crate) key: String,
    pub(crate) raw_key: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) email: String,
    pub(crate) identity_token: String,
    pub(crate) registry_token: String,
    pub(crate) source: String,
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

pub(crate) fn cache_policy(name: &str) -> PyResult<CachePolicy> {
    by_name(CACHE_POLICIES, "cache policy", name)
}

/// A credential source read by the Python loader: a display name, what its bytes are, the bytes (or,
/// for a mounted secret volume, its files) and whether it is a kubelet search-path candidate.
#[pyclass(frozen, module = "pullkey._core", name = "SourceFile")]
pub struct PySourceFile {
    pub(crate) name: String,
    pub(crate) format: SourceFormat,
    pub(crate) data: Py<PyAny>,
    pub(crate) search_path: bool,
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

pub(crate) fn source_files(
    py: Python<'_>,
    sources: &[PyRef<'_, PySourceFile>],
) -> PyResult<Vec<SourceFile<PyBackedBytes>>> {
    sources.iter().map(|source| source.to_core(py)).collect()
}

/// The merged keyring (pull-secret group, then node group). Built by the loader
/// (`_build_keyring`) or from one docker config (`from_docker_config`); no empty constructor.
#[pyclass(frozen, module = "pullkey._core", name = "Keyring")]
pub struct PyKeyring {
    pub(crate) inner: keyring::Keyring,
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
pub(crate) type BuildResult<'py> = (PyKeyring, Vec<String>, Vec<String>, Vec<Bound<'py, PyAny>>);

/// Builds the merged keyring from read sources: `(keyring, warnings, used source names, errors of the
/// sources that did not parse)`. Whether such an error is fatal (`strict`) is the caller's decision.
#[pyfunction]
#[pyo3(name = "_build_keyring")]
pub(crate) fn build_keyring<'py>(
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
pub(crate) fn exec_respond<'py>(
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

fn mirror_rules(mirrors: Vec<(String, Vec<String>)>) -> Vec<crate::config::MirrorRule> {
    mirrors
        .into_iter()
        .map(|(registry, endpoints)| crate::config::MirrorRule { registry, endpoints })
        .collect()
}

/// For `explain` (docs/mirrors.md §2 step 5): `None` when no rule matches `image`, else the rule's
/// index, the mirror image names in order, and `(image name found for, username)` of each credential
/// the kubelet will try, in order. Never a secret.
#[pyfunction]
#[pyo3(name = "_mirror_plan")]
#[allow(clippy::type_complexity)]
pub(crate) fn mirror_plan(
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
pub(crate) fn encode_answer<'py>(
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
pub(crate) fn encode_batch<'py>(
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
pub(crate) fn encode_batch_request<'py>(
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
pub(crate) fn batch_token(request: &[u8]) -> PyResult<Option<String>> {
    Ok(grpc::decode_batch_token(request)?.map(str::to_owned))
}

/// Like `_encode_batch`, for the images of `request[start:end]`, a byte range `_batch_slices` gave.
#[pyfunction]
#[pyo3(name = "_encode_batch_span")]
pub(crate) fn encode_batch_span<'py>(
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
pub(crate) fn batch_slices(request: &[u8], per_slice: usize) -> PyResult<Vec<(usize, usize, usize)>> {
    Ok(grpc::batch_slices(request, per_slice)?)
}
