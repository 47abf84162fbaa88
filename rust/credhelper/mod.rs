//! The docker-credential-helpers protocol, both ways (docs/helpers.md; docs/ecosystem.md §3.2):
//! reading what a helper prints for `get`, writing what pullkey prints as a helper
//! (`docker-credential-pullkey get`/`list`), the server URLs Docker uses, and a summary of a
//! helper's diagnostics that never repeats what could be a secret.
//!
//! Pure: the Python runner (`pullkey.helpers.runner`) starts the programs and hands their output here.

use crate::credential::Credential;
use crate::keyring::Keyring;
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// What Docker asks a helper for Docker Hub: `registry.IndexServer`
/// (docker/cli `cli/command/registry.go` `ResolveAuthConfig`, v28; docs/ecosystem.md §3.1).
pub const DOCKER_HUB_SERVER_URL: &str = "https://index.docker.io/v1/";
/// The helper's "not found" answer: an error whose text is exactly this means no credential, not a
/// failure (docker/docker-credential-helpers `credentials/error.go`, v0.9; docs/ecosystem.md §3.2).
pub const NOT_FOUND_MESSAGE: &str = "credentials not found in native keychain";
/// A `Username` of `<token>` means `Secret` is an identity (refresh) token, not a password
/// (docker/cli `cli/config/credentials/native_store.go` `tokenUsername`, v28; docs/ecosystem.md §3.2).
pub const TOKEN_USERNAME: &str = "<token>";
/// The registry host the reference grammar gives Docker Hub images (docs/reference.md).
const DOCKER_HUB_DOMAIN: &str = "docker.io";
/// Host spellings that stand for Docker Hub when a client asks pullkey (docs/ecosystem.md §3.5:
/// Docker's `index.docker.io`, containers/image's `docker.io` and `registry-1.docker.io`).
const DOCKER_HUB_HOSTS: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// The server URL Docker passes to a helper for a registry host (the `domain` of a normalised
/// reference): `https://index.docker.io/v1/` for Docker Hub, the host (`host[:port]`) otherwise.
/// It is also the key Docker looks up in `credHelpers` (docker/cli `cli/config/configfile/file.go`
/// `GetCredentialsStore`, v28).
#[must_use]
pub fn server_url_for_registry(domain: &str) -> String {
    if domain == DOCKER_HUB_DOMAIN || domain == "index.docker.io" {
        DOCKER_HUB_SERVER_URL.to_owned()
    } else {
        domain.to_owned()
    }
}

/// The registry host a client means by the server URL it wrote on a helper's stdin, as Docker reduces
/// it (docker/cli `cli/config/credentials/file_store.go` `ConvertToHostname`, v28): surrounding white
/// space trimmed, an `http://` or `https://` scheme and everything from the first `/` removed. The
/// Docker Hub spellings become `docker.io`. `None` when nothing is left.
#[must_use]
pub fn registry_of_server_url(input: &str) -> Option<String> {
    let text = input.trim();
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .unwrap_or(text);
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let lower = host.to_ascii_lowercase();
    Some(if DOCKER_HUB_HOSTS.contains(&lower.as_str()) {
        DOCKER_HUB_DOMAIN.to_owned()
    } else {
        host.to_owned()
    })
}

/// What a helper's `get` answered.
#[derive(Clone, PartialEq, Eq)]
pub enum GetOutcome {
    /// A username and a secret (`identity_token`: the username was `<token>`).
    Found {
        username: String,
        secret: String,
        identity_token: bool,
    },
    /// The helper has no credential for the server (its not-found message, or an empty answer).
    NotFound,
    /// Anything else: what went wrong, naming no value the helper printed.
    Error(String),
}

impl std::fmt::Debug for GetOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetOutcome::Found {
                username,
                identity_token,
                ..
            } => write!(
                f,
                "Found {{ username: {username:?}, secret: <redacted>, identity_token: {identity_token} }}"
            ),
            GetOutcome::NotFound => f.write_str("NotFound"),
            GetOutcome::Error(m) => write!(f, "Error({m:?})"),
        }
    }
}

