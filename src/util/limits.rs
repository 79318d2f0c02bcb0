//! The bounds of every duration setting and every name, in one place.
//!
//! Zero is refused where it cannot work (a timeout, a deadline), huge values are clamped
//! to [`MAX_DURATION`] ("no practical limit"), and poll intervals have a floor so that a
//! schedule can never poll in a tight loop. Every setter and `SessionBuilder::build` goes
//! through these functions, so no `Instant + Duration` and no timer in ureq can overflow.

use std::fmt;
use std::time::Duration;

/// The longest duration any setting takes: one day. Longer values are clamped to it.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest lifetime [`Session::create_private_token`](crate::Session::create_private_token)
/// takes: ten years.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3650 * 24 * 60 * 60);

/// The shortest wait between two result polls: 100 ms. Shorter intervals are raised to it.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A duration that must be positive: zero is an error naming `setting` (a configuration
/// error, once it is an [`Error`](crate::Error)), huge values are clamped to [`MAX_DURATION`].
pub(crate) fn positive(setting: &'static str, value: Duration) -> Result<Duration, Zero> {
    if value.is_zero() {
        return Err(Zero(setting));
    }
    Ok(clamped(value))
}

/// The setting given zero where it cannot work.
#[derive(Debug)]
pub(crate) struct Zero(&'static str);

impl fmt::Display for Zero {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} must be longer than zero", self.0)
    }
}

/// `value`, at most [`MAX_DURATION`].
pub(crate) fn clamped(value: Duration) -> Duration {
    value.min(MAX_DURATION)
}

/// A poll interval: between [`MIN_POLL_INTERVAL`] and [`MAX_DURATION`].
pub(crate) fn poll_interval(value: Duration) -> Duration {
    value.clamp(MIN_POLL_INTERVAL, MAX_DURATION)
}

/// The longest image name sent at initiate, in characters.
pub(crate) const MAX_IMAGE_NAME_CHARS: usize = 255;
/// The longest dataset, subject or private-token name, in characters.
pub(crate) const MAX_ACCOUNT_NAME_CHARS: usize = 512;

/// The one name rule: 1 to `max` characters (characters, not bytes, as the server counts).
/// The error says what is wrong, starting with `what`.
pub(crate) fn check_name(what: &str, name: &str, max: usize) -> Result<(), String> {
    let chars = name.chars().count();
    if (1..=max).contains(&chars) {
        Ok(())
    } else {
        Err(format!("{what} has {chars} characters; the api accepts 1 to {max}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_refused_by_name_and_huge_values_are_clamped() {
        let err = positive("SessionBuilder::connect_timeout", Duration::ZERO).unwrap_err().to_string();
        assert_eq!(err, "SessionBuilder::connect_timeout must be longer than zero");
        assert_eq!(MAX_DURATION, Duration::from_secs(86_400), "documented as one day");
        assert_eq!(MIN_POLL_INTERVAL, Duration::from_millis(100), "documented as 100 ms");
        assert_eq!(positive("x", Duration::MAX).unwrap(), MAX_DURATION);
        assert_eq!(positive("x", Duration::from_nanos(1)).unwrap(), Duration::from_nanos(1));
        assert_eq!(clamped(MAX_DURATION + Duration::from_nanos(1)), MAX_DURATION);
        assert_eq!(poll_interval(Duration::ZERO), MIN_POLL_INTERVAL);
        assert_eq!(poll_interval(Duration::MAX), MAX_DURATION);
        assert_eq!(poll_interval(Duration::from_secs(3)), Duration::from_secs(3));
    }

    #[test]
    fn names_count_characters_not_bytes() {
        assert!(check_name("the name", &"é".repeat(255), MAX_IMAGE_NAME_CHARS).is_ok());
        let long = check_name("the name", &"é".repeat(256), MAX_IMAGE_NAME_CHARS).unwrap_err();
        assert_eq!(long, "the name has 256 characters; the api accepts 1 to 255");
        assert!(check_name("the name", "", MAX_ACCOUNT_NAME_CHARS).is_err());
        assert!(check_name("the name", &"x".repeat(512), MAX_ACCOUNT_NAME_CHARS).is_ok());
    }
}
