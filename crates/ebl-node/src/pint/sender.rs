//! The PINT sending side: every bill its holder sent out (`SENDING_OUT`) is offered to the receiving
//! platform (start, missing documents, finish) until that platform gives a signed answer, which this
//! node then records on the ledger (`SENT_OUT`, `SEND_REFUSED` or `SEND_DISPUTED`). A disputed bill is
//! offered again, with the same backoff as a failure, until the other platform's answer is no longer
//! `DISE`: that is how a dispute people resolved there settles here.
//!
//! Nothing here is kept but the ledger: which bills are being sent is the published state, and the
//! envelope is made again from the bill's history (ed25519 signatures are deterministic, so it is the
//! same envelope after a restart). A bill is never both here and there: it leaves the holder's hands
//! when `SEND_OUT` is durable, and this ledger lets it go only on the receiver's signed `RECE`/`DUPE`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ebl_core::api::SubmitOutcome;
use ebl_core::{Action, BillId, Hash, Status, Transaction};
use ebl_pint::{Binding, Next, Outbound};
use ebl_store::Kv;
use serde_json::Value;

use crate::api::{envelope_of, load_history, order, App};

/// How often the sender looks for bills to send.
pub(crate) const SEND_POLL_MS: u64 = 200;
/// The longest wait between two attempts at one bill: a receiver that is down is asked again at least
/// this often, for as long as it takes (a send ends only on a signed answer).
pub(crate) const SEND_RETRY_MS_MAX: u64 = 30_000;
/// The first wait after a failed attempt; it doubles up to `SEND_RETRY_MS_MAX`.
pub(crate) const SEND_RETRY_MS_MIN: u64 = 250;
/// How long one request to a receiving platform may take.
pub(crate) const SEND_REQUEST_MS_MAX: u64 = 10_000;
/// Largest answer read from a receiving platform.
pub(crate) const SEND_ANSWER_BYTES_MAX: u64 = 1024 * 1024;

/// When each bill is next tried, and how long the wait after that one is.
#[derive(Debug, Default)]
struct Backoff(BTreeMap<BillId, (Instant, u64)>);

impl Backoff {
    fn due(&self, bill: &BillId) -> bool {
        self.0.get(bill).is_none_or(|(at, _)| Instant::now() >= *at)
    }

    fn failed(&mut self, bill: BillId) {
        let wait = self
            .0
            .get(&bill)
            .map_or(SEND_RETRY_MS_MIN, |(_, w)| (w * 2).min(SEND_RETRY_MS_MAX));
        self.0
            .insert(bill, (Instant::now() + Duration::from_millis(wait), wait));
    }
}

/// Runs until aborted (the node's shutdown): each bill being sent, in turn. On a cluster only the
/// leader sends, so that one platform key signs a bill's entries.
pub(crate) async fn run<K: Kv>(app: Arc<App<K>>) {
    let mut backoff = Backoff::default();
    loop {
        tokio::time::sleep(Duration::from_millis(SEND_POLL_MS)).await;
        if app.cluster.as_ref().is_some_and(|c| !c.is_leader()) {
            continue;
        }
        let sending = app.state().sending.clone();
        backoff.0.retain(|bill, _| sending.contains(bill));
        for bill in sending {
            if !backoff.due(&bill) {
                continue;
            }
            match send(&app, bill).await {
                Ok(Sent::Settled) => {
                    backoff.0.remove(&bill);
                }
                Ok(Sent::Disputed) => backoff.failed(bill),
                Err(why) => {
                    tracing::warn!(bill = %bill, %why, "a PINT send did not finish; it is tried again");
                    backoff.failed(bill);
                }
            }
        }
    }
}

