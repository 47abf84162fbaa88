use super::grammar::validate_digest;
use super::*;
use proptest::prelude::*;
use ReferenceErrorKind as K;

/// `n` lowercase hex digits.
fn hex(n: usize) -> String {
    "0123456789abcdef".chars().cycle().take(n).collect()
}

/// A well-formed sha256 digest.
fn sha256() -> String {
    format!("sha256:{}", hex(64))
}

fn parts(r: &Reference) -> (String, String, Option<String>, Option<String>) {
    (
        r.domain().to_owned(),
        r.path().to_owned(),
        r.tag().map(str::to_owned),
        r.digest().map(str::to_owned),
    )
}

// ------------------------------------------------------------------------------------------
// Raw Parse: valid inputs (docs/reference.md §1, §2, §7). (input, domain, path, tag, digest)

#[allow(clippy::type_complexity)]
fn raw_valid_rows() -> Vec<(String, String, String, Option<String>, Option<String>)> {
    let d = sha256();
    let s = |x: &str| x.to_owned();
    let label300 = "a".repeat(300);
    let rows = vec![
        (s("foo"), "", s("foo"), None, None),
        // §1: the domain is tried first in raw Parse.
        (s("foo/bar"), "foo", s("bar"), None, None),
        (s("a/a/a/a"), "a", s("a/a/a"), None, None),
        (s("1/2"), "1", s("2"), None, None),
        // §1: `_` can never be in a domain.
        (s("test_com/foo"), "", s("test_com/foo"), None, None),
        (s("foo_bar.com/baz"), "", s("foo_bar.com/baz"), None, None),
        // §1: a colon before the first `/` is a port only if a `/` follows.
        (s("test.com:5000"), "", s("test.com"), Some(s("5000")), None),
        (s("test:5000/repo"), "test:5000", s("repo"), None, None),
        (s("test.com/repo:tag"), "test.com", s("repo"), Some(s("tag")), None),
        (s("localhost:5000/foo"), "localhost:5000", s("foo"), None, None),
        (s("localhost:5000"), "", s("localhost"), Some(s("5000")), None),
        (s("localhost"), "", s("localhost"), None, None),
        (s("foo:5000/bar"), "foo:5000", s("bar"), None, None),
        (s("a:1/b:2"), "a:1", s("b"), Some(s("2")), None),
        // IPv6 hosts (distribution PR #3489): brackets, hex and colons only, loose.
        (s("[::1]:5000/foo"), "[::1]:5000", s("foo"), None, None),
        (s("[::1]/foo"), "[::1]", s("foo"), None, None),
        (
            s("[2001:db8::1]/repo:tag"),
            "[2001:db8::1]",
            s("repo"),
            Some(s("tag")),
            None,
        ),
        (s("[AbCd:EF01::1]:443/a/b"), "[AbCd:EF01::1]:443", s("a/b"), None, None),
        (s("[:]/foo"), "[:]", s("foo"), None, None),
        // No port range, IPv4 or label-length checks.
        (s("host:99999999/foo"), "host:99999999", s("foo"), None, None),
        (s("1.2.3.4.5/foo"), "1.2.3.4.5", s("foo"), None, None),
        (format!("{label300}.com/foo"), "LONG", s("foo"), None, None),
        (
            s("xn--bcher-kva.example/foo"),
            "xn--bcher-kva.example",
            s("foo"),
            None,
            None,
        ),
        // Uppercase is allowed in the domain and in the tag.
        (s("Foo/bar"), "Foo", s("bar"), None, None),
        (s("LOCALDOMAIN/debian"), "LOCALDOMAIN", s("debian"), None, None),
        (s("FOO.com/bar"), "FOO.com", s("bar"), None, None),
        (s("Docker.io/foo"), "Docker.io", s("foo"), None, None),
        (s("docker.io:443/foo"), "docker.io:443", s("foo"), None, None),
        (s("foo:TAG"), "", s("foo"), Some(s("TAG")), None),
        // Tags: start with \w, may end in `.` or `-`.
        (s("foo:_tag"), "", s("foo"), Some(s("_tag")), None),
        (s("foo:tag."), "", s("foo"), Some(s("tag.")), None),
        (s("foo:tag-"), "", s("foo"), Some(s("tag-")), None),
        (s("foo:v1.0-rc_1"), "", s("foo"), Some(s("v1.0-rc_1")), None),
        (
            format!("foo:{}", "t".repeat(128)),
            "",
            s("foo"),
            Some("t".repeat(128)),
            None,
        ),
        // Digests.
        (format!("foo@{d}"), "", s("foo"), None, Some(d.clone())),
        (format!("foo:tag@{d}"), "", s("foo"), Some(s("tag")), Some(d.clone())),
        (
            format!("foo@sha384:{}", hex(96)),
            "",
            s("foo"),
            None,
            Some(format!("sha384:{}", hex(96))),
        ),
        (
            format!("foo@sha512:{}", hex(128)),
            "",
            s("foo"),
            None,
            Some(format!("sha512:{}", hex(128))),
        ),
        (
            format!("a:1/b.c-d__e/f_g:V1@{d}"),
            "a:1",
            s("b.c-d__e/f_g"),
            Some(s("V1")),
            Some(d.clone()),
        ),
        // Separators: ".", "_", "__", "-+".
        (s("a__b"), "", s("a__b"), None, None),
        (s("a---b"), "", s("a---b"), None, None),
        (s("a.b"), "", s("a.b"), None, None),
        (s("a_b"), "", s("a_b"), None, None),
        (s("a-b"), "", s("a-b"), None, None),
        (s("a.b_c__d-e--f/g"), "", s("a.b_c__d-e--f/g"), None, None),
        // Length: the path only, up to 255 (v0.6).
        ("a".repeat(255), "", "a".repeat(255), None, None),
        (
            format!("example.com/{}", "a".repeat(255)),
            "example.com",
            "a".repeat(255),
            None,
            None,
        ),
        (
            format!("{label300}.com:5000/{}", "a".repeat(255)),
            "LONG",
            "a".repeat(255),
            None,
            None,
        ),
        // A bare identifier is a valid raw reference.
        (hex(64), "", hex(64), None, None),
    ];
    rows.into_iter()
        .map(|(input, domain, path, tag, digest)| {
            // "LONG": the 300-character label domain, i.e. everything before the first `/`.
            let domain = if domain == "LONG" {
                input.split('/').next().unwrap()
            } else {
                domain
            };
            let domain = domain.to_owned();
            (input, domain, path, tag, digest)
        })
        .collect()
}

