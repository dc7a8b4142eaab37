//! A local stand-in for WeChat's mini-program API host (`api.weixin.qq.com`).
//!
//! It checks what WeChat checks: the app id and secret on `jscode2session`
//! and `stable_token`; on every other call an `access_token` it issued and
//! that has not expired (41001 missing, 40001 unknown, 42001 expired); and
//! the field rules of `upload_shipping_info` (order key, logistics type,
//! delivery mode, `is_all_delivered` on split deliveries and only once,
//! express companies from its own `get_delivery_list`, SF Express's masked
//! `receiver_contact`, `item_desc` length, RFC 3339 `upload_time`, payer).
// Not every test uses every helper.
#![allow(dead_code)]
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, Request, Respond, ResponseTemplate,
    matchers::{method, path},
};

pub const APPID: &str = "wx-test-app";
pub const SECRET: &str = "wx-test-secret";

/// WeChat's express companies, as `get_delivery_list` answers them here.
const DELIVERY_LIST: [(&str, &str); 4] = [
    ("SF", "顺丰速运"),
    ("ZTO", "中通快递"),
    ("YTO", "圆通速递"),
    ("JD", "京东物流"),
];

/// What the stand-in remembers.
#[derive(Default)]
struct State {
    /// Issued tokens and when each expires.
    tokens: HashMap<String, Instant>,
    /// The token `stable_token` hands out while it is valid.
    current: Option<String>,
    issued: usize,
    stable_token_calls: usize,
    delivery_list_calls: usize,
    /// Accepted uploads, in order.
    uploads: Vec<Value>,
    /// Refusals of uploads (errcode, body).
    refused_uploads: Vec<(i64, Value)>,
    /// By transaction id: completely delivered already.
    delivered: HashMap<String, bool>,
    /// By transaction id: corrections accepted after complete delivery.
    corrections: HashMap<String, usize>,
    /// The next this many uploads are answered `errcode -1` (system busy).
    fail_uploads: usize,
    token_lifetime: Option<Duration>,
    /// Accepted share-code requests.
    share_codes: Vec<Value>,
    /// Subscription consents WeChat holds, by (openid, template id).
    consents: HashMap<(String, String), usize>,
    /// Accepted subscription messages, in order.
    sends: Vec<Value>,
    /// Refused subscription messages (errcode, body).
    refused_sends: Vec<(i64, Value)>,
    /// The next this many sends are answered `errcode -1` (system busy).
    fail_sends: usize,
    /// Waybills given to `trace_waybill`, by the token it answered.
    waybills: HashMap<String, Value>,
    /// Trace events per waybill id (`path_item_list` entries).
    traces: HashMap<String, Vec<Value>>,
    trace_calls: usize,
    /// What `is_trade_managed` answers.
    trade_managed: bool,
    is_trade_managed_calls: usize,
}

/// WeChat's API host on a local port.
#[derive(Clone)]
pub struct WechatApiStandIn {
    pub server: Arc<MockServer>,
    state: Arc<Mutex<State>>,
}

#[derive(Clone, Copy)]
enum Endpoint {
    Code2Session,
    StableToken,
    DeliveryList,
    UploadShipping,
    ShareCode,
    SubscribeSend,
    TraceWaybill,
    QueryTrace,
    IsTradeManaged,
}

/// What a generated code's image holds here: a PNG signature and the scene,
/// so a test can read back which scene the stored image was made for.
pub fn share_code_image(scene: &str, page: &str) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(format!("scene={scene};page={page}").as_bytes());
    png
}

struct Responder {
    endpoint: Endpoint,
    state: Arc<Mutex<State>>,
}

fn answer(v: Value) -> ResponseTemplate {
    // WeChat answers JSON with a text/plain content type.
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/plain")
        .set_body_string(v.to_string())
}

fn errcode(code: i64, msg: &str) -> ResponseTemplate {
    answer(json!({ "errcode": code, "errmsg": msg }))
}

