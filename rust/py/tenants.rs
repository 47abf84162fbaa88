//! Tenants for Python (docs/provider-config.md "Tenants"): the config block, token verification, set selection.

use super::*;

// Tenants (rust/tenant/): the config block, token verification, set selection.

pub(crate) fn token_error(e: tenant::TenantError) -> PyErr {
    TokenError::new_err((e.message, e.kind.code()))
}

pub(crate) fn config_sources(sources: &[config::Source]) -> Vec<PyConfigSource> {
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
    pub(crate) inner: config::Tenants,
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

/// Who pulls, as a checked token says (no secret in it).
#[pyclass(frozen, module = "pullkey._core", name = "Identity")]
pub struct PyIdentity {
    pub(crate) inner: tenant::Identity,
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
    pub(crate) inner: tenant::TokenVerifier,
    pub(crate) warnings: Vec<String>,
    pub(crate) kids: Vec<String>,
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
pub(crate) fn render_token_attributes(tenants: &PyTenants) -> String {
    let t = &tenants.inner;
    config::render_token_attributes(
        &t.settings.audience,
        t.settings.cache_type,
        t.settings.require_service_account,
        &t.annotation_keys(),
    )
}

/// `(serviceAccountToken or None, serviceAccountAnnotations sorted)`.
pub(crate) type RequestIdentity = (Option<String>, Vec<(String, String)>);

/// `(serviceAccountToken or None, serviceAccountAnnotations sorted)` of an exec request (v1 only).
#[pyfunction]
#[pyo3(name = "_request_identity")]
pub(crate) fn request_identity(request: &[u8]) -> PyResult<RequestIdentity> {
    let request = crate::exec::decode_request(request).map_err(CoreError::from)?;
    Ok((request.service_account_token, request.service_account_annotations))
}

/// `(namespace, service account)` a token claims, unchecked: for `explain` of a rejected token only.
#[pyfunction]
#[pyo3(name = "_claimed_identity")]
pub(crate) fn claimed_identity(token: &str) -> PyResult<(String, String)> {
    tenant::read_unverified(token).map_err(token_error)
}

/// The keyring of a pull a credential set applies to: the set's groups, then the node's.
#[pyfunction]
#[pyo3(name = "_tenant_keyring")]
pub(crate) fn tenant_keyring(set: &PyKeyring, node: &PyKeyring) -> PyKeyring {
    PyKeyring {
        inner: tenant::tenant_keyring(&set.inner, &node.inner),
    }
}
