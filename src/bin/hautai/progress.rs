//! Progress people expect: a bar with counts, rate and ETA when stderr is a terminal
//! (indicatif), one plain line per event otherwise (logs, CI). `NO_COLOR` is honoured. The
//! rate and the ETA count only work done in this run: visits done earlier are not in the
//! bar, so a rerun with nothing to do shows no rate at all.

use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether colours are wanted: not when `NO_COLOR` is set to anything (no-color.org).
pub fn colours() -> bool {
    wants_colours(std::env::var_os("NO_COLOR"))
}

/// Whether `NO_COLOR`'s value leaves colours on: unset or empty.
fn wants_colours(no_color: Option<std::ffi::OsString>) -> bool {
    no_color.is_none_or(|v| v.is_empty())
}

/// The bar's template: coloured unless `colours` is off.
fn template(unit: &str, colours: bool) -> String {
    let bar = if colours { "{bar:30.cyan/blue}" } else { "{bar:30}" };
    format!("{{spinner}} {{elapsed_precise}} {bar} {{pos}}/{{len}} {unit} · {{rate}} · ETA {{left}} {{msg}}")
}

/// A rate as people read it: whole numbers from 10 a minute up, one decimal below
/// (`12/min`, `2.5/min`), never `11368.5/min`.
fn per_minute(per_minute: f64) -> String {
    match per_minute {
        r if !r.is_finite() => "-".to_owned(),
        r if r >= 10.0 => format!("{r:.0}/min"),
        r => format!("{r:.1}/min"),
    }
}

/// What is left, in seconds under a minute (`40 s`) and in minutes above (`3.5 min`).
fn time_left(minutes: f64) -> String {
    match minutes {
        m if !m.is_finite() => "-".to_owned(),
        m if m < 1.0 => format!("{:.0} s", m * 60.0),
        m if m >= 10.0 => format!("{m:.0} min"),
        m => format!("{m:.1} min"),
    }
}

/// Where a bar is drawn once there is work to show.
type Target = Box<dyn Fn() -> ProgressDrawTarget + Send + Sync>;

/// A bar on a terminal, lines elsewhere.
pub enum Progress {
    /// Drawn on `target` once work is planned: until then, and while there is none, no
    /// bar (an empty bar at 0/0 is drawn full).
    Bar {
        bar: ProgressBar,
        target: Target,
    },
    Lines {
        start: Instant,
        total: Mutex<u64>,
        worked: Mutex<(u64, u64)>,
    },
}

impl Progress {
    /// A bar of `unit`s (visits, bytes) when stderr is a terminal.
    pub fn new(unit: &str) -> Progress {
        Self::with_template(&template(unit, colours()))
    }

    /// A bar of a few unlike steps: counts, no rate or ETA (they would mean nothing).
    pub fn steps() -> Progress {
        Self::with_template("{spinner} {elapsed_precise} {pos}/{len} steps {msg}")
    }

    /// A bar drawn with `template` on a terminal; lines anywhere else.
    fn with_template(template: &str) -> Progress {
        if !crate::out::stderr_is_terminal() {
            return Progress::Lines { start: Instant::now(), total: Mutex::new(0), worked: Mutex::new((0, 0)) };
        }
        Self::drawn_on(template, Box::new(ProgressDrawTarget::stderr))
    }

