//! Tokens signed here as the API server signs them (RS256 with a fixed test key, ES256/ES384 with
//! keys made per test run), checked against a JWKS built from the public halves.

use super::*;
use crate::config::{parse_provider_config, CredentialSet};
use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING};
use serde_json::{json, Value};

/// A throwaway 2048-bit RSA test key (PKCS#1 DER) and its modulus; it signs nothing but test tokens.
const RSA_N: &str = "q_WTrbsj8U5NM7iHbVhbdLnT8I93Vymk1IHyRoYhzRc8606UIo7Lvdte9tjfInlMBIkzXiBRQjA1WrppU1fyQJTjrrXWj_ZQcSRalL8wrkRgXN7qCYf1QtFYsmdSnVlt4ZgT_lRp71yk7eQ1VG4xr36bj0llU4fpDHmylBfn2VeFMqKg379sDhBYsvOXy0bbwAJH5ws5aVRxObGoZkyA8EbTxqRq7koX55bkuTo6vuvYpUt4nfKKTxM0bCyzNuOb4nabt3N4zEZLWRCnktoVYSmT0QTpAfpPuTz4uYsNsNaqjUfXPK6hfur_-4W_GsiezV1hK4gFWCNrZSrERyO9aQ";
const RSA_DER_B64: &str = "MIIEowIBAAKCAQEAq/WTrbsj8U5NM7iHbVhbdLnT8I93Vymk1IHyRoYhzRc8606UIo7Lvdte9tjfInlMBIkzXiBRQjA1WrppU1fyQJTjrrXWj/ZQcSRalL8wrkRgXN7qCYf1QtFYsmdSnVlt4ZgT/lRp71yk7eQ1VG4xr36bj0llU4fpDHmylBfn2VeFMqKg379sDhBYsvOXy0bbwAJH5ws5aVRxObGoZkyA8EbTxqRq7koX55bkuTo6vuvYpUt4nfKKTxM0bCyzNuOb4nabt3N4zEZLWRCnktoVYSmT0QTpAfpPuTz4uYsNsNaqjUfXPK6hfur/+4W/GsiezV1hK4gFWCNrZSrERyO9aQIDAQABAoIBABRoMO3pqxLMgZH1QLEjzrq0AOhoBjgkW4jSoQ9ohKNjshmUujS9sIUn/wWZaCWdsn1JUPzHJg2OTg6l17EJ21h5sul9b+imyRYcQ9mqNNtBhxQOakTWSy9yS63kYCQHRGiE1T6WAvpiiromnoOWDjRu+IQRKEK4+tm9qYk0qxGaRQUka03k0JBjil5RNYuFzQzgL1N40FR8Rq1t9ZWkH7OSGffkXYs7GfEZQnka5kwAHkL9f1ykdz1tD72FVz4puWLjHu7tUqjXBSZYr4WbyDdCyHWNcBo+a2ACxwjMH1fSBnqaLPsPRD6jpwyH9Y5axj810W2J4p7Z5PcHvgLVfucCgYEA19tpsSw9PcUh32Yw7VQo/GtRN6Wc2IQ05TAFITsBauu3DtPkUb8NLSFiMANj+EL4M3szCWi47vs2oeX5vceg7A48/GrTEia2zx2GkhxyzPngGRD5Jxyte2rwIAy2fub8yC5DPVtz9J0FnS3OsPfv8pOc40M72VaNZf8z+151SCMCgYEAy/BDzNmSQuqLAuQi1Ts3MsxyYsT9WnM/qspffSjVkQhvhwBmOY2/+xPH7zSdc2qTPl2qWn/d02tJmW8KVRY5qpd+7oJA/h5J2lvVulfD/riFvY65uhrvZRY5Qpxu6QL68CApKt1afps63HgzTudGZKKNd+N7SP83MpwzrVLAVwMCgYEAlNxPy0uDAHJOpc3HuCPuEAXCgOnJfNfP0q6HGx+iHqZoG+Ws82MaJyF6oTn1W2Rz3qz7yWVbBBRi3MvIq0Rcie5XyIuy/DWOpM7r2x+bXBiGn0LBUGPKj+5zouahhGqvsS2WWV4UXYFcOcU5YXnbFCMQcvoO8BdsdAbHRnch0pkCgYAc68/RpzE0yCo6mLvP3Xvweknmc+UyBJIM2HI+P6I51SZr0MSueMm3A5Eg/ScvDPggqgvUlbmRl+9yEOs4MdSvuphHnrU01HrIuqlOqc+juetNfIYePF+iyEoKhkC8Tq3ji8wKxiVlOwJX7bvo/qde8iZ50ArVyUu8o6Y4eDnKnQKBgHnop1SdkXXOHV2xSO06+u5JCf7LnusysKG81uwNwYY0PJN01JgfFOk2DfjT2H9BILAKDMPvWDW4ScKakONFfYwfPgWYXrijET0uvDYkQ1uqmEmgY0FOa5xZtm/crzKfTHpmYiITyBdUR12mnjR3yfA+5fpBL6MQif+4FhUARL1X";

