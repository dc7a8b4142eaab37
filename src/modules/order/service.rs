//! Placing, paying, cancelling, refunding and listing orders.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use entity::{fulfillment, order_line, payment, product, refund, shop_order, sku};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr, TransactionTrait,
    sea_query::{Alias, Expr, Query, QueryStatementBuilder},
};
use serde::Serialize;

use super::{
    address::{self, AddressData},
    state::{self, Status},
};
use crate::{
    crypto::sha256_hex,
    error::{AppError, AppResult},
    modules::pricing::{self, Breakdown, LineInput, PricingInput, Shipping},
    modules::{
        catalogue::service::{self as catalogue, ON_SHELF},
        coupon::service as coupons,
        membership::service as membership,
        supplier::service as supplier,
        wallet::ledger::{self, Kind as LedgerKind, Movement},
    },
    state::AppState,
};

pub const KIND_GOODS: &str = "GOODS";
pub const KIND_MEMBERSHIP: &str = "MEMBERSHIP";
pub const KIND_TOP_UP: &str = "TOP_UP";
const MAX_LINES: usize = 50;

/// One requested line.
#[derive(Clone, Debug, Serialize)]
pub struct ItemRequest {
    pub sku_id: i64,
    pub quantity: i32,
}

/// What a customer asks to buy (preview and place).
#[derive(Clone, Debug, Serialize)]
pub struct OrderRequest {
    pub items: Vec<ItemRequest>,
    pub address_id: Option<i64>,
    pub coupon_id: Option<i64>,
    pub use_balance: bool,
    pub remark: Option<String>,
}

/// A line ready to price and to snapshot.
pub(super) struct PricedLine {
    pub(super) sku: sku::Model,
    pub(super) product: product::Model,
    pub(super) quantity: i32,
}

pub(super) fn check_request(req: &OrderRequest) -> AppResult<()> {
    if req.items.is_empty() || req.items.len() > MAX_LINES {
        return Err(AppError::bad_input(
            "items",
            format!("an order needs 1 to {MAX_LINES} lines"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, item) in req.items.iter().enumerate() {
        if !(1..=99).contains(&item.quantity) {
            return Err(AppError::bad_input(
                format!("items[{i}].quantity"),
                "must be between 1 and 99",
            ));
        }
        if !seen.insert(item.sku_id) {
            return Err(AppError::bad_input(
                format!("items[{i}].skuId"),
                "appears twice; put it on one line",
            ));
        }
    }
    if let Some(r) = &req.remark
        && r.chars().count() > 200
    {
        return Err(AppError::bad_input(
            "remark",
            "must be at most 200 characters",
        ));
    }
    Ok(())
}

/// SKUs with their products, by SKU id, for these requests' lines.
pub(super) type Catalogue = HashMap<i64, (sku::Model, product::Model)>;

/// Reads the SKUs (and their products) of requests, on `db`: placing reads
/// inside its transaction.
pub(super) async fn read_skus<'a>(
    db: &impl ConnectionTrait,
    reqs: impl IntoIterator<Item = &'a OrderRequest>,
) -> AppResult<Catalogue> {
    let ids: Vec<i64> = reqs
        .into_iter()
        .flat_map(|r| r.items.iter().map(|i| i.sku_id))
        .collect();
    Ok(catalogue::skus_with_products(db, &ids)
        .await?
        .into_iter()
        .map(|(s, p)| (s.id, (s, p)))
        .collect())
}

/// Checks every line: the SKU exists (`NOT_FOUND`) and is sold (`BAD_USER_INPUT`).
pub(super) fn lines_of_request(
    found: &Catalogue,
    req: &OrderRequest,
) -> AppResult<Vec<PricedLine>> {
    req.items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (sku, product) = found.get(&item.sku_id).ok_or_else(|| {
                AppError::NotFound(format!(
                    "items[{i}].skuId: SKU {} does not exist",
                    item.sku_id
                ))
            })?;
            if product.status != ON_SHELF || sku.archived {
                return Err(AppError::bad_input(
                    format!("items[{i}].skuId"),
                    format!("SKU {} is no longer sold", item.sku_id),
                ));
            }
            Ok(PricedLine {
                sku: sku.clone(),
                product: product.clone(),
                quantity: item.quantity,
            })
        })
        .collect()
}

/// The supplier links of these SKUs, by SKU id.
pub(super) async fn links_of(db: &impl ConnectionTrait, sku_ids: &[i64]) -> AppResult<Links> {
    Ok(supplier::links_by_skus(db, sku_ids)
        .await?
        .into_iter()
        .map(|l| (l.sku_id, l))
        .collect())
}

async fn load_lines(db: &impl ConnectionTrait, req: &OrderRequest) -> AppResult<Vec<PricedLine>> {
    lines_of_request(&read_skus(db, [req]).await?, req)
}

fn shipping(state: &AppState) -> Shipping {
    Shipping {
        flat_fee_fen: state.settings.shipping_fee_fen,
        free_from_fen: state.settings.free_shipping_from_fen,
    }
}

/// The pricing pipeline's inputs for this customer now: its membership's
/// terms, the promotions running and the coupon it chose (`COUPON_INVALID`
/// when it cannot use it). The balance is set by the caller (read, or
/// locked inside the placing transaction).
async fn pricing_input(
    db: &impl ConnectionTrait,
    state: &AppState,
    customer_id: i64,
    lines: &[PricedLine],
    coupon_id: Option<i64>,
) -> AppResult<PricingInput> {
    let now = Utc::now();
    let terms = membership::terms(db, customer_id, now).await?;
    let promotions = coupons::running(db, now).await?;
    let mut input = pricing_input_with(state, lines, terms, promotions);
    if let Some(id) = coupon_id {
        input.coupon = Some(coupons::usable(db, customer_id, id, now).await?);
    }
    Ok(input)
}

/// A chosen coupon the priced order does not reach is refused, not
/// silently dropped: the customer picked it for a reason.
fn check_coupon_reached(input: &PricingInput, b: &Breakdown) -> AppResult<()> {
    match &input.coupon {
        Some(c) if !b.coupon_reached => Err(coupons::below_threshold(c)),
        _ => Ok(()),
    }
}

/// [`pricing_input`] with the membership terms and promotions already read.
pub(super) fn pricing_input_with(
    state: &AppState,
    lines: &[PricedLine],
    membership: Option<pricing::Membership>,
    promotions: Vec<pricing::Promotion>,
) -> PricingInput {
    PricingInput {
        lines: lines
            .iter()
            .map(|l| LineInput {
                list_price_fen: l.sku.price_fen,
                member_price_fen: l.sku.member_price_fen,
                quantity: i64::from(l.quantity),
            })
            .collect(),
        membership,
        promotions,
        coupon: None,
        shipping: Some(shipping(state)),
        balance_available_fen: 0,
    }
}

/// The breakdown `placeOrder` would charge, without placing anything.
pub async fn preview(
    state: &AppState,
    customer_id: i64,
    req: &OrderRequest,
) -> AppResult<Breakdown> {
    check_request(req)?;
    let lines = load_lines(&state.db, req).await?;
    // What placing would refuse, the preview refuses too: an address that is
    // not the caller's, a line the stock cannot cover now.
    if req.address_id.is_some() {
        address::shipping_address(&state.db, customer_id, req.address_id).await?;
    }
    if let Some(short) = lines.iter().find(|l| l.sku.stock < l.quantity) {
        return Err(out_of_stock(short));
    }
    let mut input = pricing_input(&state.db, state, customer_id, &lines, req.coupon_id).await?;
    if req.use_balance {
        let w = crate::modules::wallet::service::wallet_of(state, customer_id).await?;
        input.balance_available_fen = w.principal_fen + w.bonus_fen;
    }
    let b = pricing::price(&input);
    check_coupon_reached(&input, &b)?;
    Ok(b)
}

