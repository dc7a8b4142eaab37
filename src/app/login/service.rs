//! Issuing and rotating tokens, and the admin and supplier sign-ins.
//!
//! Two rules keep a withdrawn credential from living on through a sign-in
//! or refresh that raced with its withdrawal (see `sessions` for the
//! withdrawals):
//! - A sign-in whose credential can be withdrawn (admin password, supplier
//!   key or active flag) reads its subject again after it has written the
//!   refresh token, with a locking read: a withdrawal either shows there,
//!   or it began later and its revocation finds that refresh token.
//! - A family with any revoked row is dead. A revocation's UPDATE may miss
//!   a row written while it ran, never the rows that were there before; so
//!   a refresh checks the family after writing the new row, and every later
//!   refresh checks it before.
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{admin, refresh_token};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, sea_query::Expr,
};
use serde::{Deserialize, Serialize};

use super::types::WechatLoginInput;
use crate::{
    auth::{Role, StaffRole, password, session},
    cache::{Cache, keys},
    crypto::{random_token, sha256_hex},
    error::{AppError, AppResult},
    modules::{
        customer::{self, service::LoginProfile},
        supplier,
    },
    state::AppState,
    wechat::login::{WechatIdentity, code2session},
};

/// A fresh access/refresh pair.
#[derive(Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    pub role: Role,
    pub subject_id: i64,
    /// The refresh family, which is the access token's session (`sid`).
    pub family: String,
    /// The staff role of ADMIN tokens.
    #[serde(default)]
    pub staff: Option<StaffRole>,
}

/// Issues a pair; `family` continues a rotation family (None starts one).
pub async fn issue_tokens(
    state: &AppState,
    role: Role,
    subject_id: i64,
    family: Option<String>,
) -> AppResult<Tokens> {
    // A staff token carries the account's role, read when it is issued (a
    // refresh too): a disabled account gets none.
    let staff = match role {
        Role::Admin => Some(
            super::staff::active_role(&state.db, subject_id)
                .await?
                .ok_or_else(disabled)?,
        ),
        _ => None,
    };
    let family = family.unwrap_or_else(|| random_token(16));
    let (access_token, expires_at) = state.jwt.issue(role, subject_id, staff, &family)?;
    let refresh = random_token(32);
    let now = Utc::now();
    let ttl =
        chrono::Duration::from_std(state.settings.refresh_token_ttl).map_err(AppError::internal)?;
    refresh_token::ActiveModel {
        token_hash: Set(sha256_hex(&refresh)),
        family_id: Set(family.clone()),
        role: Set(role.as_str().to_string()),
        subject_id: Set(subject_id),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    Ok(Tokens {
        access_token,
        refresh_token: refresh,
        expires_at,
        role,
        subject_id,
        family,
        staff,
    })
}

fn disabled() -> AppError {
    AppError::Unauthenticated("this staff account is disabled".into())
}

fn invalid_refresh() -> AppError {
    AppError::Unauthenticated("the refresh token is invalid or expired; sign in again".into())
}

/// Exchanges a refresh token for a new pair. A token works once: presenting
/// it again means it leaked, so its whole family is revoked and the holder
/// must sign in again; except within `REFRESH_REUSE_GRACE_SECS` of its
/// first use, when the same new pair is handed out again (a mini-program
/// whose requests all found the access token expired refreshes several
/// times at once).
pub async fn rotate(state: &AppState, presented: &str) -> AppResult<Tokens> {
    if presented.len() > 256 {
        return Err(invalid_refresh());
    }
    let db = &state.db;
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(sha256_hex(presented)))
        .one(db)
        .await?
        .ok_or_else(invalid_refresh)?;
    if row.expires_at <= Utc::now() || family_revoked(db, &row.family_id).await? {
        return Err(invalid_refresh());
    }
    // Claim the token with one conditional update: of two concurrent uses,
    // exactly one wins and the other is a repeat.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return repeated(state, presented, row.id).await;
    }
    let role = Role::parse(&row.role)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("bad role {}", row.role)))?;
    let tokens = issue_tokens(state, role, row.subject_id, Some(row.family_id.clone())).await?;
    // A sign-out or withdrawal that ran meanwhile may have missed the row
    // just written (see the module doc); it did not miss the one claimed.
    if family_revoked(db, &row.family_id).await? {
        revoke_family(db, &row.family_id).await?;
        return Err(invalid_refresh());
    }
    let grace = state.settings.refresh_reuse_grace;
    remember_pair(&state.cache, grace, presented, &tokens).await;
    Ok(tokens)
}

