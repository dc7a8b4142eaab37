//! Coupon templates, claiming and issuing coupons, using them on orders,
//! and promotions.
use chrono::{DateTime, Duration, Utc};
use entity::{campaign, coupon, coupon_issue, coupon_template, promotion};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, SqlErr, TransactionTrait, sea_query::Expr,
};

use crate::{
    crypto::sha256_hex,
    error::{AppError, AppResult},
    modules::{customer::service as customers, pricing},
    state::AppState,
};

pub const UNUSED: &str = "UNUSED";
pub const USED: &str = "USED";

/// The most customers one `issueCoupons` call reaches.
pub const MAX_ISSUE: usize = 10_000;

/// A coupon template as an admin describes it.
#[derive(Clone, Debug)]
pub struct TemplateDraft {
    pub name: String,
    pub threshold_fen: i64,
    pub off_fen: i64,
    pub total_quantity: Option<i64>,
    pub per_customer_limit: Option<i32>,
    pub valid_days: Option<i32>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    pub claimable: Option<bool>,
    pub claim_starts_at: Option<DateTime<Utc>>,
    pub claim_ends_at: Option<DateTime<Utc>>,
}

use crate::validate::fen as check_fen;

fn check_name(name: &str, field: &str) -> AppResult<String> {
    crate::validate::text(name, field, 40)
}

