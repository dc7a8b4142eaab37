//! `/webhooks/wechat-message`: WeChat's message push (消息推送) for the
//! mini-program. GET answers the URL verification (`echostr`); POST takes
//! the pushes, JSON, in security mode when `WECHAT_MESSAGE_AES_KEY` is set
//! (then only encrypted ones), and acts on trade management's events:
//! `trade_manage_order_settlement` with a confirmed receipt completes a
//! SHIPPED order; `trade_manage_remind_shipping` is flagged on the order
//! for ADMIN (`Order.wechatShippingReminder`), logged and counted. A push whose signature, decryption or app id fails changes
//! nothing and is answered 401/400.
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use crate::{
    error::AppError,
    modules::{order::service as orders, wechat_platform::service as platform},
    state::AppState,
    wechat::message::{self, PushError},
};

/// The query string WeChat adds to each push.
#[derive(Deserialize)]
pub struct PushQuery {
    signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
    msg_signature: Option<String>,
    encrypt_type: Option<String>,
}

fn text(status: actix_web::http::StatusCode, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(body.to_string())
}

fn refused(why: &str) -> HttpResponse {
    tracing::warn!(why, "WeChat message push refused");
    crate::metrics::count_wechat_message("refused");
    text(actix_web::http::StatusCode::UNAUTHORIZED, "refused")
}

/// `GET`: WeChat checks the URL by sending `echostr` signed with the token.
pub async fn verify_url(q: web::Query<PushQuery>, state: web::Data<AppState>) -> HttpResponse {
    let Some(token) = &state.settings.wechat_message_token else {
        return text(actix_web::http::StatusCode::NOT_FOUND, "not configured");
    };
    let (Some(sig), Some(ts), Some(nonce), Some(echo)) =
        (&q.signature, &q.timestamp, &q.nonce, &q.echostr)
    else {
        return refused("incomplete URL verification");
    };
    match message::verify(&[token.expose(), ts, nonce], sig) {
        Ok(()) => text(actix_web::http::StatusCode::OK, echo),
        Err(_) => refused("URL verification signature"),
    }
}

/// `POST`: a push, verified (and decrypted) before anything is read from it.
pub async fn receive(
    q: web::Query<PushQuery>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(token) = &state.settings.wechat_message_token else {
        return text(actix_web::http::StatusCode::NOT_FOUND, "not configured");
    };
    let (Some(ts), Some(nonce)) = (&q.timestamp, &q.nonce) else {
        return refused("no timestamp or nonce");
    };
    let opened = match &state.settings.wechat_message_aes_key {
        Some(key) => open_sealed(&state, token.expose(), key.expose(), ts, nonce, &q, &body),
        None => match &q.signature {
            Some(sig) => message::verify(&[token.expose(), ts, nonce], sig)
                .map(|()| String::from_utf8_lossy(&body).to_string()),
            None => Err(PushError::Signature),
        },
    };
    let plain = match opened {
        Ok(p) => p,
        Err(PushError::Signature) => return refused("signature"),
        Err(e) => {
            tracing::warn!(error = %e, "WeChat message push could not be opened");
            crate::metrics::count_wechat_message("refused");
            return text(actix_web::http::StatusCode::BAD_REQUEST, "cannot decrypt");
        }
    };
    let Ok(msg) = serde_json::from_str::<Value>(&plain) else {
        return text(actix_web::http::StatusCode::BAD_REQUEST, "not JSON");
    };
    match msg["Event"].as_str().unwrap_or_default() {
        "trade_manage_order_settlement" => settlement(&state, &msg).await,
        "trade_manage_remind_shipping" => remind_shipping(&state, &msg).await,
        _ => {
            crate::metrics::count_wechat_message("other");
            text(actix_web::http::StatusCode::OK, "success")
        }
    }
}