/// The result of placing: the order, and whether it was placed just now.
pub struct Placed {
    pub order: shop_order::Model,
    pub created: bool,
}

fn request_hash(req: &impl Serialize) -> String {
    sha256_hex(&serde_json::to_string(req).unwrap_or_default())
}

fn check_key(key: &str) -> AppResult<()> {
    if key.trim().is_empty() || key.len() > 64 {
        return Err(AppError::bad_input(
            "idempotencyKey",
            "must be 1-64 characters",
        ));
    }
    Ok(())
}

async fn find_by_key(
    state: &AppState,
    customer_id: i64,
    key: &str,
) -> AppResult<Option<shop_order::Model>> {
    Ok(shop_order::Entity::find()
        .filter(shop_order::Column::CustomerId.eq(customer_id))
        .filter(shop_order::Column::IdempotencyKey.eq(key))
        .one(&state.db)
        .await?)
}

/// Everything `write_order` needs beyond the customer and the key.
pub(super) struct Draft<'a> {
    pub(super) kind: &'static str,
    pub(super) plan_id: Option<i64>,
    pub(super) lines: &'a [PricedLine],
    pub(super) input: PricingInput,
    pub(super) use_balance: bool,
    pub(super) address: Option<AddressData>,
    pub(super) remark: Option<String>,
    pub(super) links: &'a Links,
    /// The coupon it uses (priced in `input.coupon`).
    pub(super) coupon_id: Option<i64>,
}

/// Supplier links, by SKU id.
pub(super) type Links = HashMap<i64, entity::supplier_sku_link::Model>;

/// A remark as stored: trimmed, and none when blank.
pub(super) fn remark_of(req: &OrderRequest) -> Option<String> {
    req.remark
        .as_ref()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
}

/// When a new order is placed and when it times out unpaid. Whole
/// milliseconds: stored exactly by both databases, so the date in the order
/// number is the date of the stored `created_at`.
pub(super) fn placing_times(state: &AppState) -> (DateTime<Utc>, DateTime<Utc>) {
    let now = Utc::now().trunc_subsecs(3);
    let timeout = chrono::Duration::minutes(i64::from(state.settings.order_payment_timeout_mins));
    (now, now + timeout)
}

/// The row of a new order, unpaid; the database gives it its id and number.
/// `draw` is what the balance pays, (principal, bonus).
pub(super) fn order_row(
    customer_id: i64,
    (key, hash): (&str, &str),
    d: &Draft<'_>,
    breakdown: &Breakdown,
    draw: (i64, i64),
    (now, expires_at): (DateTime<Utc>, DateTime<Utc>),
) -> AppResult<shop_order::ActiveModel> {
    Ok(shop_order::ActiveModel {
        // A placeholder, unique, until the database's trigger numbers the row.
        order_no: Set(format!("tmp-{}", uuid::Uuid::new_v4().simple())),
        customer_id: Set(customer_id),
        kind: Set(d.kind.into()),
        status: Set(Status::PendingPayment.as_str().into()),
        items_fen: Set(breakdown.items_fen),
        member_discount_fen: Set(breakdown.member_discount_fen),
        promotion_discount_fen: Set(breakdown.promotion_discount_fen),
        coupon_discount_fen: Set(breakdown.coupon_discount_fen),
        shipping_fen: Set(if d.kind == KIND_GOODS {
            breakdown.shipping_fen
        } else {
            0
        }),
        total_fen: Set(breakdown.total_fen),
        balance_fen: Set(breakdown.balance_fen),
        payable_fen: Set(breakdown.payable_fen),
        paid_fen: Set(0),
        address: Set(d
            .address
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(AppError::internal)?),
        remark: Set(d.remark.clone()),
        idempotency_key: Set(key.to_string()),
        request_hash: Set(hash.to_string()),
        prepay_id: Set(None),
        expires_at: Set(expires_at),
        paid_at: Set(None),
        shipped_at: Set(None),
        completed_at: Set(None),
        cancelled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        plan_id: Set(d.plan_id),
        balance_principal_fen: Set(draw.0),
        balance_bonus_fen: Set(draw.1),
        ..Default::default()
    })
}

/// The line rows of a new order: what was bought, as it was sold (title,
/// specs, prices, the supplier and its cost).
pub(super) fn line_rows(
    order_id: i64,
    d: &Draft<'_>,
    breakdown: &Breakdown,
) -> Vec<order_line::ActiveModel> {
    d.lines
        .iter()
        .zip(&breakdown.lines)
        .map(|(l, (unit, total))| {
            let link = d.links.get(&l.sku.id);
            order_line::ActiveModel {
                order_id: Set(order_id),
                sku_id: Set(l.sku.id),
                product_id: Set(l.product.id),
                title: Set(l.product.title.clone()),
                specs: Set(l.sku.specs.clone()),
                list_price_fen: Set(l.sku.price_fen),
                unit_price_fen: Set(*unit),
                quantity: Set(l.quantity),
                line_total_fen: Set(*total),
                cost_fen: Set(link.map(|k| k.cost_fen)),
                supplier_id: Set(link.map(|k| k.supplier_id)),
                fulfillment_id: Set(None),
                ..Default::default()
            }
        })
        .collect()
}

/// `OUT_OF_STOCK`, naming the SKU.
pub(super) fn out_of_stock(l: &PricedLine) -> AppError {
    AppError::OutOfStock(format!(
        "{} ({}) has fewer than {} left",
        l.product.title,
        spec_text(&l.sku.specs),
        l.quantity
    ))
}

/// Places an order: checks every line, takes stock with conditional updates
/// and writes the order, its lines, its balance draw and its idempotency key
/// in one transaction. The same key with the same request returns the same order.
///
/// Orders paid partly from the balance or using a coupon are placed one by
/// one (the wallet, the coupon are taken for each); the others go through
/// the batch writer (`batch`), which writes concurrent orders together.
pub async fn place(
    state: &AppState,
    customer_id: i64,
    req: &OrderRequest,
    key: &str,
) -> AppResult<Placed> {
    check_key(key)?;
    check_request(req)?;
    let mut canonical = req.clone();
    canonical.items.sort_by_key(|i| i.sku_id);
    let hash = request_hash(&canonical);
    if req.use_balance || req.coupon_id.is_some() {
        place_one(state, customer_id, req, key, &hash).await
    } else {
        state
            .part::<super::batch::Placer>()
            .place(state, customer_id, req, key, hash)
            .await
    }
}

