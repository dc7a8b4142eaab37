//! Categories: a tree of at most two levels, cached whole.

use std::sync::Arc;

use chrono::Utc;
use entity::category;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};

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
