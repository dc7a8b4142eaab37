//! Ending sessions: `logout`, a supplier's API key rotated or the supplier
//! disabled, the admin's password changed through `ADMIN_PASSWORD`.
//!
//! Each does two things: revokes refresh tokens in the database (they live
//! for weeks) and marks the access tokens void in the shared cache
//! (`auth::session`: they are checked there on every request, never in the
//! database). A withdrawal of a credential writes the subject's row and
//! revokes its refresh tokens in one transaction, and marks the cache only
//! after it committed; `service` explains why a sign-in racing with it
//! cannot slip through.
use entity::admin;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait,
};

use super::service::{revoke_family, revoke_subject};
use crate::{
    auth::{Role, password, session},
    error::{AppError, AppResult},
    modules::supplier,
    state::AppState,
};

/// Ends the caller's session: its refresh family is revoked and its access
/// token (and any other of the family) stops working at once.
pub async fn logout(state: &AppState, sid: &str) -> AppResult<()> {
    revoke_family(&state.db, sid).await?;
    session::end_session(&state.jwt, &state.cache, sid).await
}

/// Gives a supplier a new API key; the old key, and every session signed in
/// with it, stop working. Returns the supplier and the key (shown once).
///
/// If the cache cannot take the revocation the call fails (INTERNAL) after
/// the key was replaced: calling it again gives another key and tries again.
pub async fn rotate_supplier_key(
    state: &AppState,
    supplier_id: i64,
) -> AppResult<(entity::supplier::Model, String)> {
    let txn = state.db.begin().await?;
    let (found, api_key) = supplier::service::rotate_key(&txn, supplier_id).await?;
    revoke_subject(&txn, Role::Supplier, supplier_id).await?;
    txn.commit().await?;
    session::end_subject_sessions(&state.jwt, &state.cache, Role::Supplier, supplier_id).await?;
    tracing::info!(supplier_id, "supplier API key rotated; its sessions ended");
    Ok((found, api_key))
}

/// Enables or disables a supplier. Disabling ends every session it has (its
/// access tokens at once, its refresh tokens too) and refuses its sign-ins
/// until it is enabled again; enabling lets it sign in anew.
pub async fn set_supplier_active(
    state: &AppState,
    supplier_id: i64,
    active: bool,
) -> AppResult<entity::supplier::Model> {
    let txn = state.db.begin().await?;
    let found = supplier::service::set_active(&txn, supplier_id, active).await?;
    if !active {
        revoke_subject(&txn, Role::Supplier, supplier_id).await?;
    }
    txn.commit().await?;
    if !active {
        session::end_subject_sessions(&state.jwt, &state.cache, Role::Supplier, supplier_id)
            .await?;
    }
    tracing::info!(supplier_id, active, "supplier enabled or disabled");
    Ok(found)
}

/// The configured admin (`ADMIN_USERNAME`/`ADMIN_PASSWORD`) at start: created
/// when absent, as the store's first OWNER (its role and active flag are the
/// owners' to manage from then on, not changed here); when its stored password is not the configured one, the
/// configured one replaces it and its sessions end. Changing
/// `ADMIN_PASSWORD` and restarting is how the admin's password is rotated
/// (or reset when forgotten, or when it leaked).
pub async fn ensure_admin(state: &AppState, username: &str, password_text: &str) -> AppResult<()> {
    let db = &state.db;
    let found = admin::Entity::find()
        .filter(admin::Column::Username.eq(username))
        .one(db)
        .await?;
    let Some(existing) = found else {
        return create_admin(state, username, password_text).await;
    };
    let (pw, stored) = (password_text.to_string(), existing.password_hash.clone());
    // argon2 is deliberately slow: keep it off the async workers.
    let replacement = tokio::task::spawn_blocking(move || {
        if password::verify(&pw, &stored) {
            Ok(None)
        } else {
            password::hash(&pw).map(Some)
        }
    })
    .await
    .map_err(AppError::internal)??;
    let Some(hash) = replacement else {
        return Ok(());
    };
    let txn = db.begin().await?;
    let mut row: admin::ActiveModel = existing.clone().into();
    row.password_hash = Set(hash);
    row.update(&txn).await?;
    revoke_subject(&txn, Role::Admin, existing.id).await?;
    txn.commit().await?;
    // A cache that is down at start must not keep the server from starting:
    // the old password is refused and the refresh tokens are revoked; only
    // access tokens already out live on, at most their lifetime.
    if let Err(e) =
        session::end_subject_sessions(&state.jwt, &state.cache, Role::Admin, existing.id).await
    {
        tracing::error!(username, error = %e, "the admin's access tokens stay valid until they expire");
    }
    tracing::info!(
        username,
        "ADMIN_PASSWORD differs from the admin's stored password: replaced it and ended the admin's sessions"
    );
    Ok(())
}

async fn create_admin(state: &AppState, username: &str, password_text: &str) -> AppResult<()> {
    let pw = password_text.to_string();
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(AppError::internal)??;
    let inserted = admin::ActiveModel {
        username: Set(username.to_string()),
        password_hash: Set(hash),
        created_at: Set(chrono::Utc::now()),
        // The configured account is the store's first owner.
        role: Set(crate::auth::StaffRole::Owner.as_str().to_string()),
        active: Set(true),
        ..Default::default()
    }
    .insert(&state.db)
    .await;
    match inserted {
        Ok(_) => {
            tracing::info!(username, "admin created (OWNER)");
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
