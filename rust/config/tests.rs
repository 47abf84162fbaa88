// Section numbers (§) refer to docs/kubelet.md.

use super::kubelet::{label_key_errors, validate_kubelet_config_with, DNS1123_SUBDOMAIN_MSG, LABEL_KEY_NAME_MSG};
use super::*;
use crate::keyring::CachePolicy;

// ---- ProviderConfig ----

const HEAD: &str = "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n";

fn parse(text: &str) -> Result<ProviderConfig, ConfigError> {
    parse_provider_config(text.as_bytes(), "/etc/pullkey/config.yaml")
}

fn parse_err(text: &str) -> (String, String) {
    let e = parse(text).unwrap_err();
    assert_eq!(e.file, "/etc/pullkey/config.yaml");
    (e.path, e.message)
}

fn with_head(body: &str) -> String {
    format!("{HEAD}{body}")
}

#[test]
fn minimal_config_gets_every_default() {
    let cfg = parse(HEAD).unwrap();
    assert_eq!(cfg, ProviderConfig::default());
    assert_eq!(cfg.root_dir, None);
    assert_eq!(cfg.search_policy, SearchPolicy::Merge);
    assert!(!cfg.strict);
    assert_eq!(
        cfg.sources,
        vec![Source {
            kind: SourceKind::SearchPaths,
            path: None,
            format: Format::Auto
        }]
    );
    assert_eq!(
        cfg.cache,
        CacheConfig {
            policy: CachePolicy::Auto,
            duration_secs: 300
        }
    );
}

#[test]
fn nulls_mean_defaults() {
    let cfg = parse(&with_head(
        "rootDir:\nsearchPolicy: null\nstrict: ~\nsources:\ncache:\n",
    ))
    .unwrap();
    assert_eq!(cfg, ProviderConfig::default());
    let cfg = parse(&with_head("cache: {policy: null, duration: null}\n")).unwrap();
    assert_eq!(cfg, ProviderConfig::default());
}

const FULL_YAML: &str = "\
apiVersion: pullkey.dev/v1alpha1
kind: ProviderConfig
rootDir: /srv/kubelet
searchPolicy: first
strict: true
sources:
  - type: SearchPaths
  - type: DockerConfig
    path: /etc/pullkey/extra.json
    format: auto
  - type: DockerConfig
    path: /etc/pullkey/a.json
    format: config.json
  - type: DockerConfig
    path: /etc/pullkey/.dockercfg
    format: dockercfg
  - type: PullSecret
    path: /etc/pullkey/secrets.yaml
  - type: PullSecretDir
    path: /etc/pullkey/secrets.d
cache:
  policy: Registry
  duration: 1h30m
";

const FULL_JSON: &str = r#"{
  "apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig",
  "rootDir": "/srv/kubelet", "searchPolicy": "first", "strict": true,
  "sources": [
    {"type": "SearchPaths"},
    {"type": "DockerConfig", "path": "/etc/pullkey/extra.json", "format": "auto"},
    {"type": "DockerConfig", "path": "/etc/pullkey/a.json", "format": "config.json"},
    {"type": "DockerConfig", "path": "/etc/pullkey/.dockercfg", "format": "dockercfg"},
    {"type": "PullSecret", "path": "/etc/pullkey/secrets.yaml"},
    {"type": "PullSecretDir", "path": "/etc/pullkey/secrets.d"}
  ],
  "cache": {"policy": "Registry", "duration": "1h30m"}
}"#;

#[test]
fn every_field_yaml_and_json_agree() {
    let yaml = parse(FULL_YAML).unwrap();
    let json = parse(FULL_JSON).unwrap();
    assert_eq!(yaml, json);
    assert_eq!(yaml.root_dir.as_deref(), Some("/srv/kubelet"));
    assert_eq!(yaml.search_policy, SearchPolicy::First);
    assert!(yaml.strict);
    let kinds: Vec<(SourceKind, Option<&str>, Format)> = yaml
        .sources
        .iter()
        .map(|s| (s.kind, s.path.as_deref(), s.format))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (SourceKind::SearchPaths, None, Format::Auto),
            (SourceKind::DockerConfig, Some("/etc/pullkey/extra.json"), Format::Auto),
            (
                SourceKind::DockerConfig,
                Some("/etc/pullkey/a.json"),
                Format::ConfigJson
            ),
            (
                SourceKind::DockerConfig,
                Some("/etc/pullkey/.dockercfg"),
                Format::DockerCfg
            ),
            (SourceKind::PullSecret, Some("/etc/pullkey/secrets.yaml"), Format::Auto),
            (SourceKind::PullSecretDir, Some("/etc/pullkey/secrets.d"), Format::Auto),
        ]
    );
    assert_eq!(
        yaml.cache,
        CacheConfig {
            policy: CachePolicy::Registry,
            duration_secs: 5400
        }
    );
}

#[test]
fn enumerations() {
    for (text, policy) in [("merge", SearchPolicy::Merge), ("first", SearchPolicy::First)] {
        assert_eq!(
            parse(&with_head(&format!("searchPolicy: {text}\n")))
                .unwrap()
                .search_policy,
            policy
        );
    }
    for (text, policy) in [
        ("auto", CachePolicy::Auto),
        ("Image", CachePolicy::Image),
        ("Registry", CachePolicy::Registry),
        ("Global", CachePolicy::Global),
    ] {
        let cfg = parse(&with_head(&format!("cache:\n  policy: {text}\n"))).unwrap();
        assert_eq!(cfg.cache.policy, policy);
        assert_eq!(cfg.cache.duration_secs, 300, "duration keeps its default");
    }
    assert!(!parse(&with_head("strict: false\n")).unwrap().strict);
}

