//! custodia's domain model: the vault's entities, their identifiers, phone
//! and email normalization, and the clock. No cryptography and no storage.

mod clock;
pub mod normalize;
mod types;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock, UnixMillis};
pub use types::*;
