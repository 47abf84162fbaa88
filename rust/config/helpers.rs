//! The `helpers` block of pullkey's `ProviderConfig`: whether and how pullkey runs the docker
//! credential helpers that node docker configs name in `credsStore`/`credHelpers`
//! (docs/helpers.md; the protocol: docs/ecosystem.md §3.2).
//!
//! Off by default: the kubelet never runs helpers (docs/kubelet.md §b.1), so the default stays
//! kubelet-exact. Strict like the rest of the file: an unknown field or a bad value is an error
//! naming its path (`helpers.timeout`, `helpers.env[1]`).

use crate::go::duration::parse_go_duration_nanos;
use crate::go::strconv::go_quote;
use serde::Deserialize;

/// Default `helpers.dirs`: where helper executables are looked up (never the caller's `PATH`).
pub const DEFAULT_HELPER_DIRS: [&str; 3] = ["/usr/local/bin", "/usr/bin", "/bin"];
/// The `helpers.dirs` entry that stands for the directories of the caller's `PATH`.
pub const PATH_DIRS: &str = "$PATH";
/// Default `helpers.timeout`: 5 seconds.
pub const DEFAULT_HELPER_TIMEOUT_MS: u64 = 5_000;
/// Default `helpers.maxOutputBytes`: 64 KiB for stdout and for stderr, each.
pub const DEFAULT_HELPER_MAX_OUTPUT: u64 = 64 << 10;
/// Default `helpers.cacheDuration`: 5 minutes.
pub const DEFAULT_HELPER_CACHE_SECS: u64 = 300;
/// Default `helpers.env`: the variables a helper gets from pullkey's environment.
pub const DEFAULT_HELPER_ENV: [&str; 1] = ["HOME"];
/// The longest `helpers.timeout` accepted: the kubelet gives an exec plugin about a minute in all
/// (docs/kubelet.md §e.3), so a longer helper could never answer in time.
const MAX_HELPER_TIMEOUT_MS: u64 = 55_000;

/// One `helpers.env` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperEnv {
    /// `NAME`: copied from pullkey's own environment when set there.
    Pass(String),
    /// `NAME=value`: set to this value.
    Set(String, String),
}

/// The `helpers` block (docs/provider-config.md, docs/helpers.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpersConfig {
    /// `enabled`: run the helpers the node docker configs name (default `false`).
    pub enabled: bool,
    /// `allow`: the helper names (suffixes of `docker-credential-`) that may run; `None` = any name
    /// found in `dirs`.
    pub allow: Option<Vec<String>>,
    /// `dirs`: the directories searched, in order; the entry `$PATH` stands for the caller's `PATH`.
    pub dirs: Vec<String>,
    /// `timeout`, in milliseconds: the helper's whole process group is killed after it.
    pub timeout_ms: u64,
    /// `maxOutputBytes`: the most bytes read from stdout, and from stderr.
    pub max_output_bytes: u64,
    /// `env`: the helper's environment (clean, plus these), in order.
    pub env: Vec<HelperEnv>,
    /// `cacheDuration`, whole seconds: how long a helper's answer may be reused.
    pub cache_duration_secs: u64,
}

