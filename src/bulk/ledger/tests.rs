//! The ledger's decisions, case by case.

use super::*;

const P: &str = "front:1:aa";
const Q: &str = "front:1:bb";

fn batch(n: u128) -> Option<Uuid> {
    Some(Uuid::from_u128(n))
}

/// A journal line: `(key, state, batch, photos)`.
type Said<'a> = (&'a str, State, Option<Uuid>, Option<&'a str>);

/// A ledger of `lines`.
fn ledger(lines: &[Said<'_>]) -> Ledger {
    let mut ledger = Ledger::default();
    for (key, state, batch_id, photos) in lines {
        ledger.fold(&Line { inputs: photos.map(str::to_owned), ..Line::new(key, *state, *batch_id) });
    }
    ledger
}

/// The lines of a job `key` that computed batch `n` from `photos` (and saved it).
fn computed(key: &'static str, n: u128, photos: &'static str, saved: bool) -> Vec<Said<'static>> {
    let mut lines = vec![
        (key, State::Claimed, None, Some(photos)),
        (key, State::Created, batch(n), Some(photos)),
        (key, State::Uploaded, None, None),
        (key, State::ComputeSent, None, None),
        (key, State::ComputeAccepted, batch(n), None),
    ];
    if saved {
        lines.push((key, State::Saved, batch(n), None));
    }
    lines
}

fn absent(_: &str) -> Presence {
    Presence::Absent
}

fn resume(n: u128, confirmed: bool, from: Option<&str>) -> Plan {
    Plan::Resume { batch_id: Uuid::from_u128(n), confirmed, from: from.map(str::to_owned) }
}

#[test]
fn photos_not_paid_for_start_and_paid_ones_are_resumed_or_skipped() {
    use State::*;
    let cases: Vec<(Vec<Said<'_>>, Plan)> = vec![
        (vec![], Plan::Start),
        (vec![("a", Claimed, None, Some(P))], Plan::Start),
        (vec![("a", Created, batch(1), Some(P)), ("a", Uploaded, None, None)], Plan::Start),
        (vec![("a", Created, batch(1), Some(P)), ("a", ComputeSent, None, None)], resume(1, false, None)),
        (
            vec![("a", Created, batch(1), Some(P)), ("a", ComputeSent, None, None), ("a", ComputeRefused, None, None)],
            Plan::Start,
        ),
        (computed("a", 1, P, false), resume(1, true, None)),
        (computed("a", 1, P, true), Plan::Skip { batch_id: Uuid::from_u128(1) }),
        // A journal of an earlier version: no photos, the batch taken for these.
        (vec![("a", Created, batch(1), None), ("a", ComputeAccepted, None, None)], resume(1, true, None)),
        (vec![("a", Created, batch(1), None)], Plan::Start),
    ];
    for (lines, plan) in cases {
        assert_eq!(ledger(&lines).decide("a", P, false, &absent, None), plan, "{lines:?}");
    }
}

#[test]
fn a_batch_that_ended_or_that_the_service_just_said_is_gone_is_paid_again_only_when_asked() {
    let mut lines = computed("a", 1, P, false);
    lines.push(("a", State::Lost, batch(1), None));
    let lost = ledger(&lines);
    assert!(lost.record("a").lost);
    // An earlier 404 is no verdict: the service is asked again.
    assert_eq!(lost.decide("a", P, false, &absent, None), resume(1, true, None));
    assert_eq!(lost.decide("a", P, true, &absent, None), resume(1, true, None));
    // It just said so again: paid again only when asked.
    let gone = Some(Uuid::from_u128(1));
    assert_eq!(lost.decide("a", P, false, &absent, gone), Plan::Refuse(Refusal::Lost { batch_id: Uuid::from_u128(1) }));
    assert_eq!(lost.decide("a", P, true, &absent, gone), Plan::Start);
    assert_eq!(lost.decide("a", P, true, &absent, Some(Uuid::from_u128(2))), resume(1, true, None), "another batch");
    let mut ended = ledger(&computed("a", 1, P, false));
    ended.fold(&Line { ended: true, reason: Some("no face".into()), ..Line::new("a", State::Failed, None) });
    assert_eq!(ended.decide("a", P, false, &absent, None), resume(1, true, None));
    assert_eq!(ended.decide("a", P, true, &absent, None), Plan::Start);
    assert!(ended.record("a").ended);
    // Saved since: done, the failure over.
    ended.fold(&Line::new("a", State::Lost, batch(1)));
    ended.fold(&Line::new("a", State::Saved, batch(1)));
    assert_eq!(ended.decide("a", P, true, &absent, None), Plan::Skip { batch_id: Uuid::from_u128(1) });
    let record = ended.record("a");
    assert_eq!((record.ended, record.lost, record.failure), (false, false, None));
}

