//! Image references and host globs for Python: `Reference`, `parse_reference(s)`, `match_image`.

use super::*;

/// A parsed image reference (see `_core.pyi`).
///
/// Holds the core reference (one string plus offsets); every attribute is derived and converted to
/// a Python object only when it is read, so parsing builds one Rust string and one Python object.
#[pyclass(frozen, eq, hash, module = "pullkey._core", name = "Reference")]
#[derive(PartialEq, Eq, Hash)]
pub struct PyReference {
    pub(crate) view: ReferenceView,
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
pub(crate) fn parse_reference(text: &str, normalize: bool) -> PyResult<PyReference> {
    Ok(PyReference {
        view: operations::describe_reference(text, normalize)?,
    })
}

/// One result of `parse_references`: the reference, or the `InvalidReference` instance.
pub(crate) fn reference_or_error<'py>(item: &Bound<'py, PyAny>, normalize: bool) -> PyResult<Bound<'py, PyAny>> {
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
pub(crate) fn parse_references<'py>(texts: &Bound<'py, PyAny>, normalize: bool) -> PyResult<Bound<'py, PyList>> {
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
pub(crate) fn match_image(pattern: &str, image: &str) -> bool {
    hostglob::urls_match_str(pattern, image)
}
