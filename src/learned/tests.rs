//! The learned plan, case by case and against the plain schedule for any history.

use proptest::prelude::*;

use super::*;

/// (polls, return time) for a batch ready `ready` seconds after compute.
fn finds(waits: impl Iterator<Item = Duration>, ready: f64) -> (usize, f64) {
    let mut t = 0.0;
    for (polls, wait) in waits.take(100_000).enumerate() {
        t += wait.as_secs_f64();
        if t >= ready {
            return (polls + 1, t);
        }
    }
    panic!("never reached {ready}");
}

fn secs(values: &[f64]) -> Vec<Duration> {
    values.iter().map(|s| Duration::from_secs_f64(*s)).collect()
}

#[test]
fn nothing_to_learn_from_means_the_plain_schedule_and_one_sample_is_enough() {
    let readiness = Readiness::default();
    let plain: Vec<Duration> = PollSchedule::default().waits().take(30).collect();
    assert_eq!(readiness.waits(&PollSchedule::default()).take(30).collect::<Vec<_>>(), plain);
    readiness.record(Duration::from_secs(20));
    assert_ne!(readiness.waits(&PollSchedule::default()).take(30).collect::<Vec<_>>(), plain);
    let off = PollSchedule::default().learning(false);
    assert_eq!(readiness.waits(&off).take(30).collect::<Vec<_>>(), plain);
}

#[test]
fn a_service_as_quick_as_last_time_is_seen_ready_within_a_shortest_interval() {
    let schedule = PollSchedule::default();
    for ready in [3.95, 4.0, 4.05, 4.1, 4.15] {
        let (_, at) = finds(plan(&schedule, &secs(&[4.15])), ready);
        assert!(at - ready <= 0.1 + 1e-9, "ready at {ready}, seen at {at}");
    }
    // Batches of differing times: no dense polls, which would only add requests.
    let spread: Vec<f64> = times(plan(&schedule, &secs(&[3.0, 4.0, 5.0])), 12);
    assert!(spread.windows(2).all(|w| w[1] - w[0] >= 0.5 - 1e-9), "{spread:?}");
}

#[test]
fn around_the_usual_readiness_it_returns_sooner_with_fewer_polls() {
    let schedule = PollSchedule::default();
    let history = secs(&[18.0, 20.0, 22.0, 19.0, 21.0]);
    let (mut learned, mut plain) = ((0, 0.0), (0, 0.0));
    for i in 0..400 {
        let ready = 18.0 + 4.0 * f64::from(i) / 400.0;
        let (polls, at) = finds(plan(&schedule, &history), ready);
        learned = (learned.0 + polls, learned.1 + at - ready);
        let (polls, at) = finds(schedule.waits(), ready);
        plain = (plain.0 + polls, plain.1 + at - ready);
    }
    assert!(learned.0 * 100 < plain.0 * 85, "under 85% of the polls: {learned:?} vs {plain:?}");
    assert!(learned.1 < plain.1 * 0.55, "about half the delay: {learned:?} vs {plain:?}");
}

/// The first `n` poll times of `waits`, in seconds since compute.
fn times(waits: impl Iterator<Item = Duration>, n: usize) -> Vec<f64> {
    let mut at = 0.0;
    waits
        .take(n)
        .map(|w| {
            at += w.as_secs_f64();
            (at * 1000.0_f64).round() / 1000.0
        })
        .collect()
}

#[test]
fn the_plan_is_exact_every_other_poll_outside_the_window_and_halfway_polls_in_it() {
    // Window 2 s to 7 s (usual readiness 3 to 5 s, steady interval 1 s).
    let times = times(plan(&PollSchedule::default(), &secs(&[3.0, 4.0, 5.0])), 12);
    assert_eq!(times, [1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0]);
    let after: Vec<f64> =
        plan(&PollSchedule::default(), &secs(&[3.0, 4.0, 5.0])).skip(12).take(3).map(|w| w.as_secs_f64()).collect();
    assert_eq!(after, [2.0, 2.0, 2.0], "then every other second");
}