const AUD: &str = "pullkey";
const ISS: &str = "https://kubernetes.default.svc.cluster.local";
const NOW: i64 = 1_750_000_000;

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_der(&base64::engine::general_purpose::STANDARD.decode(RSA_DER_B64).unwrap())
}

fn rsa_jwk(kid: &str) -> Value {
    json!({"use": "sig", "kty": "RSA", "kid": kid, "alg": "RS256", "n": RSA_N, "e": "AQAB"})
}

/// An EC key pair (PKCS#8 for signing) and its public JWK.
fn ec_key(kid: &str, p384: bool) -> (EncodingKey, Value) {
    let (alg, crv, size) = if p384 {
        (&ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48)
    } else {
        (&ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32)
    };
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref(); // 0x04 || x || y
    let jwk = json!({"use": "sig", "kty": "EC", "kid": kid, "crv": crv,
        "x": b64url(&point[1..=size]), "y": b64url(&point[size + 1..])});
    (EncodingKey::from_ec_der(pkcs8.as_ref()), jwk)
}

fn claims(namespace: &str, sa: &str) -> Value {
    json!({
        "aud": [AUD], "iss": ISS, "exp": NOW + 3600, "iat": NOW - 60, "nbf": NOW - 60,
        "jti": "3f1e", "sub": format!("system:serviceaccount:{namespace}:{sa}"),
        "kubernetes.io": {
            "namespace": namespace,
            "node": {"name": "node-1", "uid": "n-uid"},
            "pod": {"name": "app-7d9f", "uid": "pod-uid"},
            "serviceaccount": {"name": sa, "uid": format!("{sa}-uid")},
            "warnafter": NOW + 3000,
        },
    })
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).unwrap()
}

fn verifier(keys: &[Value]) -> TokenVerifier {
    let jwks = Jwks::parse(json!({"keys": keys}).to_string().as_bytes(), "jwks.json").unwrap();
    TokenVerifier::new(AUD, Some(ISS), jwks)
}

fn code(result: Result<Identity, TenantError>) -> &'static str {
    result.unwrap_err().kind.code()
}

#[test]
fn rs256_es256_es384_tokens_verify_and_carry_the_identity() {
    let (es256, es256_jwk) = ec_key("ec", false);
    let (es384, es384_jwk) = ec_key("ec384", true);
    let v = verifier(&[rsa_jwk("rsa"), es256_jwk, es384_jwk]);
    for token in [
        sign(Algorithm::RS256, Some("rsa"), &rsa_key(), &claims("team-a", "builder")),
        sign(Algorithm::ES256, Some("ec"), &es256, &claims("team-a", "builder")),
        sign(Algorithm::ES384, Some("ec384"), &es384, &claims("team-a", "builder")),
        // No kid: every key that fits the algorithm is tried.
        sign(Algorithm::ES256, None, &es256, &claims("team-a", "builder")),
    ] {
        let id = v.verify(&token, NOW).unwrap();
        assert_eq!(
            (
                id.namespace.as_str(),
                id.service_account.as_str(),
                id.service_account_uid.as_str()
            ),
            ("team-a", "builder", "builder-uid")
        );
        assert_eq!((id.pod_name.as_str(), id.pod_uid.as_str()), ("app-7d9f", "pod-uid"));
        assert_eq!(id.expires_at, NOW + 3600);
        assert!(id.verified);
    }
}

