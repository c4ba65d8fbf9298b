use super::*;

const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)));
const B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2)));
const C: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 3)));

fn place(limits: &Arc<Limits>, address: Option<IpAddr>) -> Slot {
    match limits.admit(address) {
        Admission::Place(slot) => slot,
        other => panic!("{address:?}: {other:?}"),
    }
}

fn refusal(limits: &Arc<Limits>, address: Option<IpAddr>) -> Refusal {
    match limits.admit(address) {
        Admission::Refused(why) => why,
        other => panic!("{address:?}: {other:?}"),
    }
}

/// The victim named for a connection from `address`, and its slot.
fn replace(limits: &Arc<Limits>, address: Option<IpAddr>) -> (Slot, Victim) {
    match limits.admit(address) {
        Admission::Replace(slot, victim) => (slot, victim),
        other => panic!("{address:?}: {other:?}"),
    }
}

fn idle_on(lane: usize, mut slot: Slot) -> Slot {
    slot.on_lane(lane);
    slot.set_idle(true);
    slot
}

#[test]
fn one_address_alone_may_fill_the_server() {
    let limits = Limits::new(64, None, 64, 1);
    let held: Vec<Slot> = (0..64).map(|_| place(&limits, A)).collect();
    assert_eq!(refusal(&limits, A), Refusal::OverShare);
    // None idle: the accepting worker finds no idle connection anywhere, and refuses.
    assert!(matches!(
        limits.admit(B),
        Admission::Replace(_, Victim::Any)
    ));
    drop(held);
}

#[test]
fn the_hard_cap_holds_whatever_the_room() {
    let limits = Limits::new(64, Some(2), 64, 1);
    let a1 = place(&limits, A);
    let _a2 = place(&limits, A);
    assert_eq!(refusal(&limits, A), Refusal::PerAddress);
    let _b1 = place(&limits, B);
    drop(a1);
    let _a3 = place(&limits, A);
}

#[test]
fn under_pressure_an_address_past_its_share_loses_its_own_idle_connections() {
    let limits = Limits::new(64, None, 64, 2);
    // Below half, A takes what it asks for: 24 busy, 8 idle on lane 1.
    let mut held: Vec<Slot> = (0..24).map(|_| place(&limits, A)).collect();
    held.extend((0..8).map(|_| idle_on(1, place(&limits, A))));
    let b = place(&limits, B);
    // 33 open: under pressure; two addresses share 64, 32 each. A holds 32.
    let (slot, victim) = replace(&limits, A);
    match victim {
        Victim::Of { group, lane } => {
            assert!(held[24].is_of(&group) && !b.is_of(&group));
            assert_eq!(lane, 1);
        }
        Victim::Any => panic!("no victim named"),
    }
    drop(slot);
    // B is far below its share.
    let _b2 = place(&limits, B);
    // Once A has none idle, its new connections are refused.
    held.truncate(24);
    held.extend((0..8).map(|_| place(&limits, A)));
    assert_eq!(refusal(&limits, A), Refusal::OverShare);
}

#[test]
fn at_the_limit_a_newcomer_takes_an_idle_place_of_the_heaviest_address() {
    let limits = Limits::new(64, None, 64, 2);
    let a: Vec<Slot> = (0..56).map(|_| idle_on(1, place(&limits, A))).collect();
    let b: Vec<Slot> = (0..8).map(|_| idle_on(0, place(&limits, B))).collect();
    let (slot, victim) = replace(&limits, C);
    match victim {
        Victim::Of { group, lane } => {
            assert!(a[0].is_of(&group) && !b[0].is_of(&group));
            assert_eq!(lane, 1);
        }
        Victim::Any => panic!("no victim named"),
    }
    // Past the limit until the victim closes.
    drop(slot);
    // A's own newcomer replaces one of A's, never one of B's.
    let (_slot, victim) = replace(&limits, A);
    assert!(matches!(victim, Victim::Of { group, .. } if a[0].is_of(&group)));
}

#[test]
fn connections_not_counted_per_address_make_room_from_any_idle_one() {
    let limits = Limits::new(2, None, 64, 1);
    let _first = idle_on(0, place(&limits, None));
    let _second = place(&limits, None);
    let (_slot, victim) = replace(&limits, A);
    assert!(matches!(victim, Victim::Any));
}

