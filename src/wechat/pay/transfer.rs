//! Merchant transfers to a user's WeChat balance (商家转账, the API that
//! replaced 企业付款 for merchants from 2025-01-15): the merchant creates a
//! transfer bill, the user confirms it in the mini-program
//! (`wx.requestMerchantTransfer` with the bill's `package_info`), and WeChat
//! Pay reports the end (`MCHTRANSFER.BILL.FINISHED`) or answers queries.
//! WeChat Pay is idempotent on `out_bill_no`: creating the same bill again
//! returns the existing one, which is what makes retries safe.
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::{BASE64, NotifyError, PayError, VerifiedNotification, WechatPay, check_path_part};

/// From this amount (2,000 yuan) WeChat Pay requires the payee's real name
/// (`user_name`, encrypted); below it we send none (no personal data that
/// the transfer does not need).
pub const REAL_NAME_FROM_FEN: i64 = 200_000;

/// A transfer bill to create.
#[derive(Clone, Debug)]
pub struct TransferRequest {
    /// 5-32 letters and digits, unique per payout.
    pub out_bill_no: String,
    pub openid: String,
    pub amount_fen: i64,
    /// Shown to the user; at most 32 characters.
    pub remark: String,
    /// The merchant's transfer scene (`1005` 佣金报酬, …).
    pub scene_id: String,
    /// `transfer_scene_report_infos`: (info_type, info_content) pairs the
    /// scene requires (for 1005: 岗位类型 and 报酬说明).
    pub report_infos: Vec<(String, String)>,
    /// The payee's real name, plain; encrypted here before it is sent.
    /// Required from [`REAL_NAME_FROM_FEN`].
    pub user_name: Option<String>,
    pub notify_url: String,
}

/// What WeChat Pay says about a bill (creation, query or cancel answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferBill {
    pub out_bill_no: String,
    pub transfer_bill_no: String,
    /// `ACCEPTED`, `PROCESSING`, `WAIT_USER_CONFIRM`, `TRANSFERING`,
    /// `SUCCESS`, `FAIL`, `CANCELING`, `CANCELLED`.
    pub state: String,
    /// For `wx.requestMerchantTransfer`, in the creation answer while the
    /// user has to confirm.
    pub package_info: Option<String>,
    pub fail_reason: Option<String>,
}

/// A bill as a verified `MCHTRANSFER.BILL.FINISHED` notification describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferNotice {
    pub mchid: String,
    pub out_bill_no: String,
    pub transfer_bill_no: String,
    /// `SUCCESS`, `FAIL` or `CANCELLED` (the final states).
    pub state: String,
    pub amount_fen: i64,
    pub openid: String,
    pub fail_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireBill {
    #[serde(default)]
    out_bill_no: String,
    #[serde(default)]
    transfer_bill_no: String,
    state: String,
    package_info: Option<String>,
    fail_reason: Option<String>,
}

impl From<WireBill> for TransferBill {
    fn from(w: WireBill) -> Self {
        TransferBill {
            out_bill_no: w.out_bill_no,
            transfer_bill_no: w.transfer_bill_no,
            state: w.state,
            package_info: w.package_info.filter(|p| !p.is_empty()),
            fail_reason: w.fail_reason.filter(|r| !r.is_empty()),
        }
    }
}

fn parse_bill(path: &str, bytes: &[u8]) -> Result<TransferBill, PayError> {
    serde_json::from_slice::<WireBill>(bytes)
        .map(Into::into)
        .map_err(|e| {
            tracing::warn!(path, error = %e, "WeChat Pay transfer answer is not the expected JSON");
            PayError::Unexpected(format!("answer to {path} is not the expected JSON"))
        })
}

impl WechatPay {
    /// Encrypts a sensitive field for WeChat Pay: RSA-OAEP (SHA-1, as WeChat
    /// Pay documents it) with its public key, base64.
    pub fn encrypt_sensitive(&self, plain: &str) -> Result<String, PayError> {
        let padding = rsa::Oaep::new::<sha1::Sha1>();
        self.platform_public
            .encrypt(&mut rsa::rand_core::OsRng, padding, plain.as_bytes())
            .map(|c| BASE64.encode(c))
            .map_err(|e| PayError::Unexpected(format!("encrypting a sensitive field: {e}")))
    }

    /// Creates (or, for an `out_bill_no` it already has, returns) a transfer
    /// bill: `POST /v3/fund-app/mch-transfer/transfer-bills`.
    pub async fn create_transfer(
        &self,
        http: &reqwest::Client,
        req: &TransferRequest,
    ) -> Result<TransferBill, PayError> {
        check_path_part(&req.out_bill_no)?;
        let infos: Vec<_> = req
            .report_infos
            .iter()
            .map(|(t, c)| json!({ "info_type": t, "info_content": c }))
            .collect();
        let mut body = json!({
            "appid": self.appid,
            "out_bill_no": req.out_bill_no,
            "transfer_scene_id": req.scene_id,
            "openid": req.openid,
            "transfer_amount": req.amount_fen,
            "transfer_remark": req.remark,
            "notify_url": req.notify_url,
            "transfer_scene_report_infos": infos,
        });
        let encrypted = match &req.user_name {
            Some(name) => {
                body["user_name"] = json!(self.encrypt_sensitive(name)?);
                true
            }
            None => false,
        };
        let path = "/v3/fund-app/mch-transfer/transfer-bills";
        let bytes = self
            .exchange_with(http, "POST", path, Some(&body), encrypted)
            .await?;
        parse_bill(path, &bytes)
    }

    /// What WeChat Pay knows of a bill:
    /// `GET /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}`.
    pub async fn query_transfer(
        &self,
        http: &reqwest::Client,
        out_bill_no: &str,
    ) -> Result<TransferBill, PayError> {
        check_path_part(out_bill_no)?;
        let path = format!("/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}");
        let bytes = self.exchange(http, "GET", &path, None).await?;
        parse_bill(&path, &bytes)
    }

    /// Withdraws a bill the user has not confirmed:
    /// `POST …/transfer-bills/out-bill-no/{out_bill_no}/cancel` (no body).
    /// The answer is `CANCELING` or `CANCELLED`; only the final state (by
    /// notification or query) says the money stayed with the merchant.
    pub async fn cancel_transfer(
        &self,
        http: &reqwest::Client,
        out_bill_no: &str,
    ) -> Result<TransferBill, PayError> {
        check_path_part(out_bill_no)?;
        let path =
            format!("/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}/cancel");
        let bytes = self.exchange(http, "POST", &path, None).await?;
        parse_bill(&path, &bytes)
    }
}

/// The bill a verified `MCHTRANSFER.BILL.*` notification carries.
pub fn transfer_of(notification: VerifiedNotification) -> Result<TransferNotice, NotifyError> {
    #[derive(Deserialize)]
    struct Wire {
        mchid: String,
        out_bill_no: String,
        #[serde(default)]
        transfer_bill_no: String,
        state: String,
        transfer_amount: i64,
        #[serde(default)]
        openid: String,
        fail_reason: Option<String>,
    }
    let wire: Wire = serde_json::from_value(notification.resource).map_err(|e| {
        NotifyError::Malformed(format!(
            "{} resource is not a transfer bill: {e}",
            notification.event_type
        ))
    })?;
    Ok(TransferNotice {
        mchid: wire.mchid,
        out_bill_no: wire.out_bill_no,
        transfer_bill_no: wire.transfer_bill_no,
        state: wire.state,
        amount_fen: wire.transfer_amount,
        openid: wire.openid,
        fail_reason: wire.fail_reason.filter(|r| !r.is_empty()),
    })
}
