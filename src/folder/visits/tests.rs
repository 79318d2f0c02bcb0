use super::*;
use crate::folder::dates::DateSource;

/// A new folder named for `test` under the system's temporary folder, holding `files`
/// (each a path inside it and its bytes).
fn folder_of(test: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hautai-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, bytes) in files {
        std::fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
        std::fs::write(dir.join(path), bytes).unwrap();
    }
    dir
}

#[test]
fn visits_are_folders_of_sides_and_the_rest_is_listed() {
    let dir = folder_of(
        "find-visits",
        &[
            ("a/left_side.png", &b"l"[..]),
            ("a/Front.JPG", b"f"),
            ("a/notes.txt", b"n"),
            ("a/front.txt", b"f"),
            ("e/front-2.jpg", b"f"),
            ("e/front.jpg", b"f"),
            ("b/RIGHT.jpeg", b"r"),
            ("empty/readme", b"x"),
            ("stray.jpg", b"s"),
            ("c/left.png", b"l"),
            ("c/front.png/inside", b"x"),
            ("Dup/front.png", b"f"),
            ("dup/front.png", b"f"),
        ],
    );
    let Found { visits, skipped, without_photos } = find_visits(&dir).unwrap();
    let found: Vec<(&str, Result<Vec<Side>, String>)> = visits
        .iter()
        .map(|v| (v.name.as_str(), v.sides.clone().map(|sides| sides.iter().map(|(s, _)| *s).collect())))
        .collect();
    let clash = || {
        Err("\"Dup\" and \"dup\" would share one output folder (names that differ only in case or in how \
             an accent is written are one folder on macOS and Windows): rename one of them"
            .to_owned())
    };
    assert_eq!(
        found,
        [
            ("Dup", clash()),
            ("a", Ok(vec![Side::Front, Side::Left])),
            ("b", Ok(vec![Side::Right])),
            ("c", Err("front.png is a folder, not an image".to_owned())),
            ("dup", clash()),
            ("e", Err("two front photos, front-2.jpg and front.jpg: keep the one of this visit".to_owned())),
        ]
    );
    assert_eq!(
        (visits[1].sides_text(), visits[2].sides_text()),
        ("front, left (no right)".into(), "right (no front, left)".into())
    );
    assert_eq!(skipped.len(), 5, "{skipped:?}");
    for expected in ["empty/readme", "a/notes.txt", "a/front.txt", "empty ", "stray.jpg"] {
        assert!(skipped.iter().any(|s| s.starts_with(expected)), "{expected}: {skipped:?}");
    }
    let held = "its one file is no picture named front…, left… or right…".to_owned();
    assert_eq!(without_photos, [("empty".to_owned(), held)], "listed with what it holds");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_of_visit_folders_is_a_patient_and_anything_deeper_is_no_visit() {
    let dir = folder_of(
        "find-patients",
        &[
            ("anna/2026-01-05/front.jpg", &b"f"[..]),
            ("anna/2026-03-01T10-30/left.jpg", b"l"),
            ("anna/later/nothing.txt", b"n"),
            ("anna/notes.txt", b"n"),
            ("bob-20251224/front.jpg", b"f"),
            ("bob-20251224/extra/notes.txt", b"n"),
            ("mixed/front.jpg", b"f"),
            ("mixed/2026-01-11/front.jpg", b"f"),
            ("carl/first/deeper/front.jpg", b"f"),
            ("dora/.DS_Store", b"x"),
        ],
    );
    let found = find_visits(&dir).unwrap();
    let visits: Vec<(&str, &str, Option<&str>)> = found
        .visits
        .iter()
        .map(|v| (v.name.as_str(), v.patient.as_str(), v.date.as_ref().map(|d| d.day.as_str())))
        .collect();
    assert_eq!(
        visits,
        [
            ("anna/2026-01-05", "anna", Some("2026-01-05")),
            ("anna/2026-03-01T10-30", "anna", Some("2026-03-01")),
            ("bob-20251224", "bob-20251224", Some("2025-12-24")),
            ("mixed", "mixed", None),
        ]
    );
    let mixed = found.visits[3].sides.as_ref().unwrap_err();
    assert!(mixed.starts_with("it holds photos and folders of photos (mixed/2026-01-11)"), "{mixed}");
    assert!(!found.skipped.iter().any(|s| s.starts_with("mixed/")), "not skipped too: {:?}", found.skipped);
    assert_eq!(found.visits[1].date.as_ref().unwrap().time.as_deref(), Some("10:30:00"));
    assert_eq!(found.visits[0].date.as_ref().unwrap().source, DateSource::FolderName);
    assert_eq!(found.visits[0].folder(), "2026-01-05");
    let without: Vec<(&str, &str)> = found.without_photos.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert!(
        without.contains(&("anna/later", "none of its 1 files is a picture named front…, left… or right…")),
        "{without:?}"
    );
    assert!(without.contains(&("carl", "no visits: its one folder holds no photos")), "{without:?}");
    assert!(
        without.contains(&("dora", "the folder is empty")) || without.iter().any(|(n, _)| *n == "dora"),
        "{without:?}"
    );
    for expected in [
        "anna/notes.txt (not a visit folder)",
        "bob-20251224/extra (not a visit: a folder inside a visit, nested deeper than one)",
        "carl/first/deeper (not a visit: nested deeper than patient/visit)",
        "dora/.DS_Store (hidden)",
    ] {
        assert!(found.skipped.iter().any(|s| s == expected), "{expected}: {:?}", found.skipped);
    }
    // All of the input one patient's visits.
    let one = find_visits_of(dir.join("anna"), "Anna Smith").unwrap();
    let names: Vec<&str> = one.visits.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["Anna Smith/2026-01-05", "Anna Smith/2026-03-01T10-30"]);
    assert!(one.visits.iter().all(|v| v.patient == "Anna Smith"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn patients_whose_names_are_one_folder_elsewhere_clash() {
    let paths = ["Anna/v1/front.jpg", "anna/v2/front.jpg", "zoe/V1/front.jpg", "zoe/v1/front.jpg", "zoe/v2/front.jpg"];
    let dir = folder_of("find-patient-clash", &paths.map(|path| (path, &b"f"[..])));
    let found = find_visits(&dir).unwrap();
    let failed: Vec<&str> = found.visits.iter().filter(|v| v.sides.is_err()).map(|v| v.name.as_str()).collect();
    assert_eq!(failed, ["Anna/v1", "anna/v2", "zoe/V1", "zoe/v1"]);
    assert!(
        found.visits[0].sides.as_ref().unwrap_err().contains("\"Anna\" and \"anna\" would share one output folder")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