#[test]
fn ipv6_addresses_of_one_prefix_count_as_one() {
    let ip = |text: &str| Some(text.parse::<IpAddr>().unwrap());
    let limits = Limits::new(64, Some(2), 64, 1);
    let _one = place(&limits, ip("2001:db8:1:2::1"));
    let _two = place(&limits, ip("2001:db8:1:2:ffff::9"));
    assert_eq!(
        refusal(&limits, ip("2001:db8:1:2::abcd")),
        Refusal::PerAddress
    );
    let _other = place(&limits, ip("2001:db8:1:3::1"));
    let wider = Limits::new(64, Some(2), 128, 1);
    let _one = place(&wider, ip("2001:db8:1:2::1"));
    let _two = place(&wider, ip("2001:db8:1:2::1"));
    let _three = place(&wider, ip("2001:db8:1:2::2"));
}

#[test]
fn uncounted_places_count_in_the_total_only_until_readdressed() {
    let limits = Limits::new(4, Some(1), 64, 1);
    let mut first = place(&limits, None);
    let mut second = place(&limits, None);
    let _third = idle_on(0, place(&limits, None));
    first.readdress(A.unwrap()).unwrap();
    assert_eq!(second.readdress(A.unwrap()), Err(Refusal::PerAddress));
    assert_eq!(refusal(&limits, A), Refusal::PerAddress);
    second.readdress(B.unwrap()).unwrap();
    drop(first);
    let _again = place(&limits, A);
    let _fourth = place(&limits, None);
    // Full, and only an uncounted connection is idle.
    assert!(matches!(
        limits.admit(None),
        Admission::Replace(_, Victim::Any)
    ));
}

#[test]
fn a_readdressed_idle_place_is_counted_idle_for_its_new_address() {
    let limits = Limits::new(2, None, 64, 1);
    let mut proxied = idle_on(0, place(&limits, None));
    proxied.readdress(A.unwrap()).unwrap();
    let _busy = place(&limits, B);
    let (slot, victim) = replace(&limits, C);
    assert!(matches!(victim, Victim::Of { group, lane: 0 } if proxied.is_of(&group)));
    drop(slot);
    drop(proxied);
    let _d = place(&limits, C);
}

#[test]
fn waiting_for_all_closed_returns_the_count_left() {
    let limits = Limits::new(4, None, 64, 1);
    let slot = place(&limits, A);
    assert_eq!(limits.wait_all_closed(Duration::from_millis(10)), 1);
    drop(slot);
    assert_eq!(limits.wait_all_closed(Duration::from_millis(10)), 0);
}

#[test]
fn the_heaviest_is_the_address_holding_the_most_now_with_one_idle() {
    let limits = Limits::new(16, None, 64, 2);
    let mut a: Vec<Slot> = (0..10).map(|_| idle_on(0, place(&limits, A))).collect();
    let b: Vec<Slot> = (0..6).map(|_| idle_on(1, place(&limits, B))).collect();
    let (slot, victim) = replace(&limits, C);
    assert!(matches!(victim, Victim::Of { group, lane: 0 } if a[0].is_of(&group)));
    drop(slot);
    a.truncate(5);
    // B now holds the most; C as many as A, none of them idle.
    let c: Vec<Slot> = (0..5).map(|_| place(&limits, C)).collect();
    let (_slot, victim) = replace(&limits, Some("127.0.0.4".parse().unwrap()));
    assert!(matches!(victim, Victim::Of { group, lane: 1 } if b[0].is_of(&group)));
    drop(c);
}

#[test]
fn refusals_answered_over_tls_are_capped_and_hold_no_place() {
    let limits = Limits::new(1, Some(1), 64, 1);
    let held = place(&limits, A);
    let mut refused: Vec<Slot> = (0..REFUSING)
        .map(|_| limits.refusal().expect("a refusal under the cap"))
        .collect();
    assert!(limits.refusal().is_none(), "past {REFUSING} at once");
    // A refusal's slot is no place: it counts against no address, even once readdressed.
    assert_eq!(refusal(&limits, A), Refusal::PerAddress);
    refused[0].readdress(B.unwrap()).expect("nothing to count");
    drop(held);
    let again = place(&limits, B);
    // One ends: another may be answered.
    refused.pop();
    let one = limits.refusal().expect("room for one more");
    assert!(limits.refusal().is_none());
    // A place given up for a refusal frees the place, and takes a refusal only with room.
    assert!(again.refuse().is_none());
    drop(one);
    let place_again = place(&limits, A);
    assert!(place_again.refuse().is_some());
    assert_eq!(limits.wait_all_closed(Duration::ZERO), 0);
}
