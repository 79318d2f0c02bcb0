//! What a photo's first bytes say it is. The service takes JPEG, PNG, WebP, HEIC/HEIF, BMP
//! and TIFF; a text file named `left.jpg` (or a PDF, or an HTML error page saved as a
//! photo) is refused before anything is created on the server, rather than uploaded,
//! paid for and analysed as a face.

/// How many first bytes tell the formats apart.
pub(crate) const HEAD: usize = 32;

/// The format that `head` (the first [`HEAD`] bytes, or all of a shorter photo) begins,
/// or what it looks like instead.
pub(crate) fn photo_format(head: &[u8]) -> Result<&'static str, String> {
    let brand = head.get(8..12).unwrap_or_default();
    match head {
        [0xFF, 0xD8, 0xFF, ..] => Ok("JPEG"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Ok("PNG"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Ok("WebP"),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] if HEIF_BRANDS.contains(&brand) => Ok("HEIC/HEIF"),
        // `BM`, the file's size, two reserved words of zero, where the pixels start, and the
        // size of one of the known info headers: `BM` alone begins too much text ("BMI 23").
        [b'B', b'M', _, _, _, _, 0, 0, 0, 0, _, _, _, _, h0, h1, h2, h3, ..]
            if [12, 16, 40, 52, 56, 64, 108, 124].contains(&u32::from_le_bytes([*h0, *h1, *h2, *h3])) =>
        {
            Ok("BMP")
        }
        [b'I', b'I', 0x2A, 0x00, ..] | [b'M', b'M', 0x00, 0x2A, ..] => Ok("TIFF"),
        _ => Err(looks_like(head)),
    }
}

/// The ISO base media brands of HEIF images (HEIC is HEIF with HEVC).
const HEIF_BRANDS: [&[u8]; 8] = [b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"];

/// What `head` looks like, for a message: a known kind of file, text, or its first bytes.
fn looks_like(head: &[u8]) -> String {
    let known: [(&[u8], &str); 7] = [
        (b"GIF8", "a GIF picture"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"\x00\x00\x00\x0cjP", "a JPEG 2000 picture"),
        (b"{", "JSON text"),
        (b"<", "HTML or XML text"),
    ];
    if let Some((_, what)) = known.iter().find(|(magic, _)| head.starts_with(magic)) {
        return (*what).to_owned();
    }
    if head.get(4..8) == Some(b"ftyp") {
        let brand = String::from_utf8_lossy(head.get(8..12).unwrap_or_default()).into_owned();
        return format!("a video or another ISO media file (brand {brand:?})");
    }
    // The head may end in the middle of a character: what comes before it counts.
    let valid = match std::str::from_utf8(head) {
        Ok(text) => Some(text),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    let text = valid.is_some_and(|t| !t.is_empty() && t.chars().all(|c| !c.is_control() || c.is_whitespace()));
    if text {
        return "text".to_owned();
    }
    let bytes: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("none of them (it starts with {})", bytes.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formats_the_service_takes_are_known_by_their_first_bytes() {
        for (head, format) in [
            (&b"\xFF\xD8\xFF\xE0\x00\x10JFIF"[..], "JPEG"),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
            (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "WebP"),
            (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIC/HEIF"),
            (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00", "HEIC/HEIF"),
            (b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", "BMP"),
            (b"II*\x00\x08\x00\x00\x00", "TIFF"),
            (b"MM\x00*\x00\x00\x00\x08", "TIFF"),
        ] {
            assert_eq!(photo_format(head), Ok(format), "{head:?}");
        }
    }

    #[test]
    fn anything_else_says_what_it_looks_like() {
        for (head, looks) in [
            (&b"hello, this is a"[..], "text"),
            (b"GIF89a\x01\x00", "a GIF picture"),
            (b"%PDF-1.7\n", "a PDF document"),
            (b"<!DOCTYPE html>", "HTML or XML text"),
            (b"\x00\x00\x00\x20ftypisom\x00\x00", "a video or another ISO media file (brand \"isom\")"),
            (b"\x00\x01\x02\x03\xfe", "none of them (it starts with 00 01 02 03 fe)"),
            (b"\xff\xfe\x00", "none of them (it starts with ff fe 00)"),
            (b"abc\xffdef", "none of them (it starts with 61 62 63 ff 64 65 66)"), // broken, not cut: no text
            (b"RIFF\x24\x00\x00\x00WAVEfmt ", "none of them (it starts with 52 49 46 46 24 00 00 00)"),
            (b"BMI 23.4, weight 61 kg, notes\n", "text"),
            (
                b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00\x99\x00\x00\x00",
                "none of them (it starts with 42 4d 36 00 0c 00 00 00)",
            ),
            (&"Patient: Zoë".as_bytes()[..12], "text"), // cut in the middle of ë
            (b"\xFF\xD8", "none of them (it starts with ff d8)"),
        ] {
            assert_eq!(photo_format(head), Err(looks.to_owned()), "{head:?}");
        }
    }
}
