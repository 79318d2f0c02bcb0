//! Outputs safe where people paste, read and share them: what `hautai setup` prints is
//! safe to `eval`, and no name or service message reaches a terminal or a spreadsheet as
//! control characters.

use std::process::{Command, Stdio};

use crate::cli::{against, hautai, run};
use crate::common::files::TempDir;
use crate::common::*;
use hautai::Side;
use hautai::emulator::{Emulator, EmulatorConfig, Fault, Route};

#[test]
fn setup_quotes_what_the_service_answered_so_that_eval_never_runs_it() {
    let dir = TempDir::new("setup-quoting");
    let marks: Vec<_> = (1..=3).map(|n| dir.path().join(format!("ran-{n}"))).collect();
    // Visible ASCII only (a token may hold no space): `${IFS}` stands for the spaces.
    let hostile = format!(
        "pt_$(touch${{IFS}}{})';touch${{IFS}}{};#`touch${{IFS}}{}`\\\"",
        marks[0].display(),
        marks[1].display(),
        marks[2].display()
    );
    let emulator = Emulator::start(EmulatorConfig::new()).unwrap();
    let answer = serde_json::json!({"id": 1, "name": "ci", "expiration_time": "2030-01-01T00:00:00Z", "data": hostile});
    emulator.fail_next(Route::PrivateTokens, 1, Fault::status(201).body(answer.to_string()));
    let (email, password) = emulator.user();
    let mut setup = hautai(&["setup", "--private-token", "ci"]);
    setup.env("HAUTAI_BASE_URL", emulator.base_url()).env("HAUTAI_EMAIL", email).env("HAUTAI_PASSWORD", password);
    let (code, exports, err) = run(&mut setup);
    assert_eq!(code, 0, "{err}");

    let script = format!("{exports}\nprintf '%s' \"$HAUTAI_TOKEN\"");
    let (code, token, err) =
        run(Command::new("bash").args(["-c", &script]).stdout(Stdio::piped()).stderr(Stdio::piped()));
    assert_eq!((code, err.as_str()), (0, ""), "{exports}");
    assert_eq!(token, hostile, "the token arrives as the service sent it: {exports}");
    for mark in &marks {
        assert!(!mark.exists(), "eval ran a command hidden in the token: {exports}");
    }

    // A token no command could use (a line break: a proxy's doing) is refused, not printed.
    let answer =
        serde_json::json!({"id": 2, "name": "ci", "expiration_time": "2030-01-01T00:00:00Z", "data": "pt_a\nb"});
    emulator.fail_next(Route::PrivateTokens, 1, Fault::status(201).body(answer.to_string()));
    let (code, exports, err) = run(&mut setup);
    assert_eq!((code, exports.as_str()), (1, ""), "{err}");
    assert!(err.contains("token that is empty or holds spaces, line breaks"), "{err}");
    let answer =
        serde_json::json!({"id": 3, "name": "ci", "expiration_time": "2030-01-01T00:00:00Z", "data": "pt_a x"});
    emulator.fail_next(Route::PrivateTokens, 1, Fault::status(201).body(answer.to_string()));
    let (code, exports, err) = run(&mut setup);
    assert_eq!((code, exports.as_str()), (1, ""), "a space too: {err}");
}

