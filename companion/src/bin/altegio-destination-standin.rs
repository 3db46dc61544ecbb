//! `altegio-destination-standin`: a stand-in for the Meta Conversions API and the GA4
//! Measurement Protocol on your machine. See `altegio_companion::destination_standin`.

use std::net::SocketAddr;
use std::process::ExitCode;

use altegio_companion::destination_standin::{parse_replies, Destination, DestinationStandin};
use clap::Parser;

/// A stand-in for Meta's Conversions API and GA4's Measurement Protocol: records every call
/// and answers as scripted.
#[derive(Parser)]
#[command(name = "altegio-destination-standin", version)]
struct Args {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(
        long,
        env = "ALTEGIO_DESTINATION_STANDIN_LISTEN",
        default_value = "127.0.0.1:9091"
    )]
    listen: SocketAddr,
    /// Replies to the next Meta calls, in order, comma-separated: 200, 400, 408, 429,
    /// 429:N (Retry-After N), 500, 503, hang…
    #[arg(long, default_value = "")]
    meta_script: String,
    /// Replies to the next GA4 calls, in order (same forms).
    #[arg(long, default_value = "")]
    ga4_script: String,
    /// Meta's reply once its script is used up.
    #[arg(long, default_value = "200")]
    meta_default: String,
    /// GA4's reply once its script is used up.
    #[arg(long, default_value = "200")]
    ga4_default: String,
}

fn configure(standin: &DestinationStandin, args: &Args) -> Result<(), String> {
    for (d, script, default) in [
        (Destination::Meta, &args.meta_script, &args.meta_default),
        (Destination::Ga4, &args.ga4_script, &args.ga4_default),
    ] {
        standin.script(d, parse_replies(script)?);
        standin.set_default(d, default.parse()?);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    altegio_companion::init_logging();
    let args = Args::parse();
    let standin = DestinationStandin::new();
    if let Err(e) = configure(&standin, &args) {
        eprintln!("altegio-destination-standin: {e}");
        return ExitCode::from(2);
    }
    let (addr, handle) = match standin.spawn(args.listen).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!(
                "altegio-destination-standin: cannot listen on {}: {e}",
                args.listen
            );
            return ExitCode::FAILURE;
        }
    };
    println!("altegio-destination-standin listening on http://{addr}");
    println!("  --meta-api http://{addr}/v21.0 --ga4-api http://{addr}");
    tokio::select! {
        r = handle => {
            if let Err(e) = r {
                eprintln!("altegio-destination-standin: {e}");
                return ExitCode::FAILURE;
            }
        }
        r = tokio::signal::ctrl_c() => {
            if let Err(e) = r {
                eprintln!("altegio-destination-standin: {e}");
            }
        }
    }
    ExitCode::SUCCESS
}
