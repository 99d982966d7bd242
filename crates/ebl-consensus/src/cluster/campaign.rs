//! A follower campaigns as soon as its dead leader's lease has run out, in an order the followers agree
//! on, instead of at openraft 0.9's next tick after the lease and a whole election timeout more.
//!
//! openraft 0.9 lets a follower campaign once the leader's lease (the longest election timeout) and its
//! own election timeout have passed without word from the leader, checked at ticks of one and a half
//! heartbeats: with members 250 ms apart, 1.2 to 2.0 s after the last heartbeat, and the WAN failover
//! took 3.3 to 7.7 s (issue 35). Before the lease has run out at a voter, that voter refuses any vote,
//! so nobody can be elected sooner; right after it, one candidate can. Here each voting follower
//! watches openraft's own clock of the leader's last word (the time its vote was last confirmed) and
//! asks for votes once the lease and a heartbeat have passed, plus a turn (an election spread and a
//! heartbeat) for each follower ranked before it (the voters by Raft id, the silent leader left out):
//! the first-ranked wins before the next one's turn, so two candidates do not split the votes. The
//! heartbeat is the followers' disagreement: the leader's messages to each leave on their own
//! schedules (one follower's append may be waiting for its answer while another gets a heartbeat), so
//! one follower's last word can be up to about a heartbeat older than another's. Measured with a
//! margin of 40 ms instead (members 30, 150 and 250 ms apart): the last words were up to 300 ms apart,
//! and one kill in four split the votes or met a voter's lease, and took 2.8 to 3.4 s. A campaign that
//! fails (the first-ranked is cut off too, or its log is behind) leaves the rest to openraft's own
//! timers, as before, but for two helps: a candidate asks once more in its turn, and a voter that
//! refuses a candidate for its log campaigns itself (`answer_vote`). The leader's side of the same
//! clock is `heartbeat_steadily`.

use std::sync::Arc;
use std::time::Duration;

use openraft::error::RaftError;
use openraft::raft::{VoteRequest, VoteResponse};
use openraft::ServerState;
use tokio::time::Instant;

use super::{Cluster, NodeId, Timing};

/// What openraft holds on this node about its leader, read together.
#[derive(Debug, Clone, Copy)]
struct Silence {
    /// When the leader's word last confirmed this node's vote for it.
    heard: Option<Instant>,
    /// The vote is for a leader that was elected (not a candidate's, nor this node's own campaign).
    for_a_leader: bool,
    /// The leader the vote is for.
    leader: Option<NodeId>,
    state: ServerState,
}

/// One follower's turn: an election spread (so the one before it has its vote answered) and a
/// heartbeat (the followers' clocks of the leader's last word differ by up to about one).
fn turn_ms(timing: &Timing) -> u64 {
    (timing.election_max_ms - timing.election_min_ms) + timing.heartbeat_ms
}

/// How long after the leader's last word the follower `ranked` (0 first) campaigns: the lease, a
/// heartbeat (so every voter's lease has run out too), and a turn for each follower before it.
pub(crate) fn campaign_after(timing: &Timing, ranked: usize) -> Duration {
    let turn = turn_ms(timing);
    let ranked = u64::try_from(ranked).unwrap_or(u64::MAX);
    Duration::from_millis(
        timing
            .first_campaign_ms()
            .saturating_add(turn.saturating_mul(ranked)),
    )
}

/// This node's place among the voters who would campaign when `leader` goes silent: the voters but
/// the leader, by Raft id. None for a node that does not vote.
pub(crate) fn rank(voters: &[NodeId], leader: Option<NodeId>, own: NodeId) -> Option<usize> {
    let mut campaigners: Vec<NodeId> = voters
        .iter()
        .copied()
        .filter(|v| Some(*v) != leader)
        .collect();
    campaigners.sort_unstable();
    campaigners.iter().position(|v| *v == own)
}

/// When a candidate of this node's rank asks again, if its campaign has not made it leader: once its
/// vote round is over (openraft gives it the shortest election timeout), and a turn later for each
/// follower ranked before it. Two followers whose campaigns crossed (each voted for itself) would
/// otherwise wait for openraft's timers, up to 1.2 s more at 250 ms.
pub(crate) fn retry_after(timing: &Timing, ranked: usize) -> Duration {
    let turn = turn_ms(timing);
    let ranked = u64::try_from(ranked).unwrap_or(u64::MAX);
    Duration::from_millis(
        timing
            .election_min_ms
            .saturating_add(turn.saturating_mul(ranked)),
    )
}

