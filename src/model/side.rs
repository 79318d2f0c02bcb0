use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A side of the face, as the API names the three photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The frontal photo.
    Front,
    /// The photo of the left side of the face.
    Left,
    /// The photo of the right side of the face.
    Right,
}

impl Side {
    /// The three sides, in the API's order.
    pub const ALL: [Side; 3] = [Side::Front, Side::Left, Side::Right];

    /// The API's name: `front`, `left` or `right`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Front => "front",
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Side {
    type Err = String;

    /// Parses `front`, `left` or `right` (any letter case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Side::ALL
            .into_iter()
            .find(|side| side.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown side {s:?}: expected front, left or right"))
    }
}