impl Default for HelpersConfig {
    fn default() -> Self {
        HelpersConfig {
            enabled: false,
            allow: None,
            dirs: DEFAULT_HELPER_DIRS.map(str::to_owned).to_vec(),
            timeout_ms: DEFAULT_HELPER_TIMEOUT_MS,
            max_output_bytes: DEFAULT_HELPER_MAX_OUTPUT,
            env: DEFAULT_HELPER_ENV.map(|n| HelperEnv::Pass(n.to_owned())).to_vec(),
            cache_duration_secs: DEFAULT_HELPER_CACHE_SECS,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawHelpers {
    enabled: Option<bool>,
    allow: Option<Vec<String>>,
    dirs: Option<Vec<String>>,
    timeout: Option<String>,
    max_output_bytes: Option<u64>,
    env: Option<Vec<String>>,
    cache_duration: Option<String>,
}

/// Whether `name` can be a helper name: the suffix of `docker-credential-<name>`, one file name
/// (ASCII letters, digits, `.`, `_`, `-`; not starting with `.` or `-`), at most 64 bytes.
#[must_use]
pub fn is_helper_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether `name` is an environment variable name (`[A-Za-z_][A-Za-z0-9_]*`).
fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A non-negative Go duration string as a whole number of `unit_nanos` (1 ms, 1 s).
fn duration_in(text: &str, unit_nanos: u64) -> Result<u64, String> {
    let nanos = parse_go_duration_nanos(text).map_err(|_| {
        format!(
            "invalid duration {} (a Go duration string such as \"5s\")",
            go_quote(text)
        )
    })?;
    let nanos = u64::try_from(nanos).map_err(|_| format!("must not be negative, got {}", go_quote(text)))?;
    if nanos % unit_nanos != 0 {
        let unit = if unit_nanos == 1_000_000 {
            "milliseconds"
        } else {
            "seconds"
        };
        return Err(format!("must be a whole number of {unit}, got {}", go_quote(text)));
    }
    Ok(nanos / unit_nanos)
}

/// Converts the decoded `helpers` block; errors are `(field path, message)`.
pub(super) fn convert_helpers(raw: RawHelpers) -> Result<HelpersConfig, (String, String)> {
    let mut config = HelpersConfig {
        enabled: raw.enabled.unwrap_or(false),
        ..HelpersConfig::default()
    };
    if let Some(allow) = raw.allow {
        for (i, name) in allow.iter().enumerate() {
            if !is_helper_name(name) {
                return Err((
                    format!("helpers.allow[{i}]"),
                    format!(
                        "invalid helper name {} (the suffix of docker-credential-NAME: letters, digits, '.', '_', '-')",
                        go_quote(name)
                    ),
                ));
            }
        }
        config.allow = Some(allow);
    }
    if let Some(dirs) = raw.dirs {
        if dirs.is_empty() {
            return Err((
                "helpers.dirs".to_owned(),
                "must not be empty (omit it for the default /usr/local/bin, /usr/bin, /bin)".to_owned(),
            ));
        }
        for (i, dir) in dirs.iter().enumerate() {
            if dir != PATH_DIRS && !dir.starts_with('/') {
                return Err((
                    format!("helpers.dirs[{i}]"),
                    format!("must be an absolute directory or {PATH_DIRS}, got {}", go_quote(dir)),
                ));
            }
        }
        config.dirs = dirs;
    }
    if let Some(timeout) = raw.timeout {
        let at = || "helpers.timeout".to_owned();
        let ms = duration_in(&timeout, 1_000_000).map_err(|m| (at(), m))?;
        if ms == 0 || ms > MAX_HELPER_TIMEOUT_MS {
            return Err((at(), format!("must be between 1ms and 55s, got {}", go_quote(&timeout))));
        }
        config.timeout_ms = ms;
    }
    if let Some(max) = raw.max_output_bytes {
        if !(1024..=(16 << 20)).contains(&max) {
            return Err((
                "helpers.maxOutputBytes".to_owned(),
                format!("must be between 1024 and 16777216, got {max}"),
            ));
        }
        config.max_output_bytes = max;
    }
    if let Some(env) = raw.env {
        config.env = env
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                let (name, value) = match entry.split_once('=') {
                    Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                    None => (entry.clone(), None),
                };
                if !is_env_name(&name) {
                    return Err((
                        format!("helpers.env[{i}]"),
                        format!(
                            "expected NAME or NAME=value with NAME a variable name, got the name {}",
                            go_quote(&name)
                        ),
                    ));
                }
                Ok(match value {
                    Some(value) => HelperEnv::Set(name, value),
                    None => HelperEnv::Pass(name),
                })
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(duration) = raw.cache_duration {
        config.cache_duration_secs =
            duration_in(&duration, 1_000_000_000).map_err(|m| ("helpers.cacheDuration".to_owned(), m))?;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_provider_config;

    fn parse(body: &str) -> Result<HelpersConfig, (String, String)> {
        let text = format!("apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n{body}");
        parse_provider_config(text.as_bytes(), "c.yaml")
            .map(|c| c.helpers)
            .map_err(|e| (e.path, e.message))
    }

    #[test]
    fn defaults_are_off_and_bounded() {
        let h = parse("").unwrap();
        assert_eq!(h, HelpersConfig::default());
        assert!(!h.enabled);
        assert_eq!(h.dirs, ["/usr/local/bin", "/usr/bin", "/bin"]);
        assert_eq!(h.timeout_ms, 5000);
        assert_eq!(h.env, [HelperEnv::Pass("HOME".into())]);
        assert_eq!(parse("helpers: null\n").unwrap(), HelpersConfig::default());
        assert_eq!(parse("helpers: {}\n").unwrap(), HelpersConfig::default());
    }

    #[test]
    fn every_field() {
        let h = parse(
            "helpers:\n  enabled: true\n  allow: [pass, ecr-login]\n  dirs: [/opt/bin, $PATH]\n  timeout: 1500ms\n  \
             maxOutputBytes: 4096\n  env: [GNUPGHOME, LANG=C]\n  cacheDuration: 1m\n",
        )
        .unwrap();
        assert!(h.enabled);
        assert_eq!(
            h.allow.as_deref(),
            Some(&["pass".to_owned(), "ecr-login".to_owned()][..])
        );
        assert_eq!(h.dirs, ["/opt/bin", "$PATH"]);
        assert_eq!(h.timeout_ms, 1500);
        assert_eq!(h.max_output_bytes, 4096);
        assert_eq!(
            h.env,
            [
                HelperEnv::Pass("GNUPGHOME".into()),
                HelperEnv::Set("LANG".into(), "C".into())
            ]
        );
        assert_eq!(h.cache_duration_secs, 60);
    }

    #[test]
    fn errors_name_the_field_path() {
        let cases = [
            ("helpers:\n  enabeld: true\n", "helpers.enabeld"),
            ("helpers:\n  enabled: maybe\n", "helpers.enabled"),
            ("helpers:\n  allow: [pass, ../sh]\n", "helpers.allow[1]"),
            ("helpers:\n  allow: ['']\n", "helpers.allow[0]"),
            ("helpers:\n  dirs: []\n", "helpers.dirs"),
            ("helpers:\n  dirs: [/bin, bin]\n", "helpers.dirs[1]"),
            ("helpers:\n  timeout: 5\n", "helpers.timeout"),
            ("helpers:\n  timeout: 0s\n", "helpers.timeout"),
            ("helpers:\n  timeout: 2m\n", "helpers.timeout"),
            ("helpers:\n  maxOutputBytes: 10\n", "helpers.maxOutputBytes"),
            ("helpers:\n  env: [OK, 'BAD NAME']\n", "helpers.env[1]"),
            ("helpers:\n  env: ['=x']\n", "helpers.env[0]"),
            ("helpers:\n  cacheDuration: 1.5s\n", "helpers.cacheDuration"),
            ("helpers:\n  cacheDuration: -1m\n", "helpers.cacheDuration"),
            ("helpers: 1\n", "helpers"),
        ];
        for (body, path) in cases {
            let err = parse(body).unwrap_err();
            assert_eq!(err.0, path, "{body}: {err:?}");
        }
    }

    #[test]
    fn helper_names() {
        for good in ["pass", "ecr-login", "gcr", "desktop.exe", "a_b", "pullkey"] {
            assert!(is_helper_name(good), "{good}");
        }
        for bad in ["", ".", "..", "-x", "a/b", "a b", "é", &"x".repeat(65)] {
            assert!(!is_helper_name(bad), "{bad}");
        }
    }
}
