//! `siyu` serves the store. Other commands:
//! `print-schema` (the GraphQL SDL), `seed-demo` (the demo store into an
//! empty database), `seed-bulk N` (N generated products, for benchmarks),
//! `bench-baseline ADDR FILE` (a bare server answering FILE's bytes: the
//! physical baseline of the benchmark).
use siyu::{
    config::{AppEnv, Settings},
    modules::catalogue::seed,
    startup::{Application, build_state},
    telemetry,
};

#[tokio::main]
async fn main() {
    // reqwest is built without a crypto provider (no C toolchain needed); ring it is.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("serve");
    match command {
        "print-schema" => {
            print!("{}", siyu::graphql::sdl());
            return;
        }
        "bench-baseline" => {
            let (Some(addr), Some(file)) = (args.get(1), args.get(2)) else {
                fail(2, "usage: siyu bench-baseline ADDR FILE");
            };
            if let Err(e) = siyu::bench::serve_baseline(addr, file).await {
                fail(1, &format!("baseline server: {e:#}"));
            }
            return;
        }
        "bench-orders" => {
            let base = args
                .get(1)
                .cloned()
                .unwrap_or_else(|| "http://127.0.0.1:18080".into());
            let num = |i: usize, d: u64| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
            if let Err(e) = siyu::bench::order_load(
                &base,
                num(2, 64) as usize,
                num(3, 1000) as i64,
                num(4, 100) as usize,
                num(5, 10),
            )
            .await
            {
                fail(1, &format!("order benchmark: {e:#}"));
            }
            return;
        }
        "serve" | "seed-demo" | "seed-bulk" => {}
        other => fail(
            2,
            &format!(
                "unknown command {other:?}; commands: serve (default), print-schema, seed-demo, seed-bulk N, bench-baseline ADDR FILE"
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
        let result = if command == "seed-demo" {
            seed::seed_demo(&state).await.map(|seeded| {
                if !seeded {
                    eprintln!("siyu: the catalogue is not empty; nothing seeded");
                }
            })
        } else {
            let count = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
            seed::seed_bulk(&state, count).await
        };
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
