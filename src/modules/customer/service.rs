//! Finding and creating customers.
use chrono::Utc;
use entity::customer;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait,
    QueryFilter, QuerySelect, SqlErr,
};

use super::{referral_code, scene};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    validate,
    wechat::login::WechatIdentity,
};

pub async fn find(state: &AppState, id: i64) -> AppResult<Option<customer::Model>> {
    Ok(customer::Entity::find_by_id(id).one(&state.db).await?)
}

pub async fn get(state: &AppState, id: i64) -> AppResult<customer::Model> {
    find(state, id).await?.ok_or_else(|| {
        // A token for a customer that no longer exists.
        AppError::Unauthenticated("this account no longer exists; sign in again".into())
    })
}

/// The ids of the customers `customer_id` invited, as a subquery.
pub fn invited_by_query(customer_id: i64) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(customer::Column::Id)
        .from(customer::Entity)
        .and_where(customer::Column::ReferrerId.eq(customer_id))
        .to_owned()
}

/// How many customers this one invited (level 1), and how many those
/// invited (level 2).
pub async fn team_size(db: &impl ConnectionTrait, customer_id: i64) -> AppResult<(u64, u64)> {
    use sea_orm::PaginatorTrait;
    let level1 = customer::Entity::find()
        .filter(customer::Column::ReferrerId.eq(customer_id))
        .count(db)
        .await?;
    let level2 = customer::Entity::find()
        .filter(customer::Column::ReferrerId.in_subquery(invited_by_query(customer_id)))
        .count(db)
        .await?;
    Ok((level1, level2))
}

/// The customer's team, level 1 (invited by it) or level 2 (invited by
/// those), over all pages.
pub fn team_query(customer_id: i64, level: i32) -> AppResult<sea_orm::Select<customer::Entity>> {
    match level {
        1 => Ok(customer::Entity::find().filter(customer::Column::ReferrerId.eq(customer_id))),
        2 => Ok(customer::Entity::find()
            .filter(customer::Column::ReferrerId.in_subquery(invited_by_query(customer_id)))),
        _ => Err(AppError::bad_input("level", "must be 1 or 2")),
    }
}

/// A page of the customer's team, newest first.
pub async fn team(
    state: &AppState,
    customer_id: i64,
    level: i32,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<customer::Model>, bool)> {
    let q = team_query(customer_id, level)?;
    Ok(crate::db::page_desc(&state.db, q, customer::Column::Id, first, after_id).await?)
}

/// Customers who first signed in during `[from, to)`, by entry scene, the
/// largest group first.
pub async fn new_by_scene(
    db: &impl ConnectionTrait,
    from: chrono::DateTime<Utc>,
    to: chrono::DateTime<Utc>,
) -> AppResult<Vec<(Option<String>, i64)>> {
    let mut rows: Vec<(Option<String>, i64)> = customer::Entity::find()
        .select_only()
        .column(customer::Column::Scene)
        .column_as(
            sea_orm::sea_query::Expr::col(customer::Column::Id).count(),
            "n",
        )
        .filter(customer::Column::CreatedAt.gte(from))
        .filter(customer::Column::CreatedAt.lt(to))
        .group_by(customer::Column::Scene)
        .into_tuple()
        .all(db)
        .await?;
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(rows)
}

/// `BAD_USER_INPUT` naming `field` unless every one of these (distinct)
/// ids is a customer.
pub async fn require_existing(
    db: &impl ConnectionTrait,
    ids: &[i64],
    field: &str,
) -> AppResult<()> {
    let known = existing_ids(db, ids).await?;
    if known.len() == ids.len() {
        return Ok(());
    }
    let unknown: Vec<String> = ids
        .iter()
        .filter(|i| !known.contains(i))
        .take(5)
        .map(i64::to_string)
        .collect();
    Err(AppError::bad_input(
        field,
        format!("no such customers: {}", unknown.join(", ")),
    ))
}

