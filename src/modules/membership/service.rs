//! Plans, memberships, and what a membership means for prices.
use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use entity::{membership, membership_grant, membership_plan, top_up_plan};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::{AppError, AppResult},
    modules::pricing,
    state::AppState,
};

/// A membership plan as an admin describes it; `None` leaves a field as it is.
#[derive(Default, Clone, Debug)]
pub struct PlanDraft {
    pub name: Option<String>,
    pub price_fen: Option<i64>,
    pub duration_days: Option<i32>,
    pub discount_percent: Option<i32>,
    pub free_shipping: Option<bool>,
    pub active: Option<bool>,
}

fn check_name(name: &str) -> AppResult<String> {
    crate::validate::text(name, "name", 32)
}

use crate::validate::fen as check_fen;

fn apply_plan(a: &mut membership_plan::ActiveModel, d: &PlanDraft) -> AppResult<()> {
    if let Some(n) = &d.name {
        a.name = Set(check_name(n)?);
    }
    if let Some(p) = d.price_fen {
        a.price_fen = Set(check_fen(p, "priceFen", 1)?);
    }
    if let Some(days) = d.duration_days {
        if !(1..=3660).contains(&days) {
            return Err(AppError::bad_input(
                "durationDays",
                "must be between 1 and 3660",
            ));
        }
        a.duration_days = Set(days);
    }
    if let Some(pct) = d.discount_percent {
        if !(1..=100).contains(&pct) {
            return Err(AppError::bad_input(
                "discountPercent",
                "must be between 1 and 100 (90 = pay 90%)",
            ));
        }
        a.discount_percent = Set(pct);
    }
    if let Some(f) = d.free_shipping {
        a.free_shipping = Set(f);
    }
    if let Some(act) = d.active {
        a.active = Set(act);
    }
    Ok(())
}

pub async fn create_plan(state: &AppState, d: PlanDraft) -> AppResult<membership_plan::Model> {
    let mut a = membership_plan::ActiveModel {
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    apply_plan(&mut a, &d)?;
    Ok(a.insert(&state.db).await?)
}

pub async fn update_plan(
    state: &AppState,
    id: i64,
    d: PlanDraft,
) -> AppResult<membership_plan::Model> {
    let found = plan(&state.db, id).await?;
    let mut a: membership_plan::ActiveModel = found.into();
    apply_plan(&mut a, &d)?;
    Ok(a.update(&state.db).await?)
}

pub async fn plan(db: &impl ConnectionTrait, id: i64) -> AppResult<membership_plan::Model> {
    membership_plan::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("membership plan {id} not found")))
}

/// A plan that is still sold.
pub async fn active_plan(db: &impl ConnectionTrait, id: i64) -> AppResult<membership_plan::Model> {
    let p = plan(db, id).await?;
    if !p.active {
        return Err(AppError::bad_input("planId", "this plan is no longer sold"));
    }
    Ok(p)
}

/// Plans on sale (with `include_retired`, retired ones too), cheapest first.
pub async fn plans(
    state: &AppState,
    include_retired: bool,
) -> AppResult<Vec<membership_plan::Model>> {
    let mut q = membership_plan::Entity::find();
    if !include_retired {
        q = q.filter(membership_plan::Column::Active.eq(true));
    }
    Ok(q.order_by_asc(membership_plan::Column::PriceFen)
        .order_by_asc(membership_plan::Column::Id)
        .all(&state.db)
        .await?)
}

/// What a membership order buys, as sold when it was placed: the order
/// keeps this and the payment grants from it, so an admin's edit of the
/// plan in between changes nothing for that order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipTerms {
    pub plan_id: i64,
    pub price_fen: i64,
    pub days: i32,
    pub discount_percent: i32,
    pub free_shipping: bool,
}

impl MembershipTerms {
    pub fn of(p: &membership_plan::Model) -> Self {
        MembershipTerms {
            plan_id: p.id,
            price_fen: p.price_fen,
            days: p.duration_days,
            discount_percent: p.discount_percent,
            free_shipping: p.free_shipping,
        }
    }
}

/// What a top-up order buys, as sold when it was placed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopUpTerms {
    pub plan_id: i64,
    pub pay_fen: i64,
    pub bonus_fen: i64,
    pub gift_coupon_template_ids: Vec<i64>,
}

impl TopUpTerms {
    pub fn of(p: &top_up_plan::Model) -> Self {
        TopUpTerms {
            plan_id: p.id,
            pay_fen: p.pay_fen,
            bonus_fen: p.bonus_fen,
            gift_coupon_template_ids: gift_templates(p),
        }
    }
}