fn query(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_string())
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.state.lock().unwrap();
        match self.endpoint {
            Endpoint::Code2Session => {
                if query(req, "appid").as_deref() != Some(APPID)
                    || query(req, "secret").as_deref() != Some(SECRET)
                {
                    return errcode(40125, "invalid appsecret");
                }
                if query(req, "grant_type").as_deref() != Some("authorization_code") {
                    return errcode(40002, "invalid grant_type");
                }
                match query(req, "js_code")
                    .and_then(|c| c.strip_prefix("code-").map(str::to_string))
                {
                    Some(name) if !name.is_empty() => answer(json!({
                        "openid": format!("o-{name}"), "session_key": "SESSION-KEY"
                    })),
                    _ => errcode(40029, "invalid code"),
                }
            }
            Endpoint::StableToken => {
                s.stable_token_calls += 1;
                let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                    return errcode(47001, "data format error");
                };
                if body["grant_type"] != "client_credential" {
                    return errcode(40002, "invalid grant_type");
                }
                if body["appid"] != APPID || body["secret"] != SECRET {
                    return errcode(40125, "invalid appsecret");
                }
                let lifetime = s.token_lifetime.unwrap_or(Duration::from_secs(7200));
                let now = Instant::now();
                // Not forced: the valid token again, with what is left of it.
                if body["force_refresh"] != true
                    && let Some(t) = s.current.clone()
                    && let Some(exp) = s.tokens.get(&t).copied()
                    && exp > now
                {
                    return answer(json!({
                        "access_token": t, "expires_in": (exp - now).as_secs().max(1)
                    }));
                }
                s.issued += 1;
                let token = format!(
                    "ACCESS-TOKEN-{}-{}",
                    s.issued,
                    uuid::Uuid::new_v4().simple()
                );
                s.tokens.insert(token.clone(), now + lifetime);
                s.current = Some(token.clone());
                answer(json!({ "access_token": token, "expires_in": lifetime.as_secs() }))
            }
            Endpoint::DeliveryList
            | Endpoint::UploadShipping
            | Endpoint::ShareCode
            | Endpoint::SubscribeSend
            | Endpoint::TraceWaybill
            | Endpoint::QueryTrace
            | Endpoint::IsTradeManaged => {
                let Some(token) = query(req, "access_token") else {
                    return errcode(41001, "access_token missing");
                };
                match s.tokens.get(&token) {
                    None => return errcode(40001, "invalid credential, access_token is invalid"),
                    Some(exp) if *exp <= Instant::now() => {
                        return errcode(42001, "access_token expired");
                    }
                    Some(_) => {}
                }
                if matches!(self.endpoint, Endpoint::DeliveryList) {
                    s.delivery_list_calls += 1;
                    let list: Vec<Value> = DELIVERY_LIST
                        .iter()
                        .map(|(id, name)| json!({ "delivery_id": id, "delivery_name": name }))
                        .collect();
                    return answer(json!({
                        "errcode": 0, "delivery_list": list, "count": list.len()
                    }));
                }
                let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                    return errcode(47001, "data format error");
                };
                match self.endpoint {
                    Endpoint::SubscribeSend => return subscribe_send(&mut s, body),
                    Endpoint::TraceWaybill => return trace_waybill(&mut s, &body),
                    Endpoint::QueryTrace => return query_trace(&mut s, &body),
                    Endpoint::IsTradeManaged => {
                        s.is_trade_managed_calls += 1;
                        if body["appid"] != APPID {
                            return errcode(40013, "invalid appid");
                        }
                        return answer(json!({
                            "errcode": 0, "errmsg": "ok", "is_trade_managed": s.trade_managed
                        }));
                    }
                    _ => {}
                }
                if matches!(self.endpoint, Endpoint::ShareCode) {
                    return match check_share_code(&body) {
                        Ok((scene, page)) => {
                            s.share_codes.push(body.clone());
                            ResponseTemplate::new(200)
                                .insert_header("content-type", "image/jpeg")
                                .set_body_bytes(share_code_image(&scene, &page))
                        }
                        Err((code, msg)) => errcode(code, &msg),
                    };
                }
                if s.fail_uploads > 0 {
                    s.fail_uploads -= 1;
                    return errcode(-1, "system error");
                }
                let tx = body["order_key"]["transaction_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                // WeChat takes one changed upload of a payment after it
                // is completely delivered (a correction); then no more.
                let correcting = s.delivered.get(&tx).copied().unwrap_or(false)
                    && s.corrections.get(&tx).copied().unwrap_or(0) == 0;
                let none = HashMap::new();
                let delivered = if correcting { &none } else { &s.delivered };
                match check_upload(&body, delivered) {
                    Ok(all_delivered) => {
                        let tx = body["order_key"]["transaction_id"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string();
                        if correcting {
                            *s.corrections.entry(tx.clone()).or_default() += 1;
                        }
                        if all_delivered {
                            s.delivered.insert(tx, true);
                        }
                        s.uploads.push(body);
                        answer(json!({ "errcode": 0, "errmsg": "ok" }))
                    }
                    Err((code, msg)) => {
                        s.refused_uploads.push((code, body));
                        errcode(code, &msg)
                    }
                }
            }
        }
    }
}

