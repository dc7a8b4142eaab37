//! The admin console (issue 19) at `GET /admin`: a page and plain ES modules
//! compiled into the binary and served under `/admin/…`. It has no endpoint
//! of its own: the page works only through `POST /graphql` with an ADMIN
//! token, so everything it can do, the API can do. The files and their
//! layout are described in `assets/admin/README.md`.
use actix_web::{
    HttpResponse,
    http::{StatusCode, header},
    middleware::Compress,
    web,
};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $content_type:expr) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/admin/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static FILES: &[Asset] = &[
    asset!("style.css", CSS),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("util.js", JS),
    asset!("chart.js", JS),
    asset!("dashboard.js", JS),
    asset!("orders.js", JS),
    asset!("withdrawals.js", JS),
    asset!("customers.js", JS),
    asset!("customer.js", JS),
    asset!("segments.js", JS),
    asset!("campaigns.js", JS),
    asset!("rfm.js", JS),
    asset!("staff.js", JS),
    asset!("audit.js", JS),
    asset!("catalogue.js", JS),
    asset!("suppliers.js", JS),
    asset!("download.js", JS),
    asset!("plans.js", JS),
    asset!("coupons.js", JS),
    asset!("promoters.js", JS),
    asset!("payables.js", JS),
];

const PAGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/admin/index.html"
));

/// Only this server's own scripts and styles; the API is the only thing
/// the page talks to; nothing inline, no frames, no forms posted anywhere.
/// Charts are SVG built with DOM calls, so no `unsafe-inline` is needed.
pub const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// `GET /admin` and `GET /admin/{file}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(page)).service(
        web::scope("/admin")
            .wrap(Compress::default())
            .route("/", web::get().to(page))
            .route("/{file:.*}", web::get().to(asset)),
    );
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(PAGE)
}

/// A strong validator per file, computed once: the files change only with
/// the binary, so a browser revalidates (`no-cache`) and gets a 304.
fn etag(body: &[u8]) -> String {
    use sha2::Digest;
    format!("\"{}\"", hex::encode(&sha2::Sha256::digest(body)[..12]))
}

async fn asset(req: actix_web::HttpRequest, file: web::Path<String>) -> HttpResponse {
    static TAGS: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| FILES.iter().map(|a| etag(a.body)).collect());
    let Some((i, asset)) = FILES
        .iter()
        .enumerate()
        .find(|(_, a)| a.path == file.as_str())
    else {
        return super::graphql::error_response(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "no such admin console file",
        );
    };
    let tag = &TAGS[i];
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    if fresh {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag.as_str()))
            .finish();
    }
    // Not versioned by name (plain ES modules import each other by path):
    // browsers keep them but ask each time whether they changed.
    HttpResponse::Ok()
        .insert_header((header::ETAG, tag.as_str()))
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .body(asset.body)
}