/// Places one checked order (`hash`: of its canonical request) in a
/// transaction of its own.
///
/// Everything is read inside that transaction, on one connection: each
/// statement outside it would cost a connection checkout and the pool's
/// check on return, one more round trip each.
pub(super) async fn place_one(
    state: &AppState,
    customer_id: i64,
    req: &OrderRequest,
    key: &str,
    hash: &str,
) -> AppResult<Placed> {
    let attempt = async {
        let txn = state.db.begin().await?;
        let lines = load_lines(&txn, req).await?;
        let address = address::shipping_address(&txn, customer_id, req.address_id).await?;
        let sku_ids: Vec<i64> = lines.iter().map(|l| l.sku.id).collect();
        let links = links_of(&txn, &sku_ids).await?;
        let draft = Draft {
            kind: KIND_GOODS,
            plan_id: None,
            lines: &lines,
            input: pricing_input(&txn, state, customer_id, &lines, req.coupon_id).await?,
            use_balance: req.use_balance,
            address: Some(AddressData::from(&address)),
            remark: remark_of(req),
            links: &links,
            coupon_id: req.coupon_id,
        };
        let order = write_order(txn, state, customer_id, key, hash, draft).await?;
        Ok((
            order,
            lines.iter().map(|l| l.product.id).collect::<Vec<_>>(),
        ))
    };
    let (placed, products) = match attempt.await {
        Ok((order, products)) => (
            Placed {
                order,
                created: true,
            },
            products,
        ),
        Err(e) => (
            or_replay(state, customer_id, key, hash, e).await?,
            Vec::new(),
        ),
    };
    catalogue::invalidate_stock(state, &products).await;
    Ok(placed)
}

/// What a plan order buys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PlanKind {
    Membership,
    TopUp,
}

/// Places an order for a membership or a top-up: no stock, no shipping, no
/// fulfilment. A top-up is never paid from the balance.
pub async fn place_plan_order(
    state: &AppState,
    customer_id: i64,
    kind: PlanKind,
    plan_id: i64,
    use_balance: bool,
    key: &str,
) -> AppResult<Placed> {
    check_key(key)?;
    if kind == PlanKind::TopUp && use_balance {
        return Err(AppError::bad_input(
            "useBalance",
            "a top-up is paid by WeChat Pay, not from the balance",
        ));
    }
    let hash = request_hash(&(kind, plan_id, use_balance));
    let no_links = Links::new();
    let attempt = async {
        let txn = state.db.begin().await?;
        let (kind_str, price) = match kind {
            PlanKind::Membership => (
                KIND_MEMBERSHIP,
                membership::active_plan(&txn, plan_id).await?.price_fen,
            ),
            PlanKind::TopUp => {
                let p = membership::top_up_plan(&txn, plan_id).await?;
                if !p.active {
                    return Err(AppError::bad_input(
                        "planId",
                        "this top-up plan is no longer sold",
                    ));
                }
                (KIND_TOP_UP, p.pay_fen)
            }
        };
        let draft = Draft {
            kind: kind_str,
            plan_id: Some(plan_id),
            lines: &[],
            input: PricingInput {
                lines: vec![LineInput {
                    list_price_fen: price,
                    member_price_fen: None,
                    quantity: 1,
                }],
                ..Default::default()
            },
            use_balance,
            address: None,
            remark: None,
            links: &no_links,
            coupon_id: None,
        };
        write_order(txn, state, customer_id, key, &hash, draft).await
    };
    match attempt.await {
        Ok(order) => Ok(Placed {
            order,
            created: true,
        }),
        Err(e) => or_replay(state, customer_id, key, &hash, e).await,
    }
}

/// A failed attempt to place under `key`: if an order is stored under that
/// key, this call was a replay (or lost the race on the key's unique index)
/// and gets that order, or `CONFLICT` when the request differs. Looking only
/// after a failure keeps the first call, the common one, a statement shorter;
/// a replay fails at the latest on the unique index, before anything is taken.
pub(super) async fn or_replay(
    state: &AppState,
    customer_id: i64,
    key: &str,
    hash: &str,
    failure: AppError,
) -> AppResult<Placed> {
    match find_by_key(state, customer_id, key).await? {
        Some(existing) if existing.request_hash != hash => Err(AppError::Conflict(
            "this idempotencyKey was used for a different order; use a new key for a new order"
                .into(),
        )),
        Some(existing) => Ok(Placed {
            order: existing,
            created: false,
        }),
        None if matches!(&failure, AppError::Conflict(m) if m == IDEMPOTENCY_RACE) => Err(
            AppError::internal(anyhow::anyhow!("idempotency race without a winner")),
        ),
        None => Err(failure),
    }
}

pub(super) const IDEMPOTENCY_RACE: &str = "idempotency race";

/// Writes the order in `txn` and commits it.
async fn write_order(
    txn: DatabaseTransaction,
    state: &AppState,
    customer_id: i64,
    key: &str,
    hash: &str,
    mut d: Draft<'_>,
) -> AppResult<shop_order::Model> {
    // The balance is read under the wallet's lock, in this transaction: what
    // it covers is drawn below, and no concurrent order can draw it too.
    let wallet = if d.use_balance {
        Some(ledger::lock(&txn, customer_id).await?)
    } else {
        None
    };
    if let Some(w) = &wallet {
        d.input.balance_available_fen = w.principal_fen + w.bonus_fen;
    }
    if d.kind != KIND_GOODS {
        d.input.membership = None;
    }
    let breakdown = pricing::price(&d.input);
    check_coupon_reached(&d.input, &breakdown)?;
    let (draw_p, draw_b) = match &wallet {
        Some(w) => ledger::split_draw(breakdown.balance_fen, w.principal_fen, w.bonus_fen),
        None => (0, 0),
    };
    let inserted = order_row(
        customer_id,
        (key, hash),
        &d,
        &breakdown,
        (draw_p, draw_b),
        placing_times(state),
    )?
    .insert(&txn)
    .await;
    let mut order = match inserted {
        Ok(o) => o,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(AppError::Conflict(IDEMPOTENCY_RACE.into()));
        }
        Err(e) => return Err(e.into()),
    };
    // The database numbered the row as it went in (see the migration
    // `order_write_path`); SQLite returns the row from before its trigger.
    order.order_no = order_number(order.id, order.created_at);
    if draw_p + draw_b > 0 {
        ledger::apply(
            &txn,
            customer_id,
            Movement::new(LedgerKind::Payment, -draw_p, -draw_b).for_order(order.id),
        )
        .await?;
    }
    if let Some(coupon) = d.coupon_id {
        coupons::take(&txn, customer_id, coupon, order.id, Utc::now()).await?;
    }
    if !d.lines.is_empty() {
        order_line::Entity::insert_many(line_rows(order.id, &d, &breakdown))
            .exec_without_returning(&txn)
            .await?;
    }
    // Stock is taken near the end: a flash sale's buyers queue on the SKU
    // row's lock, so the lock is held for as short as can be. The lock order,
    // here and in `batch`: the wallet, the order's key, its coupon, the SKUs
    // by id, the cart; keeping to it means concurrent orders never deadlock.
    let mut by_sku: Vec<&PricedLine> = d.lines.iter().collect();
    by_sku.sort_by_key(|l| l.sku.id);
    for l in by_sku {
        let taken = sku::Entity::update_many()
            .col_expr(
                sku::Column::Stock,
                Expr::col(sku::Column::Stock).sub(l.quantity),
            )
            .filter(sku::Column::Id.eq(l.sku.id))
            .filter(sku::Column::Stock.gte(l.quantity))
            .exec(&txn)
            .await?;
        if taken.rows_affected != 1 {
            return Err(out_of_stock(l));
        }
    }
    if !d.lines.is_empty() {
        // What was ordered leaves the cart with the order, not before.
        let sku_ids: Vec<i64> = d.lines.iter().map(|l| l.sku.id).collect();
        super::cart::remove_in(&txn, customer_id, &sku_ids).await?;
    }
    txn.commit().await?;
    Ok(order)
}

