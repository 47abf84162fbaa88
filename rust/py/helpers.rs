//! Docker credential helpers for Python (docs/helpers.md).

use super::*;

// Docker credential helpers (docs/helpers.md): the Python runner starts the programs; the core reads
// their output, writes pullkey's own answers as a helper, and places helper answers in the keyring.

/// `(source, credsStore, credHelpers)` of the docker config sources that name helpers.
pub(crate) type HelperRefsTuple = (String, Option<String>, Vec<(String, String)>);

#[pyfunction]
#[pyo3(name = "_helper_refs")]
pub(crate) fn helper_refs(py: Python<'_>, sources: Vec<PyRef<'_, PySourceFile>>) -> PyResult<Vec<HelperRefsTuple>> {
    let sources = source_files(py, &sources)?;
    Ok(operations::helper_refs(&sources)
        .into_iter()
        .map(|r| (r.source, r.creds_store, r.cred_helpers))
        .collect())
}

/// `keyring` with the helpers' answers `(source, key, username, secret)` between pull secrets and node files.
#[pyfunction]
#[pyo3(name = "_with_helper_answers")]
pub(crate) fn with_helper_answers(keyring: &PyKeyring, answers: Vec<(String, String, String, String)>) -> PyKeyring {
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

/// `keyring` with the upstream plugins' answers `(source, key, username, password)` as a last group,
/// after node files (docs/provider-config.md "Upstream plugins").
#[pyfunction]
#[pyo3(name = "_with_upstream_answers")]
pub(crate) fn with_upstream_answers(keyring: &PyKeyring, answers: Vec<(String, String, String, String)>) -> PyKeyring {
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
        inner: operations::with_upstream_answers(&keyring.inner, answers),
    }
}

/// The request pullkey writes to an upstream plugin (docs/kubelet.md §e.4, plain mode).
#[pyfunction]
#[pyo3(name = "_encode_plugin_request")]
pub(crate) fn encode_plugin_request<'py>(
    py: Python<'py>,
    api_version: &str,
    image: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let version = crate::exec::ApiVersion::from_api_version(api_version)
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err(format!("unknown apiVersion {api_version:?}")))?;
    Ok(PyBytes::new(py, &crate::exec::encode_plugin_request(version, image)))
}

/// An upstream plugin's stdout decoded strictly (docs/kubelet.md §e.3, §e.4):
/// `(cacheKeyType, cacheDuration in whole seconds or None, [(key, username, password)])`; raises
/// `ValueError` with a message that never quotes the output. A negative duration counts as 0.
#[pyfunction]
#[pyo3(name = "_decode_plugin_response")]
#[allow(clippy::type_complexity)]
pub(crate) fn decode_plugin_response(
    data: &[u8],
    api_version: &str,
) -> PyResult<(&'static str, Option<u64>, Vec<(String, String, String)>)> {
    let version = crate::exec::ApiVersion::from_api_version(api_version)
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err(format!("unknown apiVersion {api_version:?}")))?;
    let r = crate::exec::decode_plugin_response(data, version).map_err(pyo3::exceptions::PyValueError::new_err)?;
    let secs = r
        .cache_duration_nanos
        .map(|n| u64::try_from(n).unwrap_or(0) / 1_000_000_000);
    let auth = r.auth.into_iter().map(|(k, a)| (k, a.username, a.password)).collect();
    Ok((crate::exec::cache_key_type_str(r.cache_key_type), secs, auth))
}

/// A helper's `get` run: `("found", username, secret, identity_token)`, `("not found", "", "", False)`
/// or `("error", message, "", False)`.
#[pyfunction]
#[pyo3(name = "_helper_interpret_get")]
pub(crate) fn helper_interpret_get(exit_ok: bool, stdout: &[u8]) -> (&'static str, String, String, bool) {
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
pub(crate) fn helper_summarize(output: &[u8]) -> String {
    credhelper::summarize(output)
}

#[pyfunction]
#[pyo3(name = "_helper_server_url")]
pub(crate) fn helper_server_url(domain: &str) -> String {
    credhelper::server_url_for_registry(domain)
}

#[pyfunction]
#[pyo3(name = "_helper_registry")]
pub(crate) fn helper_registry(server_url: &str) -> Option<String> {
    credhelper::registry_of_server_url(server_url)
}

#[pyfunction]
#[pyo3(name = "_is_helper_name")]
pub(crate) fn is_helper_name(name: &str) -> bool {
    config::is_helper_name(name)
}

/// pullkey as a helper, `get`: the output bytes for `registry` (`host[:port]` or `docker.io`), or
/// `None` when no credential opens it.
#[pyfunction]
#[pyo3(name = "_helper_answer")]
pub(crate) fn helper_answer<'py>(py: Python<'py>, keyring: &PyKeyring, registry: &str) -> Option<Bound<'py, PyBytes>> {
    credhelper::first_for_registry(&keyring.inner, registry).map(|c| {
        let url = credhelper::server_url_for_registry(registry);
        PyBytes::new(py, &credhelper::render_get(&url, c.username(), c.password()))
    })
}

/// pullkey as a helper, `list`: the output bytes.
#[pyfunction]
#[pyo3(name = "_helper_list")]
pub(crate) fn helper_list<'py>(py: Python<'py>, keyring: &PyKeyring) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &credhelper::render_list(&keyring.inner))
}

/// The `image` of a kubelet `CredentialProviderRequest`.
#[pyfunction]
#[pyo3(name = "_exec_request_image")]
pub(crate) fn exec_request_image(request: &[u8]) -> PyResult<String> {
    Ok(crate::exec::decode_request(request).map_err(CoreError::from)?.image)
}

/// The `images` of a serialized `BatchGetCredentialsRequest`.
#[pyfunction]
#[pyo3(name = "_batch_images")]
pub(crate) fn batch_images(request: &[u8]) -> PyResult<Vec<String>> {
    Ok(grpc::decode_batch_images(request)?
        .into_iter()
        .map(str::to_owned)
        .collect())
}
