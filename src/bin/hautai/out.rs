//! Everything the command prints goes through here, so that text from outside (a visit's
//! folder name, a file name, the service's message) is shown and never acts on the
//! terminal: no escape sequence in a name can retitle, clear or colour it. A test below
//! keeps every other file of the command free of `println!` and `eprintln!`.

use crate::{Failure, Outcome};

#[path = "../../util/visible.rs"]
mod visible;

/// `text` as one line may show it: through the library's one rule (every control
/// character, a line break too, written out as `\u{1b}`: a name cannot forge a line).
pub fn visible(text: &str) -> String {
    visible::visible(text).into_owned()
}

/// Writes a line (a `format!` of its arguments) to stderr, control characters shown.
macro_rules! note {
    ($($arg:tt)*) => { $crate::out::to_stderr(&format!($($arg)*)) };
}
pub(crate) use note;

/// `line` and a line break to stderr, control characters shown.
pub fn to_stderr(line: &str) {
    use std::io::Write as _;
    // stderr is where failures go: when it cannot be written, there is no one to tell.
    let _ = writeln!(std::io::stderr().lock(), "{}", visible(line));
}

/// `json` with every character that [`visible`] would spell out written as JSON's own
/// escape (`\u202e`): the same text to a JSON reader, nothing that acts on a terminal, and
/// still valid JSON (serde leaves DEL, C1 controls and bidi marks raw; `\u{202e}` is no
/// JSON escape). Those characters only stand inside strings, where `\uXXXX` is allowed.
pub fn json_safe(json: &str) -> String {
    let mut safe = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '\n' => safe.push(c),
            c if visible::hidden(c) => safe.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => safe.push(c),
        }
    }
    safe
}

/// Whether stderr is a terminal (where progress is a bar rather than lines).
pub fn stderr_is_terminal() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
}

/// Writes `lines` to stdout, each one line whatever it holds (control characters and line
/// breaks in it shown). A reader that went away (`hautai batches | head`) ends the command
/// quietly, as it does for any Unix tool.
pub fn emit(lines: impl IntoIterator<Item = impl AsRef<str>>) -> Outcome {
    use std::io::Write as _;
    let text: String = lines.into_iter().map(|line| visible(line.as_ref()) + "\n").collect();
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::failed(format!("cannot write the output: {e}"))),
        Ok(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    /// The command's files, as compiled: any print macro outside this file would print
    /// a visit's name as it is.
    const FILES: [(&str, &str); 12] = [
        ("main.rs", include_str!("main.rs")),
        ("account.rs", include_str!("account.rs")),
        ("analyze.rs", include_str!("analyze.rs")),
        ("connect.rs", include_str!("connect.rs")),
        ("folder.rs", include_str!("folder.rs")),
        ("history.rs", include_str!("history.rs")),
        ("batches.rs", include_str!("batches.rs")),
        ("serve.rs", include_str!("serve.rs")),
        ("photos.rs", include_str!("photos.rs")),
        ("progress.rs", include_str!("progress.rs")),
        ("remembered.rs", include_str!("remembered.rs")),
        ("save_dir.rs", include_str!("save_dir.rs")),
    ];

    #[test]
    fn json_keeps_its_meaning_and_shows_nothing_raw() {
        let value = serde_json::json!({"tag": "Po\u{202e}or\u{7f}\u{85}\u{200f}", "name": "a\nb\u{1b}"});
        let text = serde_json::to_string_pretty(&value).unwrap();
        let safe = super::json_safe(&text);
        assert!(!safe.chars().any(|c| c != '\n' && super::visible::hidden(c)), "{safe}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value, "{safe}");
        for line in safe.lines() {
            assert_eq!(super::visible(line), line, "emit prints it as it is");
        }
    }

    #[test]
    fn every_line_the_command_prints_goes_through_this_file() {
        for (name, source) in FILES {
            for raw in ["println!", "print!(", "eprint", "io::stdout", "io::stderr"] {
                assert!(!source.contains(raw), "{name} prints with {raw}: use note!, emit or Progress");
            }
        }
        let listed: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
        let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/bin/hautai")).unwrap();
        for entry in on_disk {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(name == "out.rs" || listed.contains(&name.as_str()), "{name} is not checked here: list it");
        }
    }
}
