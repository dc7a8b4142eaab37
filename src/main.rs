//! `siyu` serves the store; `siyu print-schema` prints the GraphQL SDL.
use siyu::{config::Settings, startup::Application, telemetry};

#[tokio::main]
async fn main() {
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {}
        Some("print-schema") => {
            print!("{}", siyu::graphql::sdl());
            return;
        }
        Some(other) => {
            eprintln!("siyu: unknown command {other:?}; commands: serve (default), print-schema");
            std::process::exit(2);
        }
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("siyu: configuration error: {e:#}");
            std::process::exit(2);
        }
    };
    telemetry::init(settings.log_format);
    let bind = settings.bind.clone();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "start-up failed");
            eprintln!("siyu: start-up failed: {e:#}");
            std::process::exit(1);
        }
    };
    tracing::info!(%bind, port = app.port(), "siyu serving: POST /graphql, GET /graphql (GraphiQL), /healthz, /readyz, /metrics");
    if let Err(e) = app.run_until_stopped().await {
        tracing::error!(error = %e, "server stopped with an error");
        std::process::exit(1);
    }
}