/// Why one attempt at sending a bill did not finish, and is tried again.
#[derive(Debug, thiserror::Error)]
enum Unfinished {
    /// No address for the receiving platform (yet).
    #[error(transparent)]
    NoAddress(#[from] super::NoPlatformAddress),
    /// The bill's history could not be read.
    #[error("the bill's history: {0}")]
    History(String),
    /// The history holds no document to send.
    #[error("the bill's history has no document")]
    NoDocument,
    /// The envelope has no canonical form.
    #[error(transparent)]
    Canonical(#[from] ebl_core::Error),
    /// The thread that spoke HTTP failed.
    #[error("the exchange's thread: {0}")]
    Thread(#[from] tokio::task::JoinError),
    /// The receiver gave no answer that decides (unsigned, about another envelope, unreachable).
    #[error("{0}")]
    Undecided(String),
    /// The receiver asked for documents again after they were sent.
    #[error("the receiver kept asking for documents")]
    DocumentsAgain,
    /// The node's record of the answer was not ordered.
    #[error("the record of the answer: {0}")]
    Record(String),
}

/// What one attempt came to, short of a reason to try again.
enum Sent {
    /// The answer is recorded (or the bill no longer awaits one).
    Settled,
    /// The other platform disputes it (recorded, or still, and then nothing new is recorded).
    Disputed,
}

/// One attempt at one bill: the whole exchange, then the answer recorded. `Err` says why it must be
/// tried again.
async fn send<K: Kv>(app: &Arc<App<K>>, bill: BillId) -> Result<Sent, Unfinished> {
    let (to, disputed) = match app.state().ledger.bill(&bill).map(|b| b.status.clone()) {
        Some(Status::SendingOut { to, .. }) => (to, false),
        Some(Status::Disputed { to, .. }) => (to, true),
        _ => return Ok(Sent::Settled),
    };
    let url = app.pint.url_of(&to.platform)?;
    let history = load_history(app, &bill).map_err(|e| Unfinished::History(e.body.message))?;
    let envelope = envelope_of(app, &history).ok_or(Unfinished::NoDocument)?;
    let last_entry = envelope["envelopeTransferChain"]
        .as_array()
        .and_then(|c| c.last())
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let text = ebl_core::jcs::canonicalize(&envelope)?;
    let named = ebl_pint::accepted_documents(&text);
    let mut documents = BTreeMap::new();
    if let Some(kept) = &app.pint.documents {
        for d in &named {
            let max = u64::try_from(ebl_pint::ADDITIONAL_DOCUMENT_BYTES_MAX).unwrap_or(u64::MAX);
            if let Ok(Some(content)) = kept.read(&d.checksum, max) {
                documents.insert(d.checksum, content);
            }
        }
    }
    let outbound = Outbound {
        trust: app.pint.trust.clone(),
        receiver: Binding::platform(&to.platform),
        last_entry_checksum: Hash::of(last_entry.as_bytes()),
        documents: named.iter().map(|d| d.checksum).collect(),
    };
    let next =
        tokio::task::spawn_blocking(move || exchange(&url, text, &outbound, &documents)).await?;
    let action = match next {
        Next::Transferred { answer, .. } => Action::SentOut {
            bill,
            entry: last_entry,
            answer,
        },
        Next::Refused { answer, .. } => Action::SendRefused { bill, answer },
        Next::Disputed { .. } if disputed => return Ok(Sent::Disputed),
        Next::Disputed { answer, .. } => {
            record(app, bill, Action::SendDisputed { bill, answer }).await?;
            return Ok(Sent::Disputed);
        }
        Next::Retry { why } => return Err(Unfinished::Undecided(why)),
        Next::Upload { .. } | Next::Finish { .. } => return Err(Unfinished::DocumentsAgain),
    };
    record(app, bill, action).await.map(|()| Sent::Settled)
}

/// Orders the node's record of the receiver's answer on the bill's head.
async fn record<K: Kv>(app: &Arc<App<K>>, bill: BillId, action: Action) -> Result<(), Unfinished> {
    let (chain, prev) = {
        let state = app.state();
        let prev = state
            .ledger
            .bill(&bill)
            .map(|b| b.head)
            .unwrap_or(Hash::ZERO);
        (state.ledger.chain_id(), prev)
    };
    let tx = Transaction {
        chain,
        prev,
        time_ms: crate::api::now_ms(),
        valid_until_ms: None,
        action,
    }
    .signed_by(&[&app.node_key]);
    match order(app, vec![tx], false).await {
        Ok(outcomes) => match outcomes.first() {
            Some(SubmitOutcome::Accepted { .. } | SubmitOutcome::Duplicate { .. }) => Ok(()),
            Some(SubmitOutcome::Rejected { error, .. }) => Err(Unfinished::Record(format!(
                "the ledger refused it: {}",
                error.code
            ))),
            None => Err(Unfinished::Record("no outcome".into())),
        },
        Err(e) => Err(Unfinished::Record(e.body.message)),
    }
}

/// The sender's HTTP agent: statuses as answers, one bounded time per request, and no redirects followed
/// (finding 9 of the attack review: a receiving platform's 302 made the node fetch any address on every
/// retry; a redirect is an unsigned answer like any other, and retried).
fn sender_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_millis(SEND_REQUEST_MS_MAX)))
        .build()
        .into()
}

