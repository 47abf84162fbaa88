//! Every fuzz target's body, in one file: each `fuzz_targets/<name>.rs` is one line calling the
//! function of the same name here. This is the only file that names the core's modules, so when
//! they move only the `use` lines below change.
//!
//! Every target checks "no panic, no hang, bounded memory" (libFuzzer's `-timeout` and
//! `-rss_limit_mb`, set by `scripts/fuzz.sh`) and, where it is cheap, a property:
//! round trips, agreement with a slower reference implementation, redaction of secrets.

use std::sync::OnceLock;

use _core::dockercfg::{
    parse_docker_config, parse_docker_config_auto, parse_entry_auth, parse_secret_dir, parse_secret_manifests,
    ConfigFormat,
};
use _core::config::{parse_provider_config, render_kubelet_config, validate_kubelet_config};
use _core::credential::Credential;
use _core::exec::decode_request;
use _core::go::duration::{format_go_duration_nanos, parse_go_duration, parse_go_duration_nanos};
use _core::go::filepath::filepath_match;
use _core::go::url::{parse_schemeless, split_host_port};
use _core::grpc::{decode_batch_images, encode_batch, encode_get_credentials};
use _core::hostglob::{explain_match, urls_match_str};
use _core::keyring::{normalize_key, BasicKeyring, CachePolicy, Keyring};
use _core::operations::{
    build_keyring, describe_reference, exec_respond, lookup_image, SearchPolicy, SourceData, SourceFile,
};
use _core::reference::{self, parse_docker_ref, parse_named, parse_normalized_named};

const POLICIES: [CachePolicy; 4] = [
    CachePolicy::Auto,
    CachePolicy::Image,
    CachePolicy::Registry,
    CachePolicy::Global,
];

/// Splits a two-part input at its first newline (the seeds are written that way).
fn two(data: &[u8]) -> Option<(&str, &str)> {
    let text = std::str::from_utf8(data).ok()?;
    Some(text.split_once('\n').unwrap_or((text, "")))
}

/// `needle` must not occur in `shown` unless it also occurs in `public` (text that is shown on
/// purpose: keys, user names, the image). Secrets shorter than 8 bytes are too likely to occur by
/// chance to be checked.
fn assert_hidden(shown: &str, needle: &str, public: &[&str], what: &str) {
    // The `Debug` output's own words (field and type names, the redaction marker) are not data.
    let mut data = shown.to_owned();
    for word in [
        "service_account_annotations",
        "service_account_token",
        "identity_token",
        "registry_token",
        "http_headers",
        "creds_store",
        "cred_helpers",
        "DockerConfig",
        "api_version",
        "Credential",
        "AuthEntry",
        "<redacted>",
        "username",
        "password",
        "entries",
        "raw_key",
        "Request",
        "source",
        "email",
        "image",
        "Some",
        "None",
    ] {
        data = data.replace(word, "\u{0}");
    }
    if needle.len() >= 8 && data.contains(needle) && !public.iter().any(|p| p.contains(needle)) {
        panic!("a {what} is shown: {shown}");
    }
}

// ------------------------------------------------------------------------------------------------
// Image references (docs/reference.md).

/// Go's patterns from `github.com/distribution/reference` `regexp.go` (v0.6), compiled by the
/// `regex` crate (leftmost-first, like Go's regexp): the anchored `ReferenceRegexp` and the
/// anchored name split. A differential oracle for the hand-written parser.
fn reference_oracle(s: &str) -> Option<(String, String, Option<String>, Option<String>)> {
    static RES: OnceLock<(regex::Regex, regex::Regex)> = OnceLock::new();
    let (reference, anchored_name) = RES.get_or_init(|| {
        let component = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
        let domain_name = format!(r"{component}(?:\.{component})*");
        let domain_and_port = format!(r"(?:{domain_name}|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?");
        let path_component = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
        let remote_name = format!("{path_component}(?:/{path_component})*");
        let tag = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
        let digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";
        let name = format!("(?:{domain_and_port}/)?{remote_name}");
        let build = |p: &str| regex::Regex::new(p).expect("the Go patterns compile");
        (
            build(&format!("^({name})(?::({tag}))?(?:@({digest}))?$")),
            build(&format!("^(?:({domain_and_port})/)?({remote_name})$")),
        )
    });
    let m = reference.captures(s)?;
    let n = anchored_name.captures(m.get(1).map_or("", |g| g.as_str()))?;
    let owned = |g: Option<regex::Match<'_>>| g.map(|g| g.as_str().to_owned());
    Some((
        owned(n.get(1)).unwrap_or_default(),
        owned(n.get(2)).unwrap_or_default(),
        owned(m.get(2)),
        owned(m.get(3)),
    ))
}

