//! openraft's async runtime: tokio's in every way but one. openraft draws one random number, each
//! election timeout, from its runtime's thread generator; here that generator can be seeded per thread,
//! so a simulation running every node on one thread replays the same elections from the same seed
//! (and there, blocking work runs in place: [`simulate_on_this_thread`]).
//! Threads nobody seeded draw from the operating system, as openraft's own tokio runtime does.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

use openraft::async_runtime::{AsyncRuntime, TokioOneShotSender};
use openraft::{OptionalSend, TokioInstant, TokioRuntime};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

thread_local! {
    static SEEDED: RefCell<Option<StdRng>> = const { RefCell::new(None) };
}

/// Makes this thread a simulation's: its election timeouts are drawn from `seed`, and the storage
/// work a node does off the async threads runs in place (`off_thread`), so nothing a seed decides
/// depends on how the operating system schedules threads.
pub fn simulate_on_this_thread(seed: u64) {
    SEEDED.with(|rng| *rng.borrow_mut() = Some(StdRng::seed_from_u64(seed)));
}

fn simulated() -> bool {
    SEEDED.with(|rng| rng.borrow().is_some())
}

/// Blocking work given up on: its thread panicked, or the runtime shut down under it.
#[derive(Debug, thiserror::Error)]
#[error("blocking work did not finish: {0}")]
pub struct Abandoned(#[source] tokio::task::JoinError);

/// Runs blocking storage work (syncs, signature checks) off the async threads, on tokio's blocking
/// pool; on a simulation's thread, in place.
pub(crate) async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Abandoned> {
    if simulated() {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work).await.map_err(Abandoned)
}

/// The generator openraft draws election timeouts from: the thread's seeded one, else the OS's.
#[derive(Debug, Clone, Copy, Default)]
pub struct ElectionRng;

impl ElectionRng {
    fn draw<T>(with: impl FnOnce(&mut dyn RngCore) -> T) -> T {
        SEEDED.with(|seeded| match seeded.borrow_mut().as_mut() {
            Some(rng) => with(rng),
            None => with(&mut rand::thread_rng()),
        })
    }
}

impl RngCore for ElectionRng {
    fn next_u32(&mut self) -> u32 {
        ElectionRng::draw(|rng| rng.next_u32())
    }

    fn next_u64(&mut self) -> u64 {
        ElectionRng::draw(|rng| rng.next_u64())
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        ElectionRng::draw(|rng| rng.fill_bytes(dest));
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        ElectionRng::draw(|rng| rng.try_fill_bytes(dest))
    }
}

/// tokio, with [`ElectionRng`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EblRuntime;

impl AsyncRuntime for EblRuntime {
    type JoinError = <TokioRuntime as AsyncRuntime>::JoinError;
    type JoinHandle<T: OptionalSend + 'static> = <TokioRuntime as AsyncRuntime>::JoinHandle<T>;
    type Sleep = <TokioRuntime as AsyncRuntime>::Sleep;
    type Instant = TokioInstant;
    type TimeoutError = <TokioRuntime as AsyncRuntime>::TimeoutError;
    type Timeout<R, T: Future<Output = R> + OptionalSend> =
        <TokioRuntime as AsyncRuntime>::Timeout<R, T>;
    type ThreadLocalRng = ElectionRng;
    type OneshotSender<T: OptionalSend> = TokioOneShotSender<T>;
    type OneshotReceiverError = <TokioRuntime as AsyncRuntime>::OneshotReceiverError;
    type OneshotReceiver<T: OptionalSend> = <TokioRuntime as AsyncRuntime>::OneshotReceiver<T>;

    fn spawn<T>(future: T) -> Self::JoinHandle<T::Output>
    where
        T: Future + OptionalSend + 'static,
        T::Output: OptionalSend + 'static,
    {
        TokioRuntime::spawn(future)
    }

    fn sleep(duration: Duration) -> Self::Sleep {
        TokioRuntime::sleep(duration)
    }

    fn sleep_until(deadline: Self::Instant) -> Self::Sleep {
        TokioRuntime::sleep_until(deadline)
    }

    fn timeout<R, F: Future<Output = R> + OptionalSend>(
        duration: Duration,
        future: F,
    ) -> Self::Timeout<R, F> {
        TokioRuntime::timeout(duration, future)
    }

    fn timeout_at<R, F: Future<Output = R> + OptionalSend>(
        deadline: Self::Instant,
        future: F,
    ) -> Self::Timeout<R, F> {
        TokioRuntime::timeout_at(deadline, future)
    }

    fn is_panic(join_error: &Self::JoinError) -> bool {
        TokioRuntime::is_panic(join_error)
    }

    fn thread_rng() -> Self::ThreadLocalRng {
        ElectionRng
    }

    fn oneshot<T>() -> (Self::OneshotSender<T>, Self::OneshotReceiver<T>)
    where
        T: OptionalSend,
    {
        TokioRuntime::oneshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn a_seeded_thread_draws_the_same_timeouts_again() {
        let draws = || {
            simulate_on_this_thread(7);
            (0..8)
                .map(|_| EblRuntime::thread_rng().gen_range(300..600u64))
                .collect::<Vec<_>>()
        };
        let first = draws();
        assert_eq!(first, draws());
        assert!(first.iter().any(|d| *d != first[0]), "{first:?}");
    }
}