/// `subscribe/send`: the fields WeChat requires, and a consent of the
/// user for the template (43101 without one), spent by the send.
fn subscribe_send(s: &mut State, body: Value) -> ResponseTemplate {
    if s.fail_sends > 0 {
        s.fail_sends -= 1;
        return errcode(-1, "system error");
    }
    let bad = |s: &mut State, body: Value, m: &str| {
        s.refused_sends.push((47003, body));
        errcode(47003, &format!("argument invalid! {m}"))
    };
    let touser = body["touser"].as_str().unwrap_or_default().to_string();
    let template = body["template_id"].as_str().unwrap_or_default().to_string();
    if touser.is_empty() {
        return bad(s, body, "touser");
    }
    if template.is_empty() {
        return bad(s, body, "template_id");
    }
    if body["page"].as_str().is_some_and(|p| p.starts_with('/')) {
        return bad(s, body, "page");
    }
    if !matches!(
        body["miniprogram_state"].as_str().unwrap_or("formal"),
        "developer" | "trial" | "formal"
    ) {
        return bad(s, body, "miniprogram_state");
    }
    let fields_ok = body["data"].as_object().is_some_and(|d| {
        !d.is_empty()
            && d.values()
                .all(|v| v["value"].as_str().is_some_and(|x| !x.is_empty()))
    });
    if !fields_ok {
        return bad(s, body, "data");
    }
    let key = (touser, template);
    match s.consents.get_mut(&key) {
        Some(n) if *n > 0 => {
            *n -= 1;
            s.sends.push(body);
            answer(json!({ "errcode": 0, "errmsg": "ok" }))
        }
        _ => {
            s.refused_sends.push((43101, body));
            errcode(43101, "user refuse to accept the msg")
        }
    }
}

/// `trace_waybill`: a token for the waybill (the same one for the same
/// waybill and transaction).
fn trace_waybill(s: &mut State, body: &Value) -> ResponseTemplate {
    s.trace_calls += 1;
    for field in ["openid", "waybill_id", "trans_id", "receiver_phone"] {
        if body[field].as_str().is_none_or(str::is_empty) {
            return errcode(47001, &format!("data format error: {field} missing"));
        }
    }
    if body["goods_info"]["detail_list"]
        .as_array()
        .is_none_or(|l| l.is_empty())
    {
        return errcode(47001, "data format error: goods_info.detail_list missing");
    }
    let token = format!(
        "WAYBILL-TOKEN-{}-{}",
        body["trans_id"].as_str().unwrap_or_default(),
        body["waybill_id"].as_str().unwrap_or_default()
    );
    s.waybills.insert(token.clone(), body.clone());
    answer(json!({ "errcode": 0, "errmsg": "ok", "waybill_token": token }))
}

