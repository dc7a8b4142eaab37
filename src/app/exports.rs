//! CSV downloads for the store's bank transfers, accounting and the
//! operators' spreadsheets, with the same `Authorization: Bearer …` as
//! `POST /graphql` and the same scoping as the API (a SUPPLIER gets only
//! its own rows). Streamed a page at a time, so a year of orders never sits
//! in memory. The lists take the API's own filter as JSON (`?filter=…`,
//! the list query's filter input, checked by the same rules), so a
//! download holds exactly what the console's list shows.
use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::stream;
use serde::Deserialize;

use crate::{
    auth::Viewer,
    error::AppResult,
    modules::{
        operations::service as operations,
        order::{
            fulfillment,
            payable::{self, DUE, PAID, PENDING},
            query as order_query,
        },
        referral::service as referral,
        supplier::service as suppliers,
    },
    state::AppState,
};

/// Rows read per page of the stream.
const PAGE: u64 = 500;

/// The filter of `supplierPayables`, as query parameters.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayableQuery {
    supplier_id: Option<i64>,
    status: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

fn refuse(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(message.to_string())
}

/// `GET /exports/supplier-payables.csv`: ADMIN all (or `supplierId`), a
/// SUPPLIER its own; `status` (PENDING, DUE, PAID), `from`, `to` (RFC 3339,
/// when accrued) as in `supplierPayables`. Amounts in fen, like the API.
pub async fn supplier_payables(
    req: HttpRequest,
    query: web::Query<PayableQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let caller = super::graphql::caller(&req, &state).await;
    let scope = match caller.viewer {
        Viewer::Admin(_) => None,
        Viewer::Supplier(id) => Some(id),
        Viewer::Anonymous | Viewer::InvalidToken => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "sign in (Authorization: Bearer …)",
            );
        }
        _ => return refuse(StatusCode::FORBIDDEN, "ADMIN or SUPPLIER only"),
    };
    let status = match query.status.as_deref() {
        None => None,
        Some("PENDING") => Some(PENDING),
        Some("DUE") => Some(DUE),
        Some("PAID") => Some(PAID),
        Some(_) => {
            return refuse(StatusCode::BAD_REQUEST, "status: PENDING, DUE or PAID");
        }
    };
    let filter = payable::Filter {
        scope,
        supplier_id: query.supplier_id,
        status,
        from: query.from,
        to: query.to,
    };
    let names: HashMap<i64, String> = match suppliers::list(&state).await {
        Ok(all) => all.into_iter().map(|s| (s.id, s.name)).collect(),
        Err(e) => {
            tracing::error!(error = ?e, "supplier payables export");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL");
        }
    };
    let header = row(&[
        "payable_id",
        "supplier_id",
        "supplier",
        "order_id",
        "fulfillment_id",
        "status",
        "amount_fen",
        "paid_fen",
        "netted_fen",
        "balance_fen",
        "accrued_at",
        "due_at",
        "paid_at",
        "paid_reference",
    ]);
    let state = state.into_inner();
    stream_csv("supplier-payables.csv", header, move |after| {
        let (state, filter, names) = (state.clone(), filter.clone(), names.clone());
        async move { page(&state, &filter, &names, after).await }
    })
}

/// Streams `header`, then the pages `page` reads from a cursor (none for
/// the first) until it gives no next cursor.
fn stream_csv<F, Fut>(file: &'static str, header: Vec<u8>, page: F) -> HttpResponse
where
    F: Fn(Option<i64>) -> Fut + 'static,
    Fut: std::future::Future<Output = AppResult<(Vec<u8>, Option<i64>)>> + 'static,
{
    let page = std::rc::Rc::new(page);
    // (cursor, finished): each step reads one page and yields its rows.
    let pages = stream::unfold((None::<i64>, false), move |(after, done)| {
        let page = page.clone();
        async move {
            if done {
                return None;
            }
            match page(after).await {
                Ok((bytes, next)) => Some((
                    Ok::<_, actix_web::Error>(web::Bytes::from(bytes)),
                    (next, next.is_none()),
                )),
                Err(e) => {
                    // The status line is sent; a broken row tells the reader.
                    tracing::error!(error = ?e, file, "export page");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError("INTERNAL")),
                        (None, true),
                    ))
                }
            }
        }
    });
    let first = stream::once(async move { Ok::<_, actix_web::Error>(web::Bytes::from(header)) });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{file}\""),
        ))
        .insert_header(("cache-control", "no-store"))
        .streaming(futures_util::StreamExt::chain(first, pages))
}

