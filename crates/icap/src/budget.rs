//! The memory budget shared by all connections of one server.
//!
//! A request reserves what it is about to buffer (its body as kept, then that body
//! with its content codings undone) before buffering it, in KiB permits of one
//! semaphore, and gives everything back when its [`Reservation`] is dropped, however the
//! request ends. Reserving as the body arrives, not its declared size, makes a peer send
//! the bytes it holds memory for.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout;

use crate::error::RequestError;

/// Bytes per permit: fine enough for small bodies, coarse enough that the permit
/// count of any sensible budget fits the semaphore and one acquisition fits a `u32`.
pub(crate) const UNIT_BYTES: usize = 1024;

/// Permits needed to hold `bytes`.
pub(crate) fn units(bytes: usize) -> usize {
    bytes.div_ceil(UNIT_BYTES)
}

/// Bytes that all requests of one server may buffer together.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    permits: Arc<Semaphore>,
    /// All permits: a reservation asking for more can never be granted.
    total: usize,
    /// Longest wait for permits before the request is refused.
    wait: Duration,
}

impl Budget {
    /// A budget of `max_bytes` (rounded down to whole units) with a wait of `wait`.
    pub fn new(max_bytes: usize, wait: Duration) -> Self {
        let total = (max_bytes / UNIT_BYTES).min(Semaphore::MAX_PERMITS);
        Budget {
            permits: Arc::new(Semaphore::new(total)),
            total,
            wait,
        }
    }

    /// An empty reservation against this budget.
    pub fn reservation(&self) -> Reservation {
        Reservation {
            budget: self.clone(),
            held: None,
        }
    }
}

/// What one request holds of the [`Budget`]; given back on drop.
#[derive(Debug)]
pub(crate) struct Reservation {
    budget: Budget,
    held: Option<OwnedSemaphorePermit>,
}

impl Reservation {
    /// Bytes covered now.
    pub fn bytes(&self) -> usize {
        self.held
            .as_ref()
            .map_or(0, |held| held.num_permits().saturating_mul(UNIT_BYTES))
    }

    /// Grows the reservation to cover `bytes` in all, waiting at most the budget's wait
    /// for other requests to give permits back.
    ///
    /// [`RequestError::OverBudget`] when they do not (the caller refuses the request:
    /// fail closed, nothing passes uninspected); at once when `bytes` exceed the whole
    /// budget, as no wait would help.
    pub async fn cover(&mut self, bytes: usize) -> Result<(), RequestError> {
        let wanted = units(bytes);
        let held = self.held.as_ref().map_or(0, OwnedSemaphorePermit::num_permits);
        if wanted <= held {
            return Ok(());
        }
        let over = RequestError::OverBudget(self.budget.wait);
        if wanted > self.budget.total {
            return Err(over);
        }
        let more = u32::try_from(wanted - held).map_err(|_| RequestError::OverBudget(self.budget.wait))?;
        let acquire = Arc::clone(&self.budget.permits).acquire_many_owned(more);
        // A zero wait still takes permits that are free: the future is polled once.
        let permit = match timeout(self.budget.wait, acquire).await {
            Ok(Ok(permit)) => permit,
            // The semaphore is never closed; treat it as exhausted all the same.
            Ok(Err(_)) | Err(_) => return Err(over),
        };
        match &mut self.held {
            Some(held) => held.merge(permit),
            None => self.held = Some(permit),
        }
        Ok(())
    }

    /// Gives back what is held beyond `bytes`.
    pub fn shrink_to(&mut self, bytes: usize) {
        let keep = units(bytes);
        if let Some(held) = &mut self.held {
            let extra = held.num_permits().saturating_sub(keep);
            if extra > 0 {
                drop(held.split(extra));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn reservations_grow_wait_and_give_back() {
        let budget = Budget::new(10 * UNIT_BYTES, Duration::from_secs(5));
        let mut first = budget.reservation();
        first.cover(1).await.unwrap();
        assert_eq!(first.bytes(), UNIT_BYTES);
        first.cover(6 * UNIT_BYTES).await.unwrap();
        assert_eq!(first.bytes(), 6 * UNIT_BYTES);
        // Covering less than is held takes nothing more.
        first.cover(2 * UNIT_BYTES).await.unwrap();
        assert_eq!(first.bytes(), 6 * UNIT_BYTES);

        // Five more units are not free: the second waits its 5 s, then is refused.
        let mut second = budget.reservation();
        let started = tokio::time::Instant::now();
        assert!(matches!(
            second.cover(5 * UNIT_BYTES).await,
            Err(RequestError::OverBudget(_))
        ));
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(second.bytes(), 0);
        // More than the whole budget is refused at once.
        let started = tokio::time::Instant::now();
        assert!(second.cover(11 * UNIT_BYTES).await.is_err());
        assert_eq!(started.elapsed(), Duration::ZERO);

        // Shrinking gives the surplus back; dropping gives the rest back.
        first.shrink_to(UNIT_BYTES + 1);
        assert_eq!(first.bytes(), 2 * UNIT_BYTES);
        second.cover(8 * UNIT_BYTES).await.unwrap();
        drop(first);
        let mut third = budget.reservation();
        third.cover(2 * UNIT_BYTES).await.unwrap();
        drop((second, third));
        assert_eq!(budget.permits.available_permits(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_reservation_gets_permits_given_back_in_time() {
        let budget = Budget::new(4 * UNIT_BYTES, Duration::from_secs(5));
        let mut holder = budget.reservation();
        holder.cover(4 * UNIT_BYTES).await.unwrap();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            drop(holder);
        });
        let mut waiter = budget.reservation();
        let started = tokio::time::Instant::now();
        waiter.cover(3 * UNIT_BYTES).await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }
}
