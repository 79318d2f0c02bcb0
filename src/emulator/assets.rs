//! The assets the results point to, served by the storage host: predicted images (small
//! real PNG files of a drawn face) and masks (SVG drawn over plausible face regions, or
//! PNG when asked), behind signed URLs that expire after `expiration_seconds` and are
//! refused when tampered with, as Cloud Storage does.

use std::time::{SystemTime, UNIX_EPOCH};

use super::Incoming;
use super::http::{Reply, storage_error};
use crate::util::civil::{civil_from_days, days_from_civil};
use crate::util::fnv::fnv1a;

/// Where assets live on the storage host.
pub(crate) const PREFIX: &str = "/hautai-results/";

/// The size of every picture, in pixels: a portrait photo's proportions.
const WIDTH: u32 = 120;
const HEIGHT: u32 = 150;

/// A signed URL for `object` on `storage`, valid `expires` seconds from now.
pub(crate) fn signed_url(storage: &str, object: &str, expires: u64, secret: u64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let date = goog_date(now);
    let signature = signature(object, &date, expires, secret);
    format!(
        "{storage}{PREFIX}{object}?X-Goog-Algorithm=GOOG4-RSA-SHA256\
         &X-Goog-Credential=emulator%40hautai.iam.gserviceaccount.com%2F{}%2Fauto%2Fstorage%2Fgoog4_request\
         &X-Goog-Date={date}&X-Goog-Expires={expires}&X-Goog-SignedHeaders=host&X-Goog-Signature={signature}",
        &date[..8]
    )
}

fn signature(object: &str, date: &str, expires: u64, secret: u64) -> String {
    format!("{:016x}", fnv1a(format!("{object}\n{date}\n{expires}").as_bytes()) ^ secret)
}

/// `GET` of an asset: the signature and its expiry checked, then the picture.
pub(crate) fn serve(incoming: &Incoming, secret: u64) -> Reply {
    let refuse = |status: u16, code: &str, message: &str| Reply::xml(status, storage_error(code, message));
    if incoming.header("authorization").is_some() {
        return refuse(400, "InvalidArgument", "Signed URLs do not take an Authorization header.");
    }
    let Some(object) = incoming.path.strip_prefix(PREFIX) else {
        return refuse(404, "NoSuchKey", "The specified key does not exist.");
    };
    let query = crate::util::url::query_pairs(&incoming.query);
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let (Some(date), Some(expires), Some(given)) = (get("X-Goog-Date"), get("X-Goog-Expires"), get("X-Goog-Signature"))
    else {
        return refuse(400, "AuthenticationRequired", "The request is not signed.");
    };
    let Ok(expires) = expires.parse::<u64>() else {
        return refuse(400, "InvalidArgument", "X-Goog-Expires is not a number.");
    };
    if signature(object, date, expires, secret) != given {
        return refuse(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.");
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if parse_goog_date(date).is_none_or(|signed| now > signed.saturating_add(expires)) {
        return refuse(400, "ExpiredToken", "The provided token has expired.");
    }
    let parts: Vec<&str> = object.split('/').collect();
    match parts.as_slice() {
        [_, "masks", parameter, side, file] if file.ends_with(".svg") => {
            Reply::file(svg_mask(parameter, side).into_bytes(), "image/svg+xml")
        }
        [_, "masks", parameter, side, file] if file.ends_with(".png") => {
            Reply::file(png_mask(parameter, side), "image/png")
        }
        [_, side, file] if file.ends_with(".png") => {
            Reply::file(face_png(side, file.trim_end_matches(".png")), "image/png")
        }
        _ => refuse(404, "NoSuchKey", "The specified key does not exist."),
    }
}

/// The face regions a parameter shows on, as ellipses `(cx, cy, rx, ry)` in 0..1.
fn regions(parameter: &str) -> &'static [(f32, f32, f32, f32)] {
    const FOREHEAD: (f32, f32, f32, f32) = (0.5, 0.27, 0.22, 0.08);
    const CHEEKS: [(f32, f32, f32, f32); 2] = [(0.33, 0.58, 0.1, 0.09), (0.67, 0.58, 0.1, 0.09)];
    const UNDER_EYES: [(f32, f32, f32, f32); 2] = [(0.37, 0.5, 0.08, 0.03), (0.63, 0.5, 0.08, 0.03)];
    const NOSE_AND_CHIN: [(f32, f32, f32, f32); 2] = [(0.5, 0.6, 0.05, 0.1), (0.5, 0.83, 0.1, 0.05)];
    match parameter {
        "dark_circles" | "puffiness" | "lacrimal_grooves" | "eyes_age" => &UNDER_EYES,
        "lines" | "fine_lines" | "deep_lines" => &[FOREHEAD],
        "pores" | "enlarged_pores" | "breakouts" | "pimples" => &NOSE_AND_CHIN,
        "nasolabial_wrinkles" | "marionette_lines" | "jowls" | "sagging" => {
            &[(0.4, 0.7, 0.04, 0.08), (0.6, 0.7, 0.04, 0.08)]
        }
        _ => &CHEEKS,
    }
}

/// A colour per parameter, stable.
fn colour(parameter: &str) -> [u8; 3] {
    let h = fnv1a(parameter.as_bytes());
    [(h >> 8) as u8 | 0x80, (h >> 16) as u8 & 0x7F, (h >> 24) as u8 | 0x40]
}

/// How far the face of a side's photo sits from the middle (the sample photos and the
/// predicted images turn a little), so that masks cover it.
fn shift(side: &str) -> f32 {
    match side {
        "left" => -0.06,
        "right" => 0.06,
        _ => 0.0,
    }
}

/// The regions of `parameter` on `side`'s photo.
fn placed(parameter: &str, side: &str) -> Vec<(f32, f32, f32, f32)> {
    regions(parameter).iter().map(|(cx, cy, rx, ry)| (cx + shift(side), *cy, *rx, *ry)).collect()
}

/// An SVG mask over the whole photo (stretched to it), the regions filled.
pub(crate) fn svg_mask(parameter: &str, side: &str) -> String {
    let [r, g, b] = colour(parameter);
    let shapes: String = placed(parameter, side)
        .iter()
        .map(|(cx, cy, rx, ry)| {
            format!(
                "<ellipse cx=\"{:.1}\" cy=\"{:.1}\" rx=\"{:.1}\" ry=\"{:.1}\"/>",
                cx * 1000.0,
                cy * 1000.0,
                rx * 1000.0,
                ry * 1000.0
            )
        })
        .collect();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1000 1000\" preserveAspectRatio=\"none\">\
         <g fill=\"rgb({r},{g},{b})\" fill-opacity=\"0.55\">{shapes}</g></svg>"
    )
}

