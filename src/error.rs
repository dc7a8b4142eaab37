//! One error type for the whole API, with the contract's stable codes.
//!
//! `AppError` turns into a GraphQL error with `extensions.code` in exactly one
//! place ([`From<AppError> for async_graphql::Error`]). async-graphql's
//! `custom-error-conversion` feature is on, so no other error type converts
//! into a GraphQL error silently: a resolver that tried `?` on a database error
//! would not compile. Internal errors are logged here with their whole cause
//! chain and reach the client only as `INTERNAL`.
use async_graphql::ErrorExtensions;

/// A failure a client can act on, or an internal one it cannot.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid access token where one is needed.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing asked for does not exist (or is not the caller's to see).
    #[error("{0}")]
    NotFound(String),
    /// An argument is wrong; `field` names it.
    #[error("{field}: {message}")]
    BadUserInput { field: String, message: String },
    /// The request clashes with the current state (a duplicate, an illegal transition).
    #[error("{0}")]
    Conflict(String),
    /// Not enough stock for a SKU; `sku_id` goes to `extensions.skuId`.
    #[error("{message}")]
    OutOfStock { sku_id: i64, message: String },
    /// A shipping template does not deliver a SKU to the order's region;
    /// `sku_id` and `region` go to `extensions.skuId` and `extensions.region`.
    #[error("{message}")]
    Undeliverable {
        sku_id: i64,
        region: String,
        message: String,
    },
    /// The stored balance (or withdrawable amount) is too small.
    #[error("{0}")]
    InsufficientBalance(String),
    /// The coupon cannot be used for this order.
    #[error("{0}")]
    CouponInvalid(String),
    /// The payment provider refused or failed.
    #[error("{0}")]
    PaymentFailed(String),
    /// WeChat refused the login code or could not be reached.
    #[error("{0}")]
    WechatLoginFailed(String),
    /// Too many attempts; try again later.
    #[error("{0}")]
    RateLimited(String),
    /// The query is too deep or too complex.
    #[error("{0}")]
    QueryTooComplex(String),
    /// Anything unexpected: logged in full, shown as `INTERNAL`.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Shorthand for service results.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// The stable `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput { .. } => "BAD_USER_INPUT",
            AppError::Conflict(_) => "CONFLICT",
            AppError::OutOfStock { .. } => "OUT_OF_STOCK",
            AppError::Undeliverable { .. } => "UNDELIVERABLE",
            AppError::InsufficientBalance(_) => "INSUFFICIENT_BALANCE",
            AppError::CouponInvalid(_) => "COUPON_INVALID",
            AppError::PaymentFailed(_) => "PAYMENT_FAILED",
            AppError::WechatLoginFailed(_) => "WECHAT_LOGIN_FAILED",
            AppError::RateLimited(_) => "RATE_LIMITED",
            AppError::QueryTooComplex(_) => "QUERY_TOO_COMPLEX",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }

    /// The message a client sees.
    pub fn client_message(&self) -> String {
        match self {
            AppError::Internal(_) => "internal error; it has been logged".to_string(),
            other => other.to_string(),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

/// Shared errors (DataLoader, single-flight) are cloned; an internal cause
/// keeps its full text for the log.
impl Clone for AppError {
    fn clone(&self) -> Self {
        match self {
            AppError::Unauthenticated(m) => AppError::Unauthenticated(m.clone()),
            AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
            AppError::NotFound(m) => AppError::NotFound(m.clone()),
            AppError::BadUserInput { field, message } => AppError::BadUserInput {
                field: field.clone(),
                message: message.clone(),
            },
            AppError::Conflict(m) => AppError::Conflict(m.clone()),
            AppError::OutOfStock { sku_id, message } => AppError::OutOfStock {
                sku_id: *sku_id,
                message: message.clone(),
            },
            AppError::Undeliverable {
                sku_id,
                region,
                message,
            } => AppError::Undeliverable {
                sku_id: *sku_id,
                region: region.clone(),
                message: message.clone(),
            },
            AppError::InsufficientBalance(m) => AppError::InsufficientBalance(m.clone()),
            AppError::CouponInvalid(m) => AppError::CouponInvalid(m.clone()),
            AppError::PaymentFailed(m) => AppError::PaymentFailed(m.clone()),
            AppError::WechatLoginFailed(m) => AppError::WechatLoginFailed(m.clone()),
            AppError::RateLimited(m) => AppError::RateLimited(m.clone()),
            AppError::QueryTooComplex(m) => AppError::QueryTooComplex(m.clone()),
            AppError::Internal(e) => AppError::Internal(anyhow::anyhow!("{e:#}")),
        }
    }
}

impl From<std::sync::Arc<AppError>> for AppError {
    fn from(err: std::sync::Arc<AppError>) -> Self {
        std::sync::Arc::try_unwrap(err).unwrap_or_else(|shared| (*shared).clone())
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        if let AppError::Internal(cause) = &err {
            // `{:#}` prints the whole anyhow chain; clients only see INTERNAL.
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        crate::metrics::count_error(err.code());
        let code = err.code();
        let mut gql = async_graphql::Error::new(err.client_message()).extend_with(|_, e| {
            e.set("code", code);
        });
        match &err {
            AppError::BadUserInput { field, .. } => {
                gql = gql.extend_with(|_, e| e.set("field", field.as_str()));
            }
            // The same opaque id as `Sku.id`, so a client can mark the line.
            AppError::OutOfStock { sku_id, .. } => {
                gql = gql.extend_with(|_, e| e.set("skuId", sku_id.to_string()));
            }
            AppError::Undeliverable { sku_id, region, .. } => {
                gql = gql.extend_with(|_, e| {
                    e.set("skuId", sku_id.to_string());
                    e.set("region", region.as_str());
                });
            }
            _ => {}
        }
        gql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(err: AppError) -> serde_json::Value {
        let gql: async_graphql::Error = err.into();
        let server = gql.into_server_error(async_graphql::Pos::default());
        serde_json::to_value(&server).unwrap()
    }

    /// Pins the JSON every code produces: clients switch on these strings.
    #[test]
    fn every_code_has_its_json() {
        let cases = vec![
            (AppError::Unauthenticated("a".into()), "UNAUTHENTICATED"),
            (AppError::Forbidden("a".into()), "FORBIDDEN"),
            (AppError::NotFound("a".into()), "NOT_FOUND"),
            (
                AppError::bad_input("title", "must not be empty"),
                "BAD_USER_INPUT",
            ),
            (AppError::Conflict("a".into()), "CONFLICT"),
            (
                AppError::OutOfStock {
                    sku_id: 7,
                    message: "a".into(),
                },
                "OUT_OF_STOCK",
            ),
            (
                AppError::InsufficientBalance("a".into()),
                "INSUFFICIENT_BALANCE",
            ),
            (AppError::CouponInvalid("a".into()), "COUPON_INVALID"),
            (AppError::PaymentFailed("a".into()), "PAYMENT_FAILED"),
            (
                AppError::WechatLoginFailed("a".into()),
                "WECHAT_LOGIN_FAILED",
            ),
            (AppError::RateLimited("a".into()), "RATE_LIMITED"),
            (
                AppError::Undeliverable {
                    sku_id: 7,
                    region: "西藏自治区".into(),
                    message: "a".into(),
                },
                "UNDELIVERABLE",
            ),
            (AppError::QueryTooComplex("a".into()), "QUERY_TOO_COMPLEX"),
        ];
        for (err, code) in cases {
            let v = json(err);
            assert_eq!(v["extensions"]["code"], code, "{v}");
        }
        let v = json(AppError::bad_input("title", "must not be empty"));
        assert_eq!(v["message"], "title: must not be empty");
        assert_eq!(v["extensions"]["field"], "title");
        let v = json(AppError::OutOfStock {
            sku_id: 42,
            message: "gone".into(),
        });
        assert_eq!(v["extensions"]["skuId"], "42");
        let v = json(AppError::Undeliverable {
            sku_id: 5,
            region: "新疆维吾尔自治区".into(),
            message: "not delivered".into(),
        });
        assert_eq!(v["extensions"]["skuId"], "5");
        assert_eq!(v["extensions"]["region"], "新疆维吾尔自治区");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::from(sea_orm::DbErr::Custom(
            "SELECT secret FROM admin WHERE password = 'hunter2'".into(),
        ));
        let v = json(err);
        assert_eq!(v["extensions"]["code"], "INTERNAL");
        let text = v.to_string();
        assert!(
            !text.contains("SELECT") && !text.contains("hunter2"),
            "{text}"
        );
    }
}