#[test]
fn cache_durations() {
    for (text, secs) in [
        ("0", 0),
        ("0s", 0),
        ("45s", 45),
        ("5m", 300),
        ("1.5h", 5400),
        ("2h0m1s", 7201),
    ] {
        let cfg = parse(&with_head(&format!("cache: {{duration: \"{text}\"}}\n"))).unwrap();
        assert_eq!(cfg.cache.duration_secs, secs, "{text}");
    }
}

#[test]
fn every_error_path() {
    let cases: Vec<(String, &str, &str)> = vec![
            // document and type meta
            (HEAD.replace("pullkey.dev/v1alpha1", "pullkey.dev/v1"), "apiVersion",
             "expected pullkey.dev/v1alpha1, got \"pullkey.dev/v1\""),
            ("kind: ProviderConfig\n".into(), "apiVersion", "required, expected pullkey.dev/v1alpha1"),
            ("apiVersion: 1\nkind: ProviderConfig\n".into(), "apiVersion", "expected the string pullkey.dev/v1alpha1"),
            (HEAD.replace("kind: ProviderConfig", "kind: CredentialProviderConfig"), "kind",
             "expected ProviderConfig, got \"CredentialProviderConfig\""),
            ("apiVersion: pullkey.dev/v1alpha1\n".into(), "kind", "required, expected ProviderConfig"),
            (String::new(), "", "expected a ProviderConfig mapping, got an empty document"),
            ("- a\n".into(), "", "expected a ProviderConfig mapping, got a list"),
            ("just text\n".into(), "", "expected a ProviderConfig mapping, got a scalar"),
            // unknown fields, at every level
            (with_head("sorces: []\n"), "sorces",
             "unknown field, expected one of apiVersion, kind, rootDir, searchPolicy, strict, sources, cache, helpers, mirrors, upstreams"),
            (with_head("sources:\n- type: SearchPaths\n- type: PullSecret\n  path: /a\n- type: DockerConfig\n  paht: /x\n"),
             "sources[2].paht", "unknown field, expected one of type, path, format"),
            (with_head("cache:\n  ttl: 5m\n"), "cache.ttl", "unknown field, expected one of policy, duration"),
            (with_head("RootDir: /x\n"), "RootDir",
             "unknown field, expected one of apiVersion, kind, rootDir, searchPolicy, strict, sources, cache, helpers, mirrors, upstreams"),
            // wrong types
            (with_head("rootDir: 5\n"), "rootDir", "expected a string, got a number"),
            (with_head("strict: yes\n"), "strict", "expected a boolean, got a string"),
            (with_head("strict: \"true\"\n"), "strict", "expected a boolean, got a string"),
            (with_head("searchPolicy: [merge]\n"), "searchPolicy", "expected a string, got a list"),
            (with_head("sources: {type: SearchPaths}\n"), "sources", "expected a list, got a mapping"),
            (with_head("sources: [SearchPaths]\n"), "sources[0]", "expected a mapping, got a string"),
            (with_head("sources:\n- type: DockerConfig\n  path: 7\n"), "sources[0].path", "expected a string, got a number"),
            (with_head("cache: 5m\n"), "cache", "expected a mapping, got a string"),
            (with_head("cache:\n  duration: 300\n"), "cache.duration",
             "expected a string, got a number (a Go duration string such as \"5m\")"),
            // values
            (with_head("rootDir: \"\"\n"), "rootDir", "must not be empty (omit it for the default)"),
            (with_head("searchPolicy: Merge\n"), "searchPolicy",
             "unknown search policy \"Merge\", expected one of merge, first"),
            (with_head("sources: []\n"), "sources", "must not be empty (omit it for the default [{type: SearchPaths}])"),
            (with_head("sources:\n- path: /x\n"), "sources[0].type",
             "required, expected one of SearchPaths, DockerConfig, PullSecret, PullSecretDir"),
            (with_head("sources:\n- type: Foo\n"), "sources[0].type",
             "unknown source type \"Foo\", expected one of SearchPaths, DockerConfig, PullSecret, PullSecretDir"),
            (with_head("sources:\n- type: dockerconfig\n"), "sources[0].type",
             "unknown source type \"dockerconfig\", expected one of SearchPaths, DockerConfig, PullSecret, PullSecretDir"),
            (with_head("sources:\n- type: SearchPaths\n- type: DockerConfig\n"), "sources[1].path", "required for type DockerConfig"),
            (with_head("sources:\n- type: PullSecret\n  path: \"\"\n"), "sources[0].path", "required for type PullSecret"),
            (with_head("sources:\n- type: PullSecretDir\n"), "sources[0].path", "required for type PullSecretDir"),
            (with_head("sources:\n- type: SearchPaths\n  path: /x\n"), "sources[0].path",
             "not allowed for type SearchPaths (the search paths are under rootDir)"),
            (with_head("sources:\n- type: DockerConfig\n  path: /x\n  format: json\n"), "sources[0].format",
             "unknown format \"json\", expected one of auto, config.json, dockercfg"),
            (with_head("sources:\n- type: PullSecret\n  path: /x\n  format: auto\n"), "sources[0].format",
             "only allowed for type DockerConfig, not PullSecret"),
            (with_head("cache:\n  policy: image\n"), "cache.policy",
             "unknown cache policy \"image\", expected one of auto, Image, Registry, Global"),
            (with_head("cache:\n  duration: 5x\n"), "cache.duration",
             "invalid duration \"5x\": unknown unit \"x\" (units: ns, us, ms, s, m, h)"),
            (with_head("cache:\n  duration: \"5\"\n"), "cache.duration",
             "invalid duration \"5\": missing unit (e.g. \"5m\", \"90s\")"),
            (with_head("cache:\n  duration: \"\"\n"), "cache.duration", "invalid duration \"\""),
            (with_head("cache:\n  duration: 3000000h\n"), "cache.duration", "invalid duration \"3000000h\""),
            (with_head("cache:\n  duration: -5m\n"), "cache.duration", "must not be negative, got \"-5m\""),
            (with_head("cache:\n  duration: 1500ms\n"), "cache.duration", "must be a whole number of seconds, got \"1500ms\""),
        ];
    for (text, path, message) in cases {
        assert_eq!(parse_err(&text), (path.to_owned(), message.to_owned()), "{text}");
    }
}

