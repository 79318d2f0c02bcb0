//! An [`Instant`] kept as the wall-clock time it stands for (milliseconds since 1970), for
//! a kept emulator: the time a process was down counts as time passed.

use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

pub(crate) fn serialize<S: serde::Serializer>(at: &Option<Instant>, to: S) -> Result<S::Ok, S::Error> {
    let wall = at.map(|at| SystemTime::now() - at.elapsed());
    let millis = wall.and_then(|w| w.duration_since(SystemTime::UNIX_EPOCH).ok()).map(|d| d.as_millis() as u64);
    millis.serialize(to)
}

pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(from: D) -> Result<Option<Instant>, D::Error> {
    let millis: Option<u64> = Option::deserialize(from)?;
    Ok(millis.map(|millis| {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_millis(millis);
        let ago = SystemTime::now().duration_since(wall).unwrap_or_default();
        Instant::now().checked_sub(ago).unwrap_or_else(Instant::now)
    }))
}
