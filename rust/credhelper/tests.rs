use super::*;
use crate::operations::{build_keyring, SearchPolicy, SourceData, SourceFile};

#[test]
fn server_urls_follow_docker() {
    assert_eq!(server_url_for_registry("docker.io"), "https://index.docker.io/v1/");
    assert_eq!(
        server_url_for_registry("index.docker.io"),
        "https://index.docker.io/v1/"
    );
    assert_eq!(server_url_for_registry("registry-1.docker.io"), "registry-1.docker.io");
    assert_eq!(server_url_for_registry("r.example:5000"), "r.example:5000");
}

#[test]
fn registry_of_what_clients_write() {
    let cases = [
        ("https://index.docker.io/v1/", Some("docker.io")),
        ("index.docker.io", Some("docker.io")),
        ("docker.io", Some("docker.io")),
        ("registry-1.docker.io", Some("docker.io")),
        ("Docker.IO\n", Some("docker.io")),
        ("r.example:5000", Some("r.example:5000")),
        ("  https://r.example:5000/v2/  \n", Some("r.example:5000")),
        ("http://r.example/v1/", Some("r.example")),
        ("r.example/team/app", Some("r.example")),
        ("[::1]:5000", Some("[::1]:5000")),
        ("", None),
        ("   \n", None),
        ("https://", None),
        ("a b", None),
    ];
    for (input, want) in cases {
        assert_eq!(registry_of_server_url(input).as_deref(), want, "{input:?}");
    }
}

#[test]
fn get_outcomes() {
    let found = interpret_get(true, br#"{"ServerURL":"r","Username":"u","Secret":"s3cr3t"}"#);
    assert_eq!(
        found,
        GetOutcome::Found {
            username: "u".into(),
            secret: "s3cr3t".into(),
            identity_token: false
        }
    );
    assert!(!format!("{found:?}").contains("s3cr3t"));
    // Go decodes member names case-insensitively; unknown members are ignored.
    assert!(matches!(
        interpret_get(true, br#"{"username":"u","SECRET":"s","extra":[1]}"#),
        GetOutcome::Found { .. }
    ));
    assert_eq!(
        interpret_get(true, br#"{"Username":"<token>","Secret":"refresh"}"#),
        GetOutcome::Found {
            username: "<token>".into(),
            secret: "refresh".into(),
            identity_token: true
        }
    );
    assert_eq!(
        interpret_get(false, b"credentials not found in native keychain\n"),
        GetOutcome::NotFound
    );
    assert_eq!(
        interpret_get(true, br#"{"Username":"","Secret":""}"#),
        GetOutcome::NotFound
    );
    assert_eq!(interpret_get(true, b"{}"), GetOutcome::NotFound);
    for garbage in [&b"not json"[..], b"", b"{\"Username\": \"u\"", b"\xff\xfe"] {
        let GetOutcome::Error(m) = interpret_get(true, garbage) else {
            panic!("{garbage:?}")
        };
        assert!(m.contains("not a JSON object"), "{m}");
    }
    assert_eq!(
        interpret_get(true, b"[1]"),
        GetOutcome::Error("printed JSON that is not an object".into())
    );
    assert_eq!(
        interpret_get(true, br#"{"Username":"u","Secret":5}"#),
        GetOutcome::Error("printed a Secret that is not a string".into())
    );
    assert_eq!(interpret_get(false, b""), GetOutcome::Error("failed".into()));
    let GetOutcome::Error(m) = interpret_get(false, b"exit status 2: gpg: decryption failed: No secret key") else {
        panic!()
    };
    assert_eq!(m, "failed: exit status … gpg: decryption failed: No secret key");
}

#[test]
fn summaries_never_repeat_secret_looking_words() {
    assert_eq!(summarize(b""), "");
    assert_eq!(summarize(b"\n  \n"), "");
    assert_eq!(
        summarize(b"Error: cannot reach the store"),
        "Error: cannot reach the store"
    );
    // Digits, symbols, mixed case, long words: never shown.
    let s = summarize(b"token hunter2 password=Sw0rdfish aBcDeF ghp_abcdefghijklmnopqrstuvwxyz https://u:p@h/x");
    assert_eq!(s, "token …");
    for secret in ["hunter2", "Sw0rdfish", "aBcDeF", "ghp_", "u:p@h"] {
        assert!(!s.contains(secret), "{s}");
    }
    assert_eq!(summarize(b"first line\nsecond\nthird"), "first line (+2 more lines)");
    let long = "word ".repeat(40);
    assert_eq!(summarize(long.as_bytes()).matches("word").count(), 12);
}

fn keyring(json: &str) -> Keyring {
    let node = [SourceFile {
        name: "n".to_owned(),
        data: SourceData::DockerConfig {
            format: None,
            data: json.as_bytes().to_vec(),
        },
        search_path: false,
    }];
    build_keyring::<Vec<u8>>(&[], &node, SearchPolicy::Merge).keyring
}

#[test]
fn first_credential_for_a_registry_and_list() {
    let k = keyring(
        r#"{"auths": {
            "r.example/team": {"username": "team", "password": "p1"},
            "r.example": {"username": "host", "password": "p2"},
            "*.glob.example": {"username": "glob", "password": "p3"},
            "https://index.docker.io/v1/": {"username": "hub", "password": "p4"},
            "other.example:5000": {"username": "o", "password": "p5"}
        }}"#,
    );
    assert_eq!(first_for_registry(&k, "r.example").unwrap().username(), "host");
    assert_eq!(first_for_registry(&k, "a.glob.example").unwrap().username(), "glob");
    assert_eq!(first_for_registry(&k, "docker.io").unwrap().username(), "hub");
    assert_eq!(first_for_registry(&k, "other.example:5000").unwrap().username(), "o");
    assert!(first_for_registry(&k, "other.example").is_none());
    assert!(first_for_registry(&k, "nowhere.example").is_none());
    let list: Value = serde_json::from_slice(&render_list(&k)).unwrap();
    assert_eq!(
        list,
        serde_json::json!({"r.example": "host", "https://index.docker.io/v1/": "hub", "other.example:5000": "o"})
    );
}

#[test]
fn rendered_get_is_the_protocol_object() {
    let out = render_get("https://index.docker.io/v1/", "u", "p\"q");
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"ServerURL": "https://index.docker.io/v1/", "Username": "u", "Secret": "p\"q"})
    );
    assert!(out.ends_with(b"\n"));
}
