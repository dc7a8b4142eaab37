//! The domain's surface.
pub use super::messages::{messages_of, send_due as send_subscription_messages};
pub use super::share::{ShareCodeView, image as share_code_image, share_code};
pub use super::shipping::{
    FAILED, PENDING, UPLOADED, attempts_of, discover, map_carrier, order_of_transaction, reupload,
    shipping_of_fulfillment, upload_due,
};
pub use super::subscription::{consents_of, record_consents, templates};
pub use super::tracking::tracking;
pub use super::trade::{TradeManaged, check_at_start, record_reminder, reminder_of};
