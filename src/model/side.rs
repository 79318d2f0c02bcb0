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

/// One value per side: the API's `front`, `left` and `right` fields, written once. In
/// JSON it is those three optional fields (flattened into the enclosing object).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BySide<T> {
    #[serde(skip_serializing_if = "Option::is_none")]
    front: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    left: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    right: Option<T>,
}

impl<T> Default for BySide<T> {
    fn default() -> Self {
        BySide { front: None, left: None, right: None }
    }
}

impl<T> BySide<T> {
    /// The value of `side`, if there is one.
    pub(crate) fn get(&self, side: Side) -> Option<&T> {
        self.slot(side).as_ref()
    }

    /// Sets the value of `side`.
    pub(crate) fn set(&mut self, side: Side, value: T) {
        *self.slot_mut(side) = Some(value);
    }

    /// The sides that have a value, in the API's order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Side, &T)> {
        Side::ALL.into_iter().filter_map(|side| self.get(side).map(|value| (side, value)))
    }

    fn slot(&self, side: Side) -> &Option<T> {
        match side {
            Side::Front => &self.front,
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    fn slot_mut(&mut self, side: Side) -> &mut Option<T> {
        match side {
            Side::Front => &mut self.front,
            Side::Left => &mut self.left,
            Side::Right => &mut self.right,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for BySide<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_set_read_and_listed_in_api_order() {
        let mut names = BySide::default();
        names.set(Side::Right, "r");
        names.set(Side::Front, "f");
        assert_eq!(names.get(Side::Front), Some(&"f"));
        assert_eq!(names.get(Side::Left), None);
        assert_eq!(names.iter().collect::<Vec<_>>(), [(Side::Front, &"f"), (Side::Right, &"r")]);
        assert_eq!(serde_json::to_string(&names).unwrap(), r#"{"front":"f","right":"r"}"#);
        let back: BySide<String> = serde_json::from_str(r#"{"left": "l", "right": null}"#).unwrap();
        assert_eq!(back.iter().collect::<Vec<_>>(), [(Side::Left, &"l".to_owned())]);
    }
}
