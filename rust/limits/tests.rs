use super::scan::{check_json_nodes, Yaml};
use super::*;
use proptest::prelude::*;
use std::fmt::Write as _;

fn depth_error(text: &str, max: usize) -> Option<LimitError> {
    Yaml::new(text.as_bytes(), max, usize::MAX).run().err()
}

// --- Excerpt ----------------------------------------------------------------------------------------

#[test]
fn excerpt_quotes_a_short_input_whole() {
    assert_eq!(Excerpt::debug("FOO\n").to_string(), r#""FOO\n""#);
    assert_eq!(Excerpt::escaped("a\"b").to_string(), r#"a\"b"#);
    let at_limit = "a".repeat(MAX_QUOTED_BYTES);
    assert_eq!(Excerpt::debug(&at_limit).to_string(), format!("{at_limit:?}"));
}

#[test]
fn excerpt_cuts_a_long_input_and_gives_its_length() {
    let long = format!("UPPER/{}", "a".repeat(900_000));
    let shown = Excerpt::debug(&long).to_string();
    assert!(shown.len() < MAX_QUOTED_BYTES + 40, "{}", shown.len());
    assert!(shown.starts_with("\"UPPER/aaa"), "{shown}");
    assert!(shown.ends_with("\"… (900006 bytes)"), "{shown}");
    // One byte over: cut too.
    let over = "b".repeat(MAX_QUOTED_BYTES + 1);
    assert!(Excerpt::escaped(&over)
        .to_string()
        .ends_with(&format!("… ({} bytes)", MAX_QUOTED_BYTES + 1)));
}

#[test]
fn excerpt_bounds_the_rendering_not_the_input() {
    // Control characters render as 6-byte escapes: 100 of them (600 bytes rendered) are cut.
    let controls = "\u{1}".repeat(100);
    let shown = Excerpt::debug(&controls).to_string();
    assert!(shown.ends_with("… (100 bytes)"), "{shown}");
    assert!(shown.len() <= MAX_QUOTED_BYTES + 2 + "… (100 bytes)".len());
    // Multi-byte characters are never split.
    let wide = "é".repeat(1000);
    let shown = Excerpt::escaped(&wide).to_string();
    assert!(shown.starts_with("éé") && shown.ends_with("… (2000 bytes)"), "{shown}");
}

proptest! {
    #[test]
    fn excerpt_is_bounded_for_any_input(s in "\\PC{0,400}|[\\x00-\\x7f]{0,2000}") {
        let shown = Excerpt::debug(&s).to_string();
        prop_assert!(shown.len() <= MAX_QUOTED_BYTES + 2 + "… (18446744073709551615 bytes)".len());
        let whole = format!("{s:?}");
        if whole.len() <= MAX_QUOTED_BYTES + 2 {
            prop_assert_eq!(shown, whole);
        }
    }
}

// --- YAML -------------------------------------------------------------------------------------------

#[test]
fn nested_flow_collections_are_refused_at_the_limit() {
    for opener in ["[", "{a: ", "{"] {
        let text = format!("a: {}", opener.repeat(256 * 1024 / opener.len()));
        let err = check_yaml(text.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                LimitError::Nesting {
                    limit: MAX_NESTING,
                    line: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("nested deeper than 64 levels"), "{err}");
    }
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let ok = format!("a: {}{}", "[".repeat(MAX_NESTING - 1), "]".repeat(MAX_NESTING - 1));
    assert_eq!(check_yaml(ok.as_bytes()), Ok(()));
    let over = format!("a: {}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
    assert!(check_yaml(over.as_bytes()).is_err());
}

#[test]
fn block_nesting_counts_indentation_levels() {
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&" ".repeat(i));
        text.push_str("a:\n");
    }
    let err = check_yaml(text.as_bytes()).unwrap_err();
    assert!(matches!(err, LimitError::Nesting { line: 65, .. }), "{err:?}");
    let dashes = format!("{}x\n", "- ".repeat(100));
    assert!(matches!(check_yaml(dashes.as_bytes()), Err(LimitError::Nesting { .. })));
}

#[test]
fn brackets_in_scalars_and_comments_are_not_nesting() {
    let deep = "[".repeat(1000);
    for text in [
        format!("a: '{deep}'\n"),
        format!("a: \"{deep}\"\n"),
        format!("a: \"x\\\"{deep}\"\n"),
        format!("a: 'it''s {deep}'\n"),
        format!("a: x{deep}\n"),
        format!("a: x {deep} y\n"),
        format!("a: x\n  {deep}\n"),
        format!("a: 1 # {deep}\n"),
        format!("# {deep}\na: 1\n"),
        format!("a: |\n  {deep}\n  more\nb: 1\n"),
        format!("a: >-\n\n   {deep}\nb: 1\n"),
        format!("- |2\n   {deep}\n"),
        format!("a: !tag x{deep}\n"),
        format!("a: &anchor x{deep}\n"),
        format!("a: [\"{deep}\", '{deep}', x]\n"),
        format!("{{\"a\":\"{deep}\"}}\n"),
    ] {
        assert_eq!(check_yaml(text.as_bytes()), Ok(()), "{text:.60}");
        // serde_norway agrees: these parse.
        assert!(
            serde_norway::from_str::<serde_norway::Value>(&text).is_ok(),
            "{text:.60}"
        );
    }
}

#[test]
fn what_ends_a_scalar_for_the_scanner_ends_it_here() {
    let deep = "[".repeat(100);
    for text in [
        // A comment ends at a Unicode line break, as in libyaml.
        format!("# x\u{2028}a: {deep}"),
        format!("# x\u{85}a: {deep}"),
        // A quote inside a plain scalar is text; what follows on the next line is not quoted.
        format!("a: it 's\nb: {deep}"),
        format!("a: x\n  '\nb: {deep}"),
        // A block scalar ends at the first less indented line.
        format!("a: |\n  'x\nb: {deep}"),
        format!("a:\n  b: |\n    x\n  c: {deep}"),
        // A plain scalar ends at the mapping's indentation.
        format!("a:\n  b: x\nc: {deep}"),
        // A tag ends at a flow indicator in a flow collection.
        format!("[!t,{deep}"),
        // A comment can start right after a flow indicator.
        format!("[#]\n{deep}"),
        // A double-quoted scalar's escaped quote does not end it; the real one does.
        format!("a: \"\\\"\"\nb: {deep}"),
    ] {
        assert!(
            matches!(depth_error(&text, 64), Some(LimitError::Nesting { .. })),
            "{text:?} must be refused"
        );
    }
}

#[test]
fn realistic_manifests_pass() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: ns\n  annotations: {}\n  labels:\n    app: x\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: eyJhdXRocyI6e319\n";
    let mut list = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for i in 0..2000 {
        let _ = write!(
            list,
            "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s{i}\n    managedFields:\n    - fieldsV1:\n        f:data:\n          .: {{}}\n          f:.dockerconfigjson: {{}}\n  type: kubernetes.io/dockerconfigjson\n  data: {{.dockerconfigjson: eyJhdXRocyI6e319}}\n"
        );
    }
    for text in [secret.to_owned(), list, format!("{secret}---\n{secret}...\n")] {
        assert_eq!(check_yaml(text.as_bytes()), Ok(()));
    }
}

#[test]
fn node_count_is_bounded_with_aliases_expanded() {
    let flat = format!("a: [{}0]", "0,".repeat(MAX_DOCUMENT_NODES));
    assert_eq!(
        check_yaml(flat.as_bytes()),
        Err(LimitError::Nodes {
            limit: MAX_DOCUMENT_NODES
        })
    );
    let dashes = "-\n".repeat(MAX_DOCUMENT_NODES + 1);
    assert_eq!(
        check_yaml(dashes.as_bytes()),
        Err(LimitError::Nodes {
            limit: MAX_DOCUMENT_NODES
        })
    );
    // Billion laughs: each level repeats the one before ten times.
    let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        let _ = writeln!(
            laughs,
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
        );
    }
    assert!(matches!(check_yaml(laughs.as_bytes()), Err(LimitError::Nodes { .. })));
    // A merge key or two is nowhere near it.
    let merge = "base: &base\n  a: 1\n  b: 2\nx:\n  <<: *base\n  c: 3\ny:\n  <<: *base\n";
    assert_eq!(check_yaml(merge.as_bytes()), Ok(()));
}

