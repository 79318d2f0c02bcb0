//! Assets: the masks and predicted images the results point to, downloaded from their
//! signed URLs through the one request path, without the token.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::call::CallContext;
use crate::error::{Error, ErrorKind, Result};
use crate::session::Session;
use crate::transport::{Dest, Outgoing, Payload};
use crate::util::url;

impl Session {
    /// Streams the signed URL `url` (a mask or a predicted image from the results, see
    /// [`BatchResults::assets`](crate::BatchResults::assets)) into `writer`, and returns
    /// the number of bytes written.
    ///
    /// Only `https` URLs to public addresses are fetched, unless the API itself is on a
    /// loopback or private address or
    /// [`download_from_any_host`](crate::SessionBuilder::download_from_any_host) says
    /// otherwise: an answer cannot point the client at the user's own network.
    ///
    /// The token is never sent (the URL carries its own signature), redirects are not
    /// followed, the answer is read with the session's read limit and timeouts, the whole
    /// call (retries included) ends by the session's [deadline](crate::SessionBuilder::deadline), and errors
    /// name the asset by its path, never its signature. A transient failure before the
    /// first byte is retried; one after it is returned (the writer holds part of the
    /// asset): [`download_to`](Self::download_to) starts a file over instead.
    ///
    /// ```no_run
    /// # let session = hautai::Session::from_env()?;
    /// # let batch_id = hautai::Uuid::nil();
    /// let results = session.results(batch_id, &hautai::model::ResultsQuery::new())?;
    /// for asset in results.assets() {
    ///     let mut bytes = Vec::new();
    ///     session.download(&asset.url, &mut bytes)?;
    ///     println!("{} {} bytes", asset.file_name(), bytes.len());
    /// }
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn download(&self, url: &str, writer: &mut dyn Write) -> Result<u64> {
        self.shared.downloads.check(url)?;
        let written = Cell::new(0u64);
        let writer = RefCell::new(writer);
        let sink = |chunk: &[u8]| -> std::io::Result<()> {
            writer.borrow_mut().write_all(chunk)?;
            written.set(written.get() + chunk.len() as u64);
            Ok(())
        };
        let no_headers = BTreeMap::new();
        let call = Outgoing {
            method: "GET",
            dest: Dest::Storage { url, headers: &no_headers, side: None, download: true },
            payload: Payload::None,
            // Never sent to storage; kept to be hidden should storage ever echo it.
            token: Some(self.token()),
            sink: Some(&sink),
        };
        // One deadline for the whole download, as for a pipeline call.
        let deadline = self.clock().now() + self.shared.deadline;
        let ctx = CallContext::new(crate::error::Step::Results, Some(deadline), None);
        self.shared.transport.send(&call, &ctx)?;
        writer
            .borrow_mut()
            .flush()
            .map_err(|e| Error::with_io(ErrorKind::Save { target: url::path_of(url), reason: e.to_string() }, e))?;
        Ok(written.get())
    }

    /// [`download`](Self::download) into the file `path`, atomically: the asset goes to a
    /// temporary file of this call's own beside it (`.<name>.<process>-<n>.partial`), which
    /// is renamed to `path` once complete and removed on any error, so `path` never holds
    /// part of an asset, and two downloads into one path leave one whole asset. Returns the
    /// size.
    pub fn download_to(&self, url: &str, path: impl AsRef<Path>) -> Result<u64> {
        self.download_into(url, path.as_ref(), &mut |_| Ok(()))
    }

    /// [`download_to`](Self::download_to), with `admit` asked before each chunk is
    /// written (an error from it ends the download, and the temporary file goes).
    pub(crate) fn download_into(
        &self,
        url: &str,
        path: &Path,
        admit: &mut dyn FnMut(usize) -> std::io::Result<()>,
    ) -> Result<u64> {
        let save_error = |e: std::io::Error| {
            Error::with_io(ErrorKind::Save { target: path.display().to_string(), reason: e.to_string() }, e)
        };
        let (temporary, file) = crate::util::temporary::create_beside(path, "partial").map_err(save_error)?;
        let mut gated = Gated { file, admit };
        // Renamed once complete; not flushed to the disk first (an asset can be fetched
        // again: what matters is that `path` never holds part of one).
        // A write that failed (a full disk) names the file it was writing, not the URL.
        let downloaded = self.download(url, &mut gated).map_err(|error| match error.kind() {
            ErrorKind::Save { reason, .. } => {
                let reason = reason.clone();
                save_error(error.into_io_error().unwrap_or_else(|| std::io::Error::other(reason)))
            }
            _ => error,
        });
        let downloaded = downloaded.and_then(|len| {
            drop(gated);
            std::fs::rename(&temporary, path).map_err(save_error)?;
            Ok(len)
        });
        if downloaded.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        downloaded
    }
}

/// A file whose writes are admitted chunk by chunk.
struct Gated<'a> {
    file: std::fs::File,
    admit: &'a mut dyn FnMut(usize) -> std::io::Result<()>,
}

impl Write for Gated<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        (self.admit)(buf.len())?;
        self.file.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
