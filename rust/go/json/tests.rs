use super::*;

#[test]
fn go_lossy_is_per_byte() {
    assert_eq!(go_lossy(b"ok"), "ok");
    assert_eq!(go_lossy(b"a\xe2\x82b"), "a\u{FFFD}\u{FFFD}b");
    assert_eq!(go_lossy(b"\xed\xa0\x80"), "\u{FFFD}\u{FFFD}\u{FFFD}");
    assert_eq!(go_lossy(b"x\xf0\x9f\x98"), "x\u{FFFD}\u{FFFD}\u{FFFD}");
    assert_eq!(go_lossy("\u{e4}\u{1F600}".as_bytes()), "\u{e4}\u{1F600}");
}

#[test]
fn go_fold_eq_matches_go_field_names() {
    assert!(go_fold_eq("auths", "auths"));
    assert!(go_fold_eq("AuThS", "auths"));
    assert!(go_fold_eq("\u{17F}\u{17F}", "ss"));
    assert!(go_fold_eq("\u{212A}", "k"));
    assert!(!go_fold_eq("auth", "auths"));
    assert!(!go_fold_eq("authss", "auths"));
    assert!(!go_fold_eq("", "auths"));
    assert!(!go_fold_eq("\u{130}", "i"), "dotted capital I does not fold to i in Go");
}
