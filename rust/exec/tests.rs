// Section numbers (§) refer to docs/kubelet.md.

use super::*;
use crate::credential::AuthEntry;
use crate::go::duration::{parse_go_duration, MAX_GO_DURATION_SECS};
use crate::go::json::parse_strict_json;
use crate::keyring::CacheKeyType;
use serde::Deserialize;
use std::collections::BTreeMap;

const V1_REQUEST: &str = include_str!("../../tests/fixtures/requests/v1.json");
const V1_TOKEN_REQUEST: &str = include_str!("../../tests/fixtures/requests/v1-service-account.json");
const V1BETA1_REQUEST: &str = include_str!("../../tests/fixtures/requests/v1beta1.json");
const V1ALPHA1_REQUEST: &str = include_str!("../../tests/fixtures/requests/v1alpha1.json");

fn err(data: &[u8]) -> String {
    decode_request(data).unwrap_err().message
}

#[test]
fn golden_requests_of_every_version_decode() {
    let cases = [
        (V1_REQUEST, ApiVersion::V1, "registry.example.com/team/app"),
        (V1BETA1_REQUEST, ApiVersion::V1beta1, "docker.io/library/nginx"),
        (
            V1ALPHA1_REQUEST,
            ApiVersion::V1alpha1,
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
        ),
    ];
    for (text, version, image) in cases {
        let req = decode_request(text.as_bytes()).unwrap();
        assert_eq!(req.api_version, version);
        assert_eq!(req.image, image);
        assert_eq!(req.service_account_token, None);
        assert!(req.service_account_annotations.is_empty());
    }
}

#[test]
fn v1_request_with_service_account_fields() {
    let req = decode_request(V1_TOKEN_REQUEST.as_bytes()).unwrap();
    assert_eq!(req.api_version, ApiVersion::V1);
    assert_eq!(req.image, "registry.example.com/team/app");
    assert_eq!(
        req.service_account_token.as_deref(),
        Some("fake-token-for-tests.not.a.jwt")
    );
    assert_eq!(
        req.service_account_annotations,
        vec![
            ("a.example.com/role".to_owned(), "puller".to_owned()),
            ("z.example.com/tenant".to_owned(), "blue".to_owned()),
        ]
    );
    // Debug never shows the token.
    let debug = format!("{req:?}");
    assert!(!debug.contains("fake-token"), "{debug}");
    assert!(debug.contains("<redacted>"));
}

#[test]
fn token_fields_are_ignored_before_v1() {
    for version in ["v1beta1", "v1alpha1"] {
        let text = format!(
            r#"{{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/{version}",
                "image":"r.io/a","serviceAccountToken":123,"serviceAccountAnnotations":{{"k":"v"}}}}"#
        );
        let req = decode_request(text.as_bytes()).unwrap();
        assert_eq!(req.service_account_token, None);
        assert!(req.service_account_annotations.is_empty());
    }
}

#[test]
fn empty_token_and_nulls_mean_absent() {
    let req = decode_request(
        br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1",
            "image":"r.io/a","serviceAccountToken":"","serviceAccountAnnotations":null}"#,
    )
    .unwrap();
    assert_eq!(req.service_account_token, None);
    assert!(req.service_account_annotations.is_empty());
}

#[test]
fn unknown_fields_and_surrounding_whitespace_are_accepted() {
    let req = decode_request(
        b" \n\t{\"futureField\":{\"x\":[1,2]},\"kind\":\"CredentialProviderRequest\",\
            \"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"image\":\"r.io/a\"}\r\n\n",
    )
    .unwrap();
    assert_eq!(req.image, "r.io/a");
}

#[test]
fn size_limit() {
    let mut big =
        br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"}"#
            .to_vec();
    big.resize(MAX_REQUEST_BYTES, b' ');
    assert!(decode_request(&big).is_ok(), "exactly 1 MiB is accepted");
    big.push(b' ');
    assert_eq!(err(&big), "request is larger than 1 MiB");
}

#[test]
fn empty_input() {
    for data in [&b""[..], b"   ", b"\n\r\n\t"] {
        assert_eq!(err(data), "empty request on stdin");
    }
}