fn parts(r: &reference::Reference) -> (String, String, Option<String>, Option<String>) {
    (
        r.domain().to_owned(),
        r.path().to_owned(),
        r.tag().map(str::to_owned),
        r.digest().map(str::to_owned),
    )
}

/// Image references: raw `Parse`, `ParseNormalizedNamed`, `ParseDockerRef`, `ParseNamed`, `pullkey parse`.
pub fn reference(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let raw = reference::parse(s);
    // Differential: whatever the parser accepts, Go's regexp matches with the same captures;
    // whatever the regexp rejects, the parser rejects.
    match (&raw, reference_oracle(s)) {
        (Ok(r), oracle) => assert_eq!(Some(parts(r)), oracle, "{s:?}"),
        (Err(_), _) => {}
    }
    if let Ok(r) = &raw {
        assert_eq!(r.as_str(), s, "raw Parse keeps the text");
    }
    if let Ok(r) = parse_normalized_named(s) {
        let normalized = r.as_str();
        // Bounded: normalisation adds at most `docker.io/library/`.
        assert!(
            normalized.len() <= s.len() + "docker.io/library/".len(),
            "{s:?} -> {normalized:?}"
        );
        // The normalised form parses raw to the same reference; the familiar form normalises back.
        assert_eq!(reference::parse(normalized).as_ref().ok(), Some(&r), "{s:?}");
        // Go's familiar form is ambiguous for `docker.io/<host-like>/...` (it drops `docker.io/`,
        // so `docker.io/a.b/c` is shown as `a.b/c`, another registry): no round trip there.
        let first = r.path().split('/').next().unwrap_or("");
        let host_like = first == "localhost" || first.contains(['.', ':']) || first != first.to_lowercase();
        // Likewise `docker.io/library/<64 hex>` is shown as a bare image ID, which normalising refuses.
        let familiar = r.familiar_string();
        if !(r.domain() == "docker.io" && r.path().contains('/') && host_like) && !reference::is_identifier(&familiar) {
            assert_eq!(parse_normalized_named(&familiar).ok().as_ref(), Some(&r), "{s:?}");
        }
        let docker = r.docker_ref();
        assert_eq!(parse_docker_ref(normalized).ok().as_ref(), Some(&docker), "{s:?}");
        assert_eq!(r.docker_ref_string(), docker.as_str());
        let _ = (r.familiar_name(), r.name(), r.is_name_only());
    }
    let _ = parse_named(s);
    let _ = reference::is_identifier(s);
    for normalize in [false, true] {
        if let Ok(view) = describe_reference(s, normalize) {
            let _ = (
                view.normalized(),
                view.familiar(),
                view.repository(),
                view.default_pull_policy(),
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Registry patterns and Go URLs (docs/kubelet.md §c.2).

/// The kubelet's `URLsMatchStr(pattern, target)` and `filepath.Match`: `pattern\ntarget`.
pub fn hostglob(data: &[u8]) {
    let Some((pattern, target)) = two(data) else { return };
    let matched = urls_match_str(pattern, target);
    let explained = explain_match(pattern, target);
    assert_eq!(matched, explained.is_ok(), "{pattern:?} {target:?}: {explained:?}");
    if let Err(why) = explained {
        let _ = why.to_string();
    }
    let _ = filepath_match(pattern, target);
}

/// Go `net/url.Parse` (with and without a scheme), `net.SplitHostPort`, the keyring's key normalisation.
pub fn go_url(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(u) = _core::go::url::parse(s) {
        assert_eq!(u.scheme, u.scheme.to_ascii_lowercase());
        let (host, port) = split_host_port(&u.host);
        assert!(host.len() + port.len() <= u.host.len());
    }
    if let Ok(u) = parse_schemeless(s) {
        assert!(u.host.len() <= s.len() && u.path.len() <= s.len(), "{s:?}: {u:?}");
    }
    if let Err(e) = _core::go::url::parse(&format!("https://{s}")) {
        // The error quotes the input with any userinfo redacted.
        let _ = e.to_string();
    }
    if let Some(key) = normalize_key(s) {
        assert!(key.len() <= s.len() + 1, "{s:?} -> {key:?}");
    }
}

// ------------------------------------------------------------------------------------------------
// Docker configs and Secrets (docs/kubelet.md §b.1, §d).

fn check_config_debug(config: &_core::dockercfg::DockerConfig) {
    let shown = format!("{config:?}");
    let mut public: Vec<&str> = Vec::new();
    for (key, entry) in &config.entries {
        public.extend([key.as_str(), entry.username.as_str(), entry.email.as_str()]);
    }
    public.extend(config.http_headers.iter().map(|(k, _)| k.as_str()));
    public.extend(config.cred_helpers.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]));
    public.extend(config.creds_store.as_deref());
    for (_, entry) in &config.entries {
        for secret in [&entry.password, &entry.identity_token, &entry.registry_token] {
            assert_hidden(&shown, secret, &public, "secret");
        }
    }
    for (_, value) in &config.http_headers {
        assert_hidden(&shown, value, &public, "header value");
    }
}

/// `config.json` and `.dockercfg`, both formats and detection; an entry's `auth`.
pub fn docker_config(data: &[u8]) {
    let json = parse_docker_config(data, ConfigFormat::ConfigJson);
    let legacy = parse_docker_config(data, ConfigFormat::DockerCfg);
    let auto = parse_docker_config_auto(data);
    if let Ok(config) = &auto {
        assert!(
            json.as_ref().ok() == Some(config) || legacy.as_ref().ok() == Some(config),
            "detection picks one of the two formats"
        );
    }
    for config in [&json, &legacy, &auto].into_iter().flatten() {
        check_config_debug(config);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((user, password)) = parse_entry_auth(text) {
            assert!(user.len() + password.len() <= text.len());
        }
    }
}

/// Kubernetes Secret manifests (JSON and YAML, Secret, List, several documents) and a mounted secret directory.
pub fn secret_manifest(data: &[u8]) {
    if let Ok(secrets) = parse_secret_manifests(data) {
        for secret in &secrets {
            assert!(!secret.name.is_empty() && !secret.namespace.is_empty());
            if let Some(config) = &secret.config {
                check_config_debug(config);
            }
        }
    }
    let files = [
        (".dockerconfigjson".to_owned(), data.to_vec()),
        ("secret/.dockercfg".to_owned(), data.to_vec()),
    ];
    let _ = parse_secret_dir(&files);
    let _ = parse_secret_dir(&files[1..]);
}

// ------------------------------------------------------------------------------------------------
// The exec protocol and the gRPC batch decoder (docs/kubelet.md §e).

/// A small fixed keyring for the targets that answer requests (wildcards, ports, paths, a fallback).
fn fixed_keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| {
        let config = br#"{"auths": {
            "*.example.com": {"auth": "dTE6cGFzc3dvcmQtb25l"},
            "registry.example.com:5000/team": {"username": "u2", "password": "password-two"},
            "https://index.docker.io/v1/": {"username": "u3", "password": "password-three"},
            "10.0.0.1": {"username": "u4", "password": "password-four"},
            "*.*.io/a": {"username": "u5", "password": "password-five"}
        }}"#;
        let source = SourceFile {
            name: "fixed".to_owned(),
            data: SourceData::DockerConfig {
                format: None,
                data: config.to_vec(),
            },
            search_path: false,
        };
        let built = build_keyring(&[], &[source], SearchPolicy::Merge);
        assert!(built.skipped.is_empty(), "the fixed config parses");
        built.keyring
    })
}

