// Section numbers (§) refer to docs/kubelet.md.

use super::index::{Chain, KeyEntry, Lens, Parts};
use super::union::response_key;
use super::*;
use crate::credential::AuthEntry;
use crate::go::url::parse_schemeless_ref;
use crate::hostglob::urls_match_str;
use proptest::prelude::*;
use std::collections::{BTreeSet, HashMap};

fn auth(user: &str) -> AuthEntry {
    AuthEntry {
        username: user.to_owned(),
        password: format!("pw-{user}"),
        ..AuthEntry::default()
    }
}

fn ring(entries: &[(&str, &str)]) -> BasicKeyring {
    let mut k = BasicKeyring::new();
    for (key, user) in entries {
        k.add(key, auth(user), "test");
    }
    k
}

fn users(creds: &[&Credential]) -> Vec<String> {
    creds.iter().map(|c| c.username().to_owned()).collect()
}

#[test]
fn normalize_key_table() {
    let cases: &[(&str, Option<&str>)] = &[
        ("quay.io", Some("quay.io")),
        ("https://quay.io", Some("quay.io")),
        ("http://quay.io/", Some("quay.io")),
        ("https://quay.io/v1/", Some("quay.io")),
        ("https://quay.io/v2/", Some("quay.io")),
        ("quay.io/v2/team", Some("quay.io/team")),
        ("quay.io/v1/team/", Some("quay.io/team/")),
        ("quay.io/v1", Some("quay.io/v1")),
        ("quay.io/v2/v2/x", Some("quay.io/v2/x")),
        ("quay.io/v3/x", Some("quay.io/v3/x")),
        ("quay.io/foo/", Some("quay.io/foo/")),
        ("index.docker.io/v1/", Some("index.docker.io")),
        ("https://index.docker.io/v1/", Some("index.docker.io")),
        ("Quay.IO/Team", Some("Quay.IO/Team")),
        ("registry:5000", Some("registry:5000")),
        ("registry?.io", Some("registry")),
        ("quay.io#frag", Some("quay.io")),
        ("user:pass@quay.io/x", Some("quay.io/x")),
        ("quay.io/a%20b", Some("quay.io/a b")),
        ("quay.io/a%3Fb", Some("quay.io/a?b")),
        ("*.example.com", Some("*.example.com")),
        ("HTTPS://quay.io", Some("HTTPS://quay.io")),
        ("ftp://quay.io", Some("ftp://quay.io")),
        ("", Some("")),
        ("bad host", None),
        ("a{b}", None),
        ("registry:abc", None),
        ("quay.io/%zz", None),
        ("quay.io/\n", None),
        ("[1.2.3.4]", None),
    ];
    for &(raw, want) in cases {
        assert_eq!(normalize_key(raw).as_deref(), want, "{raw:?}");
    }
}

#[test]
fn kubelet_is_default_registry_match() {
    // kubelet keyring_test.go TestIsDefaultRegistryMatch, plus §c.4.
    for (image, want) in [
        ("foo/bar", true),
        ("docker.io/foo/bar", true),
        ("index.docker.io/foo/bar", true),
        ("foo", true),
        ("quay.io", true),
        ("", false),
        ("/foo", false),
        ("registry.tld/foo/bar", false),
        ("registry:5000/foo/bar", false),
        ("myhostdocker.io/foo/bar", false),
        ("localhost/foo", true),
    ] {
        assert_eq!(is_default_registry_match(image), want, "{image:?}");
    }
}

#[test]
fn kubelet_docker_keyring_lookup() {
    // kubelet TestDockerKeyringLookup.
    let k = ring(&[("bar.example.com/pong", "grace"), ("bar.example.com", "ada")]);
    let cases: &[(&str, &[&str])] = &[
        ("bar.example.com", &["ada"]),
        ("bar.example.com/pong", &["grace", "ada"]),
        ("bar.example.com/ping", &["ada"]),
        ("bar.example.com/pongz", &["grace", "ada"]),
        ("bar.example.com/pong/pang", &["grace", "ada"]),
        ("example.com", &[]),
        ("foo.example.com", &[]),
    ];
    for &(image, want) in cases {
        assert_eq!(users(&k.lookup(image)), want, "{image}");
    }
    // kubelet TestIssue3797: a key with a scheme and /v1/ path matches the bare host.
    let k = ring(&[("https://quay.io/v1/", "rex")]);
    for image in ["quay.io", "quay.io/foo", "quay.io/foo/bar"] {
        assert_eq!(users(&k.lookup(image)), ["rex"], "{image}");
    }
}

