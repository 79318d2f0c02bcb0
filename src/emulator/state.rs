//! The emulated service's data: one company with its dataset, subjects and batches.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use uuid::Uuid;

use super::config::{Fault, Maturity, Route};
use crate::model::Side;
use crate::util::fnv::fnv1a;

/// Everything the emulator knows, behind one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) token: String,
    pub(crate) company_id: Uuid,
    pub(crate) datasets: Vec<Dataset>,
    pub(crate) subjects: Vec<Subject>,
    /// Batches in creation order.
    pub(crate) batches: Vec<Batch>,
    /// Every compute taken, of every batch (forgotten ones too).
    pub(crate) computes_taken: u32,
    pub(crate) maturity: Maturity,
    pub(crate) never_complete: bool,
    pub(crate) detection_error: Option<(Side, String)>,
    /// Answers with parameters named and tagged as a hostile answer would (see
    /// [`Emulator::hostile_names`](super::Emulator::hostile_names)).
    pub(crate) hostile_names: bool,
    pub(crate) faults: HashMap<Route, FaultRule>,
    pub(crate) private_tokens: Vec<PrivateToken>,
    /// Source of ids and of the signing secret: everything is deterministic per seed.
    seed: u64,
    counter: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct PrivateToken {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) expiration_time: String,
    pub(crate) data: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Dataset {
    pub(crate) id: Uuid,
    pub(crate) name: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Subject {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) dataset_id: Uuid,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Batch {
    pub(crate) id: Uuid,
    pub(crate) subject_id: Uuid,
    pub(crate) dataset_id: Uuid,
    /// Creation order, also the base of `creation_time`.
    pub(crate) seq: u64,
    pub(crate) meta: serde_json::Value,
    pub(crate) creation_time: Option<String>,
    pub(crate) images: BTreeMap<Side, ImageSlot>,
    #[serde(with = "super::wall_clock")]
    pub(crate) computed: Option<Instant>,
    pub(crate) computes: u32,
    /// Result requests since compute.
    pub(crate) polls: u32,
    /// Forced final by [`State::complete_all`].
    pub(crate) forced: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ImageSlot {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    /// The object key in the emulated bucket, and the signature of its upload URL.
    pub(crate) key: String,
    pub(crate) signature: String,
    /// Size and FNV-1a hash of the stored object, once uploaded.
    pub(crate) stored: Option<(u64, u64)>,
}

/// Faults armed for one route.
#[derive(Debug, Default)]
pub(crate) struct FaultRule {
    pub(crate) next: VecDeque<(u32, Fault)>,
    pub(crate) every: Option<(u32, Fault)>,
    pub(crate) calls: u32,
}

/// Where a batch is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Compute not called yet: results are `{}`.
    NotStarted,
    /// Computing: some parameters, `all_algorithms_calculated: false`.
    Computing,
    /// Final.
    Done,
}

/// What a service keeps of its company when the emulator stops (see `kept`): not its
/// knobs, faults or maturity, which are the emulator's, set anew each start.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Data {
    token: String,
    company_id: Uuid,
    datasets: Vec<Dataset>,
    subjects: Vec<Subject>,
    batches: Vec<Batch>,
    computes_taken: u32,
    private_tokens: Vec<PrivateToken>,
    seed: u64,
    counter: u64,
}

impl State {
    /// What a kept emulator writes down.
    pub(crate) fn data(&self) -> Data {
        Data {
            token: self.token.clone(),
            company_id: self.company_id,
            datasets: self.datasets.clone(),
            subjects: self.subjects.clone(),
            batches: self.batches.clone(),
            computes_taken: self.computes_taken,
            private_tokens: self.private_tokens.clone(),
            seed: self.seed,
            counter: self.counter,
        }
    }

    /// The service `data` describes, with this start's `maturity`.
    pub(crate) fn from_data(data: Data, maturity: Maturity) -> State {
        State {
            token: data.token,
            company_id: data.company_id,
            datasets: data.datasets,
            subjects: data.subjects,
            batches: data.batches,
            computes_taken: data.computes_taken,
            private_tokens: data.private_tokens,
            seed: data.seed,
            counter: data.counter,
            ..State::new(data.seed, maturity)
        }
    }