/// A kubelet `CredentialProviderRequest` on stdin, decoded then answered.
pub fn exec_request(data: &[u8]) {
    if let Ok(request) = decode_request(data) {
        assert!(!request.image.is_empty());
        if let Some(token) = &request.service_account_token {
            let mut public = vec![request.image.as_str()];
            public.extend(
                request
                    .service_account_annotations
                    .iter()
                    .flat_map(|(k, v)| [k.as_str(), v.as_str()]),
            );
            assert_hidden(&format!("{request:?}"), token, &public, "service account token");
        }
    }
    for policy in POLICIES {
        if let Ok(response) = exec_respond(fixed_keyring(), data, policy, 300) {
            let value: serde_json::Value = serde_json::from_slice(&response).expect("the response is JSON");
            assert_eq!(value["kind"], "CredentialProviderResponse");
        }
    }
}

/// A serialized `BatchGetCredentialsRequest` (the daemon decodes it in Rust), then answered.
pub fn batch_request(data: &[u8]) {
    if let Ok(images) = decode_batch_images(data) {
        let total: usize = images.iter().map(|i| i.len()).sum();
        assert!(total <= data.len());
        let images = &images[..images.len().min(64)];
        let out = encode_batch(fixed_keyring(), images, CachePolicy::Auto, 300);
        assert!(images.is_empty() || !out.is_empty());
        for image in images {
            let _ = encode_get_credentials(fixed_keyring(), image, CachePolicy::Image, 0);
        }
    }
}

