//! The operations the bindings call, composed from the core pieces: building the merged keyring
//! from source contents ([`build`](build_keyring)), looking an image up and answering a kubelet exec
//! request ([`lookup_image`], [`exec_respond`]), and describing a reference ([`describe_reference`]).
//! Every operation returns [`CoreError`], the one error the bindings map.
//!
//! Pure like the rest of the core: the caller (Python) finds and reads the files and passes their
//! bytes in; this module never touches the file system.

mod build;
mod helpers;
mod lookup;
mod mirrors;
mod upstreams;

pub use build::{build_keyring, Built, SearchPolicy, SourceData, SourceFile};
pub use helpers::{helper_refs, with_helper_answers, HelperAnswer, HelperRefs};
pub use lookup::{exec_respond, lookup_image, repository_of};
pub use mirrors::{exec_respond_mirrored, mirror_images, mirrored_credentials, response_with_mirrors};
pub use upstreams::with_upstream_answers;

use crate::reference::{self, ReferenceView};
use crate::CoreError;

/// Parses `text` (normalised like `ParseNormalizedNamed`, or raw like `Parse`) into a [`ReferenceView`].
pub fn describe_reference(text: &str, normalize: bool) -> Result<ReferenceView, CoreError> {
    let reference = if normalize {
        reference::parse_normalized_named(text)?
    } else {
        reference::parse(text)?
    };
    Ok(ReferenceView::new(reference))
}

#[cfg(test)]
mod tests;