/// How long before its campaign a follower makes sure its connections to the voters are open: two
/// heartbeats, time for a failed call on a dead connection and a new one (a round trip and a half).
fn warm_lead(timing: &Timing) -> Duration {
    Duration::from_millis(2 * timing.heartbeat_ms)
}

/// When this node should campaign, from what openraft holds (`None`: not its business now). A
/// follower of an elected leader campaigns after that leader's silence (`campaign_after`); a
/// candidate of its own campaign asks again (`retry_after`), ranked as when the leader went silent.
fn due(
    silence: &Silence,
    voters: &[NodeId],
    own: NodeId,
    silent_leader: Option<NodeId>,
    timing: &Timing,
) -> Option<Instant> {
    let heard = silence.heard?;
    match silence.state {
        ServerState::Follower if silence.for_a_leader => {
            let ranked = rank(voters, silence.leader, own)?;
            Some(heard + campaign_after(timing, ranked))
        }
        ServerState::Candidate if !silence.for_a_leader && silence.leader == Some(own) => {
            let ranked = rank(voters, Some(silent_leader?), own)?;
            Some(heard + retry_after(timing, ranked))
        }
        _ => None,
    }
}

/// Runs on every node until Raft stops.
pub(super) async fn campaign_promptly(cluster: Arc<Cluster>, timing: Timing) {
    let idle = Duration::from_millis(timing.heartbeat_ms);
    let mut silent_leader = None;
    // A candidate asks again once per silence: a first-ranked whose log is behind would otherwise
    // keep raising the term under the campaigns of a follower that can win.
    let mut asked_again = false;
    // The silence (the leader's last word) whose campaign the connections were warmed for.
    let mut warmed_for = None;
    loop {
        let Ok(silence) = cluster
            .raft
            .with_raft_state(|st| Silence {
                heard: st.vote_last_modified(),
                for_a_leader: st.vote_ref().is_committed(),
                leader: st.vote_ref().leader_id().voted_for(),
                state: st.server_state,
            })
            .await
        else {
            return; // Raft stopped.
        };
        if silence.for_a_leader {
            silent_leader = silence.leader;
            asked_again = false;
        }
        let voters: Vec<NodeId> = cluster
            .raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .voter_ids()
            .collect();
        let again = silence.state == ServerState::Candidate;
        let due = due(&silence, &voters, cluster.id, silent_leader, &timing);
        let Some(due) = due.filter(|_| !(again && asked_again)) else {
            tokio::time::sleep(idle).await;
            continue;
        };
        let warm_at = due.checked_sub(warm_lead(&timing)).unwrap_or(due);
        if !again && warmed_for != silence.heard && Instant::now() >= warm_at {
            // The votes go over connections that are open: one kept to a voter that has restarted
            // since is dead, and a vote over a new one (a round trip more) outlasts its timeout.
            warmed_for = silence.heard;
            let cluster = cluster.clone();
            tokio::spawn(async move { super::warm::warm_every_peer(&cluster).await });
        }
        let now = Instant::now();
        if now < due {
            // The leader's next word (or a vote) moves `heard`: read again then.
            let wake = if !again && warmed_for != silence.heard && now < warm_at {
                warm_at
            } else {
                due
            };
            tokio::time::sleep_until(wake).await;
            continue;
        }
        tracing::info!(
            ?silent_leader,
            again,
            "no word from the leader for its lease: campaigning"
        );
        asked_again |= again;
        if cluster.raft.trigger().elect().await.is_err() {
            return;
        }
        tokio::time::sleep(idle).await;
    }
}

/// Answers a candidate's vote request; when it is refused because the candidate's log is behind this
/// node's, and the leader has been silent here for its lease too, this node campaigns at once: it is
/// one the others can elect, and the candidate never will be. The followers' turns (`rank`) go by id,
/// not by log, and the follower farthest from the leader is often behind it by the last entries the
/// nearer one acknowledged: measured at 250 ms, its campaign and its second try were refused and the
/// election waited for openraft's timers, 3.4 to 4.9 s a failover.
pub(super) async fn answer_vote(
    cluster: &Arc<Cluster>,
    request: VoteRequest<NodeId>,
) -> Result<VoteResponse<NodeId>, RaftError<NodeId>> {
    let candidate_log = request.last_log_id;
    let answer = cluster.raft.vote(request).await;
    if let Ok(vote) = &answer {
        if !vote.vote_granted && vote.last_log_id > candidate_log {
            tokio::spawn(campaign_if_silent(cluster.clone()));
        }
    }
    answer
}

