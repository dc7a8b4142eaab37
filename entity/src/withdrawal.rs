//! A promoter's withdrawal; its amount is held from the withdrawable balance
//! when requested and returned if rejected, or if its WeChat transfer fails
//! or is cancelled.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "withdrawal")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub promoter_id: i64,
    pub amount_fen: i64,
    /// `REQUESTED`, `APPROVED` (transfer bill to be created),
    /// `WAITING_CONFIRMATION` (bill created, the promoter confirms), `PAID`,
    /// `REJECTED`, `FAILED`, `CANCELLED`.
    pub status: String,
    /// Paid into the stored-value wallet at once.
    pub to_wallet: bool,
    /// The admin's note or payout reference.
    pub note: Option<String>,
    pub idempotency_key: String,
    pub admin_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
    /// The merchant's bill number at WeChat Pay (set on approval when
    /// transfers are configured); WeChat Pay is idempotent on it.
    #[sea_orm(unique)]
    pub out_bill_no: Option<String>,
    /// WeChat Pay's number of the bill.
    pub transfer_bill_no: Option<String>,
    /// `package_info` for `wx.requestMerchantTransfer` (its owner only).
    pub transfer_package: Option<String>,
    /// WeChat Pay's last word on the bill (`WAIT_USER_CONFIRM`, `SUCCESS`, …).
    pub transfer_state: Option<String>,
    /// Why it failed or was cancelled.
    pub failure_reason: Option<String>,
    /// The promoter's real name, sent (encrypted) when the amount needs one.
    pub real_name: Option<String>,
    /// Approved by the automatic threshold rather than by an admin.
    pub auto_approved: bool,
    pub approved_at: Option<DateTimeUtc>,
    /// When WeChat Pay created the bill (its confirmation window starts).
    pub transfer_created_at: Option<DateTimeUtc>,
    /// When it reached PAID, FAILED or CANCELLED through WeChat Pay.
    pub finished_at: Option<DateTimeUtc>,
    /// Failed calls to create the bill so far.
    pub attempts: i32,
    pub last_error: Option<String>,
    /// When the jobs pass next creates the bill (`APPROVED`) or asks WeChat
    /// Pay about it (`WAITING_CONFIRMATION`).
    pub next_check_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
