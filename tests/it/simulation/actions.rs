//! What a simulated clinic's users and its service do, and what the test counts of it.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hautai::Side;
use hautai::bulk::Shard;
use hautai::emulator::{Fault, Route};
use hautai::folder::FolderSummary;
use proptest::prelude::*;

use super::world::{NAMES, PHOTO_SETS, Photos, RunSettings, World, photo};

/// One step of a sequence.
#[derive(Debug, Clone)]
pub enum Action {
    /// A visit folder gets photos of a set (made, or retaken).
    Put {
        visit: usize,
        set: u8,
        front_only: bool,
    },
    /// A copy of a visit folder under another name (the same photos twice).
    Copy {
        from: usize,
        to: usize,
    },
    Rename {
        from: usize,
        to: usize,
    },
    Swap {
        a: usize,
        b: usize,
    },
    Delete {
        visit: usize,
    },
    /// A photo goes away (a share unmounted): a broken link in its place.
    Break {
        visit: usize,
        side: Side,
    },
    /// Every photo that went away is back.
    Mend,
    SwapOutputs {
        a: usize,
        b: usize,
    },
    DeleteOutput {
        visit: usize,
    },
    EditResults {
        visit: usize,
        edit: Edit,
    },
    /// The output's disk fills but for `left` bytes.
    Fill {
        left: u32,
    },
    Free,
    Run(Run),
    /// A run whose stop flag is set after the service saw `after` more requests.
    Stop {
        run: Run,
        after: u8,
    },
    /// Two runs on the same output at once.
    Both {
        a: Run,
        b: Run,
    },
    /// `hautai folder` as a child process, killed (`kill -9`) after the service saw `after`
    /// more requests.
    Kill {
        after: u8,
        no_assets: bool,
    },
    Service(Trouble),
}

/// A run as the user starts it.
#[derive(Debug, Clone)]
pub struct Run {
    pub concurrency: u8,
    /// `(index, count)`; `(0, 1)` is every visit.
    pub shard: (u32, u32),
    pub retry_failed: bool,
    pub assets: bool,
}

/// How a user edits a visit's `results.json`.
#[derive(Debug, Clone, Copy)]
pub enum Edit {
    Garbage,
    Remove,
    /// Another visit's results copied over.
    From(usize),
}

/// What the service does to the next requests.
#[derive(Debug, Clone, Copy)]
pub enum Trouble {
    /// Forgets every batch (a backup restored, a retention period over): 404 from now on.
    Forget,
    /// Answers `status` (429, 500, 502, 503) to the next call of `route`.
    Status(Route, u16),
    /// Carries out the next call of `route` and loses its answer (504).
    LoseAnswer(Route),
    /// Refuses the next compute (400).
    RefuseCompute,
    /// Results stay "computing" through the next run.
    Slow,
    /// No face found on the front in the next run's results.
    Detection,
}

/// What the test counts while the sequence runs: for each set of photos, how many times a
/// run with `--retry-failed` saw it in a visit (each may pay for it once more).
#[derive(Debug, Default)]
pub struct Model {
    pub retries: HashMap<Photos, usize>,
    /// Trouble that lasts for the next run only.
    slow: bool,
    detection: bool,
}

/// What a step did, for the checks.
#[derive(Debug)]
pub enum Ran {
    /// Changed the input, the disk or the service.
    Input,
    /// Changed the output by hand: saved results may go, as the user wished.
    Output,
    /// Runs that ended as they do (refused, or with a summary whose reports say if written).
    Runs(Vec<Result<FolderSummary, String>>),
    /// A run killed mid-way: its summary may be out of date.
    Killed,
}

fn visit() -> impl Strategy<Value = usize> {
    0..NAMES.len()
}