/// A PNG mask (RGBA): the regions in the parameter's colour, the rest transparent.
pub(crate) fn png_mask(parameter: &str, side: &str) -> Vec<u8> {
    let [r, g, b] = colour(parameter);
    let shapes = placed(parameter, side);
    png(WIDTH, HEIGHT, 4, |x, y| {
        let inside = shapes.iter().any(|s| inside(*s, x, y));
        if inside { vec![r, g, b, 140] } else { vec![0, 0, 0, 0] }
    })
}

/// A predicted image (RGB): a drawn face, lighter for `anonymised`, framed for
/// `aligned_face`, mirrored sides a little apart.
pub(crate) fn face_png(side: &str, kind: &str) -> Vec<u8> {
    drawn_face(side, kind, WIDTH, HEIGHT)
}

/// A drawn face of `width` × `height` pixels as a PNG: what the sample photos of the
/// examples are, since the emulator accepts any bytes but a report wants a picture.
pub fn sample_photo(side: crate::Side, width: u32, height: u32) -> Vec<u8> {
    drawn_face(side.as_str(), "original", width.max(1), height.max(1))
}

fn drawn_face(side: &str, kind: &str, width: u32, height: u32) -> Vec<u8> {
    let shift = shift(side);
    png(width, height, 3, |x, y| {
        let face = inside((0.5 + shift, 0.52, 0.3, 0.38), x, y);
        let eye = inside((0.38 + shift, 0.45, 0.05, 0.025), x, y) || inside((0.62 + shift, 0.45, 0.05, 0.025), x, y);
        let mouth = inside((0.5 + shift, 0.72, 0.1, 0.025), x, y);
        let frame = kind == "aligned_face" && !((0.03..=0.97).contains(&x) && (0.03..=0.97).contains(&y));
        match () {
            _ if frame => vec![60, 120, 200],
            _ if eye => vec![50, 40, 40],
            _ if mouth => vec![170, 80, 80],
            _ if face && kind == "anonymised" => vec![225, 205, 195],
            _ if face => vec![222, 178, 150],
            _ => vec![236, 238, 242],
        }
    })
}

fn inside((cx, cy, rx, ry): (f32, f32, f32, f32), x: f32, y: f32) -> bool {
    ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2) <= 1.0
}

/// A PNG of `width` × `height` pixels of `channels` bytes (3: RGB, 4: RGBA), `pixel`
/// giving each from its centre in 0..1, as zlib's stored blocks (flate2, already in the
/// tree through ureq's gzip): a sample photo weighs what a small photo does, so that
/// uploads show their progress.
fn png(width: u32, height: u32, channels: u8, pixel: impl Fn(f32, f32) -> Vec<u8>) -> Vec<u8> {
    use std::io::Write;
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::none());
    for row in 0..height {
        let mut line = vec![0]; // Filter: none.
        for column in 0..width {
            let (x, y) = ((column as f32 + 0.5) / width as f32, (row as f32 + 0.5) / height as f32);
            line.extend(pixel(x, y));
        }
        zlib.write_all(&line).expect("writing to memory");
    }
    let zlib = zlib.finish().expect("writing to memory");
    let colour_type = if channels == 4 { 6 } else { 2 };
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, colour_type, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", header), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        out.extend((data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend(&data);
        out.extend(&chunk);
        let mut crc = flate2::Crc::new();
        crc.update(&chunk);
        out.extend(crc.sum().to_be_bytes());
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time.
fn goog_date(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn parse_goog_date(date: &str) -> Option<u64> {
    let digits = |range: std::ops::Range<usize>| date.get(range)?.parse::<u64>().ok();
    if date.len() != 16 || &date[8..9] != "T" || !date.ends_with('Z') {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year as i64, month as u32, day as u32);
    Some(u64::try_from(days).ok()? * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_pictures_are_pngs() {
        assert_eq!(goog_date(0), "19700101T000000Z");
        assert_eq!(goog_date(1_700_000_000), "20231114T221320Z");
        let now = 1_795_000_000;
        assert_eq!(parse_goog_date(&goog_date(now)), Some(now));
        assert_eq!(parse_goog_date("2026-11-28"), None);
        let png = face_png("front", "original");
        // The IEND chunk, whose CRC-32 every PNG ends with.
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
        let mask = svg_mask("redness", "left");
        assert!(mask.starts_with("<svg") && mask.contains("<ellipse cx=\"270.0\""), "{mask}");
    }
}
