//! Plans, memberships, and what a membership means for prices.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{membership, membership_plan, top_up_plan};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

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

pub async fn active_plans(state: &AppState) -> AppResult<Vec<membership_plan::Model>> {
    Ok(membership_plan::Entity::find()
        .filter(membership_plan::Column::Active.eq(true))
        .order_by_asc(membership_plan::Column::PriceFen)
        .all(&state.db)
        .await?)
}

/// The customer's membership and its plan, active or not.
pub async fn membership_of(
    db: &impl ConnectionTrait,
    customer_id: i64,
) -> AppResult<Option<(membership::Model, membership_plan::Model)>> {
    let Some(m) = membership::Entity::find_by_id(customer_id).one(db).await? else {
        return Ok(None);
    };
    let p = plan(db, m.plan_id).await?;
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

/// [`terms`] of several customers at once (two statements at most): the
/// active members among them, with their terms.
pub async fn terms_of(
    db: &impl ConnectionTrait,
    customer_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<HashMap<i64, pricing::Membership>> {
    let active = membership::Entity::find()
        .filter(membership::Column::CustomerId.is_in(customer_ids.iter().copied()))
        .filter(membership::Column::ExpiresAt.gt(now))
        .all(db)
        .await?;
    if active.is_empty() {
        return Ok(HashMap::new());
    }
    let plans: HashMap<i64, membership_plan::Model> = membership_plan::Entity::find()
        .filter(membership_plan::Column::Id.is_in(active.iter().map(|m| m.plan_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(active
        .into_iter()
        .filter_map(|m| {
            let p = plans.get(&m.plan_id)?;
            Some((
                m.customer_id,
                pricing::Membership {
                    discount_percent: i64::from(p.discount_percent),
                    free_shipping: p.free_shipping,
                },
            ))
        })
        .collect())
}

/// Grants a paid plan in the payment's transaction: from now, or from the
/// current expiry while a membership is active.
pub async fn grant(
    db: &impl ConnectionTrait,
    customer_id: i64,
    plan_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let p = plan(db, plan_id).await?;
    let days = chrono::Duration::days(i64::from(p.duration_days));
    // Make sure the row exists (already expired), then lock it: two purchases
    // paid at once must add up, not overwrite each other.
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
    let m = q
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("membership vanished")))?;
    let active = m.expires_at > now;
    let mut a: membership::ActiveModel = m.clone().into();
    a.plan_id = Set(plan_id);
    a.expires_at = Set(if active {
        m.expires_at + days
    } else {
        now + days
    });
    if !active {
        a.started_at = Set(now);
    }
    a.updated_at = Set(now);
    a.update(db).await?;
    Ok(())
}

/// Takes a refunded purchase's days back off the expiry (not before now).
pub async fn revoke(
    db: &impl ConnectionTrait,
    customer_id: i64,
    plan_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let p = plan(db, plan_id).await?;
    if let Some(m) = membership::Entity::find_by_id(customer_id).one(db).await? {
        let shortened =
            (m.expires_at - chrono::Duration::days(i64::from(p.duration_days))).max(now);
        let mut a: membership::ActiveModel = m.into();
        a.expires_at = Set(shortened);
        a.updated_at = Set(now);
        a.update(db).await?;
    }
    Ok(())
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

pub async fn active_top_up_plans(state: &AppState) -> AppResult<Vec<top_up_plan::Model>> {
    Ok(top_up_plan::Entity::find()
        .filter(top_up_plan::Column::Active.eq(true))
        .order_by_asc(top_up_plan::Column::PayFen)
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