#[test]
#[allow(clippy::too_many_lines)] // reason: one table of cases, one per failure
fn every_failure_has_its_code() {
    let (es256, es256_jwk) = ec_key("ec", false);
    let (other, _) = ec_key("ec", false);
    let v = verifier(&[rsa_jwk("rsa"), es256_jwk]);
    let good = claims("team-a", "default");
    let with = |patch: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        patch(&mut c);
        sign(Algorithm::RS256, Some("rsa"), &rsa_key(), &c)
    };
    // Wrongly signed: another key under the same kid.
    assert_eq!(
        code(v.verify(&sign(Algorithm::ES256, Some("ec"), &other, &good), NOW)),
        "token_signature"
    );
    assert_eq!(
        code(v.verify(&sign(Algorithm::ES256, Some("nope"), &es256, &good), NOW)),
        "token_unknown_key"
    );
    // ES256 header on the RSA key's kid: no key fits.
    assert_eq!(
        code(v.verify(&sign(Algorithm::ES256, Some("rsa"), &es256, &good), NOW)),
        "token_unknown_key"
    );
    // HS256 signed with the public modulus as the secret: the classic key-confusion forgery.
    let forged = sign(
        Algorithm::HS256,
        Some("rsa"),
        &EncodingKey::from_secret(RSA_N.as_bytes()),
        &good,
    );
    assert_eq!(code(v.verify(&forged, NOW)), "token_algorithm");
    // alg none.
    let none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none"}"#),
        b64url(good.to_string().as_bytes())
    );
    assert_eq!(code(v.verify(&none, NOW)), "token_malformed");
    let none_sig = format!(
        "{}.{}.x",
        b64url(br#"{"alg":"none"}"#),
        b64url(good.to_string().as_bytes())
    );
    assert_eq!(code(v.verify(&none_sig, NOW)), "token_algorithm");
    // Tampered claims under a valid signature.
    let token = with(&|_| {});
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = b64url(claims("team-b", "default").to_string().as_bytes());
    assert_eq!(code(v.verify(&parts.join("."), NOW)), "token_signature");

    assert_eq!(
        code(v.verify(&with(&|c| c["exp"] = json!(NOW - 31)), NOW)),
        "token_expired"
    );
    assert!(
        v.verify(&with(&|c| c["exp"] = json!(NOW - 30)), NOW).is_ok(),
        "30 s leeway"
    );
    assert_eq!(
        code(v.verify(&with(&|c| c["nbf"] = json!(NOW + 31)), NOW)),
        "token_not_yet_valid"
    );
    assert!(v.verify(&with(&|c| c["nbf"] = json!(NOW + 30)), NOW).is_ok());
    assert_eq!(
        code(v.verify(&with(&|c| c["aud"] = json!(["vault"])), NOW)),
        "token_audience"
    );
    assert_eq!(
        code(v.verify(&with(&|c| c["aud"] = json!([AUD, "vault"])), NOW)),
        "token_audience"
    );
    assert!(
        v.verify(&with(&|c| c["aud"] = json!(AUD)), NOW).is_ok(),
        "a single string audience"
    );
    assert_eq!(
        code(v.verify(&with(&|c| drop(c.as_object_mut().unwrap().remove("aud"))), NOW)),
        "token_audience"
    );
    assert_eq!(
        code(v.verify(&with(&|c| c["iss"] = json!("https://evil")), NOW)),
        "token_issuer"
    );
    assert_eq!(
        code(v.verify(&with(&|c| drop(c.as_object_mut().unwrap().remove("exp"))), NOW)),
        "token_claims"
    );
    assert_eq!(
        code(v.verify(&with(&|c| c["exp"] = json!("soon")), NOW)),
        "token_claims"
    );
    assert_eq!(
        code(v.verify(
            &with(&|c| drop(c.as_object_mut().unwrap().remove("kubernetes.io"))),
            NOW
        )),
        "token_claims"
    );
    assert_eq!(
        code(v.verify(&with(&|c| c["sub"] = json!("system:serviceaccount:x:y")), NOW)),
        "token_claims"
    );
    for junk in ["", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30.sig", &"a".repeat(70_000)] {
        assert_eq!(code(v.verify(junk, NOW)), "token_malformed", "{junk:.20}");
    }
    // No message quotes the token.
    let token = with(&|c| c["exp"] = json!(NOW - 100));
    let message = v.verify(&token, NOW).unwrap_err().message;
    assert!(
        !message.contains(&token[..20]) && message.contains("expired 100 s ago"),
        "{message}"
    );
}