/// Gives an order's balance draw back to the wallet, as it was drawn.
async fn return_balance(txn: &DatabaseTransaction, order: &shop_order::Model) -> AppResult<()> {
    if order.balance_principal_fen + order.balance_bonus_fen > 0 {
        ledger::apply(
            txn,
            order.customer_id,
            Movement::new(
                LedgerKind::Refund,
                order.balance_principal_fen,
                order.balance_bonus_fen,
            )
            .for_order(order.id),
        )
        .await?;
    }
    Ok(())
}

/// An order's number: the UTC date it was placed and its id, zero-padded to
/// ten digits (`20261122` + `0000000123`); unique, sortable, and readable
/// over the phone. The database writes the same into `order_no` on insert.
pub fn order_number(id: i64, created_at: DateTime<Utc>) -> String {
    format!("{}{:010}", created_at.format("%Y%m%d"), id)
}

fn spec_text(json: &str) -> String {
    serde_json::from_str::<Vec<catalogue::Spec>>(json)
        .unwrap_or_default()
        .iter()
        .map(|s| format!("{}: {}", s.name, s.value))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn find(state: &AppState, id: i64) -> AppResult<Option<shop_order::Model>> {
    Ok(shop_order::Entity::find_by_id(id).one(&state.db).await?)
}

pub async fn find_by_no(
    db: &impl ConnectionTrait,
    order_no: &str,
) -> AppResult<Option<shop_order::Model>> {
    Ok(shop_order::Entity::find()
        .filter(shop_order::Column::OrderNo.eq(order_no))
        .one(db)
        .await?)
}

/// The customer's own order, or `NOT_FOUND` (never someone else's).
pub async fn own(state: &AppState, customer_id: i64, id: i64) -> AppResult<shop_order::Model> {
    own_in(&state.db, customer_id, id).await
}

/// [`own`] on `db` (a transaction that goes on to change the order).
pub async fn own_in(
    db: &impl ConnectionTrait,
    customer_id: i64,
    id: i64,
) -> AppResult<shop_order::Model> {
    shop_order::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|o| o.customer_id == customer_id)
        .ok_or_else(|| AppError::NotFound(format!("order {id} not found")))
}

pub async fn lines_of(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> AppResult<Vec<order_line::Model>> {
    Ok(order_line::Entity::find()
        .filter(order_line::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(order_line::Column::Id)
        .all(db)
        .await?)
}

/// Units of these SKUs that unpaid orders hold (taken from stock when the
/// orders were placed, given back should they be cancelled), by SKU.
pub async fn units_held(
    txn: &DatabaseTransaction,
    sku_ids: &[i64],
) -> AppResult<HashMap<i64, i64>> {
    if sku_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, Option<i64>)> = order_line::Entity::find()
        .select_only()
        .column(order_line::Column::SkuId)
        .column_as(
            Expr::col((order_line::Entity, order_line::Column::Quantity)).sum(),
            "held",
        )
        // From the unpaid orders (few; a partial index holds exactly them)
        // to their lines, not through every line ever sold of these SKUs.
        .filter(
            order_line::Column::OrderId.in_subquery(
                Query::select()
                    .column(shop_order::Column::Id)
                    .from(shop_order::Entity)
                    .and_where(shop_order::Column::Status.eq(Status::PendingPayment.as_str()))
                    .to_owned(),
            ),
        )
        .filter(order_line::Column::SkuId.is_in(sku_ids.iter().copied()))
        .group_by(order_line::Column::SkuId)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(sku, held)| (sku, held.unwrap_or(0)))
        .collect())
}

/// Moves an order from `from` to `to` if it is still in `from`; true when this call moved it.
async fn transition(
    txn: &DatabaseTransaction,
    id: i64,
    from: Status,
    to: Status,
    stamp: Option<(shop_order::Column, DateTime<Utc>)>,
) -> AppResult<bool> {
    state::check(from, to)?;
    let now = Utc::now();
    let mut q = shop_order::Entity::update_many()
        .col_expr(shop_order::Column::Status, Expr::value(to.as_str()))
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(now));
    if let Some((col, at)) = stamp {
        q = q.col_expr(col, Expr::value(at));
    }
    let res = q
        .filter(shop_order::Column::Id.eq(id))
        .filter(shop_order::Column::Status.eq(from.as_str()))
        .exec(txn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Lock order, everywhere money and stock move together: the wallet first,
/// then SKUs by id. Keeping to it means two transactions never deadlock.
async fn give_back_stock(txn: &DatabaseTransaction, order_id: i64) -> AppResult<Vec<i64>> {
    let lines = lines_of(txn, &[order_id]).await?;
    give_back_stock_of(txn, lines).await
}

async fn give_back_stock_of(
    txn: &DatabaseTransaction,
    mut lines: Vec<order_line::Model>,
) -> AppResult<Vec<i64>> {
    lines.sort_by_key(|l| l.sku_id);
    for l in &lines {
        sku::Entity::update_many()
            .col_expr(
                sku::Column::Stock,
                Expr::col(sku::Column::Stock).add(l.quantity),
            )
            .filter(sku::Column::Id.eq(l.sku_id))
            .exec(txn)
            .await?;
    }
    Ok(lines.iter().map(|l| l.product_id).collect())
}

/// Cancels an unpaid order and gives its stock back, exactly once: only the
/// call whose conditional update moved the order returns the stock.
pub async fn cancel(state: &AppState, order: &shop_order::Model) -> AppResult<bool> {
    let status = Status::parse(&order.status)?;
    state::check(status, Status::Cancelled)?;
    let txn = state.db.begin().await?;
    let moved = transition(
        &txn,
        order.id,
        Status::PendingPayment,
        Status::Cancelled,
        Some((shop_order::Column::CancelledAt, Utc::now())),
    )
    .await?;
    if !moved {
        return Ok(false);
    }
    return_balance(&txn, order).await?;
    coupons::give_back(&txn, order.id).await?;
    let products = give_back_stock(&txn, order.id).await?;
    txn.commit().await?;
    catalogue::invalidate_stock(state, &products).await;
    Ok(true)
}

/// The customer cancels its unpaid order.
pub async fn cancel_own(
    state: &AppState,
    customer_id: i64,
    id: i64,
) -> AppResult<shop_order::Model> {
    let order = own(state, customer_id, id).await?;
    if !cancel(state, &order).await? {
        let now = own(state, customer_id, id).await?;
        return Err(AppError::Conflict(format!(
            "the order is {} and can no longer be cancelled",
            now.status
        )));
    }
    // The payment sheet may still be open: close the WeChat Pay transaction
    // so it cannot be paid any more. (Time-outs need not: the prepay expires
    // with the order.) Should closing fail, a payment that still arrives is
    // recorded and refunded.
    if let (Some(pay), Some(_)) = (&state.pay, &order.prepay_id)
        && let Err(e) = pay.close_order(&state.http, &order.order_no).await
    {
        tracing::warn!(order_no = %order.order_no, error = %e, "closing the WeChat Pay transaction of a cancelled order");
    }
    own(state, customer_id, id).await
}

/// How a confirmed payment was used.
#[derive(Debug, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// The order is paid now.
    Applied,
    /// This transaction was seen before: nothing changed.
    Duplicate,
    /// The order could no longer take it (cancelled, or already paid): the
    /// payment is recorded and refunded.
    Refunded,
}

