//! The domain's surface.
pub use super::shipping::{
    FAILED, PENDING, UPLOADED, attempts_of, discover, shipping_of_fulfillment, upload_due,
};