/// Security mode: the body is `{"ToUserName", "Encrypt"}`, signed by
/// `msg_signature` over the token, timestamp, nonce and `Encrypt`.
fn open_sealed(
    state: &AppState,
    token: &str,
    key: &str,
    ts: &str,
    nonce: &str,
    q: &PushQuery,
    body: &[u8],
) -> Result<String, PushError> {
    if q.encrypt_type.as_deref() != Some("aes") {
        return Err(PushError::Signature);
    }
    let sealed: Value = serde_json::from_slice(body).map_err(|_| PushError::Decrypt("not JSON"))?;
    let encrypted = sealed["Encrypt"]
        .as_str()
        .ok_or(PushError::Decrypt("no Encrypt"))?;
    let sig = q.msg_signature.as_deref().ok_or(PushError::Signature)?;
    message::verify(&[token, ts, nonce, encrypted], sig)?;
    let key = message::aes_key(key).ok_or(PushError::Decrypt("bad key"))?;
    let appid = state
        .settings
        .wechat
        .as_ref()
        .map(|w| w.appid.as_str())
        .unwrap_or_default();
    message::decrypt(&key, appid, encrypted)
}

/// WeChat reminds the store to ship (the buyer is waiting, WeChat has no
/// shipping information): flagged on the order for ADMIN
/// (`Order.wechatShippingReminder`), logged and counted.
async fn remind_shipping(state: &AppState, msg: &Value) -> HttpResponse {
    crate::metrics::count_wechat_message("trade_manage_remind_shipping");
    let txid = msg["transaction_id"].as_str().unwrap_or_default();
    tracing::warn!(
        transaction_id = txid,
        merchant_trade_no = msg["merchant_trade_no"].as_str().unwrap_or_default(),
        "WeChat reminds the store to upload shipping information for an order"
    );
    if txid.is_empty() {
        return text(actix_web::http::StatusCode::OK, "success");
    }
    match platform::record_reminder(state, txid).await {
        Ok(Some(order_id)) => {
            tracing::info!(order_id, "shipping reminder flagged on the order");
            text(actix_web::http::StatusCode::OK, "success")
        }
        Ok(None) => {
            tracing::warn!(
                txid,
                "shipping reminder for a transaction siyu does not know"
            );
            text(actix_web::http::StatusCode::OK, "success")
        }
        Err(e) => {
            tracing::error!(error = ?e, "recording WeChat's shipping reminder");
            text(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "try again",
            )
        }
    }
}

/// WeChat settled a payment: with a confirmed receipt (by the buyer, or
/// by WeChat's own time-out) the SHIPPED order becomes COMPLETED, as if
/// its buyer had confirmed in the mini-program.
async fn settlement(state: &AppState, msg: &Value) -> HttpResponse {
    crate::metrics::count_wechat_message("trade_manage_order_settlement");
    let confirmed = msg["confirm_receive_time"].as_i64().unwrap_or(0) > 0;
    let txid = msg["transaction_id"].as_str().unwrap_or_default();
    if !confirmed || txid.is_empty() {
        return text(actix_web::http::StatusCode::OK, "success");
    }
    match platform::order_of_transaction(state, txid).await {
        Ok(Some((order_id, customer_id))) => {
            match orders::confirm_receipt(state, customer_id, order_id).await {
                Ok(_) => tracing::info!(order_id, "buyer confirmed receipt in WeChat"),
                // Completed already (in the mini-program, or a repeated push).
                Err(AppError::Conflict(why)) => {
                    tracing::info!(order_id, why, "settlement push for an order not SHIPPED")
                }
                Err(e) => {
                    tracing::error!(error = ?e, order_id, "completing an order from WeChat's settlement push");
                    return text(
                        actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "try again",
                    );
                }
            }
            text(actix_web::http::StatusCode::OK, "success")
        }
        Ok(None) => {
            tracing::warn!(txid, "settlement push for a transaction siyu does not know");
            text(actix_web::http::StatusCode::OK, "success")
        }
        Err(e) => {
            tracing::error!(error = ?e, "reading the order of a settlement push");
            text(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "try again",
            )
        }
    }
}
