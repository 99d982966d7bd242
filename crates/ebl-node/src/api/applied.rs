//! Reading one's own writes on any node: a client that was given a receipt at height h asks later
//! requests with `?applied=h`, and the node answers only once it has applied that block. A consortium
//! member a moment behind the leader waits for it (within `APPLIED_WAIT_MS`); one further behind, or a
//! height no node has reached, is refused `not_yet_applied` (503: the wallet asks the next node). Nodes of
//! earlier releases pass the parameter by, as every node passes by query parameters it does not read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use ebl_store::Kv;

use super::{ApiError, App};
use crate::refusal::RequestRefusal;

/// How long a node waits to apply the height a request names before it refuses it.
pub(super) const APPLIED_WAIT_MS: u64 = 2_000;

/// How often the applied height is looked at while waiting.
const APPLIED_POLL_MS: u64 = 5;

/// The height `?applied=` names, if any; a malformed one is refused.
fn named(query: Option<&str>) -> Result<Option<u64>, ApiError> {
    let Some(value) = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|p| p.strip_prefix("applied="))
    else {
        return Ok(None);
    };
    value.parse().map(Some).map_err(|_| {
        ApiError::from(RequestRefusal::MalformedHeight(String::from(
            "applied must be a block height (a whole number)",
        )))
    })
}

/// Holds the request until this node has applied the height it names (see the module documentation).
pub(super) async fn first<K: Kv>(
    State(app): State<Arc<App<K>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let wanted = match named(request.uri().query()) {
        Ok(Some(height)) => height,
        Ok(None) => return next.run(request).await,
        Err(e) => return e.into_response(),
    };
    // A one-member chain's node applies every block before it answers its receipt: a height above its
    // head was never given by it. A cluster's member may be a moment behind the one that answered.
    let wait = if app.cluster.is_some() {
        Duration::from_millis(APPLIED_WAIT_MS)
    } else {
        Duration::ZERO
    };
    let deadline = Instant::now() + wait;
    loop {
        let applied = app.state().head_view().height;
        if applied >= wanted {
            return next.run(request).await;
        }
        if Instant::now() >= deadline {
            return ApiError::from(RequestRefusal::NotYetApplied(String::from(&format!(
                "this node has applied up to block {applied}, not yet block {wanted}: ask another node, or again shortly"
            ))))
            .into_response();
        }
        tokio::time::sleep(Duration::from_millis(APPLIED_POLL_MS)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_applied_height_is_read_from_the_query_and_a_malformed_one_refused() {
        assert_eq!(named(None).ok(), Some(None));
        assert_eq!(named(Some("nonce=ab&final=true")).ok(), Some(None));
        assert_eq!(named(Some("nonce=ab&applied=42")).ok(), Some(Some(42)));
        assert!(named(Some("applied=-1")).is_err());
        assert!(named(Some("applied=")).is_err());
    }
}