#[test]
fn trusting_the_kubelet_skips_only_the_signature() {
    let (other, _) = ec_key("ec", false);
    let v = TokenVerifier::trusting(AUD, None);
    assert!(!v.verifies_signatures());
    let id = v
        .verify(
            &sign(Algorithm::ES256, Some("x"), &other, &claims("team-b", "default")),
            NOW,
        )
        .unwrap();
    assert_eq!((id.namespace.as_str(), id.verified), ("team-b", false));
    let mut late = claims("team-b", "default");
    late["exp"] = json!(NOW - 100);
    assert_eq!(
        code(v.verify(&sign(Algorithm::ES256, None, &other, &late), NOW)),
        "token_expired"
    );
    let mut wrong = claims("team-b", "default");
    wrong["aud"] = json!(["other"]);
    assert_eq!(
        code(v.verify(&sign(Algorithm::ES256, None, &other, &wrong), NOW)),
        "token_audience"
    );
}

#[test]
fn jwks_documents() {
    let (_, ec) = ec_key("ec", false);
    let set = json!({"keys": [
        rsa_jwk("rsa"),
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed"},
        {"kty": "RSA", "use": "enc", "n": RSA_N, "e": "AQAB", "kid": "enc"},
        {"kty": "RSA", "alg": "ES256", "n": RSA_N, "e": "AQAB", "kid": "mismatch"},
        {"kty": "XYZ", "kid": "weird"},
        ec,
    ]});
    let jwks = Jwks::parse(set.to_string().as_bytes(), "j.json").unwrap();
    assert_eq!(jwks.kids(), ["rsa", "ec"]);
    assert_eq!(jwks.warnings.len(), 5, "{:?}", jwks.warnings);
    assert!(jwks.warnings.iter().all(|w| w.starts_with("j.json: keys[")));
    for bad in [
        &b"not json"[..],
        b"[]",
        b"{}",
        br#"{"keys": []}"#,
        br#"{"keys": [{"kty": "oct", "k": "eA"}]}"#,
    ] {
        let e = Jwks::parse(bad, "j.json").unwrap_err();
        assert_eq!(e.kind.code(), "invalid_jwks");
        assert!(e.message.starts_with("j.json: "), "{}", e.message);
    }
}

fn sets(yaml: &str) -> Vec<CredentialSet> {
    let doc = format!(
        "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\ntenants:\n  audience: {AUD}\n  issuer: {ISS}\n  jwksPath: j.json\n  cacheType: ServiceAccount\ncredentialSets:\n{yaml}"
    );
    parse_provider_config(doc.as_bytes(), "c.yaml")
        .unwrap()
        .tenants
        .unwrap()
        .sets
}

fn identity(namespace: &str, sa: &str) -> Identity {
    Identity {
        namespace: namespace.into(),
        service_account: sa.into(),
        service_account_uid: "u".into(),
        pod_name: String::new(),
        pod_uid: String::new(),
        expires_at: NOW,
        verified: true,
    }
}

