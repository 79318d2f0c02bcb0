//! Which photo is which side, for `hautai analyze`: one, two or three photos, each side
//! given by a flag (`--left PATH`) or told by its file's name (`left.jpg`, `Front-2.png`),
//! as the folder run tells them.

use std::path::{Path, PathBuf};

use hautai::Side;

use crate::Failure;

/// The photos of `positional` (sides from their names) and of the side flags, in API
/// order. Three positional photos whose names say no side are front, left and right in
/// that order, as the command always took them. A side given twice, or a photo whose
/// side cannot be told, is a usage error that says what to do.
pub fn by_side(positional: &[PathBuf], flags: [(Side, Option<&PathBuf>); 3]) -> Result<Vec<(Side, PathBuf)>, Failure> {
    if positional.len() > 3 {
        return Err(Failure::usage(format!(
            "{} photos given: an analysis takes at most three, one per side (front, left, right)",
            positional.len()
        )));
    }
    let named: Vec<Option<Side>> = positional.iter().map(|photo| side_in_name(photo)).collect();
    let flagged = flags.iter().filter(|(_, photo)| photo.is_some()).count();
    let told: Vec<(Side, PathBuf)> = match (positional.len(), named.iter().all(Option::is_none), flagged) {
        (3, true, 0) => Side::ALL.into_iter().zip(positional.iter().cloned()).collect(),
        _ => positional
            .iter()
            .zip(&named)
            .map(|(photo, side)| {
                side.map(|side| (side, photo.clone())).ok_or_else(|| {
                    Failure::usage(format!(
                        "cannot tell the side of {} from its name (front…, left…, right…): give it with --front, \
                         --left or --right",
                        photo.display()
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut sides: Vec<(Side, PathBuf)> = Vec::new();
    let given = flags.into_iter().filter_map(|(side, photo)| Some((side, photo?.clone())));
    for (side, photo) in told.into_iter().chain(given) {
        if let Some((_, first)) = sides.iter().find(|(s, _)| *s == side) {
            return Err(Failure::usage(format!(
                "two {side} photos, {} and {}: give one photo per side",
                first.display(),
                photo.display()
            )));
        }
        sides.push((side, photo));
    }
    sides.sort_by_key(|(side, _)| Side::ALL.iter().position(|s| s == side));
    Ok(sides)
}

/// The side a file's name starts with, whatever its case: `Left-2026.jpg` is a left photo.
fn side_in_name(photo: &Path) -> Option<Side> {
    let name = photo.file_name()?.to_string_lossy().to_lowercase();
    Side::ALL.into_iter().find(|side| name.starts_with(side.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(PathBuf::from).collect()
    }

    fn sides(positional: &[&str], left: Option<&str>) -> Result<Vec<(Side, String)>, String> {
        let left = left.map(PathBuf::from);
        by_side(&paths(positional), [(Side::Front, None), (Side::Left, left.as_ref()), (Side::Right, None)])
            .map(|sides| sides.into_iter().map(|(side, p)| (side, p.display().to_string())).collect())
            .map_err(|failure| failure.message)
    }

    #[test]
    fn sides_come_from_names_from_flags_or_from_the_order_of_three() {
        let ok = |pairs: &[(Side, &str)]| Ok(pairs.iter().map(|(s, p)| (*s, p.to_string())).collect());
        assert_eq!(
            sides(&["a/Right.PNG", "x/front-1.jpg"], None),
            ok(&[(Side::Front, "x/front-1.jpg"), (Side::Right, "a/Right.PNG")])
        );
        assert_eq!(
            sides(&["a.jpg", "b.jpg", "c.jpg"], None),
            ok(&[(Side::Front, "a.jpg"), (Side::Left, "b.jpg"), (Side::Right, "c.jpg")])
        );
        assert_eq!(sides(&["front.jpg"], Some("l.jpg")), ok(&[(Side::Front, "front.jpg"), (Side::Left, "l.jpg")]));
        assert_eq!(sides(&[], Some("l.jpg")), ok(&[(Side::Left, "l.jpg")]));
        assert_eq!(sides(&[], None), ok(&[]));
    }

    #[test]
    fn a_side_given_twice_or_not_told_is_refused_with_the_way_out() {
        let err = sides(&["left.jpg"], Some("l.jpg")).unwrap_err();
        assert!(err.contains("two left photos, left.jpg and l.jpg"), "{err}");
        let err = sides(&["a.jpg", "b.jpg"], None).unwrap_err();
        assert!(err.contains("cannot tell the side of a.jpg") && err.contains("--front"), "{err}");
        let err = sides(&["front.jpg", "left.jpg", "right.jpg", "front-2.jpg"], None).unwrap_err();
        assert!(err.contains("4 photos given: an analysis takes at most three"), "{err}");
        let err = sides(&["a.jpg", "b.jpg", "c.jpg"], Some("l.jpg")).unwrap_err();
        assert!(err.contains("cannot tell the side of a.jpg"), "three unnamed with a flag: {err}");
    }
}