#[test]
fn document_level_errors() {
    for (text, prefix) in [
        ("a: 1\na: 2\n", "not valid YAML: duplicate entry with key \"a\""),
        (
            "{\"apiVersion\": \"pullkey.dev/v1alpha1\", \"apiVersion\": \"x\"}",
            "not valid JSON: duplicate key \"apiVersion\"",
        ),
        ("{\"apiVersion\": \"pullkey.dev/v1alpha1\",}", "not valid JSON: "),
        ("a: [\n", "not valid YAML: "),
        (
            "a: 1\n---\nb: 2\n",
            "not valid YAML: deserializing from YAML containing more than one document",
        ),
    ] {
        let (path, message) = parse_err(text);
        assert_eq!(path, "");
        assert!(message.starts_with(prefix), "{text:?}: {message}");
    }
}

#[test]
fn json_with_leading_whitespace_and_yaml_flow_style() {
    let json = format!("\n  \t{FULL_JSON}");
    assert_eq!(parse(&json).unwrap(), parse(FULL_YAML).unwrap());
    // A flow mapping that is not JSON (unquoted) is read as YAML... only if it does not start with `{`.
    let flow = "--- {apiVersion: pullkey.dev/v1alpha1, kind: ProviderConfig, strict: true}\n";
    assert!(parse(flow).unwrap().strict);
}

#[test]
fn yaml_anchors_and_merge_keys() {
    let text = with_head("x-base: &base\n  type: DockerConfig\n");
    // Unknown top-level helper keys are still unknown fields.
    assert_eq!(parse_err(&text).0, "x-base");
    let text = with_head("sources:\n- &s {type: PullSecret, path: /a}\n- <<: *s\n  path: /b\n");
    let cfg = parse(&text).unwrap();
    assert_eq!(cfg.sources[1].kind, SourceKind::PullSecret);
    assert_eq!(cfg.sources[1].path.as_deref(), Some("/b"));
}

#[test]
fn display_names_file_and_path() {
    let e = parse(&with_head("cache:\n  policy: x\n")).unwrap_err();
    assert_eq!(
            e.to_string(),
            "/etc/pullkey/config.yaml: cache.policy: unknown cache policy \"x\", expected one of auto, Image, Registry, Global"
        );
    let e = parse_provider_config(b"", "").unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected a ProviderConfig mapping, got an empty document"
    );
}

proptest::proptest! {
    #[test]
    fn provider_config_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let _ = parse_provider_config(&data, "f");
    }

    #[test]
    fn provider_config_text_never_panics(text in "[a-zA-Z:{}\\[\\]\\-, \"\\n.0-9é]{0,120}") {
        let _ = parse_provider_config(text.as_bytes(), "f");
        let _ = validate_kubelet_config_with(&[("f".into(), text.into_bytes())], true, &accept_all);
    }
}

// ---- kubelet CredentialProviderConfig ----

/// A `matchImages` checker that rejects only `%zz`, so these tests pin the validation rules apart
/// from `url.Parse` (the real checker, [`crate::go::url::parse`], is exercised further down).
fn fake_url_check(entry: &str) -> Result<(), String> {
    if entry.contains("%zz") {
        Err(format!("parse \"https://{entry}\": invalid URL escape \"%zz\""))
    } else {
        Ok(())
    }
}

#[allow(clippy::unnecessary_wraps)] // the checker's signature
fn accept_all(_: &str) -> Result<(), String> {
    Ok(())
}

fn files(docs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    docs.iter()
        .map(|(n, d)| ((*n).to_owned(), d.as_bytes().to_vec()))
        .collect()
}

fn validate(docs: &[(&str, &str)]) -> Result<KubeletConfig, Vec<String>> {
    validate_kubelet_config_with(&files(docs), true, &fake_url_check)
}

fn errors_of(doc: &str) -> Vec<String> {
    validate(&[("k.yaml", doc)]).unwrap_err()
}

/// A v1 config with one provider whose body lines are `body` (indented 4).
fn v1_provider(body: &str) -> String {
    format!(
        "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - {}",
        body.trim_start()
    )
}