#[test]
fn raw_parse_valid_table() {
    for (input, domain, path, tag, digest) in raw_valid_rows() {
        let r = parse(&input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"));
        assert_eq!(parts(&r), (domain, path, tag, digest), "{input:?}");
        assert_eq!(r.to_string(), input, "String() reproduces the input");
    }
}

fn raw_invalid_rows() -> Vec<(String, K)> {
    let d = sha256();
    let upper = hex(64).to_uppercase();
    let rows: Vec<(String, K)> = vec![
        (String::new(), K::NameEmpty),
        // IPv6: no dots, no zone, not empty, brackets need a path after them.
        ("::1/foo".into(), K::InvalidFormat),
        ("[::ffff:192.0.2.128]/bar".into(), K::InvalidFormat),
        ("[fe80::1%eth0]:5000/x".into(), K::InvalidFormat),
        ("[]/foo".into(), K::InvalidFormat),
        ("[2001:db8::1]".into(), K::InvalidFormat),
        ("[2001:db8::1]:5000".into(), K::InvalidFormat),
        ("[2001:db8::1]:tag".into(), K::InvalidFormat),
        ("[::1]:/foo".into(), K::InvalidFormat),
        ("[::1]:abc/foo".into(), K::InvalidFormat),
        ("[::1]x/foo".into(), K::InvalidFormat),
        ("[::1/foo".into(), K::InvalidFormat),
        ("[g::1]/foo".into(), K::InvalidFormat),
        // A colon that is neither a port (no digits) nor a tag (a `/` follows).
        ("a:b/c".into(), K::InvalidFormat),
        ("host:/foo".into(), K::InvalidFormat),
        ("-foo.com/bar".into(), K::InvalidFormat),
        ("foo-.com/bar".into(), K::InvalidFormat),
        ("foo..com/bar".into(), K::InvalidFormat),
        // Uppercase in the path: lowercasing the whole input makes it match.
        ("foo/Bar".into(), K::NameContainsUppercase),
        ("FOO".into(), K::NameContainsUppercase),
        ("Foo:bar".into(), K::NameContainsUppercase),
        ("FOO:TAG".into(), K::NameContainsUppercase),
        (format!("FOO@{d}"), K::NameContainsUppercase),
        ("FOO:tég".into(), K::InvalidFormat),
        ("FOO_/bar".into(), K::InvalidFormat),
        // Go lowercases with Unicode simple case mapping: KELVIN SIGN → k, U+0130 → i.
        ("\u{212A}".into(), K::NameContainsUppercase),
        ("foo/\u{0130}".into(), K::NameContainsUppercase),
        ("É".into(), K::InvalidFormat),
        // Digests: reference regexp first, then go-digest (§5).
        (format!("foo@sha256:{upper}"), K::DigestInvalidFormat),
        (format!("foo@SHA256:{}", hex(64)), K::DigestInvalidFormat),
        (format!("foo@Sha256:{}", hex(64)), K::DigestInvalidFormat),
        (format!("foo@md5:{}", hex(32)), K::DigestUnsupported),
        (format!("validname@invaliddigest:{}", hex(64)), K::DigestUnsupported),
        (format!("foo@sha256-x.y+z_w:{}", hex(64)), K::DigestUnsupported),
        (format!("foo@sha256:{}", hex(31)), K::InvalidFormat),
        (format!("foo@sha256:{}", hex(32)), K::DigestInvalidLength),
        (format!("foo@sha256:{}", hex(63)), K::DigestInvalidLength),
        (format!("foo@sha256:{}", hex(65)), K::DigestInvalidLength),
        (format!("foo@sha512:{}", hex(64)), K::DigestInvalidLength),
        (format!("foo@sha384:{}", hex(64)), K::DigestInvalidLength),
        (format!("foo@sha256:{}g", hex(63)), K::InvalidFormat),
        (
            "foo@sha256+b64:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564".into(),
            K::InvalidFormat,
        ),
        (format!("foo@1sha:{}", hex(64)), K::InvalidFormat),
        (format!("foo@sha256:{}:", hex(64)), K::InvalidFormat),
        (format!("foo@{d}@{d}"), K::InvalidFormat),
        (format!("foo:tag@{d}@x"), K::InvalidFormat),
        (format!("foo@{d}:tag"), K::InvalidFormat),
        // Tags.
        (format!("foo:{}", "t".repeat(129)), K::InvalidFormat),
        ("foo:.tag".into(), K::InvalidFormat),
        ("foo:-tag".into(), K::InvalidFormat),
        ("foo:".into(), K::InvalidFormat),
        ("foo@".into(), K::InvalidFormat),
        ("foo:@".into(), K::InvalidFormat),
        ("foo:a:b".into(), K::InvalidFormat),
        ("foo:a/b".into(), K::InvalidFormat),
        // ASCII classes only, whole-string match.
        ("foo:tég".into(), K::InvalidFormat),
        ("foo\n".into(), K::InvalidFormat),
        (" foo".into(), K::InvalidFormat),
        ("foo ".into(), K::InvalidFormat),
        ("fóo".into(), K::InvalidFormat),
        // Separators.
        ("a..b".into(), K::InvalidFormat),
        ("a___b".into(), K::InvalidFormat),
        ("a-.b".into(), K::InvalidFormat),
        ("a._b".into(), K::InvalidFormat),
        ("a_-b".into(), K::InvalidFormat),
        ("a-_b".into(), K::InvalidFormat),
        (".a".into(), K::InvalidFormat),
        ("a.".into(), K::InvalidFormat),
        ("_a".into(), K::InvalidFormat),
        ("a_".into(), K::InvalidFormat),
        ("-a".into(), K::InvalidFormat),
        ("a-".into(), K::InvalidFormat),
        ("foo/".into(), K::InvalidFormat),
        ("/foo".into(), K::InvalidFormat),
        ("foo//bar".into(), K::InvalidFormat),
        ("/".into(), K::InvalidFormat),
        (":".into(), K::InvalidFormat),
        ("@".into(), K::InvalidFormat),
        // Length: path only; checked before the digest.
        ("a".repeat(256), K::NameTooLong),
        (format!("example.com/{}", "a".repeat(256)), K::NameTooLong),
        (format!("{}@sha256:{}", "a".repeat(256), hex(32)), K::NameTooLong),
    ];
    rows
}

#[test]
fn raw_parse_invalid_table() {
    for (input, kind) in raw_invalid_rows() {
        let err = parse(&input).expect_err(&input);
        assert_eq!(err.kind, kind, "{input:?}");
        assert_eq!(err.input, input);
    }
}

// ------------------------------------------------------------------------------------------
// ParseNormalizedNamed / ParseDockerRef / familiar forms (docs/reference.md §3, §7).
// (input, domain, path, tag, digest, docker_ref, familiar string, familiar name)

#[test]
fn normalized_valid_table() {
    // input | domain | path | tag | digest | ParseDockerRef | FamiliarString   ("-" = none;
    // {D} = sha256:<64 hex>, {ID} = <64 hex>, {A247} = 247 × "a").
    let rows = [
            "ubuntu | docker.io | library/ubuntu | - | - | docker.io/library/ubuntu:latest | ubuntu",
            "localhost:5000/foo | localhost:5000 | foo | - | - | localhost:5000/foo:latest | localhost:5000/foo",
            // No `/`: a Docker Hub official image, before any host detection.
            "localhost:5000 | docker.io | library/localhost | 5000 | - | docker.io/library/localhost:5000 | localhost:5000",
            "localhost | docker.io | library/localhost | - | - | docker.io/library/localhost:latest | localhost",
            "example.com | docker.io | library/example.com | - | - | docker.io/library/example.com:latest | example.com",
            "test.com | docker.io | library/test.com | - | - | docker.io/library/test.com:latest | test.com",
            "foo:5000 | docker.io | library/foo | 5000 | - | docker.io/library/foo:5000 | foo:5000",
            "localhost/foo | localhost | foo | - | - | localhost/foo:latest | localhost/foo",
            "foo:5000/bar | foo:5000 | bar | - | - | foo:5000/bar:latest | foo:5000/bar",
            "[::1]:5000/foo | [::1]:5000 | foo | - | - | [::1]:5000/foo:latest | [::1]:5000/foo",
            "[::1]/foo | [::1] | foo | - | - | [::1]/foo:latest | [::1]/foo",
            "127.0.0.1:5000/a/b | 127.0.0.1:5000 | a/b | - | - | 127.0.0.1:5000/a/b:latest | 127.0.0.1:5000/a/b",
            "docker.io/library/foo | docker.io | library/foo | - | - | docker.io/library/foo:latest | foo",
            "docker.io/foo | docker.io | library/foo | - | - | docker.io/library/foo:latest | foo",
            "index.docker.io/foo | docker.io | library/foo | - | - | docker.io/library/foo:latest | foo",
            "library/foo | docker.io | library/foo | - | - | docker.io/library/foo:latest | foo",
            "index.docker.io/library/foo/bar | docker.io | library/foo/bar | - | - | docker.io/library/foo/bar:latest | library/foo/bar",
            "docker.io/dmcgowan/app | docker.io | dmcgowan/app | - | - | docker.io/dmcgowan/app:latest | dmcgowan/app",
            "dmcgowan/app:v2 | docker.io | dmcgowan/app | v2 | - | docker.io/dmcgowan/app:v2 | dmcgowan/app:v2",
            // Case-sensitive comparisons: third-party domains, no `library/`.
            "registry-1.docker.io/foo | registry-1.docker.io | foo | - | - | registry-1.docker.io/foo:latest | registry-1.docker.io/foo",
            "Docker.io/foo | Docker.io | foo | - | - | Docker.io/foo:latest | Docker.io/foo",
            "INDEX.DOCKER.IO/foo | INDEX.DOCKER.IO | foo | - | - | INDEX.DOCKER.IO/foo:latest | INDEX.DOCKER.IO/foo",
            "docker.io:443/foo | docker.io:443 | foo | - | - | docker.io:443/foo:latest | docker.io:443/foo",
            // An uppercase first segment is a domain (v0.5.0+); tags may be uppercase.
            "Foo/bar | Foo | bar | - | - | Foo/bar:latest | Foo/bar",
            "LOCALDOMAIN/debian | LOCALDOMAIN | debian | - | - | LOCALDOMAIN/debian:latest | LOCALDOMAIN/debian",
            "foo:TAG | docker.io | library/foo | TAG | - | docker.io/library/foo:TAG | foo:TAG",
            "foo/bar:Tag | docker.io | foo/bar | Tag | - | docker.io/foo/bar:Tag | foo/bar:Tag",
            // Tag and digest: both kept; ParseDockerRef drops the tag.
            "foo:tag@{D} | docker.io | library/foo | tag | {D} | docker.io/library/foo@{D} | foo:tag@{D}",
            "gcr.io/x:latest@{D} | gcr.io | x | latest | {D} | gcr.io/x@{D} | gcr.io/x:latest@{D}",
            "busybox@{D} | docker.io | library/busybox | - | {D} | docker.io/library/busybox@{D} | busybox@{D}",
            // `library/` counts towards 255 (247 + 8).
            "{A247} | docker.io | library/{A247} | - | - | docker.io/library/{A247}:latest | {A247}",
            // Identifiers are refused only when bare.
            "docker.io/{ID} | docker.io | library/{ID} | - | - | docker.io/library/{ID}:latest | {ID}",
            "{ID}:latest | docker.io | library/{ID} | latest | - | docker.io/library/{ID}:latest | {ID}:latest",
            // `sha256:<hex>` is a Docker Hub image `sha256` with a 64-character tag.
            "sha256:{ID} | docker.io | library/sha256 | {ID} | - | docker.io/library/sha256:{ID} | sha256:{ID}",
            // The heuristic picks `foo_bar.com`, but Parse re-derives the domain: none.
            "foo_bar.com/baz |  | foo_bar.com/baz | - | - | foo_bar.com/baz:latest | foo_bar.com/baz",
        ];
    let (d, id, a247) = (sha256(), hex(64), "a".repeat(247));
    for row in rows {
        let row = row.replace("{D}", &d).replace("{ID}", &id).replace("{A247}", &a247);
        let cols: Vec<&str> = row.split(" | ").map(str::trim).collect();
        let [input, domain, path, tag, digest, docker_ref, familiar] = cols[..] else {
            panic!("bad row {row}");
        };
        let opt = |x: &str| (x != "-").then(|| x.to_owned());
        let r = parse_normalized_named(input).unwrap_or_else(|e| panic!("{input:?} should normalise: {e}"));
        let want = (domain.to_owned(), path.to_owned(), opt(tag), opt(digest));
        assert_eq!(parts(&r), want, "{input:?}");
        assert_eq!(r.docker_ref().to_string(), docker_ref, "{input:?}");
        assert_eq!(parse_docker_ref(input).unwrap().to_string(), docker_ref, "{input:?}");
        assert_eq!(r.familiar_string(), familiar, "{input:?}");
        // FamiliarName = FamiliarString without the tag/digest suffix.
        let familiar_name = familiar.split('@').next().unwrap();
        let familiar_name = match tag {
            "-" => familiar_name,
            t => familiar_name.strip_suffix(&format!(":{t}")).unwrap(),
        };
        assert_eq!(r.familiar_name(), familiar_name, "{input:?}");
        let name = if domain.is_empty() {
            path.to_owned()
        } else {
            format!("{domain}/{path}")
        };
        assert_eq!(r.name(), name, "{input:?}");
    }
}

#[test]
fn normalized_invalid_table() {
    let d = sha256();
    let rows: Vec<(String, K)> = vec![
        // Not NameEmpty: "" becomes "docker.io/library/".
        (String::new(), K::InvalidFormat),
        (hex(64), K::NormalizedNameIsIdentifier),
        ("foo/Bar".into(), K::NormalizedNameNotLowercase),
        ("FOO".into(), K::NormalizedNameNotLowercase),
        ("Foo/Bar".into(), K::NormalizedNameNotLowercase),
        ("localhost:5000/Foo".into(), K::NormalizedNameNotLowercase),
        ("[::1]/Foo".into(), K::NormalizedNameNotLowercase),
        ("é/Foo".into(), K::NormalizedNameNotLowercase),
        // Go's strings.ToLower is Unicode-aware: non-ASCII uppercase/titlecase counts too.
        ("foo/É".into(), K::NormalizedNameNotLowercase),
        ("foo/\u{01C5}".into(), K::NormalizedNameNotLowercase),
        ("\u{212A}/foo".into(), K::NameContainsUppercase),
        // The cut is at the first `:`, so a digest algorithm is checked when there is no tag.
        (format!("foo@SHA256:{}", hex(64)), K::NormalizedNameNotLowercase),
        (format!("foo@sha256:{}", hex(64).to_uppercase()), K::DigestInvalidFormat),
        (format!("foo:tag@SHA256:{}", hex(64)), K::DigestInvalidFormat),
        (format!("foo@md5:{}", hex(32)), K::DigestUnsupported),
        (format!("foo@sha256:{}", hex(40)), K::DigestInvalidLength),
        // Uppercase domain picked by the heuristic, but `_` makes it a path: Parse's sentinel.
        ("Foo_bar/x".into(), K::NameContainsUppercase),
        ("É/foo".into(), K::InvalidFormat),
        ("a:b/c".into(), K::InvalidFormat),
        ("foo:tég".into(), K::InvalidFormat),
        (format!("foo:{}", "t".repeat(129)), K::InvalidFormat),
        ("/foo".into(), K::InvalidFormat),
        ("foo/".into(), K::InvalidFormat),
        (format!("foo@{d}:x"), K::InvalidFormat),
        ("a".repeat(248), K::NameTooLong),
        (format!("docker.io/{}", "a".repeat(248)), K::NameTooLong),
        (format!("example.com/{}", "a".repeat(256)), K::NameTooLong),
    ];
    for (input, kind) in rows {
        let err = parse_normalized_named(&input).expect_err(&input);
        assert_eq!(err.kind, kind, "{input:?}");
        assert_eq!(err.input, input, "errors name the caller's input");
        assert_eq!(parse_docker_ref(&input).expect_err(&input), err);
    }
}

/// Input/outcome facts from distribution/reference `reference_test.go` (v0.6 tables):
/// `input | domain | name | tag | digest`, or `input | !error_code`.
#[test]
fn upstream_parse_vectors() {
    let f64 = "f".repeat(64);
    let f128 = "f".repeat(128);
    let rows = [
            "test_com |  | test_com | - | -",
            "test.com:tag |  | test.com | tag | -",
            "test:5000/repo:tag@sha256:{F64} | test:5000 | test:5000/repo | tag | sha256:{F64}",
            ":justtag | !invalid_format",
            "@sha256:{F64} | !invalid_format",
            "repo@sha256:ffffffffffffffffffffffffffffffffff | !digest_invalid_length",
            "validname@invaliddigest:{F64} | !digest_unsupported",
            "Uppercase:tag | !name_contains_uppercase",
            "test:5000/Uppercase/lowercase:tag | !name_contains_uppercase",
            "lowercase:Uppercase |  | lowercase | Uppercase | -",
            "domain/{A256}:tag | !name_too_long",
            "example.com/{A255}:tag | example.com | example.com/{A255} | tag | -",
            "aa/asdf$$^/aa | !invalid_format",
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag | sub-dom1.foo.com | sub-dom1.foo.com/bar/baz/quux | some-long-tag | -",
            "b.gcr.io/test.example.com/my-app:test.example.com | b.gcr.io | b.gcr.io/test.example.com/my-app | test.example.com | -",
            "xn--7o8h.com/myimage:xn--7o8h.com@sha512:{F128} | xn--7o8h.com | xn--7o8h.com/myimage | xn--7o8h.com | sha512:{F128}",
            "foo_bar.com:8080 |  | foo_bar.com | 8080 | -",
            "foo/foo_bar.com:8080 | foo | foo/foo_bar.com | 8080 | -",
            "192.168.1.1:5000 |  | 192.168.1.1 | 5000 | -",
            "192.168.1.1:5000/repo:5050 | 192.168.1.1:5000 | 192.168.1.1:5000/repo | 5050 | -",
            "[2001:db8:1:2:3:4:5:6]/repo:tag | [2001:db8:1:2:3:4:5:6] | [2001:db8:1:2:3:4:5:6]/repo | tag | -",
            "[2001:db8::]:5000/repo | [2001:db8::]:5000 | [2001:db8::]:5000/repo | - | -",
            "[fe80::1%@invalidzone]:5000/repo | !invalid_format",
        ];
    let (a255, a256) = ("a".repeat(255), "a".repeat(256));
    let mut long = "a/".repeat(127);
    long.push('a');
    let extra = format!("{long}:tag-puts-this-over-max | a | {long} | tag-puts-this-over-max | -");
    for row in rows.iter().copied().chain([extra.as_str()]) {
        let row = row
            .replace("{F64}", &f64)
            .replace("{F128}", &f128)
            .replace("{A255}", &a255)
            .replace("{A256}", &a256);
        let cols: Vec<&str> = row.split(" | ").map(str::trim).collect();
        let input = cols[0];
        check_against_oracle(input);
        if let Some(code) = cols[1].strip_prefix('!') {
            assert_eq!(parse(input).unwrap_err().kind.code(), code, "{input:?}");
            continue;
        }
        let r = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        let opt = |x: &str| (x != "-").then(|| x.to_owned());
        assert_eq!(r.domain(), cols[1], "{input:?}");
        assert_eq!(r.name(), cols[2], "{input:?}");
        assert_eq!(
            (r.tag().map(str::to_owned), r.digest().map(str::to_owned)),
            (opt(cols[3]), opt(cols[4]))
        );
        assert_eq!(r.to_string(), input);
    }
}

/// Facts from distribution/reference `normalize_test.go`: names `ParseNormalizedNamed` accepts or
/// refuses, and (familiar | full | ambiguous) spellings that normalise to one repository.
#[test]
fn upstream_normalize_vectors() {
    let id = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
    for ok in [
        "docker/docker",
        "library/debian",
        "debian",
        "docker.io/docker/docker",
        "index.docker.io/debian",
        "127.0.0.1:5000/library/debian",
        "192.168.0.1",
        "192.168.0.1:80",
        "192.168.0.1:8/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "[fc00::1]:5000/docker/docker",
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        &format!("docker.io/{id}"),
        "Docker/docker",
        "DOCKER/docker",
        "docker---rules/docker",
        "d/docker",
        "dock__er/docker",
    ] {
        assert!(parse_normalized_named(ok).is_ok(), "{ok:?}");
    }
    for bad in [
        "https://github.com/docker/docker",
        "docker/Docker",
        "-docker",
        "-docker/docker",
        "-docker.io/docker/docker",
        "docker///docker",
        "docker.io/docker/Docker",
        "[fc00::1]",
        "[fc00::1]:5000",
        "fc00::1:5000/debian",
        "[fe80::1%eth0]:5000/debian",
        "[2001:db8:3:4::192.0.2.33]:5000/debian",
        id,
        "docker-/docker",
        "____/____",
        "_docker/_docker",
        "dock_.er/docker",
        "docker/",
        "-foo",
    ] {
        assert!(parse_normalized_named(bad).is_err(), "{bad:?}");
    }
    // familiar | full | ambiguous (or "") | domain | path
    let rows = [
            "fooo/bar | docker.io/fooo/bar | index.docker.io/fooo/bar | docker.io | fooo/bar",
            "ubuntu | docker.io/library/ubuntu | library/ubuntu | docker.io | library/ubuntu",
            "other/library | docker.io/other/library |  | docker.io | other/library",
            "127.0.0.1:8000/privatebase | 127.0.0.1:8000/privatebase |  | 127.0.0.1:8000 | privatebase",
            "example.com:8000/private/moonbase | example.com:8000/private/moonbase |  | example.com:8000 | private/moonbase",
            "ubuntu-12.04-base | docker.io/library/ubuntu-12.04-base | index.docker.io/library/ubuntu-12.04-base | docker.io | library/ubuntu-12.04-base",
            "foo | docker.io/library/foo | docker.io/foo | docker.io | library/foo",
            "library/foo/bar | docker.io/library/foo/bar |  | docker.io | library/foo/bar",
            "store/foo/bar | docker.io/store/foo/bar |  | docker.io | store/foo/bar",
            "FOO/bar | FOO/bar |  | FOO | bar",
        ];
    for row in rows {
        let [familiar, full, ambiguous, domain, path] = row.split(" | ").map(str::trim).collect::<Vec<_>>()[..] else {
            panic!("bad row {row}");
        };
        for spelling in [familiar, full, ambiguous].into_iter().filter(|x| !x.is_empty()) {
            let r = parse_normalized_named(spelling).unwrap_or_else(|e| panic!("{spelling:?}: {e}"));
            assert_eq!((r.domain(), r.path()), (domain, path), "{spelling:?}");
            assert_eq!(r.to_string(), full, "{spelling:?}");
            assert_eq!(r.familiar_name(), familiar, "{spelling:?}");
        }
    }
    let short = "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
    let r = parse_normalized_named(short).unwrap();
    assert_eq!(r.to_string(), format!("docker.io/library/{short}"));
    assert_eq!(r.familiar_string(), short);
}

#[test]
fn parse_named_canonical_only() {
    let d = sha256();
    for ok in [
        "docker.io/library/foo".to_owned(),
        "docker.io/library/foo:tag".to_owned(),
        "localhost/foo".to_owned(),
        "Foo/bar".to_owned(),
        format!("gcr.io/a/b:t@{d}"),
    ] {
        assert_eq!(parse_named(&ok).unwrap().to_string(), ok);
    }
    for not_canonical in [
        "foo",
        "library/foo",
        "docker.io/foo",
        "index.docker.io/library/foo",
        "test.com",
    ] {
        assert_eq!(
            parse_named(not_canonical).unwrap_err().kind,
            K::NameNotCanonical,
            "{not_canonical}"
        );
    }
    // Normalisation errors pass through.
    assert_eq!(parse_named("").unwrap_err().kind, K::InvalidFormat);
    assert_eq!(parse_named("FOO").unwrap_err().kind, K::NormalizedNameNotLowercase);
}

#[test]
fn identifier_rule() {
    assert!(is_identifier(&hex(64)));
    assert!(!is_identifier(&hex(63)));
    assert!(!is_identifier(&hex(65)));
    assert!(!is_identifier(&hex(64).to_uppercase()));
    assert!(!is_identifier(&format!("{}g", hex(63))));
    assert!(!is_identifier(""));
}

// ------------------------------------------------------------------------------------------
// go-digest (docs/reference.md §5), directly.

#[test]
fn go_digest_validate_table() {
    let rows: Vec<(String, Result<(), K>)> = vec![
        (sha256(), Ok(())),
        (format!("sha384:{}", hex(96)), Ok(())),
        (format!("sha512:{}", hex(128)), Ok(())),
        // Length is checked before the character set.
        (
            "sha256:d41d8cd98f00b204e9800m98ecf8427e".into(),
            Err(K::DigestInvalidLength),
        ),
        (
            format!("sha256:{}", hex(64).to_uppercase()),
            Err(K::DigestInvalidFormat),
        ),
        (format!("sha256:{}z", hex(63)), Err(K::DigestInvalidFormat)),
        (format!("sha512:{}", hex(64)), Err(K::DigestInvalidLength)),
        ("sha256".into(), Err(K::DigestInvalidFormat)),
        (format!(":{}", hex(64)), Err(K::DigestInvalidFormat)),
        ("sha256:".into(), Err(K::DigestInvalidFormat)),
        (String::new(), Err(K::DigestInvalidFormat)),
        // Unknown algorithm: Unsupported iff the whole string fits go-digest's DigestRegexp.
        (
            "sha256+b64:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564".into(),
            Err(K::DigestUnsupported),
        ),
        (format!("md5:{}", hex(32)), Err(K::DigestUnsupported)),
        ("a.b+c_d-e:=".into(), Err(K::DigestUnsupported)),
        (format!("SHA256:{}", hex(64)), Err(K::DigestInvalidFormat)),
        ("md5:a:b".into(), Err(K::DigestInvalidFormat)),
        ("md5:a b".into(), Err(K::DigestInvalidFormat)),
        (".md5:ab".into(), Err(K::DigestInvalidFormat)),
        ("md5..x:ab".into(), Err(K::DigestInvalidFormat)),
    ];
    for (input, want) in rows {
        assert_eq!(validate_digest(&input), want, "{input:?}");
    }
}

// ------------------------------------------------------------------------------------------
// Errors (docs/reference.md §4).

#[test]
fn error_codes_are_stable_and_distinct() {
    let want = [
        "invalid_format",
        "tag_invalid_format",
        "reference_digest_invalid_format",
        "name_contains_uppercase",
        "name_empty",
        "name_too_long",
        "name_not_canonical",
        "digest_invalid_format",
        "digest_invalid_length",
        "digest_unsupported",
        "normalized_name_not_lowercase",
        "normalized_name_is_identifier",
    ];
    let got: Vec<&str> = K::ALL.iter().map(|k| k.code()).collect();
    assert_eq!(got, want);
    let messages: std::collections::HashSet<&str> = K::ALL.iter().map(|k| k.go_message()).collect();
    assert_eq!(
        messages.len(),
        K::ALL.len(),
        "the two 'digest format' errors stay distinct"
    );
}

#[test]
fn error_display() {
    let show = |r: Result<Reference, ReferenceError>| r.unwrap_err().to_string();
    assert_eq!(
        show(parse("")),
        r#"invalid reference "": repository name must have at least one component"#
    );
    assert_eq!(
        show(parse("FOO")),
        r#"invalid reference "FOO": repository name must be lowercase"#
    );
    assert_eq!(
        show(parse("foo\n")),
        r#"invalid reference "foo\n": invalid reference format"#
    );
    assert_eq!(
        show(parse(&"a".repeat(256))),
        format!(
            r#"invalid reference "{}": repository name must not be more than 255 characters"#,
            "a".repeat(256)
        )
    );
    assert_eq!(
        show(parse(&format!("foo@sha256:{}", hex(32)))),
        format!(
            r#"invalid reference "foo@sha256:{}": invalid checksum digest length"#,
            hex(32)
        )
    );
    assert_eq!(
        show(parse(&format!("foo@md5:{}", hex(32)))),
        format!(
            r#"invalid reference "foo@md5:{}": unsupported digest algorithm"#,
            hex(32)
        )
    );
    assert_eq!(
        show(parse(&format!("foo@sha256:{}", hex(64).to_uppercase()))),
        format!(
            r#"invalid reference "foo@sha256:{}": invalid checksum digest format"#,
            hex(64).to_uppercase()
        )
    );
    assert_eq!(
        show(parse_named("foo")),
        r#"invalid reference "foo": repository name must be canonical"#
    );
    assert_eq!(
        show(parse_normalized_named(&hex(64))),
        format!(
            r#"invalid reference "{0}": invalid repository name ({0}), cannot specify 64-byte hexadecimal strings"#,
            hex(64)
        )
    );
    // X is the normalised remainder up to its first `:` (so `library/` and the algorithm are in it).
    assert_eq!(
        show(parse_normalized_named(&format!("foo@SHA256:{}", hex(64)))),
        format!(
            r#"invalid reference "foo@SHA256:{}": invalid reference format: repository name (library/foo@SHA256) must be lowercase"#,
            hex(64)
        )
    );
    assert_eq!(
        show(parse_normalized_named("Foo/Bar:Tag")),
        r#"invalid reference "Foo/Bar:Tag": invalid reference format: repository name (Bar) must be lowercase"#
    );
    assert_eq!(
        show(parse_normalized_named("FOO_/bar")),
        r#"invalid reference "FOO_/bar": invalid reference format"#
    );
    // A non-ASCII first segment with a `.` or `:` is still taken as the host, so X is what follows it.
    for (input, x) in [("é.com/Foo", "Foo"), ("é:1/Foo", "Foo"), ("é/Foo", "é/Foo")] {
        let msg = show(parse_normalized_named(input));
        assert!(
            msg.ends_with(&format!("repository name ({x}) must be lowercase")),
            "{msg}"
        );
    }
    // A control character in X stays escaped: one line.
    let msg = show(parse_normalized_named("a/B\nc"));
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.ends_with(r"repository name (a/B\nc) must be lowercase"), "{msg}");
}

