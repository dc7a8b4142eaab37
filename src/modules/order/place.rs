//! Placing orders: checking the request, pricing it (the same pipeline as
//! `previewOrder`), writing the order with its lines, taking stock, coupon
//! and balance in one transaction, and the idempotency key that makes a
//! retried `placeOrder` return the same order. Plan orders (membership,
//! top-up) are placed here too, with their plan's terms.
//!
//! Lock order, here and in `batch`: the wallet, the order's key, its
//! coupon, the SKUs by id, the cart; keeping to it means concurrent orders
//! never deadlock.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use entity::{order_line, product, shop_order, sku};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, SqlErr, TransactionTrait,
};
use serde::Serialize;

use super::{
    address::{self, AddressData},
    state::Status,
};
use crate::{
    crypto::sha256_hex,
    error::{AppError, AppResult},
    modules::pricing::{self, Breakdown, LineInput, PricingInput, Shipping},
    modules::{
        catalogue::{
            service::{self as catalogue, ON_SHELF},
            stock,
        },
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
pub(super) const MAX_LINES: usize = 50;

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

pub(super) async fn load_lines(
    db: &impl ConnectionTrait,
    req: &OrderRequest,
) -> AppResult<Vec<PricedLine>> {
    lines_of_request(&read_skus(db, [req]).await?, req)
}

pub(super) fn shipping(state: &AppState) -> Shipping {
    Shipping {
        flat_fee_fen: state.settings.shipping_fee_fen,
        free_from_fen: state.settings.free_shipping_from_fen,
    }
}

/// The pricing pipeline's inputs for this customer now: its membership's
/// terms, the promotions running and the coupon it chose (`COUPON_INVALID`
/// when it cannot use it). The balance is set by the caller (read, or
/// locked inside the placing transaction).
pub(super) async fn pricing_input(
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
pub(super) fn check_coupon_reached(input: &PricingInput, b: &Breakdown) -> AppResult<()> {
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
        shipping_plan: None,
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
    let ship_to =
        super::shipping_plan::preview_address(&state.db, customer_id, req.address_id).await?;
    if let Some(short) = lines.iter().find(|l| l.sku.stock < l.quantity) {
        return Err(out_of_stock(short));
    }
    let mut input = pricing_input(&state.db, state, customer_id, &lines, req.coupon_id).await?;
    super::shipping_plan::plan_for(&state.db, &mut input, &lines, None, ship_to.as_ref()).await?;
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

pub(super) fn request_hash(req: &impl Serialize) -> String {
    sha256_hex(&serde_json::to_string(req).unwrap_or_default())
}

pub(super) fn check_key(key: &str) -> AppResult<()> {
    if key.trim().is_empty() || key.len() > 64 {
        return Err(AppError::bad_input(
            "idempotencyKey",
            "must be 1-64 characters",
        ));
    }
    Ok(())
}

pub(super) async fn find_by_key(
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
    /// A plan order's terms as sold now (JSON), kept on the order.
    pub(super) plan_terms: Option<String>,
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
        plan_terms: Set(d.plan_terms.clone()),
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
                supplier_sku_code: Set(link.map(|k| k.supplier_sku_code.clone())),
                fulfillment_id: Set(None),
                ..Default::default()
            }
        })
        .collect()
}

/// `OUT_OF_STOCK`, naming the SKU.
pub(super) fn out_of_stock(l: &PricedLine) -> AppError {
    AppError::OutOfStock {
        sku_id: l.sku.id,
        message: format!(
            "{} ({}) has fewer than {} left",
            l.product.title,
            spec_text(&l.sku.specs),
            l.quantity
        ),
    }
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
    super::limits::count_placement(state, customer_id).await?;
    if let Err(refused) = super::limits::check_unpaid(state, customer_id, &req.items).await {
        return or_replay(state, customer_id, key, &hash, refused).await;
    }
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
        let address = AddressData::from(&address);
        let mut input = pricing_input(&txn, state, customer_id, &lines, req.coupon_id).await?;
        super::shipping_plan::plan_for(&txn, &mut input, &lines, Some(&links), Some(&address))
            .await?;
        let draft = Draft {
            kind: KIND_GOODS,
            plan_id: None,
            lines: &lines,
            input,
            use_balance: req.use_balance,
            address: Some(address),
            remark: remark_of(req),
            links: &links,
            coupon_id: req.coupon_id,
            plan_terms: None,
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
    stock::invalidate(state, &products).await;
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
    super::limits::count_placement(state, customer_id).await?;
    let no_links = Links::new();
    let attempt = async {
        super::limits::check_unpaid(state, customer_id, &[]).await?;
        let txn = state.db.begin().await?;
        // The terms are snapshotted with the order: payment credits and
        // grants what was sold now, whatever an admin changes meanwhile.
        let (kind_str, price, terms) = match kind {
            PlanKind::Membership => {
                let p = membership::active_plan(&txn, plan_id).await?;
                let terms = serde_json::to_string(&membership::MembershipTerms::of(&p));
                (KIND_MEMBERSHIP, p.price_fen, terms)
            }
            PlanKind::TopUp => {
                let p = membership::top_up_plan(&txn, plan_id).await?;
                if !p.active {
                    return Err(AppError::bad_input(
                        "planId",
                        "this top-up plan is no longer sold",
                    ));
                }
                let terms = serde_json::to_string(&membership::TopUpTerms::of(&p));
                (KIND_TOP_UP, p.pay_fen, terms)
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
            plan_terms: Some(terms.map_err(AppError::internal)?),
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
pub(super) async fn write_order(
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
        if !stock::take(&txn, l.sku.id, l.quantity).await? {
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

/// An order's number: the UTC date it was placed and its id, zero-padded to
/// ten digits (`20261122` + `0000000123`); unique, sortable, and readable
/// over the phone. The database writes the same into `order_no` on insert.
pub fn order_number(id: i64, created_at: DateTime<Utc>) -> String {
    format!("{}{:010}", created_at.format("%Y%m%d"), id)
}

pub(super) fn spec_text(json: &str) -> String {
    serde_json::from_str::<Vec<catalogue::Spec>>(json)
        .unwrap_or_default()
        .iter()
        .map(|s| format!("{}: {}", s.name, s.value))
        .collect::<Vec<_>>()
        .join(", ")
}
