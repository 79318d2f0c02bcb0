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
    format!("{{spinner}} {{elapsed_precise}} {bar} {{pos}}/{{len}} {unit} · {{per_sec}} · ETA {{eta}} {{msg}}")
}

/// A bar on a terminal, lines elsewhere.
pub enum Progress {
    Bar(ProgressBar),
    Lines { start: Instant, total: Mutex<u64>, worked: Mutex<(u64, u64)> },
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
        let style = ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr()).with_style(style);
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Progress::Bar(bar)
    }

    /// The work ahead: `total` units.
    pub fn plan(&self, total: u64) {
        match self {
            Progress::Bar(bar) => bar.set_length(total),
            Progress::Lines { total: planned, .. } => *planned.lock().unwrap_or_else(|p| p.into_inner()) = total,
        }
    }

    /// One more unit of work turned up (a visit whose results must be fetched again).
    pub fn grow(&self) {
        match self {
            Progress::Bar(bar) => bar.inc_length(1),
            Progress::Lines { total, .. } => *total.lock().unwrap_or_else(|p| p.into_inner()) += 1,
        }
    }

    /// A line for people, above the bar.
    /// One visit planned as work turned out to be none (refused before anything was sent).
    pub fn shrink(&self) {
        match self {
            Progress::Bar(bar) => bar.set_length(bar.length().unwrap_or(1).saturating_sub(1)),
            Progress::Lines { total, .. } => {
                let mut total = total.lock().unwrap_or_else(|p| p.into_inner());
                *total = total.saturating_sub(1);
            }
        }
    }

    pub fn say(&self, line: &str) {
        match self {
            Progress::Bar(bar) => bar.println(crate::out::visible(line)),
            Progress::Lines { .. } => crate::out::to_stderr(line),
        }
    }

    /// One step of a few done, with its line (no rate: steps are not alike).
    pub fn step(&self, line: &str) {
        match self {
            Progress::Bar(bar) => {
                bar.println(crate::out::visible(line));
                bar.inc(1);
            }
            Progress::Lines { .. } => crate::out::to_stderr(line),
        }
    }

    /// One unit done (`failed` or not), with its line.
    pub fn finished(&self, line: &str, failed: bool) {
        match self {
            Progress::Bar(bar) => {
                bar.println(crate::out::visible(line));
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
                let rate = (done + failed) as f64 / minutes.max(1e-9);
                let eta = match left {
                    0 => "-".to_owned(),
                    _ => format!("{:.1} min", left as f64 / rate),
                };
                crate::out::note!("{line}\n  [done {done}, failed {failed}, left {left}] {rate:.1}/min, ETA {eta}");
            }
        }
    }

    /// Ends the bar (it stays on screen).
    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