/// The customer's membership and its plan, active or not. The plan shows
/// the terms of the purchase in force (or of the last one), as bought: an
/// admin's later edit of the plan does not change what was paid for.
pub async fn membership_of(
    db: &impl ConnectionTrait,
    customer_id: i64,
) -> AppResult<Option<(membership::Model, membership_plan::Model)>> {
    let Some(m) = membership::Entity::find_by_id(customer_id).one(db).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    let shown = membership_grant::Entity::find()
        .filter(membership_grant::Column::CustomerId.eq(customer_id))
        .filter(membership_grant::Column::RevokedAt.is_null())
        .filter(membership_grant::Column::StartsAt.lte(now))
        .order_by_desc(membership_grant::Column::StartsAt)
        .order_by_desc(membership_grant::Column::Id)
        .one(db)
        .await?;
    let plan_id = shown.as_ref().map_or(m.plan_id, |g| g.plan_id);
    let mut p = plan(db, plan_id).await?;
    if let Some(g) = shown {
        p.duration_days = g.days;
        p.discount_percent = g.discount_percent;
        p.free_shipping = g.free_shipping;
    }
    Ok(Some((m, p)))
}

/// The pricing terms of an active membership at `now`.
pub async fn terms(
    db: &impl ConnectionTrait,
    customer_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<pricing::Membership>> {
    Ok(terms_of(db, &[customer_id], now)
        .await?
        .remove(&customer_id))
}

/// [`terms`] of several customers at once, in one statement: the grant in
/// force at `now` of each (a customer's live grants never overlap).
pub async fn terms_of(
    db: &impl ConnectionTrait,
    customer_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<HashMap<i64, pricing::Membership>> {
    let in_force = membership_grant::Entity::find()
        .filter(membership_grant::Column::CustomerId.is_in(customer_ids.iter().copied()))
        .filter(membership_grant::Column::RevokedAt.is_null())
        .filter(membership_grant::Column::StartsAt.lte(now))
        .filter(membership_grant::Column::EndsAt.gt(now))
        .all(db)
        .await?;
    Ok(in_force
        .into_iter()
        .map(|g| {
            (
                g.customer_id,
                pricing::Membership {
                    discount_percent: i64::from(g.discount_percent),
                    free_shipping: g.free_shipping,
                },
            )
        })
        .collect())
}

/// Better terms sort first: a lower percent to pay, then free shipping.
fn tier(discount_percent: i32, free_shipping: bool) -> (i32, bool) {
    (discount_percent, !free_shipping)
}

/// Takes the customer's membership lock for the rest of the transaction:
/// the summary row, made to exist (already expired) and then locked. Every
/// grant and revoke of one customer goes through here first, so they run
/// one after the other (PostgreSQL: `FOR UPDATE`; SQLite serializes
/// writing transactions anyway).
async fn lock(
    db: &impl ConnectionTrait,
    customer_id: i64,
    plan_id: i64,
    now: DateTime<Utc>,
) -> AppResult<membership::Model> {
    membership::Entity::insert(membership::ActiveModel {
        customer_id: Set(customer_id),
        plan_id: Set(plan_id),
        started_at: Set(now),
        expires_at: Set(now - chrono::Duration::seconds(1)),
        updated_at: Set(now),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(membership::Column::CustomerId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let mut q = membership::Entity::find_by_id(customer_id);
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q = sea_orm::QuerySelect::lock_exclusive(q);
    }
    q.one(db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("membership vanished")))
}

/// The customer's grants not revoked and not yet over, in the order they
/// follow each other.
async fn live_grants(
    db: &impl ConnectionTrait,
    customer_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<membership_grant::Model>> {
    Ok(membership_grant::Entity::find()
        .filter(membership_grant::Column::CustomerId.eq(customer_id))
        .filter(membership_grant::Column::RevokedAt.is_null())
        .filter(membership_grant::Column::EndsAt.gt(now))
        .order_by_asc(membership_grant::Column::StartsAt)
        .order_by_asc(membership_grant::Column::Id)
        .all(db)
        .await?)
}

/// A place in a customer's chain of grants: one stored, or the new one
/// (to insert), with the time it still has to give.
struct Slot {
    stored: Option<membership_grant::Model>,
    remaining: chrono::Duration,
}

fn remaining(g: &membership_grant::Model, now: DateTime<Utc>) -> chrono::Duration {
    g.ends_at - g.starts_at.max(now)
}

/// Lays the chain out again from `now`, one grant right after the other:
/// the first keeps its start when it is already in force; every other one
/// starts where the one before ends and lasts what it still has. Writes
/// the grants that moved, inserts `new` where its slot is, and brings the
/// summary row up to date.
async fn lay_out(
    db: &impl ConnectionTrait,
    summary: membership::Model,
    chain: Vec<Slot>,
    mut new: Option<membership_grant::ActiveModel>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut cursor = now;
    let mut first: Option<(i64, DateTime<Utc>)> = None;
    for (i, slot) in chain.into_iter().enumerate() {
        let (start, end) = match &slot.stored {
            Some(g) if i == 0 && g.starts_at <= now => (g.starts_at, g.ends_at),
            _ => (cursor, cursor + slot.remaining),
        };
        match slot.stored {
            Some(g) => {
                if first.is_none() {
                    first = Some((g.plan_id, start));
                }
                if (g.starts_at, g.ends_at) != (start, end) {
                    membership_grant::Entity::update_many()
                        .col_expr(membership_grant::Column::StartsAt, Expr::value(start))
                        .col_expr(membership_grant::Column::EndsAt, Expr::value(end))
                        .filter(membership_grant::Column::Id.eq(g.id))
                        .exec(db)
                        .await?;
                }
            }
            None => {
                let mut a = new
                    .take()
                    .ok_or_else(|| AppError::internal(anyhow::anyhow!("no new grant")))?;
                if first.is_none() {
                    first = Some((a.plan_id.clone().unwrap(), start));
                }
                a.starts_at = Set(start);
                a.ends_at = Set(end);
                a.insert(db).await?;
            }
        }
        cursor = end;
    }
    let was_active = summary.expires_at > now;
    let mut a: membership::ActiveModel = summary.clone().into();
    match first {
        Some((plan_id, start)) => {
            a.plan_id = Set(plan_id);
            a.expires_at = Set(cursor);
            if !was_active {
                a.started_at = Set(start);
            }
        }
        None if was_active => a.expires_at = Set(now),
        None => {}
    }
    a.updated_at = Set(now);
    a.update(db).await?;
    Ok(())
}

/// Grants a paid membership order in the payment's transaction, on the
/// terms it was placed with. The new grant goes into the customer's chain
/// after every live grant at least as good (see [`tier`]), before the
/// first worse one: a better purchase starts now and pushes the worse
/// ones back by its length, the same or a worse one starts when those
/// already bought end. Nobody loses a day bought, and each day has exactly
/// the terms of the purchase that gave it. Once per order.
pub async fn grant(
    db: &impl ConnectionTrait,
    customer_id: i64,
    order_id: Option<i64>,
    terms: &MembershipTerms,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let now = now.trunc_subsecs(3);
    let summary = lock(db, customer_id, terms.plan_id, now).await?;
    if let Some(o) = order_id {
        let exists = membership_grant::Entity::find()
            .filter(membership_grant::Column::OrderId.eq(o))
            .one(db)
            .await?;
        if exists.is_some() {
            return Ok(());
        }
    }
    let mine = tier(terms.discount_percent, terms.free_shipping);
    let mut chain: Vec<Slot> = live_grants(db, customer_id, now)
        .await?
        .into_iter()
        .map(|g| Slot {
            remaining: remaining(&g, now),
            stored: Some(g),
        })
        .collect();
    let at = chain
        .iter()
        .position(|s| {
            s.stored
                .as_ref()
                .is_some_and(|g| tier(g.discount_percent, g.free_shipping) > mine)
        })
        .unwrap_or(chain.len());
    chain.insert(
        at,
        Slot {
            stored: None,
            remaining: chrono::Duration::days(i64::from(terms.days)),
        },
    );
    let new = membership_grant::ActiveModel {
        customer_id: Set(customer_id),
        order_id: Set(order_id),
        plan_id: Set(terms.plan_id),
        discount_percent: Set(terms.discount_percent),
        free_shipping: Set(terms.free_shipping),
        days: Set(terms.days),
        revoked_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    lay_out(db, summary, chain, Some(new), now).await
}

/// Takes back what a refunded membership order gave, in the refund's
/// transaction: its grant is revoked (what it still had to give is gone,
/// the days already used are not given back) and the grants after it move
/// forward by what it still had, so the others keep exactly their days.
pub async fn revoke(
    db: &impl ConnectionTrait,
    customer_id: i64,
    order_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let now = now.trunc_subsecs(3);
    let Some(g) = membership_grant::Entity::find()
        .filter(membership_grant::Column::OrderId.eq(order_id))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let summary = lock(db, customer_id, g.plan_id, now).await?;
    let revoked = membership_grant::Entity::update_many()
        .col_expr(membership_grant::Column::RevokedAt, Expr::value(now))
        .filter(membership_grant::Column::Id.eq(g.id))
        .filter(membership_grant::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if revoked.rows_affected == 0 {
        return Ok(());
    }
    let chain: Vec<Slot> = live_grants(db, customer_id, now)
        .await?
        .into_iter()
        .map(|g| Slot {
            remaining: remaining(&g, now),
            stored: Some(g),
        })
        .collect();
    lay_out(db, summary, chain, None, now).await
}

/// A top-up plan as an admin describes it.
#[derive(Default, Clone, Debug)]
pub struct TopUpDraft {
    pub name: Option<String>,
    pub pay_fen: Option<i64>,
    pub bonus_fen: Option<i64>,
    pub gift_coupon_template_ids: Option<Vec<i64>>,
    pub active: Option<bool>,
}

fn apply_top_up(a: &mut top_up_plan::ActiveModel, d: &TopUpDraft) -> AppResult<()> {
    if let Some(n) = &d.name {
        a.name = Set(check_name(n)?);
    }
    if let Some(p) = d.pay_fen {
        a.pay_fen = Set(check_fen(p, "payFen", 1)?);
    }
    if let Some(b) = d.bonus_fen {
        a.bonus_fen = Set(check_fen(b, "bonusFen", 0)?);
    }
    if let Some(ids) = &d.gift_coupon_template_ids {
        if ids.len() > 10 {
            return Err(AppError::bad_input("giftCouponTemplateIds", "at most 10"));
        }
        a.gift_coupon_template_ids = Set(serde_json::to_string(ids).map_err(AppError::internal)?);
    }
    if let Some(act) = d.active {
        a.active = Set(act);
    }
    Ok(())
}

/// Gift coupons must be templates that exist.
async fn check_gifts(state: &AppState, d: &TopUpDraft) -> AppResult<()> {
    let Some(ids) = &d.gift_coupon_template_ids else {
        return Ok(());
    };
    let found = crate::modules::coupon::service::templates_by_ids(&state.db, ids).await?;
    if let Some(unknown) = ids.iter().find(|id| !found.iter().any(|t| t.id == **id)) {
        return Err(AppError::bad_input(
            "giftCouponTemplateIds",
            format!("coupon template {unknown} does not exist"),
        ));
    }
    Ok(())
}

/// The coupon templates a top-up plan gives with each top-up.
pub fn gift_templates(plan: &top_up_plan::Model) -> Vec<i64> {
    serde_json::from_str(&plan.gift_coupon_template_ids).unwrap_or_default()
}

pub async fn create_top_up_plan(state: &AppState, d: TopUpDraft) -> AppResult<top_up_plan::Model> {
    check_gifts(state, &d).await?;
    let mut a = top_up_plan::ActiveModel {
        active: Set(true),
        gift_coupon_template_ids: Set("[]".into()),
        bonus_fen: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    apply_top_up(&mut a, &d)?;
    Ok(a.insert(&state.db).await?)
}

pub async fn update_top_up_plan(
    state: &AppState,
    id: i64,
    d: TopUpDraft,
) -> AppResult<top_up_plan::Model> {
    let found = top_up_plan(&state.db, id).await?;
    check_gifts(state, &d).await?;
    let mut a: top_up_plan::ActiveModel = found.into();
    apply_top_up(&mut a, &d)?;
    Ok(a.update(&state.db).await?)
}

pub async fn top_up_plan(db: &impl ConnectionTrait, id: i64) -> AppResult<top_up_plan::Model> {
    top_up_plan::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("top-up plan {id} not found")))
}

/// Top-up plans on sale (with `include_retired`, retired ones too),
/// cheapest first.
pub async fn top_up_plans(
    state: &AppState,
    include_retired: bool,
) -> AppResult<Vec<top_up_plan::Model>> {
    let mut q = top_up_plan::Entity::find();
    if !include_retired {
        q = q.filter(top_up_plan::Column::Active.eq(true));
    }
    Ok(q.order_by_asc(top_up_plan::Column::PayFen)
        .order_by_asc(top_up_plan::Column::Id)
        .all(&state.db)
        .await?)
}

/// How many memberships are active at `now`.
pub async fn active_count(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<i64> {
    use sea_orm::PaginatorTrait;
    Ok(membership::Entity::find()
        .filter(membership::Column::ExpiresAt.gt(now))
        .count(db)
        .await? as i64)
}