#[test]
fn changed_photos_are_refused_unless_asked_and_disown_the_save() {
    let changed = ledger(&computed("a", 1, P, true));
    assert_eq!(
        changed.decide("a", Q, false, &absent, None),
        Plan::Refuse(Refusal::Changed { batch_id: Uuid::from_u128(1) })
    );
    assert_eq!(changed.decide("a", Q, true, &absent, None), Plan::Start);
    assert!(changed.disowns("a", Q) && !changed.disowns("a", P) && !changed.disowns("b", P));
    // Photos never computed (created only) were not paid for: changing them costs nothing.
    let unpaid = ledger(&[("a", State::Created, batch(1), Some(P))]);
    assert_eq!(unpaid.decide("a", Q, false, &absent, None), Plan::Start);
}

#[test]
fn a_failure_disowns_the_save_unless_it_says_the_save_stands() {
    let mut saved = ledger(&computed("a", 1, P, true));
    saved.fold(&Line { kept: true, reason: Some("cannot read".into()), ..Line::new("a", State::Failed, None) });
    assert!(saved.record("a").saved && saved.record("a").failure.is_some());
    saved.fold(&Line { reason: Some("photos changed".into()), ..Line::new("a", State::Failed, None) });
    assert!(!saved.record("a").saved);
    assert_eq!(saved.decide("a", P, false, &absent, None), resume(1, true, None), "resumed, not skipped");
}

#[test]
fn photos_another_name_paid_for_are_taken_over_when_that_name_is_gone_or_a_person_confirms() {
    let renamed = ledger(&computed("old", 1, P, true));
    let only = |presence: Presence| move |key: &str| if key == "old" { presence } else { Presence::Absent };
    assert_eq!(renamed.decide("new", P, false, &only(Presence::Absent), None), resume(1, true, Some("old")));
    let duplicate = Plan::Refuse(Refusal::Duplicate { other: "old".into() });
    assert_eq!(renamed.decide("new", P, false, &only(Presence::Same), None), duplicate);
    assert_eq!(renamed.decide("new", P, true, &only(Presence::Same), None), duplicate, "never, even when asked");
    let relabelled = Plan::Refuse(Refusal::Relabelled { other: "old".into(), batch_id: Uuid::from_u128(1) });
    assert_eq!(renamed.decide("new", P, false, &only(Presence::Other), None), relabelled);
    assert_eq!(renamed.decide("new", P, false, &only(Presence::Unreadable), None), relabelled);
    // Confirmed: taken over, never paid again.
    assert_eq!(renamed.decide("new", P, true, &only(Presence::Other), None), resume(1, true, Some("old")));
    // A visit with a batch of its own whose photos became a gone visit's: confirmed first.
    let mut moved = ledger(&computed("old", 1, P, true));
    for line in computed("bob", 2, Q, true) {
        moved.fold(&Line { inputs: line.3.map(str::to_owned), ..Line::new(line.0, line.1, line.2) });
    }
    let refusal =
        Plan::Refuse(Refusal::Moved { other: "old".into(), batch_id: Uuid::from_u128(1), own: Uuid::from_u128(2) });
    assert_eq!(moved.decide("bob", P, false, &absent, None), refusal);
    assert_eq!(moved.decide("bob", P, true, &absent, None), resume(1, true, Some("old")));
    // A batch the service just said is gone is not taken over: it fails the same way.
    let gone = Some(Uuid::from_u128(1));
    assert_eq!(
        renamed.decide("new", P, false, &absent, gone),
        Plan::Refuse(Refusal::Lost { batch_id: Uuid::from_u128(1) })
    );
}

