//! Settings: command-line flags with matching environment variables, validated into [`Config`].
//!
//! Every setting is read as text by clap and checked here, so that a missing or invalid one
//! stops start-up with a message naming both the flag and the environment variable.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::HeaderValue;
use clap::Parser;
use reqwest::Url;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::trusted_proxies::TrustedProxies;

/// Altegio's partner API, used when `--altegio-api` is not given.
pub const DEFAULT_ALTEGIO_API: &str = "https://api.alteg.io";
/// The origins allowed to frame `/register` when `--frame-ancestors` is not given.
pub const DEFAULT_FRAME_ANCESTORS: &str =
    "https://app.alteg.io https://yclients.com https://*.yclients.com";

/// The command line, as clap reads it. Values are raw text; [`Config::from_cli`] validates them.
///
/// No `Debug`: the partner token is in here.
#[derive(Parser, Clone)]
#[command(
    name = "altegio-companion",
    version,
    about = "Connects an Altegio Marketplace app to every location a business picks, \
             handles the disable callback and stores entity webhooks (SQLite)."
)]
pub struct Cli {
    /// Address to listen on.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: String,

    /// Path of the SQLite database file (created if missing).
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_DATABASE",
        default_value = "altegio-companion.sqlite"
    )]
    pub database: String,

    /// Base URL of Altegio's API (YCLIENTS: `https://api.yclients.com`).
    #[arg(long, env = "ALTEGIO_COMPANION_ALTEGIO_API", default_value = DEFAULT_ALTEGIO_API)]
    pub altegio_api: String,

    /// The partner token from the Altegio developer account (secret; required).
    #[arg(long, env = "ALTEGIO_COMPANION_PARTNER_TOKEN", hide_env_values = true)]
    pub partner_token: Option<String>,

    /// The Marketplace application ID (positive integer; required).
    #[arg(long, env = "ALTEGIO_COMPANION_APPLICATION_ID")]
    pub application_id: Option<String>,

    /// The URL Altegio reaches this server at (required); each location's webhooks go to
    /// {public_url}/api/altegio/webhook/{salon_id}/{token}.
    #[arg(long, env = "ALTEGIO_COMPANION_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Origins allowed to frame /register (space- or comma-separated CSP sources).
    #[arg(long, env = "ALTEGIO_COMPANION_FRAME_ANCESTORS", default_value = DEFAULT_FRAME_ANCESTORS)]
    pub frame_ancestors: String,

    /// Origins allowed to call the API from a browser (repeatable or comma-separated; default none).
    #[arg(
        long = "cors-origin",
        env = "ALTEGIO_COMPANION_CORS_ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,

    /// Directory with register.html and other static files.
    #[arg(long, env = "ALTEGIO_COMPANION_WWW_DIR", default_value = "www")]
    pub www_dir: String,

    /// Directory with the built npm package, served under /pkg/.
    #[arg(long, env = "ALTEGIO_COMPANION_PKG_DIR", default_value = "pkg")]
    pub pkg_dir: String,

    /// Refuse /api/connect requests that carry no signed user_data.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_REQUIRE_USER_DATA",
        default_value = "false"
    )]
    pub require_user_data: String,

    /// Timeout of one activation call to Altegio, in milliseconds.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_ACTIVATION_TIMEOUT_MS",
        default_value = "10000"
    )]
    pub activation_timeout_ms: String,

    /// Attempts per activation (first try included) on network errors, 429 and 5xx.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_ACTIVATION_ATTEMPTS",
        default_value = "4"
    )]
    pub activation_attempts: String,

    /// Base delay of the exponential backoff between attempts, in milliseconds.
    #[arg(long, env = "ALTEGIO_COMPANION_RETRY_BASE_MS", default_value = "500")]
    pub retry_base_ms: String,

    /// Activation calls in flight at once, over all requests.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_ACTIVATION_CONCURRENCY",
        default_value = "8"
    )]
    pub activation_concurrency: String,

    /// Bearer token required by GET /api/locations and GET /api/collect/status (secret; at
    /// least 16 characters). Without it those two endpoints are open, with a warning at start.
    #[arg(long, env = "ALTEGIO_COMPANION_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Reverse proxies whose X-Forwarded-For is believed for the visitor's IP address, as
    /// IP addresses or CIDR ranges (repeatable or comma-separated, e.g. 127.0.0.1,10.0.0.0/8).
    /// Default none: the TCP peer is the visitor.
    #[arg(
        long = "trusted-proxy",
        env = "ALTEGIO_COMPANION_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,

    /// The server-side copy: sites, destination credentials, delivery (see `sites`).
    #[command(flatten)]
    pub collect: crate::sites::CollectCli,
}

