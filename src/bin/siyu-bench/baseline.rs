//! The benchmark's physical baseline: a bare actix-web handler answering
//! fixed bytes from memory, so the API's figures can be read as a fraction
//! of what this machine's HTTP stack can do at all (see `scripts/bench.sh`).
//!
//! Given a file, every path answers its bytes; given a directory, `/NAME`
//! answers the file NAME in it (one scenario's bytes each), so every
//! scenario is compared with a handler sending exactly what it sends.
//!
//! To be an upper bound it must do what the API cannot skip and nothing
//! more: it reads the whole request body before answering (actix-http
//! closes a keep-alive connection whose request body was left unread, so a
//! handler that ignores the body makes every request a new TCP connection
//! and measures connection set-up instead), and it runs as many workers as
//! the API (`WORKERS`, one per core when unset, as `siyu`).
use std::{collections::HashMap, sync::Arc};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

pub async fn serve(addr: &str, path: &str) -> anyhow::Result<()> {
    let mut bodies: HashMap<String, web::Bytes> = HashMap::new();
    let mut default = web::Bytes::new();
    if std::fs::metadata(path)?.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            bodies.insert(format!("/{name}"), std::fs::read(entry.path())?.into());
        }
    } else {
        default = std::fs::read(path)?.into();
    }
    let bodies = Arc::new(bodies);
    let mut server = HttpServer::new(move || {
        let (bodies, default) = (bodies.clone(), default.clone());
        App::new().default_service(web::to(move |req: HttpRequest, _body: web::Bytes| {
            let body = bodies
                .get(req.path())
                .cloned()
                .unwrap_or_else(|| default.clone());
            async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }
        }))
    })
    .bind(addr)?;
    if let Some(n) = std::env::var("WORKERS").ok().and_then(|v| v.parse().ok()) {
        server = server.workers(n);
    }
    server.run().await?;
    Ok(())
}