    /// A bar drawn with `template` on what `target` makes, once there is work.
    fn drawn_on(template: &str, target: Target) -> Progress {
        let style = ProgressStyle::with_template(template)
            .map(|style| {
                // Nothing done yet says nothing of a rate or of the time left.
                let done = |state: &indicatif::ProgressState| state.pos() > 0 && state.elapsed().as_secs_f64() >= 1.0;
                style
                    .with_key("rate", move |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                        let rate = if done(state) { per_minute(state.per_sec() * 60.0) } else { "-".to_owned() };
                        let _ = out.write_str(&rate);
                    })
                    .with_key("left", move |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                        let left =
                            if done(state) { time_left(state.eta().as_secs_f64() / 60.0) } else { "-".to_owned() };
                        let _ = out.write_str(&left);
                    })
            })
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden()).with_style(style);
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Progress::Bar { bar, target }
    }

    /// Shows the bar once it has work (and never before: 0/0 is drawn as a full bar).
    fn show_when_there_is_work(bar: &ProgressBar, target: &Target) {
        if bar.is_hidden() && bar.length().unwrap_or(0) > 0 {
            bar.set_draw_target(target());
        }
    }

    /// The work ahead: `total` units.
    pub fn plan(&self, total: u64) {
        match self {
            Progress::Bar { bar, target } => {
                bar.set_length(total);
                Self::show_when_there_is_work(bar, target);
            }
            Progress::Lines { total: planned, .. } => *planned.lock().unwrap_or_else(|p| p.into_inner()) = total,
        }
    }

    /// One more unit of work turned up (a visit whose results must be fetched again).
    pub fn grow(&self) {
        match self {
            Progress::Bar { bar, target } => {
                bar.inc_length(1);
                Self::show_when_there_is_work(bar, target);
            }
            Progress::Lines { total, .. } => *total.lock().unwrap_or_else(|p| p.into_inner()) += 1,
        }
    }

    /// A line for people, above the bar.
    /// One visit planned as work turned out to be none (refused before anything was sent).
    pub fn shrink(&self) {
        match self {
            Progress::Bar { bar, .. } => bar.set_length(bar.length().unwrap_or(1).saturating_sub(1)),
            Progress::Lines { total, .. } => {
                let mut total = total.lock().unwrap_or_else(|p| p.into_inner());
                *total = total.saturating_sub(1);
            }
        }
    }

    pub fn say(&self, line: &str) {
        match self {
            Progress::Bar { bar, .. } if !bar.is_hidden() => bar.println(crate::out::visible(line)),
            _ => crate::out::to_stderr(line),
        }
    }

    /// One step of a few done, with its line (no rate: steps are not alike).
    pub fn step(&self, line: &str) {
        match self {
            Progress::Bar { bar, .. } => {
                Self::say(self, line);
                bar.inc(1);
            }
            Progress::Lines { .. } => crate::out::to_stderr(line),
        }
    }

    /// One unit done (`failed` or not), with its line.
    pub fn finished(&self, line: &str, failed: bool) {
        match self {
            Progress::Bar { bar, .. } => {
                Self::say(self, line);
                bar.inc(1);
            }
            Progress::Lines { start, total, worked } => {
                let mut worked = worked.lock().unwrap_or_else(|p| p.into_inner());
                if failed {
                    worked.1 += 1
                } else {
                    worked.0 += 1
                }
                let (done, failed) = *worked;
                let left = total.lock().unwrap_or_else(|p| p.into_inner()).saturating_sub(done + failed);
                let minutes = start.elapsed().as_secs_f64() / 60.0;
                // Under a second of work says nothing of a rate (an instant failure is no pace).
                let rate = if minutes < 1.0 / 60.0 { f64::NAN } else { (done + failed) as f64 / minutes };
                let eta = match left {
                    0 => "-".to_owned(),
                    _ => time_left(left as f64 / rate),
                };
                let rate = per_minute(rate);
                crate::out::to_stderr(line);
                crate::out::note!("  [done {done}, failed {failed}, left {left}] {rate}, ETA {eta}");
            }
        }
    }

    /// Ends the bar (it stays on screen).
    pub fn finish(&self) {
        if let Progress::Bar { bar, .. } = self {
            let shown = !bar.is_hidden();
            bar.finish();
            // The finished bar stays on its line; what is said next starts on a line of its own.
            if shown {
                crate::out::to_stderr("");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A terminal that keeps what is drawn on it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn no_bar_is_drawn_until_there_is_work_so_never_a_full_one_at_zero_of_zero() {
        let screen = Screen::default();
        let drawn = screen.clone();
        let target: Target = Box::new(move || ProgressDrawTarget::term_like(Box::new(drawn.clone())));
        let progress = Progress::drawn_on(&template("visits", false), target);
        let shown = || screen.0.lock().unwrap().clone();
        std::thread::sleep(std::time::Duration::from_millis(250)); // a steady tick
        progress.plan(0);
        progress.say("0 to analyse");
        assert_eq!(shown(), "", "no bar before there is work, and none for no work");
        progress.grow();
        progress.finished("done anna", false);
        progress.finish(); // draws the bar as it ends, whatever the refresh rate
        assert!(shown().contains("1/1 visits"), "{:?}", shown());
        assert!(!shown().contains("0/0"), "{:?}", shown());
    }

    #[test]
    fn rates_and_times_left_read_as_people_say_them() {
        assert_eq!(
            (per_minute(11368.5), per_minute(93.24), per_minute(9.87), per_minute(0.04)),
            ("11368/min".into(), "93/min".into(), "9.9/min".into(), "0.0/min".into())
        );
        assert_eq!(
            (time_left(0.33), time_left(3.54), time_left(42.4)),
            ("20 s".into(), "3.5 min".into(), "42 min".into())
        );
        assert_eq!(per_minute(f64::INFINITY), "-");
    }

    #[test]
    fn no_color_set_to_anything_turns_colours_off() {
        assert!(wants_colours(None) && wants_colours(Some("".into())));
        assert!(!wants_colours(Some("1".into())) && !wants_colours(Some("false".into())));
        assert!(template("visits", true).contains(".cyan") && !template("visits", false).contains(".cyan"));
        for colours in [true, false] {
            assert!(ProgressStyle::with_template(&template("visits", colours)).is_ok(), "a valid template");
        }
    }
}