/// A payment the provider confirmed (a verified notification, or `demoPay`).
pub struct Confirmation {
    pub order_no: String,
    pub transaction_id: String,
    pub amount_fen: i64,
    /// `WECHAT` or `DEMO`.
    pub provider: &'static str,
}

/// The one path by which an order becomes paid. Checks the amount first
/// (a mismatch changes nothing), deduplicates by transaction id, and splits
/// the order into fulfillments. A payment for an order that can no longer
/// take it is recorded and refunded, never lost.
pub async fn confirm_payment(state: &AppState, c: Confirmation) -> AppResult<PaymentOutcome> {
    let txn = state.db.begin().await?;
    // The common case in one statement: the order is waiting for exactly
    // this amount. Anything else reads the order to say what it is.
    let paid = mark_paid(
        &txn,
        Condition::all()
            .add(shop_order::Column::OrderNo.eq(&c.order_no))
            .add(shop_order::Column::PayableFen.eq(c.amount_fen)),
        c.amount_fen,
    )
    .await?;
    let found = match paid {
        Some(order) => Ok(order),
        None => {
            let order = find_by_no(&txn, &c.order_no)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no order {}", c.order_no)))?;
            check_amount(&order, &c)?;
            Err(order)
        }
    };
    Ok(record_payment(state, txn, found, c).await?.0)
}

/// [`confirm_payment`] in the transaction that has just read the order (demo
/// pay reads it by id, for its owner); commits it. Returns the outcome and,
/// when applied, the order as it is now.
pub async fn confirm_payment_in(
    state: &AppState,
    txn: DatabaseTransaction,
    order: shop_order::Model,
    c: Confirmation,
) -> AppResult<(PaymentOutcome, Option<shop_order::Model>)> {
    if order.order_no != c.order_no {
        return Err(AppError::internal(anyhow::anyhow!(
            "confirmation for another order"
        )));
    }
    check_amount(&order, &c)?;
    let paid = mark_paid(
        &txn,
        Condition::all().add(shop_order::Column::Id.eq(order.id)),
        c.amount_fen,
    )
    .await?;
    record_payment(state, txn, paid.ok_or(order), c).await
}

fn check_amount(order: &shop_order::Model, c: &Confirmation) -> AppResult<()> {
    if c.amount_fen != order.payable_fen {
        tracing::warn!(order_no = %c.order_no, paid = c.amount_fen, expected = order.payable_fen, "payment amount mismatch");
        return Err(AppError::Conflict(
            "the paid amount does not match the order".into(),
        ));
    }
    Ok(())
}

/// Moves the order that `which` picks from PENDING_PAYMENT to PAID with the
/// amount, in one conditional statement; the order as paid, or `None` when
/// no such order was waiting for payment.
async fn mark_paid(
    txn: &DatabaseTransaction,
    which: Condition,
    amount_fen: i64,
) -> AppResult<Option<shop_order::Model>> {
    state::check(Status::PendingPayment, Status::Paid)?;
    let now = Utc::now();
    Ok(shop_order::Entity::update_many()
        .col_expr(
            shop_order::Column::Status,
            Expr::value(Status::Paid.as_str()),
        )
        .col_expr(shop_order::Column::PaidAt, Expr::value(now))
        .col_expr(shop_order::Column::PaidFen, Expr::value(amount_fen))
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(now))
        .filter(which)
        .filter(shop_order::Column::Status.eq(Status::PendingPayment.as_str()))
        .exec_with_returning(txn)
        .await?
        .pop())
}

/// Records a confirmed payment of `order` (`Ok`: just marked paid; `Err`: it
/// could not take the payment) and does what follows, then commits: a
/// repeated transaction changes nothing; a payment the order could not take
/// is refunded; a paid order is split into fulfillments, its commissions
/// accrued and its sales counted.
async fn record_payment(
    state: &AppState,
    txn: DatabaseTransaction,
    order: Result<shop_order::Model, shop_order::Model>,
    c: Confirmation,
) -> AppResult<(PaymentOutcome, Option<shop_order::Model>)> {
    let now = Utc::now();
    let applied = order.is_ok();
    let (Ok(o) | Err(o)) = &order;
    let inserted = payment::Entity::insert(payment::ActiveModel {
        order_id: Set(o.id),
        provider: Set(c.provider.to_string()),
        transaction_id: Set(c.transaction_id.clone()),
        amount_fen: Set(c.amount_fen),
        outcome: Set(if applied { "APPLIED" } else { "REFUND_DUE" }.to_string()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok((PaymentOutcome::Duplicate, None));
        }
        Err(e) => return Err(e.into()),
    }
    let order = match order {
        Ok(paid) => paid,
        Err(order) => return refund_late(state, txn, order, c).await,
    };
    // Before the sales counters: those rows are hot in a flash sale and are
    // locked last.
    if order.kind == KIND_GOODS || state.settings.commission_on_plans {
        crate::modules::referral::service::accrue(state, &txn, &order).await?;
    }
    let mut webhooks = false;
    let products = match order.kind.as_str() {
        KIND_GOODS => {
            let (products, hooks) = after_goods_paid(&txn, &order, now).await?;
            webhooks = hooks;
            products
        }
        KIND_MEMBERSHIP => {
            let plan = order.plan_id.ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("membership order without plan"))
            })?;
            membership::grant(&txn, order.customer_id, plan, now).await?;
            Vec::new()
        }
        KIND_TOP_UP => {
            let plan_id = order
                .plan_id
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("top-up order without plan")))?;
            let plan = membership::top_up_plan(&txn, plan_id).await?;
            ledger::apply(
                &txn,
                order.customer_id,
                Movement::new(LedgerKind::TopUp, order.total_fen, 0).for_order(order.id),
            )
            .await?;
            if plan.bonus_fen > 0 {
                ledger::apply(
                    &txn,
                    order.customer_id,
                    Movement::new(LedgerKind::Bonus, 0, plan.bonus_fen).for_order(order.id),
                )
                .await?;
            }
            coupons::gift(
                &txn,
                order.customer_id,
                &membership::gift_templates(&plan),
                now,
            )
            .await?;
            Vec::new()
        }
        other => {
            return Err(AppError::internal(anyhow::anyhow!(
                "unknown order kind {other}"
            )));
        }
    };
    txn.commit().await?;
    catalogue::invalidate_sales(state, &products).await;
    if webhooks {
        kick_webhooks(state);
    }
    Ok((PaymentOutcome::Applied, Some(order)))
}

/// Suppliers hear of what was just queued for them now, not at the jobs
/// loop's next tick.
fn kick_webhooks(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::modules::supplier::webhook::deliver_due(&state, Utc::now()).await {
            tracing::warn!(error = ?e, "delivering supplier webhooks");
        }
    });
}

