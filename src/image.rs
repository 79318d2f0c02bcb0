//! Image inputs: a file streamed from disk, or bytes in memory, checked before use.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::{ErrorKind, Result};
use crate::model::{BySide, Side};

/// The largest image the API accepts: 30 MiB (`X-Goog-Content-Length-Range: 1,31457280`).
pub const MAX_IMAGE_BYTES: u64 = 30 * 1024 * 1024;

/// One photo to upload: a file (streamed from disk, never loaded whole, and re-opened
/// for a retry) or bytes already in memory.
///
/// Paths and bytes convert with `into()`: `&str`, `String`, `&String`, `&Path`,
/// `PathBuf`, `&OsStr` and `OsString` are paths; `Vec<u8>`, `&Vec<u8>`, `&[u8]` and
/// `&[u8; N]` (what `include_bytes!` gives) are bytes.
///
/// ```
/// use hautai::Image;
/// let from_disk: Image = "photos/front.jpg".into();
/// let in_memory: Image = vec![0xFF, 0xD8, 0xFF].into();
/// let fixture: Image = b"\xFF\xD8\xFF\xD9".into(); // or include_bytes!("front.jpg")
/// assert_eq!(from_disk.path().unwrap().to_str(), Some("photos/front.jpg"));
/// assert!(in_memory.path().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct Image<'a> {
    source: Source<'a>,
}

#[derive(Clone)]
enum Source<'a> {
    Path(Cow<'a, Path>),
    Bytes(Cow<'a, [u8]>),
}

impl std::fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Source::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
        }
    }
}

impl<'a> Image<'a> {
    /// The file at `path`.
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            Source::Path(path) => Some(path),
            Source::Bytes(_) => None,
        }
    }

    /// A file, streamed from disk when uploaded.
    pub fn from_path(path: impl Into<Cow<'a, Path>>) -> Self {
        Image { source: Source::Path(path.into()) }
    }

    /// Bytes in memory.
    pub fn from_bytes(bytes: impl Into<Cow<'a, [u8]>>) -> Self {
        Image { source: Source::Bytes(bytes.into()) }
    }

    /// Checks the image for `side`: a readable regular file or bytes, 1 byte to 30 MiB.
    /// Returns its size. Nothing is read but the file's metadata (and an open to check
    /// that it is readable).
    pub(crate) fn check(&self, side: Side) -> Result<u64> {
        let invalid =
            |reason: String| ErrorKind::InvalidImage { side, path: self.path().map(Path::to_path_buf), reason };
        let len = match &self.source {
            Source::Bytes(bytes) => bytes.len() as u64,
            Source::Path(path) => {
                let meta = std::fs::metadata(path).map_err(|e| invalid(io_reason(&e)))?;
                if meta.is_dir() {
                    return Err(invalid("is a directory, not an image file".into()).into());
                }
                if !meta.is_file() {
                    // A FIFO or a device: opening could block and its length is unknown.
                    return Err(invalid("is not a regular file".into()).into());
                }
                File::open(path).map_err(|e| invalid(format!("cannot be read: {}", io_reason(&e))))?;
                meta.len()
            }
        };
        if len == 0 {
            return Err(invalid("is empty".into()).into());
        }
        if len > MAX_IMAGE_BYTES {
            return Err(invalid(format!("is {len} bytes; the api accepts at most {MAX_IMAGE_BYTES} (30 MiB)")).into());
        }
        Ok(len)
    }

    /// Checks that the photo for `side` begins as a format the service takes (JPEG, PNG,
    /// WebP, HEIC/HEIF, BMP, TIFF), reading its first bytes.
    pub(crate) fn check_format(&self, side: Side) -> Result<()> {
        let path = || self.path().map(Path::to_path_buf);
        let mut head = [0; crate::format::HEAD];
        let len = match &self.source {
            Source::Bytes(bytes) => {
                let len = bytes.len().min(head.len());
                head[..len].copy_from_slice(&bytes[..len]);
                len
            }
            Source::Path(file) => read_head(file, &mut head).map_err(|e| ErrorKind::InvalidImage {
                side,
                path: path(),
                reason: format!("cannot be read: {}", io_reason(&e)),
            })?,
        };
        crate::format::photo_format(&head[..len]).map(drop).map_err(|looks| {
            let reason = format!(
                "is not a picture the service takes: it looks like {looks} (it takes JPEG, PNG, WebP, HEIC/HEIF, \
                 BMP and TIFF); for a format this check does not know, skip it (--any-format, or \
                 AnalysisOptions::any_format in a program)"
            );
            ErrorKind::InvalidImage { side, path: path(), reason }.into()
        })
    }

    /// A reader over exactly `len` bytes of the image, from the start (for each attempt).
    pub(crate) fn open(&self, len: u64) -> io::Result<Box<dyn Read + Send + '_>> {
        match &self.source {
            Source::Bytes(bytes) => Ok(Box::new(&bytes[..])),
            Source::Path(path) => {
                let file = File::open(path)?;
                if file.metadata()?.len() != len {
                    return Err(io::Error::other("the file changed size since it was checked"));
                }
                Ok(Box::new(file))
            }
        }
    }

    /// The name sent at initiate: `front.jpg`-style (keeping a short extension of the file)
    /// unless `real_name` asks for the file's own name.
    pub(crate) fn upload_name(&self, side: Side, real_name: bool) -> String {
        let path = self.path();
        if real_name && let Some(name) = path.and_then(Path::file_name) {
            return name.to_string_lossy().into_owned();
        }
        let ext = path
            .and_then(Path::extension)
            .and_then(|e| e.to_str())
            .filter(|e| (1..=5).contains(&e.len()) && e.chars().all(|c| c.is_ascii_alphanumeric()))
            .map_or_else(|| "jpg".to_owned(), str::to_ascii_lowercase);
        format!("{side}.{ext}")
    }
}

