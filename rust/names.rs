//! The names of the core's enums, spelled once.
//!
//! Every enum that has a name in a config file, a flag, the exec wire format or the Python API lists
//! its names here through [`Named::NAMES`]; parsers, encoders and the bindings all go through it, so
//! a name and the "expected one of ..." list of its error can never disagree.

/// An enum whose values have stable names.
pub trait Named: Sized + Copy + PartialEq + 'static {
    /// Every value with its name, in the order the documentation lists them.
    const NAMES: &'static [(&'static str, Self)];

    /// The name of `self`.
    fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, v)| *v == self).map_or("", |(n, _)| n)
    }

    /// The value named `name` (exact case), if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The names, comma-separated, for an "expected one of ..." message.
    fn expected() -> String {
        Self::NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    }
}
