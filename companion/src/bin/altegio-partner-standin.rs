//! `altegio-partner-standin`: a stand-in for Altegio's partner API on your machine.
//! See `altegio_companion::standin` for what it answers.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use altegio_companion::standin::{Behaviour, Standin};
use clap::Parser;

/// A stand-in for Altegio's partner API: activations, status, recorded requests.
#[derive(Parser)]
#[command(name = "altegio-partner-standin", version)]
struct Args {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, env = "ALTEGIO_STANDIN_LISTEN", default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// Delay before every answer, in milliseconds.
    #[arg(long, env = "ALTEGIO_STANDIN_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// The partner token clients must send as `Authorization: Bearer …`.
    #[arg(long, env = "ALTEGIO_STANDIN_PARTNER_TOKEN", hide_env_values = true)]
    partner_token: String,
    /// How to answer one location, SALON_ID=BEHAVIOUR (repeatable): ok, already-installed,
    /// reject, denied, fail-then-ok:N, rate-limited-then-ok:N, hang.
    #[arg(long = "script", value_name = "SALON_ID=BEHAVIOUR")]
    scripts: Vec<String>,
}

fn parse_script(s: &str) -> Result<(i64, Behaviour), String> {
    let (id, behaviour) = s
        .split_once('=')
        .ok_or_else(|| format!("--script {s:?}: expected SALON_ID=BEHAVIOUR"))?;
    let id = id
        .trim()
        .parse::<i64>()
        .map_err(|_| format!("--script {s:?}: bad salon ID"))?;
    Ok((id, behaviour.trim().parse()?))
}

#[tokio::main]
async fn main() -> ExitCode {
    altegio_companion::init_logging();
    let args = Args::parse();
    if args.partner_token.trim().is_empty() {
        eprintln!(
            "altegio-partner-standin: --partner-token (env ALTEGIO_STANDIN_PARTNER_TOKEN) is empty"
        );
        return ExitCode::from(2);
    }
    let standin = Standin::with_latency(args.partner_token, Duration::from_millis(args.latency_ms));
    for s in &args.scripts {
        match parse_script(s) {
            Ok((id, b)) => standin.script(id, b),
            Err(e) => {
                eprintln!("altegio-partner-standin: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let (addr, handle) = match standin.spawn(args.listen).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!(
                "altegio-partner-standin: cannot listen on {}: {e}",
                args.listen
            );
            return ExitCode::FAILURE;
        }
    };
    println!("altegio-partner-standin listening on http://{addr}");
    tokio::select! {
        r = handle => {
            if let Err(e) = r {
                eprintln!("altegio-partner-standin: {e}");
                return ExitCode::FAILURE;
            }
        }
        r = tokio::signal::ctrl_c() => {
            if let Err(e) = r {
                eprintln!("altegio-partner-standin: {e}");
            }
        }
    }
    ExitCode::SUCCESS
}