/// A refunded order's parts that had not shipped are called off: each
/// becomes CANCELLED (its supplier is told by webhook) and the stock of its
/// lines comes back; what has shipped is gone. Returns the products whose
/// stock changed and whether a webhook was queued.
async fn call_off_unshipped(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
) -> AppResult<(Vec<i64>, bool)> {
    use super::fulfillment::{CANCELLED, PENDING};
    let called_off = fulfillment::Entity::update_many()
        .col_expr(fulfillment::Column::Status, Expr::value(CANCELLED))
        .filter(fulfillment::Column::OrderId.eq(order.id))
        .filter(fulfillment::Column::Status.eq(PENDING))
        .exec_with_returning(txn)
        .await?;
    let ids: HashSet<i64> = called_off.iter().map(|f| f.id).collect();
    let mut lines = lines_of(txn, &[order.id]).await?;
    lines.retain(|l| l.fulfillment_id.is_none_or(|f| ids.contains(&f)));
    let products = give_back_stock_of(txn, lines).await?;
    let mut hooks = false;
    for f in &called_off {
        let Some(sid) = f.supplier_id else { continue };
        let payload = serde_json::json!({
            "event": "fulfillment.cancelled",
            "fulfillment": { "id": f.id.to_string(), "orderNo": order.order_no },
        });
        hooks |= crate::modules::supplier::webhook::enqueue(
            txn,
            sid,
            f.id,
            "fulfillment.cancelled",
            &payload,
        )
        .await?;
    }
    Ok((products, hooks))
}

/// Locks a PAID order's row for the rest of the transaction (a no-op
/// update); false when the order is not PAID.
pub async fn hold_paid(txn: &DatabaseTransaction, order_id: i64) -> AppResult<bool> {
    let res = shop_order::Entity::update_many()
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shop_order::Column::Id.eq(order_id))
        .filter(shop_order::Column::Status.eq(Status::Paid.as_str()))
        .exec(txn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// A payment recorded for an order that could no longer take it (closed,
/// or paid already): refunded in full. Nothing to undo on the order, so the
/// refund is approved from the start.
async fn refund_late(
    state: &AppState,
    txn: DatabaseTransaction,
    order: shop_order::Model,
    c: Confirmation,
) -> AppResult<(PaymentOutcome, Option<shop_order::Model>)> {
    let refund = insert_refund(
        &txn,
        &order,
        (c.amount_fen, 0),
        "payment arrived after the order closed",
        super::payment::REFUND_APPROVED,
    )
    .await?;
    txn.commit().await?;
    tracing::warn!(order_no = %order.order_no, transaction = %c.transaction_id, "late payment recorded; refunding");
    if let Err(e) = super::payment::send_refund(state, refund.id, c.provider).await {
        tracing::warn!(refund_id = refund.id, error = ?e, "late payment refund failed; the jobs loop retries it");
    }
    Ok((PaymentOutcome::Refunded, None))
}

/// Splits a paid order into one fulfillment per supplier (self-operated lines
/// form one without supplier) and counts the sales. Returns the products sold
/// and whether a supplier webhook was queued.
///
/// The split is two statements whatever the number of suppliers: one insert
/// of a fulfillment per supplier group, one update that files every line
/// under its group's fulfillment and returns the lines.
async fn after_goods_paid(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
    now: DateTime<Utc>,
) -> AppResult<(Vec<i64>, bool)> {
    use fulfillment::Column as F;
    use order_line::Column as L;
    let backend = txn.get_database_backend();
    let groups = Query::select()
        .column(L::OrderId)
        .column(L::SupplierId)
        .expr(Expr::val(super::fulfillment::PENDING))
        .expr(
            Expr::col(L::CostFen)
                .if_null(0)
                .mul(Expr::col(L::Quantity))
                .sum(),
        )
        .expr(Expr::val(now))
        .from(order_line::Entity)
        .and_where(L::OrderId.eq(order.id))
        .group_by_col(L::OrderId)
        .group_by_col(L::SupplierId)
        .to_owned();
    let insert = Query::insert()
        .into_table(fulfillment::Entity)
        .columns([
            F::OrderId,
            F::SupplierId,
            F::Status,
            F::CostFen,
            F::CreatedAt,
        ])
        .select_from(groups)
        .map_err(AppError::internal)?
        .returning_all()
        .to_owned();
    let fulfillments = fulfillment::Entity::find()
        .from_raw_sql(backend.build(&insert))
        .all(txn)
        .await?;
    // A line's fulfillment is its order's one for the line's supplier; 0
    // stands for "none" (self-operated) on both sides, as ids start at 1.
    let f = Alias::new("f");
    let of_group = Query::select()
        .column((f.clone(), F::Id))
        .from_as(fulfillment::Entity, f.clone())
        .and_where(Expr::col((f.clone(), F::OrderId)).equals((order_line::Entity, L::OrderId)))
        .and_where(
            Expr::col((f.clone(), F::SupplierId))
                .if_null(0)
                .eq(Expr::col((order_line::Entity, L::SupplierId)).if_null(0)),
        )
        .to_owned();
    let mut lines = order_line::Entity::update_many()
        .col_expr(
            L::FulfillmentId,
            Expr::SubQuery(None, Box::new(of_group.into_sub_query_statement())),
        )
        .filter(L::OrderId.eq(order.id))
        .exec_with_returning(txn)
        .await?;
    lines.sort_by_key(|l| l.id);
    crate::modules::operations::service::record_purchase(txn, order, &lines, now).await?;
    let mut hooks = false;
    for f in &fulfillments {
        let Some(sid) = f.supplier_id else { continue };
        let group: Vec<&order_line::Model> = lines
            .iter()
            .filter(|l| l.fulfillment_id == Some(f.id))
            .collect();
        let payload = fulfillment_event(txn, order, f, &group).await?;
        hooks |= crate::modules::supplier::webhook::enqueue(
            txn,
            sid,
            f.id,
            "fulfillment.created",
            &payload,
        )
        .await?;
    }
    let day = now.format("%Y-%m-%d").to_string();
    let mut units: BTreeMap<i64, i64> = BTreeMap::new();
    for l in &lines {
        *units.entry(l.product_id).or_default() += i64::from(l.quantity);
    }
    // One product at a time, in id order: concurrent payments lock the
    // (hot) product rows in the same order and never deadlock.
    for (product_id, n) in &units {
        catalogue::count_sale(txn, *product_id, &day, *n).await?;
    }
    Ok((units.into_keys().collect(), hooks))
}

/// What a supplier's webhook receives for a new fulfillment: its lines by the
/// supplier's own SKU codes, and where to ship. Nothing about other suppliers.
async fn fulfillment_event(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
    f: &fulfillment::Model,
    lines: &[&order_line::Model],
) -> AppResult<serde_json::Value> {
    let sku_ids: Vec<i64> = lines.iter().map(|l| l.sku_id).collect();
    let codes: HashMap<i64, String> = entity::supplier_sku_link::Entity::find()
        .filter(entity::supplier_sku_link::Column::SkuId.is_in(sku_ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|l| (l.sku_id, l.supplier_sku_code))
        .collect();
    let address: serde_json::Value = order
        .address
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or(serde_json::Value::Null);
    Ok(serde_json::json!({
        "event": "fulfillment.created",
        "fulfillment": {
            "id": f.id.to_string(),
            "orderNo": order.order_no,
            "createdAt": f.created_at.to_rfc3339(),
            "costFen": f.cost_fen,
            "lines": lines.iter().map(|l| serde_json::json!({
                "supplierSkuCode": codes.get(&l.sku_id),
                "title": l.title,
                "specs": serde_json::from_str::<serde_json::Value>(&l.specs).unwrap_or_default(),
                "quantity": l.quantity,
            })).collect::<Vec<_>>(),
            "shippingAddress": address,
            "remark": order.remark,
        }
    }))
}

async fn insert_refund(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
    (wechat_fen, balance_fen): (i64, i64),
    reason: &str,
    status: &str,
) -> AppResult<refund::Model> {
    let now = Utc::now();
    let r = refund::ActiveModel {
        order_id: Set(order.id),
        status: Set(status.into()),
        amount_fen: Set(wechat_fen + balance_fen),
        wechat_fen: Set(wechat_fen),
        balance_fen: Set(balance_fen),
        reason: Set(reason.chars().take(200).collect()),
        out_refund_no: Set(format!("tmp-{}", uuid::Uuid::new_v4().simple())),
        wechat_refund_id: Set(None),
        approved_at: Set((status == super::payment::REFUND_APPROVED).then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut a: refund::ActiveModel = r.into();
    a.out_refund_no = Set(format!("R{}-{}", order.order_no, a.id.clone().unwrap()));
    Ok(a.update(txn).await?)
}

/// The customer asks for its paid (or shipped) order to be refunded in full.
pub async fn request_refund(
    state: &AppState,
    customer_id: i64,
    order_id: i64,
    reason: &str,
) -> AppResult<refund::Model> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(AppError::bad_input("reason", "must be 1-200 characters"));
    }
    let order = own(state, customer_id, order_id).await?;
    if order.kind == KIND_TOP_UP {
        // The money is in the wallet and may be spent: the store settles
        // such requests by hand (adjustWallet), never automatically.
        return Err(AppError::Conflict(
            "top-ups cannot be refunded here; ask the store".into(),
        ));
    }
    let from = Status::parse(&order.status)?;
    state::check(from, Status::Refunding)?;
    let txn = state.db.begin().await?;
    if !transition(&txn, order.id, from, Status::Refunding, None).await? {
        return Err(AppError::Conflict(
            "the order changed meanwhile; look at it again".into(),
        ));
    }
    let r = insert_refund(
        &txn,
        &order,
        (order.paid_fen, order.balance_fen),
        reason,
        super::payment::REFUND_PENDING,
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}

/// ADMIN approves a refund: the money goes back, the order becomes REFUNDED,
/// and stock comes back when nothing had shipped.
pub async fn approve_refund(state: &AppState, refund_id: i64) -> AppResult<refund::Model> {
    let r = refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("refund {refund_id} not found")))?;
    let order = find(state, r.order_id)
        .await?
        .ok_or_else(|| AppError::NotFound("order not found".into()))?;
    // Everything in the database first, in one transaction; the money last
    // (retried until it goes through), so no approval is ever half done.
    let txn = state.db.begin().await?;
    let claimed = refund::Entity::update_many()
        .col_expr(
            refund::Column::Status,
            Expr::value(super::payment::REFUND_APPROVED),
        )
        .col_expr(refund::Column::ApprovedAt, Expr::value(Utc::now()))
        .col_expr(refund::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(refund::Column::Id.eq(refund_id))
        .filter(refund::Column::Status.eq(super::payment::REFUND_PENDING))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "the refund is {}; only a PENDING refund can be approved",
            r.status
        )));
    }
    let moved = transition(&txn, order.id, Status::Refunding, Status::Refunded, None).await?;
    let mut products = Vec::new();
    let mut webhooks = false;
    if moved {
        return_balance(&txn, &order).await?;
        if order.kind == KIND_GOODS {
            (products, webhooks) = call_off_unshipped(&txn, &order).await?;
            let lines = lines_of(&txn, &[order.id]).await?;
            crate::modules::operations::service::record_refund(&txn, &order, &lines).await?;
        }
        crate::modules::referral::service::reverse(&txn, &order, r.amount_fen, order.total_fen)
            .await?;
        if let (KIND_MEMBERSHIP, Some(plan)) = (order.kind.as_str(), order.plan_id) {
            membership::revoke(&txn, order.customer_id, plan, Utc::now()).await?;
        }
    }
    txn.commit().await?;
    catalogue::invalidate_stock(state, &products).await;
    if webhooks {
        kick_webhooks(state);
    }
    let provider = super::payment::provider_of(state, r.order_id).await?;
    if let Err(e) = super::payment::send_refund(state, r.id, provider).await {
        tracing::warn!(refund_id, error = ?e, "refund approved; sending the money failed and will be retried");
    }
    Ok(refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .unwrap_or(r))
}

