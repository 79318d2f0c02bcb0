//! Small utilities the layers share, none of them about the API: calendar dates, a hash,
//! temporary files beside their target, scrubbing secrets, URLs, limits, owner-only files
//! and text made visible on a terminal.

pub(crate) mod civil;
pub(crate) mod fnv;
pub(crate) mod limits;
pub(crate) mod private;
pub(crate) mod redact;
pub(crate) mod temporary;
pub(crate) mod url;
pub(crate) mod visible;