#[test]
fn kubelet_docker_keyring_for_glob() {
    // kubelet TestDockerKeyringForGlob: each key alone must match target + "/foo/bar".
    let cases = [
        ("https://hello.kubernetes.io", "hello.kubernetes.io"),
        ("https://*.docker.io", "prefix.docker.io"),
        ("https://prefix.*.io", "prefix.docker.io"),
        ("https://prefix.docker.*", "prefix.docker.io"),
        ("https://*.docker.io/path", "prefix.docker.io/path"),
        ("https://prefix.*.io/path", "prefix.docker.io/path/subpath"),
        ("https://prefix.docker.*/path", "prefix.docker.io/path"),
        ("https://*.docker.io:8888", "prefix.docker.io:8888"),
        ("https://prefix.*.io:8888", "prefix.docker.io:8888"),
        ("https://prefix.docker.*:8888", "prefix.docker.io:8888"),
        ("https://*.docker.io/path:1111", "prefix.docker.io/path:1111"),
        ("https://*.docker.io/v1/", "prefix.docker.io/path:1111"),
        ("https://*.docker.io/v2/", "prefix.docker.io/path:1111"),
        ("https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111"),
        ("prefix.docker.io:1111", "prefix.docker.io:1111/path"),
        ("*.docker.io:1111", "prefix.docker.io:1111/path"),
    ];
    for (key, target) in cases {
        let k = ring(&[(key, "foo")]);
        let image = format!("{target}/foo/bar");
        assert_eq!(users(&k.lookup(&image)), ["foo"], "{key} {image}");
        assert_eq!(users(&k.lookup_linear(&image)), ["foo"], "{key} {image}");
    }
}

#[test]
fn kubelet_keyring_miss() {
    // kubelet TestKeyringMiss: lookups of target + "/foo/bar" find nothing.
    let cases = [
        ("https://hello.kubernetes.io", "world.mesos.org/foo/bar"),
        ("https://*.docker.com", "prefix.docker.io"),
        ("https://suffix.*.io", "prefix.docker.io"),
        ("https://prefix.docker.c*", "prefix.docker.io"),
        ("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"),
        ("suffix.*.io", "prefix.docker.io"),
    ];
    for (key, target) in cases {
        let k = ring(&[(key, "foo")]);
        assert!(k.lookup(&format!("{target}/foo/bar")).is_empty(), "{key} {target}");
    }
}

#[test]
fn kubelet_docker_hub_fallback() {
    let k = ring(&[("https://index.docker.io/v1/", "foo")]);
    // TestKeyringMissWithDockerHubCredentials
    assert!(k.lookup("world.mesos.org/foo/bar").is_empty());
    // TestKeyringHitWithUnqualifiedDockerHub / UnqualifiedLibraryDockerHub
    assert_eq!(users(&k.lookup("google/docker-registry")), ["foo"]);
    assert_eq!(users(&k.lookup("jenkins")), ["foo"]);
    // TestKeyringHitWithQualifiedDockerHub (the key matches directly here)
    assert_eq!(users(&k.lookup("index.docker.io/v1//google/docker-registry")), ["foo"]);
    // §a: normalised Docker Hub names reach it only through the fallback.
    assert_eq!(users(&k.lookup("docker.io/library/nginx")), ["foo"]);
    assert_eq!(users(&k.lookup("localhost/x")), ["foo"]);
    assert!(k.lookup("localhost:5000/x").is_empty());
    // The fallback is not used when another key matched.
    let k = ring(&[("index.docker.io", "hub"), ("docker.io/library", "lib")]);
    assert_eq!(users(&k.lookup("docker.io/library/nginx")), ["lib"]);
    assert_eq!(users(&k.lookup("docker.io/user/app")), ["hub"]);
    // A key literally named docker.io matches directly.
    let k = ring(&[("docker.io", "d")]);
    assert_eq!(users(&k.lookup("docker.io/library/nginx")), ["d"]);
}

#[test]
fn ordering_duplicates_and_ports() {
    let k = ring(&[
        ("*.example.com", "star"),
        ("foo.*.com", "foo-star"),
        ("foo.example.com", "exact1"),
        ("https://foo.example.com/", "exact2"),
        ("foo.example.com/team", "team"),
        ("foo.example.com/team/", "team-slash"),
        ("foo.example.com", "exact1"),
        ("foo.example.com:5000", "port"),
        ("foo.example.*", "foo-ex-star"),
    ]);
    // Descending key order; same key: insertion order, duplicates kept.
    assert_eq!(
        users(&k.lookup("foo.example.com/team/app")),
        [
            "team-slash",
            "team",
            "exact1",
            "exact2",
            "exact1",
            "foo.example.*",
            "foo-star",
            "star"
        ]
        .map(|u| if u == "foo.example.*" { "foo-ex-star" } else { u })
    );
    assert_eq!(users(&k.lookup("foo.example.com:5000/team")), ["port"]);
    assert_eq!(users(&k.lookup("bar.example.com/x")), ["star"]);
    assert_eq!(k.len(), 9);
    assert_eq!(
        k.keys(),
        [
            "foo.example.com:5000",
            "foo.example.com/team/",
            "foo.example.com/team",
            "foo.example.com",
            "foo.example.*",
            "foo.*.com",
            "*.example.com"
        ]
    );
    assert!(!k.clone().add("bad host", auth("x"), "s"));
}