#[test]
fn a_batch_taken_over_belongs_to_its_new_name() {
    let mut ledger = ledger(&computed("old", 1, P, true));
    ledger.fold(&Line::new("new", State::Adopted, batch(1)));
    assert_eq!(ledger.holder(Uuid::from_u128(1)), Some("new"));
    let record = ledger.record("new");
    assert_eq!((record.batch_id, record.saved, record.inputs.as_deref()), (batch(1), false, Some(P)));
    // The old name, back with other photos, is a new visit: its old batch is not its own.
    assert_eq!(ledger.decide("old", Q, false, &absent, None), Plan::Start);
    // The old name, back with the same photos, takes it back (new gone), keeping its save.
    assert_eq!(ledger.decide("old", P, false, &absent, None), Plan::Skip { batch_id: Uuid::from_u128(1) });
    ledger.fold(&Line::new("old", State::Adopted, batch(1)));
    assert!(ledger.record("old").saved && ledger.holder(Uuid::from_u128(1)) == Some("old"));
    // Taken back by the new name: its save there was reset when it first took it.
    ledger.fold(&Line::new("new", State::Saved, batch(1)));
    ledger.fold(&Line::new("new", State::Adopted, batch(1)));
    assert!(ledger.record("new").saved, "the same batch again keeps the save");
    // An adoption of a batch the ledger does not know changes nothing.
    ledger.fold(&Line::new("x", State::Adopted, batch(9)));
    assert_eq!(ledger.record("x").batch_id, None);
}

#[test]
fn the_same_photos_in_two_visits_fail_the_one_that_came_to_them_second() {
    let claimed = ledger(&[("a", State::Claimed, None, Some(P))]);
    let same = |key: &str| if key == "a" { Presence::Same } else { Presence::Absent };
    assert_eq!(claimed.decide("b", P, false, &same, None), Plan::Refuse(Refusal::Duplicate { other: "a".into() }));
    assert_eq!(claimed.decide("b", P, true, &same, None), Plan::Refuse(Refusal::Duplicate { other: "a".into() }));
    assert_eq!(claimed.decide("a", P, false, &same, None), Plan::Start, "the first keeps them");
    // The first with other photos now: no longer a copy.
    assert_eq!(claimed.decide("b", P, false, &|_| Presence::Other, None), Plan::Start);
    // A key that moved to other photos no longer holds the first ones.
    let moved = ledger(&[("a", State::Claimed, None, Some(P)), ("a", State::Claimed, None, Some(Q))]);
    assert_eq!(moved.decide("b", P, false, &|_| Presence::Same, None), Plan::Start);
    assert_eq!(moved.record("a").inputs.as_deref(), Some(Q));
}

#[test]
fn lines_of_earlier_versions_name_the_batch_only_when_they_create_it() {
    let mut ledger = ledger(&[("a", State::Created, batch(1), Some(P))]);
    ledger.fold(&Line::new("a", State::ComputeSent, None));
    assert_eq!(ledger.record("a").compute, Compute::InDoubt);
    ledger.fold(&Line::new("a", State::ComputeAccepted, None));
    assert_eq!(ledger.record("a").compute, Compute::Accepted);
    assert_eq!(ledger.record("a").last, Some(State::ComputeAccepted));
    // Lines about a job with no batch change no batch.
    ledger.fold(&Line::new("z", State::ComputeSent, None));
    ledger.fold(&Line::new("z", State::Created, None));
    assert_eq!(ledger.record("z").batch_id, None);
    assert_eq!(ledger.record("nobody"), JobRecord::default());
}