#[test]
fn docker_ref_and_helpers() {
    let d = sha256();
    let r = parse(&format!("foo:tag@{d}")).unwrap();
    assert_eq!(r.docker_ref().to_string(), format!("foo@{d}"));
    assert!(!r.is_name_only());
    let r = parse("foo").unwrap();
    assert!(r.is_name_only());
    assert_eq!(r.docker_ref().tag(), Some("latest"));
    assert_eq!(r.docker_ref().docker_ref(), r.docker_ref());
    let r = parse("foo:v1").unwrap();
    assert_eq!(r.docker_ref(), r);
    assert!(!r.is_name_only());
    assert!(!parse(&format!("foo@{d}")).unwrap().is_name_only());
    // Raw references keep an empty domain; name() is then the path.
    assert_eq!(parse("foo_bar/baz").unwrap().name(), "foo_bar/baz");
    assert_eq!(parse("a.io/b/c:t").unwrap().name(), "a.io/b/c");
    // Familiar forms only touch `docker.io`.
    assert_eq!(parse("docker.io/library/foo:t").unwrap().familiar_string(), "foo:t");
    assert_eq!(
        parse("Docker.io/library/foo").unwrap().familiar_string(),
        "Docker.io/library/foo"
    );
    assert_eq!(parse("docker.io/library/a/b").unwrap().familiar_name(), "library/a/b");
}