#[test]
fn credentials_read_back_what_was_added() {
    let mut k = BasicKeyring::new();
    let entries = vec![
        ("quay.io".to_owned(), auth("plain")),
        ("https://alice:s3cret@quay.io/v1/".to_owned(), auth("raw")),
        ("bad host".to_owned(), auth("skipped")),
        (
            "r.io/team".to_owned(),
            AuthEntry {
                username: String::new(),
                password: "tok-pw".to_owned(),
                email: "a@b.c".to_owned(),
                identity_token: "id-tok".to_owned(),
                registry_token: "reg-tok".to_owned(),
            },
        ),
        ("a{b}".to_owned(), auth("skipped2")),
        (String::new(), auth("empty-key")),
    ];
    let skipped = k.add_all(entries, "/etc/x/config.json");
    assert_eq!(skipped, ["bad host", "a{b}"]);
    let got: Vec<_> = k
        .credentials()
        .iter()
        .map(|c| {
            (
                c.key(),
                c.raw_key(),
                c.username(),
                c.password(),
                c.email(),
                c.identity_token(),
                c.registry_token(),
                c.source(),
            )
        })
        .collect();
    let src = "/etc/x/config.json";
    assert_eq!(
        got,
        [
            ("quay.io", "quay.io", "plain", "pw-plain", "", "", "", src),
            (
                "quay.io",
                "https://alice:s3cret@quay.io/v1/",
                "raw",
                "pw-raw",
                "",
                "",
                "",
                src
            ),
            (
                "r.io/team",
                "r.io/team",
                "",
                "tok-pw",
                "a@b.c",
                "id-tok",
                "reg-tok",
                src
            ),
            ("", "", "empty-key", "pw-empty-key", "", "", "", src),
        ]
    );
    // `add` and `add_all` agree, whatever the text layout; `auth()` gives the entry back.
    let mut one = BasicKeyring::new();
    for c in k.credentials() {
        assert!(one.add(c.raw_key(), c.auth(), c.source()));
    }
    assert_eq!(one.credentials(), k.credentials());
    assert_eq!(users(&one.lookup("quay.io/x")), ["plain", "raw"]);
    let alone = Credential::new("r.io/team", "r.io/team", k.credentials()[2].auth(), src);
    assert_eq!(alone.as_ref(), k.credentials().get(2));
    assert_ne!(k.credentials()[0], k.credentials()[1]);
    assert!(!one.add("bad host", auth("x"), "s"));
    assert_eq!(one.len(), 4);
}

#[test]
fn layout_stays_compact() {
    // The memory budget (module docs) rests on these sizes; a new field must be paid for elsewhere.
    assert_eq!(std::mem::size_of::<Credential>(), 48);
    assert!(
        std::mem::size_of::<KeyEntry>() <= 52,
        "{}",
        std::mem::size_of::<KeyEntry>()
    );
    assert_eq!(std::mem::size_of::<Chain>(), 8);
}

#[test]
fn credential_debug_redacts_secrets() {
    let mut k = BasicKeyring::new();
    let a = AuthEntry {
        username: "ada".to_owned(),
        password: "Pw-4f9a".to_owned(),
        email: "ada@example.com".to_owned(),
        identity_token: "Id-77c1".to_owned(),
        registry_token: "Rg-0b3e".to_owned(),
    };
    assert!(k.add("https://ada:Ui-51d2@quay.io", a, "s.json"));
    let shown = format!("{:?} {k:?}", k.credentials()[0]);
    for secret in ["Pw-4f9a", "Id-77c1", "Rg-0b3e", "Ui-51d2"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("ada@example.com") && shown.contains("quay.io") && shown.contains("s.json"));
}

