//! File names for a batch's assets, safe and unique by construction.
//!
//! The rule (also in [`Asset::file_name`](super::Asset::file_name)):
//! * made of the asset's place (application unless Face Skin Analysis 3.0, parameter,
//!   side, the rest of its place), with every character but ASCII letters, digits, `-` and
//!   `_` replaced by `_`, so no name holds a path separator, `..`, a space or markup;
//! * at most [`MAX_STEM`] characters before the extension (a longer place is cut and keeps
//!   a hash of the whole), so a name fits every common file system and Windows' path limit
//!   with room for the folders above it;
//! * an extension from the URL only if it is a picture's (`png`, `jpg`, `jpeg`, `svg`,
//!   `webp`, `gif`), `bin` otherwise: an answer cannot plant an `.html` or an `.exe`;
//! * never a name Windows reserves for a device (`CON`, `nul`, `COM1`, ...), and (pictures
//!   only) never one of the files a save writes (`results.json`, `report.html`, ...);
//! * unique within the batch, case-insensitively: a name already taken gets `-` and eight
//!   hex digits of a hash of the asset's whole place, the same on every run.

use std::collections::HashSet;

/// The longest stem (the name before its extension), in ASCII characters.
pub(crate) const MAX_STEM: usize = 80;

/// Extensions kept from the URL; anything else is saved as `.bin`.
const PICTURES: [&str; 6] = ["png", "jpg", "jpeg", "svg", "webp", "gif"];

/// Names Windows reserves for devices, whatever the extension.
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Hands out the names of one batch's assets.
#[derive(Default)]
pub(crate) struct Names {
    taken: HashSet<String>,
}

impl Names {
    /// The name for an asset whose place is `parts` (application, parameter, side, kind:
    /// those that apply), `whole` its full place (for the hash), fetched from `url_path`.
    pub(crate) fn name(&mut self, parts: &[&str], whole: &str, url_path: &str) -> String {
        let extension = extension(url_path);
        let mut stem: String = parts
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| p.replace('/', "-"))
            .collect::<Vec<_>>()
            .join("-")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') { c } else { '_' })
            .collect();
        if stem.is_empty() {
            stem = "asset".to_owned();
        }
        // A name starting with `-` reads as an option to command-line tools.
        if stem.starts_with('-') {
            stem.replace_range(..1, "_");
        }
        let hash = format!("{:08x}", crate::util::fnv::fnv1a(whole.as_bytes()) as u32);
        if stem.len() > MAX_STEM {
            stem.truncate(MAX_STEM - 9);
            stem = format!("{stem}-{hash}");
        }
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&stem)) {
            stem.push('_');
        }
        let mut name = format!("{stem}.{extension}");
        // A clash: the hash of the whole place, then a counter should two hashes meet.
        let short = |stem: &str| stem[..stem.len().min(MAX_STEM - 12)].to_owned();
        let mut tries = 0u32;
        while self.taken.contains(&name.to_ascii_lowercase()) {
            tries += 1;
            let suffix = if tries == 1 { hash.clone() } else { format!("{hash}{tries}") };
            name = format!("{}-{suffix}.{extension}", short(&stem));
        }
        self.taken.insert(name.to_ascii_lowercase());
        name
    }
}

/// The URL path's extension if it is a picture's, lower-cased; `bin` otherwise.
fn extension(url_path: &str) -> String {
    let last = url_path.rsplit('/').next().unwrap_or_default();
    last.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| PICTURES.contains(&e.as_str()))
        .unwrap_or_else(|| "bin".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clashes_get_a_stable_hash_and_reserved_names_never_come_out() {
        let mut names = Names::default();
        assert_eq!(
            names.name(&["redness", "front", "masks/original"], "a", "/x/m.SVG"),
            "redness-front-masks-original.svg"
        );
        // Another place that maps to the same name (case only, punctuation only).
        let case = names.name(&["Redness", "front", "masks/original"], "b", "/x/m.svg");
        assert_eq!(case, format!("Redness-front-masks-original-{:08x}.svg", crate::util::fnv::fnv1a(b"b") as u32));
        assert_eq!(names.name(&["a_b"], "p", "/x.png"), "a_b.png");
        let punctuation = names.name(&["a.b"], "q", "/x.png");
        assert_eq!(punctuation, format!("a_b-{:08x}.png", crate::util::fnv::fnv1a(b"q") as u32));
        assert_eq!(names.name(&["con"], "c", "/x.png"), "con_.png");
        assert_eq!(names.name(&["lpt9"], "c", "/x.exe"), "lpt9_.bin");
        // Not a picture: never `results.json` or `report.html`, never an `.exe`.
        assert_eq!(names.name(&["results"], "d", "/r.json"), "results.bin");
        assert_eq!(names.name(&["report"], "e", "/r.html"), "report.bin");
        assert_eq!(names.name(&[""], "f", "/"), "asset.bin");
        assert_eq!(names.name(&["-1+1", "front"], "i", "/m.svg"), "_1_1-front.svg");
        assert_eq!(names.name(&["../../etc/passwd"], "g", "/p.png"), "__-__-etc-passwd.png");
        // 80 characters is not too long; two of them that differ in case still fit.
        assert_eq!(names.name(&[&"A".repeat(80)], "j", "/p.png"), format!("{}.png", "A".repeat(80)));
        let twin = names.name(&[&"a".repeat(80)], "k", "/p.png");
        assert!(twin.len() <= MAX_STEM + ".png".len() && twin.starts_with("aaa"), "{twin}");
        let long = names.name(&[&"x".repeat(300)], "h", "/p.png");
        assert_eq!(long.len(), MAX_STEM + ".png".len());
        assert!(long.ends_with(&format!("-{:08x}.png", crate::util::fnv::fnv1a(b"h") as u32)));
    }
}
