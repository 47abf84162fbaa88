use super::*;

fn ok(raw: &str) -> (String, String) {
    let u = parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
    (u.host, u.path)
}

#[test]
fn parse_accepts_and_decodes() {
    let cases: &[(&str, &str, &str)] = &[
        ("https://quay.io", "quay.io", ""),
        ("https://quay.io/", "quay.io", "/"),
        ("https://Quay.IO/Foo", "Quay.IO", "/Foo"),
        ("https://quay.io/v1/", "quay.io", "/v1/"),
        ("http://registry:5000/team", "registry:5000", "/team"),
        ("https://registry?.io", "registry", ""),
        ("https://registry.io/a?b=c/d", "registry.io", "/a"),
        ("https://registry.io/a#frag/x", "registry.io", "/a"),
        ("https://registry.io#frag", "registry.io", ""),
        ("https://user:pass@registry.io/x", "registry.io", "/x"),
        ("https://a@b@registry.io", "registry.io", ""),
        ("https://registry.io/a%20b%2Fc", "registry.io", "/a b/c"),
        ("https://registry.io/a+b", "registry.io", "/a+b"),
        ("https://%C3%A9.io", "é.io", ""),
        ("https://é.io", "é.io", ""),
        ("https://a%25b", "a%b", ""),
        ("https://*.example.com", "*.example.com", ""),
        ("https://host:", "host:", ""),
        ("https://a:1:2", "a:1:2", ""),
        ("https://a!$&'()*+,;=<>\"~_-.b", "a!$&'()*+,;=<>\"~_-.b", ""),
        ("https://[::1]", "[::1]", ""),
        ("https://[::1]:5000/x", "[::1]:5000", "/x"),
        ("https://[fe80::1%25en0]:80", "[fe80::1%en0]:80", ""),
        ("https://[fe80::1%25%65n0]", "[fe80::1%en0]", ""),
        ("https://[::ffff:1.2.3.4]", "[::ffff:1.2.3.4]", ""),
        ("https://", "", ""),
        ("https://https://x", "https:", "//x"),
        ("HTTPS://x/y", "x", "/y"),
    ];
    for &(raw, host, path) in cases {
        assert_eq!(ok(raw), (host.to_owned(), path.to_owned()), "{raw}");
    }
    assert_eq!(parse("HTTPS://x").unwrap().scheme, "https");
    // Control bytes in the fragment are not checked by Go (only the part before `#`).
    assert_eq!(ok("https://x/a#\u{1}"), ("x".to_owned(), "/a".to_owned()));
}

#[test]
fn parse_rejects() {
    let cases: &[(&str, &str)] = &[
        ("https://bad host", "invalid character \" \" in host name"),
        ("https://a{b}", "invalid character \"{\" in host name"),
        ("https://a|b", "in host name"),
        ("https://a\\b", "in host name"),
        ("https://a^b", "in host name"),
        ("https://a`b", "in host name"),
        ("https://a%41b", "invalid URL escape \"%41\""),
        ("https://a%zzb", "invalid URL escape \"%zz\""),
        ("https://x/a%2", "invalid URL escape \"%2\""),
        ("https://x/a%", "invalid URL escape \"%\""),
        ("https://x/a%g0", "invalid URL escape \"%g0\""),
        ("https://x/a#%zz", "invalid URL escape \"%zz\""),
        ("https://x/a\u{7f}", "invalid control character"),
        ("https://x\n/a", "invalid control character"),
        ("https://x/\t", "invalid control character"),
        ("https://registry:abc", "invalid port \":abc\" after host"),
        ("https://registry:5000x/y", "invalid port \":5000x\" after host"),
        ("https://a:1:b", "invalid port \":b\" after host"),
        ("https://[::1", "missing ']' in host"),
        ("https://[::1]x", "invalid port \"x\" after host"),
        ("https://[::1]:8a", "invalid port \":8a\" after host"),
        ("https://[1.2.3.4]", "invalid IP-literal"),
        ("https://[v1.x]", "invalid host: ParseAddr"),
        ("https://[hostname]", "invalid host"),
        ("https://[::1%25]", "zone must be a non-empty string"),
        ("https://[fe80::1%25a%0A]", "invalid URL escape \"%0A\""),
        ("https://[::zz]", "invalid host"),
        ("https://a[::1]", "invalid IP-literal"),
        ("https://a.[::1]:80", "invalid IP-literal"),
        ("https://us er@host", "net/url: invalid userinfo"),
        ("https://u%zz@host", "invalid URL escape"),
        ("://x", "missing protocol scheme"),
    ];
    for &(raw, why) in cases {
        match parse(raw) {
            Ok(u) => panic!("{raw:?} parsed as {u:?}"),
            Err(e) => assert!(e.reason.contains(why), "{raw:?}: {e}"),
        }
    }
}

