//! A folder run's visits done in an earlier run: left as they are when their folder holds
//! their results as this run asks for them, else completed or fetched again by id (never
//! paid again); and the one way a visit's results are saved.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::identity::{Holds, holds, set_aside};
use super::save_visit::{SavedVisit, save_visit};
use super::visits::Visit;
use super::{FolderEvent, FolderRun};
use crate::Uuid;
use crate::bulk::{Failure, HandlerError};
use crate::error::ErrorKind;

impl FolderRun<'_> {
    /// `visit`, saved in an earlier run with `batch_id`, as its folder is now. An `Err` says
    /// its results are gone from the folder: the runner fetches them again by id.
    pub(super) fn done_earlier(
        &self,
        visit: &Visit,
        batch_id: Uuid,
        extras: &Mutex<Extras>,
        on_event: &(impl Fn(&FolderEvent<'_>) + Sync),
    ) -> Result<(), HandlerError> {
        let key = visit.name.as_str();
        let dir = super::visit_dir(&self.output, key);
        match holds(&dir, Some(batch_id)) {
            Holds::Own if self.saved_as_asked(&dir) => on_event(&FolderEvent::DoneEarlier { visit: key }),
            // Saved without the pictures or the report this run asks for: the analysis
            // stands, and what it lacks is fetched by id here, whole or not at all. If that
            // fails, the visit stays done as it was.
            Holds::Own => {
                on_event(&FolderEvent::Refetching { visit: key });
                let fetched = self.session.wait_for_results_with(batch_id, &self.options);
                match fetched.and_then(|r| self.save_visit(visit, &r, batch_id)) {
                    Ok(saved) => {
                        lock(extras).refreshed += 1;
                        on_event(&FolderEvent::Done { visit: key, batch_id, resumed: true, saved: &saved })
                    }
                    Err(e) => {
                        let reason = format!(
                            "its results are saved and stay as they were, but the pictures or the report this run \
                             asks for could not be fetched: {e}"
                        );
                        on_event(&FolderEvent::Failed { visit: key, reason: &reason });
                        lock(extras).failed.push(Failure::new(key, reason, e));
                    }
                }
            }
            // Gone, or not its results at all: fetched again, never paid again.
            holds => {
                if let Holds::Stranger(why) = holds {
                    set_aside(&self.output, key, &dir, &why)?;
                }
                on_event(&FolderEvent::Refetching { visit: key });
                return Err("its folder does not hold its results".into());
            }
        }
        Ok(())
    }

    /// Saves `results` of `visit` (its batch `batch_id`) into its folder, whole or not at
    /// all. What the folder holds that is not this batch's results is set aside first,
    /// never replaced.
    pub(super) fn save_visit(
        &self,
        visit: &Visit,
        results: &crate::BatchResults,
        batch_id: crate::Uuid,
    ) -> crate::Result<SavedVisit> {
        let dir = super::visit_dir(&self.output, &visit.name);
        let earlier = match holds(&dir, Some(batch_id)) {
            Holds::Stranger(why) => {
                set_aside(&self.output, &visit.name, &dir, &why).map_err(|reason| {
                    crate::Error::from(ErrorKind::Save { target: dir.display().to_string(), reason })
                })?;
                false
            }
            Holds::Own => true,
            Holds::Nothing => false,
        };
        save_visit(self.session, visit, results, &dir, &self.save).map_err(|e| match earlier {
            true => e.noted(format_args!("its earlier save in {} is kept as it was", dir.display())),
            false => e,
        })
    }

    /// Whether the visit folder `dir` holds the pictures and the report this run asks for.
    fn saved_as_asked(&self, dir: &Path) -> bool {
        (!self.save.wants_assets() || dir.join("assets").is_dir())
            && (!self.save.wants_report() || dir.join("report.html").is_file())
    }
}

/// What visits done earlier got in this run: the pictures or report it asks for, saved
/// (`refreshed`), or not to be had (`failed`, with why).
#[derive(Default)]
pub(super) struct Extras {
    pub(super) refreshed: usize,
    pub(super) failed: Vec<Failure>,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