/// The member of a JSON object named `name` the way Go's decoder finds it: an exact match, else
/// the first ASCII-case-insensitive one.
fn member<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Interprets a helper's `get` run: its exit status and stdout (docs/ecosystem.md §3.2). A failed run
/// whose stdout is the not-found message is `NotFound`; another failed run is an `Error` with a
/// summary of stdout (where the protocol puts error messages); a successful run must print a JSON
/// object with string `Username` and `Secret` members (any letter case, as Go decodes them).
#[must_use]
pub fn interpret_get(exit_ok: bool, stdout: &[u8]) -> GetOutcome {
    let text = String::from_utf8_lossy(stdout);
    if !exit_ok {
        if text.trim() == NOT_FOUND_MESSAGE {
            return GetOutcome::NotFound;
        }
        let said = summarize(stdout);
        return GetOutcome::Error(if said.is_empty() {
            "failed".to_owned()
        } else {
            format!("failed: {said}")
        });
    }
    let Ok(value) = serde_json::from_str::<Value>(text.trim()) else {
        return GetOutcome::Error(format!("printed {} bytes that are not a JSON object", stdout.len()));
    };
    let Value::Object(object) = value else {
        return GetOutcome::Error("printed JSON that is not an object".to_owned());
    };
    let field = |name: &str| match member(&object, name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(GetOutcome::Error(format!("printed a {name} that is not a string"))),
    };
    let (username, secret) = match (field("Username"), field("Secret")) {
        (Ok(u), Ok(s)) => (u, s),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    if username.is_empty() && secret.is_empty() {
        return GetOutcome::NotFound;
    }
    GetOutcome::Found {
        identity_token: username == TOKEN_USERNAME,
        username,
        secret,
    }
}

/// What `docker-credential-pullkey get` prints: `{"ServerURL": …, "Username": …, "Secret": …}`.
#[must_use]
pub fn render_get(server_url: &str, username: &str, secret: &str) -> Vec<u8> {
    let mut object = Map::new();
    object.insert("ServerURL".to_owned(), Value::String(server_url.to_owned()));
    object.insert("Username".to_owned(), Value::String(username.to_owned()));
    object.insert("Secret".to_owned(), Value::String(secret.to_owned()));
    let mut out = serde_json::to_vec(&Value::Object(object)).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The first credential, in kubelet order, that opens every repository of `registry` (a registry
/// host as [`registry_of_server_url`] returns it): the keyring looked up with `host/`, so only
/// keys without a path (or whose globs cover the host) count, plus the kubelet's `index.docker.io`
/// fallback for Docker Hub. Docker has no per-repository credentials (docs/ecosystem.md §3.1).
#[must_use]
pub fn first_for_registry<'a>(keyring: &'a Keyring, registry: &str) -> Option<&'a Credential> {
    // `host/`, not `host`: a bare name would be a Docker Hub image to the kubelet's fallback rule.
    keyring.lookup(&format!("{registry}/")).into_iter().next()
}

/// What `docker-credential-pullkey list` prints: a JSON object server URL → username, one member per
/// registry host that has a credential for every repository (keys without a path and without glob
/// characters), the username of its first credential in kubelet order.
#[must_use]
pub fn render_list(keyring: &Keyring) -> Vec<u8> {
    let mut object = Map::new();
    for group in &keyring.groups {
        for credential in group.credentials() {
            let key = credential.key();
            if key.contains(['/', '*', '?', '[', '\\']) {
                continue;
            }
            let url = server_url_for_registry(key);
            if object.contains_key(&url) {
                continue;
            }
            if let Some(first) = first_for_registry(keyring, &registry_of_server_url(&url).unwrap_or_default()) {
                object.insert(url, Value::String(first.username().to_owned()));
            }
        }
    }
    let mut out = serde_json::to_vec(&Value::Object(object)).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The most words a summary keeps.
const SUMMARY_WORDS: usize = 12;
/// The longest word a summary keeps.
const SUMMARY_WORD_LEN: usize = 20;

/// Whether a word can be shown: letters only (inner `'` and `-` allowed), at most 20 of them, in
/// lower case, Capitalised or upper case. Anything with a digit, a symbol, or mixed case (what tokens,
/// passwords, keys and URLs look like) is never shown.
fn showable(word: &str) -> bool {
    let letters = word.trim_matches(['\'', '-']);
    if letters.is_empty() || word.len() > SUMMARY_WORD_LEN || letters.len() != word.len() {
        return false;
    }
    if !word.bytes().all(|b| b.is_ascii_alphabetic() || b == b'\'' || b == b'-') {
        return false;
    }
    let rest = &word[1..];
    rest.bytes().all(|b| !b.is_ascii_uppercase()) || word.bytes().all(|b| !b.is_ascii_lowercase())
}

/// A one-line summary of a helper's diagnostic output (its error message or stderr) that never
/// repeats what could be a secret: the first non-blank line, word by word, keeping only words
/// [`showable`] allows (with their trailing `.,:;`), any other run of words shown as `…`, at most 12
/// words; then how many more lines there were. Empty for blank output.
#[must_use]
pub fn summarize(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return String::new();
    };
    let mut words: Vec<String> = Vec::new();
    for raw in first.split_whitespace() {
        if words.len() >= SUMMARY_WORDS {
            words.push("…".to_owned());
            break;
        }
        let word = raw.trim_end_matches(['.', ',', ':', ';']);
        let punct = &raw[word.len()..];
        if showable(word) {
            words.push(format!("{word}{punct}"));
        } else if words.last().map_or(true, |w| w != "…") {
            words.push("…".to_owned());
        }
    }
    let mut out = words.join(" ");
    let more = lines.count();
    if more > 0 {
        let _ = write!(out, " (+{more} more line{})", if more == 1 { "" } else { "s" });
    }
    out
}

#[cfg(test)]
mod tests;