/// The derived forms of docs/reference.md §3 computed from the four parts alone (Go's `String()`, `Name()`,
/// `ParseDockerRef`, `FamiliarString`), to check the slices of the one-string layout against.
fn model_forms(r: &Reference) -> (String, String, String, String) {
    let (domain, path, tag, digest) = parts(r);
    let name = if domain.is_empty() {
        path.clone()
    } else {
        format!("{domain}/{path}")
    };
    let suffix = |tag: Option<&str>, digest: Option<&str>| {
        tag.map(|t| format!(":{t}")).unwrap_or_default() + &digest.map(|d| format!("@{d}")).unwrap_or_default()
    };
    let string = name.clone() + &suffix(tag.as_deref(), digest.as_deref());
    let docker_ref = match (&tag, &digest) {
        (Some(_), Some(d)) => format!("{name}@{d}"),
        (None, None) => format!("{name}:latest"),
        _ => string.clone(),
    };
    let familiar_name = match path.strip_prefix("library/") {
        _ if domain != "docker.io" => name.clone(),
        Some(rest) if !rest.contains('/') => rest.to_owned(),
        _ => path.clone(),
    };
    let familiar = familiar_name + &suffix(tag.as_deref(), digest.as_deref());
    (string, name, docker_ref, familiar)
}