#[test]
fn relative_and_opaque_forms() {
    assert_eq!(ok("foo/bar"), (String::new(), "foo/bar".to_owned()));
    assert!(parse("1a:b/x").unwrap_err().reason.contains("first path segment"));
    assert!(parse("/a:b").is_ok());
    assert_eq!(parse("x:b/c").unwrap().scheme, "x");
    assert!(parse("./a:b").is_ok());
    assert!(parse("a/b:c").is_ok());
    assert!(parse(".a:b").unwrap_err().reason.contains("first path segment"));
    assert_eq!(ok("mailto:someone"), (String::new(), String::new()));
    assert_eq!(ok("*"), (String::new(), "*".to_owned()));
    assert_eq!(ok("//host/p"), ("host".to_owned(), "/p".to_owned()));
    assert_eq!(ok("///p"), (String::new(), "///p".to_owned()));
}

#[test]
fn schemeless_is_parse_with_https_prefix() {
    for s in [
        "quay.io/x",
        "a b",
        "x/%zz",
        "[::1]:80/p",
        "registry?.io",
        "u:p@h/x",
        "h#%zz",
        "",
        "h/a#b",
    ] {
        let a = parse_schemeless(s).map(|u| (u.host, u.path));
        let b = parse(&format!("https://{s}")).map(|u| (u.host, u.path));
        assert_eq!(a.is_ok(), b.is_ok(), "{s}");
        if let (Ok(a), Ok(b)) = (a, b) {
            assert_eq!(a, b, "{s}");
        }
    }
    assert_eq!(parse_schemeless("x").unwrap().scheme, "");
}

#[test]
fn errors_never_show_userinfo() {
    let e = parse("https://alice:s3cret@bad host/x").unwrap_err();
    assert!(!e.to_string().contains("s3cret"), "{e}");
    assert!(e.to_string().contains("***@bad host"), "{e}");
    let e = parse_schemeless("alice:s3cret@host:abc").unwrap_err();
    assert!(!e.to_string().contains("s3cret"), "{e}");
}

#[test]
fn split_host_port_follows_go() {
    let cases: &[(&str, (&str, &str))] = &[
        ("quay.io", ("quay.io", "")),
        ("quay.io:443", ("quay.io", "443")),
        ("quay.io:", ("quay.io", "")),
        (":80", ("", "80")),
        ("[::1]:80", ("::1", "80")),
        ("[::1]", ("[::1]", "")),
        ("[::1]80", ("[::1]80", "")),
        ("[::1]:80:90", ("[::1]:80:90", "")),
        ("a:b:c", ("a:b:c", "")),
        ("a]:80", ("a]:80", "")),
        ("a[:80", ("a[:80", "")),
        ("[a]b]:80", ("[a]b]:80", "")),
        ("[fe80::1%en0]:5000", ("fe80::1%en0", "5000")),
        ("", ("", "")),
    ];
    for &(hp, want) in cases {
        assert_eq!(split_host_port(hp), want, "{hp}");
    }
}

#[test]
fn escape_round_trips_through_parse() {
    for p in ["/a?b", "/a#b", "/a%b", "/a b", "/é", "/v2/x", "/a+b;c"] {
        let u = parse(&format!("https://h{}", escape_path(p))).unwrap();
        assert_eq!(u.path, p);
    }
    for h in ["a%b", "é.io", "*.x:80"] {
        let u = parse(&format!("https://{}", escape_host(h))).unwrap();
        assert_eq!(u.host, h);
    }
}

proptest::proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,40}", t in "[a-z%:@\\[\\]/?#.0-9A-F ]{0,30}") {
        let _ = parse(&s);
        let _ = parse_schemeless(&s);
        let _ = parse(&t);
        let _ = parse_schemeless(&t);
        let _ = split_host_port(&t);
        let _ = split_host_port(&s);
    }
}