#[test]
fn escape_sequences_in_names_and_service_messages_are_shown_never_sent() {
    let dir = TempDir::new("escapes");
    let input = dir.path().join("in");
    let hostile = ["\u{1b}]0;owned\u{7}anna", "bob\u{1b}[2J", "\u{1b}[31mcarl"];
    for (n, visit) in hostile.iter().chain(&["dora"]).enumerate() {
        for side in Side::ALL {
            let photo = hautai::emulator::sample_photo(side, 150 + n as u32, 180);
            std::fs::create_dir_all(input.join(visit)).unwrap();
            std::fs::write(input.join(visit).join(format!("{side}.png")), photo).unwrap();
        }
    }
    // A file name that would forge a line of its own.
    std::fs::create_dir_all(input.join("eve")).unwrap();
    std::fs::write(input.join("eve").join("left\u{1b}[31mX\nfailed fake: forged.jpg"), b"text").unwrap();
    let output = dir.path().join("out");
    let emulator = emulator();
    let (code, out, err) =
        run(&mut against(&emulator, &["folder", input.to_str().unwrap(), output.to_str().unwrap(), "--no-assets"]));
    assert_eq!(code, 1, "the hostile names are refused: {err}");
    assert!(!err.lines().any(|l| l.starts_with("failed fake")) && err.contains("X\\u{a}failed fake"), "{err}");
    let summary = std::fs::read_to_string(output.join("summary.csv")).unwrap();
    for (what, text) in [("stdout", &out), ("stderr", &err), ("summary.csv", &summary)] {
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{what} holds raw control characters: {text:?}");
    }
    assert!(err.contains("\\u{1b}]0;owned\\u{7}anna") && err.contains("bob\\u{1b}[2J"), "{err}");
    assert!(summary.contains("\\u{1b}[31mcarl") && summary.contains("dora"), "{summary}");

    // A service that answers with escapes in its message.
    let photos: Vec<String> = Side::ALL
        .iter()
        .map(|side| input.join("dora").join(format!("{side}.png")))
        .map(|p| p.display().to_string())
        .collect();
    let body = serde_json::json!({"detail": "\u{1b}]0;pwned\u{7}\u{1b}[2Jsubject is locked"}).to_string();
    emulator.fail_next(Route::Initiate, 1, Fault::status(400).body(body));
    let mut args = vec!["analyze"];
    args.extend(photos.iter().map(String::as_str));
    let (code, out, err) = run(&mut against(&emulator, &args));
    assert_eq!(code, 1, "{err}");
    assert!(!out.contains('\u{1b}') && !err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("\\u{1b}]0;pwned\\u{7}\\u{1b}[2Jsubject is locked"), "{err}");
}

/// Every file and folder under `dir`, with its permission bits, where others or the group
/// may read, write or enter it.
#[cfg(unix)]
fn shared_with_others(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            found.push((path.clone(), mode));
        }
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    found
}

#[cfg(unix)]
#[test]
fn what_a_run_saves_is_its_owners_only_whatever_the_umask_and_holds_no_signed_link() {
    let dir = TempDir::new("owner-only");
    let input = dir.path().join("in");
    for side in Side::ALL {
        std::fs::create_dir_all(input.join("anna")).unwrap();
        std::fs::write(input.join("anna").join(format!("{side}.png")), hautai::emulator::sample_photo(side, 150, 180))
            .unwrap();
    }
    let (output, saved) = (dir.path().join("out"), dir.path().join("saves/anna"));
    let emulator = emulator();
    // `umask 000` makes every file 0666 and every folder 0777 unless the command says otherwise.
    let run_in = |args: &[&str]| {
        let program = env!("CARGO_BIN_EXE_hautai");
        let command = against(&emulator, &[]);
        let mut shell = Command::new("bash");
        shell.args(["-c", "umask 000; exec \"$0\" \"$@\"", program]).args(args);
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => shell.env(key, value),
                None => shell.env_remove(key),
            };
        }
        run(shell.stdout(Stdio::piped()).stderr(Stdio::piped()))
    };
    let (code, _, err) = run_in(&["folder", input.to_str().unwrap(), output.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let photos: Vec<String> =
        Side::ALL.iter().map(|s| input.join("anna").join(format!("{s}.png")).display().to_string()).collect();
    let mut args = vec!["analyze"];
    args.extend(photos.iter().map(String::as_str));
    args.extend(["--save", saved.to_str().unwrap()]);
    let (code, _, err) = run_in(&args);
    assert_eq!(code, 0, "{err}");
    assert!(output.join("visits/anna/assets").is_dir() && saved.join("assets").is_dir(), "pictures saved: {err}");
    assert_eq!(shared_with_others(&output), vec![], "the folder run's output");
    assert_eq!(shared_with_others(&dir.path().join("saves")), vec![], "analyze --save");

    // A signed URL lets anyone who reads it fetch a face picture: no saved file keeps one.
    let mut files = vec![output.clone(), saved.clone()];
    let mut results = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).to_lowercase();
        assert!(
            !text.contains("signature") && !text.contains("x-goog-credential"),
            "{} keeps a signed URL",
            path.display()
        );
        if path.ends_with("results.json") {
            results += 1;
            assert!(text.contains("/hautai-results/"), "where each picture was is kept: {}", path.display());
        }
    }
    assert_eq!(results, 2, "both saves were read");
}

