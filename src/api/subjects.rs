//! Subjects: the history of computed parameters.

use uuid::Uuid;

use crate::error::Result;
use crate::model::Analysis;
use crate::observe::CallContext;
use crate::session::Session;

impl Session {
    /// Every analysis of a subject, one element per batch
    /// (`GET /api/v3/companies/{company_id}/subjects/{subject_id}/parameters/`).
    ///
    /// ```no_run
    /// # let session = hautai::Session::from_env()?;
    /// # let subject_id = uuid::Uuid::nil();
    /// for analysis in session.subject_parameters(subject_id)? {
    ///     let age = analysis.parameters.get("age").and_then(|p| p.score());
    ///     println!("{:?}: age {age:?}", analysis.image_batch_id);
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn subject_parameters(&self, subject_id: Uuid) -> Result<Vec<Analysis>> {
        let path = self.company_path(&format!("/subjects/{subject_id}/parameters/"));
        let history: Option<Vec<Analysis>> =
            self.get_json("GET subject parameters", path, String::new(), &CallContext::plain())?;
        Ok(history.unwrap_or_default())
    }
}