/// Which of these ids are customers.
pub async fn existing_ids(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<i64>> {
    let mut found = Vec::with_capacity(ids.len());
    // Chunks keep every statement far below both databases' parameter limits.
    for chunk in ids.chunks(1000) {
        let rows: Vec<i64> = customer::Entity::find()
            .select_only()
            .column(customer::Column::Id)
            .filter(customer::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Each customer's inviter, as read. It is bound when the customer is
/// created and never changes, so every instance may keep its own copy;
/// payments would otherwise read it on every order. Installed at start-up.
#[derive(Clone)]
pub struct Referrers(moka::future::Cache<i64, Option<i64>>);

impl Default for Referrers {
    fn default() -> Self {
        Referrers(moka::future::Cache::new(100_000))
    }
}

/// The customer's inviter (`None`: nobody invited them, or no such
/// customer). Bound once, at creation, so it is kept in [`Referrers`]
/// after the first read; `db` is the caller's transaction.
pub async fn referrer_of(
    state: &AppState,
    db: &impl ConnectionTrait,
    customer_id: i64,
) -> AppResult<Option<i64>> {
    if let Some(known) = state.part::<Referrers>().0.get(&customer_id).await {
        return Ok(known);
    }
    let found: Option<Option<i64>> = customer::Entity::find_by_id(customer_id)
        .select_only()
        .column(customer::Column::ReferrerId)
        .into_tuple()
        .one(db)
        .await?;
    // An unknown customer is not remembered: it may be created later.
    if let Some(referrer) = found {
        state
            .part::<Referrers>()
            .0
            .insert(customer_id, referrer)
            .await;
    }
    Ok(found.flatten())
}

/// Checked login input, before WeChat is asked.
pub struct Profile {
    nickname: Option<String>,
    avatar_url: Option<String>,
    scene: Option<String>,
    referral_code: Option<String>,
}

/// What the mini-program sends about the customer at login, unchecked.
#[derive(Default)]
pub struct LoginProfile {
    pub nickname: Option<String>,
    pub avatar_url: Option<String>,
    pub scene: Option<String>,
    pub referral_code: Option<String>,
}

/// Checks the profile sent at login (before WeChat is asked, so a bad
/// request does not spend the one-time code).
pub fn check_profile(input: LoginProfile) -> AppResult<Profile> {
    let avatar_url = validate::optional_text(input.avatar_url.as_deref(), "avatarUrl", 512)?;
    if let Some(url) = &avatar_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(AppError::bad_input("avatarUrl", "must be an http(s) URL"));
    }
    Ok(Profile {
        nickname: validate::optional_text(input.nickname.as_deref(), "nickname", 64)?,
        avatar_url,
        scene: validate::optional_text(
            input
                .scene
                .as_deref()
                .map(|s| scene::decode(s).into_owned())
                .as_deref(),
            "scene",
            64,
        )?,
        referral_code: validate::optional_text(input.referral_code.as_deref(), "referralCode", 32)?,
    })
}

/// The customer behind a WeChat identity, created on its first login (with
/// its inviter and entry scene); later logins refresh its profile.
pub async fn sign_in(
    state: &AppState,
    identity: WechatIdentity,
    profile: Profile,
) -> AppResult<customer::Model> {
    let default_nickname = identity.openid.strip_prefix("demo:").map(str::to_string);
    find_or_create(state, identity, profile, default_nickname).await
}

async fn find_or_create(
    state: &AppState,
    identity: WechatIdentity,
    profile: Profile,
    default_nickname: Option<String>,
) -> AppResult<customer::Model> {
    let db = &state.db;
    let by_openid =
        || customer::Entity::find().filter(customer::Column::Openid.eq(identity.openid.clone()));
    if let Some(existing) = by_openid().one(db).await? {
        return touch(state, existing, identity.unionid, profile).await;
    }

    // A share code carries the inviter in its scene (`r=<code>`, `ref=<code>`).
    let from_scene = profile.scene.as_deref().and_then(scene::referral_code);
    let referrer_id = match profile.referral_code.as_deref().or(from_scene.as_deref()) {
        Some(raw) => match referral_code::normalize(raw) {
            Some(code) => customer::Entity::find()
                .filter(customer::Column::ReferralCode.eq(code))
                .one(db)
                .await?
                .map(|c| c.id),
            None => None,
        },
        None => None,
    };
    if (profile.referral_code.is_some() || from_scene.is_some()) && referrer_id.is_none() {
        // A stale or mistyped share link must not stop anyone from signing in.
        tracing::info!("first login with an unknown referral code; not bound");
    }

    let now = Utc::now();
    // Retry only on a referral-code collision; an openid collision means a
    // concurrent first login of the same person, whose row we then use.
    for _ in 0..8 {
        let inserted = customer::ActiveModel {
            openid: Set(identity.openid.clone()),
            unionid: Set(identity.unionid.clone()),
            nickname: Set(profile
                .nickname
                .clone()
                .or_else(|| default_nickname.clone())),
            avatar_url: Set(profile.avatar_url.clone()),
            referral_code: Set(referral_code::generate()),
            referrer_id: Set(referrer_id),
            scene: Set(profile.scene.clone()),
            created_at: Set(now),
            last_login_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await;
        match inserted {
            Ok(model) => {
                tracing::info!(
                    customer_id = model.id,
                    referred = referrer_id.is_some(),
                    "new customer"
                );
                return Ok(model);
            }
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                if let Some(existing) = by_openid().one(db).await? {
                    return Ok(existing);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal(anyhow::anyhow!(
        "could not find a free referral code"
    )))
}

/// Later logins refresh the profile and unionid; referrer and scene stay.
async fn touch(
    state: &AppState,
    existing: customer::Model,
    unionid: Option<String>,
    profile: Profile,
) -> AppResult<customer::Model> {
    let mut active: customer::ActiveModel = existing.clone().into();
    active.last_login_at = Set(Utc::now());
    if unionid.is_some() && existing.unionid != unionid {
        active.unionid = Set(unionid);
    }
    if profile.nickname.is_some() {
        active.nickname = Set(profile.nickname);
    }
    if profile.avatar_url.is_some() {
        active.avatar_url = Set(profile.avatar_url);
    }
    Ok(active.update(&state.db).await?)
}