/// A secret string (the partner token, the admin token). `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the few places that must send or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `given` is this secret, in constant time; comparing SHA-256 digests hides the
    /// length too.
    pub fn matches(&self, given: &str) -> bool {
        let a = Sha256::digest(given.as_bytes());
        let b = Sha256::digest(self.0.as_bytes());
        a.as_slice().ct_eq(b.as_slice()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How activation calls to the partner API are made: timeouts, retries, concurrency.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Timeout of one HTTP call.
    pub timeout: Duration,
    /// Attempts per location, the first one included (at least 1).
    pub attempts: u32,
    /// Delay before the second attempt; doubled for each further one, with jitter.
    pub base_delay: Duration,
    /// Upper bound of one backoff delay, and of a `Retry-After` honoured on 429.
    pub max_delay: Duration,
    /// Activation calls in flight at once, over all requests.
    pub concurrency: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            concurrency: 8,
        }
    }
}

/// The validated settings of a running companion.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// SQLite database file.
    pub database: PathBuf,
    /// Base URL of the partner API, without a trailing slash.
    pub altegio_api: String,
    /// Partner token (secret).
    pub partner_token: Secret,
    /// Marketplace application ID.
    pub application_id: i64,
    /// Public base URL of this server, without a trailing slash.
    pub public_url: String,
    /// CSP `frame-ancestors` sources, space-separated.
    pub frame_ancestors: String,
    /// Origins allowed by CORS (`scheme://host[:port]`); empty: no CORS at all.
    pub cors_origins: Vec<String>,
    /// Static files and register.html.
    pub www_dir: PathBuf,
    /// The built npm package, served under /pkg/.
    pub pkg_dir: PathBuf,
    /// Refuse /api/connect without signed user data.
    pub require_user_data: bool,
    /// Activation calls: timeouts, retries, concurrency.
    pub retry: RetryPolicy,
    /// The server-side copy: sites, destinations, delivery.
    pub collect: crate::sites::CollectConfig,
    /// Bearer token of `GET /api/locations` and `GET /api/collect/status`; `None`: open.
    pub admin_token: Option<Secret>,
    /// Proxies whose `X-Forwarded-For` is believed ([`crate::client_ip`]); empty: none.
    pub trusted_proxies: TrustedProxies,
}

/// A setting that is missing or invalid. The message names the flag and the environment variable.
#[derive(Debug, thiserror::Error)]
#[error("{flag} (env {env}): {problem}")]
pub struct ConfigError {
    /// The flag, e.g. `--partner-token`.
    pub flag: &'static str,
    /// The environment variable, e.g. `ALTEGIO_COMPANION_PARTNER_TOKEN`.
    pub env: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

pub(crate) fn err(
    flag: &'static str,
    env: &'static str,
    problem: impl Into<String>,
) -> ConfigError {
    ConfigError {
        flag,
        env,
        problem: problem.into(),
    }
}

fn required(
    value: Option<String>,
    flag: &'static str,
    env: &'static str,
) -> Result<String, ConfigError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => Err(err(flag, env, "missing; this setting is required")),
    }
}

fn positive<T>(raw: &str, flag: &'static str, env: &'static str) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + Default,
{
    match raw.trim().parse::<T>() {
        Ok(v) if v > T::default() => Ok(v),
        _ => Err(err(
            flag,
            env,
            format!("expected a positive integer, got {raw:?}"),
        )),
    }
}

