//! Settings and limits: what [`SessionBuilder`](crate::SessionBuilder) and
//! [`AnalysisOptions`](crate::AnalysisOptions) take beyond plain numbers, and the bounds
//! the client keeps.
//!
//! ```
//! use std::time::Duration;
//! use hautai::config::{PollSchedule, RetryPolicy};
//!
//! let builder = hautai::Session::builder("token", hautai::Uuid::nil())
//!     .retry(RetryPolicy::default().max_retries(5))
//!     .poll_schedule(PollSchedule::fixed(Duration::from_secs(3)));
//! # let _ = builder;
//! ```

pub use crate::builder::DEFAULT_BASE_URL;
pub use crate::image::MAX_IMAGE_BYTES;
pub use crate::pipeline::COMPUTE_CONFIRMATION;
pub use crate::poll::PollSchedule;
pub use crate::retry::RetryPolicy;
pub use crate::util::limits::{MAX_DURATION, MAX_TOKEN_LIFETIME, MIN_POLL_INTERVAL};