    pub(crate) fn new(seed: u64, maturity: Maturity) -> State {
        let mut state = State {
            token: String::new(),
            company_id: Uuid::nil(),
            datasets: Vec::new(),
            subjects: Vec::new(),
            batches: Vec::new(),
            computes_taken: 0,
            maturity,
            never_complete: false,
            detection_error: None,
            hostile_names: false,
            faults: HashMap::new(),
            private_tokens: Vec::new(),
            seed,
            counter: 0,
        };
        state.token = format!("emu_{:016x}{:016x}", state.next_u64(), state.next_u64());
        state.company_id = state.new_id();
        let dataset = Dataset { id: state.new_id(), name: "Emulated dataset".into() };
        let subject = Subject { id: state.new_id(), name: "Emulated subject".into(), dataset_id: dataset.id };
        state.datasets.push(dataset);
        state.subjects.push(subject);
        state
    }

    /// The secret asset URLs are signed with.
    pub(crate) fn secret(&self) -> u64 {
        self.seed.rotate_left(17) ^ 0x5bd1_e995
    }

    /// A deterministic pseudo-random number (splitmix64 over the seed and a counter).
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.counter += 1;
        let mut z = self.seed.wrapping_add(self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A fresh version-4-shaped id.
    pub(crate) fn new_id(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// Whether `token` authenticates: the login token or an unrevoked private token.
    pub(crate) fn accepts(&self, token: &str) -> bool {
        token == self.token || self.private_tokens.iter().any(|t| t.data == token)
    }

    pub(crate) fn subject(&self, id: Uuid) -> Option<&Subject> {
        self.subjects.iter().find(|s| s.id == id)
    }

    pub(crate) fn dataset(&self, id: Uuid) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.id == id)
    }

    pub(crate) fn batch(&self, id: Uuid) -> Option<&Batch> {
        self.batches.iter().find(|b| b.id == id)
    }

    pub(crate) fn batch_mut(&mut self, id: Uuid) -> Option<&mut Batch> {
        self.batches.iter_mut().find(|b| b.id == id)
    }

    /// Creates a batch with an upload slot per named side.
    pub(crate) fn create_batch(
        &mut self,
        subject_id: Uuid,
        names: Vec<(Side, String)>,
        meta: serde_json::Value,
        creation_time: Option<String>,
    ) -> &Batch {
        let id = self.new_id();
        let dataset_id = self.subject(subject_id).map_or(Uuid::nil(), |s| s.dataset_id);
        let mut images = BTreeMap::new();
        for (side, name) in names {
            let image_id = self.new_id();
            let key = format!("{id}/{side}");
            let signature = format!("{:016x}{:016x}", fnv1a(key.as_bytes()) ^ self.seed, self.next_u64());
            images.insert(side, ImageSlot { id: image_id, name, key, signature, stored: None });
        }
        let seq = self.batches.len() as u64;
        self.batches.push(Batch {
            id,
            subject_id,
            dataset_id,
            seq,
            meta,
            creation_time,
            images,
            computed: None,
            computes: 0,
            polls: 0,
            forced: false,
        });
        &self.batches[self.batches.len() - 1]
    }

    /// Where `batch` stands now.
    pub(crate) fn progress(&self, batch: &Batch) -> Progress {
        let Some(computed) = batch.computed else { return Progress::NotStarted };
        if batch.forced {
            return Progress::Done;
        }
        if self.never_complete {
            return Progress::Computing;
        }
        let mature = match self.maturity {
            Maturity::Polls(polls) => batch.polls >= polls,
            maturity => maturity.delay_of(batch.id).is_none_or(|delay| computed.elapsed() >= delay),
        };
        if mature { Progress::Done } else { Progress::Computing }
    }

    /// The fault to answer this call of `route` with, if one is armed.
    pub(crate) fn take_fault(&mut self, route: Route) -> Option<Fault> {
        let rule = self.faults.get_mut(&route)?;
        rule.calls += 1;
        if let Some((left, fault)) = rule.next.front_mut() {
            let fault = fault.clone();
            *left -= 1;
            if *left == 0 {
                rule.next.pop_front();
            }
            return Some(fault);
        }
        match &rule.every {
            Some((nth, fault)) if rule.calls % nth == 0 => Some(fault.clone()),
            _ => None,
        }
    }
}