/// Reads the first bytes of the file at `path` into `head`; how many there were.
fn read_head(path: &Path, head: &mut [u8]) -> io::Result<usize> {
    let mut file = File::open(path)?;
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "does not exist".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

impl<'a> From<&'a Path> for Image<'a> {
    fn from(path: &'a Path) -> Self {
        Image::from_path(path)
    }
}
impl<'a> From<&'a PathBuf> for Image<'a> {
    fn from(path: &'a PathBuf) -> Self {
        Image::from_path(path.as_path())
    }
}
impl<'a> From<PathBuf> for Image<'a> {
    fn from(path: PathBuf) -> Self {
        Image::from_path(path)
    }
}
impl<'a> From<&'a str> for Image<'a> {
    fn from(path: &'a str) -> Self {
        Image::from_path(Path::new(path))
    }
}
impl<'a> From<&'a String> for Image<'a> {
    fn from(path: &'a String) -> Self {
        Image::from_path(Path::new(path.as_str()))
    }
}
impl<'a> From<String> for Image<'a> {
    fn from(path: String) -> Self {
        Image::from_path(PathBuf::from(path))
    }
}
impl<'a> From<&'a std::ffi::OsStr> for Image<'a> {
    fn from(path: &'a std::ffi::OsStr) -> Self {
        Image::from_path(Path::new(path))
    }
}
impl<'a> From<std::ffi::OsString> for Image<'a> {
    fn from(path: std::ffi::OsString) -> Self {
        Image::from_path(PathBuf::from(path))
    }
}
impl<'a, const N: usize> From<&'a [u8; N]> for Image<'a> {
    fn from(bytes: &'a [u8; N]) -> Self {
        Image::from_bytes(bytes.as_slice())
    }
}
impl<'a> From<&'a [u8]> for Image<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Image::from_bytes(bytes)
    }
}
impl<'a> From<&'a Vec<u8>> for Image<'a> {
    fn from(bytes: &'a Vec<u8>) -> Self {
        Image::from_bytes(bytes.as_slice())
    }
}
impl<'a> From<Vec<u8>> for Image<'a> {
    fn from(bytes: Vec<u8>) -> Self {
        Image::from_bytes(bytes)
    }
}

