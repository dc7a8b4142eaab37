//! `jscode2session`: exchanges a `wx.login()` code for the openid.
//!
//! The response also carries `session_key`; it is never deserialized, so it
//! cannot be stored, returned or logged by accident.
use serde::Deserialize;

use crate::{
    config::WechatSettings,
    error::{AppError, AppResult},
};

/// Who WeChat says the code belongs to.
#[derive(Debug)]
pub struct WechatIdentity {
    pub openid: String,
    pub unionid: Option<String>,
}

#[derive(Deserialize)]
struct Code2SessionResponse {
    openid: Option<String>,
    unionid: Option<String>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

pub async fn code2session(
    http: &reqwest::Client,
    settings: &WechatSettings,
    code: &str,
) -> AppResult<WechatIdentity> {
    let url = format!("{}/sns/jscode2session", settings.api_base);
    let response = http
        .get(&url)
        .query(&[
            ("appid", settings.appid.as_str()),
            ("secret", settings.secret.expose()),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ])
        .send()
        .await
        .map_err(|e| {
            // The error text holds the URL with the app secret: log without it.
            let kind = if e.is_timeout() {
                "timed out"
            } else {
                "unreachable"
            };
            tracing::warn!(kind, "WeChat jscode2session call failed");
            AppError::WechatLoginFailed(format!("WeChat login service {kind}; try again"))
        })?;
    let status = response.status();
    // WeChat answers JSON with a text/plain content type: parse the bytes.
    let body = response.bytes().await.map_err(|_| {
        AppError::WechatLoginFailed("WeChat login service did not answer in full; try again".into())
    })?;
    let parsed: Code2SessionResponse = serde_json::from_slice(&body).map_err(|_| {
        tracing::warn!(%status, "WeChat jscode2session answered something that is not JSON");
        AppError::WechatLoginFailed(
            "WeChat login service gave an unexpected answer; try again".into(),
        )
    })?;
    if let Some(code) = parsed.errcode.filter(|c| *c != 0) {
        let msg = parsed.errmsg.unwrap_or_default();
        tracing::info!(errcode = code, errmsg = %msg, "WeChat refused a login code");
        let hint = match code {
            40029 => "the login code is invalid",
            40163 => "the login code was already used",
            45011 => "too many logins; try again shortly",
            40226 => "this WeChat user is blocked by risk control",
            -1 => "WeChat is busy; try again",
            _ => "WeChat refused the login",
        };
        return Err(AppError::WechatLoginFailed(format!(
            "{hint} (errcode {code}); call wx.login() again"
        )));
    }
    match parsed.openid.filter(|o| !o.is_empty()) {
        Some(openid) => Ok(WechatIdentity {
            openid,
            unionid: parsed.unionid.filter(|u| !u.is_empty()),
        }),
        None => Err(AppError::WechatLoginFailed(
            "WeChat returned no openid; try again".into(),
        )),
    }
}