async fn campaign_if_silent(cluster: Arc<Cluster>) {
    let Ok((heard, state)) = cluster
        .raft
        .with_raft_state(|st| (st.vote_last_modified(), st.server_state))
        .await
    else {
        return;
    };
    // The quorum window is the leader's lease: the longest election timeout.
    let silent = heard.is_none_or(|heard| heard + cluster.quorum_window <= Instant::now());
    if state == ServerState::Follower && silent {
        tracing::info!(
            "a candidate's log is behind this node's and the leader is silent: campaigning"
        );
        let _ = cluster.raft.trigger().elect().await;
    }
}

/// Runs on every node until Raft stops: while it leads, heartbeats leave every heartbeat interval.
/// openraft 0.9 sends them at its ticks, one and a half intervals apart, so one follower's last word
/// from the leader could be that much older than another's, and the followers' turns to campaign
/// (`campaign_after`) crossed: two campaigns at once, the votes split (measured: last words 530 ms
/// apart at 250 ms round trips).
pub(super) async fn heartbeat_steadily(cluster: Arc<Cluster>, timing: Timing) {
    let interval = Duration::from_millis(timing.heartbeat_ms);
    loop {
        tokio::time::sleep(interval).await;
        let state = cluster.raft.metrics().borrow().state;
        match state {
            ServerState::Shutdown => return,
            ServerState::Leader if cluster.raft.trigger().heartbeat().await.is_err() => return,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_followers_campaign_in_turns_in_the_order_of_their_ids_the_leader_left_out() {
        let voters = [30, 10, 20];
        assert_eq!(rank(&voters, Some(20), 10), Some(0));
        assert_eq!(rank(&voters, Some(20), 30), Some(1));
        assert_eq!(rank(&voters, Some(10), 20), Some(0));
        assert_eq!(rank(&voters, None, 30), Some(2));
        // A learner does not campaign.
        assert_eq!(rank(&voters, Some(20), 40), None);
        let wan = Timing::for_round_trip(250);
        // After the lease (the longest election timeout) and a heartbeat (321 ms); the next a spread
        // (300 ms) and a heartbeat later.
        assert_eq!(campaign_after(&wan, 0), Duration::from_millis(746 + 321));
        assert_eq!(
            campaign_after(&wan, 1),
            Duration::from_millis(746 + 321 + 621)
        );
        // The first sooner than openraft's own average campaign (the lease, an election timeout of
        // 446 to 746 ms, up to a tick of 481 ms late).
        assert!(campaign_after(&wan, 0) < Duration::from_millis(746 + 596 + 240));
        let one_site = Timing::default();
        assert_eq!(
            campaign_after(&one_site, 0),
            Duration::from_millis(600 + 60)
        );
        // A candidate asks again after its vote round, the next-ranked a turn later.
        assert_eq!(retry_after(&wan, 0), Duration::from_millis(446));
        assert_eq!(retry_after(&wan, 1), Duration::from_millis(446 + 621));
    }

    #[test]
    fn a_follower_campaigns_after_its_leaders_silence_and_a_candidate_asks_again_in_turn() {
        let timing = Timing::for_round_trip(250);
        let voters = [10, 20, 30];
        let heard = Instant::now();
        let silence = |state, for_a_leader, leader| Silence {
            heard: Some(heard),
            for_a_leader,
            leader,
            state,
        };
        let follower = silence(ServerState::Follower, true, Some(20));
        assert_eq!(
            due(&follower, &voters, 30, None, &timing),
            Some(heard + campaign_after(&timing, 1))
        );
        // A follower whose vote went to a candidate not yet elected leaves it to that campaign.
        let voted = silence(ServerState::Follower, false, Some(10));
        assert_eq!(due(&voted, &voters, 30, Some(20), &timing), None);
        // Its own campaign: asks again in its turn, ranked as when the leader went silent.
        let own = silence(ServerState::Candidate, false, Some(10));
        assert_eq!(
            due(&own, &voters, 10, Some(20), &timing),
            Some(heard + retry_after(&timing, 0))
        );
        assert_eq!(
            due(&own, &voters, 10, None, &timing),
            None,
            "no leader was seen"
        );
        // A leader, a learner, a node that never heard: nothing to do.
        let leading = silence(ServerState::Leader, true, Some(10));
        assert_eq!(due(&leading, &voters, 10, Some(20), &timing), None);
        assert_eq!(due(&follower, &voters, 40, None, &timing), None);
        let never = Silence {
            heard: None,
            ..follower
        };
        assert_eq!(due(&never, &voters, 30, None, &timing), None);
    }
}
