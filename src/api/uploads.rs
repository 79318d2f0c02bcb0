//! Uploads: initiate an upload (a batch and its signed targets), and upload an image to
//! its signed URL.

use std::io::Read;

use uuid::Uuid;

use super::{Endpoint, decode, endpoint};
use crate::call::CallContext;
use crate::error::{ErrorKind, Result, Step};
use crate::image::Image;
use crate::model::{InitiateUpload, Side, UploadTarget, UploadTargets};
use crate::observe::{Event, Observer};
use crate::session::Session;
use crate::transport::{Dest, Outgoing, Payload, Reply};
use crate::util::limits::{MAX_IMAGE_NAME_CHARS, check_name};
use crate::util::redact;

pub(crate) const INITIATE: Endpoint = endpoint!(POST "initiate upload");

impl Session {
    /// Creates a batch for `subject_id` and returns a signed upload target per requested side
    /// (`POST /api/v3/companies/{company_id}/subjects/{subject_id}/upload/`).
    ///
    /// At least one side must be named, each name 1..=255 characters; this is checked before
    /// anything is sent. The batch exists once this returns: keep its id.
    ///
    /// ```no_run
    /// use hautai::Side;
    /// use hautai::model::InitiateUpload;
    /// # let session = hautai::Session::from_env()?;
    /// # let subject_id = hautai::Uuid::nil();
    /// let targets = session.initiate_upload(subject_id, &InitiateUpload::new().name(Side::Front, "front.jpg"))?;
    /// println!("batch {}", targets.image_batch_id);
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn initiate_upload(&self, subject_id: Uuid, request: &InitiateUpload) -> Result<UploadTargets> {
        let reply = self.initiate_reply(subject_id, request, &CallContext::plain())?;
        decode(&INITIATE, &reply.body)
    }

    /// Initiate's answer, not yet decoded (the pipeline names the batch of an answer that
    /// does not decode).
    pub(crate) fn initiate_reply(
        &self,
        subject_id: Uuid,
        request: &InitiateUpload,
        ctx: &CallContext<'_>,
    ) -> Result<Reply> {
        check_names(request)?;
        let path = self.company_path(&format!("/subjects/{subject_id}/upload/"));
        self.post_json(&INITIATE, path, request, ctx)
    }
}

/// At least one side, every name 1..=255 characters (characters, as the server counts).
fn check_names(request: &InitiateUpload) -> Result<()> {
    let sides = request.sides();
    if sides.is_empty() {
        return Err(
            ErrorKind::InvalidArgument("initiate upload needs at least one of front, left, right".into()).into()
        );
    }
    for side in sides {
        let name = request.get(side).unwrap_or_default();
        check_name(&format!("the {side} name"), name, MAX_IMAGE_NAME_CHARS).map_err(ErrorKind::InvalidArgument)?;
    }
    Ok(())
}