/// Go `time.ParseDuration` and `Duration.String()`: every parsed duration prints and parses back.
pub fn go_duration(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(nanos) = parse_go_duration_nanos(s) {
        let shown = format_go_duration_nanos(nanos);
        assert_eq!(parse_go_duration_nanos(&shown), Ok(nanos), "{s:?} -> {shown:?}");
    }
    let _ = parse_go_duration(s);
}

// ------------------------------------------------------------------------------------------------
// Configuration files (docs/provider-config.md, docs/kubelet.md §f).

/// pullkey's `ProviderConfig` (YAML or JSON, strict).
pub fn provider_config(data: &[u8]) {
    match parse_provider_config(data, "fuzz.yaml") {
        Ok(config) => {
            let _ = format!("{config:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// The kubelet's `CredentialProviderConfig`: validated; a valid provider re-rendered by
/// `render_kubelet_config` validates again with the same fields (its documented promise).
pub fn kubelet_config(data: &[u8]) {
    let Ok(config) = validate_kubelet_config(&[("fuzz.yaml".to_owned(), data.to_vec())]) else {
        return;
    };
    for provider in &config.providers {
        let rendered = render_kubelet_config(
            &provider.name,
            &provider.match_images,
            provider.default_cache_duration_secs,
            &provider.args,
            &provider.env,
        );
        let again = validate_kubelet_config(&[("rendered.yaml".to_owned(), rendered.clone().into_bytes())])
            .unwrap_or_else(|e| panic!("rendered config does not validate: {e:?}\n{rendered}"));
        let p = &again.providers[0];
        assert_eq!(
            (&p.name, &p.match_images, &p.args, &p.env, p.default_cache_duration_secs),
            (
                &provider.name,
                &provider.match_images,
                &provider.args,
                &provider.env,
                provider.default_cache_duration_secs
            ),
        );
    }
}

// ------------------------------------------------------------------------------------------------
// The keyring (docs/kubelet.md §c.3, §d).

fn userpass<'a>(credentials: &[&'a Credential]) -> Vec<(&'a str, &'a str)> {
    credentials.iter().map(|c| (c.username(), c.password())).collect()
}

/// `image\nconfig`: a docker config merged into a keyring (as a secret and as a node file), then
/// the image looked up. The indexed lookup must equal the kubelet's linear scan, `explain` must
/// list the same credentials, and no `Debug` shows a password.
pub fn keyring(data: &[u8]) {
    let Some((image, config)) = two(data) else { return };
    let source = |name: &str| SourceFile {
        name: name.to_owned(),
        data: SourceData::DockerConfig {
            format: None,
            data: config.as_bytes(),
        },
        search_path: false,
    };
    let built = build_keyring(&[source("secret")], &[source("node")], SearchPolicy::Merge);
    let keyring = &built.keyring;
    let _ = keyring.match_images();
    let Ok((repository, credentials)) = lookup_image(keyring, image) else {
        return;
    };
    let linear: Vec<&Credential> = keyring
        .groups
        .iter()
        .flat_map(|g| g.lookup_linear(&repository))
        .collect();
    assert_eq!(
        userpass(&credentials),
        userpass(&linear),
        "indexed lookup != linear scan for {repository:?}"
    );
    let explanation = keyring.explain(&repository);
    assert_eq!(userpass(&explanation.credentials), userpass(&credentials));
    for credential in &credentials {
        let public = [
            credential.key(),
            credential.raw_key(),
            credential.username(),
            credential.source(),
        ];
        assert_hidden(&format!("{credential:?}"), credential.password(), &public, "password");
    }
    for policy in POLICIES {
        let auth = keyring.response_auth(&repository, policy);
        let _ = keyring.cache_key_type(&repository, policy);
        // The response's keys, added to a fresh keyring as the kubelet adds them, give the same
        // credentials for this image.
        let mut replay = BasicKeyring::new();
        let _ = replay.add_all(auth.entries.clone(), "response");
        let replayed = replay.lookup(&repository);
        let mut got: Vec<_> = userpass(&replayed);
        let mut want: Vec<_> = userpass(&credentials);
        got.sort_unstable();
        got.dedup();
        want.sort_unstable();
        want.dedup();
        assert_eq!(got, want, "response_auth({policy:?}) for {repository:?}");
    }
}
