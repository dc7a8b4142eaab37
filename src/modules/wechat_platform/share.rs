//! Share codes (小程序码, `POST /wxa/getwxacodeunlimit`): a code whose
//! `scene` carries the customer's referral code (`r=<code>`) and optionally
//! a product (`&p=<id>`), so that whoever scans it lands on the page with
//! the inviter known at their first login.
//!
//! Generated once per (customer, page, product) and kept in `share_code`
//! with an unguessable token; siyu serves the image at
//! `/share-codes/<token>.png`. Without WeChat (demo mode) the image is a
//! placeholder.
use chrono::Utc;
use entity::share_code;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use serde_json::json;

use crate::{
    error::{AppError, AppResult},
    state::AppState,
    wechat::api::{Answer, WechatApiError},
};

/// WeChat refuses a longer scene.
pub const MAX_SCENE: usize = 32;

/// A 1×1 transparent PNG: the demo store's share code.
const PLACEHOLDER_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// A share code as the API shows it.
pub struct ShareCodeView {
    pub scene: String,
    pub image_url: String,
}

/// The scene for a referral code and an optional product.
pub fn scene_of(referral_code: &str, product_id: Option<i64>) -> String {
    match product_id {
        Some(p) => format!("r={referral_code}&p={p}"),
        None => format!("r={referral_code}"),
    }
}

/// The caller's share code for `page` (the configured one when absent) and
/// an optional product on the shelf; generated on first request.
pub async fn share_code(
    state: &AppState,
    customer_id: i64,
    page: Option<&str>,
    product_id: Option<i64>,
) -> AppResult<ShareCodeView> {
    let page = page
        .map(str::trim)
        .unwrap_or(&state.settings.wechat_share_page)
        .to_string();
    if !crate::config::valid_page(&page) {
        return Err(AppError::bad_input(
            "page",
            "must be a mini-program page path such as pages/product/detail (no leading /, no query)",
        ));
    }
    if let Some(p) = product_id
        && crate::modules::catalogue::service::product_for_shopper(state, p)
            .await?
            .is_none()
    {
        return Err(AppError::NotFound(format!("product {p} not found")));
    }
    let product_key = product_id.unwrap_or(0);
    if let Some(row) = stored(state, customer_id, &page, product_key).await? {
        return Ok(view(state, &row));
    }
    let referral_code = crate::modules::customer::service::get(state, customer_id)
        .await?
        .referral_code;
    let scene = scene_of(&referral_code, product_id);
    if scene.len() > MAX_SCENE {
        return Err(AppError::bad_input(
            "productId",
            format!("the scene {scene:?} would be longer than WeChat's {MAX_SCENE} characters"),
        ));
    }
    // One generation per key in this instance at a time; across instances
    // the unique index keeps the first image stored.
    let flight = format!("share-code:{customer_id}:{page}:{product_key}");
    state
        .cache
        .single_flight(&flight, || async {
            if stored(state, customer_id, &page, product_key)
                .await?
                .is_some()
            {
                return Ok(Vec::new());
            }
            let (content_type, image) = generate(state, &scene, &page).await?;
            share_code::Entity::insert(share_code::ActiveModel {
                customer_id: Set(customer_id),
                page: Set(page.clone()),
                product_key: Set(product_key),
                scene: Set(scene.clone()),
                env_version: Set(state.settings.wechat_share_env_version.clone()),
                token: Set(crate::crypto::random_token(18)),
                content_type: Set(content_type),
                image: Set(image),
                created_at: Set(Utc::now()),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([
                    share_code::Column::CustomerId,
                    share_code::Column::Page,
                    share_code::Column::ProductKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&state.db)
            .await?;
            Ok(Vec::new())
        })
        .await?;
    let row = stored(state, customer_id, &page, product_key)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("share code not stored")))?;
    Ok(view(state, &row))
}

async fn stored(
    state: &AppState,
    customer_id: i64,
    page: &str,
    product_key: i64,
) -> AppResult<Option<share_code::Model>> {
    Ok(share_code::Entity::find()
        .filter(share_code::Column::CustomerId.eq(customer_id))
        .filter(share_code::Column::Page.eq(page))
        .filter(share_code::Column::ProductKey.eq(product_key))
        .one(&state.db)
        .await?)
}

fn view(state: &AppState, row: &share_code::Model) -> ShareCodeView {
    ShareCodeView {
        scene: row.scene.clone(),
        image_url: format!(
            "{}/share-codes/{}.png",
            state.settings.public_base_url, row.token
        ),
    }
}

/// The image from WeChat, or the placeholder without WeChat.
async fn generate(state: &AppState, scene: &str, page: &str) -> AppResult<(String, Vec<u8>)> {
    let Some(api) = &state.wechat_api else {
        return Ok(("image/png".into(), PLACEHOLDER_PNG.to_vec()));
    };
    let env_version = &state.settings.wechat_share_env_version;
    let body = json!({
        "scene": scene,
        "page": page,
        // Unreleased pages exist only in trial and develop versions.
        "check_path": env_version == "release",
        "env_version": env_version,
        "width": 430,
    });
    match api
        .post("getwxacodeunlimit", "/wxa/getwxacodeunlimit", &body)
        .await
    {
        Ok(Answer::Bytes { content_type, body }) if !body.is_empty() => Ok((content_type, body)),
        Ok(_) => Err(AppError::internal(anyhow::anyhow!(
            "getwxacodeunlimit answered no image"
        ))),
        Err(WechatApiError::Refused { errcode: 41030, .. }) => Err(AppError::bad_input(
            "page",
            "WeChat does not know this page in the configured version of the mini-program",
        )),
        Err(WechatApiError::Refused {
            errcode: 45009 | 45011,
            ..
        }) => Err(AppError::RateLimited(
            "WeChat's share-code limit is reached; try again in a minute".into(),
        )),
        Err(e) => Err(AppError::internal(anyhow::anyhow!(e))),
    }
}

/// The stored image for a token (the HTTP route serves it).
pub async fn image(state: &AppState, token: &str) -> AppResult<Option<(String, Vec<u8>)>> {
    Ok(share_code::Entity::find()
        .filter(share_code::Column::Token.eq(token))
        .one(&state.db)
        .await?
        .map(|r| (r.content_type, r.image)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn scenes_fit_wechats_limit() {
        assert_eq!(super::scene_of("ABC234", None), "r=ABC234");
        let longest = super::scene_of("ABC234", Some(i64::MAX));
        assert_eq!(longest, "r=ABC234&p=9223372036854775807");
        assert!(longest.len() <= super::MAX_SCENE);
    }
}