impl Session {
    /// Uploads `image` to its signed URL (the second step of the API's flow).
    ///
    /// Sends the target's method and signed headers with exactly their values (not
    /// `Host`: the URL fixes it), an explicit `Content-Length` (never chunked), and never
    /// the API token. A file is streamed from disk; a transient failure re-sends the whole
    /// body from the start. `side` names the image in errors and progress events.
    /// Returns the number of bytes sent.
    ///
    /// Storage errors keep their code: `SignatureDoesNotMatch` and `ExpiredToken` mean the
    /// URL cannot be used again (start a new batch) and are not retried.
    ///
    /// ```no_run
    /// use hautai::Side;
    /// use hautai::model::InitiateUpload;
    /// # let session = hautai::Session::from_env()?;
    /// # let subject_id = hautai::Uuid::nil();
    /// let targets = session.initiate_upload(subject_id, &InitiateUpload::new().name(Side::Front, "front.jpg"))?;
    /// let sent = session.upload_image(Side::Front, targets.get(Side::Front).unwrap(), "photos/front.jpg")?;
    /// session.compute(targets.image_batch_id, None)?;
    /// # let _ = sent;
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn upload_image<'i>(&self, side: Side, target: &UploadTarget, image: impl Into<Image<'i>>) -> Result<u64> {
        self.upload_image_in(side, target, &image.into(), &CallContext::plain())
    }

    /// [`upload_image`](Self::upload_image), reporting progress (and retries) to `observer`,
    /// which may also cancel the upload.
    pub fn upload_image_with<'i>(
        &self,
        side: Side,
        target: &UploadTarget,
        image: impl Into<Image<'i>>,
        observer: &dyn Observer,
    ) -> Result<u64> {
        let ctx = CallContext::new(Step::Upload, None, Some(observer));
        self.upload_image_in(side, target, &image.into(), &ctx)
    }

    pub(crate) fn upload_image_in(
        &self,
        side: Side,
        target: &UploadTarget,
        image: &Image<'_>,
        ctx: &CallContext<'_>,
    ) -> Result<u64> {
        let len = image.check(side)?;
        if let Some((min, max)) = target.content_length_range()
            && !(min..=max).contains(&len)
        {
            let path = image.path().map(Into::into);
            let reason = format!("is {len} bytes; the upload target accepts {min} to {max}");
            return Err(ErrorKind::InvalidImage { side, path, reason }.into());
        }
        // The API documents PUT; any other method would "succeed" without storing the image.
        if !target.method.eq_ignore_ascii_case("PUT") {
            return Err(ErrorKind::InvalidArgument(format!(
                "the upload target of the {side} image asks for method {:?}; the api uploads with PUT only, \
                 so nothing was sent",
                redact::excerpt(&target.method, 20)
            ))
            .into());
        }
        let mut headers = target.headers.clone();
        // We send the length ourselves; a signed one must agree with it.
        if let Some(name) = headers.keys().find(|k| k.eq_ignore_ascii_case("content-length")).cloned() {
            let signed = headers.remove(&name).unwrap_or_default();
            if signed.trim().parse::<u64>().ok() != Some(len) {
                let path = image.path().map(Into::into);
                let signed = redact::excerpt(&signed, 24);
                let reason = format!("is {len} bytes but its upload target was signed for Content-Length {signed:?}");
                return Err(ErrorKind::InvalidImage { side, path, reason }.into());
            }
        }
        if let Some(content_type) = &target.content_type
            && target.header("content-type").is_none()
        {
            headers.insert("Content-Type".into(), content_type.clone());
        }
        let open = || -> std::io::Result<Box<dyn Read + Send + '_>> {
            Ok(Box::new(ProgressReader::new(image.open(len)?, side, len, ctx)))
        };
        let call = Outgoing {
            method: "PUT",
            dest: Dest::Storage { url: &target.url, headers: &headers, side: Some(side), download: false },
            payload: Payload::Stream { len, open: &open },
            // Never sent to storage; kept to be hidden should storage ever echo it.
            token: Some(self.token()),
            sink: None,
        };
        self.shared.transport.send(&call, ctx)?;
        Ok(len)
    }
}

/// How often upload progress is reported.
const PROGRESS_STEP: u64 = 256 * 1024;

/// Counts the bytes read by the upload, reports them, and stops the upload when the
/// observer asks (the read fails, which ends the request at once).
struct ProgressReader<'c, R> {
    inner: R,
    side: Side,
    total: u64,
    sent: u64,
    reported: u64,
    ctx: &'c CallContext<'c>,
}

impl<'c, R> ProgressReader<'c, R> {
    fn new(inner: R, side: Side, total: u64, ctx: &'c CallContext<'c>) -> Self {
        ProgressReader { inner, side, total, sent: 0, reported: 0, ctx }
    }
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sent += n as u64;
        let due = self.sent - self.reported >= PROGRESS_STEP || (self.sent == self.total && self.reported < self.total);
        let stopped = if due {
            self.reported = self.sent;
            self.ctx.emit(Event::UploadProgress { side: self.side, sent: self.sent, total: self.total }).is_err()
        } else {
            self.ctx.check().is_err()
        };
        if stopped {
            return Err(std::io::Error::other("upload cancelled"));
        }
        Ok(n)
    }
}