fn run() -> impl Strategy<Value = Run> {
    let shard =
        prop_oneof![4 => Just((0, 1)), 1 => (0u32..2).prop_map(|i| (i, 2)), 1 => (0u32..3).prop_map(|i| (i, 3))];
    (1u8..=8, shard, prop::bool::weighted(0.15), prop::bool::weighted(0.2))
        .prop_map(|(concurrency, shard, retry_failed, assets)| Run { concurrency, shard, retry_failed, assets })
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Front), Just(Side::Left), Just(Side::Right)]
}

fn trouble() -> impl Strategy<Value = Trouble> {
    let route = prop_oneof![Just(Route::Initiate), Just(Route::Upload), Just(Route::Compute), Just(Route::Results)];
    prop_oneof![
        3 => Just(Trouble::Forget),
        1 => (route.clone(), prop_oneof![Just(429u16), Just(500), Just(502), Just(503)]).prop_map(|(r, s)| Trouble::Status(r, s)),
        2 => prop_oneof![Just(Route::Initiate), Just(Route::Compute)].prop_map(Trouble::LoseAnswer),
        1 => Just(Trouble::RefuseCompute),
        2 => Just(Trouble::Slow),
        1 => Just(Trouble::Detection),
    ]
}

/// One step, weighted toward what happens most: photos arriving and runs.
pub fn action() -> impl Strategy<Value = Action> {
    let edit = prop_oneof![Just(Edit::Garbage), Just(Edit::Remove), visit().prop_map(Edit::From)];
    prop_oneof![
        6 => (visit(), 0..PHOTO_SETS, prop::bool::weighted(0.15)).prop_map(|(visit, set, front_only)| Action::Put { visit, set, front_only }),
        1 => (visit(), visit()).prop_map(|(from, to)| Action::Copy { from, to }),
        2 => (visit(), visit()).prop_map(|(from, to)| Action::Rename { from, to }),
        1 => (visit(), visit()).prop_map(|(a, b)| Action::Swap { a, b }),
        1 => visit().prop_map(|visit| Action::Delete { visit }),
        1 => (visit(), side()).prop_map(|(visit, side)| Action::Break { visit, side }),
        1 => Just(Action::Mend),
        1 => (visit(), visit()).prop_map(|(a, b)| Action::SwapOutputs { a, b }),
        2 => visit().prop_map(|visit| Action::DeleteOutput { visit }),
        2 => (visit(), edit).prop_map(|(visit, edit)| Action::EditResults { visit, edit }),
        1 => (0u32..60_000).prop_map(|left| Action::Fill { left }),
        1 => Just(Action::Free),
        8 => run().prop_map(Action::Run),
        2 => (run(), 0u8..40).prop_map(|(run, after)| Action::Stop { run, after }),
        1 => (run(), run()).prop_map(|(a, b)| Action::Both { a, b }),
        1 => (0u8..40, any::<bool>()).prop_map(|(after, no_assets)| Action::Kill { after, no_assets }),
        5 => trouble().prop_map(Action::Service),
    ]
}

