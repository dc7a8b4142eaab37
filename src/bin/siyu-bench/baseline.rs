//! The benchmark's physical baseline: a bare actix-web handler answering
//! fixed bytes from memory, so the API's figures can be read as a fraction
//! of what this machine's HTTP stack can do at all (see `scripts/bench.sh`).
use actix_web::{App, HttpResponse, HttpServer, web};

pub async fn serve(addr: &str, file: &str) -> anyhow::Result<()> {
    let body = web::Bytes::from(std::fs::read(file)?);
    HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::to(move || {
            let body = body.clone();
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
