use super::*;
use crate::credential::AuthEntry;
use std::time::Instant;

fn keyring(n: usize) -> Keyring {
    let mut g = BasicKeyring::new();
    for i in 0..n {
        let a = AuthEntry {
            username: format!("u{i}"),
            ..AuthEntry::default()
        };
        match i % 5 {
            0 => g.add(&format!("registry-{i}.example.com"), a, "s"),
            1 => g.add(&format!("https://registry-{}.example.com/team-{i}", i / 7), a, "s"),
            2 => g.add(&format!("*.tenant-{i}.example.com"), a, "s"),
            3 => g.add(&format!("registry-{i}.example.com:5000"), a, "s"),
            _ => g.add(&format!("team-{i}.corp.example.org/v2/app"), a, "s"),
        };
    }
    g.add("index.docker.io", AuthEntry::default(), "s");
    Keyring { groups: vec![g] }
}

/// Lookup time must not grow with unrelated entries (run: `cargo test --lib -- --ignored scale`).
#[test]
#[ignore = "timing; run explicitly"]
fn lookup_time_is_flat() {
    let images = [
        "registry-5.example.com/team-6/app",
        "a.tenant-7.example.com/x",
        "docker.io/library/nginx",
    ];
    let mut per = Vec::new();
    for n in [10, 10_000, 100_000] {
        let kr = keyring(n);
        let start = Instant::now();
        let mut found = 0;
        for _ in 0..20_000 {
            for image in images {
                found += kr.lookup(image).len();
            }
        }
        let ns = start.elapsed().as_nanos() / 60_000;
        per.push(ns);
        assert!(found > 0);
    }
    #[allow(clippy::print_stderr)] // reason: this ignored timing test exists to print its numbers
    {
        eprintln!("ns per lookup at 10/10k/100k entries: {per:?}");
    }
    let (small, large) = (per[0], per[2]);
    assert!(large < small * 2 + 200, "ns per lookup at 10/10k/100k entries: {per:?}");
}