/// The receiving platform at `url`, over the sender's agent: each request bounded in time and answer size.
struct Receiver {
    url: String,
    agent: ureq::Agent,
}

/// A request to the receiving platform that got no answer.
#[derive(Debug, thiserror::Error)]
#[error("{target}: {source}")]
struct Unanswered {
    target: String,
    #[source]
    source: ureq::Error,
}

impl ebl_pint::Transport for Receiver {
    type Error = Unanswered;

    fn carry(
        &mut self,
        request: &ebl_pint::Request,
        body: Vec<u8>,
    ) -> Result<(u16, Value), Unanswered> {
        let target = format!("{}{}", self.url, request.path());
        let pending = match request.method() {
            "POST" => self.agent.post(&target),
            _ => self.agent.put(&target),
        };
        let mut response = pending
            .header("content-type", "application/json")
            .send(&body[..])
            .map_err(|source| Unanswered {
                target: target.clone(),
                source,
            })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(SEND_ANSWER_BYTES_MAX)
            .read_to_string()
            .unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, value))
    }
}

/// The HTTP side of one transfer: `Outbound`'s driver over the sender's agent. Returns the step that
/// ended it; a request without an answer, or documents asked for that this node does not hold, is a
/// retry.
fn exchange(
    url: &str,
    envelope: String,
    outbound: &Outbound,
    documents: &BTreeMap<Hash, Vec<u8>>,
) -> Next {
    let mut receiver = Receiver {
        url: url.to_owned(),
        agent: sender_agent(),
    };
    match outbound.drive(&mut receiver, envelope.into_bytes(), documents) {
        Ok(ended) if !ended.lacking.is_empty() => Next::Retry {
            why: format!(
                "the receiver asks for documents this node does not hold: {}",
                ended
                    .lacking
                    .iter()
                    .map(Hash::to_hex)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Ok(ended) => ended.next,
        Err(unanswered) => Next::Retry {
            why: unanswered.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A server on 127.0.0.1 that answers every request with `answer`, counting what it was asked.
    fn server(answer: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { continue };
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        (address, hits)
    }

    /// Finding 9 of the attack review: the PINT sender, the peer client and the forwarder followed
    /// redirects (up to 10). Neither agent calls the address a 302 names.
    #[test]
    fn regression_no_agent_of_the_node_follows_a_redirect() {
        for agent in [
            super::sender_agent(),
            crate::tls::PeerTls::default().agent(
                std::time::Duration::from_secs(2),
                Some(std::time::Duration::from_secs(5)),
            ),
        ] {
            let (elsewhere, hits_elsewhere) =
                server("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".into());
            let (redirecting, hits) = server(format!(
                "HTTP/1.1 302 Found\r\nlocation: {elsewhere}/secret\r\ncontent-length: 0\r\n\r\n"
            ));
            let answer = agent
                .post(&format!("{redirecting}/v3/envelopes"))
                .send(&b"{}"[..])
                .expect("an answer");
            assert_eq!(answer.status().as_u16(), 302);
            assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
            assert_eq!(
                hits_elsewhere.load(std::sync::atomic::Ordering::SeqCst),
                0,
                "the address the redirect named was called"
            );
        }
    }
}
