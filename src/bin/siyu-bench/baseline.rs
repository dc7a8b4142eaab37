//! The benchmark's physical baseline: a bare actix-web handler answering
//! fixed bytes from memory, so the API's figures can be read as a fraction
//! of what this machine's HTTP stack can do at all (see `scripts/bench.sh`).
//!
//! Given a file, every path answers its bytes; given a directory, `/NAME`
//! answers the file NAME in it (one scenario's bytes each), so every
//! scenario is compared with a handler sending exactly what it sends.
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
    HttpServer::new(move || {
        let (bodies, default) = (bodies.clone(), default.clone());
        App::new().default_service(web::to(move |req: HttpRequest| {
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
    .bind(addr)?
    .run()
    .await?;
    Ok(())
}