#[test]
fn an_outlier_is_left_out_from_three_samples() {
    // 1200 s is more than twice the median (25 s): the window is 19 s to 27 s.
    let schedule = PollSchedule::default();
    assert_eq!(
        window(&schedule, &secs(&[20.0, 25.0, 1200.0])),
        Some((Duration::from_secs(19), Duration::from_secs(27)))
    );
    assert_eq!(
        window(&schedule, &secs(&[20.0, 1200.0, 1300.0])),
        Some((Duration::from_secs(1199), Duration::from_secs(1302)))
    );
    // Four samples: the median is the upper middle one (50 s), so 10 s is left out.
    assert_eq!(
        window(&schedule, &secs(&[60.0, 10.0, 50.0, 40.0])),
        Some((Duration::from_secs(39), Duration::from_secs(62)))
    );
    // The case that once planned 777 polls where the plain schedule needs 170.
    let (learned, _) = finds(plan(&schedule, &secs(&[20.0, 25.0, 1200.0])), 600.0);
    let (plain, _) = finds(schedule.waits(), 600.0);
    assert!(learned <= plain + EXTRA_POLLS, "{learned} vs {plain}");
}

#[test]
fn no_halfway_poll_comes_sooner_than_the_shortest_interval() {
    let schedule = PollSchedule::fixed(MIN_POLL_INTERVAL);
    let waits: Vec<Duration> = plan(&schedule, &secs(&[1.0, 1.0, 1.0])).take(40).collect();
    assert!(waits.iter().all(|w| *w >= MIN_POLL_INTERVAL), "{waits:?}");
}

#[test]
fn dense_polls_never_come_sooner_than_the_shortest_interval_after_another() {
    for ready in [3.95, 4.0, 4.05, 4.15, 2.33, 0.25, 60.0] {
        let waits: Vec<Duration> = plan(&PollSchedule::default(), &secs(&[ready])).take(80).collect();
        assert!(waits.iter().skip(1).all(|w| *w >= MIN_POLL_INTERVAL), "{ready}: {waits:?}");
    }
}

#[test]
fn only_the_last_twenty_count() {
    let readiness = Readiness::default();
    for _ in 0..50 {
        readiness.record(Duration::from_secs(100));
    }
    for _ in 0..REMEMBERED {
        readiness.record(Duration::from_secs(10));
    }
    let recent = readiness.recent();
    assert_eq!(recent, vec![Duration::from_secs(10); REMEMBERED]);
}

fn schedules() -> impl Strategy<Value = PollSchedule> {
    (0u64..3000, 100u64..5000, 0u64..120, 1.0f64..3.0, 1u64..20).prop_map(|(first, interval, steady, growth, cap)| {
        PollSchedule::default()
            .first(Duration::from_millis(first))
            .interval(Duration::from_millis(interval))
            .steady_for(Duration::from_secs(steady))
            .backoff(growth, Duration::from_secs(cap))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// For any history and any readiness time: at most EXTRA_POLLS more polls than the
    /// plain schedule, and a return at most one steady interval later.
    #[test]
    fn never_much_worse_than_the_plain_schedule(
        schedule in prop_oneof![Just(PollSchedule::default()), schedules()],
        history in prop::collection::vec(0.0f64..2000.0, ENOUGH..=REMEMBERED),
        readies in prop::collection::vec(0.0f64..3000.0, 1..8),
    ) {
        let history = secs(&history);
        let interval = schedule.steady_interval().as_secs_f64();
        for ready in readies {
            let (learned_polls, learned_at) = finds(plan(&schedule, &history), ready);
            let (plain_polls, plain_at) = finds(schedule.waits(), ready);
            prop_assert!(learned_polls <= plain_polls + EXTRA_POLLS, "{learned_polls} vs {plain_polls} at {ready}");
            prop_assert!(learned_at <= plain_at + interval + 1e-6, "{learned_at} vs {plain_at} at {ready}");
        }
    }
}
