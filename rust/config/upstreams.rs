//! The `upstreams` block of pullkey's `ProviderConfig`: other kubelet credential provider plugins
//! (ECR, GCR, ACR, any) that pullkey runs exactly as the kubelet does (docs/kubelet.md §e.2-§e.5),
//! their answers merged into the kubelet order after node files (docs/provider-config.md
//! "Upstream plugins"). Strict: errors name their path (`upstreams[0].apiVersion`).

use crate::exec::ApiVersion;
use crate::go::duration::parse_go_duration_nanos;
use crate::go::strconv::go_quote;
use serde::Deserialize;

/// The longest `timeout`: pullkey itself answers within the kubelet's minute (docs/kubelet.md §e.3).
pub const MAX_UPSTREAM_TIMEOUT_MS: u64 = 50_000;
/// Default `timeout`.
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 30_000;

/// One upstream plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `name`: unique; shown in errors and `explain`.
    pub name: String,
    /// `command`: the plugin executable, an absolute path.
    pub command: String,
    /// `args`, verbatim.
    pub args: Vec<String>,
    /// `env`: `(name, value)` set over pullkey's environment, in order (the last of a name wins).
    pub env: Vec<(String, String)>,
    /// `apiVersion`: the request's and the response's (exactly).
    pub api_version: ApiVersion,
    /// `matchImages`: `URLsMatchStr` patterns (docs/kubelet.md §e.2 step 1); required, non-empty.
    pub match_images: Vec<String>,
    /// `defaultCacheDuration`, whole seconds.
    pub default_cache_duration_secs: u64,
    /// `timeout`, milliseconds (default 30 s, at most 50 s).
    pub timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnv {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawUpstream {
    name: Option<String>,
    command: Option<String>,
    args: Option<Vec<String>>,
    env: Option<Vec<RawEnv>>,
    api_version: Option<String>,
    match_images: Option<Vec<String>>,
    default_cache_duration: Option<String>,
    timeout: Option<String>,
}

fn whole(text: &str, unit: u64, what: &str) -> Result<u64, String> {
    let nanos = parse_go_duration_nanos(text).map_err(|_| format!("invalid duration {}", go_quote(text)))?;
    let nanos = u64::try_from(nanos).map_err(|_| format!("must not be negative, got {}", go_quote(text)))?;
    if nanos % unit != 0 {
        return Err(format!("must be a whole number of {what}, got {}", go_quote(text)));
    }
    Ok(nanos / unit)
}

/// Converts the decoded `upstreams` block; errors are `(field path, message)`.
pub(super) fn convert_upstreams(raw: Vec<RawUpstream>) -> Result<Vec<Upstream>, (String, String)> {
    let mut out: Vec<Upstream> = Vec::with_capacity(raw.len());
    for (i, u) in raw.into_iter().enumerate() {
        let at = |field: &str| format!("upstreams[{i}].{field}");
        let name = u
            .name
            .filter(|n| !n.is_empty())
            .ok_or_else(|| (at("name"), "required".to_owned()))?;
        if out.iter().any(|o| o.name == name) {
            return Err((at("name"), format!("duplicate name {}", go_quote(&name))));
        }
        let command = u.command.ok_or_else(|| (at("command"), "required".to_owned()))?;
        if !command.starts_with('/') {
            return Err((
                at("command"),
                format!("must be an absolute path, got {}", go_quote(&command)),
            ));
        }
        let version = u.api_version.ok_or_else(|| (at("apiVersion"), "required".to_owned()))?;
        let api_version = ApiVersion::from_api_version(&version).ok_or_else(|| {
            (
                at("apiVersion"),
                format!(
                    "unknown apiVersion {}, expected credentialprovider.kubelet.k8s.io/v1, v1beta1 or v1alpha1",
                    go_quote(&version)
                ),
            )
        })?;
        let match_images = u.match_images.unwrap_or_default();
        if match_images.is_empty() {
            return Err((at("matchImages"), "must list at least one pattern".to_owned()));
        }
        let default = u
            .default_cache_duration
            .ok_or_else(|| (at("defaultCacheDuration"), "required".to_owned()))?;
        let default_cache_duration_secs =
            whole(&default, 1_000_000_000, "seconds").map_err(|m| (at("defaultCacheDuration"), m))?;
        let timeout_ms = match u.timeout {
            None => DEFAULT_UPSTREAM_TIMEOUT_MS,
            Some(t) => {
                let ms = whole(&t, 1_000_000, "milliseconds").map_err(|m| (at("timeout"), m))?;
                if ms == 0 || ms > MAX_UPSTREAM_TIMEOUT_MS {
                    return Err((
                        at("timeout"),
                        format!("must be more than 0 and at most 50s, got {}", go_quote(&t)),
                    ));
                }
                ms
            }
        };
        let mut env = Vec::new();
        for (j, e) in u.env.unwrap_or_default().into_iter().enumerate() {
            let name = e.name.filter(|n| !n.is_empty() && !n.contains('=')).ok_or_else(|| {
                (
                    format!("upstreams[{i}].env[{j}].name"),
                    "required, without '='".to_owned(),
                )
            })?;
            env.push((name, e.value.unwrap_or_default()));
        }
        out.push(Upstream {
            name,
            command,
            args: u.args.unwrap_or_default(),
            env,
            api_version,
            match_images,
            default_cache_duration_secs,
            timeout_ms,
        });
    }
    Ok(out)
}
