//! Signing in: the mini-program's WeChat login, admin and supplier logins,
//! and the access/refresh token pairs they all end in.
//!
//! It composes the WeChat client (an identity for a `wx.login()` code), the
//! customer domain (who that identity is) and the token keys of `auth`.
//! Refresh tokens rotate: each works once, and a reused one revokes its whole
//! family. Admin accounts live here too: they exist only to sign in.
pub mod resolver;
pub mod service;
pub mod types;
