//! Text from outside (visit and file names, the service's messages) made safe to show on a
//! terminal or in a spreadsheet: control characters written out as `\u{1b}` instead of
//! acting on the screen (retitling a window, clearing it, colouring it), and the invisible
//! marks that reorder text (bidirectional overrides) made visible too.
//!
//! The library writes `summary.csv` and the service's messages through it; the command
//! compiles this same file and sends every line it prints through it, so that one rule
//! holds for both.

use std::borrow::Cow;

/// `text` with every control character but the tab (a line break too) shown as an escape,
/// `\u{1b}` for ESC: whatever a name or a message holds, printing it cannot move the
/// cursor, change colours, retitle or clear the terminal, or hide part of a line.
pub(crate) fn visible(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| c != '\t' && (c.is_control() || reorders(c));
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// The bidirectional embeddings, overrides and isolates: invisible, and able to show a
/// line in another order than the one it has (`U+202E` right-to-left override).
fn reorders(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_that_act_on_a_terminal_are_shown_not_sent() {
        for (raw, shown) in [
            ("\u{1b}]0;owned\u{7}visit", "\\u{1b}]0;owned\\u{7}visit"),
            ("\u{1b}[2J", "\\u{1b}[2J"),
            ("a\u{1b}[31mred", "a\\u{1b}[31mred"),
            ("carriage\rreturn", "carriage\\u{d}return"),
            ("c1 \u{9b}2J", "c1 \\u{9b}2J"),
            ("delete\u{7f}", "delete\\u{7f}"),
            ("left\u{202e}thgir", "left\\u{202e}thgir"),
        ] {
            assert_eq!(visible(raw), shown, "{raw:?}");
            assert!(!visible(raw).chars().any(|c| c.is_control()), "{raw:?}");
        }
    }

    #[test]
    fn ordinary_text_is_left_as_it_is() {
        let text = "José, 2026-12-01\tfront.jpg";
        assert!(matches!(visible(text), Cow::Borrowed(_)));
        assert_eq!(visible("one\nline"), "one\\u{a}line");
    }
}