const VALID: &str = "\
apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: pullkey
    matchImages:
      - \"*.example.com\"
      - \"registry.io:5000/team\"
    defaultCacheDuration: 10m
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    args: [\"--v=5\"]
    env:
      - name: FOO
        value: BAR
  - name: ecr
    matchImages: [\"*.dkr.ecr.*.amazonaws.com\"]
    defaultCacheDuration: \"0s\"
    apiVersion: credentialprovider.kubelet.k8s.io/v1beta1
";

#[test]
fn valid_config_passes_with_every_field() {
    let cfg = validate(&[("k.yaml", VALID)]).unwrap();
    assert_eq!(cfg.providers.len(), 2);
    let p = &cfg.providers[0];
    assert_eq!(p.file, "k.yaml");
    assert_eq!(p.name, "pullkey");
    assert_eq!(p.match_images, vec!["*.example.com", "registry.io:5000/team"]);
    assert_eq!(p.default_cache_duration_secs, 600);
    assert_eq!(p.default_cache_duration_nanos, 600_000_000_000);
    assert_eq!(p.api_version, "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(p.args, vec!["--v=5"]);
    assert_eq!(p.env, vec![("FOO".to_owned(), "BAR".to_owned())]);
    assert_eq!(p.token_attributes, None);
    assert_eq!(cfg.providers[1].default_cache_duration_secs, 0, "zero is valid");
    assert_eq!(
        cfg.providers[1].api_version,
        "credentialprovider.kubelet.k8s.io/v1beta1"
    );
}

#[test]
fn every_config_version_and_json() {
    for version in ["v1", "v1beta1", "v1alpha1"] {
        let yaml = VALID.replace(
            "kubelet.config.k8s.io/v1\n",
            &format!("kubelet.config.k8s.io/{version}\n"),
        );
        assert_eq!(validate(&[("k.yaml", &yaml)]).unwrap().providers.len(), 2, "{version}");
    }
    // config_test.go "config with 1 plugin and 1 image matcher (JSON!)"
    let json = r#"{"kind": "CredentialProviderConfig", "apiVersion": "kubelet.config.k8s.io/v1alpha1",
            "providers": [{"name": "test", "matchImages": ["registry.io/foobar"], "defaultCacheDuration": "10m",
            "apiVersion": "credentialprovider.kubelet.k8s.io/v1alpha1", "args": ["--v=5"],
            "env": [{"name": "FOO", "value": "BAR"}]}]}"#;
    let cfg = validate(&[("k.json", json)]).unwrap();
    assert_eq!(cfg.providers[0].name, "test");
    assert_eq!(cfg.providers[0].default_cache_duration_secs, 600);
}

#[test]
fn files_concatenate_in_the_given_order() {
    let file = |name: &str, dur: &str| {
        v1_provider(&format!(
            "name: {name}\n    matchImages: [\"{name}.io\"]\n    defaultCacheDuration: {dur}\n    \
                 apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
        ))
    };
    let (a, b, c) = (file("test-b", "15m"), file("test-a", "20m"), file("test-c", "1h"));
    let cfg = validate(&[("/d/10-b.yaml", &a), ("/d/20-a.json", &b), ("/d/30-c.yml", &c)]).unwrap();
    let names: Vec<(&str, &str, u64)> = cfg
        .providers
        .iter()
        .map(|p| (p.name.as_str(), p.file.as_str(), p.default_cache_duration_secs))
        .collect();
    assert_eq!(
        names,
        vec![
            ("test-b", "/d/10-b.yaml", 900),
            ("test-a", "/d/20-a.json", 1200),
            ("test-c", "/d/30-c.yml", 3600)
        ]
    );
}

#[test]
fn duplicate_names_across_files() {
    let file = |image: &str| {
        v1_provider(&format!(
            "name: duplicate\n    matchImages: [\"{image}\"]\n    defaultCacheDuration: 10m\n    \
                 apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
        ))
    };
    let errors = validate(&[("/d/a.yaml", &file("one.io")), ("/d/b.yaml", &file("two.io"))]).unwrap_err();
    assert_eq!(
            errors,
            vec!["/d/b.yaml: duplicate provider name \"duplicate\" found in configuration file(s) (first defined in /d/a.yaml)"]
        );
}

#[test]
fn no_files_or_no_providers() {
    assert_eq!(
        validate(&[]).unwrap_err(),
        vec!["providers: Required value: at least 1 item in plugins is required"]
    );
    let empty = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n";
    for doc in [
        empty.to_owned(),
        format!("{empty}providers: []\n"),
        format!("{empty}providers: null\n"),
    ] {
        assert_eq!(
            errors_of(&doc),
            vec!["providers: Required value: at least 1 item in plugins is required"]
        );
    }
}

const P_OK: &str =
    "matchImages: [\"r.io\"]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n";

#[test]
fn rule_table() {
    let v1 = "credentialprovider.kubelet.k8s.io/v1";
    // (provider body, expected errors)
    let cases: Vec<(String, Vec<String>)> = vec![
            (format!("name: a/b\n    {P_OK}"),
             vec!["providers.name: Invalid value: \"a/b\": provider name cannot contain '/'".into()]),
            (format!("name: a b\n    {P_OK}"),
             vec!["providers.name: Invalid value: \"a b\": provider name cannot contain spaces".into()]),
            (format!("name: \"a/ b\"\n    {P_OK}"),
             vec!["providers.name: Invalid value: \"a/ b\": provider name cannot contain '/'".into(),
                  "providers.name: Invalid value: \"a/ b\": provider name cannot contain spaces".into()]),
            (format!("name: .\n    {P_OK}"), vec!["providers.name: Invalid value: \".\": provider name cannot be '.'".into()]),
            (format!("name: ..\n    {P_OK}"), vec!["providers.name: Invalid value: \"..\": provider name cannot be '..'".into()]),
            // An empty name passes validation (it fails LookPath at registration, §f.3).
            (format!("name: \"\"\n    {P_OK}"), vec![]),
            (P_OK.to_owned(), vec![]),
            ("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: 1m\n".into(),
             vec!["providers.apiVersion: Required value".into()]),
            ("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v2\n".into(),
             vec!["providers.apiVersion: Unsupported value: \"credentialprovider.kubelet.k8s.io/v2\": supported values: \
                   \"credentialprovider.kubelet.k8s.io/v1\", \"credentialprovider.kubelet.k8s.io/v1alpha1\", \
                   \"credentialprovider.kubelet.k8s.io/v1beta1\"".into()]),
            ("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: 1m\n    apiVersion: \"CredentialProvider.kubelet.k8s.io/v1\"\n".into(),
             vec!["providers.apiVersion: Unsupported value: \"CredentialProvider.kubelet.k8s.io/v1\": supported values: \
                   \"credentialprovider.kubelet.k8s.io/v1\", \"credentialprovider.kubelet.k8s.io/v1alpha1\", \
                   \"credentialprovider.kubelet.k8s.io/v1beta1\"".into()]),
            (format!("name: p\n    defaultCacheDuration: 1m\n    apiVersion: {v1}\n"),
             vec!["providers.matchImages: Required value: at least 1 item in matchImages is required".into()]),
            (format!("name: p\n    matchImages: []\n    defaultCacheDuration: 1m\n    apiVersion: {v1}\n"),
             vec!["providers.matchImages: Required value: at least 1 item in matchImages is required".into()]),
            (format!("name: p\n    matchImages: [\"ok.io\", \"r.io/%zz\"]\n    defaultCacheDuration: 1m\n    apiVersion: {v1}\n"),
             vec!["providers.matchImages: Invalid value: \"r.io/%zz\": match image is invalid: \
                   parse \"https://r.io/%zz\": invalid URL escape \"%zz\"".into()]),
            (format!("name: p\n    matchImages: [r.io]\n    apiVersion: {v1}\n"),
             vec!["providers.defaultCacheDuration: Required value".into()]),
            (format!("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: null\n    apiVersion: {v1}\n"),
             vec!["providers.defaultCacheDuration: Required value".into()]),
            (format!("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: -1m\n    apiVersion: {v1}\n"),
             vec!["providers.defaultCacheDuration: Invalid value: -1m0s: defaultCacheDuration must be greater than or equal to 0".into()]),
            (format!("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: \"-1.5s\"\n    apiVersion: {v1}\n"),
             vec!["providers.defaultCacheDuration: Invalid value: -1.5s: defaultCacheDuration must be greater than or equal to 0".into()]),
            (format!("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: \"0\"\n    apiVersion: {v1}\n"), vec![]),
            (format!("name: p\n    matchImages: [r.io]\n    defaultCacheDuration: 0s\n    apiVersion: {v1}\n    args: []\n    env: []\n"), vec![]),
        ];
    for (body, expected) in cases {
        let doc = v1_provider(&body);
        let got = validate(&[("k.yaml", &doc)]).err().unwrap_or_default();
        assert_eq!(got, expected, "{doc}");
    }
}

#[test]
fn duplicate_names_in_one_file_and_error_collection() {
    let doc = v1_provider(&format!(
        "name: x\n    {P_OK}  - name: x\n    {P_OK}  - name: a/b\n    matchImages: []\n    apiVersion: nope\n"
    ));
    assert_eq!(
        errors_of(&doc),
        vec![
            "providers.name: Duplicate value: \"x\"",
            "providers.name: Invalid value: \"a/b\": provider name cannot contain '/'",
            "providers.apiVersion: Unsupported value: \"nope\": supported values: \
                 \"credentialprovider.kubelet.k8s.io/v1\", \"credentialprovider.kubelet.k8s.io/v1alpha1\", \
                 \"credentialprovider.kubelet.k8s.io/v1beta1\"",
            "providers.matchImages: Required value: at least 1 item in matchImages is required",
            "providers.defaultCacheDuration: Required value",
        ]
    );
}

#[test]
fn identical_messages_are_reported_once() {
    let doc = v1_provider(&format!("name: a/b\n    {P_OK}  - name: a/b\n    {P_OK}"));
    assert_eq!(
        errors_of(&doc),
        vec![
            "providers.name: Invalid value: \"a/b\": provider name cannot contain '/'",
            "providers.name: Duplicate value: \"a/b\"",
        ]
    );
}

fn with_token_attributes(attrs: &str) -> String {
    v1_provider(&format!("name: p\n    {P_OK}    tokenAttributes:\n{attrs}"))
}

const TA_OK: &str =
    "      serviceAccountTokenAudience: aud\n      requireServiceAccount: true\n      cacheType: Token\n";

#[test]
fn token_attributes_valid() {
    let cfg = validate(&[(
        "k.yaml",
        &with_token_attributes(&format!(
            "{TA_OK}      requiredServiceAccountAnnotationKeys: [example.com/a, B]\n      \
             optionalServiceAccountAnnotationKeys: [Example.COM/Opt]\n"
        )),
    )])
    .unwrap();
    let t = cfg.providers[0].token_attributes.clone().unwrap();
    assert_eq!(t.service_account_token_audience, "aud");
    assert_eq!(t.cache_type, "Token");
    assert_eq!(t.require_service_account, Some(true));
    assert_eq!(t.required_service_account_annotation_keys, vec!["example.com/a", "B"]);
    assert_eq!(t.optional_service_account_annotation_keys, vec!["Example.COM/Opt"]);
    let sa = with_token_attributes(
        &TA_OK
            .replace("cacheType: Token", "cacheType: ServiceAccount")
            .replace("true", "false"),
    );
    assert!(validate(&[("k.yaml", &sa)]).is_ok());
}

#[test]
fn token_attributes_rules() {
    let ta = "providers.tokenAttributes";
    let cases: Vec<(String, Vec<String>)> = vec![
            ("      requireServiceAccount: true\n      cacheType: Token\n".into(),
             vec![format!("{ta}.serviceAccountTokenAudience: Required value")]),
            ("      serviceAccountTokenAudience: aud\n      cacheType: Token\n".into(),
             vec![format!("{ta}.requireServiceAccount: Required value")]),
            ("      serviceAccountTokenAudience: aud\n      requireServiceAccount: true\n".into(),
             vec![format!("{ta}.cacheType: Required value: cacheType is required to be set when tokenAttributes \
                           is specified. Supported values are: ServiceAccount, Token")]),
            (TA_OK.replace("cacheType: Token", "cacheType: token"),
             vec![format!("{ta}.cacheType: Unsupported value: \"token\": supported values: \"ServiceAccount\", \"Token\"")]),
            (format!("{}      requiredServiceAccountAnnotationKeys: [a]\n", TA_OK.replace("true", "false")),
             vec![format!("{ta}.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be \
                           false when requiredServiceAccountAnnotationKeys is set")]),
            (format!("{TA_OK}      requiredServiceAccountAnnotationKeys: [a, b, a]\n"),
             vec![format!("{ta}.requiredServiceAccountAnnotationKeys: Duplicate value: \"a\"")]),
            (format!("{TA_OK}      requiredServiceAccountAnnotationKeys: [b, a, c]\n      optionalServiceAccountAnnotationKeys: [c, b]\n"),
             vec![format!("{ta}: Invalid value: []string{{\"b\", \"c\"}}: annotation keys cannot be both required and optional")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"-bad\"]\n"),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"-bad\": name part {LABEL_KEY_NAME_MSG}")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"a/b/c\"]\n"),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"a/b/c\": a valid label key \
                           {LABEL_KEY_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"/x\"]\n"),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"/x\": prefix part must be non-empty")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"bad_prefix/x\"]\n"),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"bad_prefix/x\": prefix part {DNS1123_SUBDOMAIN_MSG}")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"example.com/\"]\n"),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"example.com/\": name part must be non-empty"),
                  format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"example.com/\": name part {LABEL_KEY_NAME_MSG}")]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"{}\"]\n", "a".repeat(64)),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"{}\": name part must be no more than 63 bytes", "a".repeat(64))]),
            (format!("{TA_OK}      optionalServiceAccountAnnotationKeys: [\"{}/a\", \"{}\"]\n", "a".repeat(254), "b".repeat(63)),
             vec![format!("{ta}.optionalServiceAccountAnnotationKeys: Invalid value: \"{}/a\": prefix part must be no more than 253 bytes", "a".repeat(254))]),
        ];
    for (attrs, expected) in cases {
        let doc = with_token_attributes(&attrs);
        assert_eq!(
            validate(&[("k.yaml", &doc)]).err().unwrap_or_default(),
            expected,
            "{doc}"
        );
    }
}