/// ADMIN refuses a refund: the order goes back to where it was (PAID,
/// SHIPPED or COMPLETED) and nothing moves.
pub async fn reject_refund(
    state: &AppState,
    refund_id: i64,
    note: Option<String>,
) -> AppResult<refund::Model> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(AppError::bad_input(
            "note",
            "must be at most 200 characters",
        ));
    }
    let r = refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("refund {refund_id} not found")))?;
    let order = find(state, r.order_id)
        .await?
        .ok_or_else(|| AppError::NotFound("order not found".into()))?;
    let back_to = match (order.completed_at, order.shipped_at) {
        (Some(_), _) => Status::Completed,
        (None, Some(_)) => Status::Shipped,
        _ => Status::Paid,
    };
    let txn = state.db.begin().await?;
    let mut claim = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value("REJECTED"))
        .col_expr(refund::Column::UpdatedAt, Expr::value(Utc::now()));
    if let Some(n) = &note {
        claim = claim.col_expr(
            refund::Column::Reason,
            Expr::value(format!("{} | rejected: {n}", r.reason)),
        );
    }
    let claimed = claim
        .filter(refund::Column::Id.eq(refund_id))
        .filter(refund::Column::Status.eq(super::payment::REFUND_PENDING))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "the refund is {}; only a PENDING refund can be rejected",
            r.status
        )));
    }
    transition(&txn, order.id, Status::Refunding, back_to, None).await?;
    txn.commit().await?;
    Ok(refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .unwrap_or(r))
}

pub async fn refund_by_id(state: &AppState, id: i64) -> AppResult<Option<refund::Model>> {
    Ok(refund::Entity::find_by_id(id).one(&state.db).await?)
}

/// The customer confirms delivery: SHIPPED → COMPLETED.
pub async fn confirm_receipt(
    state: &AppState,
    customer_id: i64,
    id: i64,
) -> AppResult<shop_order::Model> {
    let order = own(state, customer_id, id).await?;
    state::check(Status::parse(&order.status)?, Status::Completed)?;
    let txn = state.db.begin().await?;
    let moved = transition(
        &txn,
        id,
        Status::Shipped,
        Status::Completed,
        Some((shop_order::Column::CompletedAt, Utc::now())),
    )
    .await?;
    txn.commit().await?;
    if !moved {
        return Err(AppError::Conflict(
            "the order changed meanwhile; look at it again".into(),
        ));
    }
    own(state, customer_id, id).await
}

/// Marks the order SHIPPED once all its fulfillments have shipped.
pub async fn ship_if_complete(txn: &DatabaseTransaction, order_id: i64) -> AppResult<()> {
    let pending = fulfillment::Entity::find()
        .filter(fulfillment::Column::OrderId.eq(order_id))
        .filter(fulfillment::Column::Status.eq(super::fulfillment::PENDING))
        .one(txn)
        .await?;
    if pending.is_none() {
        transition(
            txn,
            order_id,
            Status::Paid,
            Status::Shipped,
            Some((shop_order::Column::ShippedAt, Utc::now())),
        )
        .await?;
    }
    Ok(())
}

