//! Issuing and rotating tokens, and admin accounts.
use chrono::{DateTime, Utc};
use entity::{admin, refresh_token};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::Expr,
};

use super::types::WechatLoginInput;
use crate::{
    auth::{Role, password},
    crypto::{random_token, sha256_hex},
    error::{AppError, AppResult},
    modules::customer::{self, service::LoginProfile},
    state::AppState,
    wechat::login::{WechatIdentity, code2session},
};

/// A fresh access/refresh pair.
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    pub role: Role,
    pub subject_id: i64,
}

/// Issues a pair; `family` continues a rotation family (None starts one).
pub async fn issue_tokens(
    state: &AppState,
    role: Role,
    subject_id: i64,
    family: Option<String>,
) -> AppResult<Tokens> {
    let (access_token, expires_at) = state.jwt.issue(role, subject_id)?;
    let refresh = random_token(32);
    let now = Utc::now();
    let ttl =
        chrono::Duration::from_std(state.settings.refresh_token_ttl).map_err(AppError::internal)?;
    refresh_token::ActiveModel {
        token_hash: Set(sha256_hex(&refresh)),
        family_id: Set(family.unwrap_or_else(|| random_token(16))),
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
    })
}

/// Exchanges a refresh token for a new pair. A token works once: presenting
/// it again means it leaked, so its whole family is revoked and the holder
/// must sign in again.
pub async fn rotate(state: &AppState, presented: &str) -> AppResult<Tokens> {
    let invalid = || {
        AppError::Unauthenticated("the refresh token is invalid or expired; sign in again".into())
    };
    let db = &state.db;
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(sha256_hex(presented)))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    let now = Utc::now();
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Err(invalid());
    }
    // Claim the token with one conditional update: of two concurrent uses,
    // exactly one wins and the other is treated as reuse.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        revoke_family(db, &row.family_id).await?;
        tracing::warn!(family = %row.family_id, "refresh token reused; family revoked");
        return Err(AppError::Unauthenticated(
            "this refresh token was already used; for safety every session from it is signed out"
                .into(),
        ));
    }
    let role = Role::parse(&row.role)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("bad role {}", row.role)))?;
    issue_tokens(state, role, row.subject_id, Some(row.family_id)).await
}

async fn revoke_family(db: &DatabaseConnection, family: &str) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Checks an admin's password; the same error whether the user or the password is wrong.
pub async fn admin_login(
    state: &AppState,
    username: &str,
    password_text: &str,
) -> AppResult<Tokens> {
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
    match (ok, found) {
        (true, Some(a)) => issue_tokens(state, Role::Admin, a.id, None).await,
        _ => Err(AppError::Unauthenticated(
            "wrong username or password".into(),
        )),
    }
}

/// Creates the configured admin at start when it does not exist yet (an
/// existing admin's password is left as it is).
pub async fn ensure_admin(
    db: &DatabaseConnection,
    username: &str,
    password_text: &str,
) -> AppResult<()> {
    let exists = admin::Entity::find()
        .filter(admin::Column::Username.eq(username))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let pw = password_text.to_string();
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(AppError::internal)??;
    let inserted = admin::ActiveModel {
        username: Set(username.to_string()),
        password_hash: Set(hash),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => {
            tracing::info!(username, "admin created");
            Ok(())
        }
        // Another instance created it at the same moment.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
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
