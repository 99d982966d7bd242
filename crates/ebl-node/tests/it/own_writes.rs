//! Issue 35: a client reads its own writes on any member's node. A request naming the height of a
//! receipt it was given (`?applied=h`) is answered by a follower only once it has applied that block; a
//! height no node has reached is refused `not_yet_applied` (503, so the wallet asks the next node); a
//! malformed one `malformed_height`.

use ebl_core::testkit;
use ebl_tests::cluster::Members;

use crate::support::register_bank_at;

#[test]
fn a_follower_answers_a_read_after_the_block_the_reader_was_given() {
    let members = Members::start(3);
    let leader = members
        .leader(std::time::Duration::from_secs(20))
        .expect("leader");
    let follower = (leader + 1) % 3;
    let (status, answer, outcome) =
        register_bank_at(&members, leader, "/v1/transactions", &[&testkit::key(1)]);
    assert_eq!(status, 200, "{answer}");
    let outcome = outcome.expect("an outcome");
    let height = outcome.receipt().expect("accepted").height;
    // Asked at once, the follower answers with the block applied, however far behind it was.
    let (status, head) = members
        .http(follower)
        .get(&format!("/v1/head?applied={height}"))
        .expect("the follower answers");
    assert_eq!(status, 200, "{head}");
    assert!(head["height"].as_u64().expect("height") >= height, "{head}");
    // A height nobody reached: refused by name, after a short wait.
    let (status, refused) = members
        .http(follower)
        .get(&format!("/v1/head?applied={}", height + 1_000))
        .expect("the follower answers");
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (503, Some("not_yet_applied")),
        "{refused}"
    );
    let (status, refused) = members
        .http(follower)
        .get("/v1/head?applied=soon")
        .expect("the follower answers");
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("malformed_height")),
        "{refused}"
    );
}