/// How long a refresh that lost the race waits for the winner's pair to
/// appear in the cache, step by step (about 2 s in all): the winner writes
/// a refresh token and signs a token after its claim, which takes
/// milliseconds unless the database is busy.
const PAIR_WAITS_MS: [u64; 9] = [10, 20, 40, 80, 150, 250, 400, 500, 550];

/// A refresh token presented after it was claimed (by a concurrent request
/// or earlier).
async fn repeated(state: &AppState, presented: &str, row_id: i64) -> AppResult<Tokens> {
    let db = &state.db;
    let row = refresh_token::Entity::find_by_id(row_id)
        .one(db)
        .await?
        .ok_or_else(invalid_refresh)?;
    // Not used, so the claim lost to a revocation: not a reuse. Revoked:
    // nothing more to do.
    let Some(used_at) = row.used_at.filter(|_| row.revoked_at.is_none()) else {
        return Err(invalid_refresh());
    };
    let grace = state.settings.refresh_reuse_grace;
    let since = (Utc::now() - used_at).to_std().unwrap_or(Duration::ZERO);
    if !grace.is_zero() && since <= grace {
        let Some(tokens) = successor_pair(&state.cache, presented).await else {
            // The winner failed, or the cache could not keep its pair: not
            // a theft either, so the family lives on with the winner's pair.
            return Err(AppError::Unauthenticated(
                "this refresh token was just used by another request, whose new tokens are the ones to use; otherwise sign in again".into(),
            ));
        };
        // The winner's family may have been revoked since (a logout).
        if family_revoked(db, &tokens.family).await? {
            return Err(invalid_refresh());
        }
        return Ok(tokens);
    }
    revoke_family(db, &row.family_id).await?;
    // The family's access token must stop too, not only its refresh tokens.
    if let Err(e) = session::end_session(&state.jwt, &state.cache, &row.family_id).await {
        tracing::error!(family = %row.family_id, error = %e, "reused refresh token: the family's access tokens stay valid until they expire");
    }
    tracing::warn!(family = %row.family_id, "refresh token reused; family revoked");
    Err(AppError::Unauthenticated(
        "this refresh token was already used; for safety every session from it is signed out"
            .into(),
    ))
}

/// Keeps the pair a refresh gave, for repeats of the same refresh token
/// within the grace window: under the presented token's hash, sealed with
/// a key derived from the presented token itself, so that only its holder
/// can read it (not whoever reads Redis). Nothing is kept with no grace.
async fn remember_pair(cache: &Cache, grace: Duration, presented: &str, tokens: &Tokens) {
    if grace.is_zero() {
        return;
    }
    let Ok(plain) = serde_json::to_vec(tokens) else {
        return;
    };
    let sealed = crate::crypto::seal(presented, &plain);
    cache
        .set_bytes(&keys::refreshed_pair(&sha256_hex(presented)), sealed, grace)
        .await;
}

/// The pair the winning refresh of `presented` kept, waiting for it a
/// little: a loser may get here before the winner has stored it.
async fn successor_pair(cache: &Cache, presented: &str) -> Option<Tokens> {
    let key = keys::refreshed_pair(&sha256_hex(presented));
    for wait in std::iter::once(0).chain(PAIR_WAITS_MS) {
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        if let Some(sealed) = cache.get_bytes(&key).await {
            return crate::crypto::open(presented, &sealed)
                .and_then(|plain| serde_json::from_slice(&plain).ok());
        }
    }
    None
}

/// Whether any refresh token of the family was revoked (then all are dead).
async fn family_revoked(db: &DatabaseConnection, family: &str) -> AppResult<bool> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_not_null())
        .one(db)
        .await?
        .is_some())
}

/// Revokes every refresh token of a family.
pub(super) async fn revoke_family(db: &impl ConnectionTrait, family: &str) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every refresh token of one subject (all its families).
pub(super) async fn revoke_subject(
    db: &impl ConnectionTrait,
    role: Role,
    subject_id: i64,
) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::SubjectId.eq(subject_id))
        .filter(refresh_token::Column::Role.eq(role.as_str()))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Checks a staff account's password; the same error whether the user or
