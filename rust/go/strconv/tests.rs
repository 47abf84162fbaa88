use super::*;

#[test]
fn go_quote_matches_strconv_quote() {
    assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
    assert_eq!(
        go_quote("\u{7}\u{8}\u{c}\n\r\t\u{b}\u{0}\u{7f}"),
        r#""\a\b\f\n\r\t\v\x00\x7f""#
    );
    assert_eq!(go_quote("é\u{85}"), "\"é\\u0085\"");
}