#[test]
fn token_attributes_need_a_v1_provider_and_the_gate() {
    let doc = v1_provider(&format!(
        "name: p\n    matchImages: [r.io]\n    defaultCacheDuration: 1m\n    \
             apiVersion: credentialprovider.kubelet.k8s.io/v1beta1\n    tokenAttributes:\n{TA_OK}"
    ));
    assert_eq!(
        errors_of(&doc),
        vec![
            "providers.tokenAttributes: Forbidden: tokenAttributes is only supported for \
                  credentialprovider.kubelet.k8s.io/v1 API version"
        ]
    );
    let doc = with_token_attributes(TA_OK);
    let errors = validate_kubelet_config_with(&files(&[("k.yaml", &doc)]), false, &accept_all).unwrap_err();
    assert_eq!(
        errors,
        vec![
            "providers.tokenAttributes: Forbidden: tokenAttributes is not supported when \
                  KubeletServiceAccountTokenForCredentialProviders feature gate is disabled"
        ]
    );
}

#[test]
fn token_attributes_are_unknown_before_v1() {
    for version in ["v1alpha1", "v1beta1"] {
        let doc = format!(
                "kind: CredentialProviderConfig\napiVersion: kubelet.config.k8s.io/{version}\nproviders:\n  - name: ok\n    {}  - name: test\n    {}    tokenAttributes:\n      serviceAccountTokenAudience: audience\n",
                P_OK.replace("/v1\n", &format!("/{version}\n")),
                P_OK.replace("/v1\n", &format!("/{version}\n")),
            );
        assert_eq!(
            errors_of(&doc),
            vec!["k.yaml: strict decoding error: unknown field \"providers[1].tokenAttributes\""],
            "{doc}"
        );
    }
}

