//! Staff accounts: the owner creates them with a role, disables and enables
//! them, resets their passwords. A role never changes: the role an access
//! token states stays true for its life, and whoever needs another role
//! gets a new account (the old one disabled).
//!
//! Disabling an account or resetting its password ends its sessions the
//! way a supplier's are ended (`sessions`): refresh tokens revoked in the
//! same transaction, access tokens voided in the shared cache once it
//! committed. The store always keeps one active OWNER: the last one cannot
//! be disabled, and nobody disables their own account.
use entity::admin;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::service::revoke_subject;
use crate::{
    auth::{Role, StaffRole, password, session},
    error::{AppError, AppResult},
    state::AppState,
};

/// Usernames: 1-64 letters, digits, `.`, `_`, `-` or `@`.
pub fn check_username(username: &str) -> AppResult<String> {
    let u = username.trim();
    let ok = !u.is_empty()
        && u.len() <= 64
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(u.to_string())
    } else {
        Err(AppError::bad_input(
            "username",
            "must be 1-64 letters, digits, '.', '_', '-' or '@'",
        ))
    }
}

/// The rule `ADMIN_PASSWORD` follows in production, for every account made
/// here: 12 to 256 characters (what `adminLogin` accepts).
pub fn check_password(field: &str, password_text: &str) -> AppResult<()> {
    let n = password_text.chars().count();
    if (12..=256).contains(&n) && password_text.len() <= 256 {
        Ok(())
    } else {
        Err(AppError::bad_input(field, "must be 12 to 256 characters"))
    }
}

async fn hash(password_text: &str) -> AppResult<String> {
    let pw = password_text.to_string();
    // argon2 is deliberately slow: keep it off the async workers.
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(AppError::internal)?
}

/// The staff role of an account that may sign in (active), or `None`.
pub async fn active_role(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<StaffRole>> {
    Ok(admin::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|a| a.active)
        .and_then(|a| StaffRole::parse(&a.role)))
}

pub async fn get(state: &AppState, id: i64) -> AppResult<admin::Model> {
    admin::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no staff account {id}")))
}

/// Creates an account; a username already taken is `CONFLICT`.
pub async fn create(
    state: &AppState,
    username: &str,
    password_text: &str,
    role: StaffRole,
) -> AppResult<admin::Model> {
    let username = check_username(username)?;
    check_password("password", password_text)?;
    let taken = || AppError::Conflict(format!("the username {username} is already taken"));
    if admin::Entity::find()
        .filter(admin::Column::Username.eq(&username))
        .one(&state.db)
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let inserted = admin::ActiveModel {
        username: Set(username.clone()),
        password_hash: Set(hash(password_text).await?),
        created_at: Set(chrono::Utc::now()),
        role: Set(role.as_str().to_string()),
        active: Set(true),
        ..Default::default()
    }
    .insert(&state.db)
    .await;
    match inserted {
        Ok(row) => {
            tracing::info!(username, role = role.as_str(), "staff account created");
            Ok(row)
        }
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Err(taken())
        }
        Err(e) => Err(e.into()),
    }
}

/// Enables or disables account `id` (by owner `actor`). Disabling ends
/// every session it has at once.
pub async fn set_active(
    state: &AppState,
    actor: i64,
    id: i64,
    active: bool,
) -> AppResult<admin::Model> {
    if !active && actor == id {
        return Err(AppError::Conflict(
            "you cannot disable your own account; another owner can".into(),
        ));
    }
    let txn = state.db.begin().await?;
    let found = admin::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no staff account {id}")))?;
    if !active && found.active && found.role == StaffRole::Owner.as_str() {
        // Two owners disabling each other at once must not both succeed:
        // on PostgreSQL the active owners are locked (in id order) and
        // counted again; SQLite runs one write transaction at a time.
        let mut q = admin::Entity::find()
            .filter(admin::Column::Role.eq(StaffRole::Owner.as_str()))
            .filter(admin::Column::Active.eq(true))
            .order_by_asc(admin::Column::Id);
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            q = q.lock_exclusive();
        }
        let owners = q.all(&txn).await?;
        if owners.iter().all(|o| o.id == id) {
            return Err(AppError::Conflict(
                "this is the last active owner; create or enable another owner first".into(),
            ));
        }
    }
    let mut row: admin::ActiveModel = found.into();
    row.active = Set(active);
    let saved = row.update(&txn).await?;
    if !active {
        revoke_subject(&txn, Role::Admin, id).await?;
    }
    txn.commit().await?;
    if !active {
        session::end_subject_sessions(&state.jwt, &state.cache, Role::Admin, id).await?;
    }
    tracing::info!(id, active, "staff account enabled or disabled");
    Ok(saved)
}

/// Gives account `id` a new password; its sessions end (it signs in again
/// with the new one).
pub async fn reset_password(
    state: &AppState,
    id: i64,
    password_text: &str,
) -> AppResult<admin::Model> {
    check_password("password", password_text)?;
    let hashed = hash(password_text).await?;
    let txn = state.db.begin().await?;
    let found = admin::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no staff account {id}")))?;
    let mut row: admin::ActiveModel = found.into();
    row.password_hash = Set(hashed);
    let saved = row.update(&txn).await?;
    revoke_subject(&txn, Role::Admin, id).await?;
    txn.commit().await?;
    session::end_subject_sessions(&state.jwt, &state.cache, Role::Admin, id).await?;
    tracing::info!(id, "staff password reset; its sessions ended");
    Ok(saved)
}

/// A page of accounts, newest first, after cursor id `after`; and whether
/// more follow.
pub async fn list(
    state: &AppState,
    first: u64,
    after: Option<i64>,
) -> AppResult<(Vec<admin::Model>, bool)> {
    let mut q = admin::Entity::find().order_by_desc(admin::Column::Id);
    if let Some(after) = after {
        q = q.filter(admin::Column::Id.lt(after));
    }
    let mut rows = q.limit(first + 1).all(&state.db).await?;
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok((rows, more))
}

/// The username of account `id` (for the audit log).
pub async fn username(db: &impl ConnectionTrait, id: i64) -> AppResult<String> {
    Ok(admin::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|a| a.username)
        .unwrap_or_else(|| format!("#{id}")))
}
