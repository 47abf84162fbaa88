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

mod helpers {
    use super::super::*;
    use crate::keyring::Keyring;

    fn docker_config(name: &str, json: &str) -> SourceFile {
        SourceFile {
            name: name.to_owned(),
            data: SourceData::DockerConfig {
                format: None,
                data: json.as_bytes().to_vec(),
            },
            search_path: false,
        }
    }

    #[test]
    fn references_come_from_docker_configs_only() {
        let secret = SourceFile {
            name: "s.yaml".to_owned(),
            data: SourceData::SecretManifest {
                data: b"apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ntype: kubernetes.io/dockerconfigjson\ndata: {}\n"
                    .to_vec(),
            },
            search_path: false,
        };
        let sources = vec![
            docker_config(
                "a.json",
                r#"{"auths": {}, "credsStore": "pass", "credHelpers": {"r.example": "ecr-login"}}"#,
            ),
            docker_config("plain.json", r#"{"auths": {"r.example": {"auth": "dTpw"}}}"#),
            docker_config("broken.json", r#"{"auths": "#),
            docker_config("b.json", r#"{"auths": {}, "credHelpers": {"x": "y", "n": 1}}"#),
            secret,
        ];
        let refs = helper_refs(&sources);
        assert_eq!(
            refs,
            vec![
                HelperRefs {
                    source: "a.json".into(),
                    creds_store: Some("pass".into()),
                    cred_helpers: vec![("r.example".into(), "ecr-login".into())]
                },
                HelperRefs {
                    source: "b.json".into(),
                    creds_store: None,
                    cred_helpers: vec![("x".into(), "y".into())]
                },
            ]
        );
    }

    #[test]
    fn helper_answers_stand_between_pull_secrets_and_node_files() {
        let secrets = [SourceFile {
            name: "secret".to_owned(),
            data: SourceData::DockerConfig {
                format: None,
                data: br#"{"auths": {"r.example": {"username": "from-secret", "password": "a"}}}"#.to_vec(),
            },
            search_path: false,
        }];
        let node = [docker_config(
            "node.json",
            r#"{"auths": {"r.example/team": {"username": "from-node", "password": "b"}}}"#,
        )];
        let base = build_keyring(&secrets, &node, SearchPolicy::Merge).keyring;
        let answers = vec![
            HelperAnswer {
                source: "helper pass".into(),
                key: "r.example".into(),
                username: "from-helper".into(),
                password: "c".into(),
            },
            HelperAnswer {
                source: "helper hub".into(),
                key: "https://index.docker.io/v1/".into(),
                username: "hub".into(),
                password: "d".into(),
            },
        ];
        let merged = with_helper_answers(&base, answers);
        assert_eq!(base.groups.len(), 2, "the base keyring is not changed");
        let users = |k: &Keyring, image: &str| -> Vec<String> {
            k.lookup(image).iter().map(|c| c.username().to_owned()).collect()
        };
        // Group order: pull secrets, helper answers, node files (even the more specific node key).
        assert_eq!(
            users(&merged, "r.example/team/app"),
            ["from-secret", "from-helper", "from-node"]
        );
        assert_eq!(users(&merged, "docker.io/library/nginx"), ["hub"]);
        assert_eq!(users(&base, "docker.io/library/nginx"), Vec::<String>::new());
    }
}