/// Filters of an order list.
#[derive(Default, Clone, Debug)]
pub struct OrderFilter {
    pub customer_id: Option<i64>,
    pub status: Option<Status>,
    pub supplier_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Orders newest first, a page after `after_id` (keyset on id).
pub async fn list(
    state: &AppState,
    filter: &OrderFilter,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<shop_order::Model>, bool)> {
    let mut cond = Condition::all();
    if let Some(c) = filter.customer_id {
        cond = cond.add(shop_order::Column::CustomerId.eq(c));
    }
    if let Some(s) = filter.status {
        cond = cond.add(shop_order::Column::Status.eq(s.as_str()));
    }
    if let Some(from) = filter.from {
        cond = cond.add(shop_order::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        cond = cond.add(shop_order::Column::CreatedAt.lt(to));
    }
    if let Some(s) = filter.supplier_id {
        cond = cond.add(
            shop_order::Column::Id.in_subquery(
                Query::select()
                    .column(fulfillment::Column::OrderId)
                    .from(fulfillment::Entity)
                    .and_where(fulfillment::Column::SupplierId.eq(s))
                    .to_owned(),
            ),
        );
    }
    let q = shop_order::Entity::find().filter(cond);
    Ok(crate::db::page_desc(&state.db, q, shop_order::Column::Id, first, after_id).await?)
}

/// Background job: cancels every order unpaid past its deadline and returns
/// its stock. Safe from several instances at once (conditional updates).
pub async fn expire_unpaid(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    const PAGE: u64 = 500;
    let mut cancelled = 0;
    // Everything due, a page at a time (after a flash sale thousands of
    // orders may be abandoned at once); a page in which nothing could be
    // cancelled ends the run, and the next tick tries again.
    loop {
        let due = shop_order::Entity::find()
            .filter(shop_order::Column::Status.eq(Status::PendingPayment.as_str()))
            .filter(shop_order::Column::ExpiresAt.lte(now))
            .order_by_asc(shop_order::Column::ExpiresAt)
            .limit(PAGE)
            .all(&state.db)
            .await?;
        let full_page = due.len() as u64 == PAGE;
        let mut moved = 0;
        for order in due {
            // One order failing (a lock conflict, say) must not hold up the rest.
            match cancel(state, &order).await {
                Ok(true) => moved += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(order_id = order.id, error = ?e, "could not time out an order; next tick retries")
                }
            }
        }
        cancelled += moved;
        if !full_page || moved == 0 {
            return Ok(cancelled);
        }
    }
}

/// Background job: completes orders shipped `AUTO_COMPLETE_DAYS` ago. One
/// conditional statement: safe from several instances at once.
pub async fn auto_complete(state: &AppState, now: DateTime<Utc>) -> AppResult<u64> {
    state::check(Status::Shipped, Status::Completed)?;
    let cutoff = now - chrono::Duration::days(i64::from(state.settings.auto_complete_days));
    let res = shop_order::Entity::update_many()
        .col_expr(
            shop_order::Column::Status,
            Expr::value(Status::Completed.as_str()),
        )
        .col_expr(shop_order::Column::CompletedAt, Expr::value(now))
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(now))
        .filter(shop_order::Column::Status.eq(Status::Shipped.as_str()))
        .filter(shop_order::Column::ShippedAt.lte(cutoff))
        .exec(&state.db)
        .await?;
    Ok(res.rows_affected)
}

/// Stores the prepay id of the WeChat Pay transaction opened for an order.
pub async fn set_prepay_id(state: &AppState, order_id: i64, prepay_id: &str) -> AppResult<()> {
    shop_order::Entity::update_many()
        .col_expr(shop_order::Column::PrepayId, Expr::value(prepay_id))
        .filter(shop_order::Column::Id.eq(order_id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// The store's sales over a period, for `storeMetrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sales {
    /// Goods orders paid in the period (whatever happened to them later).
    pub gmv_fen: i64,
    pub paid_orders: i64,
    /// Customers who paid for goods in the period.
    pub buyers: i64,
    /// Of those, the ones who paid for two or more orders in the period.
    pub repeat_buyers: i64,
    /// Of those buyers, how many had reached their 2nd, 3rd and 5th paid
    /// (and not refunded) goods order by the end of the period.
    pub reached: [i64; 3],
    /// Memberships sold in the period (not refunded).
    pub membership_revenue_fen: i64,
    /// Refunds of goods orders approved in the period.
    pub refunded_fen: i64,
}

/// Orders that count as purchases: paid, not refunded.
const COUNTED: [Status; 4] = [
    Status::Paid,
    Status::Shipped,
    Status::Completed,
    Status::Refunding,
];

pub async fn sales(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Sales> {
    use shop_order::Column as O;
    let in_period = || {
        Condition::all()
            .add(O::PaidAt.gte(from))
            .add(O::PaidAt.lt(to))
    };
    let per_buyer: Vec<(i64, i64, Option<i64>)> = shop_order::Entity::find()
        .select_only()
        .column(O::CustomerId)
        .column_as(Expr::col(O::Id).count(), "n")
        .column_as(crate::db::sum_bigint(O::TotalFen), "total")
        .filter(O::Kind.eq(KIND_GOODS))
        .filter(in_period())
        .group_by(O::CustomerId)
        .into_tuple()
        .all(db)
        .await?;
    let mut s = Sales {
        buyers: per_buyer.len() as i64,
        ..Default::default()
    };
    for (_, n, total) in &per_buyer {
        s.paid_orders += n;
        s.gmv_fen += total.unwrap_or(0);
        s.repeat_buyers += i64::from(*n >= 2);
    }
    let counted: Vec<&str> = COUNTED.iter().map(|st| st.as_str()).collect();
    let buyers: Vec<i64> = per_buyer.iter().map(|(c, _, _)| *c).collect();
    for chunk in buyers.chunks(1000) {
        let lifetime: Vec<(i64, i64)> = shop_order::Entity::find()
            .select_only()
            .column(O::CustomerId)
            .column_as(Expr::col(O::Id).count(), "n")
            .filter(O::Kind.eq(KIND_GOODS))
            .filter(O::Status.is_in(counted.clone()))
            .filter(O::PaidAt.lt(to))
            .filter(O::CustomerId.is_in(chunk.iter().copied()))
            .group_by(O::CustomerId)
            .into_tuple()
            .all(db)
            .await?;
        for (_, n) in lifetime {
            for (i, k) in [2, 3, 5].into_iter().enumerate() {
                s.reached[i] += i64::from(n >= k);
            }
        }
    }
    let membership: Option<Option<i64>> = shop_order::Entity::find()
        .select_only()
        .column_as(crate::db::sum_bigint(O::TotalFen), "s")
        .filter(O::Kind.eq(KIND_MEMBERSHIP))
        .filter(O::Status.is_in(counted))
        .filter(in_period())
        .into_tuple()
        .one(db)
        .await?;
    s.membership_revenue_fen = membership.flatten().unwrap_or(0);
    // Refunds of goods orders approved in the period; a late payment's
    // refund was never a sale (its order is not REFUNDED).
    let refunded: Option<Option<i64>> = refund::Entity::find()
        .select_only()
        .column_as(crate::db::sum_bigint(refund::Column::AmountFen), "s")
        .filter(refund::Column::ApprovedAt.gte(from))
        .filter(refund::Column::ApprovedAt.lt(to))
        .filter(
            refund::Column::OrderId.in_subquery(
                Query::select()
                    .column(O::Id)
                    .from(shop_order::Entity)
                    .and_where(O::Kind.eq(KIND_GOODS))
                    .and_where(O::Status.eq(Status::Refunded.as_str()))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .one(db)
        .await?;
    s.refunded_fen = refunded.flatten().unwrap_or(0);
    Ok(s)
}
