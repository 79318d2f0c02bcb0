//! CSV cells that a spreadsheet shows as text, never runs (OWASP's advice against CSV
//! injection), and that a terminal shows as text too (`cat summary.csv`).

/// One CSV cell. A number stays a number. Anything else that a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading
/// `'`, as OWASP recommends against CSV injection; every text cell is quoted, with its
/// quotes doubled, and its control characters (an escape sequence in a visit's name, a line
/// break in a reason) written out as `\u{1b}`.
pub(crate) fn cell(text: &str) -> String {
    if text.is_empty() || text.parse::<f64>().is_ok_and(f64::is_finite) {
        return text.to_owned();
    }
    let text = crate::util::visible::visible(text);
    let neutral =
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.into_owned() };
    format!("\"{}\"", neutral.replace('"', "\"\""))
}

/// One CSV cell that must stay text (a visit's name, a tag): as [`cell`], and a text
/// that a spreadsheet could read as a number or a date (one that starts with a digit:
/// `0042`, `1e3`, `2024-01-05`, `1-2`) gets a leading `'` too, so that visits `0042` and
/// `042`, or `1-2` and `2-1` in another locale, never show as one value.
pub(crate) fn text(text: &str) -> String {
    if text.starts_with(|c: char| c.is_ascii_digit()) || text.parse::<f64>().is_ok() {
        return format!("\"'{}\"", crate::util::visible::visible(text).replace('"', "\"\""));
    }
    cell(text)
}

/// One CSV line of `cells` (already made with [`cell`]), ended by a newline.
pub(crate) fn line(cells: &[String]) -> String {
    let mut line = cells.join(",");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        assert_eq!(
            cell("=HYPERLINK(\"https://evil.example\",\"open\")"),
            "\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"open\"\")\""
        );
        for formula in ["+1+1", "-1+1", "@SUM(1)", "\tx"] {
            assert!(cell(formula).starts_with("\"'"), "{formula}");
        }
        assert_eq!(cell("\rx"), "\"\\u{d}x\"", "a carriage return is shown, and what it shows is no formula");
        assert_eq!(cell("-12.5"), "-12.5");
        assert_eq!(cell("89.3"), "89.3");
        assert_eq!(cell(""), "");
        assert_eq!(cell("visit, 1"), "\"visit, 1\"");
        assert_eq!(cell("NaN"), "\"NaN\"");
        assert_eq!(text("0042"), "\"'0042\"");
        assert_eq!(text("1e3"), "\"'1e3\"");
        assert_eq!(text("visit-1"), "\"visit-1\"");
        assert_eq!(text("2024-01-05"), "\"'2024-01-05\"");
        assert_eq!(text(".5"), "\"'.5\"");
        assert_eq!(text("=1+1"), "\"'=1+1\"");
        assert_eq!(line(&[cell("a"), cell("1")]), "\"a\",1\n");
    }

    #[test]
    fn control_characters_are_shown_not_kept() {
        assert_eq!(cell("\u{1b}]0;owned\u{7}anna"), "\"\\u{1b}]0;owned\\u{7}anna\"");
        assert_eq!(text("1\u{1b}[2J"), "\"'1\\u{1b}[2J\"");
        assert_eq!(cell("two\nlines"), "\"two\\u{a}lines\"");
    }
}
