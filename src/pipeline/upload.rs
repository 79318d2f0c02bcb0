//! Step 3: every side uploaded at the same time, on scoped threads sharing one pool.

use crate::api::INITIATE;
use crate::error::{ErrorKind, Result, Step};
use crate::model::UploadTargets;
use crate::observe::Event;

use super::Prepared;
use super::run::Run;

impl Run<'_, '_> {
    /// Uploads every prepared side to its target concurrently. When one side fails for
    /// good, the others are stopped and its error is returned; when all succeed, each
    /// reported [`Event::Uploaded`].
    pub(crate) fn upload_all(&self, prepared: &[Prepared<'_>], targets: &UploadTargets) -> Result<()> {
        let session = self.session;
        // Every side needs a target before any upload starts.
        let mut jobs = Vec::with_capacity(prepared.len());
        for p in prepared {
            let target = targets.get(p.side).ok_or_else(|| ErrorKind::Decode {
                endpoint: INITIATE.label,
                reason: format!("the answer has no upload target for the {} image", p.side),
                excerpt: String::new(),
            })?;
            jobs.push((p, target));
        }
        // The group's own context: a failed side stops its siblings without cancelling
        // the caller's observer.
        let group = self.ctx(Step::Upload);
        let clock = session.clock();
        let results: Vec<Result<()>> = std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .iter()
                .map(|(p, target)| {
                    let group = &group;
                    scope.spawn(move || {
                        let started = clock.now();
                        let outcome = session.upload_image_in(p.side, target, p.image, group);
                        match outcome {
                            Ok(bytes) => {
                                let elapsed = clock.now() - started;
                                group.emit(Event::Uploaded { side: p.side, bytes, elapsed })
                            }
                            Err(error) => {
                                group.stop();
                                Err(error)
                            }
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        });
        // A real failure explains more than the cancellations it caused in its siblings.
        let mut cancelled_error = None;
        for result in results {
            match result {
                Ok(()) => {}
                Err(e) if matches!(e.kind(), ErrorKind::Cancelled { .. }) => cancelled_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        cancelled_error.map_or(Ok(()), Err)
    }
}
