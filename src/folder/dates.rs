//! A visit's date: from its folder's name (`2026-01-05`, `2026-01-05T10-30`, `20260105`),
//! else from its photos' EXIF `DateTimeOriginal`, else none (the service's time stands).

use std::path::Path;

use crate::Side;

/// When a visit took place, as read from its folder's name or its photos.
///
/// Shown as `YYYY-MM-DD` everywhere (unambiguous in every country), and sent as the
/// batch's `creation_time` (see [`VisitDate::creation_time`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct VisitDate {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The time of day, `HH:MM:SS`, when the name or the photo gives one.
    pub time: Option<String>,
    /// Where the date was read.
    pub source: DateSource,
}

/// Where a [`VisitDate`] was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DateSource {
    /// The visit folder's name.
    FolderName,
    /// A photo's EXIF `DateTimeOriginal`.
    Exif,
}

impl VisitDate {
    /// The `creation_time` sent with the visit's batch. A time of day is sent as written
    /// (cameras and folder names give local time without a zone), marked UTC; a day
    /// without one is sent at noon UTC, which is that same day in every time zone from
    /// UTC−12 to UTC+11, so whoever shows it in their zone sees the visit's day.
    pub fn creation_time(&self) -> String {
        format!("{}T{}Z", self.day, self.time.as_deref().unwrap_or("12:00:00"))
    }

    /// What the date is and where it came from: `2026-01-05 (from the folder's name)`.
    pub fn described(&self) -> String {
        let from = match self.source {
            DateSource::FolderName => "from the folder's name",
            DateSource::Exif => "from the photos",
        };
        format!("{} ({from})", self.day)
    }
}

/// The date a visit folder's `name` holds: `2026-01-05`, `2026-01-05T10-30`(`-15`) or
/// `20260105`, anywhere in the name but not inside a longer run of digits; the first that
/// is a real day (of the years 1900 to 2199) counts.
pub(crate) fn in_name(name: &str) -> Option<VisitDate> {
    let bytes = name.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let part = bytes.get(from..from + n)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |v, d| v * 10 + u32::from(d - b'0')))
    };
    let digit_at = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_digit);
    for start in 0..bytes.len() {
        if start > 0 && digit_at(start - 1) || !digit_at(start) {
            continue;
        }
        let dashed = (|| {
            let (year, month, day) = (digits(start, 4)?, digits(start + 5, 2)?, digits(start + 8, 2)?);
            (bytes[start + 4] == b'-' && bytes[start + 7] == b'-').then_some((year, month, day, start + 10))
        })();
        let (year, month, day, end) = match dashed {
            Some(found) => found,
            None => match (digits(start, 4), digits(start + 4, 2), digits(start + 6, 2)) {
                (Some(year), Some(month), Some(day)) => (year, month, day, start + 8),
                _ => continue,
            },
        };
        if digit_at(end) || !real_day(year, month, day) {
            continue;
        }
        let time = time_after(bytes, end, dashed.is_some());
        return Some(VisitDate { day: format!("{year:04}-{month:02}-{day:02}"), time, source: DateSource::FolderName });
    }
    None
}

/// `T10-30` or `T10-30-15` right after a dashed date: the time of day.
fn time_after(bytes: &[u8], at: usize, dashed: bool) -> Option<String> {
    let two = |from: usize| -> Option<u32> {
        let part = bytes.get(from..from + 2)?;
        part.iter().all(u8::is_ascii_digit).then(|| u32::from(part[0] - b'0') * 10 + u32::from(part[1] - b'0'))
    };
    if !dashed || !matches!(bytes.get(at), Some(b'T' | b't')) || bytes.get(at + 3) != Some(&b'-') {
        return None;
    }
    let (hour, minute) = (two(at + 1)?, two(at + 4)?);
    let second = match bytes.get(at + 6) {
        Some(b'-') => two(at + 7)?,
        _ => 0,
    };
    (hour < 24 && minute < 60 && second < 60).then(|| format!("{hour:02}:{minute:02}:{second:02}"))
}