/// The photos of one analysis: any non-empty subset of front, left and right.
///
/// ```
/// use hautai::Images;
/// let front_only = Images::new().front("front.jpg");
/// let all = Images::new().front("f.jpg").left("l.jpg").right(vec![1u8, 2, 3]);
/// assert_eq!(front_only.sides().count(), 1);
/// assert_eq!(all.sides().count(), 3);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Images<'a> {
    images: BySide<Image<'a>>,
}

impl<'a> Images<'a> {
    /// No photo yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the front photo.
    pub fn front(self, image: impl Into<Image<'a>>) -> Self {
        self.side(Side::Front, image)
    }
    /// Sets the left photo.
    pub fn left(self, image: impl Into<Image<'a>>) -> Self {
        self.side(Side::Left, image)
    }
    /// Sets the right photo.
    pub fn right(self, image: impl Into<Image<'a>>) -> Self {
        self.side(Side::Right, image)
    }
    /// Sets the photo of `side`.
    pub fn side(mut self, side: Side, image: impl Into<Image<'a>>) -> Self {
        self.images.set(side, image.into());
        self
    }
    /// The sides given, with their photos, in API order.
    pub fn sides(&self) -> impl Iterator<Item = (Side, &Image<'a>)> {
        self.images.iter()
    }

    /// The sizes of the photos that can be read, from their metadata (nothing is read).
    pub(crate) fn sizes(&self) -> impl Iterator<Item = u64> + '_ {
        self.sides().filter_map(|(side, image)| image.check(side).ok())
    }

    /// What the photos are, in a line a journal keeps: each side with its size and an
    /// FNV-1a 64 hash of its bytes (`front:183204:9f3a...`), so that a rerun can tell
    /// whether the photos a journal analysed are still the ones given. Each photo is first
    /// checked as the pipeline checks it (a readable regular file of 1 byte to 30 MiB: a
    /// FIFO or `/dev/zero` behind a photo's name never hangs the run), then read.
    pub(crate) fn fingerprint(&self) -> Result<String> {
        let mut parts = Vec::new();
        for (side, image) in self.sides() {
            let len = image.check(side)?;
            let unreadable = |e: io::Error| ErrorKind::InvalidImage {
                side,
                path: image.path().map(Path::to_path_buf),
                reason: format!("cannot be read: {}", io_reason(&e)),
            };
            let mut reader = image.open(len).map_err(unreadable)?;
            let mut buf = vec![0; 64 * 1024];
            let mut hash = crate::util::fnv::START;
            loop {
                let n = reader.read(&mut buf).map_err(unreadable)?;
                if n == 0 {
                    break;
                }
                hash = crate::util::fnv::update(hash, &buf[..n]);
            }
            parts.push(format!("{side}:{len}:{hash:016x}"));
        }
        Ok(parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_are_side_names_unless_real_names_are_asked_for() {
        let path = Image::from("photos/Jane Doe front.JPEG");
        assert_eq!(path.upload_name(Side::Front, false), "front.jpeg");
        assert_eq!(path.upload_name(Side::Front, true), "Jane Doe front.JPEG");
        // No extension, an odd one or bytes: `.jpg`.
        assert_eq!(Image::from("scan").upload_name(Side::Left, false), "left.jpg");
        assert_eq!(Image::from("a.tar.gz-x").upload_name(Side::Left, false), "left.jpg");
        assert_eq!(Image::from("a.toolong").upload_name(Side::Right, false), "right.jpg");
        assert_eq!(Image::from(vec![1u8]).upload_name(Side::Right, true), "right.jpg");
    }

    #[test]
    fn paths_and_bytes_of_every_common_kind_convert() {
        let os: &std::ffi::OsStr = "f.jpg".as_ref();
        for path in [Image::from(os), Image::from(os.to_os_string()), Image::from("f.jpg")] {
            assert_eq!(path.path(), Some(Path::new("f.jpg")));
        }
        static FIXTURE: &[u8; 4] = b"\xFF\xD8\xFF\xD9";
        let bytes = Image::from(FIXTURE);
        assert_eq!((bytes.path(), bytes.check(Side::Front).unwrap()), (None, 4));
        assert_eq!(Image::from(vec![1u8, 2]).check(Side::Left).unwrap(), 2);
    }
}