#[test]
fn crowded_hosts_with_long_paths() {
    // Path lengths of 256 bytes and more leave the bitmap for the sorted list.
    let mut k = BasicKeyring::new();
    let long = |n: usize| format!("/{}", "a".repeat(n - 1));
    for (i, n) in [1usize, 5, 64, 200, 255, 256, 257, 300, 1000, 63, 128]
        .into_iter()
        .enumerate()
    {
        k.add(&format!("long.io{}", long(n)), auth(&format!("u{i}")), "s");
    }
    for n in [1usize, 5, 255, 256, 258, 299, 300, 1200] {
        let image = format!("long.io{}/x", long(n));
        let fast: Vec<*const Credential> = k.lookup(&image).into_iter().map(std::ptr::from_ref).collect();
        let slow: Vec<*const Credential> = k.lookup_linear(&image).into_iter().map(std::ptr::from_ref).collect();
        assert!(!fast.is_empty(), "{n}");
        assert_eq!(fast, slow, "{n}");
    }
    assert_eq!(users(&k.lookup(&format!("long.io{}", long(300)))).len(), 10);
    let mut lens = Lens::default();
    for len in [300, 5, 256, 0, 255, 64, 63, 300, 1000, 192] {
        lens.insert(len);
    }
    assert_eq!(
        lens.iter().collect::<Vec<_>>(),
        [0, 5, 63, 64, 192, 255, 256, 300, 1000]
    );
}

#[test]
fn crowded_hosts_use_the_path_index() {
    // More exact keys on one host than SMALL_HOST, plus decoded keys and many globs in one bucket.
    let mut k = BasicKeyring::new();
    let paths = [
        "",
        "/",
        "/t",
        "/te",
        "/team",
        "/team/",
        "/team/app",
        "/team/app2",
        "/other",
        "/a%20b",
        "/a b",
    ];
    for (i, p) in paths.iter().enumerate() {
        for host in ["quay.io", "quay.io:443", "Quay.io"] {
            k.add(&format!("{host}{p}"), auth(&format!("u{i}")), "s");
        }
    }
    for i in 0..20 {
        k.add(&format!("*.tenant-{i}.example.com/x"), auth(&format!("g{i}")), "s");
        k.add(&format!("app-{i}.*.example.com"), auth(&format!("h{i}")), "s");
    }
    for image in [
        "quay.io/team/app",
        "quay.io/team/app2/x",
        "quay.io:443/t",
        "quay.io",
        "quay.io/a b/c",
        "Quay.io/other",
        "a.tenant-7.example.com/x/y",
        "app-3.tenant-3.example.com/x",
        "app-3.tenant-9.example.com/y",
    ] {
        let fast: Vec<*const Credential> = k.lookup(image).into_iter().map(std::ptr::from_ref).collect();
        let slow: Vec<*const Credential> = k.lookup_linear(image).into_iter().map(std::ptr::from_ref).collect();
        assert!(!fast.is_empty(), "{image}");
        assert_eq!(fast, slow, "{image}");
    }
    assert_eq!(users(&k.lookup("quay.io/team/x")), ["u5", "u4", "u3", "u2", "u0", "u1"]);
}

#[test]
fn lookups_visit_few_candidates() {
    // Deterministic guard for the index: with 3,000 glob keys sharing their last labels, an image
    // must only reach the keys filed under its own distinctive label.
    let mut k = BasicKeyring::new();
    for i in 0..1000 {
        k.add(&format!("*.tenant-{i}.example.com"), auth("g"), "s");
        k.add(&format!("app-*.team-{i}.example.com/x"), auth("h"), "s");
        k.add(&format!("registry-{i}.example.com/team-{i}"), auth("e"), "s");
    }
    let visited = |image: &str| {
        let u = parse_schemeless_ref(image).unwrap();
        let t = Parts::of(&u.host, &u.path);
        let mut n = 0;
        k.glob_candidates(&t, |_, _| n += 1);
        n
    };
    assert_eq!(visited("a.tenant-7.example.com/x"), 1);
    assert_eq!(visited("app-1.team-9.example.com/x"), 1);
    assert_eq!(visited("a.b.c.d/x"), 0);
    assert_eq!(users(&k.lookup("registry-5.example.com/team-5/x")), ["e"]);
}

#[test]
fn union_concatenates_groups_each_with_its_fallback() {
    let secrets = ring(&[("quay.io", "secret"), ("index.docker.io", "secret-hub")]);
    let node = ring(&[
        ("quay.io/team", "node-team"),
        ("index.docker.io", "node-hub"),
        ("*.io", "node-star"),
    ]);
    let kr = Keyring {
        groups: vec![secrets, BasicKeyring::new(), node],
    };
    assert_eq!(
        users(&kr.lookup("quay.io/team/app")),
        ["secret", "node-team", "node-star"]
    );
    // node: *.io matches docker.io, so its fallback is not used; secrets fall back.
    assert_eq!(users(&kr.lookup("docker.io/library/x")), ["secret-hub", "node-star"]);
    assert_eq!(users(&kr.lookup("localhost/x")), ["secret-hub", "node-hub"]);
    assert!(kr.lookup("other.example.com/x").is_empty());
    assert_eq!(kr.len(), 5);
}