#[test]
fn not_json_never_echoes_the_input() {
    let secret = "s3cr3t-token-value";
    let cases: Vec<(String, &str)> = vec![
        (
            format!("kind: CredentialProviderRequest\nserviceAccountToken: {secret}\n"),
            "line 1 column 1",
        ),
        (
            format!(r#"{{"kind":"CredentialProviderRequest","serviceAccountToken":"{secret}"}} trailing"#),
            "trailing characters",
        ),
        (
            format!(r#"{{"kind":"CredentialProviderRequest"}}{{"serviceAccountToken":"{secret}"}}"#),
            "trailing characters",
        ),
        (format!(r#"{{"serviceAccountToken":"{secret}""#), "EOF"),
        (format!(r#"{{"serviceAccountToken":{secret}}}"#), "expected value"),
    ];
    for (input, needle) in cases {
        let message = err(input.as_bytes());
        assert!(message.starts_with("request is not JSON: "), "{message}");
        assert!(message.contains(needle), "{message} lacks {needle}");
        assert!(message.contains("line "), "position missing: {message}");
        assert!(!message.contains(secret), "echoed: {message}");
    }
}

#[test]
fn invalid_utf8_is_not_json() {
    let message = err(b"{\"kind\":\"\xff\"}");
    assert!(message.starts_with("request is not JSON: "), "{message}");
}

#[test]
fn non_object_values_are_refused_without_echo() {
    for (input, kind) in [
        (&br#""s3cr3t""#[..], "a string"),
        (b"[\"s3cr3t\"]", "an array"),
        (b"42", "a number"),
        (b"null", "null"),
        (b"true", "a boolean"),
    ] {
        let message = err(input);
        assert_eq!(message, format!("request is not a JSON object (got {kind})"));
    }
}

#[test]
fn duplicate_top_level_keys() {
    let message = err(br#"{"kind":"CredentialProviderRequest","image":"a","image":"b"}"#);
    assert!(
        message.starts_with("request is not JSON: duplicate key \"image\""),
        "{message}"
    );
    let message = err(br#"{"s3cr3t":1,"s3cr3t":2}"#);
    assert!(
        message.starts_with("request is not JSON: duplicate key at"),
        "{message}"
    );
    assert!(!message.contains("s3cr3t"));
}

#[test]
fn field_errors_name_the_field_not_the_value() {
    let v1 = "credentialprovider.kubelet.k8s.io/v1";
    let cases: Vec<(String, String)> = vec![
            (
                format!(r#"{{"apiVersion":"{v1}","image":"r.io/a"}}"#),
                "kind: required, expected \"CredentialProviderRequest\"".to_owned(),
            ),
            (
                format!(r#"{{"kind":"CredentialProviderResponse","apiVersion":"{v1}","image":"r.io/a"}}"#),
                "kind: expected \"CredentialProviderRequest\"".to_owned(),
            ),
            (
                format!(r#"{{"kind":"credentialproviderrequest","apiVersion":"{v1}","image":"r.io/a"}}"#),
                "kind: expected \"CredentialProviderRequest\"".to_owned(),
            ),
            (
                format!(r#"{{"kind":7,"apiVersion":"{v1}","image":"r.io/a"}}"#),
                "kind: expected the string \"CredentialProviderRequest\", got a number".to_owned(),
            ),
            (
                r#"{"kind":"CredentialProviderRequest","image":"r.io/a"}"#.to_owned(),
                "apiVersion: required, expected one of credentialprovider.kubelet.k8s.io/v1, \
                 credentialprovider.kubelet.k8s.io/v1beta1, credentialprovider.kubelet.k8s.io/v1alpha1"
                    .to_owned(),
            ),
            (
                r#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"r.io/a"}"#.to_owned(),
                "apiVersion: unsupported, expected one of credentialprovider.kubelet.k8s.io/v1, \
                 credentialprovider.kubelet.k8s.io/v1beta1, credentialprovider.kubelet.k8s.io/v1alpha1"
                    .to_owned(),
            ),
            (
                r#"{"kind":"CredentialProviderRequest","apiVersion":"Credentialprovider.kubelet.k8s.io/v1","image":"r.io/a"}"#.to_owned(),
                "apiVersion: unsupported, expected one of credentialprovider.kubelet.k8s.io/v1, \
                 credentialprovider.kubelet.k8s.io/v1beta1, credentialprovider.kubelet.k8s.io/v1alpha1"
                    .to_owned(),
            ),
            (
                r#"{"kind":"CredentialProviderRequest","apiVersion":["v1"],"image":"r.io/a"}"#.to_owned(),
                "apiVersion: expected a string, got an array".to_owned(),
            ),
            (
                format!(r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}"}}"#),
                "image: required".to_owned(),
            ),
            (
                format!(r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":null}}"#),
                "image: required".to_owned(),
            ),
            (
                format!(r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":""}}"#),
                "image: must not be empty".to_owned(),
            ),
            (
                format!(r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":{{"s3cr3t":1}}}}"#),
                "image: expected a string, got an object".to_owned(),
            ),
            (
                format!(
                    r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":"r.io/a","serviceAccountToken":12345}}"#
                ),
                "serviceAccountToken: expected a string, got a number".to_owned(),
            ),
            (
                format!(
                    r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":"r.io/a","serviceAccountAnnotations":"s3cr3t"}}"#
                ),
                "serviceAccountAnnotations: expected an object of strings, got a string".to_owned(),
            ),
            (
                format!(
                    r#"{{"kind":"CredentialProviderRequest","apiVersion":"{v1}","image":"r.io/a","serviceAccountAnnotations":{{"k":7}}}}"#
                ),
                "serviceAccountAnnotations[\"k\"]: expected a string, got a number".to_owned(),
            ),
        ];
    for (input, expected) in cases {
        assert_eq!(err(input.as_bytes()), expected, "input {input}");
    }
}

#[test]
fn invalid_fixtures_give_their_expected_errors() {
    let expected: BTreeMap<String, String> =
        serde_json::from_str(include_str!("../../tests/fixtures/requests/invalid/expected.json")).unwrap();
    let files: [(&str, &str); 8] = [
        (
            "empty.json",
            include_str!("../../tests/fixtures/requests/invalid/empty.json"),
        ),
        (
            "yaml.json",
            include_str!("../../tests/fixtures/requests/invalid/yaml.json"),
        ),
        (
            "trailing-garbage.json",
            include_str!("../../tests/fixtures/requests/invalid/trailing-garbage.json"),
        ),
        (
            "wrong-kind.json",
            include_str!("../../tests/fixtures/requests/invalid/wrong-kind.json"),
        ),
        (
            "unknown-version.json",
            include_str!("../../tests/fixtures/requests/invalid/unknown-version.json"),
        ),
        (
            "missing-image.json",
            include_str!("../../tests/fixtures/requests/invalid/missing-image.json"),
        ),
        (
            "empty-image.json",
            include_str!("../../tests/fixtures/requests/invalid/empty-image.json"),
        ),
        (
            "token-not-string.json",
            include_str!("../../tests/fixtures/requests/invalid/token-not-string.json"),
        ),
    ];
    assert_eq!(expected.len(), files.len(), "every fixture has an expectation");
    for (name, data) in files {
        let message = err(data.as_bytes());
        assert_eq!(&message, &expected[name], "{name}");
        assert!(!message.contains("fake-token"), "{name} echoed the token");
    }
}

#[test]
fn image_is_returned_as_sent() {
    // Syntax is the caller's to check (reference parser); decode only requires a non-empty string.
    let req = decode_request(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"NOT a ref \u00e9"}"#,
        )
        .unwrap();
    assert_eq!(req.image, "NOT a ref \u{e9}");
}

// ---- responses ----

/// The kubelet's decoded response: unknown fields are errors, names are case-sensitive (§e.3).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct StrictResponse {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    #[serde(rename = "cacheKeyType")]
    cache_key_type: String,
    #[serde(rename = "cacheDuration")]
    cache_duration: Option<String>,
    auth: Option<BTreeMap<String, StrictAuth>>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct StrictAuth {
    username: String,
    password: String,
}

/// Decodes like the kubelet: one JSON value, no duplicate keys at any depth, strict fields.
fn kubelet_decode(out: &[u8]) -> StrictResponse {
    let text = std::str::from_utf8(out).unwrap();
    assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
    assert_eq!(text.matches('\n').count(), 1, "one line");
    let value = parse_strict_json(out, None).unwrap();
    serde_json::from_value(value).unwrap()
}

fn entry(username: &str, password: &str) -> AuthEntry {
    AuthEntry {
        username: username.to_owned(),
        password: password.to_owned(),
        email: "never@emitted.example".to_owned(),
        identity_token: "never-emitted-identity".to_owned(),
        registry_token: "never-emitted-registry".to_owned(),
    }
}

#[test]
fn response_exact_bytes() {
    let a = entry("user", "pass");
    let out = encode_response(
        ApiVersion::V1beta1,
        CacheKeyType::Image,
        0,
        &[("r.io/a".to_owned(), &a)],
    );
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1beta1\",\
             \"cacheKeyType\":\"Image\",\"cacheDuration\":\"0s\",\
             \"auth\":{\"r.io/a\":{\"username\":\"user\",\"password\":\"pass\"}}}\n"
    );
    let out = encode_response(ApiVersion::V1alpha1, CacheKeyType::Global, 3600, &[]);
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1alpha1\",\
             \"cacheKeyType\":\"Global\",\"cacheDuration\":\"1h0m0s\",\"auth\":{}}\n"
    );
}

#[test]
fn response_keys_sorted_first_duplicate_wins() {
    let (a, b, c) = (entry("a", "1"), entry("b", "2"), entry("c", "3"));
    let auth = vec![
        ("z.io".to_owned(), &a),
        ("*.a.io".to_owned(), &b),
        ("z.io".to_owned(), &c),
        ("a.io:5000/p".to_owned(), &c),
    ];
    let out = encode_response(ApiVersion::V1, CacheKeyType::Registry, 300, &auth);
    let text = String::from_utf8(out.clone()).unwrap();
    let keys: Vec<usize> = ["\"*.a.io\"", "\"a.io:5000/p\"", "\"z.io\""]
        .iter()
        .map(|k| text.find(k).unwrap())
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{text}");
    let decoded = kubelet_decode(&out);
    let map = decoded.auth.unwrap();
    assert_eq!(map.len(), 3);
    assert_eq!(
        map["z.io"],
        StrictAuth {
            username: "a".into(),
            password: "1".into()
        }
    );
    assert!(!text.contains("never"), "only username/password are emitted: {text}");
}

#[test]
fn response_escaping_round_trips() {
    let nasty = [
        "quote\" backslash\\ slash/",
        "ctl\u{0}\u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f}",
        "utf8 é 漢字 🚀 \u{2028}\u{2029}",
        "",
    ];
    for (i, s) in nasty.iter().enumerate() {
        let e = entry(s, s);
        let key = format!("{s}{i}");
        let out = encode_response(ApiVersion::V1, CacheKeyType::Image, 1, &[(key.clone(), &e)]);
        let text = std::str::from_utf8(&out).unwrap();
        assert!(
            !text.bytes().any(|b| b < 0x20 && b != b'\n'),
            "raw control char in {text:?}"
        );
        let decoded = kubelet_decode(&out);
        let got = &decoded.auth.unwrap()[&key];
        assert_eq!((got.username.as_str(), got.password.as_str()), (*s, *s));
    }
    // Non-ASCII stays UTF-8, not \u escapes.
    let e = entry("é", "漢");
    let out = encode_response(ApiVersion::V1, CacheKeyType::Image, 1, &[("k".into(), &e)]);
    assert!(std::str::from_utf8(&out)
        .unwrap()
        .contains("\"username\":\"é\",\"password\":\"漢\""));
}

#[test]
fn response_passes_strict_decode_for_every_version_and_type() {
    let a = entry("u", "p");
    for version in ApiVersion::ALL {
        for (ckt, name) in [
            (CacheKeyType::Image, "Image"),
            (CacheKeyType::Registry, "Registry"),
            (CacheKeyType::Global, "Global"),
        ] {
            let out = encode_response(version, ckt, 90, &[("r.io".into(), &a)]);
            let decoded = kubelet_decode(&out);
            assert_eq!(decoded.kind, "CredentialProviderResponse");
            assert_eq!(decoded.api_version, version.as_str());
            assert_eq!(decoded.cache_key_type, name);
            let duration = decoded.cache_duration.unwrap();
            assert_eq!(duration, "1m30s");
            assert_eq!(parse_go_duration(&duration).unwrap().as_secs(), 90);
        }
    }
}

#[test]
fn strict_decoder_emulation_rejects_what_the_kubelet_rejects() {
    // Sanity check of the emulation itself: a wrong-case field, an extra field, a duplicate key.
    let bad = [
            &br#"{"kind":"CredentialProviderResponse","apiVersion":"x","cacheKeyType":"Image","Auth":{}}"#[..],
            br#"{"kind":"CredentialProviderResponse","apiVersion":"x","cacheKeyType":"Image","auth":{"r":{"username":"u","password":"p","email":""}}}"#,
            br#"{"kind":"CredentialProviderResponse","apiVersion":"x","cacheKeyType":"Image","cacheKeyType":"Image"}"#,
        ];
    for data in bad {
        let ok = parse_strict_json(data, None)
            .ok()
            .and_then(|v| serde_json::from_value::<StrictResponse>(v).ok());
        assert!(ok.is_none(), "{}", String::from_utf8_lossy(data));
    }
}

#[test]
fn cache_duration_is_clamped_to_go_range() {
    let out = encode_response(ApiVersion::V1, CacheKeyType::Image, u64::MAX, &[]);
    let decoded = kubelet_decode(&out);
    let d = decoded.cache_duration.unwrap();
    assert_eq!(d, "2562047h47m16s");
    assert_eq!(parse_go_duration(&d).unwrap().as_secs(), MAX_GO_DURATION_SECS);
}

// ---- durations ----

proptest::proptest! {
    #[test]
    fn decode_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
        let _ = decode_request(&data);
    }

    #[test]
    fn any_strings_survive_encoding(user in "\\PC{0,16}|[\\x00-\\x1f\"\\\\]{0,8}", key in "\\PC{0,16}") {
        let e = AuthEntry { username: user.clone(), password: user.clone(), ..Default::default() };
        let out = encode_response(ApiVersion::V1, CacheKeyType::Image, 1, &[(key.clone(), &e)]);
        let decoded = kubelet_decode(&out);
        let auth = decoded.auth.unwrap();
        proptest::prop_assert_eq!(&auth[&key].username, &user);
    }
}
