use super::*;

#[test]
fn format_whole_seconds_like_go() {
    for (secs, text) in [
        (0, "0s"),
        (1, "1s"),
        (45, "45s"),
        (59, "59s"),
        (60, "1m0s"),
        (300, "5m0s"),
        (3599, "59m59s"),
        (3600, "1h0m0s"),
        (5400, "1h30m0s"),
        (86_400, "24h0m0s"),
        (90_061, "25h1m1s"),
        (MAX_GO_DURATION_SECS, "2562047h47m16s"),
    ] {
        assert_eq!(format_go_duration(secs), text);
    }
}

#[test]
fn format_nanos_like_go() {
    // Values from Go's time.Duration.String documentation and tests.
    for (nanos, text) in [
        (0, "0s"),
        (1, "1ns"),
        (1_100, "1.1µs"),
        (2_200_000, "2.2ms"),
        (3_300_000_000, "3.3s"),
        (-60_000_000_000, "-1m0s"),
        (4 * 60_000_000_000 + 5_001_000_000, "4m5.001s"),
        (5 * 3_600_000_000_000 + 6 * 60_000_000_000 + 7_001_000_000, "5h6m7.001s"),
        (8 * 60_000_000_000 + 1, "8m0.000000001s"),
        (i64::MAX, "2562047h47m16.854775807s"),
        (i64::MIN, "-2562047h47m16.854775808s"),
    ] {
        assert_eq!(format_go_duration_nanos(nanos), text, "{nanos}");
    }
}

#[test]
fn parse_valid_durations() {
    // Cases from Go's time.ParseDuration tests.
    let cases: [(&str, i64); 28] = [
        ("0", 0),
        ("5s", 5_000_000_000),
        ("30s", 30_000_000_000),
        ("1478s", 1_478_000_000_000),
        ("-5s", -5_000_000_000),
        ("+5s", 5_000_000_000),
        ("-0", 0),
        ("+0", 0),
        ("5.0s", 5_000_000_000),
        ("5.6s", 5_600_000_000),
        ("5.s", 5_000_000_000),
        (".5s", 500_000_000),
        ("1.0s", 1_000_000_000),
        ("1.004s", 1_004_000_000),
        ("100.00100s", 100_001_000_000),
        ("10ns", 10),
        ("11us", 11_000),
        ("12µs", 12_000),
        ("12μs", 12_000),
        ("13ms", 13_000_000),
        ("14s", 14_000_000_000),
        ("15m", 900_000_000_000),
        ("16h", 57_600_000_000_000),
        ("3h30m", 12_600_000_000_000),
        ("10.5s4m", 250_500_000_000),
        ("-2m3.4s", -123_400_000_000),
        ("1.5h", 5_400_000_000_000),
        ("9223372036854775807ns", i64::MAX),
    ];
    for (input, nanos) in cases {
        assert_eq!(parse_go_duration_nanos(input), Ok(nanos), "{input}");
    }
    assert_eq!(parse_go_duration_nanos("-9223372036854775808ns"), Ok(i64::MIN));
    assert_eq!(parse_go_duration_nanos("0.3333333333333333333h"), Ok(1_200_000_000_000));
    assert_eq!(parse_go_duration_nanos("9007199254.740993ms"), Ok((1 << 53) + 1));
}

#[test]
fn parse_invalid_durations() {
    let invalid = |s: &str| DurationError::Invalid { input: s.to_owned() };
    for input in [
        "",
        "3",
        "-",
        "+",
        "s",
        ".",
        "-.",
        ".s",
        "+.s",
        "1d",
        "5x",
        "1.5",
        "3000000h",
        "9223372036854775808ns",
        "9223372036854775807s",
        " 5s",
        "5s ",
        "5 s",
        "\u{e9}",
        "1h\u{e9}",
    ] {
        let got = parse_go_duration_nanos(input);
        assert!(got.is_err(), "{input:?} -> {got:?}");
    }
    assert_eq!(parse_go_duration_nanos(""), Err(invalid("")));
    assert_eq!(parse_go_duration_nanos("s"), Err(invalid("s")));
    assert_eq!(parse_go_duration_nanos(".s"), Err(invalid(".s")));
    assert_eq!(
        parse_go_duration_nanos("3"),
        Err(DurationError::MissingUnit { input: "3".into() })
    );
    assert_eq!(
        parse_go_duration_nanos("5x").unwrap_err().to_string(),
        "time: unknown unit \"x\" in duration \"5x\""
    );
    assert_eq!(
        parse_go_duration_nanos("3000000h").unwrap_err().to_string(),
        "time: invalid duration \"3000000h\""
    );
    assert_eq!(
        parse_go_duration_nanos("1.5").unwrap_err().to_string(),
        "time: missing unit in duration \"1.5\""
    );
}

#[test]
fn std_duration_wrapper() {
    assert_eq!(parse_go_duration("1h30m"), Ok(std::time::Duration::from_secs(5400)));
    assert_eq!(parse_go_duration("1.5s"), Ok(std::time::Duration::from_millis(1500)));
    assert_eq!(parse_go_duration("-0s"), Ok(std::time::Duration::ZERO));
    assert_eq!(parse_go_duration("-5m"), Err("negative duration \"-5m\"".to_owned()));
    assert_eq!(
        parse_go_duration("5"),
        Err("time: missing unit in duration \"5\"".to_owned())
    );
}

#[test]
fn format_then_parse_round_trips() {
    for secs in [0_u64, 1, 59, 61, 3599, 3601, 86_399, 1_000_000, MAX_GO_DURATION_SECS] {
        assert_eq!(parse_go_duration(&format_go_duration(secs)).unwrap().as_secs(), secs);
    }
    for nanos in [
        1_i64,
        999,
        1_001,
        999_999_999,
        1_000_000_001,
        -7,
        i64::MAX,
        i64::MIN + 1,
    ] {
        assert_eq!(
            parse_go_duration_nanos(&format_go_duration_nanos(nanos)),
            Ok(nanos),
            "{nanos}"
        );
    }
}

proptest::proptest! {
        #[test]
        fn parse_duration_never_panics(s in "\\PC{0,24}") {
            let _ = parse_go_duration_nanos(&s);
        }

        #[test]
        fn whole_seconds_round_trip(secs in 0..=MAX_GO_DURATION_SECS) {
            proptest::prop_assert_eq!(parse_go_duration(&format_go_duration(secs)).unwrap().as_secs(), secs);
        }

        #[test]
        fn nanos_round_trip(nanos in proptest::prelude::any::<i64>()) {
            proptest::prop_assert_eq!(parse_go_duration_nanos(&format_go_duration_nanos(nanos)), Ok(nanos));
        }

}