/// Does `action` in `world`.
pub fn apply(world: &mut World, model: &mut Model, action: &Action) -> Ran {
    let input = world.input();
    let folder = |visit: usize| input.join(NAMES[visit]);
    let visits = world.output().join("visits");
    match action {
        Action::Put { visit, set, front_only } => {
            let folder = folder(*visit);
            let _ = std::fs::remove_dir_all(&folder);
            std::fs::create_dir_all(&folder).unwrap();
            for side in Side::ALL.into_iter().filter(|s| !*front_only || *s == Side::Front) {
                std::fs::write(folder.join(format!("{side}.png")), photo(*set, side)).unwrap();
            }
            world.away.remove(NAMES[*visit]);
        }
        Action::Copy { from, to } if from != to && folder(*from).is_dir() => {
            let _ = std::fs::remove_dir_all(folder(*to));
            copy_dir(&folder(*from), &folder(*to));
        }
        Action::Rename { from, to } if from != to && folder(*from).symlink_metadata().is_ok() => {
            let _ = std::fs::remove_dir_all(folder(*to));
            std::fs::create_dir_all(folder(*to).parent().unwrap()).unwrap();
            std::fs::rename(folder(*from), folder(*to)).unwrap();
            if let Some(away) = world.away.remove(NAMES[*from]) {
                world.away.insert(NAMES[*to].to_owned(), away);
            }
        }
        Action::Swap { a, b } if a != b => {
            swap(&folder(*a), &folder(*b));
            let (x, y) = (world.away.remove(NAMES[*a]), world.away.remove(NAMES[*b]));
            x.map(|x| world.away.insert(NAMES[*b].to_owned(), x));
            y.map(|y| world.away.insert(NAMES[*a].to_owned(), y));
        }
        Action::Delete { visit } => {
            let _ = std::fs::remove_dir_all(folder(*visit));
            world.away.remove(NAMES[*visit]);
        }
        Action::Break { visit, side } => {
            let photo = folder(*visit).join(format!("{side}.png"));
            if let Ok(bytes) = std::fs::read(&photo) {
                std::fs::remove_file(&photo).unwrap();
                std::os::unix::fs::symlink(input.join("unmounted-share").join(NAMES[*visit]), &photo).unwrap();
                world.away.entry(NAMES[*visit].to_owned()).or_default().push((*side, bytes));
            }
        }
        Action::Mend => {
            for (visit, sides) in std::mem::take(&mut world.away) {
                for (side, bytes) in sides {
                    let photo = input.join(&visit).join(format!("{side}.png"));
                    let _ = std::fs::remove_file(&photo);
                    let _ = std::fs::write(&photo, bytes);
                }
            }
        }
        Action::SwapOutputs { a, b } if a != b => {
            swap(&visits.join(NAMES[*a]), &visits.join(NAMES[*b]));
            return Ran::Output;
        }
        Action::DeleteOutput { visit } => {
            let _ = std::fs::remove_dir_all(visits.join(NAMES[*visit]));
            return Ran::Output;
        }
        Action::EditResults { visit, edit } => {
            let results = visits.join(NAMES[*visit]).join("results.json");
            if results.exists() {
                let _ = match edit {
                    Edit::Garbage => std::fs::write(&results, b"{\"face_skin_metrics_3\": "),
                    Edit::Remove => std::fs::remove_file(&results),
                    Edit::From(other) => {
                        std::fs::copy(visits.join(NAMES[*other]).join("results.json"), &results).map(drop)
                    }
                };
            }
            return Ran::Output;
        }
        Action::Fill { left } => world.disk.fill(Some(u64::from(*left))),
        Action::Free => world.disk.fill(None),
        Action::Run(run) => return Ran::Runs(vec![start(world, model, run, None)]),
        Action::Stop { run, after } => {
            let stop = AtomicBool::new(false);
            let summary = std::thread::scope(|scope| {
                let seen = world.emulator.requests().len() + usize::from(*after);
                let running = scope.spawn(|| start(world, model, run, Some(&stop)));
                while !running.is_finished() && world.emulator.requests().len() < seen {
                    std::thread::sleep(Duration::from_millis(1));
                }
                stop.store(true, Ordering::SeqCst);
                running.join().unwrap()
            });
            return Ran::Runs(vec![summary]);
        }
        Action::Both { a, b } => {
            note(world, model, a);
            note(world, model, b);
            let (a, b) = std::thread::scope(|scope| {
                let a = scope.spawn(|| world.run(&settings(a), None));
                let b = scope.spawn(|| world.run(&settings(b), None));
                (a.join().unwrap(), b.join().unwrap())
            });
            end_trouble(world, model);
            return Ran::Runs(vec![a, b]);
        }
        Action::Kill { after, no_assets } => {
            note(world, model, &Run { concurrency: 8, shard: (0, 1), retry_failed: false, assets: !no_assets });
            kill(world, usize::from(*after), *no_assets);
            end_trouble(world, model);
            return Ran::Killed;
        }
        Action::Service(trouble) => trouble_ahead(world, model, *trouble),
        _ => {}
    }
    Ran::Input
}