/// A template's validity: `validDays` alone, or both `validFrom` and `validTo`.
fn check_validity(
    days: Option<i32>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> AppResult<()> {
    match (days, from, to) {
        (Some(days), None, None) if (1..=3660).contains(&days) => Ok(()),
        (Some(_), None, None) => Err(AppError::bad_input(
            "input.validDays",
            "must be between 1 and 3660",
        )),
        (None, Some(from), Some(to)) if to > from => Ok(()),
        (None, Some(_), Some(_)) => Err(AppError::bad_input(
            "input.validTo",
            "must be after validFrom",
        )),
        _ => Err(AppError::bad_input(
            "input.validDays",
            "give either validDays, or both validFrom and validTo",
        )),
    }
}

fn check_claim_window(starts: Option<DateTime<Utc>>, ends: Option<DateTime<Utc>>) -> AppResult<()> {
    if let (Some(from), Some(to)) = (starts, ends)
        && to <= from
    {
        return Err(AppError::bad_input(
            "input.claimEndsAt",
            "must be after claimStartsAt",
        ));
    }
    Ok(())
}

fn check_total(total: Option<i64>) -> AppResult<()> {
    if let Some(t) = total
        && !(1..=10_000_000).contains(&t)
    {
        return Err(AppError::bad_input(
            "input.totalQuantity",
            "must be between 1 and 10,000,000 (omit it for no limit)",
        ));
    }
    Ok(())
}

fn check_per_customer(n: i32) -> AppResult<i32> {
    if !(1..=100).contains(&n) {
        return Err(AppError::bad_input(
            "input.perCustomerLimit",
            "must be between 1 and 100",
        ));
    }
    Ok(n)
}

pub async fn create_template(
    state: &AppState,
    d: TemplateDraft,
) -> AppResult<coupon_template::Model> {
    let name = check_name(&d.name, "input.name")?;
    let threshold = check_fen(d.threshold_fen, "input.thresholdFen", 0)?;
    let off = check_fen(d.off_fen, "input.offFen", 1)?;
    if threshold > 0 && off > threshold {
        return Err(AppError::bad_input(
            "input.offFen",
            "may not exceed the threshold (use thresholdFen 0 for a coupon without one)",
        ));
    }
    check_total(d.total_quantity)?;
    let per_customer = check_per_customer(d.per_customer_limit.unwrap_or(1))?;
    check_validity(d.valid_days, d.valid_from, d.valid_to)?;
    check_claim_window(d.claim_starts_at, d.claim_ends_at)?;
    Ok(coupon_template::ActiveModel {
        name: Set(name),
        threshold_fen: Set(threshold),
        off_fen: Set(off),
        total_quantity: Set(d.total_quantity),
        issued_count: Set(0),
        per_customer_limit: Set(per_customer),
        valid_days: Set(d.valid_days),
        valid_from: Set(d.valid_from),
        valid_to: Set(d.valid_to),
        claimable: Set(d.claimable.unwrap_or(true)),
        claim_starts_at: Set(d.claim_starts_at),
        claim_ends_at: Set(d.claim_ends_at),
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?)
}

/// Changes to a coupon template; `None` leaves a field as it is. For the
/// nullable fields, `Some(None)` clears (no limit, no claim bound).
#[derive(Clone, Debug, Default)]
pub struct TemplateChange {
    pub name: Option<String>,
    pub threshold_fen: Option<i64>,
    pub off_fen: Option<i64>,
    pub total_quantity: Option<Option<i64>>,
    pub per_customer_limit: Option<i32>,
    pub valid_days: Option<i32>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    pub claimable: Option<bool>,
    pub claim_starts_at: Option<Option<DateTime<Utc>>>,
    pub claim_ends_at: Option<Option<DateTime<Utc>>>,
}

/// Why an edit cannot apply to `t` as it is now, if it cannot.
fn edit_refused(
    t: &coupon_template::Model,
    terms_change: bool,
    total: Option<i64>,
) -> Option<AppError> {
    if terms_change && t.issued_count > 0 {
        return Some(AppError::Conflict(format!(
            "{} coupons of this template were given with its threshold and amount off; \
             those can no longer change (create a new template for new terms)",
            t.issued_count
        )));
    }
    if let Some(total) = total
        && total < t.issued_count
    {
        return Some(AppError::bad_input(
            "input.totalQuantity",
            format!(
                "{} coupons were already given; the total may not be below that",
                t.issued_count
            ),
        ));
    }
    None
}

/// Edits a template. Every coupon keeps the terms it was given with (its
/// own threshold, amount off, validFrom and expiresAt are copied when it is
/// given), so an edit reaches only coupons given after it. Its threshold
/// and amount off are still fixed once a coupon was given: the template's
/// name, and its issued and used figures, speak of one offer, and customers
/// see the template's name on the coupons they hold. The total may not go
/// below what was given. Both rules are conditions of the one UPDATE, so a
/// coupon given meanwhile cannot slip between the check and the write.
pub async fn update_template(
    state: &AppState,
    id: i64,
    c: TemplateChange,
) -> AppResult<coupon_template::Model> {
    use coupon_template::Column as T;
    let t = template(&state.db, id).await?;
    let name = c
        .name
        .as_deref()
        .map(|n| check_name(n, "input.name"))
        .transpose()?
        .unwrap_or_else(|| t.name.clone());
    let threshold = match c.threshold_fen {
        Some(v) => check_fen(v, "input.thresholdFen", 0)?,
        None => t.threshold_fen,
    };
    let off = match c.off_fen {
        Some(v) => check_fen(v, "input.offFen", 1)?,
        None => t.off_fen,
    };
    if threshold > 0 && off > threshold {
        return Err(AppError::bad_input(
            "input.offFen",
            "may not exceed the threshold (use thresholdFen 0 for a coupon without one)",
        ));
    }
    let terms_change = threshold != t.threshold_fen || off != t.off_fen;
    let total = c.total_quantity.unwrap_or(t.total_quantity);
    check_total(total)?;
    let per_customer = check_per_customer(c.per_customer_limit.unwrap_or(t.per_customer_limit))?;
    // Validity is one choice (days, or a window): given at all, it is given whole.
    let (valid_days, valid_from, valid_to) =
        if c.valid_days.is_some() || c.valid_from.is_some() || c.valid_to.is_some() {
            check_validity(c.valid_days, c.valid_from, c.valid_to)?;
            (c.valid_days, c.valid_from, c.valid_to)
        } else {
            (t.valid_days, t.valid_from, t.valid_to)
        };
    let claim_starts_at = c.claim_starts_at.unwrap_or(t.claim_starts_at);
    let claim_ends_at = c.claim_ends_at.unwrap_or(t.claim_ends_at);
    check_claim_window(claim_starts_at, claim_ends_at)?;
    if let Some(e) = edit_refused(&t, terms_change, total) {
        return Err(e);
    }

    let mut q = coupon_template::Entity::update_many()
        .col_expr(T::Name, Expr::value(name))
        .col_expr(T::ThresholdFen, Expr::value(threshold))
        .col_expr(T::OffFen, Expr::value(off))
        .col_expr(T::TotalQuantity, Expr::value(total))
        .col_expr(T::PerCustomerLimit, Expr::value(per_customer))
        .col_expr(T::ValidDays, Expr::value(valid_days))
        .col_expr(T::ValidFrom, Expr::value(valid_from))
        .col_expr(T::ValidTo, Expr::value(valid_to))
        .col_expr(
            T::Claimable,
            Expr::value(c.claimable.unwrap_or(t.claimable)),
        )
        .col_expr(T::ClaimStartsAt, Expr::value(claim_starts_at))
        .col_expr(T::ClaimEndsAt, Expr::value(claim_ends_at))
        .filter(T::Id.eq(id));
    if terms_change {
        q = q.filter(T::IssuedCount.eq(0));
    }
    if let Some(total) = total {
        q = q.filter(T::IssuedCount.lte(total));
    }
    if q.exec(&state.db).await?.rows_affected != 1 {
        // Coupons were given between the read and the write.
        let now = template(&state.db, id).await?;
        return Err(edit_refused(&now, terms_change, total).unwrap_or_else(|| {
            AppError::Conflict("the template changed meanwhile; try again".into())
        }));
    }
    template(&state.db, id).await
}

/// How many coupons of each template are used by an order now (one grouped
/// statement for a whole list of templates).
pub async fn used_counts(
    db: &impl ConnectionTrait,
    template_ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, i64>> {
    use coupon::Column as C;
    let rows: Vec<(i64, i64)> = coupon::Entity::find()
        .select_only()
        .column(C::TemplateId)
        .column_as(Expr::col(C::Id).count(), "n")
        .filter(C::TemplateId.is_in(template_ids.iter().copied()))
        .filter(C::Status.eq(USED))
        .group_by(C::TemplateId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Stops (or resumes) giving out a template's coupons; coupons given out
/// stay valid.
pub async fn set_template_active(
    state: &AppState,
    id: i64,
    active: bool,
) -> AppResult<coupon_template::Model> {
    let t = template(&state.db, id).await?;
    let mut a: coupon_template::ActiveModel = t.into();
    a.active = Set(active);
    Ok(a.update(&state.db).await?)
}

/// Campaigns run, newest first, a page after `after_id`.
pub async fn campaigns(
    state: &AppState,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<campaign::Model>, bool)> {
    Ok(crate::db::page_desc(
        &state.db,
        campaign::Entity::find(),
        campaign::Column::Id,
        first,
        after_id,
    )
    .await?)
}

pub async fn template(db: &impl ConnectionTrait, id: i64) -> AppResult<coupon_template::Model> {
    coupon_template::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("coupon template {id} not found")))
}

pub async fn templates_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<coupon_template::Model>> {
    Ok(coupon_template::Entity::find()
        .filter(coupon_template::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Every template, newest first (ADMIN).
pub async fn all_templates(state: &AppState) -> AppResult<Vec<coupon_template::Model>> {
    Ok(coupon_template::Entity::find()
        .order_by_desc(coupon_template::Column::Id)
        .all(&state.db)
        .await?)
}

/// What can still be given out of a template at `now`: active, not sold
/// out, and its coupons would not be born expired.
fn giving_out(now: DateTime<Utc>) -> Condition {
    use coupon_template::Column as T;
    Condition::all()
        .add(T::Active.eq(true))
        .add(
            Condition::any()
                .add(T::TotalQuantity.is_null())
                .add(Expr::col(T::IssuedCount).lt(Expr::col(T::TotalQuantity))),
        )
        .add(
            Condition::any()
                .add(T::ValidTo.is_null())
                .add(T::ValidTo.gt(now)),
        )
}

/// What customers may claim at `now`: [`giving_out`], claimable, in its
/// claim window.
fn claimable(now: DateTime<Utc>) -> Condition {
    use coupon_template::Column as T;
    giving_out(now)
        .add(T::Claimable.eq(true))
        .add(
            Condition::any()
                .add(T::ClaimStartsAt.is_null())
                .add(T::ClaimStartsAt.lte(now)),
        )
        .add(
            Condition::any()
                .add(T::ClaimEndsAt.is_null())
                .add(T::ClaimEndsAt.gt(now)),
        )
}

/// Templates customers can claim now, newest first.
pub async fn available(
    state: &AppState,
    now: DateTime<Utc>,
) -> AppResult<Vec<coupon_template::Model>> {
    Ok(coupon_template::Entity::find()
        .filter(claimable(now))
        .order_by_desc(coupon_template::Column::Id)
        .all(&state.db)
        .await?)
}

/// When a coupon given out at `now` is valid.
fn validity(t: &coupon_template::Model, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    match (t.valid_days, t.valid_from, t.valid_to) {
        (Some(days), _, _) => (now, now + Duration::days(i64::from(days))),
        (None, Some(from), Some(to)) => (from, to),
        // Templates are checked when created; a broken one gives a day.
        _ => (now, now + Duration::days(1)),
    }
}

fn coupon_row(
    t: &coupon_template::Model,
    customer_id: i64,
    source: &str,
    now: DateTime<Utc>,
) -> coupon::ActiveModel {
    let (valid_from, expires_at) = validity(t, now);
    coupon::ActiveModel {
        template_id: Set(t.id),
        customer_id: Set(customer_id),
        status: Set(UNUSED.into()),
        threshold_fen: Set(t.threshold_fen),
        off_fen: Set(t.off_fen),
        valid_from: Set(valid_from),
        expires_at: Set(expires_at),
        order_id: Set(None),
        used_at: Set(None),
        source: Set(source.into()),
        created_at: Set(now),
        ..Default::default()
    }
}

/// Takes `n` coupons out of a template if it can still give them (`cond`);
/// the conditional update also makes concurrent takers of one template
/// take turns on its row until they commit.
async fn take_from(
    txn: &DatabaseTransaction,
    template_id: i64,
    n: i64,
    cond: Condition,
) -> AppResult<bool> {
    use coupon_template::Column as T;
    let res = coupon_template::Entity::update_many()
        .col_expr(T::IssuedCount, Expr::col(T::IssuedCount).add(n))
        .filter(T::Id.eq(template_id))
        .filter(cond)
        .filter(
            Condition::any().add(T::TotalQuantity.is_null()).add(
                Expr::col(T::IssuedCount)
                    .add(n)
                    .lte(Expr::col(T::TotalQuantity)),
            ),
        )
        .exec(txn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Why a template gives nothing now, in words a customer or admin can act on.
fn why_not(t: &coupon_template::Model, now: DateTime<Utc>, wanted: i64) -> AppError {
    if !t.active {
        return AppError::Conflict("this coupon is no longer given out".into());
    }
    if t.valid_to.is_some_and(|to| to <= now) {
        return AppError::Conflict("this coupon's validity has ended".into());
    }
    if let Some(total) = t.total_quantity {
        let left = Ord::max(total - t.issued_count, 0);
        if left < wanted {
            return AppError::Conflict(if left == 0 {
                "all of these coupons have been given out".into()
            } else {
                format!("only {left} of these coupons are left")
            });
        }
    }
    if !t.claimable {
        return AppError::Conflict("this coupon is given by the store, not claimed".into());
    }
    if t.claim_starts_at.is_some_and(|s| s > now) {
        return AppError::Conflict("claiming this coupon has not started yet".into());
    }
    AppError::Conflict("claiming this coupon has ended".into())
}

/// A customer claims a coupon of a claimable template, up to its
/// per-customer limit.
pub async fn claim(
    state: &AppState,
    customer_id: i64,
    template_id: i64,
) -> AppResult<coupon::Model> {
    let now = Utc::now();
    let txn = state.db.begin().await?;
    if !take_from(&txn, template_id, 1, claimable(now)).await? {
        let t = template(&txn, template_id).await?;
        return Err(why_not(&t, now, 1));
    }
    let t = template(&txn, template_id).await?;
    // Counted after taking the template's row: this customer's other claims
    // of it have committed (or wait behind this one).
    let held = coupon::Entity::find()
        .filter(coupon::Column::TemplateId.eq(template_id))
        .filter(coupon::Column::CustomerId.eq(customer_id))
        .filter(coupon::Column::Source.eq("CLAIM"))
        .count(&txn)
        .await?;
    if held >= t.per_customer_limit as u64 {
        return Err(AppError::Conflict(format!(
            "you have claimed {held} of this coupon; {} per customer",
            t.per_customer_limit
        )));
    }
    let c = coupon_row(&t, customer_id, "CLAIM", now)
        .insert(&txn)
        .await?;
    txn.commit().await?;
    Ok(c)
}

/// Who a campaign reaches: customers listed, and whoever a segment holds
/// when it runs.
pub struct Audience {
    pub customer_ids: Vec<i64>,
    pub segment_id: Option<i64>,
}

/// ADMIN gives one coupon of a template to each customer of the audience
/// (a targeted campaign), all or none. Claim windows and per-customer
/// limits are for claiming, not for this; the total is respected. With a
/// key, a repeated call issues nothing more and answers the first call's
/// count: the key stands for the request as asked (template, segment,
/// customers listed), so a segment that changed meanwhile is still the
/// same campaign.
pub async fn issue(
    state: &AppState,
    admin_id: i64,
    template_id: i64,
    audience: Audience,
    idempotency_key: Option<&str>,
) -> AppResult<i64> {
    let mut ids = audience.customer_ids;
    ids.sort_unstable();
    ids.dedup();
    let hash = sha256_hex(&format!("{template_id}:{:?}:{ids:?}", audience.segment_id));
    if let Some(k) = idempotency_key
        && (k.trim().is_empty() || k.len() > 64)
    {
        return Err(AppError::bad_input(
            "idempotencyKey",
            "must be 1-64 characters",
        ));
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    if let Some(key) = idempotency_key {
        let claimed = coupon_issue::ActiveModel {
            template_id: Set(template_id),
            admin_id: Set(admin_id),
            idempotency_key: Set(key.to_string()),
            request_hash: Set(hash.clone()),
            // Set below, once the audience is known.
            issued: Set(0),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await;
        if let Err(e) = claimed {
            // A repeat: answered from the first call, nothing resolved again.
            if !matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                return Err(e.into());
            }
            drop(txn);
            let first = coupon_issue::Entity::find()
                .filter(coupon_issue::Column::AdminId.eq(admin_id))
                .filter(coupon_issue::Column::IdempotencyKey.eq(key))
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("coupon issue key vanished")))?;
            if first.request_hash != hash {
                return Err(AppError::Conflict(
                    "this idempotencyKey was used for a different campaign".into(),
                ));
            }
            return Ok(first.issued);
        }
    }
    let mut segment_name = None;
    if let Some(segment) = audience.segment_id {
        let (name, members) =
            crate::modules::operations::service::segment_members(state, &txn, segment, MAX_ISSUE)
                .await?;
        segment_name = Some(name);
        ids.extend(members);
        ids.sort_unstable();
        ids.dedup();
    }
    if ids.is_empty() || ids.len() > MAX_ISSUE {
        return Err(AppError::bad_input(
            "customerIds",
            format!("the campaign must reach 1 to {MAX_ISSUE} customers"),
        ));
    }
    customers::require_existing(&txn, &ids, "customerIds").await?;
    let n = ids.len() as i64;
    if !take_from(&txn, template_id, n, giving_out(now)).await? {
        let t = template(&txn, template_id).await?;
        return Err(why_not(&t, now, n));
    }
    let t = template(&txn, template_id).await?;
    for chunk in ids.chunks(500) {
        coupon::Entity::insert_many(chunk.iter().map(|&c| coupon_row(&t, c, "ISSUE", now)))
            .exec_without_returning(&txn)
            .await?;
    }
    // The campaign's record, in its transaction: no coupons without it.
    campaign::ActiveModel {
        admin_id: Set(admin_id),
        template_id: Set(template_id),
        segment_id: Set(audience.segment_id),
        segment_name: Set(segment_name),
        issued: Set(n),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let Some(key) = idempotency_key {
        coupon_issue::Entity::update_many()
            .col_expr(coupon_issue::Column::Issued, Expr::value(n))
            .filter(coupon_issue::Column::AdminId.eq(admin_id))
            .filter(coupon_issue::Column::IdempotencyKey.eq(key))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(n)
}

/// Gives one coupon of each template to a customer who topped up, in the
/// payment's transaction. A template that can no longer give (retired,
/// sold out) is skipped, never failing the payment: the money is in.
pub async fn gift(
    txn: &DatabaseTransaction,
    customer_id: i64,
    template_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<()> {
    // Template rows in id order, the lock order of concurrent payments.
    let mut ids = template_ids.to_vec();
    ids.sort_unstable();
    for id in ids {
        if !take_from(txn, id, 1, giving_out(now)).await? {
            tracing::warn!(
                template_id = id,
                customer_id,
                "top-up gift coupon not given: the template can no longer give"
            );
            continue;
        }
        let t = template(txn, id).await?;
        coupon_row(&t, customer_id, "GIFT", now).insert(txn).await?;
    }
    Ok(())
}

/// A customer's coupons as shown in "my coupons".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Unused,
    Used,
    Expired,
}

pub fn shown(c: &coupon::Model, now: DateTime<Utc>) -> Shown {
    match c.status.as_str() {
        USED => Shown::Used,
        _ if c.expires_at <= now => Shown::Expired,
        _ => Shown::Unused,
    }
}

/// The customer's coupons: usable ones first, soonest to expire first, then
/// used and expired ones newest first; at most 500 of each kind.
pub async fn mine(
    state: &AppState,
    customer_id: i64,
    only: Option<Shown>,
    now: DateTime<Utc>,
) -> AppResult<Vec<coupon::Model>> {
    use coupon::Column as C;
    let of = |cond: Condition| {
        coupon::Entity::find()
            .filter(C::CustomerId.eq(customer_id))
            .filter(cond)
            .limit(500)
    };
    let unused = || {
        of(Condition::all()
            .add(C::Status.eq(UNUSED))
            .add(C::ExpiresAt.gt(now)))
        .order_by_asc(C::ExpiresAt)
        .order_by_asc(C::Id)
    };
    let done = |cond: Condition| of(cond).order_by_desc(C::Id);
    let used = Condition::all().add(C::Status.eq(USED));
    let expired = Condition::all()
        .add(C::Status.eq(UNUSED))
        .add(C::ExpiresAt.lte(now));
    Ok(match only {
        Some(Shown::Unused) => unused().all(&state.db).await?,
        Some(Shown::Used) => done(used).all(&state.db).await?,
        Some(Shown::Expired) => done(expired).all(&state.db).await?,
        None => {
            let mut rows = unused().all(&state.db).await?;
            rows.extend(
                done(Condition::any().add(used).add(expired))
                    .all(&state.db)
                    .await?,
            );
            rows
        }
    })
}

/// The customer's coupon `id` as the pricing pipeline takes it, if it can
/// be used now (`COUPON_INVALID` saying why otherwise). Whether the order
/// reaches its threshold is the caller's to check, after pricing.
pub async fn usable(
    db: &impl ConnectionTrait,
    customer_id: i64,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<pricing::Coupon> {
    let c = coupon::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|c| c.customer_id == customer_id)
        .ok_or_else(|| AppError::CouponInvalid("you have no such coupon".into()))?;
    if c.status == USED {
        return Err(AppError::CouponInvalid("this coupon has been used".into()));
    }
    if c.valid_from > now {
        return Err(AppError::CouponInvalid(format!(
            "this coupon can be used from {}",
            c.valid_from.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    if c.expires_at <= now {
        return Err(AppError::CouponInvalid("this coupon has expired".into()));
    }
    Ok(pricing::Coupon {
        threshold_fen: c.threshold_fen,
        off_fen: c.off_fen,
    })
}

/// `COUPON_INVALID` for a coupon the order does not reach.
pub fn below_threshold(c: &pricing::Coupon) -> AppError {
    AppError::CouponInvalid(format!(
        "this coupon needs goods of at least {} fen after other discounts",
        c.threshold_fen
    ))
}

/// Uses the coupon on an order, in the order's transaction: exactly one
/// order gets it, however many try at once.
pub async fn take(
    txn: &DatabaseTransaction,
    customer_id: i64,
    id: i64,
    order_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use coupon::Column as C;
    let res = coupon::Entity::update_many()
        .col_expr(C::Status, Expr::value(USED))
        .col_expr(C::OrderId, Expr::value(order_id))
        .col_expr(C::UsedAt, Expr::value(now))
        .filter(C::Id.eq(id))
        .filter(C::CustomerId.eq(customer_id))
        .filter(C::Status.eq(UNUSED))
        .filter(C::ValidFrom.lte(now))
        .filter(C::ExpiresAt.gt(now))
        .exec(txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::CouponInvalid(
            "this coupon was used meanwhile, or has expired".into(),
        ));
    }
    Ok(())
}

/// Gives back the coupon of an order cancelled unpaid (in the
/// cancellation's transaction). It keeps its own expiry.
pub async fn give_back(txn: &DatabaseTransaction, order_id: i64) -> AppResult<()> {
    use coupon::Column as C;
    coupon::Entity::update_many()
        .col_expr(C::Status, Expr::value(UNUSED))
        .col_expr(C::OrderId, Expr::value(Option::<i64>::None))
        .col_expr(C::UsedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(C::OrderId.eq(order_id))
        .filter(C::Status.eq(USED))
        .exec(txn)
        .await?;
    Ok(())
}

/// The coupon an order used, if any.
pub async fn of_order(
    db: &impl ConnectionTrait,
    order_id: i64,
) -> AppResult<Option<coupon::Model>> {
    Ok(coupon::Entity::find()
        .filter(coupon::Column::OrderId.eq(order_id))
        .one(db)
        .await?)
}

// ---------------------------------------------------------------- promotions

pub struct PromotionDraft {
    pub name: String,
    pub threshold_fen: i64,
    pub off_fen: i64,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
}

pub async fn create_promotion(state: &AppState, d: PromotionDraft) -> AppResult<promotion::Model> {
    let now = Utc::now();
    let name = check_name(&d.name, "input.name")?;
    let threshold = check_fen(d.threshold_fen, "input.thresholdFen", 1)?;
    let off = check_fen(d.off_fen, "input.offFen", 1)?;
    if off > threshold {
        return Err(AppError::bad_input(
            "input.offFen",
            "may not exceed the threshold",
        ));
    }
    let starts_at = d.starts_at.unwrap_or(now);
    if d.ends_at <= starts_at || d.ends_at <= now {
        return Err(AppError::bad_input(
            "input.endsAt",
            "must be after startsAt and in the future",
        ));
    }
    Ok(promotion::ActiveModel {
        name: Set(name),
        threshold_fen: Set(threshold),
        off_fen: Set(off),
        starts_at: Set(starts_at),
        ends_at: Set(d.ends_at),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await?)
}

/// Ends (or resumes) a promotion.
pub async fn set_promotion_active(
    state: &AppState,
    id: i64,
    active: bool,
) -> AppResult<promotion::Model> {
    let p = promotion::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("promotion {id} not found")))?;
    let mut a: promotion::ActiveModel = p.into();
    a.active = Set(active);
    Ok(a.update(&state.db).await?)
}

/// Promotions running at `now` (or, `all`, every one not yet over), soonest
/// to end first.
pub async fn promotions(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    all: bool,
) -> AppResult<Vec<promotion::Model>> {
    use promotion::Column as P;
    let mut q = promotion::Entity::find();
    if !all {
        q = q
            .filter(P::Active.eq(true))
            .filter(P::StartsAt.lte(now))
            .filter(P::EndsAt.gt(now));
    }
    Ok(q.order_by_asc(P::EndsAt).all(db).await?)
}

/// The promotions running at `now`, as the pricing pipeline takes them.
pub async fn running(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> AppResult<Vec<pricing::Promotion>> {
    Ok(promotions(db, now, false)
        .await?
        .into_iter()
        .map(|p| pricing::Promotion {
            threshold_fen: p.threshold_fen,
            off_fen: p.off_fen,
        })
        .collect())
}