/// the password is wrong. A disabled account is told so (after its password
/// was right).
pub async fn admin_login(
    state: &AppState,
    username: &str,
    password_text: &str,
) -> AppResult<Tokens> {
    let wrong = || AppError::Unauthenticated("wrong username or password".into());
    let found = admin::Entity::find()
        .filter(admin::Column::Username.eq(username.trim()))
        .one(&state.db)
        .await?;
    let stored = found.as_ref().map(|a| a.password_hash.clone());
    let pw = password_text.to_string();
    // argon2 is deliberately slow: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || {
        password::verify(&pw, stored.as_deref().unwrap_or(password::dummy_hash()))
            && stored.is_some()
    })
    .await
    .map_err(AppError::internal)?;
    let Some(a) = found.filter(|_| ok) else {
        return Err(wrong());
    };
    if !a.active {
        return Err(disabled());
    }
    let tokens = issue_tokens(state, Role::Admin, a.id, None).await?;
    // The password may have been replaced (ADMIN_PASSWORD at another
    // instance's start, a reset) or the account disabled since it was
    // checked (see the module doc).
    let mut q = admin::Entity::find_by_id(a.id);
    if state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q = sea_orm::QuerySelect::lock_exclusive(q);
    }
    let settled = q.one(&state.db).await?;
    if settled.is_none_or(|now| now.password_hash != a.password_hash || !now.active) {
        revoke_family(&state.db, &tokens.family).await?;
        return Err(wrong());
    }
    Ok(tokens)
}

/// Signs a supplier's integration in with its API key.
pub async fn supplier_login(state: &AppState, api_key: &str) -> AppResult<Tokens> {
    let found = supplier::service::authenticate(state, api_key).await?;
    let tokens = issue_tokens(state, Role::Supplier, found.id, None).await?;
    // Disabled or given a new key meanwhile? (see the module doc)
    let settled = supplier::service::settled(&state.db, found.id).await?;
    if settled.is_none_or(|s| !s.active || s.api_key_hash != found.api_key_hash) {
        revoke_family(&state.db, &tokens.family).await?;
        return Err(AppError::Unauthenticated(
            "this API key was just replaced or its supplier disabled".into(),
        ));
    }
    Ok(tokens)
}

/// A demo code `demo:<name>`: letters, digits, `_` or `-`, 1-32 long.
fn demo_name(code: &str) -> AppResult<Option<&str>> {
    let Some(name) = code.strip_prefix("demo:") else {
        return Ok(None);
    };
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(Some(name))
    } else {
        Err(AppError::bad_input(
            "code",
            "a demo code is demo:<name>, with a name of 1-32 letters, digits, _ or -",
        ))
    }
}

/// Logs a customer in by WeChat code, creating them on the first login.
pub async fn wechat_login(
    state: &AppState,
    input: WechatLoginInput,
) -> AppResult<entity::customer::Model> {
    let code = input.code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(AppError::bad_input(
            "code",
            "must be the 1-128 character code from wx.login()",
        ));
    }
    let profile = customer::service::check_profile(LoginProfile {
        nickname: input.nickname,
        avatar_url: input.avatar_url,
        scene: input.scene,
        referral_code: input.referral_code,
    })?;
    let identity = match (&state.settings.wechat, state.settings.demo_mode()) {
        (Some(wechat), _) => code2session(&state.http, wechat, code).await?,
        (None, true) => match demo_name(code)? {
            Some(name) => WechatIdentity {
                openid: format!("demo:{name}"),
                unionid: None,
            },
            None => {
                return Err(AppError::WechatLoginFailed(
                    "demo mode (no WECHAT_APPID configured): log in with a code of the form demo:<name>".into(),
                ));
            }
        },
        (None, false) => {
            return Err(AppError::internal(anyhow::anyhow!(
                "WeChat login is not configured"
            )));
        }
    };
    customer::service::sign_in(state, identity, profile).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::cache::MemoryCache;

    fn pair() -> Tokens {
        Tokens {
            access_token: "access".into(),
            refresh_token: "refresh".into(),
            expires_at: Utc::now(),
            role: Role::Customer,
            subject_id: 7,
            family: "fam".into(),
            staff: None,
        }
    }

    #[tokio::test]
    async fn a_repeat_waits_for_the_pair_the_first_refresh_stores_later() {
        let cache = Cache::new(Arc::new(MemoryCache::default()), "t");
        let grace = Duration::from_secs(10);
        // The winner stores its pair 300 ms after the loser started looking.
        let winner = {
            let cache = cache.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                remember_pair(&cache, grace, "presented", &pair()).await;
            })
        };
        let found = successor_pair(&cache, "presented")
            .await
            .expect("the loser finds the winner's pair");
        winner.await.unwrap();
        assert_eq!(found.refresh_token, "refresh");
        assert_eq!(found.family, "fam");
        // Nothing is kept without a grace window.
        remember_pair(&cache, Duration::ZERO, "unkept", &pair()).await;
        assert!(
            cache
                .get_bytes(&keys::refreshed_pair(&sha256_hex("unkept")))
                .await
                .is_none()
        );
    }
}