fn real_day(year: u32, month: u32, day: u32) -> bool {
    let days = crate::util::civil::days_from_civil(i64::from(year), month, day);
    (1900..2200).contains(&year) && crate::util::civil::civil_from_days(days) == (i64::from(year), month, day)
}

/// The date the visit's photos were taken, from the first of them (front, left, right)
/// whose EXIF holds a `DateTimeOriginal` that is a real day; photos that cannot be read
/// give none (their visit fails on its own).
pub(crate) fn in_photos(photos: &[(Side, std::path::PathBuf)]) -> Option<VisitDate> {
    photos.iter().find_map(|(_, path)| taken(path))
}

fn taken(path: &Path) -> Option<VisitDate> {
    let file = std::fs::File::open(path).ok()?;
    let exif = exif::Reader::new().read_from_container(&mut std::io::BufReader::new(file)).ok()?;
    let field = exif.get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)?;
    let exif::Value::Ascii(values) = &field.value else { return None };
    let when = exif::DateTime::from_ascii(values.first()?).ok()?;
    let (year, month, day) = (u32::from(when.year), u32::from(when.month), u32::from(when.day));
    real_day(year, month, day).then(|| VisitDate {
        day: format!("{year:04}-{month:02}-{day:02}"),
        time: (when.hour < 24 && when.minute < 60 && when.second < 60)
            .then(|| format!("{:02}:{:02}:{:02}", when.hour, when.minute, when.second)),
        source: DateSource::Exif,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(name: &str) -> Option<(String, Option<String>)> {
        in_name(name).map(|d| (d.day, d.time))
    }

    #[test]
    fn dates_are_read_from_names_in_three_shapes() {
        let just = |d: &str| Some((d.to_owned(), None));
        assert_eq!(day("2026-01-05"), just("2026-01-05"));
        assert_eq!(day("checkup 2026-01-05 left light"), just("2026-01-05"));
        assert_eq!(day("20260105"), just("2026-01-05"));
        assert_eq!(day("visit_20261231_b"), just("2026-12-31"));
        assert_eq!(day("2026-01-05T10-30"), Some(("2026-01-05".into(), Some("10:30:00".into()))));
        assert_eq!(day("2026-01-05t23-59-58"), Some(("2026-01-05".into(), Some("23:59:58".into()))));
        assert_eq!(day("2026-01-05T25-00"), just("2026-01-05"), "no hour 25: the day stands");
        for no_time in
            ["2026-01-05T24-00", "2026-01-05T23-60", "2026-01-05T23-59-60", "2026-01-05T10:30", "2026-01-05 10-30"]
        {
            assert_eq!(day(no_time), just("2026-01-05"), "{no_time}");
        }
        assert_eq!(day("20260105T10-30"), just("2026-01-05"), "a time only after a dashed date");
        assert_eq!(day("2026-01-05T23-59"), Some(("2026-01-05".into(), Some("23:59:00".into()))));
        assert_eq!(day("2024-02-29"), just("2024-02-29"));
        for none in [
            "2026-02-30",
            "2026-13-01",
            "20261301",
            "120260105",
            "202601050",
            "visit-7",
            "2026-1-5",
            "1899-12-31",
            "2026x01-05",
            "2026-01x05",
        ] {
            assert_eq!(day(none), None, "{none}");
        }
        assert_eq!(day("x2026-02-30 then 2026-03-01"), just("2026-03-01"), "the first real day counts");
    }

    #[test]
    fn the_creation_time_keeps_the_day_in_every_zone() {
        let date = in_name("2026-01-05").unwrap();
        assert_eq!(date.creation_time(), "2026-01-05T12:00:00Z");
        assert_eq!(in_name("2026-01-05T10-30").unwrap().creation_time(), "2026-01-05T10:30:00Z");
        assert_eq!(date.described(), "2026-01-05 (from the folder's name)");
    }
}
