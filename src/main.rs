//! `siyu` serves the store. Other commands: `print-schema` (the GraphQL
//! SDL), `seed-demo` (the demo store into an empty database). The
//! benchmark's tools are another binary, `siyu-bench`.
use siyu::{
    app::{
        seed,
        startup::{Application, build_state},
    },
    config::{AppEnv, Settings},
    telemetry,
};

/// mimalloc: executed answers allocate per field, where glibc malloc was a
/// fifth of the CPU (see Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    // reqwest is built without a crypto provider (no C toolchain needed); ring it is.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("serve");
    match command {
        "print-schema" => {
            print!("{}", siyu::app::graphql::sdl());
            return;
        }
        "serve" | "seed-demo" => {}
        other => fail(
            2,
            &format!(
                "unknown command {other:?}; commands: serve (default), print-schema, seed-demo"
            ),
        ),
    }

    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => fail(2, &format!("configuration error: {e:#}")),
    };
    telemetry::init(settings.log_format);

    if command != "serve" {
        if settings.app_env == AppEnv::Production {
            fail(2, "seeding is refused with APP_ENV=production");
        }
        let state = match build_state(settings).await {
            Ok(s) => s,
            Err(e) => fail(1, &format!("start-up failed: {e:#}")),
        };
        let result = seed::seed_demo(&state).await.map(|seeded| {
            if !seeded {
                eprintln!("siyu: the catalogue is not empty; nothing seeded");
            }
        });
        if let Err(e) = result {
            fail(1, &format!("seeding failed: {e:?}"));
        }
        return;
    }

    let bind = settings.bind.clone();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "start-up failed");
            fail(1, &format!("start-up failed: {e:#}"));
        }
    };
    tracing::info!(%bind, port = app.port(), "siyu serving: POST /graphql, GET /graphql (GraphiQL), /healthz, /readyz");
    match app.metrics_port() {
        Some(port) => tracing::info!(port, "/metrics served on METRICS_BIND only"),
        None if app.state().settings.app_env == AppEnv::Production => {
            tracing::info!(
                "/metrics is not served (set METRICS_BIND to serve it on its own address)"
            )
        }
        None => tracing::info!("/metrics served on the public listener (development)"),
    }
    if let Err(e) = app.run_until_stopped().await {
        tracing::error!(error = %e, "server stopped with an error");
        std::process::exit(1);
    }
}

/// One line on stderr, then exit.
fn fail(code: i32, message: &str) -> ! {
    eprintln!("siyu: {message}");
    std::process::exit(code);
}
