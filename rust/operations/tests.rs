use super::*;

#[test]
fn describe_reference_forms() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    // docs/reference.md §3. `D` stands for the digest, `-` for none, `raw` for normalize=false.
    // input | mode | domain | path | tag | digest | repository | normalized | familiar | pull policy
    let rows = "
            nginx | norm | docker.io | library/nginx | - | - | docker.io/library/nginx | docker.io/library/nginx:latest | nginx | Always
            nginx | raw | | nginx | - | - | nginx | nginx:latest | nginx | Always
            index.docker.io/team/app:1.0 | norm | docker.io | team/app | 1.0 | - | docker.io/team/app | docker.io/team/app:1.0 | team/app:1.0 | IfNotPresent
            gcr.io/a/b:latest | norm | gcr.io | a/b | latest | - | gcr.io/a/b | gcr.io/a/b:latest | gcr.io/a/b:latest | Always
            localhost:5000/x:t@D | norm | localhost:5000 | x | t | D | localhost:5000/x | localhost:5000/x@D | localhost:5000/x:t@D | IfNotPresent
            foo@D | norm | docker.io | library/foo | - | D | docker.io/library/foo | docker.io/library/foo@D | foo@D | IfNotPresent
        ";
    for row in rows.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let row = row.replace('D', &digest);
        let cols: Vec<&str> = row.split('|').map(str::trim).collect();
        let [input, mode, domain, path, tag, dig, repository, normalized, familiar, policy] = cols[..] else {
            panic!("bad row {row}");
        };
        let v = describe_reference(input, mode == "norm").unwrap();
        let got = (v.domain(), v.path(), v.tag(), v.digest());
        assert_eq!(
            got,
            (domain, path, (tag != "-").then_some(tag), (dig != "-").then_some(dig)),
            "{row}"
        );
        assert_eq!(v.repository(), repository, "{row}");
        assert_eq!(v.normalized(), normalized, "{row}");
        assert_eq!(v.familiar(), familiar, "{row}");
        assert_eq!(v.default_pull_policy(), policy, "{row}");
    }
    let err = describe_reference("Foo", true).unwrap_err();
    assert!(
        matches!(err, CoreError::Reference(e) if e.kind == reference::ReferenceErrorKind::NormalizedNameNotLowercase)
    );
    let err = describe_reference("Foo", false).unwrap_err();
    assert!(matches!(err, CoreError::Reference(e) if e.kind == reference::ReferenceErrorKind::NameContainsUppercase));
    assert_eq!(
        describe_reference("nginx", true).unwrap(),
        describe_reference("docker.io/library/nginx", false).unwrap()
    );
}

// ---- Issue #10: bounded errors (defect 7), redaction (defect 8), bounded explain (defect 6) ----

use crate::limits::MAX_EXPLAIN_REJECTED;
use proptest::prelude::*;

fn docker_config(keys: &[String]) -> SourceFile {
    let auths: Vec<String> = keys
        .iter()
        .map(|k| {
            format!(
                "{}: {{\"username\": \"u\", \"password\": \"pw\"}}",
                serde_json::to_string(k).unwrap()
            )
        })
        .collect();
    SourceFile {
        name: "/node/config.json".to_owned(),
        data: SourceData::DockerConfig {
            format: None,
            data: format!("{{\"auths\": {{{}}}}}", auths.join(", ")).into_bytes(),
        },
        search_path: false,
    }
}

#[test]
fn a_huge_invalid_image_gives_a_short_error() {
    for image in [
        format!("UPPER/{}", "a".repeat(900_000)),
        format!("a/{}", "B".repeat(3 << 20)),
    ] {
        let err = repository_of(&image).unwrap_err().to_string();
        assert!(err.len() < 1024, "{} bytes", err.len());
        assert!(err.contains(&format!("… ({} bytes)", image.len())), "{err}");
        let err = describe_reference(&image, false).unwrap_err().to_string();
        assert!(err.len() < 1024, "{} bytes", err.len());
    }
    // The error keeps the code and the whole input for callers that want them.
    let image = format!("UPPER/{}", "a".repeat(900_000));
    let CoreError::Reference(e) = repository_of(&image).unwrap_err() else {
        panic!("not a reference error")
    };
    assert_eq!(e.input, image);
}