/// The next cursor of a page read newest first.
fn next_of(ids: impl DoubleEndedIterator<Item = i64>, more: bool) -> Option<i64> {
    if more { ids.last() } else { None }
}

fn at(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The query string of a list export: the API's filter input as JSON.
#[derive(Deserialize)]
pub struct FilterQuery {
    filter: Option<String>,
}

/// ADMIN only; the refusal otherwise.
async fn admin_only(req: &HttpRequest, state: &AppState) -> Result<(), HttpResponse> {
    use actix_web::http::StatusCode;
    match super::graphql::caller(req, state).await.viewer {
        Viewer::Admin(_) => Ok(()),
        Viewer::Anonymous | Viewer::InvalidToken => Err(refuse(
            StatusCode::UNAUTHORIZED,
            "sign in (Authorization: Bearer …)",
        )),
        _ => Err(refuse(StatusCode::FORBIDDEN, "ADMIN only")),
    }
}

/// Parses `?filter=` as the API's input type `T` (absent: no filter) and
/// converts it as the list query does; a bad one is 400 with the API's
/// message.
fn api_filter<T, S>(
    q: &FilterQuery,
    convert: impl FnOnce(T) -> AppResult<S>,
) -> Result<S, Box<HttpResponse>>
where
    T: async_graphql::InputType + Default,
{
    let parsed = match q.filter.as_deref() {
        None => Ok(T::default()),
        Some(raw) => serde_json::from_str::<serde_json::Value>(raw)
            .map_err(|e| e.to_string())
            .and_then(|json| async_graphql::Value::from_json(json).map_err(|e| e.to_string()))
            .and_then(|value| {
                T::parse(Some(value))
                    .map_err(|e| e.into_server_error(async_graphql::Pos::default()).message)
            }),
    };
    parsed
        .and_then(|input| convert(input).map_err(|e| e.to_string()))
        .map_err(|m| {
            Box::new(refuse(
                actix_web::http::StatusCode::BAD_REQUEST,
                &format!("filter: {m}"),
            ))
        })
}

/// `GET /exports/orders.csv?filter=<OrderFilter JSON>` (ADMIN): the orders
/// of `orders(filter)`, newest first, amounts in fen.
pub async fn orders(
    req: HttpRequest,
    query: web::Query<FilterQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    if let Err(r) = admin_only(&req, &state).await {
        return r;
    }
    let filter = match api_filter(&query, |f: crate::modules::order::types::OrderFilter| {
        order_query::OrderFilter::try_from(f)
    }) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let header = row(&[
        "order_id",
        "order_no",
        "customer_id",
        "kind",
        "status",
        "items_fen",
        "member_discount_fen",
        "promotion_discount_fen",
        "coupon_discount_fen",
        "shipping_fen",
        "total_fen",
        "balance_paid_fen",
        "paid_fen",
        "placed_at",
        "paid_at",
        "shipped_at",
        "completed_at",
        "cancelled_at",
    ]);
    let state = state.into_inner();
    stream_csv("orders.csv", header, move |after| {
        let (state, filter) = (state.clone(), filter.clone());
        async move {
            let (rows, more) = order_query::list(&state, &filter, PAGE, after).await?;
            let mut out = Vec::new();
            for o in &rows {
                out.extend(row(&[
                    &o.id.to_string(),
                    &o.order_no,
                    &o.customer_id.to_string(),
                    &o.kind,
                    &o.status,
                    &o.items_fen.to_string(),
                    &o.member_discount_fen.to_string(),
                    &o.promotion_discount_fen.to_string(),
                    &o.coupon_discount_fen.to_string(),
                    &o.shipping_fen.to_string(),
                    &o.total_fen.to_string(),
                    &o.balance_fen.to_string(),
                    &o.paid_fen.to_string(),
                    &at(Some(o.created_at)),
                    &at(o.paid_at),
                    &at(o.shipped_at),
                    &at(o.completed_at),
                    &at(o.cancelled_at),
                ]));
            }
            Ok((out, next_of(rows.iter().map(|o| o.id), more)))
        }
    })
}

/// `GET /exports/withdrawals.csv?filter=<WithdrawalFilter JSON>` (ADMIN):
/// the queue of `withdrawals(filter)`, newest first.
pub async fn withdrawals(
    req: HttpRequest,
    query: web::Query<FilterQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    if let Err(r) = admin_only(&req, &state).await {
        return r;
    }
    let filter = match api_filter(
        &query,
        |f: crate::modules::referral::types::WithdrawalFilter| {
            referral::WithdrawalFilter::try_from(f)
        },
    ) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let header = row(&[
        "withdrawal_id",
        "promoter_id",
        "amount_fen",
        "to_wallet",
        "status",
        "requested_at",
        "reviewed_at",
        "finished_at",
        "out_bill_no",
        "failure_reason",
        "note",
    ]);
    let state = state.into_inner();
    stream_csv("withdrawals.csv", header, move |after| {
        let (state, filter) = (state.clone(), filter.clone());
        async move {
            let (rows, more) = referral::withdrawal_queue(&state, &filter, PAGE, after).await?;
            let mut out = Vec::new();
            for w in &rows {
                out.extend(row(&[
                    &w.id.to_string(),
                    &w.promoter_id.to_string(),
                    &w.amount_fen.to_string(),
                    &w.to_wallet.to_string(),
                    &w.status,
                    &at(Some(w.created_at)),
                    &at(w.reviewed_at),
                    &at(w.finished_at),
                    w.out_bill_no.as_deref().unwrap_or(""),
                    w.failure_reason.as_deref().unwrap_or(""),
                    w.note.as_deref().unwrap_or(""),
                ]));
            }
            Ok((out, next_of(rows.iter().map(|w| w.id), more)))
        }
    })
}

/// `GET /exports/customers.csv?filter=<CustomerFilter JSON>` (ADMIN): the
/// customers of `customers(filter)`, newest first, with their purchase
/// figures (orders and spend count paid orders, less refunds).
pub async fn customers(
    req: HttpRequest,
    query: web::Query<FilterQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    if let Err(r) = admin_only(&req, &state).await {
        return r;
    }
    let filter = match api_filter(
        &query,
        |f: crate::modules::operations::types::CustomerFilter| {
            operations::Filter::from(f).checked("filter")
        },
    ) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let header = row(&[
        "customer_id",
        "nickname",
        "referral_code",
        "referrer_id",
        "scene",
        "joined_at",
        "last_login_at",
        "orders",
        "spent_fen",
        "first_paid_at",
        "last_paid_at",
    ]);
    let state = state.into_inner();
    stream_csv("customers.csv", header, move |after| {
        let (state, filter) = (state.clone(), filter.clone());
        async move {
            let (rows, more) = operations::customers(&state, &filter, PAGE, after).await?;
            let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
            let stats: HashMap<i64, _> = operations::stats_of(&state.db, &ids)
                .await?
                .into_iter()
                .map(|s| (s.customer_id, s))
                .collect();
            let mut out = Vec::new();
            for c in &rows {
                let s = operations::bought(stats.get(&c.id));
                out.extend(row(&[
                    &c.id.to_string(),
                    c.nickname.as_deref().unwrap_or(""),
                    &c.referral_code,
                    &c.referrer_id.map(|r| r.to_string()).unwrap_or_default(),
                    c.scene.as_deref().unwrap_or(""),
                    &at(Some(c.created_at)),
                    &at(Some(c.last_login_at)),
                    &s.map_or(0, |s| s.orders_count).to_string(),
                    &s.map_or(0, |s| s.spent_fen).to_string(),
                    &at(s.map(|s| s.first_paid_at)),
                    &at(s.map(|s| s.last_paid_at)),
                ]));
            }
            Ok((out, next_of(ids.into_iter(), more)))
        }
    })
}

/// The filter of a fulfillments download: `supplierFulfillments`' own
/// arguments as one JSON object (the API has no input type for them).
#[derive(async_graphql::InputObject, Default)]
#[graphql(name = "FulfillmentExportFilter")]
pub struct FulfillmentFilter {
    status: Option<crate::modules::order::types::FulfillmentStatus>,
    /// Only those their supplier declined (true) or not (false).
    declined: Option<bool>,
}

/// `GET /exports/fulfillments.csv?filter={"status":…,"declined":…}`
/// (ADMIN): the parts to ship of `supplierFulfillments`, newest first,
/// with their order number, supplier (empty: self-operated), cost in fen
/// and shipping.
pub async fn fulfillments(
    req: HttpRequest,
    query: web::Query<FilterQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    if let Err(r) = admin_only(&req, &state).await {
        return r;
    }
    let filter = match api_filter(&query, |f: FulfillmentFilter| Ok(f)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let status = filter.status.map(|s| s.as_str());
    let declined = filter.declined;
    let names: HashMap<i64, String> = match suppliers::list(&state).await {
        Ok(all) => all.into_iter().map(|s| (s.id, s.name)).collect(),
        Err(e) => {
            tracing::error!(error = ?e, "fulfillments export");
            return refuse(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
            );
        }
    };
    let header = row(&[
        "fulfillment_id",
        "order_id",
        "order_no",
        "supplier_id",
        "supplier",
        "status",
        "cost_fen",
        "carrier",
        "tracking_no",
        "created_at",
        "shipped_at",
        "acknowledged_at",
        "declined_at",
        "decline_reason",
    ]);
    let state = state.into_inner();
    stream_csv("fulfillments.csv", header, move |after| {
        let (state, names) = (state.clone(), names.clone());
        async move {
            let (rows, more) =
                fulfillment::list(&state, None, status, declined, PAGE, after).await?;
            let order_ids: Vec<i64> = rows.iter().map(|f| f.order_id).collect();
            let numbers = order_query::order_numbers(&state, &order_ids).await?;
            let mut out = Vec::new();
            for f in &rows {
                out.extend(row(&[
                    &f.id.to_string(),
                    &f.order_id.to_string(),
                    numbers.get(&f.order_id).map_or("", String::as_str),
                    &f.supplier_id.map(|s| s.to_string()).unwrap_or_default(),
                    f.supplier_id
                        .and_then(|s| names.get(&s))
                        .map_or("", String::as_str),
                    &f.status,
                    &f.cost_fen.to_string(),
                    f.carrier.as_deref().unwrap_or(""),
                    f.tracking_no.as_deref().unwrap_or(""),
                    &at(Some(f.created_at)),
                    &at(f.shipped_at),
                    &at(f.acknowledged_at),
                    &at(f.declined_at),
                    f.decline_reason.as_deref().unwrap_or(""),
                ]));
            }
            Ok((out, next_of(rows.iter().map(|f| f.id), more)))
        }
    })
}

/// One CSV record, quoted where needed.
fn row(fields: &[&str]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = w.write_record(fields);
    w.into_inner().unwrap_or_default()
}

/// A page of rows after `after` (newest first, like the API), and the
/// cursor of the next page if there is one.
async fn page(
    state: &AppState,
    filter: &payable::Filter,
    names: &HashMap<i64, String>,
    after: Option<i64>,
) -> AppResult<(Vec<u8>, Option<i64>)> {
    let (rows, more) = payable::list(state, filter, PAGE, after).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let entries = payable::entries_of(state, &ids).await?;
    let mut out = Vec::new();
    for r in &rows {
        let sum = |kinds: &[&str]| -> i64 {
            entries
                .get(&r.id)
                .map(|es| {
                    es.iter()
                        .filter(|e| kinds.is_empty() || kinds.contains(&e.kind.as_str()))
                        .map(|e| e.amount_fen)
                        .sum()
                })
                .unwrap_or(0)
        };
        out.extend(row(&[
            &r.id.to_string(),
            &r.supplier_id.to_string(),
            names.get(&r.supplier_id).map_or("", String::as_str),
            &r.order_id.to_string(),
            &r.fulfillment_id.to_string(),
            &r.status,
            &sum(&[payable::ACCRUE, payable::ADJUST]).to_string(),
            &(-sum(&[payable::PAY])).to_string(),
            &sum(&[payable::NET]).to_string(),
            &sum(&[]).to_string(),
            &at(Some(r.created_at)),
            &at(r.due_at),
            &at(r.paid_at),
            r.paid_reference.as_deref().unwrap_or(""),
        ]));
    }
    Ok((out, next_of(rows.iter().map(|r| r.id), more)))
}
