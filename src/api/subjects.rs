//! Subjects: create and list them (v1), and the history of their computed parameters.

use uuid::Uuid;

use super::{Endpoint, Pages, decode, endpoint};
use crate::call::CallContext;
use crate::error::{ErrorKind, Result};
use crate::model::{Analysis, NewSubject, Subject};
use crate::session::Session;
use crate::util::limits::{MAX_ACCOUNT_NAME_CHARS, check_name};

const CREATE_SUBJECT: Endpoint = endpoint!(POST "subject");
const SUBJECTS: Endpoint = endpoint!(GET "subjects");
const SUBJECT_PARAMETERS: Endpoint = endpoint!(GET "subject parameters");

impl Session {
    /// Creates a subject in a dataset
    /// (`POST /api/v1/companies/{company_id}/datasets/{dataset_id}/subjects/`).
    pub fn create_subject(&self, dataset_id: Uuid, subject: &NewSubject) -> Result<Subject> {
        check_name("the subject name", &subject.name, MAX_ACCOUNT_NAME_CHARS).map_err(ErrorKind::InvalidArgument)?;
        let path = self.v1_company_path(&format!("/datasets/{dataset_id}/subjects/"));
        let reply = self.post_json(&CREATE_SUBJECT, path, subject, &CallContext::plain())?;
        decode(&CREATE_SUBJECT, &reply.body)
    }

    /// Every subject of a dataset, page after page.
    pub fn subjects(&self, dataset_id: Uuid) -> Pages<Subject> {
        let path = self.v1_company_path(&format!("/datasets/{dataset_id}/subjects/"));
        Pages::new(self.clone(), &SUBJECTS, path, Ok(String::new()))
    }

    /// The subject of `dataset_id` named exactly `name` (case and spaces count), or `None`.
    /// Reads every page of the dataset's subjects (the API documents no name filter).
    /// Two or more of that name: [`ErrorKind::Ambiguous`] naming every id, since which is
    /// meant is never guessed.
    ///
    /// ```no_run
    /// # let session = hautai::Session::from_env()?;
    /// # let dataset_id = hautai::Uuid::nil();
    /// match session.find_subject(dataset_id, "patient-0042")? {
    ///     Some(subject) => println!("patient-0042 is {}", subject.id),
    ///     None => println!("no subject of that name yet"),
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn find_subject(&self, dataset_id: Uuid, name: &str) -> Result<Option<Subject>> {
        let named = self.subjects(dataset_id).filter(|s| s.as_ref().map_or(true, |s| s.name.as_deref() == Some(name)));
        only_one(named, "subject", name, Some(dataset_id), |s| s.id)
    }

    /// Every analysis of a subject, one element per batch
    /// (`GET /api/v3/companies/{company_id}/subjects/{subject_id}/parameters/`).
    ///
    /// ```no_run
    /// # let session = hautai::Session::from_env()?;
    /// # let subject_id = hautai::Uuid::nil();
    /// for analysis in session.subject_parameters(subject_id)? {
    ///     // The estimated age in years (the parameter's `score` is a 0-100 rating).
    ///     let years = analysis.parameters.get("age").and_then(|p| p.number("age"));
    ///     println!("{:?}: age {years:?}", analysis.image_batch_id);
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn subject_parameters(&self, subject_id: Uuid) -> Result<Vec<Analysis>> {
        let path = self.company_path(&format!("/subjects/{subject_id}/parameters/"));
        let history: Option<Vec<Analysis>> =
            self.get_json(&SUBJECT_PARAMETERS, path, String::new(), &CallContext::plain())?;
        Ok(history.unwrap_or_default())
    }
}

/// The one item of `items` (a listing filtered by name), `None` when there is none, and
/// [`ErrorKind::Ambiguous`] naming every id when there are more.
pub(crate) fn only_one<T>(
    items: impl Iterator<Item = Result<T>>,
    what: &'static str,
    name: &str,
    within: Option<Uuid>,
    id: impl Fn(&T) -> Uuid,
) -> Result<Option<T>> {
    let mut found: Vec<T> = items.collect::<Result<_>>()?;
    match found.len() {
        0 | 1 => Ok(found.pop()),
        _ => {
            let ids = found.iter().map(id).collect();
            Err(ErrorKind::Ambiguous { what, name: name.to_owned(), within, ids }.into())
        }
    }
}