#[test]
fn size_is_bounded() {
    let big = vec![b'#'; MAX_YAML_BYTES + 1];
    let err = check_yaml(&big).unwrap_err();
    assert_eq!(err, LimitError::Size { limit: MAX_YAML_BYTES });
    assert_eq!(err.to_string(), "larger than 16 MiB, the limit for a YAML document");
}

#[test]
fn messages_name_the_limit_never_content() {
    let text = format!("secret: {}", "[".repeat(1000));
    let err = check_yaml(text.as_bytes()).unwrap_err().to_string();
    assert_eq!(
        err,
        "nested deeper than 64 levels at line 1 column 72 (the nesting limit)"
    );
    assert!(!err.contains("secret"));
}

/// The depth of a parsed YAML value (collections only).
fn value_depth(v: &serde_norway::Value) -> usize {
    use serde_norway::Value as Y;
    match v {
        Y::Sequence(items) => 1 + items.iter().map(value_depth).max().unwrap_or(0),
        Y::Mapping(m) => {
            1 + m
                .iter()
                .map(|(k, v)| value_depth(k).max(value_depth(v)))
                .max()
                .unwrap_or(0)
        }
        Y::Tagged(t) => value_depth(&t.value),
        _ => 0,
    }
}

fn check_upper_bound(text: &str) -> Result<(), TestCaseError> {
    if let Ok(value) = serde_norway::from_str::<serde_norway::Value>(text) {
        let depth = value_depth(&value);
        // A block sequence at its parent mapping's indentation (`a:\n- x`) and a single-pair
        // mapping in a flow sequence (`[a: b]`) nest without a level of their own (nor a cost: the
        // scanner's work grows with flow and indentation levels), so a value may nest twice as deep
        // as the levels counted.
        let limit = depth.saturating_sub(1) / 2;
        if depth > 0 {
            prop_assert!(
                depth_error(text, limit).is_some(),
                "nesting {} not seen in {:?}",
                depth,
                text
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    /// The scan never under-counts what `serde_norway` parses: a document it parses into a value
    /// nested `d` deep is refused by the scan with a limit below `d / 2`.
    #[test]
    fn the_scan_is_an_upper_bound_of_the_parsed_nesting(
        parts in proptest::collection::vec(prop_oneof![
            Just("["), Just("]"), Just("{"), Just("}"), Just(","), Just(": "), Just(":"), Just("- "),
            Just("? "), Just("'"), Just("\""), Just("\\"), Just("#"), Just(" #"), Just("\n"), Just("\n  "),
            Just("\n    "), Just(" "), Just("a"), Just("b: "), Just("|\n"), Just(">-\n"), Just("|2\n"),
            Just("&x "), Just("*x"), Just("!t "), Just("---\n"), Just("\u{2028}"), Just("''"), Just("\t"),
        ], 0..40)
    ) {
        check_upper_bound(&parts.concat())?;
    }

    #[test]
    fn the_scan_bounds_flow_nesting(
        parts in proptest::collection::vec(prop_oneof![
            Just("["), Just("]"), Just("{"), Just("}"), Just(","), Just(": "), Just(":"), Just("'"),
            Just("\""), Just("#"), Just(" #"), Just("\n"), Just(" "), Just("a"), Just("&x "), Just("*x"),
            Just("!t "), Just("''"), Just("\\"),
        ], 0..40)
    ) {
        check_upper_bound(&format!("k: [{}]", parts.concat()))?;
    }
}

// --- JSON -------------------------------------------------------------------------------------------

#[test]
fn json_node_count_is_bounded_and_ignores_strings() {
    assert_eq!(check_json_nodes(b"[1,2,3]", 4), Ok(()));
    assert_eq!(check_json_nodes(b"[1,2,3,4]", 4), Err(LimitError::Nodes { limit: 4 }));
    assert_eq!(check_json_nodes(br#"{"a":"[,,,,\",,,,"}"#, 3), Ok(()));
    let flat = format!("[{}0]", "0,".repeat(MAX_DOCUMENT_NODES));
    assert!(check_json(flat.as_bytes()).is_err());
    let object = format!("{{\"a\": \"{}\"}}", "x".repeat(1 << 20));
    assert_eq!(check_json(object.as_bytes()), Ok(()));
}