#[test]
fn strict_decoding_errors() {
    let cases: Vec<(String, String)> = vec![
            // config_test.go "config with invalid typo"
            (v1_provider(&format!("name: test\n    {P_OK}    unknownField: should not be here\n")),
             "k.yaml: strict decoding error: unknown field \"providers[0].unknownField\"".into()),
            (v1_provider(&format!("name: test\n    {P_OK}    env:\n      - name: A\n        valeu: B\n")),
             "k.yaml: strict decoding error: unknown field \"providers[0].env[0].valeu\"".into()),
            (v1_provider(&format!("name: test\n    {P_OK}    tokenAttributes:\n      audience: x\n")),
             "k.yaml: strict decoding error: unknown field \"providers[0].tokenAttributes.audience\"".into()),
            (v1_provider(&format!("name: test\n    {P_OK}    MatchImages: [x]\n")),
             "k.yaml: strict decoding error: unknown field \"providers[0].MatchImages\"".into()),
            (format!("{}extra: 1\n", v1_provider(&format!("name: test\n    {P_OK}"))),
             "k.yaml: strict decoding error: unknown field \"extra\"".into()),
            // Durations must be strings.
            (v1_provider("name: test\n    matchImages: [r.io]\n    defaultCacheDuration: 0\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"),
             "k.yaml: decoding error: providers[0].defaultCacheDuration: expected a string, got a number \
              (durations are Go duration strings such as \"10m\")".into()),
            (v1_provider("name: test\n    matchImages: [r.io]\n    defaultCacheDuration: 10m5x\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"),
             "k.yaml: decoding error: providers[0].defaultCacheDuration: time: unknown unit \"x\" in duration \"10m5x\"".into()),
            (v1_provider("name: test\n    matchImages: r.io\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"),
             "k.yaml: decoding error: providers[0].matchImages: expected a list, got a string".into()),
            (v1_provider("name: 5\n    matchImages: [r.io]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"),
             "k.yaml: decoding error: providers[0].name: expected a string, got a number".into()),
            (v1_provider(&format!("name: test\n    {P_OK}    tokenAttributes:\n      requireServiceAccount: \"true\"\n")),
             "k.yaml: decoding error: providers[0].tokenAttributes.requireServiceAccount: expected a boolean, got a string".into()),
            // Type meta (config_test.go "config with wrong Kind" / "wrong apiversion").
            ("kind: WrongKind\napiVersion: kubelet.config.k8s.io/v1alpha1\nproviders: []\n".into(),
             "k.yaml: no kind \"WrongKind\" is registered for version \"kubelet.config.k8s.io/v1alpha1\" (expected kind \
              CredentialProviderConfig, apiVersion one of kubelet.config.k8s.io/v1, kubelet.config.k8s.io/v1beta1, \
              kubelet.config.k8s.io/v1alpha1)".into()),
            ("kind: CredentialProviderConfig\napiVersion: foobar/v1alpha1\nproviders: []\n".into(),
             "k.yaml: no kind \"CredentialProviderConfig\" is registered for version \"foobar/v1alpha1\" (expected kind \
              CredentialProviderConfig, apiVersion one of kubelet.config.k8s.io/v1, kubelet.config.k8s.io/v1beta1, \
              kubelet.config.k8s.io/v1alpha1)".into()),
            ("apiVersion: kubelet.config.k8s.io/v1\nproviders: []\n".into(),
             "k.yaml: Object 'Kind' is missing (expected CredentialProviderConfig)".into()),
            ("kind: CredentialProviderConfig\nproviders: []\n".into(),
             "k.yaml: Object 'apiVersion' is missing (expected one of kubelet.config.k8s.io/v1, \
              kubelet.config.k8s.io/v1beta1, kubelet.config.k8s.io/v1alpha1)".into()),
            ("kind: [x]\n".into(), "k.yaml: kind: expected a string".into()),
            (String::new(), "k.yaml: expected a CredentialProviderConfig mapping, got an empty document".into()),
        ];
    for (doc, expected) in cases {
        assert_eq!(errors_of(&doc), vec![expected], "{doc}");
    }
}