#[test]
fn selection_first_match_with_reasons() {
    let sets = sets(
        "  - name: builders\n    sources: [{type: DockerConfig, path: b.json}]\n    selector: {serviceAccounts: [team-a/builder]}\n  - name: team-a\n    sources: [{type: DockerConfig, path: a.json}]\n    selector: {namespaces: [team-a]}\n  - name: labelled\n    sources: [{type: DockerConfig, path: l.json}]\n    selector:\n      namespaces: [team-c]\n      annotations: {pullkey.dev/credential-set: gold}\n",
    );
    let s = select_set(&sets, &identity("team-a", "builder"), Some(&[]));
    assert_eq!(s.chosen, Some(0));
    assert!(
        s.verdicts[1].reason.contains("earlier set \"builders\""),
        "{:?}",
        s.verdicts[1]
    );
    let s = select_set(&sets, &identity("team-a", "default"), Some(&[]));
    assert_eq!(s.chosen, Some(1));
    assert_eq!(
        s.verdicts[0].reason,
        "service account team-a/default is not one of [\"team-a/builder\"]"
    );
    let gold = [("pullkey.dev/credential-set".to_owned(), "gold".to_owned())];
    assert_eq!(select_set(&sets, &identity("team-c", "x"), Some(&gold)).chosen, Some(2));
    // Over gRPC nobody vouches for annotations: the annotated set never applies.
    let s = select_set(&sets, &identity("team-c", "x"), None);
    assert_eq!(s.chosen, None);
    assert!(
        s.verdicts[2].reason.contains("only the kubelet's exec request"),
        "{:?}",
        s.verdicts[2]
    );
    let silver = [("pullkey.dev/credential-set".to_owned(), "silver".to_owned())];
    let s = select_set(&sets, &identity("team-c", "x"), Some(&silver));
    assert_eq!(
        (s.chosen, s.verdicts[2].reason.as_str()),
        (None, "annotation pullkey.dev/credential-set is not \"gold\"")
    );
    assert_eq!(
        select_set(&sets, &identity("team-b", "default"), Some(&gold)).chosen,
        None
    );
}

#[test]
fn tenant_keyring_puts_the_set_first() {
    use crate::credential::AuthEntry;
    use crate::keyring::{BasicKeyring, Keyring};
    let ring = |user: &str| {
        let mut g = BasicKeyring::new();
        g.add(
            "r.io",
            AuthEntry {
                username: user.into(),
                password: "p".into(),
                ..Default::default()
            },
            user,
        );
        Keyring { groups: vec![g] }
    };
    let both = tenant_keyring(&ring("tenant"), &ring("node"));
    let users: Vec<&str> = both.lookup("r.io/x").iter().map(|c| c.username()).collect();
    assert_eq!(users, ["tenant", "node"]);
}