#[test]
fn explain_lists_rejections_and_fallback() {
    let secrets = ring(&[("quay.io:5000", "p"), ("quay.io/team", "t"), ("k*.io", "k")]);
    let node = ring(&[("index.docker.io", "hub"), ("a.b.quay.io", "deep")]);
    let kr = Keyring {
        groups: vec![secrets, node],
    };
    let ex = kr.explain("quay.io/other/app");
    assert!(ex.credentials.is_empty());
    let reasons: Vec<(&str, &str)> = ex
        .rejected
        .iter()
        .map(|r| (r.key.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("quay.io:5000", r#"port "5000" != """#),
            ("quay.io/team", r#"path "/team" is not a prefix of "/other/app""#),
            ("k*.io", r#"label 1 "k*" does not match "quay""#),
            (
                "index.docker.io",
                "3 labels, image has 2; not a Docker Hub image, so the index.docker.io fallback does not apply"
            ),
            ("a.b.quay.io", "4 labels, image has 2"),
        ]
    );
    let ex = kr.explain("docker.io/library/x");
    assert_eq!(users(&ex.credentials), ["hub"]);
    assert_eq!(ex.fallback, [true]);
    assert!(ex.rejected.iter().all(|r| r.key != "index.docker.io"));
    let ex = kr.explain("quay.io/team/x");
    assert_eq!(users(&ex.credentials), ["t"]);
    assert_eq!(ex.fallback, [false]);
    assert_eq!(ex.rejected.len(), 4);
}

#[test]
fn match_images_cover_keys() {
    let kr = Keyring {
        groups: vec![
            ring(&[("quay.io/team", "a"), ("*.example.com:5000/x", "b"), ("bad host", "c")]),
            ring(&[("https://index.docker.io/v1/", "d"), ("quay.io", "e")]),
        ],
    };
    assert_eq!(
        kr.match_images(),
        ["*", "*.example.com:5000", "docker.io", "index.docker.io", "quay.io"]
    );
    for image in [
        "quay.io/team/x",
        "a.example.com:5000/x/y",
        "docker.io/library/n",
        "localhost/x",
    ] {
        assert!(!kr.lookup(image).is_empty(), "{image}");
        assert!(kr.match_images().iter().any(|p| urls_match_str(p, image)), "{image}");
    }
}

/// What the kubelet does with a response `auth` map: a fresh keyring, one entry per key, and its
/// own linear lookup.
fn kubelet_view(entries: &[(String, AuthEntry)], image: &str) -> Vec<(String, String)> {
    let mut k = BasicKeyring::new();
    let mut seen = BTreeSet::new();
    for (raw, a) in entries {
        let key = normalize_key(raw).expect("response keys must normalise");
        assert!(seen.insert(key.clone()), "two response keys normalise to {key}");
        let plain = AuthEntry {
            username: a.username.clone(),
            password: a.password.clone(),
            ..AuthEntry::default()
        };
        k.add(raw, plain, "plugin");
    }
    pairs(&k.lookup_linear(image))
}

fn pairs(creds: &[&Credential]) -> Vec<(String, String)> {
    creds
        .iter()
        .map(|c| (c.username().to_owned(), c.password().to_owned()))
        .collect()
}

#[test]
fn image_ladder_reproduces_lookup() {
    let kr = Keyring {
        groups: vec![
            ring(&[("quay.io", "a"), ("quay.io", "b"), ("*.io", "c")]),
            ring(&[("quay.io/team", "d"), ("quay.io", "a"), ("index.docker.io", "e")]),
        ],
    };
    for image in [
        "quay.io/team/app",
        "quay.io/v2/x",
        "quay.io/v1/team",
        "quay.io/x",
        "docker.io/library/x",
    ] {
        let r = kr.response_auth(image, CachePolicy::Image);
        assert_eq!(r.cache_key_type, CacheKeyType::Image);
        assert_eq!(kubelet_view(&r.entries, image), pairs(&kr.lookup(image)), "{image}");
        assert!(r.entries.iter().all(|(k, _)| !k.contains('@')));
    }
    // A path starting with /v2/ is protected from normalisation.
    let r = kr.response_auth("quay.io/v2/x", CachePolicy::Image);
    assert!(r.entries.iter().any(|(k, _)| k == "quay.io/v2/v2/x"), "{:?}", r.entries);
    assert!(kr
        .response_auth("nothing.example.com/x", CachePolicy::Image)
        .entries
        .is_empty());
}

#[test]
fn image_ladder_is_long_and_truncates_when_out_of_rungs() {
    // Host "h" has one label and path "/a": rungs h/a, h, then */a, *, **/a, **, ... (8 star counts).
    let mut k = BasicKeyring::new();
    for i in 0..30 {
        k.add("h", auth(&format!("u{i}")), "s");
    }
    let kr = Keyring { groups: vec![k] };
    let r = kr.response_auth("h/a", CachePolicy::Auto);
    assert_eq!(r.cache_key_type, CacheKeyType::Image);
    assert_eq!(r.entries.len(), 18);
    let want: Vec<_> = pairs(&kr.lookup("h/a")).into_iter().take(18).collect();
    assert_eq!(kubelet_view(&r.entries, "h/a"), want);
    let r = kr.response_auth("h/a", CachePolicy::Image);
    let keys: Vec<String> = r.entries.iter().map(|(k, _)| normalize_key(k).unwrap()).collect();
    // Descending: `/` (0x2F) sorts above `*` (0x2A), so `*/a` precedes `**/a` and `*` comes last.
    assert_eq!(keys[..4], ["h/a", "h", "*/a", "**/a"]);
    assert_eq!(keys.last().map(String::as_str), Some("*"));
    // An image that does not parse can only be served by the index.docker.io fallback: one credential.
    let hub = ring(&[("index.docker.io", "a"), ("index.docker.io", "b")]);
    let kr = Keyring { groups: vec![hub] };
    assert_eq!(users(&kr.lookup("bad image")), ["a", "b"]);
    let r = kr.response_auth("bad image", CachePolicy::Image);
    assert_eq!(
        kubelet_view(&r.entries, "bad image"),
        pairs(&kr.lookup("bad image"))[..1]
    );
}

#[test]
fn registry_and_global_only_when_exact() {
    let node = ring(&[
        ("quay.io", "a"),
        ("quay.io/team", "b"),
        ("*.io", "c"),
        ("other.com", "d"),
    ]);
    let kr = Keyring {
        groups: vec![BasicKeyring::new(), node.clone()],
    };
    let r = kr.response_auth("quay.io/team/x", CachePolicy::Auto);
    assert_eq!(r.cache_key_type, CacheKeyType::Registry);
    let mut keys: Vec<&str> = r.entries.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["*.io", "quay.io", "quay.io/team"]);
    let r = kr.response_auth("quay.io/team/x", CachePolicy::Global);
    assert_eq!((r.cache_key_type, r.entries.len()), (CacheKeyType::Global, 4));
    assert_eq!(
        kr.response_auth("quay.io/x", CachePolicy::Image).cache_key_type,
        CacheKeyType::Image
    );

    // Two credentials under one key: neither Registry nor Global can carry them.
    let mut dup = node.clone();
    dup.add("quay.io", auth("a2"), "s");
    let kr2 = Keyring { groups: vec![dup] };
    assert_eq!(
        kr2.response_auth("quay.io/x", CachePolicy::Registry).cache_key_type,
        CacheKeyType::Image
    );
    assert_eq!(
        kr2.response_auth("quay.io/x", CachePolicy::Global).cache_key_type,
        CacheKeyType::Image
    );
    // ...but other hosts of that keyring are fine.
    assert_eq!(
        kr2.response_auth("other.com/x", CachePolicy::Auto).cache_key_type,
        CacheKeyType::Registry
    );

    // Two groups contributing to one host: not exact.
    let kr3 = Keyring {
        groups: vec![ring(&[("quay.io/x", "s")]), node.clone()],
    };
    assert_eq!(
        kr3.response_auth("quay.io/y", CachePolicy::Auto).cache_key_type,
        CacheKeyType::Image
    );
    assert_eq!(
        kr3.response_auth("quay.io/y", CachePolicy::Global).cache_key_type,
        CacheKeyType::Image
    );
    assert_eq!(
        kr3.response_auth("other.com/y", CachePolicy::Auto).cache_key_type,
        CacheKeyType::Registry
    );

    // Fallback keys of other groups count for Docker Hub-like hosts only.
    let kr4 = Keyring {
        groups: vec![ring(&[("index.docker.io", "hub")]), node],
    };
    assert_eq!(
        kr4.response_auth("quay.io/y", CachePolicy::Auto).cache_key_type,
        CacheKeyType::Registry
    );
    assert_eq!(
        kr4.response_auth("localhost/y", CachePolicy::Auto).cache_key_type,
        CacheKeyType::Registry
    );
    assert_eq!(
        kr4.response_auth("docker.io/y", CachePolicy::Auto).cache_key_type,
        CacheKeyType::Image
    );

    // Nothing for the host at all: an exact, empty Registry answer.
    let r = kr4.response_auth("nothing.example.org/y", CachePolicy::Auto);
    assert_eq!((r.cache_key_type, r.entries.len()), (CacheKeyType::Registry, 0));
}

#[test]
fn response_keys_drop_userinfo_and_survive_normalisation() {
    let kr = Keyring {
        groups: vec![ring(&[
            ("alice:s3cret@quay.io/v2/v2/team", "a"),
            ("quay.io/a%3Fb", "b"),
        ])],
    };
    let r = kr.response_auth("quay.io/v2/team/x", CachePolicy::Registry);
    assert_eq!(r.cache_key_type, CacheKeyType::Registry);
    assert!(r.entries.iter().all(|(k, _)| !k.contains("s3cret")), "{:?}", r.entries);
    for (raw, _) in &r.entries {
        assert!(kr.groups[0].keys().contains(&normalize_key(raw).unwrap().as_str()));
    }
    assert_eq!(response_key("quay.io/a?b").as_deref(), Some("quay.io/a%3Fb"));
    assert_eq!(response_key("quay.io/v1/x").as_deref(), Some("quay.io/v2/v1/x"));
    assert_eq!(response_key("a%b").as_deref(), Some("a%25b"));
}

// ---- property tests -------------------------------------------------------------------------

const HOSTS: &[&str] = &[
    "quay.io",
    "a.quay.io",
    "docker.io",
    "index.docker.io",
    "localhost",
    "registry:5000",
    "registry",
    "b.example.com",
    "x.b.example.com",
    "[::1]:5000",
    "quay.io:443",
];
const GLOBS: &[&str] = &[
    "*.quay.io",
    "*.io",
    "*",
    "quay.*",
    "*.example.com",
    "*.b.example.com",
    "x.*.example.com",
    "registry:*",
    "r*y:5000",
    "*:5000",
    "q*.io",
    "*.*",
    "[::1]",
    "bad host",
];
const KEY_PATHS: &[&str] = &[
    "",
    "",
    "/",
    "/team",
    "/team/",
    "/team/app",
    "/te",
    "/v2/team",
    "/v1/",
    "/other",
    "#x",
];
const IMAGE_PATHS: &[&str] = &[
    "/team/app",
    "/team",
    "/teamx/y",
    "/other/x",
    "/library/nginx",
    "/v2/team/x",
    "/t",
];
const SCHEMES: &[&str] = &["", "", "https://", "http://"];

fn arb_key() -> impl Strategy<Value = String> {
    (
        prop::sample::select(SCHEMES),
        prop_oneof![3 => prop::sample::select(HOSTS), 2 => prop::sample::select(GLOBS)],
        prop::sample::select(KEY_PATHS),
    )
        .prop_map(|(s, h, p)| format!("{s}{h}{p}"))
}

fn arb_group() -> impl Strategy<Value = Vec<(String, u8)>> {
    prop::collection::vec((arb_key(), 0u8..6), 0..12)
}

fn arb_image() -> impl Strategy<Value = String> {
    (
            prop_oneof![4 => prop::sample::select(HOSTS), 1 => prop::sample::select(&["sub.a.quay.io", "other.org", "x.quay.io"][..])],
            prop::sample::select(IMAGE_PATHS),
        )
            .prop_map(|(h, p)| format!("{h}{p}"))
}

fn build(groups: &[Vec<(String, u8)>]) -> Keyring {
    Keyring {
        groups: groups
            .iter()
            .map(|g| {
                let mut k = BasicKeyring::new();
                for (key, u) in g {
                    k.add(key, auth(&format!("u{u}")), "p");
                }
                k
            })
            .collect(),
    }
}

fn linear(kr: &Keyring, image: &str) -> Vec<(String, String)> {
    pairs(
        &kr.groups
            .iter()
            .flat_map(|g| g.lookup_linear(image))
            .collect::<Vec<_>>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn indexed_lookup_equals_linear_scan(groups in prop::collection::vec(arb_group(), 1..3),
                                         images in prop::collection::vec(arb_image(), 1..6),
                                         odd in "\\PC{0,12}") {
        let kr = build(&groups);
        for image in images.iter().chain([&odd]) {
            let fast: Vec<*const Credential> = kr.lookup(image).into_iter().map(std::ptr::from_ref).collect();
            let slow: Vec<*const Credential> =
                kr.groups.iter().flat_map(|g| g.lookup_linear(image)).map(std::ptr::from_ref).collect();
            prop_assert_eq!(fast, slow, "image {}", image);
            let ex = kr.explain(image);
            prop_assert_eq!(ex.credentials.len(), kr.lookup(image).len());
            // Every credential is either returned or rejected, exactly once.
            prop_assert_eq!(ex.credentials.len() + ex.rejected.len(), kr.len());
            prop_assert_eq!(ex.fallback.len(), ex.credentials.len());
        }
    }

    #[test]
    fn arbitrary_keys_lookup_equals_linear_scan(keys in prop::collection::vec("[a-c.*?:/%\\[\\]@#0-9 -]{0,10}", 0..10),
                                                images in prop::collection::vec("[a-c.:/0-9-]{0,10}", 1..6)) {
        let mut g = BasicKeyring::new();
        for (i, key) in keys.iter().enumerate() {
            g.add(key, auth(&format!("u{}", i % 3)), "p");
        }
        let kr = Keyring { groups: vec![g] };
        for image in &images {
            let fast: Vec<*const Credential> = kr.lookup(image).into_iter().map(std::ptr::from_ref).collect();
            let slow: Vec<*const Credential> = kr.groups[0].lookup_linear(image).into_iter().map(std::ptr::from_ref).collect();
            prop_assert_eq!(fast, slow, "image {:?}", image);
            for policy in [CachePolicy::Auto, CachePolicy::Global] {
                let r = kr.response_auth(image, policy);
                prop_assert_eq!(kubelet_view(&r.entries, image), linear(&kr, image), "image {:?}", image);
            }
            let _ = kr.match_images();
        }
    }

    #[test]
    fn add_all_equals_add_one_by_one(keys in prop::collection::vec("[a-c.*?:/%\\[\\]@#0-9 -]{0,10}", 0..10),
                                     images in prop::collection::vec("[a-c.:/0-9-]{0,10}", 1..6)) {
        let entries: Vec<(String, AuthEntry)> =
            keys.iter().enumerate().map(|(i, key)| (key.clone(), auth(&format!("u{i}")))).collect();
        let mut one = BasicKeyring::new();
        let rejected: Vec<String> =
            entries.iter().filter(|(key, a)| !one.add(key, a.clone(), "p")).map(|(key, _)| key.clone()).collect();
        let mut all = BasicKeyring::new();
        prop_assert_eq!(all.add_all(entries, "p"), rejected);
        prop_assert_eq!(one.credentials(), all.credentials());
        prop_assert_eq!(one.keys(), all.keys());
        for image in &images {
            prop_assert_eq!(pairs(&one.lookup(image)), pairs(&all.lookup(image)), "image {:?}", image);
        }
    }

    #[test]
    fn image_responses_are_exact(groups in prop::collection::vec(arb_group(), 1..3), image in arb_image()) {
        let kr = build(&groups);
        let r = kr.response_auth(&image, CachePolicy::Image);
        let want = pairs(&kr.lookup(&image));
        let got = kubelet_view(&r.entries, &image);
        // Truncation only happens past the ladder's length, which these images never reach.
        prop_assert_eq!(got, want, "image {}", image);
    }

    #[test]
    fn cached_responses_stay_exact(groups in prop::collection::vec(arb_group(), 1..3),
                                   images in prop::collection::vec(arb_image(), 1..10),
                                   policy in prop::sample::select(&[CachePolicy::Auto, CachePolicy::Image,
                                                                    CachePolicy::Registry, CachePolicy::Global][..])) {
        let kr = build(&groups);
        // The kubelet's plugin cache (§e.5): bases image, registry, <global>; first hit wins.
        let mut cache: HashMap<String, ResponseAuth> = HashMap::new();
        for image in &images {
            let registry = image.split('/').next().unwrap_or("").to_owned();
            let hit = [image.clone(), registry.clone(), "<global>".to_owned()]
                .into_iter()
                .find_map(|b| cache.get(&b).cloned());
            let r = if let Some(r) = hit { r } else {
                    let r = kr.response_auth(image, policy);
                    let base = match r.cache_key_type {
                        CacheKeyType::Image => image.clone(),
                        CacheKeyType::Registry => registry,
                        CacheKeyType::Global => "<global>".to_owned(),
                    };
                    cache.insert(base, r.clone());
                    r
            };
            prop_assert_eq!(kubelet_view(&r.entries, image), linear(&kr, image), "image {} via {:?}", image, r.cache_key_type);
        }
    }
}
