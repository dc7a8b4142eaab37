//! Who is calling, and what each role may do.
//!
//! The GraphQL handler turns the `Authorization: Bearer` token into a
//! [`Viewer`] (through [`session::authenticate`], which also refuses tokens
//! of sessions that were ended) and puts it into the request data. Resolvers never inspect
//! tokens or roles themselves: they call one guard of [`ViewerExt`]
//! (`customer_id`, `admin_id`, `supplier_id`), which is the single place per
//! role where access is decided and where `UNAUTHENTICATED` vs `FORBIDDEN` is
//! chosen.
pub mod password;
pub mod session;
pub mod token;
pub mod types;

use crate::error::{AppError, AppResult};
pub use types::Role;

/// The caller of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// No token.
    Anonymous,
    /// A token was sent but is bad, expired or forged. Public fields still
    /// answer; anything that needs a role fails with `UNAUTHENTICATED`.
    InvalidToken,
    Customer(i64),
    Admin(i64),
    Supplier(i64),
}

impl Viewer {
    pub fn role(&self) -> Option<Role> {
        match self {
            Viewer::Customer(_) => Some(Role::Customer),
            Viewer::Admin(_) => Some(Role::Admin),
            Viewer::Supplier(_) => Some(Role::Supplier),
            Viewer::Anonymous | Viewer::InvalidToken => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Viewer::Admin(_))
    }

    fn require(&self, role: Role) -> AppResult<i64> {
        match (self, role) {
            (Viewer::Customer(id), Role::Customer)
            | (Viewer::Admin(id), Role::Admin)
            | (Viewer::Supplier(id), Role::Supplier) => Ok(*id),
            (Viewer::Anonymous | Viewer::InvalidToken, _) => Err(self.unauthenticated()),
            _ => Err(AppError::Forbidden(format!(
                "only the {} role may do this",
                role.as_str()
            ))),
        }
    }

    fn unauthenticated(&self) -> AppError {
        match self {
            Viewer::InvalidToken => AppError::Unauthenticated(
                "the access token is invalid or expired; refresh it or sign in again".into(),
            ),
            _ => AppError::Unauthenticated(
                "sign in first: this needs an access token (Authorization: Bearer …)".into(),
            ),
        }
    }

    /// The caller's role, whichever it is (`logout`), or `UNAUTHENTICATED`.
    pub fn any_role(&self) -> AppResult<Role> {
        self.role().ok_or_else(|| self.unauthenticated())
    }

    /// The calling customer's id, or the right error.
    pub fn customer_id(&self) -> AppResult<i64> {
        self.require(Role::Customer)
    }

    /// The calling admin's id, or the right error.
    pub fn admin_id(&self) -> AppResult<i64> {
        self.require(Role::Admin)
    }

    /// The calling supplier's id, or the right error.
    pub fn supplier_id(&self) -> AppResult<i64> {
        self.require(Role::Supplier)
    }
}

/// Reads the viewer from a resolver's context.
pub trait ViewerExt {
    fn viewer(&self) -> Viewer;
}

impl ViewerExt for async_graphql::Context<'_> {
    fn viewer(&self) -> Viewer {
        self.data_opt::<Viewer>()
            .copied()
            .unwrap_or(Viewer::Anonymous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_pick_the_right_code() {
        assert_eq!(Viewer::Customer(7).customer_id().unwrap(), 7);
        assert_eq!(Viewer::Admin(1).admin_id().unwrap(), 1);
        assert_eq!(Viewer::Supplier(3).supplier_id().unwrap(), 3);
        assert_eq!(
            Viewer::Anonymous.customer_id().unwrap_err().code(),
            "UNAUTHENTICATED"
        );
        assert_eq!(
            Viewer::InvalidToken.admin_id().unwrap_err().code(),
            "UNAUTHENTICATED"
        );
        assert_eq!(
            Viewer::Customer(7).admin_id().unwrap_err().code(),
            "FORBIDDEN"
        );
        assert_eq!(
            Viewer::Admin(1).customer_id().unwrap_err().code(),
            "FORBIDDEN"
        );
        assert_eq!(
            Viewer::Supplier(1).customer_id().unwrap_err().code(),
            "FORBIDDEN"
        );
        assert_eq!(
            Viewer::Customer(1).supplier_id().unwrap_err().code(),
            "FORBIDDEN"
        );
        assert_eq!(Viewer::Supplier(2).any_role().unwrap(), Role::Supplier);
        assert_eq!(
            Viewer::InvalidToken.any_role().unwrap_err().code(),
            "UNAUTHENTICATED"
        );
    }
}