#[test]
#[allow(clippy::too_many_lines)] // reason: one table of cases
fn config_errors_name_their_field() {
    let head = "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n";
    let tenants = "tenants: {audience: pullkey, issuer: https://k, jwksPath: j.json, cacheType: Token}\n";
    let set =
        "credentialSets: [{name: a, sources: [{type: DockerConfig, path: a.json}], selector: {namespaces: [a]}}]\n";
    let cases = [
        (format!("{head}{tenants}"), "credentialSets", "required when tenants is set"),
        (format!("{head}{set}"), "tenants", "required when credentialSets is set"),
        (format!("{head}{tenants}credentialSets: []\n"), "credentialSets", "must not be empty"),
        (
            format!("{head}tenants: {{issuer: https://k, jwksPath: j, cacheType: Token}}\n{set}"),
            "tenants.audience",
            "required",
        ),
        (
            format!("{head}tenants: {{audience: a, issuer: https://k, jwksPath: j}}\n{set}"),
            "tenants.cacheType",
            "required",
        ),
        (
            format!("{head}tenants: {{audience: a, issuer: https://k, jwksPath: j, cacheType: token}}\n{set}"),
            "tenants.cacheType",
            "unknown cache type \"token\"",
        ),
        (
            format!("{head}tenants: {{audience: a, issuer: https://k, cacheType: Token}}\n{set}"),
            "tenants.jwksPath",
            "unless trustKubeletRequest",
        ),
        (
            format!("{head}tenants: {{audience: a, jwksPath: j, cacheType: Token}}\n{set}"),
            "tenants.issuer",
            "unless trustKubeletRequest",
        ),
        (
            format!("{head}tenants: {{audience: a, jwksPath: j, cacheType: Token, verify: no}}\n{set}"),
            "tenants.verify",
            "unknown field",
        ),
        (
            format!("{head}{tenants}credentialSets: [{{name: A, sources: [{{type: DockerConfig, path: a}}], selector: {{namespaces: [a]}}}}]\n"),
            "credentialSets[0].name",
            "not a valid set name",
        ),
        (
            format!("{head}{tenants}credentialSets: [{{name: a, sources: [{{type: SearchPaths}}], selector: {{namespaces: [a]}}}}]\n"),
            "credentialSets[0].sources[0].type",
            "node-wide",
        ),
        (
            format!("{head}{tenants}credentialSets: [{{name: a, sources: [{{type: DockerConfig}}], selector: {{namespaces: [a]}}}}]\n"),
            "credentialSets[0].sources[0].path",
            "required",
        ),
        (
            format!("{head}{tenants}credentialSets: [{{name: a, sources: [{{type: DockerConfig, path: a}}]}}]\n"),
            "credentialSets[0].selector",
            "required",
        ),
        (
            format!("{head}{tenants}credentialSets: [{{name: a, sources: [{{type: DockerConfig, path: a}}], selector: {{}}}}]\n"),
            "credentialSets[0].selector",
            "at least one",
        ),
        (
            format!("{head}{tenants}credentialSets: [{{name: a, sources: [{{type: DockerConfig, path: a}}], selector: {{serviceAccounts: [builder]}}}}]\n"),
            "credentialSets[0].selector.serviceAccounts[0]",
            "namespace/name",
        ),
        (
            format!("{head}{tenants}credentialSets: [{{name: a, sources: [{{type: DockerConfig, path: a}}], selector: {{namespaces: [Team]}}}}]\n"),
            "credentialSets[0].selector.namespaces[0]",
            "DNS-1123 label",
        ),
        (
            format!("{head}{tenants}credentialSets: [{{name: a, sources: [{{type: DockerConfig, path: a}}], selector: {{annotations: {{'bad key': x}}}}}}]\n"),
            "credentialSets[0].selector.annotations[\"bad key\"]",
            "not a valid annotation key",
        ),
        (
            format!("{head}{tenants}credentialSets: [{{name: a, sources: [{{type: DockerConfig, path: a}}], selector: {{namespaces: [a]}}}}, {{name: a, sources: [{{type: DockerConfig, path: b}}], selector: {{namespaces: [b]}}}}]\n"),
            "credentialSets[1].name",
            "duplicate set name",
        ),
        (
            format!("{head}{tenants}credentialSets: [{{name: a, sources: [{{type: DockerConfig, path: a}}], selector: {{namespace: [a]}}}}]\n"),
            "credentialSets[0].selector.namespace",
            "unknown field",
        ),
    ];
    for (doc, path, message) in cases {
        let err = parse_provider_config(doc.as_bytes(), "c.yaml").unwrap_err();
        assert_eq!(err.path, path, "{doc}");
        assert!(err.message.contains(message), "{doc}: {}", err.message);
    }
    let trusting =
        format!("{head}tenants: {{audience: a, cacheType: ServiceAccount, trustKubeletRequest: true}}\n{set}");
    let t = parse_provider_config(trusting.as_bytes(), "c.yaml")
        .unwrap()
        .tenants
        .unwrap();
    assert!(t.settings.trust_kubelet_request && t.settings.jwks_path.is_none());
    assert_eq!(t.sets[0].sources[0].path.as_deref(), Some("a.json"));
}