#[test]
fn json_numbers_for_durations_are_rejected() {
    let json = r#"{"kind":"CredentialProviderConfig","apiVersion":"kubelet.config.k8s.io/v1","providers":[
            {"name":"p","matchImages":["r.io"],"defaultCacheDuration":600,"apiVersion":"credentialprovider.kubelet.k8s.io/v1"}]}"#;
    let errors = validate(&[("k.json", json)]).unwrap_err();
    assert!(errors[0]
        .starts_with("k.json: decoding error: providers[0].defaultCacheDuration: expected a string, got a number"));
}

#[test]
fn every_undecodable_file_is_reported_and_validation_waits() {
    let bad_yaml = "providers: [\n";
    let dup_json = r#"{"kind":"CredentialProviderConfig","kind":"CredentialProviderConfig"}"#;
    let errors = validate(&[("a.yaml", bad_yaml), ("b.yaml", VALID), ("c.json", dup_json)]).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("a.yaml: not valid YAML: "), "{errors:?}");
    assert!(
        errors[1].starts_with("c.json: not valid JSON: duplicate key \"kind\""),
        "{errors:?}"
    );
}

#[test]
fn render_is_accepted_by_validate() {
    let env = vec![
        ("PULLKEY_CONFIG".to_owned(), "/etc/pullkey/config.yaml".to_owned()),
        ("Q".to_owned(), "a \"q\"\n\t\\ é\u{85}\u{2028}".to_owned()),
    ];
    let args = vec![
        "--config".to_owned(),
        "/etc/pullkey/config.yaml".to_owned(),
        "-v".to_owned(),
        "2".to_owned(),
        "yes".to_owned(),
        String::new(),
    ];
    let images = vec![
        "*".to_owned(),
        "*.*".to_owned(),
        "registry.io:5000/team".to_owned(),
        "null".to_owned(),
    ];
    let yaml = render_kubelet_config("pullkey", &images, 5400, &args, &env);
    let cfg = validate_kubelet_config_with(
        &[("rendered.yaml".into(), yaml.clone().into_bytes())],
        true,
        &accept_all,
    )
    .unwrap_or_else(|e| panic!("{e:?}\n{yaml}"));
    let p = &cfg.providers[0];
    assert_eq!(p.name, "pullkey");
    assert_eq!(p.match_images, images);
    assert_eq!(p.default_cache_duration_secs, 5400);
    assert_eq!(p.api_version, "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(p.args, args);
    assert_eq!(p.env, env);
    assert!(
        yaml.starts_with("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n"),
        "{yaml}"
    );
    assert!(yaml.contains("defaultCacheDuration: \"1h30m0s\"\n"), "{yaml}");
}

#[test]
fn render_minimal_and_zero_duration() {
    let yaml = render_kubelet_config("pullkey", &["*.example.com".to_owned()], 0, &[], &[]);
    assert_eq!(
        yaml,
        "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: \"pullkey\"\n    \
             apiVersion: credentialprovider.kubelet.k8s.io/v1\n    matchImages:\n      - \"*.example.com\"\n    \
             defaultCacheDuration: \"0s\"\n"
    );
    let cfg = validate_kubelet_config_with(&[("r.yaml".into(), yaml.into_bytes())], true, &accept_all).unwrap();
    assert_eq!(cfg.providers[0].default_cache_duration_secs, 0);
    // Invalid inputs render truthfully and are then refused.
    let yaml = render_kubelet_config("a/b", &[], 60, &[], &[]);
    let errors = validate_kubelet_config_with(&[("r.yaml".into(), yaml.into_bytes())], true, &accept_all).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
}

#[test]
fn label_key_rules() {
    for ok in [
        "a",
        "A",
        "a.b_c-d",
        "example.com/name",
        "a/b",
        "1",
        "x".repeat(63).as_str(),
    ] {
        assert!(label_key_errors(ok).is_empty(), "{ok}");
    }
    for bad in [
        "",
        "-a",
        "a-",
        "a b",
        "/a",
        "a/",
        "a/b/c",
        "UPPER.com/x",
        "ex_ample.com/x",
        "é",
    ] {
        assert!(!label_key_errors(bad).is_empty(), "{bad}");
    }
}

// ---- with the real `url.Parse` check of `matchImages` ----

#[test]
fn needs_url_valid_config_passes_real_validation() {
    let cfg = validate_kubelet_config(&files(&[("k.yaml", VALID)])).unwrap();
    assert_eq!(cfg.providers.len(), 2);
    // §f.3: anything url.Parse accepts passes, even entries that can never match.
    let odd = v1_provider(
        "name: p\n    matchImages: [\"registry.io/*\", \"https://x\", \"registry?.io\", \"\"]\n    \
             defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n",
    );
    assert!(validate_kubelet_config(&files(&[("k.yaml", &odd)])).is_ok());
}

#[test]
fn needs_url_invalid_match_image() {
    let doc = v1_provider(
        "name: p\n    matchImages: [\"r.io/%zz\"]\n    defaultCacheDuration: 1m\n    \
             apiVersion: credentialprovider.kubelet.k8s.io/v1\n",
    );
    let errors = validate_kubelet_config(&files(&[("k.yaml", &doc)])).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "providers.matchImages: Invalid value: \"r.io/%zz\": match image is invalid: parse \"https://r.io/%zz\": "
        ),
        "{errors:?}"
    );
}

