//! `Retry-After`: delta-seconds or one of the three HTTP date formats, read with bounded,
//! checked arithmetic whatever a server sends.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::util::civil::days_from_civil;

/// Parses `Retry-After`: delta-seconds, or an HTTP date (IMF-fixdate, RFC 850 or asctime),
/// relative to `now`. A date in the past means "now" (zero).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses the three HTTP date formats of RFC 9110 §5.6.7.
fn parse_http_date(s: &str) -> Option<SystemTime> {
    // Drop the weekday ("Sun, ", "Sunday, ", "Sun "): it carries no information.
    let rest = match s.find(", ") {
        Some(i) => &s[i + 2..],
        None => s.split_once(' ')?.1,
    };
    let parts: Vec<&str> = rest.split([' ', '-']).filter(|p| !p.is_empty()).collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate "06 Nov 1994 08:49:37 GMT" and RFC 850 "06-Nov-94 08:49:37 GMT".
        [day, month, year, time, "GMT"] => (*day, *month, *year, *time),
        // asctime "Nov  6 08:49:37 1994".
        [month, day, time, year] => (*day, *month, *year, *time),
        _ => return None,
    };
    let day: u32 = day.parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == month)? as u32
        + 1;
    let mut year: i64 = year.parse().ok()?;
    // HTTP dates have four-digit years; a bound keeps the arithmetic below far from
    // overflow whatever a server sends.
    if !(0..=MAX_YEAR).contains(&year) {
        return None;
    }
    if year < 100 {
        // RFC 850 two-digit years: RFC 9110 says read them as the nearest century.
        year += if year < 70 { 2000 } else { 1900 };
    }
    let mut hms = time.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days.checked_mul(86_400)?.checked_add(i64::from(h * 3600 + m * 60 + sec))?;
    UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(secs).ok()?))
}

/// The latest year read from an HTTP date.
const MAX_YEAR: i64 = 9999;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_as_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_767); // Sun, 06 Nov 1994 08:49:27 GMT
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let ten = Some(Duration::from_secs(10));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), ten);
        assert_eq!(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), ten);
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:37 1994", now), ten);
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        // RFC 850 two-digit years are the nearest century: 69 is 2069, 70 is 1970.
        assert!(
            parse_retry_after("Thursday, 06-Nov-69 08:49:37 GMT", now).unwrap() > Duration::from_secs(2_300_000_000)
        );
        assert_eq!(parse_retry_after("Friday, 06-Nov-70 08:49:37 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Sat, 06 Nov 0100 08:49:37 GMT", now), None, "year 100 is no two-digit year");
        for time in ["24:00:00", "08:60:00", "08:49:61", "08:49", "08:49:37:01"] {
            assert_eq!(parse_retry_after(&format!("Sun, 06 Nov 1994 {time} GMT"), now), None, "{time}");
        }
        let leap_second = parse_retry_after("Sun, 06 Nov 1994 08:49:60 GMT", now);
        assert_eq!(leap_second, Some(Duration::from_secs(33)), "a leap second is a time");
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 23:59:59 GMT", now), Some(Duration::from_secs(54_632)));
        assert_eq!(parse_retry_after("Sun, 00 Nov 1994 08:49:37 GMT", now), None);
        assert_eq!(parse_retry_after("Sun, 32 Nov 1994 08:49:37 GMT", now), None);
        // Absurd dates are no date at all, never an overflow.
        assert_eq!(parse_retry_after("Sun, 06 Nov 99999999999999 08:49:37 GMT", now), None);
        assert_eq!(parse_retry_after("Sun, 06 Nov 10000 08:49:37 GMT", now), None);
        let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now).unwrap();
        assert!(far > Duration::from_secs(250_000_000_000), "{far:?}");
        assert_eq!(parse_retry_after("18446744073709551615", now), Some(Duration::from_secs(u64::MAX)));
    }
}
