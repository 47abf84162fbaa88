// Section numbers (§) refer to docs/kubelet.md.

use super::*;

fn m(p: &str, t: &str) -> bool {
    urls_match_str(p, t)
}

#[test]
fn kubelet_test_urls_match() {
    // kubelet keyring_test.go TestURLsMatch (inputs and expectations).
    let cases: &[(&str, &str, bool)] = &[
        ("*.kubernetes.io", "prefix.kubernetes.io", true),
        ("prefix.*.io", "prefix.kubernetes.io", true),
        ("prefix.kubernetes.*", "prefix.kubernetes.io", true),
        ("*-good.kubernetes.io", "prefix-good.kubernetes.io", true),
        ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true),
        ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true),
        ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true),
        ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true),
        ("*.kubernetes.io", "kubernetes.io", false),
        ("*.*.kubernetes.io", "prefix.kubernetes.io", false),
        ("*.*.kubernetes.io", "kubernetes.io", false),
        ("*kubernetes.io", "a.kubernetes.io", false),
        ("*kubernetes.io", "kubernetes.io", true),
        ("*.*.*.kubernetes.io", "a.b.c.kubernetes.io", true),
        ("kubernetes.io", "kubernetes.com", false),
        ("k*.io", "quay.io", false),
        ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false),
        ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false),
    ];
    for &(p, t, want) in cases {
        assert_eq!(m(p, t), want, "URLsMatchStr({p:?}, {t:?})");
    }
}

#[test]
fn spec_c2_examples_and_edges() {
    let cases: &[(&str, &str, bool)] = &[
        // §c.2 step 5 examples
        ("*.k8s.io", "k8s.io", false),
        ("*k8s.io", "k8s.io", true),
        ("*.io", "a.b.io", false),
        ("k*.io", "quay.io", false),
        ("app*.k8s.io", "app1.k8s.io", true),
        ("k8s.*", "k8s.io", true),
        // partial labels
        ("registry-*.example.com", "registry-7.example.com/x", true),
        ("*-registry.example.com", "eu-registry.example.com/x", true),
        ("r*y.example.com", "registry.example.com", true),
        ("r*y.example.com", "registrx.example.com", false),
        // ports: string equality, no globbing
        ("registry:5000", "registry:5000/x", true),
        ("registry", "registry:5000/x", false),
        ("registry:5000", "registry/x", false),
        ("registry:*", "registry:5000/x", false),
        ("registry:05000", "registry:5000/x", false),
        ("registry:", "registry/x", true),
        // paths: plain string prefix, no globbing, "/" does not match an empty path
        ("quay.io/foo", "quay.io/foobar", true),
        ("quay.io/foo/", "quay.io/foo", false),
        ("quay.io/", "quay.io", false),
        ("quay.io/", "quay.io/x", true),
        ("quay.io/*", "quay.io/x", false),
        ("quay.io/*", "quay.io/*", true),
        ("quay.io/v2/x", "quay.io/x", false),
        // `?`, `#`, userinfo and percent escapes act through the URL parse
        ("registry?.io", "registry/x", true),
        ("registry?.io", "registry.io/x", false),
        ("quay.io#x", "quay.io/a", true),
        ("quay.io/a#x", "quay.io/ab", true),
        ("user:pw@quay.io", "quay.io/a", true),
        ("quay.io/a%20b", "quay.io/a b/c", true),
        ("quay.io/a%2", "quay.io/a", false),
        ("qu%61y.io", "quay.io", false),
        ("%C3%A9.io", "é.io", true),
        // schemes in patterns never match
        ("https://quay.io", "quay.io", false),
        ("http://quay.io", "quay.io/x", false),
        // the empty pattern never matches a real image
        ("", "quay.io/x", false),
        ("", "localhost/x", false),
        // case-sensitive
        ("Quay.io", "quay.io", false),
        // IPv6: without a port the bracketed host is a glob class and never matches
        ("[::1]:5000", "[::1]:5000/x", true),
        ("[::1]", "[::1]/x", false),
        ("[::1]:5000", "[::2]:5000/x", false),
        // malformed
        ("bad host", "bad host", false),
        ("quay.io", "bad host/x", false),
    ];
    for &(p, t, want) in cases {
        assert_eq!(m(p, t), want, "URLsMatchStr({p:?}, {t:?})");
    }
}

#[test]
fn mismatch_reasons() {
    let why = |p: &str, t: &str| explain_match(p, t).unwrap_err();
    assert_eq!(why("quay.io:5000", "quay.io/x").to_string(), r#"port "5000" != """#);
    assert_eq!(why("a.b.c", "b.c").to_string(), "3 labels, image has 2");
    assert_eq!(why("localhost", "a.b").to_string(), "1 label, image has 2");
    assert_eq!(
        why("quay.io/team", "quay.io/other/app").to_string(),
        r#"path "/team" is not a prefix of "/other/app""#
    );
    assert_eq!(
        why("k*.io", "quay.io").to_string(),
        r#"label 1 "k*" does not match "quay""#
    );
    assert_eq!(
        why("quay.c*", "quay.io").to_string(),
        r#"label 2 "c*" does not match "io""#
    );
    // `[` cannot appear in a host except as an IPv6 literal; a zone ending in `-` makes a bad class.
    assert!(matches!(why("a[.io", "a.io"), Mismatch::Unparseable { .. }));
    assert_eq!(
        why("[::1%25a-]", "x"),
        Mismatch::BadPattern {
            label: "[::1%a-]".to_owned()
        }
    );
    assert_eq!(
        why("[::1%25a-]", "x").to_string(),
        r#"label "[::1%a-]" is not a valid glob"#
    );
    assert!(matches!(
        why("bad host", "x"),
        Mismatch::Unparseable { what: "pattern", .. }
    ));
    assert!(matches!(
        why("x", "bad host"),
        Mismatch::Unparseable { what: "image", .. }
    ));
    // The kubelet stops at the first mismatching label: a bad glob after it is not reported.
    assert!(matches!(
        match_labels("x.a[", "y.b"),
        Err(Mismatch::Label { index: 0, .. })
    ));
    assert!(matches!(match_labels("y.a[", "y.b"), Err(Mismatch::BadPattern { .. })));
    // Check order: port before label count before path before labels.
    assert!(matches!(why("a.b:1/x", "c:2/y"), Mismatch::Port { .. }));
    assert!(matches!(why("a.b/x", "c/y"), Mismatch::LabelCount { .. }));
    assert!(matches!(why("a.b/x", "c.d/y"), Mismatch::PathPrefix { .. }));
    assert!(why("u:secret@bad host", "x").to_string().find("secret").is_none());
}

proptest::proptest! {

    #[test]
    fn never_panics(p in "\\PC{0,20}", n in "\\PC{0,20}", q in "[\\[\\]\\\\^*?a-c-]{0,10}") {
        let _ = filepath_match(&p, &n);
        let _ = filepath_match(&q, &n);
        let _ = explain_match(&p, &n);
        let _ = explain_match(&q, &p);
    }
}
