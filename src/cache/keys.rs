//! Every cache key, built in one place.
//!
//! `VERSION` is bumped whenever the shape of a cached value changes, so that
//! instances of the new release never read bytes written by the old one.
const VERSION: &str = "v1";

/// `prefix:v1:logical`.
pub fn full(prefix: &str, logical: &str) -> String {
    format!("{prefix}:{VERSION}:{logical}")
}

/// Bumped by every catalogue invalidation; whole cached responses carry it.
pub const CATALOGUE_GENERATION: &str = "catalogue:generation";

/// A product with its live SKUs, as shoppers read it.
pub fn product(id: i64) -> String {
    format!("catalogue:product:{id}")
}

/// The ids of the hot list, in rank order.
pub const HOT_IDS: &str = "catalogue:hot-ids";

/// The category tree.
pub const CATEGORIES: &str = "catalogue:categories";

/// How many products a list filter matches (in process, per catalogue
/// generation): whether off-shelf products count, the category, the keyword.
pub fn product_count(include_off_shelf: bool, category: Option<i64>, keyword: &str) -> String {
    let category = category.map_or_else(String::new, |c| c.to_string());
    format!("catalogue:count:{include_off_shelf}:{category}:{keyword}")
}

/// One page of a shopper's product list (in process, per catalogue
/// generation): the category, the order, where it starts, its size, whether
/// it carries SKUs, and the keyword last (it may hold any character).
pub fn product_page(
    category: Option<i64>,
    sort: &str,
    after: Option<(i64, i64)>,
    first: u64,
    with_skus: bool,
    keyword: &str,
) -> String {
    let category = category.map_or_else(String::new, |c| c.to_string());
    let after = after.map_or_else(String::new, |(k, id)| format!("{k}/{id}"));
    format!("catalogue:page:{category}:{sort}:{after}:{first}:{with_skus}:{keyword}")
}

/// The store's RFM cutoffs and average order (`operations::service::store_scale`).
pub const OPERATIONS_SCALE: &str = "operations:scale";

/// Login attempts from one client IP in the current minute.
pub fn login_attempts(ip: &str) -> String {
    format!("ratelimit:login:{ip}")
}

/// Orders placed by one customer in the current minute.
pub fn order_placements(customer_id: i64) -> String {
    format!("ratelimit:orders:{customer_id}")
}

/// `/graphql` requests from one client IP in the current minute.
pub fn graphql_requests(ip: &str) -> String {
    format!("ratelimit:graphql:{ip}")
}

/// A session (refresh family) that ended before its access tokens expired.
pub fn revoked_session(sid: &str) -> String {
    format!("auth:revoked:{sid}")
}

/// The time (ms) at or before which every access token of a subject is void.
pub fn subject_not_before(role: &str, subject_id: i64) -> String {
    format!("auth:not-before:{role}:{subject_id}")
}

/// The pair a refresh token was exchanged for, for the reuse grace window;
/// `token_hash` is the SHA-256 of the refresh token presented.
pub fn refreshed_pair(token_hash: &str) -> String {
    format!("auth:refreshed:{token_hash}")
}

/// The mini-program's access_token with its expiry (`wechat::api`).
pub fn wechat_access_token(appid: &str) -> String {
    format!("wechat:access-token:{appid}")
}

/// Held by the one instance fetching a new access_token.
pub fn wechat_access_token_lock(appid: &str) -> String {
    format!("wechat:access-token-lock:{appid}")
}

/// WeChat's list of express companies (`get_delivery_list`).
pub fn wechat_delivery_list(appid: &str) -> String {
    format!("wechat:delivery-list:{appid}")
}

/// A parcel's trace from WeChat's logistics query, per tracking number
/// (a corrected number is a new key).
pub fn wechat_trace(fulfillment_id: i64, tracking_no: &str) -> String {
    format!("wechat:trace:{fulfillment_id}:{tracking_no}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_prefixed_and_versioned() {
        assert_eq!(
            super::full("siyu", &super::login_attempts("1.2.3.4")),
            "siyu:v1:ratelimit:login:1.2.3.4"
        );
    }
}
