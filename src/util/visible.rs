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

/// Whether `c` is shown as an escape: a control character but the tab, or a mark that is
/// invisible and changes how a line reads.
pub(crate) fn hidden(c: char) -> bool {
    c != '\t' && (c.is_control() || invisible(c))
}

/// The marks that show nothing and change what a line shows: the bidirectional
/// embeddings, overrides, isolates and marks (`U+202E` shows a line right to left), the
/// zero-width characters, the word joiner and invisible operators, the byte order mark,
/// and the line and paragraph separators (a line break to some readers).
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
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
            ("eve\u{200f}mark", "eve\\u{200f}mark"),
            ("one\u{2028}two", "one\\u{2028}two"),
            ("\u{feff}bom", "\\u{feff}bom"),
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
