use super::*;
use crate::go::json::MAX_DEPTH;
use base64::Engine as _;

fn entry(username: &str, password: &str, email: &str) -> AuthEntry {
    AuthEntry {
        username: username.to_owned(),
        password: password.to_owned(),
        email: email.to_owned(),
        ..AuthEntry::default()
    }
}

fn config_json(text: &str) -> DockerConfig {
    parse_docker_config(text.as_bytes(), ConfigFormat::ConfigJson)
        .unwrap_or_else(|e| panic!("config.json {text:?} failed: {e}"))
}

fn dockercfg(text: &str) -> DockerConfig {
    parse_docker_config(text.as_bytes(), ConfigFormat::DockerCfg)
        .unwrap_or_else(|e| panic!(".dockercfg {text:?} failed: {e}"))
}

fn config_json_err(text: &str) -> DockerConfigError {
    match parse_docker_config(text.as_bytes(), ConfigFormat::ConfigJson) {
        Ok(cfg) => panic!("config.json {text:?} parsed: {cfg:?}"),
        Err(e) => e,
    }
}

/// The single entry of a one-registry config.json `{"auths": {"r": <entry>}}`.
fn one_entry(entry_json: &str) -> Result<AuthEntry, DockerConfigError> {
    let text = format!(r#"{{"auths": {{"r": {entry_json}}}}}"#);
    let cfg = parse_docker_config(text.as_bytes(), ConfigFormat::ConfigJson)?;
    assert_eq!(cfg.entries.len(), 1, "{entry_json}");
    Ok(cfg.entries.into_iter().next().map(|(_, e)| e).unwrap())
}

fn keys(cfg: &DockerConfig) -> Vec<&str> {
    cfg.entries.iter().map(|(k, _)| k.as_str()).collect()
}

// --- kubelet config_test.go vectors (facts) -------------------------------------------------

#[test]
fn kubelet_docker_config_json_decode_legacy_map() {
    // config_test.go TestDockerConfigJSONDecode: the legacy top-level map.
    let cfg = dockercfg(
        r#"{"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"},
                "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}"#,
    );
    assert_eq!(
        cfg.entries,
        vec![
            (
                "http://foo.example.com".to_owned(),
                entry("foo", "bar", "foo@example.com")
            ),
            (
                "http://bar.example.com".to_owned(),
                entry("bar", "baz", "bar@example.com")
            ),
        ]
    );
    assert!(cfg.http_headers.is_empty() && cfg.creds_store.is_none() && cfg.cred_helpers.is_empty());
}

#[test]
fn kubelet_docker_config_json_json_decode_auths() {
    // config_test.go TestDockerConfigJsonJSONDecode / TestReadDockerConfigJSONFileFromBytes (valid).
    let cfg = config_json(
        r#"{"auths": {"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"},
                          "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}}"#,
    );
    assert_eq!(
        cfg.entries,
        vec![
            (
                "http://foo.example.com".to_owned(),
                entry("foo", "bar", "foo@example.com")
            ),
            (
                "http://bar.example.com".to_owned(),
                entry("bar", "baz", "bar@example.com")
            ),
        ]
    );
}

#[test]
fn kubelet_docker_config_entry_json_decode() {
    // config_test.go TestDockerConfigEntryJSONDecode.
    let cases: &[(&str, Option<AuthEntry>)] = &[
        (
            r#"{"username": "foo", "password": "bar", "email": "foo@example.com"}"#,
            Some(entry("foo", "bar", "foo@example.com")),
        ),
        (
            r#"{"auth": "Zm9vOmJhcg==", "email": "foo@example.com"}"#,
            Some(entry("foo", "bar", "foo@example.com")),
        ),
        // auth overrides username & password
        (
            r#"{"username": "foo", "password": "bar", "auth": "cGluZzpwb25n", "email": "foo@example.com"}"#,
            Some(entry("ping", "pong", "foo@example.com")),
        ),
        (r#"{"auth": "pants", "email": "foo@example.com"}"#, None),
        (r#"{"email": false}"#, None),
    ];
    for (input, want) in cases {
        match (one_entry(input), want) {
            (Ok(got), Some(want)) => assert_eq!(&got, want, "{input}"),
            (Err(_), None) => {}
            (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn kubelet_decode_docker_config_field_auth() {
    // config_test.go TestDecodeDockerConfigFieldAuth.
    let cases: &[(&str, Option<(&str, &str)>)] = &[
        ("Zm9vOmJhcg==", Some(("foo", "bar"))),
        ("Zm9vOmJhcg", Some(("foo", "bar"))),       // not padded
        ("Zm9vOm\nJhcg==\n", Some(("foo", "bar"))), // new lines are skipped
        ("cGFudHM=", None),                         // good base64, no colon
        ("Zm9vOmJhcg== ", None),                    // only new lines are ignored
        ("pants", None),                            // bad base64
    ];
    for (input, want) in cases {
        let got = parse_entry_auth(input);
        match (got, want) {
            (Ok((u, p)), Some((wu, wp))) => assert_eq!((u.as_str(), p.as_str()), (*wu, *wp), "{input:?}"),
            (Err(e), None) => assert_eq!(e.kind, DockerConfigErrorKind::Auth, "{input:?}"),
            (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn kubelet_read_docker_config_file_keeps_trailing_newline() {
    // config_test.go TestReadDockerConfigFile input: "Zm9vOmJhcgo=" is "foo:bar\n".
    let cfg =
        config_json(r#"{ "auths": { "http://foo.example.com":{"auth":"Zm9vOmJhcgo=","email":"foo@example.com"}}}"#);
    assert_eq!(
        cfg.entries,
        vec![(
            "http://foo.example.com".to_owned(),
            entry("foo", "bar\n", "foo@example.com")
        )]
    );
}

#[test]
fn kubelet_read_docker_config_from_bytes_truncated_is_an_error() {
    // config_test.go TestReadDockerConfigFileFromBytes / TestReadDockerConfigJSONFileFromBytes (invalid).
    let legacy = r#"{"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com""#;
    let e = parse_docker_config(legacy.as_bytes(), ConfigFormat::DockerCfg).unwrap_err();
    assert_eq!(e.kind, DockerConfigErrorKind::Json);
    let json = r#"{"auths": {"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"}, "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com""#;
    let e = config_json_err(json);
    assert_eq!(e.kind, DockerConfigErrorKind::Json);
    assert_eq!(e.message, "invalid JSON: unexpected end of input at line 1 column 195");
}

// --- auth decoding ------------------------------------------------------------------------------

#[test]
fn auth_decoding_table() {
    let ok: &[(&str, &str, &str)] = &[
        ("Zm9vOmJhcg==", "foo", "bar"),                 // padded
        ("Zm9vOmJhcg", "foo", "bar"),                   // unpadded
        ("Zm9vOmJhcg==\r\n", "foo", "bar"),             // trailing CRLF skipped; TrimSpace sees the '='
        ("\r\nZm9v\rOmJh\ncg==", "foo", "bar"),         // CR/LF anywhere
        ("Zm9vOmJhcg=\n=", "foo", "bar"),               // even between the padding characters
        ("Zm9vOmJhch==", "foo", "bar"),                 // non-zero trailing bits accepted (Go non-strict)
        ("dXNlcjpwYTpzczp3b3Jk", "user", "pa:ss:word"), // split at the FIRST colon
        ("OnB3", "", "pw"),                             // empty username
        ("Zm9vOg==", "foo", ""),                        // empty password
        ("Zm9vOg", "foo", ""),
        ("Zm9vOmJhcgo=", "foo", "bar\n"),    // trailing newline stays in the password
        ("bWU6cMOkc3M=", "me", "p\u{e4}ss"), // UTF-8 password
        ("YTo/fg==", "a", "?~"),             // '/' of the standard alphabet
        ("dTo+Pj8=", "u", ">>?"),            // '+' of the standard alphabet
    ];
    for (input, user, pass) in ok {
        let (u, p) = parse_entry_auth(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!((u.as_str(), p.as_str()), (*user, *pass), "{input:?}");
    }
    let bad: &[&str] = &[
        "",                   // decodes to nothing: no colon
        "\n",                 // likewise
        " ",                  // space is not skipped
        "Zm9vOmJhcg== ",      // trailing space
        " Zm9vOmJhcg==",      // leading space
        "Zm9vOmJhcg\t",       // tab
        "Zm9vOmJhcg==\u{a0}", // Unicode space after the padding
        "Zm9v OmJhcg==",      // inner space
        "YTo_fg==",           // URL-safe alphabet
        "dTo-Pj8=",           // URL-safe alphabet
        "YTo_fg",
        "Zm9vOmJhcg=",      // not enough padding
        "Zm9vOmJhcg===",    // too much padding
        "Zm9vOmJh=cg==",    // padding in the middle
        "Zm9vOmJhcg==Zm9v", // data after the padding
        "Zm9vOmJhc",        // a lone trailing character is never valid
        "Zm9vOmJhc=",
        "cGFudHM=", // no colon
        "cGFudHM",
        "Zm9vOmL/cg==", // decodes to "foo:b\xffr": not UTF-8 (our decision: reject)
        "====",
    ];
    for input in bad {
        let e = parse_entry_auth(input).expect_err(input);
        assert_eq!(e.kind, DockerConfigErrorKind::Auth, "{input:?}");
    }
}

#[test]
fn auth_error_messages_say_what_is_wrong() {
    assert_eq!(parse_entry_auth("pants").unwrap_err().message, "invalid base64");
    assert_eq!(
        parse_entry_auth("Zm9vOmJhcg= ").unwrap_err().message,
        "invalid base64 (padded standard alphabet expected)"
    );
    assert_eq!(
        parse_entry_auth("cGFudHM=").unwrap_err().message,
        "decoded value has no ':' (must be base64 of username:password)"
    );
    assert_eq!(
        parse_entry_auth("Zm9vOmL/cg==").unwrap_err().message,
        "decoded value is not valid UTF-8"
    );
}

#[test]
fn auth_replaces_username_and_password_only_when_non_empty() {
    let e = one_entry(r#"{"username":"u","password":"p","auth":"Zm9vOmJhcg==","email":"e"}"#).unwrap();
    assert_eq!(e, entry("foo", "bar", "e"));
    // member order does not matter: auth is applied after the whole object is read
    let e = one_entry(r#"{"auth":"Zm9vOmJhcg==","username":"u","password":"p"}"#).unwrap();
    assert_eq!(e, entry("foo", "bar", ""));
    // empty auth: username/password verbatim
    let e = one_entry(r#"{"username":"u","password":"p","auth":""}"#).unwrap();
    assert_eq!(e, entry("u", "p", ""));
    // auth decoding to an empty username replaces a non-empty one
    let e = one_entry(r#"{"username":"u","password":"p","auth":"OnB3"}"#).unwrap();
    assert_eq!(e, entry("", "pw", ""));
}

#[test]
fn bad_auth_fails_the_whole_file_naming_key_and_field() {
    let e =
        config_json_err(r#"{"auths": {"ok.io": {"username":"a","password":"b"}, "registry.io": {"auth": "pants"}}}"#);
    assert_eq!(e.kind, DockerConfigErrorKind::Auth);
    assert!(
        e.message
            .starts_with(r#"auths["registry.io"].auth: invalid base64 at line 1 column "#),
        "{}",
        e.message
    );
    let e = parse_docker_config(br#"{"x": {"auth": "cGFudHM="}}"#, ConfigFormat::DockerCfg).unwrap_err();
    assert_eq!(e.kind, DockerConfigErrorKind::Auth);
    assert!(
        e.message.starts_with(r#"["x"].auth: decoded value has no ':'"#),
        "{}",
        e.message
    );
}

// --- entry fields -------------------------------------------------------------------------------

#[test]
fn entry_field_names_are_matched_like_go() {
    let cases: &[(&str, AuthEntry)] = &[
        (r#"{"USERNAME":"u","Password":"p","eMail":"e"}"#, entry("u", "p", "e")),
        (r#"{"Auth":"Zm9vOmJhcg=="}"#, entry("foo", "bar", "")),
        (r#"{"AUTH":"Zm9vOmJhcg=="}"#, entry("foo", "bar", "")),
        // Go's Unicode simple folding: U+017F LONG S matches 's', U+212A KELVIN SIGN matches 'k'
        (
            "{\"u\u{17F}ername\":\"u\",\"pa\u{17F}\u{17F}word\":\"p\"}",
            entry("u", "p", ""),
        ),
        // escapes are decoded before matching
        (r#"{"\u0075sername":"u"}"#, entry("u", "", "")),
        // near misses are unknown members, ignored
        (
            r#"{"user_name":"u","pass":"p","mail":"e","authx":"!!","user":5}"#,
            entry("", "", ""),
        ),
        // a non-ASCII letter that folds to nothing ASCII does not match
        ("{\"\u{fc}sername\":\"u\"}", entry("", "", "")),
    ];
    for (input, want) in cases {
        assert_eq!(&one_entry(input).unwrap(), want, "{input}");
    }
    let tokens = one_entry("{\"IdentityToken\":\"it\",\"registrytoken\":\"rt\",\"username\":\"u\"}").unwrap();
    assert_eq!(
        (tokens.identity_token.as_str(), tokens.registry_token.as_str()),
        ("it", "rt")
    );
    let kelvin = one_entry("{\"identityto\u{212A}en\":\"it\"}").unwrap();
    assert_eq!(kelvin.identity_token, "it");
}

#[test]
fn entry_duplicates_and_nulls_follow_go() {
    // last member wins, whatever its spelling
    assert_eq!(one_entry(r#"{"username":"a","Username":"b"}"#).unwrap().username, "b");
    // null leaves a string field unchanged (Go: no effect)
    assert_eq!(one_entry(r#"{"username":"a","username":null}"#).unwrap().username, "a");
    assert_eq!(one_entry(r#"{"password":null}"#).unwrap(), AuthEntry::default());
    // a later empty auth cancels an earlier one
    assert_eq!(
        one_entry(r#"{"auth":"Zm9vOmJhcg==","auth":"","username":"u"}"#).unwrap(),
        entry("u", "", "")
    );
    // a null entry is an empty credential, still present
    assert_eq!(one_entry("null").unwrap(), AuthEntry::default());
    assert_eq!(one_entry("{}").unwrap(), AuthEntry::default());
}

#[test]
fn identity_and_registry_tokens_are_carried_leniently() {
    let e = one_entry(r#"{"username":"u","identitytoken":"it","registrytoken":"rt"}"#).unwrap();
    assert_eq!((e.identity_token.as_str(), e.registry_token.as_str()), ("it", "rt"));
    // the kubelet never reads them, so a wrong type is not an error: it is ignored
    let e = one_entry(r#"{"identitytoken":5,"registrytoken":{"a":[1e999]},"username":"u"}"#).unwrap();
    assert_eq!(e, entry("u", "", ""));
    let e = one_entry(r#"{"identitytoken":"it","identitytoken":null}"#).unwrap();
    assert_eq!(e.identity_token, "it");
}

#[test]
fn wrong_types_are_errors_naming_key_and_field() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"auths":{"x":{"username":5}}}"#,
            r#"auths["x"].username: expected a string"#,
        ),
        (
            r#"{"auths":{"x":{"password":true}}}"#,
            r#"auths["x"].password: expected a string"#,
        ),
        (
            r#"{"auths":{"x":{"email":{}}}}"#,
            r#"auths["x"].email: expected a string"#,
        ),
        (
            r#"{"auths":{"x":{"auth":["Zm9vOmJhcg=="]}}}"#,
            r#"auths["x"].auth: expected a string"#,
        ),
        (r#"{"auths":{"x":"Zm9vOmJhcg=="}}"#, r#"auths["x"]: expected an object"#),
        (r#"{"auths":{"x":[]}}"#, r#"auths["x"]: expected an object"#),
        (r#"{"auths":{"x":7}}"#, r#"auths["x"]: expected an object"#),
        (r#"{"auths":"x"}"#, "auths: expected an object"),
        (r#"{"auths":[]}"#, "auths: expected an object"),
        (r#"{"HttpHeaders":"x"}"#, "HttpHeaders: expected an object"),
        (
            r#"{"HttpHeaders":{"X-Meta":1}}"#,
            r#"HttpHeaders["X-Meta"]: expected a string"#,
        ),
        ("[]", "top level: expected an object"),
        (r#""auths""#, "top level: expected an object"),
        ("5", "top level: expected an object"),
        ("true", "top level: expected an object"),
        // a key with characters that need escaping is shown escaped
        (
            "{\"auths\":{\"a\\\"b\\n\":{\"username\":1}}}",
            r#"auths["a\"b\n"].username: expected a string"#,
        ),
    ];
    for (input, want) in cases {
        let e = config_json_err(input);
        assert_eq!(e.kind, DockerConfigErrorKind::Json, "{input}");
        assert!(e.message.starts_with(want), "{input}: {:?}", e.message);
        assert!(e.message.contains(" at line 1 column "), "{input}: {:?}", e.message);
    }
    let e = parse_docker_config(br#"{"x": {"username": 1}}"#, ConfigFormat::DockerCfg).unwrap_err();
    assert!(
        e.message.starts_with(r#"["x"].username: expected a string at line 1"#),
        "{}",
        e.message
    );
    let e = parse_docker_config(b"[1]", ConfigFormat::DockerCfg).unwrap_err();
    assert!(e.message.starts_with("top level: expected an object"), "{}", e.message);
}

#[test]
fn syntax_errors_have_line_and_column() {
    let cases: &[&str] = &[
        "",
        "   ",
        "{",
        r#"{"auths":{},}"#,
        r#"{"auths":{}} x"#,
        r#"{"auths":{}}{}"#,
        "\u{feff}{}",
        "{'auths':{}}",
        r#"{"auths":{"x":{"username":"a\q"}}}"#,
        "{\"auths\":{\"x\":{\"username\":\"a\u{1}\"}}}",
        r#"{"auths":{"x":{"username":"\ud800"}}, "y": "\uZZZZ"}"#,
        "{\"a\":1}\n\n  }",
    ];
    for input in cases {
        let e = config_json_err(input);
        assert_eq!(e.kind, DockerConfigErrorKind::Json, "{input:?}");
        assert!(e.message.starts_with("invalid JSON: "), "{input:?}: {}", e.message);
        assert!(e.message.contains(" at line "), "{input:?}: {}", e.message);
    }
    let e = config_json_err("{\"a\":1}\n\n  }");
    assert!(e.message.ends_with("at line 3 column 3"), "{}", e.message);
}

// --- config.json top level ------------------------------------------------------------------

#[test]
fn missing_or_null_auths_is_empty_not_an_error() {
    for input in [
        "{}",
        r#"{"auths": null}"#,
        r#"{"auths": {}}"#,
        "null",
        " null ",
        r#"{"credsStore":"x"}"#,
    ] {
        let cfg = config_json(input);
        assert!(cfg.entries.is_empty(), "{input}");
    }
    assert_eq!(dockercfg("null"), DockerConfig::default());
    assert_eq!(dockercfg("{}"), DockerConfig::default());
}

#[test]
fn auths_member_name_is_case_insensitive_and_maps_merge_like_go() {
    assert_eq!(keys(&config_json(r#"{"AUTHS": {"a": {}}}"#)), ["a"]);
    assert_eq!(keys(&config_json("{\"auth\u{17F}\": {\"a\": {}}}")), ["a"]);
    // Go decodes a repeated map member into the same map: entries are merged, last value wins.
    let cfg = config_json(
        r#"{"auths": {"a": {"username":"1"}, "b": {"username":"2"}}, "Auths": {"b": {"username":"3"}, "c": {}}}"#,
    );
    assert_eq!(keys(&cfg), ["a", "b", "c"]);
    assert_eq!(cfg.entries[1].1.username, "3");
    // null sets the map to nil; a later object starts afresh
    let cfg = config_json(r#"{"auths": {"a": {}}, "auths": null, "auths": {"b": {}}}"#);
    assert_eq!(keys(&cfg), ["b"]);
    let cfg = config_json(r#"{"auths": {"a": {}}, "auths": null}"#);
    assert!(cfg.entries.is_empty());
}

#[test]
fn duplicate_registry_keys_last_wins_at_first_position() {
    let cfg = config_json(r#"{"auths": {"a": {"username":"1"}, "b": {"username":"2"}, "a": {"username":"3"}}}"#);
    assert_eq!(keys(&cfg), ["a", "b"]);
    assert_eq!(cfg.entries[0].1.username, "3");
    // the whole entry is replaced, not merged field by field
    let cfg = dockercfg(r#"{"a": {"username":"1","email":"e"}, "a": {"password":"p"}}"#);
    assert_eq!(cfg.entries, vec![("a".to_owned(), entry("", "p", ""))]);
    // keys differing only in case are different registries
    assert_eq!(keys(&dockercfg(r#"{"A.io": {}, "a.io": {}}"#)), ["A.io", "a.io"]);
}

#[test]
fn entries_keep_file_order_and_raw_keys() {
    let cfg = config_json(
        r#"{"auths": {"z.io": {}, "https://index.docker.io/v1/": {}, "a.io:5000/ns": {}, "*.b.io": {}, "": {}}}"#,
    );
    assert_eq!(
        keys(&cfg),
        ["z.io", "https://index.docker.io/v1/", "a.io:5000/ns", "*.b.io", ""]
    );
}

#[test]
fn http_headers_creds_store_and_cred_helpers_are_recorded() {
    let cfg = config_json(
        r#"{"auths": {"r.io": {"auth": "Zm9vOmJhcg=="}},
                "HttpHeaders": {"User-Agent": "ua", "X-Meta": "m"},
                "credsStore": "desktop",
                "credHelpers": {"gcr.io": "gcloud", "123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"},
                "proxies": {"default": {"httpProxy": "http://p"}}, "experimental": "enabled"}"#,
    );
    assert_eq!(cfg.entries, vec![("r.io".to_owned(), entry("foo", "bar", ""))]);
    assert_eq!(
        cfg.http_headers,
        vec![("User-Agent".into(), "ua".into()), ("X-Meta".into(), "m".into())]
    );
    assert_eq!(cfg.creds_store.as_deref(), Some("desktop"));
    assert_eq!(
        cfg.cred_helpers,
        vec![
            ("gcr.io".into(), "gcloud".into()),
            ("123.dkr.ecr.us-east-1.amazonaws.com".into(), "ecr-login".into())
        ]
    );
    // case-insensitive member names; null header value is "" (Go map[string]string)
    let cfg =
        config_json(r#"{"httpheaders": {"A": null, "B": "1", "A": "2"}, "CREDSSTORE": "pass", "credhelpers": {}}"#);
    assert_eq!(
        cfg.http_headers,
        vec![("A".into(), "2".into()), ("B".into(), "1".into())]
    );
    assert_eq!(cfg.creds_store.as_deref(), Some("pass"));
    let cfg = config_json(r#"{"HttpHeaders": {"A": "1", "A": null}}"#);
    assert_eq!(cfg.http_headers, vec![("A".into(), String::new())]);
}

#[test]
fn creds_store_and_cred_helpers_are_lenient() {
    // the kubelet ignores these members entirely: a wrong type must not fail the file
    let cfg = config_json(r#"{"credsStore": 5, "credHelpers": ["x"], "auths": {"a": {}}}"#);
    assert_eq!(
        (cfg.creds_store, cfg.cred_helpers.len(), cfg.entries.len()),
        (None, 0, 1)
    );
    let cfg = config_json(r#"{"credsStore": "", "credHelpers": {"a": 1, "b": "h", "c": null, "d": {"x": 1}}}"#);
    assert_eq!(cfg.creds_store, None, "an empty credsStore means none");
    assert_eq!(cfg.cred_helpers, vec![("b".into(), "h".into())]);
    let cfg = config_json(r#"{"credsStore": "a", "credsStore": null}"#);
    assert_eq!(cfg.creds_store.as_deref(), Some("a"), "null leaves a string unchanged");
    let cfg = config_json(r#"{"credHelpers": {"a": "x"}, "CredHelpers": null}"#);
    assert!(cfg.cred_helpers.is_empty(), "null clears a map");
}

#[test]
fn unknown_members_are_skipped_whatever_they_hold() {
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let text = format!(
        r#"{{"x": {deep}, "n": 1e999, "big": 123456789012345678901234567890, "auths": {{"a": {{"y": {deep}}}}}}}"#
    );
    let cfg = config_json(&text);
    assert_eq!(keys(&cfg), ["a"]);
}

#[test]
fn invalid_utf8_and_lone_surrogates_become_replacement_characters() {
    // Go replaces each invalid byte with U+FFFD instead of failing the file.
    let mut text = br#"{"auths": {"r": {"username": "u", "password": "p"#.to_vec();
    text.extend_from_slice(b"\xff\xe2\x82");
    text.extend_from_slice(br#"q"}, "k"#);
    text.push(0xC0);
    text.extend_from_slice(br#"": {}}, "junk": ""#);
    text.push(0xFE);
    text.extend_from_slice(br#""}"#);
    let cfg = parse_docker_config(&text, ConfigFormat::ConfigJson).unwrap();
    assert_eq!(cfg.entries[0].1.password, "p\u{FFFD}\u{FFFD}\u{FFFD}q");
    assert_eq!(cfg.entries[1].0, "k\u{FFFD}");
    // a lone surrogate escape is one U+FFFD; a proper pair is the character it encodes
    let cfg = config_json(r#"{"auths": {"r": {"password": "a\ud800b\udc00\ud83d\ude00"}}}"#);
    assert_eq!(cfg.entries[0].1.password, "a\u{FFFD}b\u{FFFD}\u{1F600}");
    let cfg = config_json(r#"{"auths": {"\udfff": {"username": "\ud800\ud800"}}}"#);
    assert_eq!(
        cfg.entries[0],
        ("\u{FFFD}".to_owned(), entry("\u{FFFD}\u{FFFD}", "", ""))
    );
}

#[test]
fn json_check_follows_go_grammar() {
    let valid = [
        "0",
        "-0",
        "1.5e+10",
        "0.0",
        "-12.3E-4",
        "1E5",
        "[]",
        "{}",
        " \t\r\n[1, \"a\", true, false, null, {\"k\": [{}]}] \n",
        r#""\u00e9\/\b\f\n\r\t\\\"""#,
        "\"\u{7f}\u{e9}\"",
    ];
    for text in valid {
        assert!(go_json_check(text).is_ok(), "{text:?}");
    }
    let invalid: &[(&str, &str)] = &[
        ("", "unexpected end of input at line 1 column 1"),
        ("  \n ", "unexpected end of input at line 2 column 2"),
        ("01", "data after the top-level value at line 1 column 2"),
        ("1.", "invalid number at line 1 column 3"),
        (".5", "expected a value at line 1 column 1"),
        ("-", "invalid number at line 1 column 2"),
        ("-a", "invalid number at line 1 column 2"),
        ("1e", "invalid number at line 1 column 3"),
        ("1e+", "invalid number at line 1 column 4"),
        ("+1", "expected a value at line 1 column 1"),
        ("NaN", "expected a value at line 1 column 1"),
        ("tru", "invalid literal at line 1 column 1"),
        ("nul", "invalid literal at line 1 column 1"),
        ("nulls", "data after the top-level value at line 1 column 5"),
        ("[1,]", "expected a value at line 1 column 4"),
        ("[1 2]", "expected ',' or ']' after an array element at line 1 column 4"),
        ("[", "unexpected end of input at line 1 column 2"),
        ("[1", "unexpected end of input at line 1 column 3"),
        ("{\"a\":1,}", "expected a string for an object key at line 1 column 8"),
        ("{1:2}", "expected a string for an object key at line 1 column 2"),
        ("{\"a\" 1}", "expected ':' after an object key at line 1 column 6"),
        (
            "{\"a\":1 \"b\":2}",
            "expected ',' or '}' after an object member at line 1 column 8",
        ),
        ("{\"a\":", "unexpected end of input at line 1 column 6"),
        ("{'a':1}", "expected a string for an object key at line 1 column 2"),
        ("\"a\tb\"", "control character in a string at line 1 column 3"),
        ("\"a\nb\"", "control character in a string at line 1 column 3"),
        (r#""\x""#, "invalid escape in a string at line 1 column 2"),
        (r#""\u12""#, "invalid \\u escape in a string at line 1 column 2"),
        (r#""\u12G4""#, "invalid \\u escape in a string at line 1 column 2"),
        ("\"abc", "unexpected end of input in a string at line 1 column 5"),
        ("{}\n\n  }", "data after the top-level value at line 3 column 3"),
        ("\u{feff}{}", "expected a value at line 1 column 1"),
    ];
    for (text, want) in invalid {
        let e = go_json_check(text).expect_err(text);
        assert_eq!(e.kind, DockerConfigErrorKind::Json);
        assert_eq!(e.message, format!("invalid JSON: {want}"), "{text:?}");
    }
}

#[test]
fn json_check_nesting_limit_is_gos() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(go_json_check(&nested(MAX_DEPTH)).is_ok());
    let e = go_json_check(&nested(MAX_DEPTH + 1)).unwrap_err();
    assert!(
        e.message
            .starts_with("invalid JSON: nesting too deep at line 1 column 10001"),
        "{}",
        e.message
    );
    let objects = format!("{}1{}", "{\"a\":".repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1));
    assert!(go_json_check(&objects).is_err());
}

#[test]
fn json_check_rewrites_keep_every_offset() {
    let text = r#"{"a": 1e999, "b": "x\ud800y\ud83d\ude00\udc00\ud800\ud800\udc00", "c": [-0.5, 0, 12]}"#;
    let fixed = go_json_check(text).unwrap();
    assert_eq!(
        fixed,
        r#"{"a": 0    , "b": "x\ufffdy\ud83d\ude00\ufffd\ufffd\ud800\udc00", "c": [0   , 0, 0 ]}"#
    );
    assert_eq!(fixed.len(), text.len());
    assert!(matches!(go_json_check(r#"{"a": "b", "c": 0}"#), Ok(Cow::Borrowed(_))));
    // numbers where strings are expected are still errors (whatever their value)
    let e = config_json_err(r#"{"auths": {"r": {"username": 1e999}}}"#);
    assert!(
        e.message.starts_with(r#"auths["r"].username: expected a string"#),
        "{}",
        e.message
    );
}

// --- legacy format and auto-detection ------------------------------------------------------

#[test]
fn legacy_format_treats_every_member_as_a_registry() {
    let cfg = dockercfg(
        r#"{"https://index.docker.io/v1/": {"auth": "Zm9vOmJhcg==", "email": "e"}, "q.io": {"username": "u"}}"#,
    );
    assert_eq!(
        cfg.entries,
        vec![
            ("https://index.docker.io/v1/".to_owned(), entry("foo", "bar", "e")),
            ("q.io".to_owned(), entry("u", "", "")),
        ]
    );
    // a config.json read as legacy: "auths" is a registry whose entry has only unknown members
    let cfg = dockercfg(r#"{"auths": {"r.io": {"username": "u"}}}"#);
    assert_eq!(cfg.entries, vec![("auths".to_owned(), AuthEntry::default())]);
    // a legacy file read as config.json: no auths member, nothing
    assert!(config_json(r#"{"r.io": {"username": "u"}}"#).entries.is_empty());
    // legacy files have no HttpHeaders: the member is a registry, and a string is not an entry
    let e = parse_docker_config(br#"{"HttpHeaders": {"A": "b"}}"#, ConfigFormat::DockerCfg).unwrap();
    assert_eq!(e.entries, vec![("HttpHeaders".to_owned(), AuthEntry::default())]);
}

#[test]
fn auto_detection_picks_the_format_by_auths_member() {
    let cases: &[(&str, &[&str])] = &[
        (r#"{"auths": {"a.io": {}}}"#, &["a.io"]),
        (r#"{"x": 1, "Auths": {"a.io": {}}}"#, &["a.io"]),
        (r#"{"auths": null, "b.io": {}}"#, &[]),
        (r#"{"a.io": {}, "b.io": {}}"#, &["a.io", "b.io"]),
        (r#"{"credsStore": {}}"#, &["credsStore"]),
        ("{}", &[]),
        ("null", &[]),
    ];
    for (input, want) in cases {
        let cfg = parse_docker_config_auto(input.as_bytes()).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(keys(&cfg), *want, "{input}");
    }
    let cfg = parse_docker_config_auto(br#"{"auths": {}, "HttpHeaders": {"A": "b"}, "credsStore": "s"}"#).unwrap();
    assert_eq!(cfg.creds_store.as_deref(), Some("s"));
    let e = parse_docker_config_auto(b"[]").unwrap_err();
    assert!(e.message.starts_with("top level: expected an object"), "{}", e.message);
    let e = parse_docker_config_auto(br#"{"auths": {"a": {"auth": "pants"}}"#).unwrap_err();
    assert_eq!(
        e.kind,
        DockerConfigErrorKind::Json,
        "a syntax error after auths: {}",
        e.message
    );
    let e = parse_docker_config_auto(br#"{"auths": {"a": {"auth": "pants"}}}"#).unwrap_err();
    assert!(e.message.starts_with(r#"auths["a"].auth"#), "{}", e.message);
    let e = parse_docker_config_auto(br#"{"credsStore": "desktop"}"#).unwrap_err();
    assert!(
        e.message.starts_with(r#"["credsStore"]: expected an object"#),
        "{}",
        e.message
    );
}

// --- Debug never shows secrets ----------------------------------------------------------------

#[test]
fn debug_output_redacts_secrets() {
    let cfg = config_json(
        r#"{"auths": {"r.io": {"username": "alice", "password": "pw-SECRET-1", "identitytoken": "it-SECRET-2",
                                   "registrytoken": "rt-SECRET-3", "email": "a@x"},
                          "q.io": {"auth": "Zm9vOmJhcg=="}},
                "HttpHeaders": {"Authorization": "Bearer hd-SECRET-4"}, "credsStore": "desktop"}"#,
    );
    let shown = format!(
        "{cfg:?} {:#?}",
        PullSecret {
            namespace: "n".into(),
            name: "s".into(),
            config: Some(cfg.clone())
        }
    );
    for secret in ["SECRET", "bar", "Zm9v"] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }
    for visible in ["r.io", "alice", "a@x", "Authorization", "desktop", "<redacted>", "foo"] {
        assert!(shown.contains(visible), "{visible} missing from {shown}");
    }
}

#[test]
fn credentials_written_into_keys_are_not_shown() {
    let cases: &[(&str, &str)] = &[
        ("https://user:pw@r.io/v2/", "https://<redacted>@r.io/v2/"),
        ("user:pw@r.io", "<redacted>@r.io"),
        ("https://a@b@r.io:5000", "https://<redacted>@r.io:5000"),
        ("r.io/ns@sha256:abc", "r.io/ns@sha256:abc"),
        ("https://r.io/v1/", "https://r.io/v1/"),
        ("", ""),
    ];
    for (key, shown) in cases {
        assert_eq!(redact_userinfo(key), *shown);
    }
    let e = config_json_err(r#"{"auths": {"https://u:Cnry7xQ@r.io": {"username": 1}}}"#);
    assert!(
        e.message.starts_with(r#"auths["https://<redacted>@r.io"].username"#),
        "{}",
        e.message
    );
    let cfg = config_json(r#"{"auths": {"https://u:Cnry7xQ@r.io": {}}}"#);
    assert_eq!(cfg.entries[0].0, "https://u:Cnry7xQ@r.io", "the key itself is kept raw");
    assert!(!format!("{cfg:?}").contains(CANARY));
}

// --- the canary: no value from the file in any error message --------------------------------

const CANARY: &str = "Cnry7xQ";

/// Broken docker configs, each with the canary (or a number) where a secret would be.
fn canary_configs() -> Vec<(String, ConfigFormat)> {
    let c = CANARY;
    let b64_no_colon = "Q25yeTd4UQ=="; // base64("Cnry7xQ")
    let b64_not_utf8 = "Q25yeTd4Uf86"; // base64("Cnry7xQ\xff:") -> not UTF-8
    vec![
        (
            format!(r#"{{"auths":{{"r":{{"username":"{c}","password":5}}}}}}"#),
            ConfigFormat::ConfigJson,
        ),
        (
            r#"{"auths":{"r":{"password":9876543210}}}"#.to_owned(),
            ConfigFormat::ConfigJson,
        ),
        (
            r#"{"auths":{"r":{"password":98765.4321e3}}}"#.to_owned(),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"auths":{{"r":{{"password":"{c}","auth":"!!"}}}}}}"#),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"auths":{{"r":{{"auth":"{c}-{c}"}}}}}}"#),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"auths":{{"r":{{"auth":"{b64_no_colon}"}}}}}}"#),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"auths":{{"r":{{"auth":"{b64_not_utf8}"}}}}}}"#),
            ConfigFormat::ConfigJson,
        ),
        (format!(r#"{{"auths":{{"r":"{c}"}}}}"#), ConfigFormat::ConfigJson),
        (format!(r#"{{"auths":"{c}"}}"#), ConfigFormat::ConfigJson),
        (format!(r#""{c}""#), ConfigFormat::ConfigJson),
        (format!(r#""{c}""#), ConfigFormat::DockerCfg),
        (format!(r#"{{"r":"{c}"}}"#), ConfigFormat::DockerCfg),
        (format!(r#"{{"r":{{"password":["{c}"]}}}}"#), ConfigFormat::DockerCfg),
        (format!(r#"{{"HttpHeaders":"{c}"}}"#), ConfigFormat::ConfigJson),
        (
            format!(r#"{{"HttpHeaders":{{"Authorization":["{c}"]}}}}"#),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"HttpHeaders":{{"Authorization":true, "x": "{c}"}}}}"#),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"auths":{{"r":{{"password":"{c}""#),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"auths":{{"r":{{"password":"{c}"#),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"auths":{{"r":{{"password":"{c}\x"}}}}}}"#),
            ConfigFormat::ConfigJson,
        ),
        (
            format!("{{\"auths\":{{\"r\":{{\"password\":\"{c}\u{7}\"}}}}}}"),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"auths":{{"r":{{"password":"{c}" "x"}}}}}}"#),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"auths":{{"r":{{"password":{c}}}}}}}"#),
            ConfigFormat::ConfigJson,
        ),
        (
            format!(r#"{{"auths":{{"r":{{"password":"x"}}}}}} {c}"#),
            ConfigFormat::ConfigJson,
        ),
        (format!(r#"[{{"password":"{c}"}}]"#), ConfigFormat::ConfigJson),
        (
            format!(r#"{{"auths":{{"r":{{"email":{{"x":"{c}"}}}}}}}}"#),
            ConfigFormat::ConfigJson,
        ),
    ]
}

#[test]
fn error_messages_never_contain_values_from_docker_configs() {
    let json_cases = canary_configs();
    for (input, format) in &json_cases {
        let e = parse_docker_config(input.as_bytes(), *format).expect_err(input);
        assert_no_values(&e, input);
        if let Err(e) = parse_docker_config_auto(input.as_bytes()) {
            assert_no_values(&e, input);
        }
    }
}

#[test]
fn error_messages_never_contain_values_from_secrets() {
    // the same broken configs inside secrets (stringData, data) and secret dirs
    for (input, format) in &canary_configs() {
        let (ty, key) = match format {
            ConfigFormat::ConfigJson => (SECRET_TYPE_DOCKER_CONFIG_JSON, DOCKER_CONFIG_JSON_KEY),
            ConfigFormat::DockerCfg => (SECRET_TYPE_DOCKERCFG, DOCKERCFG_KEY),
        };
        let as_string = serde_json::to_string(input).unwrap();
        let manifest = format!(
            r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"{ty}","stringData":{{"{key}":{as_string}}}}}"#
        );
        assert_no_values(&parse_secret_manifests(manifest.as_bytes()).unwrap_err(), &manifest);
        let encoded = base64::engine::general_purpose::STANDARD.encode(input);
        let manifest = format!("kind: Secret\nmetadata: {{name: s}}\ntype: {ty}\ndata:\n  {key}: {encoded}\n");
        assert_no_values(&parse_secret_manifests(manifest.as_bytes()).unwrap_err(), &manifest);
        let files = vec![(key.to_owned(), input.as_bytes().to_vec())];
        assert_no_values(&parse_secret_dir(&files).unwrap_err(), input);
    }
}

#[test]
fn error_messages_never_contain_values_from_manifests() {
    let c = CANARY;
    let manifest_cases: Vec<String> = vec![
            // not base64
            format!("kind: Secret\nmetadata: {{name: s}}\ntype: {SECRET_TYPE_DOCKER_CONFIG_JSON}\ndata:\n  .dockerconfigjson: {c}-{c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\ntype: {SECRET_TYPE_DOCKER_CONFIG_JSON}\ndata:\n  .dockerconfigjson: [{c}]\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\ntype: {SECRET_TYPE_DOCKER_CONFIG_JSON}\nstringData:\n  .dockerconfigjson: {{a: {c}}}\n"),
            // YAML-level errors around a value
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: !!int {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: !!bool {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: !!float {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: !!null {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: \"{c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: '{c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: {c}\n   - x: {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: \"{c}\\q\"\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: *{c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData: {{.dockerconfigjson: {c}\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: 123456789012345678901234567890123\n"),
            format!("kind: Secret\nmetadata: {{name: s}}\nstringData:\n  .dockerconfigjson: {c}\n\t"),
            // JSON-level errors around a value
            format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},"stringData":{{".dockerconfigjson":"{c}"#),
            format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},"stringData":{{".dockerconfigjson":"{c}\q"}}}}"#),
            format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},"stringData":{{".dockerconfigjson":{c}}}}}"#),
            format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"{SECRET_TYPE_DOCKER_CONFIG_JSON}","data":{{".dockerconfigjson":"{c}"}}}}"#),
            format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"{SECRET_TYPE_DOCKER_CONFIG_JSON}","stringData":{{".dockerconfigjson":1{c}}}}}"#),
        ];
    for manifest in &manifest_cases {
        let e = parse_secret_manifests(manifest.as_bytes()).expect_err(manifest);
        assert_no_values(&e, manifest);
    }
}

fn assert_no_values(e: &DockerConfigError, input: &str) {
    let lower = e.message.to_lowercase();
    for value in [
        CANARY,
        "Q25yeTd4U",
        "9876543210",
        "98765",
        "123456789012345678901234567890123",
    ] {
        assert!(
            !lower.contains(&value.to_lowercase()),
            "{value:?} leaked for {input:?}: {:?}",
            e.message
        );
    }
    assert!(!e.message.is_empty());
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(CANARY), "{shown}");
}

// --- Secret manifests -------------------------------------------------------------------------

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn secrets(text: &str) -> Vec<PullSecret> {
    parse_secret_manifests(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn secrets_err(text: &str) -> DockerConfigError {
    match parse_secret_manifests(text.as_bytes()) {
        Ok(s) => panic!("{text} parsed: {s:?}"),
        Err(e) => e,
    }
}

const AUTHS: &str = r#"{"auths":{"r.io":{"auth":"Zm9vOmJhcg=="}}}"#;
const LEGACY: &str = r#"{"l.io":{"username":"u","password":"p"}}"#;

/// A config with the one entry `key` → foo/bar.
fn foo_bar(key: &str) -> DockerConfig {
    DockerConfig {
        entries: vec![(key.to_owned(), entry("foo", "bar", ""))],
        ..DockerConfig::default()
    }
}

#[test]
fn json_secret_with_base64_data() {
    let text = format!(
        r#"{{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"regcred","namespace":"apps"}},
                "type":"kubernetes.io/dockerconfigjson","data":{{".dockerconfigjson":"{}"}}}}"#,
        b64(AUTHS)
    );
    assert_eq!(
        secrets(&text),
        vec![PullSecret {
            namespace: "apps".into(),
            name: "regcred".into(),
            config: Some(foo_bar("r.io"))
        }]
    );
}

#[test]
fn yaml_secret_with_string_data_and_default_namespace() {
    let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{AUTHS}'\n"
        );
    assert_eq!(
        secrets(&text),
        vec![PullSecret {
            namespace: "default".into(),
            name: "regcred".into(),
            config: Some(foo_bar("r.io"))
        }]
    );
    let text = format!("kind: Secret\nmetadata: {{name: s, namespace: ''}}\ntype: kubernetes.io/dockercfg\nstringData:\n  .dockercfg: '{LEGACY}'\n");
    let got = secrets(&text);
    assert_eq!(got[0].namespace, "default");
    assert_eq!(
        got[0].config.as_ref().unwrap().entries,
        vec![("l.io".to_owned(), entry("u", "p", ""))]
    );
}

#[test]
fn yaml_data_may_be_a_folded_base64_block() {
    let encoded = b64(AUTHS);
    let (head, tail) = encoded.split_at(20);
    let text = format!(
            "kind: Secret\nmetadata: {{name: s}}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: |\n    {head}\n    {tail}\n"
        );
    assert_eq!(secrets(&text)[0].config, Some(foo_bar("r.io")));
}

#[test]
fn string_data_wins_over_data() {
    let text = format!(
        r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"kubernetes.io/dockerconfigjson",
                "data":{{".dockerconfigjson":"{}"}},"stringData":{{".dockerconfigjson":{}}}}}"#,
        b64(r#"{"auths":{"data.io":{}}}"#),
        serde_json::to_string(AUTHS).unwrap()
    );
    assert_eq!(secrets(&text)[0].config, Some(foo_bar("r.io")));
    // stringData for another key does not hide data
    let text = format!(
        r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"kubernetes.io/dockerconfigjson",
                "data":{{".dockerconfigjson":"{}"}},"stringData":{{"other":"x"}}}}"#,
        b64(AUTHS)
    );
    assert_eq!(secrets(&text)[0].config, Some(foo_bar("r.io")));
    // an empty stringData value empties the key: ignored
    let text = format!(
        r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"kubernetes.io/dockerconfigjson",
                "data":{{".dockerconfigjson":"{}"}},"stringData":{{".dockerconfigjson":""}}}}"#,
        b64(AUTHS)
    );
    assert_eq!(secrets(&text)[0].config, None);
}

#[test]
fn lists_multi_documents_and_both_types_in_order() {
    let list = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[
                {{"kind":"Secret","metadata":{{"name":"a","namespace":"n1"}},"type":"kubernetes.io/dockerconfigjson","data":{{".dockerconfigjson":"{}"}}}},
                {{"metadata":{{"name":"b"}},"type":"kubernetes.io/dockercfg","data":{{".dockercfg":"{}"}}}},
                {{"metadata":{{"name":"c"}},"type":"Opaque","data":{{"x":"eA=="}}}}]}}"#,
        b64(AUTHS),
        b64(LEGACY)
    );
    let got = secrets(&list);
    let names: Vec<_> = got
        .iter()
        .map(|s| (s.namespace.as_str(), s.name.as_str(), s.config.is_some()))
        .collect();
    assert_eq!(
        names,
        [("n1", "a", true), ("default", "b", true), ("default", "c", false)]
    );
    assert_eq!(got[1].config.as_ref().unwrap().entries[0].0, "l.io");

    let secret_list = list.replace(r#""kind":"List""#, r#""kind":"SecretList""#);
    assert_eq!(secrets(&secret_list), got);

    let yaml = format!(
            "---\n# leading empty document\n---\nkind: Secret\nmetadata: {{name: one}}\ntype: kubernetes.io/dockercfg\nstringData: {{.dockercfg: '{LEGACY}'}}\n---\n---\nkind: List\nitems:\n- kind: Secret\n  metadata: {{name: two}}\n  type: kubernetes.io/dockerconfigjson\n  stringData: {{.dockerconfigjson: '{AUTHS}'}}\n...\n---\nkind: Secret\nmetadata: {{name: three, namespace: z}}\n"
        );
    let got = secrets(&yaml);
    let names: Vec<_> = got
        .iter()
        .map(|s| (s.namespace.as_str(), s.name.as_str(), s.config.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            ("default", "one", true),
            ("default", "two", true),
            ("z", "three", false)
        ]
    );

    // several JSON values one after another, and a JSON array of Secrets
    let one = format!(
        r#"{{"kind":"Secret","metadata":{{"name":"j1"}},"type":"kubernetes.io/dockerconfigjson","stringData":{{".dockerconfigjson":{}}}}}"#,
        serde_json::to_string(AUTHS).unwrap()
    );
    let two = r#"{"kind":"Secret","metadata":{"name":"j2"}}"#;
    let got = secrets(&format!("{one}\n{two}"));
    assert_eq!(got.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["j1", "j2"]);
    let got = secrets(&format!(" [{one}, {two}, null]"));
    assert_eq!(got.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["j1", "j2"]);
    // an empty List, an empty file
    assert!(secrets(r#"{"kind":"List","items":[]}"#).is_empty());
    assert!(secrets(r#"{"kind":"List"}"#).is_empty());
    assert!(secrets("").is_empty());
    assert!(secrets(" \n\t\n").is_empty());
    assert!(secrets("# only a comment\n").is_empty());
    assert!(secrets("null").is_empty());
}

#[test]
fn secrets_the_kubelet_ignores_have_no_config() {
    let docker_json = SECRET_TYPE_DOCKER_CONFIG_JSON;
    let cfg = SECRET_TYPE_DOCKERCFG;
    let auths = b64(AUTHS);
    let cases: Vec<String> = vec![
        // mismatched key/type
        format!(r#"{{"type":"{docker_json}","data":{{".dockercfg":"{auths}"}}}}"#),
        format!(r#"{{"type":"{cfg}","data":{{".dockerconfigjson":"{auths}"}}}}"#),
        // other types, no type
        format!(r#"{{"type":"Opaque","data":{{".dockerconfigjson":"{auths}"}}}}"#),
        format!(r#"{{"data":{{".dockerconfigjson":"{auths}"}}}}"#),
        format!(r#"{{"type":"kubernetes.io/DockerConfigJson","data":{{".dockerconfigjson":"{auths}"}}}}"#),
        // empty data
        format!(r#"{{"type":"{docker_json}","data":{{".dockerconfigjson":""}}}}"#),
        format!(r#"{{"type":"{docker_json}","data":{{".dockerconfigjson":null}}}}"#),
        format!(r#"{{"type":"{docker_json}","stringData":{{".dockerconfigjson":null}}}}"#),
        format!(r#"{{"type":"{docker_json}","data":{{}}}}"#),
        format!(r#"{{"type":"{docker_json}"}}"#),
        format!(r#"{{"type":"{cfg}","data":null}}"#),
        // other keys of an ignored secret are not even looked at
        r#"{"type":"Opaque","data":{"x":"not base64 !!"}}"#.to_owned(),
        format!(r#"{{"type":"{docker_json}","data":{{".dockerconfigjson":"","other":"!!"}}}}"#),
    ];
    for fields in cases {
        let text = format!(r#"{{"kind":"Secret","metadata":{{"name":"s"}},{}"#, &fields[1..]);
        let got = secrets(&text);
        assert_eq!(got.len(), 1, "{text}");
        assert_eq!(got[0].config, None, "{text}");
    }
    // accepted but empty: Some(empty), which still counts as a secret for the kubelet
    let text = format!(
        r#"{{"kind":"Secret","metadata":{{"name":"s"}},"type":"{docker_json}","data":{{".dockerconfigjson":"{}"}}}}"#,
        b64("{}")
    );
    assert_eq!(secrets(&text)[0].config, Some(DockerConfig::default()));
}

#[test]
fn broken_docker_secrets_are_errors_naming_the_secret_and_key() {
    let t = SECRET_TYPE_DOCKER_CONFIG_JSON;
    let head = format!(r#"{{"kind":"Secret","metadata":{{"name":"regcred","namespace":"apps"}},"type":"{t}","#);
    let cases: Vec<(String, DockerConfigErrorKind, &str)> = vec![
        (
            format!(r#"{head}"data":{{".dockerconfigjson":"e30"}}}}"#),
            DockerConfigErrorKind::Manifest,
            r#"secret apps/regcred: data[".dockerconfigjson"]: invalid base64"#,
        ),
        (
            format!(r#"{head}"data":{{".dockerconfigjson":"e3-="}}}}"#),
            DockerConfigErrorKind::Manifest,
            r#"secret apps/regcred: data[".dockerconfigjson"]: invalid base64"#,
        ),
        (
            format!(r#"{head}"data":{{".dockerconfigjson":"{}"}}}}"#, b64("{")),
            DockerConfigErrorKind::Json,
            "secret apps/regcred: .dockerconfigjson: invalid JSON: unexpected end of input at line 1 column 2",
        ),
        (
            format!(
                r#"{head}"data":{{".dockerconfigjson":"{}"}}}}"#,
                b64(r#"{"auths":{"x":{"auth":"pants"}}}"#)
            ),
            DockerConfigErrorKind::Auth,
            r#"secret apps/regcred: .dockerconfigjson: auths["x"].auth: invalid base64"#,
        ),
        (
            format!(r#"{head}"stringData":{{".dockerconfigjson":"[]"}}}}"#),
            DockerConfigErrorKind::Json,
            "secret apps/regcred: .dockerconfigjson: top level: expected an object",
        ),
        (
            format!(r#"{head}"data":{{".dockerconfigjson":5}}}}"#),
            DockerConfigErrorKind::Manifest,
            r#"secret apps/regcred: data[".dockerconfigjson"] must be a string"#,
        ),
        (
            format!(r#"{head}"stringData":{{".dockerconfigjson":{{}}}}}}"#),
            DockerConfigErrorKind::Manifest,
            r#"secret apps/regcred: stringData[".dockerconfigjson"] must be a string"#,
        ),
        (
            format!(r#"{head}"data":[]}}"#),
            DockerConfigErrorKind::Manifest,
            "secret apps/regcred: data must be a map",
        ),
        (
            format!(r#"{head}"stringData":"x"}}"#),
            DockerConfigErrorKind::Manifest,
            "secret apps/regcred: stringData must be a map",
        ),
    ];
    for (text, kind, want) in cases {
        let e = secrets_err(&text);
        assert_eq!(e.kind, kind, "{text}: {}", e.message);
        assert!(e.message.starts_with(want), "{text}: {:?}", e.message);
    }
    let legacy = r#"{"kind":"Secret","metadata":{"name":"old"},"type":"kubernetes.io/dockercfg","stringData":{".dockercfg":"{\"r\":{\"username\":1}}"}}"#;
    let e = secrets_err(legacy);
    assert!(
        e.message
            .starts_with(r#"secret default/old: .dockercfg: ["r"].username: expected a string"#),
        "{}",
        e.message
    );
    // one bad secret fails the whole file, as one bad pull secret fails the kubelet's pull
    let good = r#"{"kind":"Secret","metadata":{"name":"good"}}"#;
    assert!(parse_secret_manifests(format!("{good}\n{legacy}").as_bytes()).is_err());
}

#[test]
fn manifest_shape_errors() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"kind":"ConfigMap","metadata":{"name":"c"}}"#,
            r#"document 1: kind "ConfigMap" is not a Secret or List"#,
        ),
        (
            r#"{"metadata":{"name":"c"}}"#,
            "document 1: no kind (expected Secret or List)",
        ),
        (r#"{"kind":5}"#, "document 1: kind must be a string"),
        (r#"{"kind":"Secret"}"#, "document 1: Secret has no metadata.name"),
        (
            r#"{"kind":"Secret","metadata":{"name":""}}"#,
            "document 1: Secret has no metadata.name",
        ),
        (
            r#"{"kind":"Secret","metadata":{"name":5}}"#,
            "document 1: metadata.name must be a string",
        ),
        (
            r#"{"kind":"Secret","metadata":[]}"#,
            "document 1: metadata must be a map",
        ),
        (
            r#"{"kind":"Secret","metadata":{"name":"s","namespace":1}}"#,
            "document 1: metadata.namespace must be a string",
        ),
        (
            r#"{"kind":"Secret","metadata":{"name":"s"},"type":1}"#,
            "secret default/s: type must be a string",
        ),
        (r#"{"kind":"List","items":{}}"#, "document 1: items must be a list"),
        (
            r#"{"kind":"List","items":[{"kind":"ConfigMap"}]}"#,
            r#"document 1 items[0]: kind "ConfigMap" is not a Secret"#,
        ),
        (
            r#"{"kind":"List","items":[{"kind":"Secret","metadata":{"name":"a"}},"x"]}"#,
            "document 1 items[1]: expected a Secret object",
        ),
        (
            r#"{"kind":"List","items":[{"kind":"Secret"}]}"#,
            "document 1 items[0]: Secret has no metadata.name",
        ),
        ("[1]", "document 1[0]: expected a Kubernetes object"),
        (
            "kind: Secret\nmetadata: {name: a}\n---\nkind: Pod\n",
            r#"document 2: kind "Pod" is not a Secret or List"#,
        ),
        ("just text", "document 1: expected a Kubernetes object"),
        (
            "{\"kind\":\"Secret\"",
            "invalid JSON: EOF while parsing an object at line 1 column 16",
        ),
        ("kind: Secret\n  metadata: x: y\n", "invalid YAML"),
    ];
    for (text, want) in cases {
        let e = secrets_err(text);
        assert_eq!(e.kind, DockerConfigErrorKind::Manifest, "{text}");
        assert!(e.message.starts_with(want), "{text}: {:?}", e.message);
    }
}

#[test]
fn yaml_errors_keep_fixed_descriptions_and_positions() {
    let e = secrets_err("kind: Secret\nmetadata: {name: s\n");
    assert!(e.message.starts_with("invalid YAML: "), "{}", e.message);
    assert!(e.message.contains("line"), "{}", e.message);
    let e = secrets_err("kind: Secret\nstringData: {x: !!int abc}\n");
    assert!(e.message.starts_with("invalid YAML at line 2 column "), "{}", e.message);
}

// --- mounted secret directories -------------------------------------------------------------

#[test]
fn secret_dirs() {
    let file = |name: &str, text: &str| (name.to_owned(), text.as_bytes().to_vec());
    assert_eq!(
        parse_secret_dir(&[file(".dockerconfigjson", AUTHS)]).unwrap(),
        Some(foo_bar("r.io"))
    );
    let legacy = parse_secret_dir(&[file("..data/.dockercfg", LEGACY), file("other", "x")])
        .unwrap()
        .unwrap();
    assert_eq!(keys(&legacy), ["l.io"]);
    // both present: .dockerconfigjson first, as the kubelet checks that type first
    let both = parse_secret_dir(&[file(".dockercfg", LEGACY), file(".dockerconfigjson", AUTHS)]).unwrap();
    assert_eq!(both, Some(foo_bar("r.io")));
    // an empty file is ignored like empty secret data
    let empty_json = parse_secret_dir(&[file(".dockerconfigjson", ""), file(".dockercfg", LEGACY)]).unwrap();
    assert_eq!(keys(&empty_json.unwrap()), ["l.io"]);
    assert_eq!(parse_secret_dir(&[file(".dockerconfigjson", "")]).unwrap(), None);
    assert_eq!(
        parse_secret_dir(&[file("config.json", AUTHS), file("x.dockercfg", LEGACY)]).unwrap(),
        None
    );
    assert_eq!(parse_secret_dir(&[]).unwrap(), None);
    // the format follows the file name
    let as_legacy = parse_secret_dir(&[file(".dockercfg", AUTHS)]).unwrap().unwrap();
    assert_eq!(keys(&as_legacy), ["auths"]);
    let e = parse_secret_dir(&[file(".dockerconfigjson", r#"{"auths":{"r":{"auth":"x"}}}"#)]).unwrap_err();
    assert_eq!(e.kind, DockerConfigErrorKind::Auth);
    assert!(
        e.message
            .starts_with(r#".dockerconfigjson: auths["r"].auth: invalid base64"#),
        "{}",
        e.message
    );
}

// --- properties -----------------------------------------------------------------------------

mod props {
    use super::super::*;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use base64::Engine as _;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn auth_round_trips_padded_raw_and_with_line_breaks(
            user in "[^:]{0,12}",
            pass in ".{0,24}",
            breaks in proptest::collection::vec(0usize..64, 0..4),
        ) {
            let plain = format!("{user}:{pass}");
            for encoded in [STANDARD.encode(&plain), STANDARD_NO_PAD.encode(&plain)] {
                let mut with_breaks = encoded.clone();
                for at in &breaks {
                    let at = (*at).min(with_breaks.len());
                    with_breaks.insert_str(at, "\r\n");
                }
                for input in [&encoded, &with_breaks] {
                    let (u, p) = parse_entry_auth(input).unwrap();
                    prop_assert_eq!((u.as_str(), p.as_str()), (user.as_str(), pass.as_str()));
                }
            }
        }

        #[test]
        fn parsers_never_panic_on_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_docker_config(&data, ConfigFormat::ConfigJson);
            let _ = parse_docker_config(&data, ConfigFormat::DockerCfg);
            let _ = parse_docker_config_auto(&data);
            let _ = parse_secret_manifests(&data);
            let _ = parse_secret_dir(&[(".dockercfg".to_owned(), data.clone())]);
            let _ = parse_entry_auth(&String::from_utf8_lossy(&data));
        }

        #[test]
        fn parsers_never_panic_on_json_like_text(text in r#"[{}\[\]":,\\ a-z0-9.eE+\-nulltruefalse\u{e9}\u{17f}]{0,80}"#) {
            let _ = parse_docker_config(text.as_bytes(), ConfigFormat::ConfigJson);
            let _ = parse_docker_config_auto(text.as_bytes());
            let _ = parse_secret_manifests(text.as_bytes());
        }

        #[test]
        fn json_check_agrees_with_serde_json_on_validity(text in r#"[{}\[\]":, a0-9.e\-nul]{0,40}"#) {
            // Both implement RFC 8259 for ASCII input without escapes; depth stays far below limits.
            let ours = go_json_check(&text).is_ok();
            let theirs = serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
            prop_assert_eq!(ours, theirs, "{:?}", text);
        }

        #[test]
        fn string_values_survive_parsing(user in "\\PC{0,16}", pass in "\\PC{0,16}", key in "\\PC{0,16}") {
            let text = serde_json::json!({ "auths": { &key: { "username": &user, "password": &pass } } }).to_string();
            let cfg = parse_docker_config(text.as_bytes(), ConfigFormat::ConfigJson).unwrap();
            prop_assert_eq!(cfg.entries.len(), 1);
            prop_assert_eq!(&cfg.entries[0].0, &key);
            prop_assert_eq!(&cfg.entries[0].1.username, &user);
            prop_assert_eq!(&cfg.entries[0].1.password, &pass);
        }
    }
}

// ---- Bounded cost (issue #10 defect 1) ----

#[test]
fn deeply_nested_yaml_manifest_is_refused_quickly() {
    for opener in ["[", "{a: "] {
        let text = format!("a: {}", opener.repeat(256 * 1024 / opener.len()));
        let started = std::time::Instant::now();
        let err = parse_secret_manifests(text.as_bytes()).unwrap_err();
        // Before: 147 s (release build) for the `[` case; the scan is linear.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(err.kind, DockerConfigErrorKind::Manifest);
        assert!(
            err.message.starts_with("nested deeper than 64 levels at line 1"),
            "{}",
            err.message
        );
    }
}

#[test]
fn huge_manifests_are_refused_before_a_tree_is_built() {
    let n = crate::limits::MAX_DOCUMENT_NODES;
    let yaml = format!("a: [{}0]", "0,".repeat(n));
    let err = parse_secret_manifests(yaml.as_bytes()).unwrap_err();
    assert!(err.message.contains("more than 250000 nodes"), "{}", err.message);
    let json = format!("[{}0]", "0,".repeat(n));
    let err = parse_secret_manifests(json.as_bytes()).unwrap_err();
    assert!(err.message.contains("more than 250000 nodes"), "{}", err.message);
}
