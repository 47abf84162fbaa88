//! pullkey's `ProviderConfig` (and its `helpers` block) and the kubelet's `CredentialProviderConfig`
//! for Python.

use super::*;

/// One entry of a `ProviderConfig`'s `sources`.
#[pyclass(frozen, eq, module = "pullkey._core", name = "ConfigSource")]
#[derive(Clone, PartialEq, Eq)]
pub struct PyConfigSource {
    pub(crate) kind: SourceKind,
    pub(crate) path: Option<String>,
    pub(crate) format: Format,
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
    pub(crate) inner: ProviderConfig,
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
    /// `upstreams`: `(name, command, args, env, apiVersion, matchImages, defaultCacheDuration
    /// seconds, timeout ms)` of each plugin, in order (docs/provider-config.md "Upstream plugins").
    #[getter]
    #[allow(clippy::type_complexity)]
    fn upstreams(
        &self,
    ) -> Vec<(
        String,
        String,
        Vec<String>,
        Vec<(String, String)>,
        &'static str,
        Vec<String>,
        u64,
        u64,
    )> {
        self.inner
            .upstreams
            .iter()
            .map(|u| {
                (
                    u.name.clone(),
                    u.command.clone(),
                    u.args.clone(),
                    u.env.clone(),
                    u.api_version.as_str(),
                    u.match_images.clone(),
                    u.default_cache_duration_secs,
                    u.timeout_ms,
                )
            })
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
    pub(crate) inner: HelpersConfig,
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

/// Parses pullkey's `ProviderConfig` (YAML or JSON, strict).
#[pyfunction]
pub(crate) fn load_provider_config(data: &[u8], name: &str) -> PyResult<PyProviderConfig> {
    let inner = config::parse_provider_config(data, name).map_err(CoreError::from)?;
    Ok(PyProviderConfig { inner })
}

/// A Go duration string in whole seconds (rounded down); negative durations are refused.
#[pyfunction]
pub(crate) fn parse_duration_seconds(text: &str) -> PyResult<u64> {
    duration::parse_go_duration(text)
        .map(|d| d.as_secs())
        .map_err(|message| {
            ConfigError::new_err((format!("invalid duration {text:?}: {message}"), "", "invalid_config"))
        })
}

/// Every error the kubelet would report for these `CredentialProviderConfig` files (empty: valid).
#[pyfunction]
pub(crate) fn validate_kubelet_config(files: Vec<(String, Vec<u8>)>) -> Vec<String> {
    config::validate_kubelet_config(&files).err().unwrap_or_default()
}

#[pyfunction]
pub(crate) fn render_kubelet_config(
    name: &str,
    match_images: Vec<String>,
    default_cache_duration: u64,
    args: Vec<String>,
    env: Vec<(String, String)>,
) -> String {
    config::render_kubelet_config(name, &match_images, default_cache_duration, &args, &env)
}
