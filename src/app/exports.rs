//! CSV downloads for the store's bank transfers and accounting, with the
//! same `Authorization: Bearer …` as `POST /graphql` and the same scoping
//! as the API (a SUPPLIER gets only its own rows). Streamed a page at a
//! time, so a year of payables never sits in memory.
use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::stream;
use serde::Deserialize;

use crate::{
    auth::Viewer,
    modules::{
        order::payable::{self, DUE, PAID, PENDING},
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
    // (cursor, finished): each step reads one page and yields its rows.
    let pages = stream::unfold((None::<i64>, false), move |(after, done)| {
        let state = state.clone();
        let filter = filter.clone();
        let names = names.clone();
        async move {
            if done {
                return None;
            }
            match page(&state, &filter, &names, after).await {
                Ok((bytes, next)) => Some((
                    Ok::<_, actix_web::Error>(web::Bytes::from(bytes)),
                    (next, next.is_none()),
                )),
                Err(e) => {
                    // The status line is sent; a broken row tells the reader.
                    tracing::error!(error = ?e, "supplier payables export page");
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
            "attachment; filename=\"supplier-payables.csv\"",
        ))
        .insert_header(("cache-control", "no-store"))
        .streaming(futures_util::StreamExt::chain(first, pages))
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
) -> crate::error::AppResult<(Vec<u8>, Option<i64>)> {
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
        let at = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
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
    let next = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok((out, next))
}
