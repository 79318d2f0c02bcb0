//! Visit names as folder names: one a visit may have on every system its results may go to
//! (Linux, macOS, Windows), and when two names are one folder there.

use unicode_normalization::UnicodeNormalization;

/// Characters Windows refuses in a file name (and `/`, which every system refuses).
const REFUSED: &[char] = &['<', '>', ':', '"', '/', '\\', '|', '?', '*'];

/// Names Windows keeps for devices, with or without an extension (`CON`, `com1.txt`).
const DEVICES: &[&str] = &["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];

/// Why `name` cannot be a folder on Linux, macOS or Windows, if it cannot.
pub(crate) fn problem(name: &str) -> Option<String> {
    let rule = "a visit's name must be a folder name on Linux, macOS and Windows: rename its folder";
    if let Some(c) = name.chars().find(|c| REFUSED.contains(c) || c.is_control()) {
        return Some(format!("its name holds {c:?}, which Windows refuses in a folder name; {rule}"));
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
    if name.len() > crate::temporary::NAME_MAX {
        return Some(format!("its name is longer than 255 bytes; {rule}"));
    }
    None
}

/// What `name` is as a folder on a file system that ignores case and Unicode
/// normalization (macOS, Windows): two names with one clash key are one folder there.
pub(crate) fn clash_key(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase().nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_be_a_folder_somewhere_are_refused() {
        for bad in ["a:b", "a?", "x*", "a|b", "a\"b", "a<b", "a\\b", "tab\there", "esc\u{1b}[2J", "dot.", "space "] {
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
