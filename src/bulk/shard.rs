//! Sharding without a coordinator: a stable hash of a job's key picks its shard, so the
//! same program runs as a Kubernetes indexed Job, a Slurm job array or GNU parallel on
//! many machines, each shard with its own journal.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind, Result};
use crate::util::fnv::fnv1a;

/// Shard `index` of `count` (0-based): the jobs whose key hashes to it.
///
/// ```
/// use hautai::bulk::Shard;
///
/// let shard: Shard = "1/4".parse()?;
/// let mine: Vec<&str> = ["visit-1", "visit-2", "visit-3", "visit-4"].into_iter().filter(|k| shard.contains(k)).collect();
/// # let _ = mine;
/// # Ok::<(), hautai::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Every job: shard 0 of 1.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`; `index` must be below `count`
    /// ([`ErrorKind::Config`](crate::error::ErrorKind::Config) otherwise).
    pub fn new(index: u32, count: u32) -> Result<Shard> {
        if count == 0 || index >= count {
            return Err(config(format!(
                "shard {index}/{count}: the index must be below the count, and the count at least 1"
            )));
        }
        Ok(Shard { index, count })
    }

    /// Shard `index` of `count` with the index from the environment of a job array:
    /// `JOB_COMPLETION_INDEX` (Kubernetes indexed Jobs) or `SLURM_ARRAY_TASK_ID` (Slurm,
    /// less `SLURM_ARRAY_TASK_MIN` when the array does not start at 0). `Ok(None)` when
    /// neither is set; [`ErrorKind::Config`](crate::error::ErrorKind::Config) when the
    /// index is not a number below `count`.
    ///
    /// ```no_run
    /// let shard = hautai::bulk::Shard::from_env(8)?.unwrap_or(hautai::bulk::Shard::ALL);
    /// # let _ = shard;
    /// # Ok::<(), hautai::Error>(())
    /// ```
    pub fn from_env(count: u32) -> Result<Option<Shard>> {
        Self::from_vars(count, |name| std::env::var(name).ok()).transpose()
    }

    fn from_vars(count: u32, var: impl Fn(&str) -> Option<String>) -> Option<Result<Shard>> {
        let number = |name: &str| var(name).map(|v| v.trim().parse::<u32>().map_err(|_| format!("{name}={v:?}")));
        let index = match (number("JOB_COMPLETION_INDEX"), number("SLURM_ARRAY_TASK_ID")) {
            (Some(index), _) => index,
            (None, Some(task)) => task.and_then(|task| {
                let min = number("SLURM_ARRAY_TASK_MIN").transpose()?.unwrap_or(0);
                task.checked_sub(min).ok_or_else(|| format!("SLURM_ARRAY_TASK_ID {task} is below its minimum {min}"))
            }),
            (None, None) => return None,
        };
        Some(
            index.map_err(|bad| config(format!("not a shard index: {bad}"))).and_then(|index| Shard::new(index, count)),
        )
    }

    /// The shard's index (0-based).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many shards there are.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether the job `key` belongs to this shard. The hash (64-bit FNV-1a of the key's
    /// bytes) is fixed: the same key lands in the same shard on every machine and in every
    /// version of this crate.
    pub fn contains(&self, key: &str) -> bool {
        fnv1a(key.as_bytes()) % u64::from(self.count) == u64::from(self.index)
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::ALL
    }
}

impl fmt::Display for Shard {
    /// `index/count`, as [`FromStr`] reads it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = Error;

    /// `I/N`, e.g. `0/4`.
    fn from_str(s: &str) -> Result<Shard> {
        let not_a_shard = || config(format!("{s:?} is not a shard: give I/N, e.g. 0/4"));
        let (index, count) = s.split_once('/').ok_or_else(not_a_shard)?;
        let number = |v: &str| v.trim().parse::<u32>().map_err(|_| not_a_shard());
        Shard::new(number(index)?, number(count)?)
    }
}

fn config(problem: String) -> Error {
    ErrorKind::Config(problem).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_lands_in_exactly_one_shard_and_shards_are_balanced() {
        let keys: Vec<String> = (0..4000).map(|i| format!("visit-{i:05}")).collect();
        let shards: Vec<Shard> = (0..4).map(|i| Shard::new(i, 4).unwrap()).collect();
        let mut sizes = [0usize; 4];
        for key in &keys {
            let owners: Vec<u32> = shards.iter().filter(|s| s.contains(key)).map(Shard::index).collect();
            assert_eq!(owners.len(), 1, "{key}: {owners:?}");
            sizes[owners[0] as usize] += 1;
        }
        assert!(sizes.iter().all(|n| (900..=1100).contains(n)), "{sizes:?}");
        assert!(keys.iter().all(|k| Shard::ALL.contains(k)));
    }

    #[test]
    fn the_hash_is_stable() {
        // Fixed values: changing the hash would move jobs between shards of a running fleet.
        assert_eq!(fnv1a(b"visit-1") % 4, 2);
    }

    #[test]
    fn shards_parse_and_come_from_job_arrays() {
        assert_eq!("2/8".parse::<Shard>().unwrap(), Shard { index: 2, count: 8 });
        assert_eq!(Shard::new(2, 8).unwrap().to_string(), "2/8");
        let shard = Shard::new(2, 8).unwrap();
        assert_eq!((shard.index(), shard.count()), (2, 8));
        for bad in ["", "3", "4/4", "1/0", "-1/4", "a/b", "1/4/2"] {
            let error = bad.parse::<Shard>().unwrap_err();
            assert!(matches!(error.kind(), ErrorKind::Config(_)), "{bad}: {error}");
        }
        let vars = |pairs: &'static [(&str, &str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        let read = |pairs| Shard::from_vars(4, vars(pairs)).transpose().unwrap();
        assert_eq!(read(&[]), None);
        assert_eq!(read(&[("JOB_COMPLETION_INDEX", "3")]), Some(Shard::new(3, 4).unwrap()));
        assert_eq!(
            read(&[("SLURM_ARRAY_TASK_ID", "11"), ("SLURM_ARRAY_TASK_MIN", "10")]),
            Some(Shard::new(1, 4).unwrap())
        );
        assert!(Shard::from_vars(4, vars(&[("JOB_COMPLETION_INDEX", "4")])).unwrap().is_err());
        assert!(Shard::from_vars(4, vars(&[("SLURM_ARRAY_TASK_ID", "x")])).unwrap().is_err());
    }
}