#[test]
fn explain_lists_the_nearest_keys_and_counts_the_rest() {
    let mut keys: Vec<String> = (0..300).map(|i| format!("far{i:03}.example.org")).collect();
    keys.push("quay.io/other".to_owned());
    keys.push("mirror.quay.io".to_owned());
    let built = build_keyring::<Vec<u8>>(&[], &[docker_config(&keys)], SearchPolicy::Merge);
    assert!(built.skipped.is_empty());
    let ex = built.keyring.explain("quay.io/team/app");
    assert!(ex.credentials.is_empty());
    assert_eq!(ex.rejected_total, 302);
    assert_eq!(ex.rejected.len(), MAX_EXPLAIN_REJECTED);
    // Same host first, then same domain; listed in kubelet order (keys descending).
    let shown: Vec<&str> = ex.rejected.iter().map(|r| r.key.as_str()).collect();
    assert!(
        shown.contains(&"quay.io/other") && shown.contains(&"mirror.quay.io"),
        "{shown:?}"
    );
    let mut sorted = shown.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(shown, sorted);
}

const SECRET: &str = "S3cr3tCanary";

fn assert_hidden(text: &str, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(!text.contains(SECRET), "{} shows the secret: {}", what, text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever surrounds a `user:SECRET@` in a registry key, no warning, error, explanation or
    /// `Debug` output shows SECRET.
    #[test]
    fn credentials_in_keys_are_never_shown(
        scheme in prop_oneof![Just(""), Just("https://"), Just("HTTPS://"), Just("https:/"), Just("http://"), Just("Https:///")],
        before in "[a-z. /]{0,12}",
        user in "[a-z]{0,6}",
        after in "[a-z.:0-9/ ]{0,16}",
        image in prop_oneof![Just("r.example/app"), Just("docker.io/library/x"), Just("other.example:5000/a/b")],
    ) {
        let key = format!("{scheme}{before}{user}:{SECRET}@{after}");
        let keys = [key.clone(), "other.example".to_owned()];
        let source = docker_config(&keys);
        let built = build_keyring::<Vec<u8>>(&[], std::slice::from_ref(&source), SearchPolicy::Merge);
        for w in &built.warnings {
            assert_hidden(w, "a warning")?;
        }
        for e in &built.skipped {
            assert_hidden(&e.to_string(), "the error of a skipped source")?;
        }
        let ex = built.keyring.explain(image);
        for r in &ex.rejected {
            assert_hidden(&r.key, "a rejected key")?;
            assert_hidden(&crate::credential::redact_userinfo(&r.raw_key), "a rejected raw key")?;
            assert_hidden(&r.reason, "a reason")?;
        }
        for c in &ex.credentials {
            assert_hidden(&crate::credential::redact_userinfo(c.key()), "a matching key")?;
            assert_hidden(&format!("{c:?}"), "a credential's Debug")?;
        }
        for g in &built.keyring.groups {
            for c in g.credentials() {
                assert_hidden(&format!("{c:?}"), "a credential's Debug")?;
            }
        }
        // A file whose entry is malformed: the error names the key, redacted.
        let bad = format!("{{\"auths\": {{{}: {{\"username\": 1}}}}}}", serde_json::to_string(&key).unwrap());
        let err = crate::dockercfg::parse_docker_config_auto(bad.as_bytes()).unwrap_err();
        assert_hidden(&err.to_string(), "a docker config error")?;
        if let Err(e) = crate::go::url::parse(&key) {
            assert_hidden(&e.to_string(), "a URL error")?;
        }
    }
}
