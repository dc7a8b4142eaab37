//! GraphiQL at `GET /graphql` (where `GRAPHIQL` is on), with its scripts and
//! styles compiled into the binary and served under `/graphiql/…`.
//!
//! async-graphql's built-in page loads React and GraphiQL from a public CDN,
//! which leaves a blank page offline, on closed networks and where the CDN
//! is slow or blocked (mainland China). The vendored files, their versions
//! and licences are in `assets/graphiql/README.md`.
use actix_web::{
    HttpResponse,
    http::{StatusCode, header},
    middleware::Compress,
    web,
};

use crate::state::AppState;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// Vendored under a versioned path: a new version is a new URL, so
    /// browsers may keep it for good.
    immutable: bool,
}

macro_rules! asset {
    ($path:literal, $content_type:expr, $immutable:literal) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/assets/graphiql/",
                $path
            )),
            immutable: $immutable,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("graphiql@4.1.2/graphiql.min.js", JS, true),
    asset!("graphiql@4.1.2/graphiql.min.css", CSS, true),
    asset!("react@18.3.1/react.production.min.js", JS, true),
    asset!("react-dom@18.3.1/react-dom.production.min.js", JS, true),
    asset!("init.js", JS, false),
];

const PAGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/graphiql/page.html"
));

/// Everything the page loads is ours; styles may be inline (GraphiQL sets
/// them), fonts and icons are data URLs, queries go to this server only.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// `GET /graphql` and `GET /graphiql/{file}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/graphql", web::get().to(page)).service(
        web::scope("/graphiql")
            .wrap(Compress::default())
            .route("/{file:.*}", web::get().to(asset)),
    );
}

fn disabled() -> HttpResponse {
    super::graphql::error_response(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "GraphiQL is disabled here",
    )
}

async fn page(state: web::Data<AppState>) -> HttpResponse {
    if !state.settings.graphiql {
        return disabled();
    }
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(PAGE)
}

async fn asset(state: web::Data<AppState>, file: web::Path<String>) -> HttpResponse {
    if !state.settings.graphiql {
        return disabled();
    }
    let Some(asset) = ASSETS.iter().find(|a| a.path == file.as_str()) else {
        return super::graphql::error_response(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "no such GraphiQL file",
        );
    };
    let cache = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(asset.body)
}