fn settings(run: &Run) -> RunSettings {
    RunSettings {
        concurrency: run.concurrency,
        shard: Shard::new(run.shard.0, run.shard.1).unwrap(),
        retry_failed: run.retry_failed,
        assets: run.assets,
    }
}

/// Counts what a run about to start may pay for again: with `--retry-failed`, the photos
/// of each visit once more.
fn note(world: &World, model: &mut Model, run: &Run) {
    if !run.retry_failed {
        return;
    }
    for name in NAMES {
        if let Some(photos) = world.photos_of(name) {
            *model.retries.entry(photos).or_default() += 1;
        }
    }
}

fn start(world: &World, model: &mut Model, run: &Run, stop: Option<&AtomicBool>) -> Result<FolderSummary, String> {
    note(world, model, run);
    let summary = world.run(&settings(run), stop);
    end_trouble(world, model);
    summary
}

fn trouble_ahead(world: &World, model: &mut Model, trouble: Trouble) {
    let emulator = &world.emulator;
    match trouble {
        Trouble::Forget => emulator.forget_batches(),
        Trouble::Status(route, status) => emulator.fail_next(route, 1, Fault::status(status).retry_after("1")),
        Trouble::LoseAnswer(route) => emulator.fail_next(route, 1, Fault::status(504).carried_out()),
        Trouble::RefuseCompute => emulator.fail_next(Route::Compute, 1, Fault::status(400)),
        Trouble::Slow => {
            emulator.never_complete(true);
            model.slow = true;
        }
        Trouble::Detection => {
            emulator.detection_error(Some((Side::Front, "No face found.")));
            model.detection = true;
        }
    }
}

/// Trouble that lasted for one run is over.
fn end_trouble(world: &World, model: &mut Model) {
    if std::mem::take(&mut model.slow) {
        world.emulator.never_complete(false);
    }
    if std::mem::take(&mut model.detection) {
        world.emulator.detection_error(None);
    }
}

/// `hautai folder` as a child process, killed after the service saw `after` more requests
/// (or after 1.5 s, or when it ends by itself first).
fn kill(world: &World, after: usize, no_assets: bool) {
    let emulator = &world.emulator;
    let mut command = Command::new(env!("CARGO_BIN_EXE_hautai"));
    command
        .arg("folder")
        .arg(world.input())
        .arg(world.output())
        .args(["--deadline", "5"])
        .env("HAUTAI_TOKEN", emulator.token())
        .env("HAUTAI_COMPANY_ID", emulator.company_id().to_string())
        .env("HAUTAI_SUBJECT_ID", emulator.subject_id().to_string())
        .env("HAUTAI_BASE_URL", emulator.base_url())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if no_assets {
        command.arg("--no-assets");
    }
    let seen = emulator.requests().len() + after;
    let mut child = command.spawn().unwrap();
    let start = Instant::now();
    while emulator.requests().len() < seen && start.elapsed() < Duration::from_millis(1500) {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn swap(a: &Path, b: &Path) {
    for folder in [a, b] {
        let _ = std::fs::create_dir_all(folder.parent().unwrap());
    }
    let between = a.with_file_name(format!("{}.swapping", a.file_name().unwrap().to_string_lossy()));
    let (had_a, had_b) = (a.symlink_metadata().is_ok(), b.symlink_metadata().is_ok());
    if had_a {
        std::fs::rename(a, &between).unwrap();
    }
    if had_b {
        std::fs::rename(b, a).unwrap();
    }
    if had_a {
        std::fs::rename(&between, b).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        match std::fs::read_link(entry.path()) {
            Ok(link) => std::os::unix::fs::symlink(link, target).unwrap(),
            Err(_) => {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
}
