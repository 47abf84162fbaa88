//! Choosing the credential set of an identity: the first set in config order whose selector holds,
//! with the reason for every set (what `explain` shows).

use super::token::Identity;
use crate::config::{CredentialSet, Selector};

/// Why one set was or was not chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetVerdict {
    /// The set's `name`.
    pub name: String,
    /// Whether this is the chosen set.
    pub selected: bool,
    /// In words, naming the selector field that decided.
    pub reason: String,
}

/// The chosen set (an index into the sets) and a verdict per set, in config order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSelection {
    /// `None`: no set applies; the node sources alone answer.
    pub chosen: Option<usize>,
    /// One per set, in config order.
    pub verdicts: Vec<SetVerdict>,
}

/// Whether `selector` holds for `identity` (`Ok(reason)`) or not (`Err(reason)`).
///
/// `annotations`: the service account's annotations as the kubelet sent them (sorted by key), or
/// `None` where nobody vouches for them (the gRPC service: a caller's own `annotations` field proves
/// nothing); a selector with annotations then never holds.
fn holds(selector: &Selector, identity: &Identity, annotations: Option<&[(String, String)]>) -> Result<String, String> {
    let mut why = Vec::new();
    if !selector.namespaces.is_empty() {
        if !selector.namespaces.contains(&identity.namespace) {
            return Err(format!(
                "namespace {:?} is not one of {:?}",
                identity.namespace, selector.namespaces
            ));
        }
        why.push(format!("namespace {:?} is listed", identity.namespace));
    }
    if !selector.service_accounts.is_empty() {
        let me = (identity.namespace.clone(), identity.service_account.clone());
        if !selector.service_accounts.contains(&me) {
            let listed: Vec<String> = selector
                .service_accounts
                .iter()
                .map(|(ns, name)| format!("{ns}/{name}"))
                .collect();
            return Err(format!("service account {}/{} is not one of {listed:?}", me.0, me.1));
        }
        why.push(format!("service account {}/{} is listed", me.0, me.1));
    }
    if !selector.annotations.is_empty() {
        let Some(annotations) = annotations else {
            return Err(
                "selects by service-account annotations, which only the kubelet's exec request carries (a gRPC \
                 caller's annotations are not proven)"
                    .to_owned(),
            );
        };
        for (key, value) in &selector.annotations {
            match annotations.iter().find(|(k, _)| k == key) {
                Some((_, v)) if v == value => why.push(format!("annotation {key}={value:?} is present")),
                Some(_) => return Err(format!("annotation {key} is not {value:?}")),
                None => return Err(format!("annotation {key} is absent")),
            }
        }
    }
    Ok(why.join(", "))
}

/// The set for `identity`: the first in `sets` whose selector holds (see [`holds`] for `annotations`).
pub fn select_set(
    sets: &[CredentialSet],
    identity: &Identity,
    annotations: Option<&[(String, String)]>,
) -> TenantSelection {
    let mut chosen = None;
    let verdicts = sets
        .iter()
        .enumerate()
        .map(|(i, set)| {
            let (selected, reason) = match (holds(&set.selector, identity, annotations), chosen) {
                (Ok(why), None) => {
                    chosen = Some(i);
                    (true, why)
                }
                (Ok(why), Some(first)) => (
                    false,
                    format!(
                        "{why}, but the earlier set {:?} was chosen (the first match in config order wins)",
                        sets.get(first).map_or("", |s: &CredentialSet| s.name.as_str())
                    ),
                ),
                (Err(why), _) => (false, why),
            };
            SetVerdict {
                name: set.name.clone(),
                selected,
                reason,
            }
        })
        .collect();
    TenantSelection { chosen, verdicts }
}
