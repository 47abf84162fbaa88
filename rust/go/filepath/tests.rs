use super::*;

#[test]
fn filepath_match_table() {
    let cases: &[(&str, &str, Result<bool, ()>)] = &[
        ("abc", "abc", Ok(true)),
        ("*", "abc", Ok(true)),
        ("*c", "abc", Ok(true)),
        ("a*", "a", Ok(true)),
        ("a*", "abc", Ok(true)),
        ("a*", "ab/c", Ok(false)),
        ("a*/b", "abc/b", Ok(true)),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
        ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
        ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
        ("ab[c]", "abc", Ok(true)),
        ("ab[b-d]", "abc", Ok(true)),
        ("ab[e-g]", "abc", Ok(false)),
        ("ab[^c]", "abc", Ok(false)),
        ("ab[^b-d]", "abc", Ok(false)),
        ("ab[^e-g]", "abc", Ok(true)),
        ("a\\*b", "a*b", Ok(true)),
        ("a\\*b", "ab", Ok(false)),
        ("a?b", "a☺b", Ok(true)),
        ("a[^a]b", "a☺b", Ok(true)),
        ("a???b", "a☺b", Ok(false)),
        ("a[^a][^a][^a]b", "a☺b", Ok(false)),
        ("[a-ζ]*", "α", Ok(true)),
        ("*[a-ζ]", "A", Ok(false)),
        ("a?b", "a/b", Ok(false)),
        ("a*b", "a/b", Ok(false)),
        ("[\\]a]", "]", Ok(true)),
        ("[\\-]", "-", Ok(true)),
        ("[x\\-]", "x", Ok(true)),
        ("[x\\-]", "-", Ok(true)),
        ("[x\\-]", "z", Ok(false)),
        ("[\\-x]", "x", Ok(true)),
        ("[\\-x]", "a", Ok(false)),
        ("[]a]", "]", Err(())),
        ("[-]", "-", Err(())),
        ("[x-]", "x", Err(())),
        ("[-x]", "x", Err(())),
        ("\\", "a", Err(())),
        ("[a-b-c]", "a", Err(())),
        ("[", "a", Err(())),
        ("[^", "a", Err(())),
        ("[^bc", "a", Err(())),
        ("a[", "a", Err(())),
        ("a[", "ab", Err(())),
        ("a[", "x", Err(())),
        ("a/b[", "x", Err(())),
        ("*x", "xxx", Ok(true)),
        // `!` is not a negation in Go's filepath.Match.
        ("[!a]", "b", Ok(false)),
        ("[!a]", "!", Ok(true)),
        ("", "", Ok(true)),
        ("", "a", Ok(false)),
        ("?", "", Ok(false)),
        // A malformed later chunk is not reported once an earlier chunk failed without a star.
        ("x*[", "y", Ok(false)),
        // Go commits to the leftmost match of a chunk that is followed by more pattern, so a class
        // that could have taken the `/` does not get a second chance (labels never hold `/`).
        ("*[^a]*", "b/", Ok(false)),
    ];
    for (p, n, want) in cases {
        assert_eq!(filepath_match(p, n), *want, "Match({p:?}, {n:?})");
    }
}

#[test]
fn decode_rune_like_go() {
    assert_eq!(decode_rune(b""), (RUNE_ERROR, 0));
    assert_eq!(decode_rune(b"a"), (97, 1));
    assert_eq!(decode_rune("é".as_bytes()), (0xe9, 2));
    assert_eq!(decode_rune(&[0xe9]), (RUNE_ERROR, 1));
    assert_eq!(decode_rune(&[0xc0, 0x80]), (RUNE_ERROR, 1));
    assert_eq!(decode_rune(&[0xed, 0xa0, 0x80]), (RUNE_ERROR, 1));
}

/// A direct, slow reading of the glob rules (full backtracking over chars), to cross-check
/// `filepath_match` on well-formed patterns made of literals, `*`, `?` and simple classes, on
/// names without `/` (where Go's leftmost-commit strategy is equivalent to backtracking).
fn naive(p: &[char], n: &[char]) -> bool {
    match p.split_first() {
        None => n.is_empty(),
        Some(('*', rest)) => (0..=n.len()).any(|i| n[..i].iter().all(|&c| c != '/') && naive(rest, &n[i..])),
        Some(('?', rest)) => n.first().is_some_and(|&c| c != '/') && naive(rest, &n[1..]),
        Some(('[', rest)) => {
            let close = rest.iter().position(|&c| c == ']').unwrap();
            let (class, rest) = (&rest[..close], &rest[close + 1..]);
            let (neg, class) = match class.split_first() {
                Some(('^', c)) => (true, c),
                _ => (false, class),
            };
            n.first().is_some_and(|c| class.contains(c) != neg) && naive(rest, &n[1..])
        }
        Some((c, rest)) => n.first() == Some(c) && naive(rest, &n[1..]),
    }
}

proptest::proptest! {
        #[test]
        fn glob_agrees_with_naive(p in "([ab.*?-]|\\[\\^?[ab]{1,2}\\]){0,6}", n in "[ab.é-]{0,6}") {
            let pc: Vec<char> = p.chars().collect();
            let nc: Vec<char> = n.chars().collect();
            proptest::prop_assert_eq!(filepath_match(&p, &n), Ok(naive(&pc, &nc)), "{:?} {:?}", p, n);
        }
}
