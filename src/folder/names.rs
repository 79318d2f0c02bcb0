//! Visit names as folder names: one a visit may have on every system its results may go to
//! (Linux, macOS, Windows), and when two names are one folder there.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// Characters Windows refuses in a file name (and `/`, which every system refuses).
const REFUSED: &[char] = &['<', '>', ':', '"', '/', '\\', '|', '?', '*'];

/// Unicode's bidirectional controls and characters that show nothing (format characters).
const INVISIBLE: &[char] = &[
    '\u{61c}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}',
    '\u{202d}', '\u{202e}', '\u{2060}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{feff}',
];

/// Names Windows keeps for devices, with or without an extension (`CON`, `com1.txt`).
const DEVICES: &[&str] = &["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];

/// Why `name` cannot be a folder on Linux, macOS or Windows, if it cannot.
pub(crate) fn problem(name: &str) -> Option<String> {
    let rule = "a visit's name must be a folder name on Linux, macOS and Windows: rename its folder";
    if let Some(c) = name.chars().find(|c| REFUSED.contains(c) || c.is_control()) {
        return Some(format!("its name holds {c:?}, which Windows refuses in a folder name; {rule}"));
    }
    // Characters that change how the rest of a name shows (right-to-left overrides, ones
    // that show nothing) would disguise a patient's name on the service and in pages.
    if let Some(c) = name.chars().find(|c| INVISIBLE.contains(c)) {
        return Some(format!(
            "its name holds {c:?}, which changes how the rest of a name shows or shows nothing: rename its folder"
        ));
    }
    if name.ends_with(['.', ' ']) {
        return Some(format!("its name ends with a dot or a space, which Windows drops; {rule}"));
    }
    let stem = name.split('.').next().unwrap_or_default().trim_end().to_ascii_uppercase();
    let numbered = ["COM", "LPT"].iter().any(|device| {
        stem.strip_prefix(device)
            .is_some_and(|n| matches!(n, "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"))
    });
    if DEVICES.contains(&stem.as_str()) || numbered {
        return Some(format!("{stem} is a device on Windows, not a folder; {rule}"));
    }
    if name.len() > crate::util::temporary::NAME_MAX {
        return Some(format!("its name is longer than 255 bytes; {rule}"));
    }
    None
}

/// `name` in Unicode normalization form C (accents as one character each).
pub(crate) fn nfc(name: &str) -> String {
    name.nfc().collect()
}

/// What `name` is as a folder on a file system that ignores case and Unicode
/// normalization (macOS, Windows): two names with one clash key are one folder there.
pub(crate) fn clash_key(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase().nfc().collect()
}

/// Of visits named `names` (`patient/visit`, or a visit that is a patient of its own),
/// those whose patients, or whose names, differ from another's only in case or in Unicode
/// normalization (`José` typed on macOS and elsewhere): they would share one output folder
/// on macOS and Windows. For each name, why it cannot be used, if it cannot.
pub(crate) fn clashes(names: &[&str]) -> Vec<Option<String>> {
    let mut why = vec![None; names.len()];
    let levels: [fn(&str) -> &str; 2] = [|name| name.split('/').next().unwrap_or(name), |name| name];
    for level in levels {
        let mut by_folder: HashMap<String, Vec<&str>> = HashMap::new();
        for name in names {
            let spellings = by_folder.entry(clash_key(level(name))).or_default();
            if !spellings.contains(&level(name)) {
                spellings.push(level(name));
            }
        }
        for (name, why) in names.iter().zip(&mut why) {
            let spellings = &by_folder[&clash_key(level(name))];
            if spellings.len() > 1 {
                let spellings: Vec<String> = spellings.iter().map(|n| format!("{n:?}")).collect();
                *why = Some(format!(
                    "{} would share one output folder (names that differ only in case or in how an accent is \
                     written are one folder on macOS and Windows): rename one of them",
                    spellings.join(" and ")
                ));
            }
        }
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_be_a_folder_somewhere_are_refused() {
        for bad in [
            "a:b",
            "a?",
            "x*",
            "a|b",
            "a\"b",
            "a<b",
            "a\\b",
            "tab\there",
            "esc\u{1b}[2J",
            "dot.",
            "space ",
            "anna\u{202e}gpj",
        ] {
            assert!(problem(bad).is_some(), "{bad:?}");
        }
        for device in ["CON", "con", "nul.txt", "Com1", "LPT9.tar.gz", "aux .txt", "COM²"] {
            assert!(problem(device).is_some_and(|p| p.contains("device")), "{device}: {:?}", problem(device));
        }
        for good in ["visit-1", "José", "2026-01-05T10-30", "console", "com10", "lpt", "x.json", ".hidden", "=1+2"] {
            assert_eq!(problem(good), None, "{good}");
        }
        assert!(problem(&"x".repeat(256)).is_some());
    }

    #[test]
    fn names_that_differ_in_case_or_normalization_only_clash() {
        assert_eq!(clash_key("Jos\u{e9}"), clash_key("Jose\u{301}"));
        assert_eq!(clash_key("JOSÉ"), clash_key("josé"));
        assert_ne!(clash_key("jose"), clash_key("josé"));
    }
}