fn http_url(raw: &str, flag: &'static str, env: &'static str) -> Result<String, ConfigError> {
    let url =
        Url::parse(raw.trim()).map_err(|e| err(flag, env, format!("not a URL ({e}): {raw:?}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(err(
            flag,
            env,
            format!("expected an http(s) URL, got {raw:?}"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(err(
            flag,
            env,
            format!("must not carry a query or fragment: {raw:?}"),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Checks an origin given by `flag` / `env` and returns it as `scheme://host[:port]`.
pub(crate) fn parse_origin(
    raw: &str,
    flag: &'static str,
    env: &'static str,
) -> Result<String, ConfigError> {
    let url = Url::parse(raw.trim())
        .map_err(|e| err(flag, env, format!("not an origin ({e}): {raw:?}")))?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !ok {
        return Err(err(
            flag,
            env,
            format!("expected an origin like https://example.com, got {raw:?}"),
        ));
    }
    let origin = url.origin().ascii_serialization();
    HeaderValue::from_str(&origin)
        .map_err(|_| err(flag, env, format!("not a valid header value: {raw:?}")))?;
    Ok(origin)
}

fn frame_ancestors(raw: &str) -> Result<String, ConfigError> {
    const FLAG: &str = "--frame-ancestors";
    const ENV: &str = "ALTEGIO_COMPANION_FRAME_ANCESTORS";
    let sources: Vec<&str> = raw
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    if sources.is_empty() {
        return Err(err(FLAG, ENV, "empty; give at least one source, or 'none'"));
    }
    for s in &sources {
        if !s
            .chars()
            .all(|c| c.is_ascii_graphic() && c != ';' && c != '"')
        {
            return Err(err(FLAG, ENV, format!("not a CSP source: {s:?}")));
        }
    }
    let joined = sources.join(" ");
    HeaderValue::from_str(&format!("frame-ancestors {joined}"))
        .map_err(|_| err(FLAG, ENV, format!("not a valid header value: {raw:?}")))?;
    Ok(joined)
}

/// The shortest admin token accepted.
pub const MIN_ADMIN_TOKEN: usize = 16;

/// Checks `--admin-token`: absent is fine (the endpoints stay open); given, it must be at
/// least [`MIN_ADMIN_TOKEN`] visible ASCII characters (it travels in a header). The value is
/// never put in the message.
fn admin_token(raw: Option<String>) -> Result<Option<Secret>, ConfigError> {
    const FLAG: &str = "--admin-token";
    const ENV: &str = "ALTEGIO_COMPANION_ADMIN_TOKEN";
    let Some(raw) = raw else {
        return Ok(None);
    };
    let token = raw.trim();
    if token.is_empty() {
        return Err(err(
            FLAG,
            ENV,
            "empty; give a token, or leave the setting out to keep the endpoints open",
        ));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(err(
            FLAG,
            ENV,
            "only visible ASCII characters, no spaces (it is sent in an Authorization header)",
        ));
    }
    if token.len() < MIN_ADMIN_TOKEN {
        return Err(err(
            FLAG,
            ENV,
            format!(
                "too short: at least {MIN_ADMIN_TOKEN} characters, got {}",
                token.len()
            ),
        ));
    }
    Ok(Some(Secret::new(token)))
}

fn boolean(raw: &str, flag: &'static str, env: &'static str) -> Result<bool, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(err(
            flag,
            env,
            format!("expected true or false, got {raw:?}"),
        )),
    }
}

impl Config {
    /// Validates the command line. The first problem found is returned.
    pub fn from_cli(cli: Cli) -> Result<Self, ConfigError> {
        let collect = crate::sites::CollectConfig::from_cli(cli.collect)?;
        let listen = cli.listen.trim().parse::<SocketAddr>().map_err(|_| {
            err(
                "--listen",
                "ALTEGIO_COMPANION_LISTEN",
                format!(
                    "expected an address like 127.0.0.1:8080, got {:?}",
                    cli.listen
                ),
            )
        })?;
        if cli.database.trim().is_empty() {
            return Err(err(
                "--database",
                "ALTEGIO_COMPANION_DATABASE",
                "empty; give a file path",
            ));
        }
        let altegio_api = http_url(
            &cli.altegio_api,
            "--altegio-api",
            "ALTEGIO_COMPANION_ALTEGIO_API",
        )?;
        let partner_token = required(
            cli.partner_token,
            "--partner-token",
            "ALTEGIO_COMPANION_PARTNER_TOKEN",
        )?;
        let application_id = required(
            cli.application_id,
            "--application-id",
            "ALTEGIO_COMPANION_APPLICATION_ID",
        )?;
        let application_id: i64 = positive(
            &application_id,
            "--application-id",
            "ALTEGIO_COMPANION_APPLICATION_ID",
        )?;
        let public_url = required(
            cli.public_url,
            "--public-url",
            "ALTEGIO_COMPANION_PUBLIC_URL",
        )?;
        let public_url = http_url(&public_url, "--public-url", "ALTEGIO_COMPANION_PUBLIC_URL")?;
        let frame_ancestors = frame_ancestors(&cli.frame_ancestors)?;
        let mut cors_origins = Vec::new();
        for raw in cli
            .cors_origins
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            let o = parse_origin(raw, "--cors-origin", "ALTEGIO_COMPANION_CORS_ORIGIN")?;
            if !cors_origins.contains(&o) {
                cors_origins.push(o);
            }
        }
        let require_user_data = boolean(
            &cli.require_user_data,
            "--require-user-data",
            "ALTEGIO_COMPANION_REQUIRE_USER_DATA",
        )?;
        let timeout_ms: u64 = positive(
            &cli.activation_timeout_ms,
            "--activation-timeout-ms",
            "ALTEGIO_COMPANION_ACTIVATION_TIMEOUT_MS",
        )?;
        let attempts: u32 = positive(
            &cli.activation_attempts,
            "--activation-attempts",
            "ALTEGIO_COMPANION_ACTIVATION_ATTEMPTS",
        )?;
        if attempts > 20 {
            return Err(err(
                "--activation-attempts",
                "ALTEGIO_COMPANION_ACTIVATION_ATTEMPTS",
                format!("at most 20, got {attempts}"),
            ));
        }
        let base_ms: u64 = positive(
            &cli.retry_base_ms,
            "--retry-base-ms",
            "ALTEGIO_COMPANION_RETRY_BASE_MS",
        )?;
        let concurrency: usize = positive(
            &cli.activation_concurrency,
            "--activation-concurrency",
            "ALTEGIO_COMPANION_ACTIVATION_CONCURRENCY",
        )?;
        let admin_token = admin_token(cli.admin_token)?;
        let trusted_proxies = TrustedProxies::parse(&cli.trusted_proxies)?;
        Ok(Self {
            listen,
            database: PathBuf::from(cli.database),
            altegio_api,
            partner_token: Secret::new(partner_token),
            application_id,
            public_url,
            frame_ancestors,
            cors_origins,
            www_dir: PathBuf::from(cli.www_dir),
            pkg_dir: PathBuf::from(cli.pkg_dir),
            require_user_data,
            retry: RetryPolicy {
                timeout: Duration::from_millis(timeout_ms),
                attempts,
                base_delay: Duration::from_millis(base_ms),
                max_delay: Duration::from_secs(30).max(Duration::from_millis(base_ms)),
                concurrency,
            },
            collect,
            admin_token,
            trusted_proxies,
        })
    }

    /// Parses and validates arguments (the first one is the program name), ignoring nothing:
    /// environment variables are read too, as on the real command line.
    pub fn try_parse_from<I, T>(args: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
        Self::from_cli(cli).map_err(|e| e.to_string())
    }

    /// The webhook URL given to Altegio for `salon_id`:
    /// `{public_url}/api/altegio/webhook/{salon_id}/{token}` (see [`crate::webhook_token`]).
    pub fn webhook_url(&self, salon_id: i64) -> String {
        crate::webhook_token::url(&self.public_url, salon_id, &self.partner_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<&'static str> {
        vec![
            "altegio-companion",
            "--partner-token",
            "tok",
            "--application-id",
            "42",
            "--public-url",
            "https://companion.example.com/",
        ]
    }

    fn parse(extra: &[&str]) -> Result<Config, String> {
        let mut args = base();
        args.extend_from_slice(extra);
        Config::try_parse_from(args)
    }

    #[test]
    fn defaults_and_normalisation() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.altegio_api, "https://api.alteg.io");
        assert_eq!(c.public_url, "https://companion.example.com");
        let url = c.webhook_url(51);
        let token = url
            .strip_prefix("https://companion.example.com/api/altegio/webhook/51/")
            .unwrap();
        assert_eq!(token.len(), 64, "{url}");
        assert_eq!(c.application_id, 42);
        assert_eq!(c.frame_ancestors, DEFAULT_FRAME_ANCESTORS);
        assert!(c.cors_origins.is_empty());
        assert!(!c.require_user_data);
        assert_eq!(c.retry.attempts, 4);
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = parse(&["--admin-token", "admin-token-0123456789"]).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("\"tok\""), "{shown}");
        assert!(!shown.contains("admin-token-0123456789"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn secrets_match_in_constant_time_only_exactly() {
        let s = Secret::new("abc");
        assert!(s.matches("abc"));
        assert!(!s.matches("abd"));
        assert!(!s.matches("ab"));
        assert!(!s.matches("abcd"));
        assert!(!s.matches(""));
    }

    #[test]
    fn admin_token_is_optional_and_checked_when_given() {
        assert!(parse(&[]).unwrap().admin_token.is_none());
        let c = parse(&["--admin-token", " admin-token-0123456789 "]).unwrap();
        assert_eq!(
            c.admin_token.unwrap().expose(),
            "admin-token-0123456789",
            "trimmed"
        );
        for bad in [
            "",
            "   ",
            "short-token",
            "admin token 0123456789",
            "admin-tökén-0123456789",
        ] {
            let e = parse(&["--admin-token", bad]).unwrap_err();
            assert!(
                e.contains("--admin-token") && e.contains("ALTEGIO_COMPANION_ADMIN_TOKEN"),
                "{bad:?}: {e}"
            );
            if !bad.trim().is_empty() {
                assert!(!e.contains(bad.trim()), "the value is not echoed: {e}");
            }
        }
    }

    #[test]
    fn every_setting_has_a_companion_environment_variable() {
        use clap::CommandFactory;
        let command = Cli::command();
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            let env = arg.get_env().and_then(|e| e.to_str()).unwrap_or("");
            assert!(
                env.starts_with("ALTEGIO_COMPANION_"),
                "{id}: environment variable {env:?}"
            );
        }
        let admin = command
            .get_arguments()
            .find(|a| a.get_id() == "admin_token")
            .unwrap();
        assert_eq!(
            admin.get_env().and_then(|e| e.to_str()),
            Some("ALTEGIO_COMPANION_ADMIN_TOKEN")
        );
    }

    #[test]
    fn missing_required_settings_name_flag_and_env() {
        let e = Config::try_parse_from(["x", "--application-id", "1", "--public-url", "http://a"])
            .unwrap_err();
        assert!(
            e.contains("--partner-token") && e.contains("ALTEGIO_COMPANION_PARTNER_TOKEN"),
            "{e}"
        );
        let e = Config::try_parse_from(["x", "--partner-token", "t", "--public-url", "http://a"])
            .unwrap_err();
        assert!(
            e.contains("--application-id") && e.contains("ALTEGIO_COMPANION_APPLICATION_ID"),
            "{e}"
        );
        let e = Config::try_parse_from(["x", "--partner-token", "t", "--application-id", "1"])
            .unwrap_err();
        assert!(
            e.contains("--public-url") && e.contains("ALTEGIO_COMPANION_PUBLIC_URL"),
            "{e}"
        );
    }

    #[test]
    fn invalid_settings_are_refused() {
        for (args, flag) in [
            (vec!["--application-id", "0"], "--application-id"),
            (vec!["--application-id=-3"], "--application-id"),
            (vec!["--application-id", "abc"], "--application-id"),
            (vec!["--listen", "localhost"], "--listen"),
            (vec!["--altegio-api", "ftp://x"], "--altegio-api"),
            (vec!["--public-url", "not a url"], "--public-url"),
            (
                vec!["--cors-origin", "https://a.test/path"],
                "--cors-origin",
            ),
            (vec!["--cors-origin", "*"], "--cors-origin"),
            (vec!["--frame-ancestors", "a;b"], "--frame-ancestors"),
            (vec!["--activation-attempts", "0"], "--activation-attempts"),
        ] {
            let e = parse(&args).unwrap_err();
            assert!(e.contains(flag), "{args:?}: {e}");
        }
    }

    #[test]
    fn trusted_proxies_repeatable_and_comma_separated() {
        assert!(parse(&[]).unwrap().trusted_proxies.is_empty());
        let c = parse(&[
            "--trusted-proxy",
            "127.0.0.1, 10.0.0.0/8",
            "--trusted-proxy",
            "::1",
        ])
        .unwrap();
        let shown: Vec<String> = c
            .trusted_proxies
            .ranges()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        let e = parse(&["--trusted-proxy", "127.0.0.1,10.0.0.0/99"]).unwrap_err();
        assert!(
            e.contains("--trusted-proxy")
                && e.contains("ALTEGIO_COMPANION_TRUSTED_PROXIES")
                && e.contains("10.0.0.0/99"),
            "{e}"
        );
    }

    #[test]
    fn cors_origins_repeatable_and_comma_separated() {
        let c = parse(&[
            "--cors-origin",
            "https://a.test,https://b.test:8443",
            "--cors-origin",
            "http://localhost:3000/",
            "--cors-origin",
            "https://a.test",
        ])
        .unwrap();
        assert_eq!(
            c.cors_origins,
            [
                "https://a.test",
                "https://b.test:8443",
                "http://localhost:3000"
            ]
        );
    }

    #[test]
    fn frame_ancestors_accepts_commas() {
        let c = parse(&["--frame-ancestors", "https://a.test, https://b.test"]).unwrap();
        assert_eq!(c.frame_ancestors, "https://a.test https://b.test");
    }
}