fn check_forms(r: &Reference) {
    let (string, name, docker_ref, familiar) = model_forms(r);
    assert_eq!(r.as_str(), string);
    assert_eq!(r.to_string(), string);
    assert_eq!(r.name_str(), name);
    assert_eq!(r.name(), name);
    assert_eq!(r.docker_ref_string(), docker_ref);
    assert_eq!(r.docker_ref().as_str(), docker_ref);
    assert_eq!(r.familiar_str(), familiar);
    assert_eq!(r.familiar_string(), familiar);
    assert_eq!(r.is_name_only(), r.tag().is_none() && r.digest().is_none(), "{r:?}");
    // Borrowed exactly when ParseDockerRef changes nothing.
    let unchanged = r.tag().is_some() != r.digest().is_some();
    assert_eq!(matches!(r.docker_ref_string(), Cow::Borrowed(_)), unchanged, "{r:?}");
}

#[test]
fn borrowed_forms_match_the_parts() {
    let d = sha256();
    for input in [
        "foo".to_owned(),
        "foo:t".to_owned(),
        format!("foo@{d}"),
        format!("foo:t@{d}"),
        "a.io/b/c".to_owned(),
        "[::1]:5000/x:y".to_owned(),
        "library/foo/bar".to_owned(),
        "docker.io/library/foo:latest".to_owned(),
        "index.docker.io/library/a/b".to_owned(),
        "foo_bar.com/baz".to_owned(),
    ] {
        for r in [parse(&input), parse_normalized_named(&input), parse_docker_ref(&input)]
            .into_iter()
            .flatten()
        {
            check_forms(&r);
        }
    }
    let r = parse_normalized_named(&format!("foo:t@{d}")).unwrap();
    assert_eq!(r.as_str(), format!("docker.io/library/foo:t@{d}"));
    assert_eq!(r.name_str(), "docker.io/library/foo");
    assert_eq!(r.familiar_str(), format!("foo:t@{d}"));
    assert_eq!(r.docker_ref_string(), format!("docker.io/library/foo@{d}"));
    assert_eq!(
        format!("{r:?}"),
        format!(r#"Reference {{ domain: "docker.io", path: "library/foo", tag: Some("t"), digest: Some("{d}") }}"#)
    );
    // Equality is on the parts, whichever way the reference was reached.
    assert_eq!(
        parse("docker.io/library/foo").unwrap(),
        parse_normalized_named("foo").unwrap()
    );
    assert_ne!(parse("foo").unwrap(), parse_normalized_named("foo").unwrap());
    assert_ne!(parse("a/b:c").unwrap(), parse("a/b").unwrap());
    assert_eq!(
        parse_docker_ref("foo").unwrap(),
        parse("docker.io/library/foo:latest").unwrap()
    );
}

// ------------------------------------------------------------------------------------------
// Differential oracle: Go's own patterns (regexp.go), compiled by the `regex` crate, whose
// leftmost-first capture semantics are those of Go's RE2-style regexp package.

mod oracle {
    use regex::Regex;
    use std::sync::OnceLock;

    const ALPHANUMERIC: &str = "[a-z0-9]+";
    const SEPARATOR: &str = "(?:[._]|__|[-]+)";
    const DOMAIN_NAME_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    const OPTIONAL_PORT: &str = "(?::[0-9]+)?";
    const TAG: &str = r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
    const DIGEST: &str = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";
    const IPV6: &str = r"\[(?:[a-fA-F0-9:]+)\]";

    fn patterns() -> &'static (Regex, Regex) {
        static RES: OnceLock<(Regex, Regex)> = OnceLock::new();
        RES.get_or_init(|| {
            let domain_name = format!(r"{DOMAIN_NAME_COMPONENT}(?:\.{DOMAIN_NAME_COMPONENT})*");
            let domain_and_port = format!("(?:{domain_name}|{IPV6}){OPTIONAL_PORT}");
            let path_component = format!("{ALPHANUMERIC}(?:{SEPARATOR}{ALPHANUMERIC})*");
            let remote_name = format!("{path_component}(?:/{path_component})*");
            let name = format!("(?:{domain_and_port}/)?{remote_name}");
            let reference = format!("^({name})(?::({TAG}))?(?:@({DIGEST}))?$");
            let anchored_name = format!("^(?:({domain_and_port})/)?({remote_name})$");
            (Regex::new(&reference).unwrap(), Regex::new(&anchored_name).unwrap())
        })
    }

    /// (domain, path, tag, digest) as Go's Parse captures them, or None when the regexp fails.
    pub fn captures(s: &str) -> Option<(String, String, Option<String>, Option<String>)> {
        let (reference, anchored_name) = patterns();
        let m = reference.captures(s)?;
        let name = m.get(1).map_or("", |g| g.as_str());
        let n = anchored_name.captures(name)?;
        Some((
            n.get(1).map_or("", |g| g.as_str()).to_owned(),
            n.get(2).map_or("", |g| g.as_str()).to_owned(),
            m.get(2).map(|g| g.as_str().to_owned()),
            m.get(3).map(|g| g.as_str().to_owned()),
        ))
    }

    /// Go's `strings.ToLower`: simple case mapping (Rust's only differs for U+0130).
    pub fn go_to_lower(s: &str) -> String {
        s.chars()
            .flat_map(|c| {
                let v: Vec<char> = if c == '\u{0130}' {
                    vec!['i']
                } else {
                    c.to_lowercase().collect()
                };
                v
            })
            .collect()
    }
}

