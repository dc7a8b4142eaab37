//! The roles a token can carry.
use async_graphql::Enum;
use serde::{Deserialize, Serialize};

/// What a caller is allowed to do.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// A shopper in the mini-program.
    Customer,
    /// A store operator.
    Admin,
    /// A drop-shipping supplier's integration.
    Supplier,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Customer => "CUSTOMER",
            Role::Admin => "ADMIN",
            Role::Supplier => "SUPPLIER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CUSTOMER" => Some(Role::Customer),
            "ADMIN" => Some(Role::Admin),
            "SUPPLIER" => Some(Role::Supplier),
            _ => None,
        }
    }
}
