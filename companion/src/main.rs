//! `altegio-companion`: see the library documentation and `--help`.

use std::net::SocketAddr;
use std::process::ExitCode;

use altegio_companion::config::{Cli, Config};
use altegio_companion::{app, AppState};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    altegio_companion::init_logging();

    let config = match Config::from_cli(Cli::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("altegio-companion: invalid setting: {e}");
            return ExitCode::from(2);
        }
    };
    let listen = config.listen;
    tracing::info!(
        %listen,
        database = %config.database.display(),
        altegio_api = %config.altegio_api,
        application_id = config.application_id,
        webhook_urls = %format_args!(
            "{}{}/{{salon_id}}/{{token}}",
            config.public_url,
            altegio_companion::webhook_token::WEBHOOK_PATH
        ),
        cors_origins = ?config.cors_origins,
        trusted_proxies = ?config
            .trusted_proxies
            .ranges()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        collect = ?config.collect,
        "starting"
    );
    if config.admin_token.is_none() {
        tracing::warn!(
            "no --admin-token (ALTEGIO_COMPANION_ADMIN_TOKEN): GET /api/locations and \
             GET /api/collect/status are open to anyone who can reach this server"
        );
    }
    let state = match AppState::new(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("altegio-companion: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("altegio-companion: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%listen, "listening");
    // The peer address is the visitor's IP address for Meta (see `client_ip`).
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        eprintln!("altegio-companion: server error: {e}");
        return ExitCode::FAILURE;
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