/// reference.go `Parse`, step by step over the oracle regexps (digest rules reused from §5).
#[allow(clippy::type_complexity)]
fn oracle_parse(s: &str) -> Result<(String, String, Option<String>, Option<String>), K> {
    if s.is_empty() {
        return Err(K::NameEmpty);
    }
    let Some(caps) = oracle::captures(s) else {
        let lower = oracle::go_to_lower(s);
        return Err(if lower != s && oracle::captures(&lower).is_some() {
            K::NameContainsUppercase
        } else {
            K::InvalidFormat
        });
    };
    if caps.1.len() > 255 {
        return Err(K::NameTooLong);
    }
    if let Some(d) = &caps.3 {
        validate_digest(d)?;
    }
    Ok(caps)
}

fn check_against_oracle(s: &str) {
    let mine = parse(s).map(|r| parts(&r)).map_err(|e| e.kind);
    assert_eq!(mine, oracle_parse(s), "{s:?}");
}

/// normalize.go `ParseNormalizedNamed`, step by step in Go's order (identifier check,
/// `splitDockerDomain`, lowercase check of `remote`, then `Parse`), over the oracle `Parse`.
#[allow(clippy::type_complexity)]
fn oracle_parse_normalized(s: &str) -> Result<(String, String, Option<String>, Option<String>), K> {
    if s.len() == 64 && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(K::NormalizedNameIsIdentifier);
    }
    let (domain, remainder) = match s.find('/') {
        None => (DEFAULT_DOMAIN.to_owned(), format!("library/{s}")),
        Some(i) => {
            let (first, rest) = (&s[..i], &s[i + 1..]);
            let is_host = first == "localhost"
                || first.contains('.')
                || first.contains(':')
                || oracle::go_to_lower(first) != first;
            let (domain, remainder) = if first == "index.docker.io" {
                (DEFAULT_DOMAIN.to_owned(), rest.to_owned())
            } else if is_host {
                (first.to_owned(), rest.to_owned())
            } else {
                (DEFAULT_DOMAIN.to_owned(), s.to_owned())
            };
            if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
                (domain, format!("library/{remainder}"))
            } else {
                (domain, remainder)
            }
        }
    };
    let remote = remainder.split(':').next().unwrap();
    if oracle::go_to_lower(remote) != remote {
        return Err(K::NormalizedNameNotLowercase);
    }
    oracle_parse(&format!("{domain}/{remainder}"))
}

