//! Categories: a tree of at most two levels, cached whole.

use std::sync::Arc;

use chrono::Utc;
use entity::{category, product};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, SqlErr,
    TransactionTrait,
};

use super::service::CATEGORIES_TTL;
use crate::{
    cache::keys,
    error::{AppError, AppResult},
    state::AppState,
    validate,
};
#[derive(Clone, Debug)]
pub struct CategoryDraft {
    pub name: String,
    pub parent_id: Option<i64>,
    pub sort: i32,
    pub icon_url: Option<String>,
}

pub async fn create_category(state: &AppState, draft: CategoryDraft) -> AppResult<category::Model> {
    let name = validate::text(&draft.name, "name", 32)?;
    let icon_url = draft
        .icon_url
        .as_deref()
        .map(|u| validate::url(u, "iconUrl"))
        .transpose()?;
    if let Some(parent) = draft.parent_id
        && category::Entity::find_by_id(parent)
            .one(&state.db)
            .await?
            .is_none()
    {
        return Err(AppError::NotFound(format!(
            "parent category {parent} does not exist"
        )));
    }
    let created = category::ActiveModel {
        name: Set(name),
        parent_id: Set(draft.parent_id),
        sort: Set(draft.sort),
        icon_url: Set(icon_url),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    state
        .cache
        .invalidate(&[keys::CATEGORIES.to_string()])
        .await;
    Ok(created)
}

/// Sets every field of category `id` as given (as `create_category` takes
/// them: no parent = top level). A parent must exist and may not be the
/// category itself or one below it (the tree would lose a branch in a loop).
/// Cached reads see the change at once: the tree is invalidated, and with
/// it the catalogue generation that whole cached responses carry.
pub async fn update_category(
    state: &AppState,
    id: i64,
    draft: CategoryDraft,
) -> AppResult<category::Model> {
    let name = validate::text(&draft.name, "name", 32)?;
    let icon_url = draft
        .icon_url
        .as_deref()
        .map(|u| validate::url(u, "iconUrl"))
        .transpose()?;
    let all = category::Entity::find().all(&state.db).await?;
    let found = all
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("category {id} does not exist")))?;
    if let Some(parent) = draft.parent_id {
        if !all.iter().any(|c| c.id == parent) {
            return Err(AppError::NotFound(format!(
                "parent category {parent} does not exist"
            )));
        }
        if subtree(&all, id).contains(&parent) {
            return Err(AppError::bad_input(
                "parentId",
                "must not be the category itself or one of its sub-categories",
            ));
        }
    }
    let mut row: category::ActiveModel = found.into();
    row.name = Set(name);
    row.parent_id = Set(draft.parent_id);
    row.sort = Set(draft.sort);
    row.icon_url = Set(icon_url);
    let updated = row.update(&state.db).await?;
    state
        .cache
        .invalidate(&[keys::CATEGORIES.to_string()])
        .await;
    Ok(updated)
}

/// Removes category `id`, refused with CONFLICT while a product (on shelf
/// or not) or a sub-category is in it: products must always have a
/// category, and past orders' products still point at theirs.
pub async fn delete_category(state: &AppState, id: i64) -> AppResult<()> {
    let txn = state.db.begin().await?;
    if category::Entity::find_by_id(id).one(&txn).await?.is_none() {
        return Err(AppError::NotFound(format!("category {id} does not exist")));
    }
    if product::Entity::find()
        .filter(product::Column::CategoryId.eq(id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "category {id} still has products; move them to another category first"
        )));
    }
    if category::Entity::find()
        .filter(category::Column::ParentId.eq(id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "category {id} still has sub-categories; move or remove them first"
        )));
    }
    // A product or sub-category added meanwhile (PostgreSQL) makes the
    // foreign key refuse the delete: the same CONFLICT.
    let deleted = category::Entity::delete_by_id(id).exec(&txn).await;
    match deleted {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
            return Err(AppError::Conflict(format!(
                "category {id} was given a product or sub-category meanwhile"
            )));
        }
        Err(e) => return Err(e.into()),
    }
    txn.commit().await?;
    state
        .cache
        .invalidate(&[keys::CATEGORIES.to_string()])
        .await;
    Ok(())
}

/// All categories, by sort order then id (cached: the tree is small and read
/// on every page). Kept in process per catalogue generation over the shared
/// entry, so a filtered page or a product's category costs no round trip.
pub async fn categories(state: &AppState) -> AppResult<Vec<category::Model>> {
    let all: Arc<Vec<category::Model>> = state
        .cache
        .catalogue_memo(keys::CATEGORIES, || async {
            let db = state.db.clone();
            let all: Vec<category::Model> = state
                .cache
                .get_or_load(keys::CATEGORIES, CATEGORIES_TTL, || async move {
                    Ok(category::Entity::find()
                        .order_by_asc(category::Column::Sort)
                        .order_by_asc(category::Column::Id)
                        .all(&db)
                        .await?)
                })
                .await?;
            Ok(Arc::new(all))
        })
        .await?;
    Ok(all.as_ref().clone())
}

/// Categories by id, from the whole (cached) tree.
pub async fn categories_by_ids(state: &AppState, ids: &[i64]) -> AppResult<Vec<category::Model>> {
    Ok(categories(state)
        .await?
        .into_iter()
        .filter(|c| ids.contains(&c.id))
        .collect())
}

/// A category and everything below it.
pub(super) fn subtree(all: &[category::Model], root: i64) -> Vec<i64> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            all.iter()
                .filter(|c| c.parent_id == Some(parent))
                .map(|c| c.id),
        );
        i += 1;
    }
    out
}
