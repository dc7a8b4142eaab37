//! Signing in and out: the mini-program's WeChat login, admin and supplier
//! logins, the access/refresh token pairs they all end in, and the ways a
//! session ends early (`logout`, a supplier's key rotated or the supplier
//! disabled, the admin's password changed).
//!
//! It composes the WeChat client (an identity for a `wx.login()` code), the
//! customer domain (who that identity is) and the token keys of `auth`.
//! Refresh tokens rotate: each works once, and a reused one revokes its whole
//! family (after a short grace window for concurrent refreshes). Staff
//! accounts (the ADMIN role, each with a staff role) live here too: they
//! exist to sign in (`staff`).
pub mod resolver;
pub mod service;
pub mod sessions;
pub mod staff;
pub mod types;
