//! What the report and the index share: one escaping rule, relative links that stay
//! links, the style, and short reasons.

/// The one escaping rule for page text and attribute values (attributes are always
/// double-quoted): `&`, `<`, `>`, `"` and `'` become entities.
pub(crate) fn escape(text: &str) -> String {
    // Control characters and the marks that reorder text (`bidi\u{202e}GPJ.exe` showing
    // as `bidiexe.JPG`) are shown, as on a terminal, before the markup is escaped.
    let text = crate::util::visible::visible(text);
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A relative link from a path: each segment percent-encoded (all but RFC 3986's
/// unreserved characters), so no name can become a scheme, a query or a fragment.
pub(crate) fn href(path: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    path.split('/')
        .map(|segment| percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// The head of a page titled `title` (escaped here).
pub(crate) fn head(title: &str) -> String {
    head_of(title, None)
}

/// The head of a page titled `title`, marked as the page of `batch` when it is one batch's
/// (a report: see [`BATCH_MARK`]).
pub(crate) fn head_of(title: &str, batch: Option<crate::Uuid>) -> String {
    let mark = batch.map(|b| format!("<meta name=\"{BATCH_MARK}\" content=\"{b}\">")).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{mark}\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>",
        escape(title)
    )
}

/// The name of the `<meta>` that says which batch a report shows, for the check that a
/// visit's folder holds its own report.
pub(crate) const BATCH_MARK: &str = "hautai-batch";

/// The batch the page `html` says it shows, if it says.
pub(crate) fn batch_of_page(html: &str) -> Option<crate::Uuid> {
    let at = html.find(&format!("<meta name=\"{BATCH_MARK}\" content=\""))?;
    let rest = &html[at..];
    let value = &rest[rest.find("content=\"")? + 9..];
    value.get(..36)?.parse().ok()
}

/// The banner every page of invented values shows where a person reads first.
pub(crate) const INVENTED: &str = "<p class=\"invented\">Values invented by the offline emulator: not an \
                                   analysis of these photos, not a person&#39;s results.</p>";

/// A reason at a glance: without the status and the error's kind in front, cut to its
/// first clause (before `: ` or `; `) and to at most `chars` characters at a word, with `…`
/// when anything was cut (the whole reason is a tap away, and in the summary).
pub(crate) fn short(reason: &str, chars: usize) -> String {
    let reason = reason.trim_start_matches("failed: ").trim_start_matches("invalid argument: ");
    let end = [reason.find(": "), reason.find("; ")].into_iter().flatten().min().unwrap_or(reason.len());
    let mut first = &reason[..end];
    if let Some((limit, _)) = first.char_indices().nth(chars) {
        first = &first[..first[..limit].rfind(' ').filter(|&at| at > 0).unwrap_or(limit)];
    }
    match first.len() < reason.len() {
        true => format!("{}…", first.trim_end_matches([',', ' '])),
        false => first.to_owned(),
    }
}

/// A parameter's name as people read it: `nasolabial_wrinkles` → `nasolabial wrinkles`.
pub(crate) fn label(name: &str) -> String {
    name.replace('_', " ")
}

const STYLE: &str = "\
body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#222;background:#f6f7f9}\
main{max-width:1100px;margin:0 auto;padding:16px}h1{margin:0 0 4px;overflow-wrap:anywhere}\
.meta{color:#556;margin:0 0 16px}.meta b{color:#222}\
.invented{background:#fff4d6;border:1px solid #e9c46a;padding:8px 12px;border-radius:6px;font-weight:600}\
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;background:#fff}\
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e5ea;vertical-align:top}\
td{overflow-wrap:break-word;min-width:4em}td:first-child{overflow-wrap:anywhere;min-width:9.5em}\
td details summary{cursor:pointer}td details{overflow-wrap:anywhere}th{overflow-wrap:normal;min-width:4em}\
td.num,th.num{text-align:right;min-width:3em}td.num{white-space:nowrap}td.failed{color:#a11}\
.bar{display:inline-block;vertical-align:middle;width:90px;height:8px;background:#e3e5ea;border-radius:4px;overflow:hidden;margin-right:8px}\
.bar span{display:block;height:100%;background:#3b82f6}.n{display:inline-block;min-width:2.6em;text-align:right}@media (max-width:520px){.bar{display:none}main{padding:10px}\
table.cards thead{display:none}table.cards,.cards tbody,.cards tr,.cards td{display:block;width:auto}\
.cards tr{border-bottom:1px solid #e3e5ea;padding:6px 0}.cards td,.cards td:first-child{border:0;padding:2px 8px;min-width:0;text-align:left}\
.cards td:first-child{font-weight:600}.cards td:empty{display:none}.cards td[data-label]::before{content:attr(data-label) \": \";color:#667}}\
.legend{background:#fff;border:1px solid #e3e5ea;border-radius:8px;padding:8px 14px;margin:12px 0 20px}\
.legend dt{font-weight:600}.legend dd{margin:0 0 6px}\
.switches{display:flex;flex-wrap:wrap;gap:6px 14px;margin:8px 0 16px}.switches label{overflow-wrap:anywhere;min-width:0}\
.side{background:#fff;padding:12px;margin:0 0 16px;border-radius:8px}.side h3{margin:0 0 8px;text-transform:capitalize}\
.pictures{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}figure{margin:0}\
figure.main{flex:1 1 260px;max-width:420px}.stack{position:relative}.stack img{display:block;width:100%}\
.stack img.mask{position:absolute;inset:0;height:100%;display:none}.stack img.mask.on{display:block}\
.predicted{display:flex;flex-wrap:wrap;gap:8px;flex:1 1 200px}.predicted figure{width:120px}\
.predicted img{width:100%;display:block;border:1px solid #e3e5ea}figcaption{font-size:13px;color:#667}\
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,300px),1fr));gap:12px}\
.chart{background:#fff;border-radius:8px;padding:8px 10px;margin:0;min-width:0}.chart figcaption{overflow-wrap:anywhere}\
.chart svg{display:block;width:100%;height:auto}.chart .axis{stroke:#ccd}.chart .line{fill:none;stroke:#3b82f6;stroke-width:2}\
.chart circle{fill:#3b82f6}.chart text{font-size:10px;fill:#445}.chart text.date{fill:#667}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_plain_text_and_relative_links() {
        assert_eq!(escape("<a href='x'>\"&\""), "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;");
        assert_eq!(
            escape("bidi\u{202e}GPJ.exe\u{1b}]0;x\u{7}"),
            "bidi\\u{202e}GPJ.exe\\u{1b}]0;x\\u{7}",
            "shown, not acting"
        );
        assert_eq!(href("visits/javascript:alert(1)/report.html"), "visits/javascript%3Aalert%281%29/report.html");
        assert_eq!(href("visits/a#b?c d/report.html"), "visits/a%23b%3Fc%20d/report.html");
        assert_eq!(href("visits/Zoë/report.html"), "visits/Zo%C3%AB/report.html");
    }

    #[test]
    fn reasons_are_cut_to_their_first_clause_at_a_word() {
        assert_eq!(short("failed: the photos changed; run it again", 80), "the photos changed…");
        assert_eq!(short("failed: invalid argument: the key is taken", 80), "the key is taken");
        assert_eq!(short("a folder, not an image", 80), "a folder, not an image");
        assert_eq!(short("one two three four", 9), "one two…");
        assert_eq!(short("ééééé", 3), "ééé…");
        assert_eq!(short("abc", 3), "abc");
        assert_eq!(short(" abcdef", 3), " ab…", "a space at the start is no word to cut at");
    }
}
