use super::*;

#[test]
fn batch_requests_decode_and_skip_other_fields() {
    // images "a" and "bc", a namespace (4), an annotations map entry (3), a token (2), then "d".
    let mut req = vec![0x0a, 1, b'a', 0x0a, 2, b'b', b'c', 0x22, 2, b'n', b's'];
    req.extend_from_slice(&[0x1a, 6, 0x0a, 1, b'k', 0x12, 1, b'v', 0x12, 1, b't', 0x0a, 1, b'd']);
    assert_eq!(decode_batch_images(&req).unwrap(), vec!["a", "bc", "d"]);
    assert_eq!(decode_batch_images(&[]).unwrap(), Vec::<&str>::new());
    // A varint field and fixed-size fields of unknown numbers are skipped too.
    let req = [
        0x28, 0x96, 0x01, 0x31, 0, 0, 0, 0, 0, 0, 0, 0, 0x3d, 0, 0, 0, 0, 0x0a, 1, b'x',
    ];
    assert_eq!(decode_batch_images(&req).unwrap(), vec!["x"]);
}

#[test]
fn malformed_batch_requests_are_errors() {
    for (bad, what) in [
        (&[0x0a, 5, b'a'][..], "length past the end"),
        (&[0x0a][..], "truncated length"),
        (&[0x0a, 2, 0xff, 0xfe][..], "not UTF-8"),
        (&[0x0b][..], "unsupported wire type"),
        (&[0x02, 0][..], "field number 0"),
        (&[0x80][..], "truncated field tag"),
        (&[0x31, 0, 0][..], "truncated fixed-size field"),
        (
            &[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01][..],
            "length past the end",
        ),
    ] {
        let err = decode_batch_images(bad).unwrap_err().to_string();
        assert!(err.contains(what), "{bad:?}: {err}");
    }
}

proptest::proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
        let _ = decode_batch_images(&data);
    }
}

#[test]
fn varints_match_the_protobuf_examples() {
    // protobuf.dev encoding guide: 1 -> 01, 150 -> 96 01, 300 -> ac 02.
    for (n, bytes) in [
        (1u64, vec![1u8]),
        (150, vec![0x96, 0x01]),
        (300, vec![0xac, 0x02]),
        (0, vec![0]),
    ] {
        let mut out = Vec::new();
        varint(&mut out, n);
        assert_eq!(out, bytes);
    }
}

#[test]
fn empty_strings_are_omitted_and_errors_carry_their_code() {
    assert_eq!(encode_item_error(3, "", ""), vec![0x08, 0x03]);
    assert_eq!(
        encode_item_error(3, "m", "r"),
        vec![0x08, 0x03, 0x12, 1, b'm', 0x1a, 1, b'r']
    );
}

#[test]
fn a_batch_reports_bad_images_in_place() {
    let keyring = Keyring::default();
    let out = encode_batch(&keyring, &["foo//bar", "nginx"], CachePolicy::Auto, 300);
    // First result: image "foo//bar" then an error (field 3) ...
    assert_eq!(out[0], 0x0a);
    assert_eq!(&out[2..4], &[0x0a, 8]);
    assert_eq!(&out[4..12], b"foo//bar");
    assert_eq!(out[12], 0x1a);
    // ... and the second one a response (field 2) whose repository is normalised.
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("docker.io/library/nginx"));
    assert!(text.contains("invalid_format"));
}

#[test]
fn batch_slices_cut_at_field_boundaries_and_decode_to_the_same_images() {
    // Images interleaved with the other fields (a map entry, the namespace): each slice decodes to
    // its part of the images, the concatenation of the slices is the whole list.
    let mut req = Vec::new();
    let images: Vec<String> = (0..10).map(|i| format!("img{i}")).collect();
    for (i, image) in images.iter().enumerate() {
        req.extend_from_slice(&[0x0a, u8::try_from(image.len()).unwrap()]);
        req.extend_from_slice(image.as_bytes());
        if i == 4 {
            req.extend_from_slice(&[0x22, 2, b'n', b's']);
        }
    }
    for per_slice in [1, 3, 4, 10, 99] {
        let slices = batch_slices(&req, per_slice).unwrap();
        assert_eq!(slices.len(), images.len().div_ceil(per_slice), "{per_slice}");
        let mut seen = Vec::new();
        for (start, end, count) in slices {
            let part = decode_batch_images(&req[start..end]).unwrap();
            assert_eq!(part.len(), count);
            assert!(count <= per_slice);
            seen.extend(part);
        }
        assert_eq!(seen, images.iter().map(String::as_str).collect::<Vec<_>>());
    }
    assert_eq!(batch_slices(&[], 4).unwrap(), vec![]);
    assert!(batch_slices(&[0x0a, 9, b'x'], 4).is_err());
}