#[test]
fn a_file_that_is_no_photo_is_refused_before_anything_is_created() {
    let dir = TempDir::new("not-a-photo");
    let input = dir.path().join("in");
    for (visit, n) in [("anna", 1), ("bob", 2)] {
        std::fs::create_dir_all(input.join(visit)).unwrap();
        for side in Side::ALL {
            std::fs::write(
                input.join(visit).join(format!("{side}.png")),
                hautai::emulator::sample_photo(side, 150 + n, 180),
            )
            .unwrap();
        }
    }
    std::fs::remove_file(input.join("anna/left.png")).unwrap();
    let text = input.join("anna/left.jpg");
    std::fs::write(&text, b"Patient: Anna K., left side, retake on Monday\n").unwrap();
    let emulator = emulator();

    // The library: nothing is sent, and the error says which file and what it looks like.
    let anna = |side: Side| {
        input.join("anna").join(if side == Side::Left { "left.jpg".into() } else { format!("{side}.png") })
    };
    let images = hautai::Images::new().front(anna(Side::Front)).left(anna(Side::Left)).right(anna(Side::Right));
    let err = emulator.session().run_analysis(&images, &hautai::AnalysisOptions::new()).unwrap_err();
    assert!(matches!(err.kind(), hautai::error::ErrorKind::InvalidImage { side: Side::Left, .. }), "{err:?}");
    assert!(err.to_string().contains("left.jpg") && err.to_string().contains("it looks like text"), "{err}");
    assert_eq!(emulator.requests().len(), 0, "nothing was sent");

    // The folder run: that visit fails as a whole, nothing is created for it; the other is done.
    let output = dir.path().join("out");
    let (code, _, err) = run(&mut against(&emulator, &["folder", input.to_str().unwrap(), output.to_str().unwrap()]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("failed anna: ") && err.contains("left.jpg") && err.contains("it looks like text"), "{err}");
    assert!(err.contains("--any-format"), "the way out is the command's: {err}");
    assert_eq!(emulator.batch_ids().len(), 1, "only bob's batch: {err}");

    // The command, one analysis: exit 2 before anything is sent; --any-format uploads it.
    let photos = [anna(Side::Front), anna(Side::Left), anna(Side::Right)].map(|p| p.display().to_string());
    let mut args = vec!["analyze"];
    args.extend(photos.iter().map(String::as_str));
    let (code, _, err) = run(&mut against(&emulator, &args));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("left.jpg") && err.contains("--any-format"), "{err}");
    assert_eq!(emulator.batch_ids().len(), 1, "nothing created: {err}");
    args.push("--any-format");
    let (code, _, err) = run(&mut against(&emulator, &args));
    assert_eq!((code, emulator.batch_ids().len()), (0, 2), "{err}");
}

#[test]
fn a_save_without_pictures_it_was_asked_for_fails_and_keeps_the_results_and_the_report() {
    let dir = TempDir::new("pictures-missing");
    let photos: Vec<String> = Side::ALL
        .iter()
        .map(|side| {
            dir.file(&format!("{side}.png"), &hautai::emulator::sample_photo(*side, 150, 180)).display().to_string()
        })
        .collect();
    let emulator = emulator();
    emulator.fail_every(Route::Asset, 1, Fault::status(403).storage_code("AccessDenied"));
    let saved = dir.path().join("anna");
    let mut args = vec!["analyze"];
    args.extend(photos.iter().map(String::as_str));
    args.extend(["--save", saved.to_str().unwrap()]);
    let (code, out, err) = run(&mut against(&emulator, &args));
    assert_eq!(code, 1, "a save that left out every picture is no success: {err}");
    assert!(err.contains("without all of their pictures: no picture was saved") && err.contains("--batch"), "{err}");
    assert!(out.contains("age"), "the results are printed: {out}");
    assert!(saved.join("results.json").is_file() && saved.join("report.html").is_file(), "kept: {err}");
    assert!(!saved.join("assets").exists(), "{err}");
}

#[test]
fn a_folder_run_whose_saves_leave_pictures_out_is_not_all_done() {
    let dir = TempDir::new("pictures-left-out");
    let emulator = emulator();
    let input = dir.path().join("in/visit");
    for side in Side::ALL {
        std::fs::create_dir_all(&input).unwrap();
        std::fs::write(input.join(format!("{side}.png")), hautai::emulator::sample_photo(side, 160, 180)).unwrap();
    }
    let save = hautai::folder::SaveOptions::new().limits(hautai::save::Limits::default().max_assets(2));
    let summary = hautai::folder::FolderRun::new(&emulator.session(), dir.path().join("in"), dir.path().join("out"))
        .save(save)
        .run(|_| {})
        .unwrap();
    assert_eq!((summary.done, summary.failed.len()), (1, 0), "{summary:?}");
    assert_eq!(summary.incomplete.len(), 1, "{summary:?}");
    assert!(summary.incomplete[0].1.contains("pictures left out over the save's limits"), "{summary:?}");
    assert!(!summary.all_done(), "{summary:?}");
}
