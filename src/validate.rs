//! Input checks shared by the domains, each naming the field it refuses.
use crate::error::{AppError, AppResult};

/// The largest amount any price, plan or coupon may name: ¥1,000,000.
pub const MAX_FEN: i64 = 100_000_000;

/// Trimmed text of 1 to `max` characters.
pub fn text(value: &str, field: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("must be 1-{max} characters"),
        ));
    }
    Ok(v.to_string())
}

/// Optional text: blank is `None`, otherwise as [`text`].
pub fn optional_text(value: Option<&str>, field: &str, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => text(v, field, max).map(Some),
        None => Ok(None),
    }
}

/// An http(s) URL of at most 1,024 characters.
pub fn url(value: &str, field: &str) -> AppResult<String> {
    let v = text(value, field, 1024)?;
    if !(v.starts_with("https://") || v.starts_with("http://")) {
        return Err(AppError::bad_input(field, "must be an http(s) URL"));
    }
    Ok(v)
}

/// An amount from `min` to [`MAX_FEN`] fen.
pub fn fen(v: i64, field: &str, min: i64) -> AppResult<i64> {
    if !(min..=MAX_FEN).contains(&v) {
        return Err(AppError::bad_input(
            field,
            format!("must be between {min} and {MAX_FEN} fen"),
        ));
    }
    Ok(v)
}

/// The most items each list argument and list input field accepts, by
/// schema coordinate (`Type.field(arg:)` for an argument, `Input.field` for
/// an input field). Checked at the edge (`graphql::guard`) before anything
/// runs, so a huge list is a `BAD_USER_INPUT` naming it instead of a
/// statement the database refuses. Where a domain has its own rule the
/// number is the same; a test keeps every list in the schema listed here.
pub const LIST_LIMITS: &[(&str, usize)] = &[
    ("Mutation.removeFromCart(skuIds:)", 100),
    ("Mutation.syncSupplierStock(items:)", 500),
    ("Mutation.syncSupplierStock(seenFulfillmentIds:)", 100),
    ("Mutation.acknowledgeFulfillments(ids:)", 100),
    ("Mutation.recordSubscriptionConsents(templateIds:)", 10),
    ("Mutation.markSupplierPayablesPaid(ids:)", 100),
    ("Mutation.issueCoupons(customerIds:)", 10_000),
    ("Mutation.tagCustomers(customerIds:)", 1000),
    ("Mutation.tagCustomers(tags:)", 10),
    ("Mutation.untagCustomers(customerIds:)", 1000),
    ("Mutation.untagCustomers(tags:)", 10),
    ("AfterSaleInput.images", 9),
    // The table holds 31 provinces and 365 cities.
    ("FreeRuleInput.regions", 400),
    ("AfterSaleInput.lines", 50),
    ("AdminRefundInput.lines", 50),
    ("CustomerFilter.tags", 20),
    ("OrderInput.items", 50),
    ("ProductInput.images", 20),
    ("ProductInput.skus", 100),
    ("ProductUpdateInput.images", 20),
    ("ProductUpdateInput.skus", 100),
    ("RegionRuleInput.regions", 400),
    ("ShippingTemplateInput.freeRules", 20),
    ("ShippingTemplateInput.noDeliveryRegions", 400),
    ("ShippingTemplateInput.regionRules", 50),
    ("SkuInput.specs", 5),
    ("SkuUpdateInput.specs", 5),
    ("TopUpPlanInput.giftCouponTemplateIds", 10),
    ("TopUpPlanUpdateInput.giftCouponTemplateIds", 10),
];

/// For a list the table does not name (a new one, until it is added).
pub const DEFAULT_LIST_LIMIT: usize = 100;

/// The most items the list at `coordinate` accepts (see [`LIST_LIMITS`]).
pub fn list_limit(coordinate: &str) -> usize {
    LIST_LIMITS
        .iter()
        .find(|(c, _)| *c == coordinate)
        .map_or(DEFAULT_LIST_LIMIT, |(_, n)| *n)
}

/// A `LIKE` pattern finding `keyword` anywhere, case-insensitively (match
/// it against the lower-cased column, with `\` as the escape character).
pub fn contains_pattern(keyword: &str) -> String {
    let escaped = keyword
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A `LIKE` pattern for text starting with `keyword`, lower-cased and
/// escaped as [`contains_pattern`].
pub fn prefix_pattern(keyword: &str) -> String {
    let mut p = contains_pattern(keyword);
    p.remove(0);
    p
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::contains_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
        assert_eq!(super::prefix_pattern("Wa_"), "wa\\_%");
    }
}