#[test]
fn needs_url_render_is_accepted() {
    let yaml = render_kubelet_config(
        "pullkey",
        &["*".to_owned(), "*.example.com:5000/x".to_owned()],
        300,
        &[],
        &[],
    );
    assert!(validate_kubelet_config(&[("r.yaml".into(), yaml.into_bytes())]).is_ok());
}

// ---- Bounded cost (issue #10 defect 1) ----

#[test]
fn deeply_nested_config_is_refused_quickly() {
    let text = format!("{HEAD}sources: {}", "[".repeat(64 * 1024));
    let started = std::time::Instant::now();
    let (path, message) = parse_err(&text);
    // Before: 9 s (release build) for 64 KiB.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(path, "");
    assert!(
        message.starts_with("nested deeper than 64 levels at line 3"),
        "{message}"
    );
    let json = format!("{{\"a\": [{}0]}}", "0,".repeat(crate::limits::MAX_DOCUMENT_NODES));
    let e = parse_provider_config(json.as_bytes(), "c.json").unwrap_err();
    assert!(e.message.contains("more than 250000 nodes"), "{}", e.message);
}

/// The one table of names per enum (`crate::names`), for every enum that has names.
mod names {
    use crate::config::{Format, SearchPolicy, SourceKind};
    use crate::keyring::{CacheKeyType, CachePolicy};
    use crate::names::Named;

    fn round_trips<T: Named + std::fmt::Debug>() {
        for (name, value) in T::NAMES {
            assert_eq!(value.name(), *name);
            assert_eq!(T::from_name(name), Some(*value));
        }
        assert_eq!(T::from_name("no-such-name"), None);
    }

    #[test]
    fn every_name_round_trips() {
        round_trips::<CachePolicy>();
        round_trips::<CacheKeyType>();
        round_trips::<SearchPolicy>();
        round_trips::<Format>();
        round_trips::<SourceKind>();
        assert_eq!(CachePolicy::expected(), "auto, Image, Registry, Global");
        assert_eq!(SearchPolicy::expected(), "merge, first");
        assert_eq!(Format::expected(), "auto, config.json, dockercfg");
    }
}
