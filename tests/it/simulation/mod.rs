//! A simulation that searches for the next defect instead of waiting for a reviewer: random
//! sequences of what a clinic's users do (run, stop, kill, run twice at once, rename, swap,
//! copy, delete, retake, break a link, edit results, fill the disk, retry) and of what the
//! service does (forget batches, throttle, fail, lose answers, refuse compute, dawdle), with
//! the promises checked after every step (see `invariants`). A failing sequence is shrunk
//! by proptest to a short one; each defect found gets a plain test in `paid_once`.
//!
//! `cargo test --test it simulation` runs 300 sequences; the soak (10,000) is
//! `cargo test --release --test it simulation::soak -- --ignored`.

mod actions;
mod invariants;
mod world;

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

use actions::{Action, Model, action};

/// Runs `actions` on a new world, checking the promises after each; the first broken one
/// fails the sequence with what was done up to it.
fn simulate(actions: &[Action]) -> Result<(), TestCaseError> {
    static WORLDS: AtomicU64 = AtomicU64::new(0);
    let mut world = world::World::new(WORLDS.fetch_add(1, Ordering::Relaxed));
    let mut model = Model::default();
    let mut before = invariants::Saved::read(&world);
    for (step, action) in actions.iter().enumerate() {
        let ran = actions::apply(&mut world, &mut model, action);
        world.learn_batches();
        let after = invariants::Saved::read(&world);
        let checked = invariants::check(&world, &model, &ran, &before, &after);
        if let Err(broken) = checked {
            return Err(TestCaseError::fail(format!("step {step} ({action:?}): {broken}\nsequence: {actions:?}")));
        }
        before = after;
    }
    Ok(())
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        max_shrink_iters: 400,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(150))]

    #[test]
    fn users_and_faults_never_pay_twice_mix_patients_or_lose_results(
        actions in prop::collection::vec(action(), 1..20)
    ) {
        simulate(&actions)?;
    }

    #[test]
    fn users_and_faults_never_pay_twice_mix_patients_or_lose_results_too(
        actions in prop::collection::vec(action(), 1..20)
    ) {
        simulate(&actions)?;
    }
}

proptest! {
    #![proptest_config(config(10_000))]

    #[test]
    #[ignore = "the soak: 10,000 sequences, about an hour; run it before changing the ledger or the saves"]
    fn soak(actions in prop::collection::vec(action(), 1..16)) {
        simulate(&actions)?;
    }
}