/// `query_trace`: the trace of a waybill given to `trace_waybill`; a
/// waybill the carrier has nothing on yet has status 0 and no path.
fn query_trace(s: &mut State, body: &Value) -> ResponseTemplate {
    s.trace_calls += 1;
    let token = body["waybill_token"].as_str().unwrap_or_default();
    let Some(waybill) = s.waybills.get(token) else {
        return errcode(9300501, "waybill_token invalid");
    };
    let id = waybill["waybill_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = s.traces.get(&id).cloned().unwrap_or_default();
    let status = if path.is_empty() { 0 } else { 2 };
    answer(json!({
        "errcode": 0, "errmsg": "ok",
        "waybill_info": { "waybill_id": id, "status": status },
        "delivery_info": { "delivery_id": waybill["delivery_id"], "delivery_name": "" },
        "path_info": { "path_item_num": path.len(), "path_item_list": path },
    }))
}

/// WeChat's rules for `getwxacodeunlimit`: a scene of 1-32 visible
/// characters from its set, a page without a leading slash, a known
/// `env_version`.
fn check_share_code(b: &Value) -> Result<(String, String), (i64, String)> {
    let scene = b["scene"].as_str().unwrap_or_default();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$&'()*+,/:;=?@-._~".contains(c);
    if scene.is_empty() || scene.chars().count() > 32 || !scene.chars().all(allowed) {
        return Err((40169, "invalid scene: 1-32 visible characters".into()));
    }
    let page = b["page"].as_str().unwrap_or_default();
    if page.starts_with('/') || page.contains('?') {
        return Err((41030, "invalid page".into()));
    }
    match b["env_version"].as_str().unwrap_or("release") {
        "release" | "trial" | "develop" => {}
        _ => return Err((40097, "invalid env_version".into())),
    }
    Ok((scene.to_string(), page.to_string()))
}

/// WeChat's field rules for `upload_shipping_info`; `Ok(true)` when the
/// upload completes the payment's delivery.
fn check_upload(b: &Value, delivered: &HashMap<String, bool>) -> Result<bool, (i64, String)> {
    let bad = |m: &str| Err((47001, format!("data format error: {m}")));
    if b["order_key"]["order_number_type"] != 2 {
        return bad("order_key.order_number_type must be 2 (transaction_id)");
    }
    let Some(tx) = b["order_key"]["transaction_id"]
        .as_str()
        .filter(|t| !t.is_empty())
    else {
        return bad("order_key.transaction_id missing");
    };
    if delivered.get(tx).copied().unwrap_or(false) {
        return Err((10060003, "the order is already completely shipped".into()));
    }
    let logistics = b["logistics_type"].as_i64().unwrap_or(0);
    if !(1..=4).contains(&logistics) {
        return bad("logistics_type must be 1-4");
    }
    let mode = b["delivery_mode"].as_i64().unwrap_or(0);
    if mode != 1 && mode != 2 {
        return bad("delivery_mode must be 1 or 2");
    }
    if mode == 2 && !b["is_all_delivered"].is_boolean() {
        return bad("is_all_delivered is required with delivery_mode 2");
    }
    let Some(list) = b["shipping_list"]
        .as_array()
        .filter(|l| !l.is_empty() && l.len() <= 10)
    else {
        return bad("shipping_list must hold 1-10 entries");
    };
    if mode == 1 && list.len() != 1 {
        return bad("delivery_mode 1 takes one shipping_list entry");
    }
    for e in list {
        let desc = e["item_desc"].as_str().unwrap_or_default();
        if desc.is_empty() || desc.chars().count() > 120 {
            return bad("item_desc must be 1-120 characters");
        }
        if logistics == 1 {
            if e["tracking_no"].as_str().is_none_or(str::is_empty) {
                return bad("tracking_no is required for express delivery");
            }
            let company = e["express_company"].as_str().unwrap_or_default();
            if !DELIVERY_LIST.iter().any(|(id, _)| *id == company) {
                return bad("express_company is not in get_delivery_list");
            }
            if company == "SF" {
                let contact = e["contact"]["receiver_contact"]
                    .as_str()
                    .unwrap_or_default();
                let masked = contact.len() == 11
                    && contact[..3].chars().all(|c| c.is_ascii_digit())
                    && &contact[3..7] == "****"
                    && contact[7..].chars().all(|c| c.is_ascii_digit());
                if !masked {
                    return bad(
                        "SF Express needs contact.receiver_contact, masked like 138****8000",
                    );
                }
            }
        }
    }
    if chrono::DateTime::parse_from_rfc3339(b["upload_time"].as_str().unwrap_or_default()).is_err()
    {
        return bad("upload_time must be RFC 3339");
    }
    if b["payer"]["openid"].as_str().is_none_or(str::is_empty) {
        return bad("payer.openid missing");
    }
    Ok(mode == 1 || b["is_all_delivered"] == true)
}

impl WechatApiStandIn {
    pub async fn start() -> Self {
        let server = Arc::new(MockServer::start().await);
        let state = Arc::new(Mutex::new(State {
            trade_managed: true,
            ..State::default()
        }));
        let stand_in = Self { server, state };
        for (verb, p, endpoint) in [
            ("GET", "/sns/jscode2session", Endpoint::Code2Session),
            ("POST", "/cgi-bin/stable_token", Endpoint::StableToken),
            (
                "POST",
                "/cgi-bin/express/delivery/open_msg/get_delivery_list",
                Endpoint::DeliveryList,
            ),
            (
                "POST",
                "/wxa/sec/order/upload_shipping_info",
                Endpoint::UploadShipping,
            ),
            ("POST", "/wxa/getwxacodeunlimit", Endpoint::ShareCode),
            (
                "POST",
                "/cgi-bin/message/subscribe/send",
                Endpoint::SubscribeSend,
            ),
            (
                "POST",
                "/cgi-bin/express/delivery/open_msg/trace_waybill",
                Endpoint::TraceWaybill,
            ),
            (
                "POST",
                "/cgi-bin/express/delivery/open_msg/query_trace",
                Endpoint::QueryTrace,
            ),
            (
                "POST",
                "/wxa/sec/order/is_trade_managed",
                Endpoint::IsTradeManaged,
            ),
        ] {
            Mock::given(method(verb))
                .and(path(p))
                .respond_with(Responder {
                    endpoint,
                    state: stand_in.state.clone(),
                })
                .mount(&stand_in.server)
                .await;
        }
        stand_in
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The settings that point siyu here.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("WECHAT_APPID".into(), APPID.into()),
            ("WECHAT_SECRET".into(), SECRET.into()),
            ("WECHAT_API_BASE".into(), self.uri()),
            ("OUTBOUND_TIMEOUT_MS".into(), "2000".into()),
        ]
    }

    pub fn stable_token_calls(&self) -> usize {
        self.state.lock().unwrap().stable_token_calls
    }

    pub fn tokens_issued(&self) -> usize {
        self.state.lock().unwrap().issued
    }

    pub fn delivery_list_calls(&self) -> usize {
        self.state.lock().unwrap().delivery_list_calls
    }

    /// Accepted shipping uploads, in order.
    pub fn uploads(&self) -> Vec<Value> {
        self.state.lock().unwrap().uploads.clone()
    }

    /// Refused shipping uploads (errcode, body).
    pub fn refused_uploads(&self) -> Vec<(i64, Value)> {
        self.state.lock().unwrap().refused_uploads.clone()
    }

    /// Accepted share-code requests, in order.
    pub fn share_codes(&self) -> Vec<Value> {
        self.state.lock().unwrap().share_codes.clone()
    }

    /// The next `n` uploads are answered `errcode -1` (system busy).
    pub fn fail_next_uploads(&self, n: usize) {
        self.state.lock().unwrap().fail_uploads = n;
    }

    /// Every issued token expires now (calls with one get 42001), as if
    /// siyu's cached expiry were wrong or the token was refreshed elsewhere.
    pub fn expire_tokens(&self) {
        let mut s = self.state.lock().unwrap();
        let now = Instant::now();
        for exp in s.tokens.values_mut() {
            *exp = now;
        }
    }

    /// Tokens issued from now on live this long.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.state.lock().unwrap().token_lifetime = Some(lifetime);
    }

    /// The user `openid` accepts `n` messages of `template_id` (as
    /// `wx.requestSubscribeMessage` records on WeChat's side).
    pub fn grant_consent(&self, openid: &str, template_id: &str, n: usize) {
        *self
            .state
            .lock()
            .unwrap()
            .consents
            .entry((openid.to_string(), template_id.to_string()))
            .or_default() += n;
    }

    /// Accepted subscription messages, in order.
    pub fn sends(&self) -> Vec<Value> {
        self.state.lock().unwrap().sends.clone()
    }

    /// Refused subscription messages (errcode, body).
    pub fn refused_sends(&self) -> Vec<(i64, Value)> {
        self.state.lock().unwrap().refused_sends.clone()
    }

    /// The next `n` sends are answered `errcode -1` (system busy).
    pub fn fail_next_sends(&self, n: usize) {
        self.state.lock().unwrap().fail_sends = n;
    }

    /// The carrier's trace of a waybill: (unix time, action type, message).
    pub fn set_trace(&self, waybill_id: &str, events: &[(i64, i64, &str)]) {
        let list = events
            .iter()
            .map(|(t, k, m)| json!({ "action_time": t, "action_type": k, "action_msg": m }))
            .collect();
        self.state
            .lock()
            .unwrap()
            .traces
            .insert(waybill_id.to_string(), list);
    }

    /// Calls to `trace_waybill` and `query_trace`.
    pub fn trace_calls(&self) -> usize {
        self.state.lock().unwrap().trace_calls
    }

    /// What `is_trade_managed` answers from now on.
    pub fn set_trade_managed(&self, managed: bool) {
        self.state.lock().unwrap().trade_managed = managed;
    }

    pub fn is_trade_managed_calls(&self) -> usize {
        self.state.lock().unwrap().is_trade_managed_calls
    }
}
