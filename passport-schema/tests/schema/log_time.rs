//! The log's own time: log-time entries, the backdating window, and the
//! clock reading that governs each entry.

use passport_schema::state::{self, records::ClockRecord};
use passport_schema::*;

use crate::common::*;

/// A log whose genesis names `op`'s key as the log key too (as the shared
/// test ledger does), plus a stranger.
fn world() -> (Ledger, Actor, Actor) {
    let op = Actor::from_seed(1);
    let l = Ledger::genesis(&op);
    (l, op, Actor::from_seed(77))
}

fn at(l: &Ledger, ms: i64, body: impl Into<EventBody>) -> Event {
    let _ = l;
    Event::new(ms, body)
}

#[test]
fn only_the_log_key_sets_the_log_time() {
    let (mut l, op, stranger) = world();
    let ev = at(&l, T0 + DAY, LogTime {});
    let r = l.submit_event(&stranger, ev.clone());
    assert!(
        matches!(r, Err(RuleViolation::NotTheLogKey { .. })),
        "{r:?}"
    );
    l.submit_event(&op, ev).unwrap();
    let head = state::clock(&l.state).unwrap().unwrap();
    assert_eq!(head.latest.ms, T0 + DAY);
    assert_eq!(head.count, 2);
}

#[test]
fn the_log_time_never_goes_back() {
    let (mut l, op, _) = world();
    l.submit_event(&op, at(&l, T0 + DAY, LogTime {})).unwrap();
    let r = l.submit_event(&op, at(&l, T0 + DAY - 1, LogTime {}));
    assert!(
        matches!(r, Err(RuleViolation::ClockBackwards { .. })),
        "{r:?}"
    );
    // The same time again is allowed (a clock may read the same twice).
    l.submit_event(&op, at(&l, T0 + DAY, LogTime {})).unwrap();
}

#[test]
fn an_event_dated_before_the_backdating_window_is_refused() {
    let (mut l, op, _) = world();
    // The log's time moves ten days on; the window is 72 h.
    l.submit_event(&op, at(&l, T0 + 10 * DAY, LogTime {}))
        .unwrap();
    let reg = |name: &str| RegisterActor {
        name: name.into(),
        country: "CN".into(),
        public_key: Actor::from_seed(9).public(),
    };
    let old = at(
        &l,
        T0 + 10 * DAY - DEFAULT_MAX_BACKDATING_MS - 1,
        reg("Late"),
    );
    let r = l.submit_event(&op, old);
    assert!(
        matches!(r, Err(RuleViolation::Backdated { max_backdating_ms, .. }) if max_backdating_ms == DEFAULT_MAX_BACKDATING_MS),
        "{r:?}"
    );
    let edge = at(&l, T0 + 10 * DAY - DEFAULT_MAX_BACKDATING_MS, reg("Edge"));
    l.submit_event(&op, edge).unwrap();
}

#[test]
fn a_genesis_with_an_absurd_window_is_refused() {
    let op = Actor::from_seed(1);
    let mut l = Ledger::empty();
    let mut g = Genesis::new(
        "x",
        RegisterActor {
            name: "Op".into(),
            country: "CN".into(),
            public_key: op.public(),
        },
        op.public(),
    );
    g.max_backdating_ms = -1;
    let r = l.submit_event(&op, Event::new(T0, g.clone()));
    assert!(
        matches!(r, Err(RuleViolation::InvalidField { .. })),
        "{r:?}"
    );
    g.max_backdating_ms = 10 * 366 * DAY;
    let r = l.submit_event(&op, Event::new(T0, g));
    assert!(
        matches!(r, Err(RuleViolation::InvalidField { .. })),
        "{r:?}"
    );
}

#[test]
fn the_governing_clock_is_the_latest_reading_at_or_before_an_entry() {
    let (mut l, op, _) = world();
    let mut readings = vec![ClockRecord { ms: T0, index: 0 }];
    for k in 1..40i64 {
        // A few ordinary entries between readings.
        for j in 0..(k % 3) {
            l.actor(&op, 100 + (k * 3 + j) as u8, "Org", &[Role::Recycler]);
        }
        let index = l
            .submit_event(&op, at(&l, T0 + k * 60_000, LogTime {}))
            .unwrap();
        readings.push(ClockRecord {
            ms: T0 + k * 60_000,
            index,
        });
    }
    for i in 0..l.next_index() {
        let want = readings.iter().rev().find(|r| r.index <= i).copied();
        assert_eq!(
            state::governing_clock(&l.state, i).unwrap(),
            want,
            "entry {i}"
        );
    }
}

#[test]
fn an_absurd_event_time_is_refused() {
    // -10^15 ms is about 29,700 BC; a genesis dated then would set the
    // log's clock there and make every window meaningless.
    let op = Actor::from_seed(1);
    let g = Genesis::new(
        "x",
        RegisterActor {
            name: "Op".into(),
            country: "CN".into(),
            public_key: op.public(),
        },
        op.public(),
    );
    for t in [
        -1_000_000_000_000_000,
        EARLIEST_EVENT_MS - 1,
        LATEST_EVENT_MS + 1,
        i64::MAX,
    ] {
        let mut l = Ledger::empty();
        let r = l.submit_event(&op, Event::new(t, g.clone()));
        assert!(
            matches!(r, Err(RuleViolation::TimeOutOfRange { occurred_ms }) if occurred_ms == t),
            "{t}: {r:?}"
        );
    }
    let mut l = Ledger::genesis(&op);
    let r = l.submit_event(&op, Event::new(LATEST_EVENT_MS + 1, LogTime {}));
    assert!(
        matches!(r, Err(RuleViolation::TimeOutOfRange { .. })),
        "{r:?}"
    );
}

#[test]
fn only_the_log_key_writes_a_status_commitment_and_only_at_its_own_index() {
    let (mut l, op, stranger) = world();
    let status = |covers| LogStatus {
        covers,
        status_root: Bytes32([7; 32]),
    };
    // Any key but the log key, however it signs.
    let r = l.submit_event(&stranger, at(&l, T0 + 1, status(l.next_index())));
    assert!(
        matches!(r, Err(RuleViolation::NotTheLogKey { .. })),
        "{r:?}"
    );
    // The log key, stating another position (to replay an old commitment).
    let index = l.next_index();
    for covers in [index - 1, index + 1, 0] {
        let r = l.submit_event(&op, at(&l, T0 + 1, status(covers)));
        assert!(
            matches!(r, Err(RuleViolation::StatusPositionMismatch { covers: c, index: i }) if c == covers && i == index),
            "{r:?}"
        );
    }
    l.submit_event(&op, at(&l, T0 + 1, status(index))).unwrap();
    let head = state::status_head(&l.state).unwrap().unwrap();
    assert_eq!((head.index, head.status_root), (index, Bytes32([7; 32])));
}
