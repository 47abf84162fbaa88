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