fn check_normalized_against_oracle(s: &str) {
    let mine = parse_normalized_named(s).map(|r| parts(&r)).map_err(|e| e.kind);
    assert_eq!(mine, oracle_parse_normalized(s), "{s:?}");
}

#[test]
fn oracle_agrees_on_every_table_input() {
    for (input, ..) in raw_valid_rows() {
        check_against_oracle(&input);
    }
    for (input, _) in raw_invalid_rows() {
        check_against_oracle(&input);
        check_normalized_against_oracle(&input);
    }
    for s in [
        "a:b/c",
        "[::1]",
        "[::1]:5/a",
        "[:]/a",
        "::1/a",
        "\u{212A}",
        "foo/\u{0130}",
        // Cases once found by proptest against deliberately broken parsers (mutation checks).
        "\u{212A}0",
        "a@A:A00Aaa0aA00AaAaa0aAAaAAaA0a0A0a",
        "0/0",
        "FOO_/bar",
        "a/B:C",
        "-a/b",
        // Label edges of the one-scan domain check (each of these is no domain, so no match).
        "a-/b",
        "a-.b/c",
        "a.-b/c",
        "a..b/c",
        ".a/b",
        "a./b",
        "a:/b",
        "A-B.c-1/d",
        "a--b.c/d",
        "[a/b]/c",
        "[::1/x]:5/c",
        "[::1]:/c",
        "[]/c",
        // Normalising: where the lowercase check of `remote` meets Parse's own errors.
        "foo_bar.com/baz",
        "foo_bar.com/Baz",
        "a:b/C",
        "a:1/B:c",
        "Foo.com/bar:T",
        "index.docker.io/Foo",
        "é.com/Foo",
        "é/foo",
        "localhost:5000",
        "LOCALHOST/foo",
    ] {
        check_against_oracle(s);
        check_normalized_against_oracle(s);
    }
    let h = hex(64);
    for s in [
        format!("foo@SHA256:{h}"),
        format!("foo:tag@SHA256:{h}"),
        format!("foo@Sha256:{}", hex(32)),
        format!("Foo@sha256:{h}"),
        format!("docker.io/foo@sha256:{}", h.to_uppercase()),
        format!("foo_bar.com/baz@md5:{}", hex(32)),
        format!("a:b/c@sha256:{h}"),
        h.clone(),
        h.to_uppercase(),
    ] {
        check_normalized_against_oracle(&s);
    }
}

/// Valid references built from the grammar (bounded sizes), as a regex for proptest.
const GRAMMAR: &str = concat!(
    r"(((([a-zA-Z0-9]([a-zA-Z0-9-]{0,3}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,3}[a-zA-Z0-9])?){0,2})",
    r"|\[[a-fA-F0-9:]{1,6}\])(:[0-9]{1,5})?/)?",
    r"[a-z0-9]{1,3}(([._]|__|-{1,2})[a-z0-9]{1,3}){0,2}(/[a-z0-9]{1,3}(([._]|__|-{1,2})[a-z0-9]{1,3}){0,2}){0,2}",
    r"(:[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,8})?",
    r"(@(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}|[a-zA-Z][a-zA-Z0-9]{0,3}([-_+.][a-zA-Z][a-zA-Z0-9]{0,2})?:[a-fA-F0-9]{32,40}))?",
);
/// The grammar's alphabet.
const ALPHABET: &str = r"[a-zA-Z0-9._:/@\[\]-]";

/// A grammar string with one random edit (insert, replace or delete) from the alphabet.
fn near_valid() -> impl Strategy<Value = String> {
    (GRAMMAR, any::<prop::sample::Index>(), 0..3u8, ALPHABET).prop_map(|(s, at, op, c)| {
        let mut chars: Vec<char> = s.chars().collect();
        let i = at.index(chars.len() + 1);
        match op {
            0 => chars.insert(i, c.chars().next().unwrap()),
            1 if i < chars.len() => chars[i] = c.chars().next().unwrap(),
            _ if i < chars.len() => {
                chars.remove(i);
            }
            _ => {}
        }
        chars.into_iter().collect()
    })
}

fn any_input() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::string::string_regex(&format!("{ALPHABET}{{0,40}}")).unwrap(),
        GRAMMAR,
        near_valid(),
        // Uppercase / non-ASCII look-alikes around a valid core.
        (GRAMMAR, "[A-Z\u{212A}\u{0130}é\n ]{0,2}").prop_map(|(s, x)| format!("{x}{s}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// (1) No panic on any input; errors carry the input.
    #[test]
    fn prop_never_panics(s in any_input()) {
        for result in [parse(&s), parse_normalized_named(&s), parse_docker_ref(&s), parse_named(&s)] {
            match result {
                Ok(r) => check_forms(&r),
                Err(e) => { prop_assert_eq!(&e.input, &s); let _ = e.to_string(); }
            }
        }
    }

    /// Raw Parse agrees with Go's regexps run by a leftmost-first engine.
    #[test]
    fn prop_agrees_with_go_regexps(s in any_input()) {
        check_against_oracle(&s);
    }

    /// ParseNormalizedNamed agrees with Go's steps in Go's order (the lowercase check of
    /// `remote` before `Parse`), whatever order the implementation checks them in.
    #[test]
    fn prop_normalized_agrees_with_go_steps(s in any_input()) {
        check_normalized_against_oracle(&s);
    }

    /// (3) Raw Parse: String() reproduces every valid input.
    #[test]
    fn prop_raw_round_trip(s in prop_oneof![GRAMMAR.prop_map(String::from), near_valid()]) {
        if let Ok(r) = parse(&s) {
            prop_assert_eq!(r.to_string(), s.clone());
            prop_assert_eq!(parse(&r.to_string()), Ok(r));
        }
    }

    /// (2) Normalised: the fully qualified form parses back to itself and is a fixed point.
    #[test]
    fn prop_docker_ref_fixed_point(s in any_input()) {
        if let Ok(r) = parse_normalized_named(&s) {
            let full = r.docker_ref();
            let text = full.to_string();
            prop_assert_eq!(parse_normalized_named(&text), Ok(full.clone()));
            prop_assert_eq!(parse_docker_ref(&text).map(|x| x.to_string()), Ok(text.clone()));
            prop_assert_eq!(parse_named(&text), Ok(full.clone()));
            // The normalised String() is itself a valid raw reference with the same parts
            // unless the domain was re-derived as "" (then it is identical anyway).
            prop_assert_eq!(parse(&text), Ok(full));
        }
    }
}

/// (4) Linear time: 100 kB adversarial inputs. A quadratic scan (10^10 steps per input) or a
/// backtracking matcher would take minutes or forever; the whole loop takes ~0.2 s in a debug
/// build, so a 20 s bound separates the two without flaking on a loaded machine.
#[test]
fn adversarial_inputs_are_linear() {
    let n = 100_000;
    let inputs = [
        format!("{}!", "a".repeat(n)),
        format!("{}!", "a-".repeat(n / 2)),
        format!("{}/", "a/".repeat(n / 2)),
        format!("{}!", "a.".repeat(n / 2)),
        format!("{}/x", "a.".repeat(n / 2)),
        format!("[{}/x", ":".repeat(n)),
        format!("[{}]:/x", "a".repeat(n)),
        format!("{}:1/x!", "a-a.".repeat(n / 4)),
        format!("foo@sha256:{}!", "a".repeat(n)),
        format!("foo@{}:{}", "a.".repeat(n / 4), "a".repeat(n / 2)),
        format!("foo:{}", "a".repeat(n)),
        format!("{}/x", "A".repeat(n)),
        "A:".repeat(n / 2),
        "é".repeat(n / 2),
        format!("{}{}", "a__".repeat(n / 3), "_"),
    ];
    let start = std::time::Instant::now();
    for s in &inputs {
        assert!(s.len() >= n - 2);
        let _ = parse(s);
        let _ = parse_normalized_named(s);
    }
    let elapsed = start.elapsed();
    assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn pull_policy_follows_the_tag() {
    assert_eq!(default_pull_policy(None, None), "Always");
    assert_eq!(default_pull_policy(Some("latest"), None), "Always");
    assert_eq!(default_pull_policy(Some("latest"), Some("sha256:x")), "Always");
    assert_eq!(default_pull_policy(Some("1.0"), None), "IfNotPresent");
    assert_eq!(default_pull_policy(None, Some("sha256:x")), "IfNotPresent");
}
