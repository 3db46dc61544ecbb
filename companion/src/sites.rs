//! Settings of the server-side copy (`POST /api/collect` and its delivery worker): the sites
//! allowed to send events, the Meta Conversions API and GA4 Measurement Protocol credentials,
//! the rate limit and the delivery policy.
//!
//! A site is `{id, key, origins}`. The key is a public token the page puts in the module's
//! options: not a secret (anyone can read it in the page), but required together with an
//! allowed `Origin`, so that other sites cannot post events in a site's name from a browser.
//!
//! Sites come from `--site id=<id>,key=<key>,origins=<origin>|<origin>` (repeatable; the
//! environment variable holds several separated by `;`) and/or `--sites-file <path>`, a JSON
//! file `[{"id": "…", "key": "…", "origins": ["https://…"]}]`.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use clap::Args;
use reqwest::Url;
use serde::Deserialize;

use crate::config::{err, parse_origin, ConfigError, Secret};

/// Meta's Graph API base used when `--meta-api` is not given.
pub const DEFAULT_META_API: &str = "https://graph.facebook.com/v21.0";
/// Google Analytics' base used when `--ga4-api` is not given.
pub const DEFAULT_GA4_API: &str = "https://www.google-analytics.com";

/// The flags of the server-side copy, flattened into [`crate::config::Cli`].
/// No `Debug`: secrets are in here.
#[derive(Args, Clone)]
pub struct CollectCli {
    /// A site allowed to post events: id=<id>,key=<public key>,origins=<origin>|<origin>
    /// (repeatable; in the environment variable, separate sites with ';').
    #[arg(
        long = "site",
        env = "ALTEGIO_COMPANION_SITE",
        value_delimiter = ';',
        value_name = "id=ID,key=KEY,origins=ORIGIN|ORIGIN"
    )]
    pub sites: Vec<String>,

    /// A JSON file of sites: [{"id": "…", "key": "…", "origins": ["https://…"]}].
    #[arg(long, env = "ALTEGIO_COMPANION_SITES_FILE")]
    pub sites_file: Option<String>,

    /// Meta Pixel (dataset) ID for the Conversions API.
    #[arg(long, env = "ALTEGIO_COMPANION_META_PIXEL_ID")]
    pub meta_pixel_id: Option<String>,

    /// Meta Conversions API access token (secret).
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_META_ACCESS_TOKEN",
        hide_env_values = true
    )]
    pub meta_access_token: Option<String>,

    /// Base URL of Meta's Graph API, version included.
    #[arg(long, env = "ALTEGIO_COMPANION_META_API", default_value = DEFAULT_META_API)]
    pub meta_api: String,

    /// Meta test event code (Events Manager → Test events); sent with every event when set.
    #[arg(long, env = "ALTEGIO_COMPANION_META_TEST_EVENT_CODE")]
    pub meta_test_event_code: Option<String>,

    /// GA4 measurement ID (G-XXXXXXX) for the Measurement Protocol.
    #[arg(long, env = "ALTEGIO_COMPANION_GA4_MEASUREMENT_ID")]
    pub ga4_measurement_id: Option<String>,

    /// GA4 Measurement Protocol API secret (secret).
    #[arg(long, env = "ALTEGIO_COMPANION_GA4_API_SECRET", hide_env_values = true)]
    pub ga4_api_secret: Option<String>,

    /// Base URL of the GA4 Measurement Protocol.
    #[arg(long, env = "ALTEGIO_COMPANION_GA4_API", default_value = DEFAULT_GA4_API)]
    pub ga4_api: String,

    /// Requests per second one site may send to /api/collect (may be fractional).
    #[arg(long, env = "ALTEGIO_COMPANION_COLLECT_RATE", default_value = "20")]
    pub collect_rate: String,

    /// Burst of requests one site may send at once.
    #[arg(long, env = "ALTEGIO_COMPANION_COLLECT_BURST", default_value = "40")]
    pub collect_burst: String,

    /// Deliver stored events (false: store only; a later start with true delivers the backlog).
    #[arg(long, env = "ALTEGIO_COMPANION_DELIVERY", default_value = "true")]
    pub delivery: String,

    /// Timeout of one delivery call, in milliseconds.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_DELIVERY_TIMEOUT_MS",
        default_value = "10000"
    )]
    pub delivery_timeout_ms: String,

    /// Attempts per event and destination, the first one included.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_DELIVERY_ATTEMPTS",
        default_value = "10"
    )]
    pub delivery_attempts: String,

    /// Base delay of the exponential backoff between attempts, in milliseconds.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_DELIVERY_RETRY_BASE_MS",
        default_value = "2000"
    )]
    pub delivery_retry_base_ms: String,

    /// Longest delay between two attempts (also caps Retry-After), in milliseconds.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_DELIVERY_MAX_DELAY_MS",
        default_value = "600000"
    )]
    pub delivery_max_delay_ms: String,

    /// How often the worker looks for due rows without being woken, in milliseconds.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_DELIVERY_POLL_MS",
        default_value = "1000"
    )]
    pub delivery_poll_ms: String,

    /// Delivery calls in flight at once, over both destinations.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_DELIVERY_CONCURRENCY",
        default_value = "4"
    )]
    pub delivery_concurrency: String,

    /// Resend to GA4 after a timeout or a connection cut mid-call (may double-count in GA4).
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_GA4_RESEND_AFTER_TIMEOUT",
        default_value = "false"
    )]
    pub ga4_resend_after_timeout: String,

    /// Days an event (and its delivery record) is kept; then it is deleted whatever its state.
    #[arg(
        long,
        env = "ALTEGIO_COMPANION_COLLECT_RETENTION_DAYS",
        default_value = "7"
    )]
    pub collect_retention_days: String,
}

/// A site allowed to post events.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Identifier the page sends as `site`.
    pub id: String,
    /// Public key the page sends as `key` (not secret, but required).
    pub key: String,
    /// Origins (`scheme://host[:port]`) the requests must come from.
    pub origins: Vec<String>,
}

/// Meta Conversions API settings.
#[derive(Debug, Clone)]
pub struct MetaConfig {
    /// Base URL, version included, without a trailing slash.
    pub api: String,
    /// Pixel (dataset) ID.
    pub pixel_id: String,
    /// Access token (secret).
    pub access_token: Secret,
    /// `test_event_code`, when set.
    pub test_event_code: Option<String>,
}

/// GA4 Measurement Protocol settings.
#[derive(Debug, Clone)]
pub struct Ga4Config {
    /// Base URL without a trailing slash.
    pub api: String,
    /// Measurement ID.
    pub measurement_id: String,
    /// API secret (secret).
    pub api_secret: Secret,
}

/// How stored events are delivered.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// Whether the worker runs.
    pub enabled: bool,
    /// Timeout of one call.
    pub timeout: Duration,
    /// Attempts per event and destination, the first one included.
    pub attempts: u32,
    /// Delay after the first failed attempt; doubled each time, with jitter.
    pub base_delay: Duration,
    /// Upper bound of one delay, and of an honoured `Retry-After`.
    pub max_delay: Duration,
    /// Longest sleep of the worker between two looks at the database.
    pub poll: Duration,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Resend to GA4 after an ambiguous failure (timeout, connection cut mid-call).
    pub ga4_resend_after_timeout: bool,
    /// How long events and their delivery records are kept.
    pub retention: Duration,
}

impl DeliveryPolicy {
    /// How long a claimed row stays `in_flight` before another worker (or the next start)
    /// may treat the call as cut short: twice the call timeout, at least the timeout + 1 s.
    pub fn lease(&self) -> Duration {
        (self.timeout * 2).max(self.timeout + Duration::from_secs(1))
    }
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            timeout: Duration::from_secs(10),
            attempts: 10,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            poll: Duration::from_secs(1),
            concurrency: 4,
            ga4_resend_after_timeout: false,
            retention: Duration::from_secs(7 * 86_400),
        }
    }
}

/// The validated settings of the server-side copy.
#[derive(Clone)]
pub struct CollectConfig {
    /// Sites allowed to post events, by ID.
    pub sites: Vec<Site>,
    /// Meta Conversions API, when configured.
    pub meta: Option<MetaConfig>,
    /// GA4 Measurement Protocol, when configured.
    pub ga4: Option<Ga4Config>,
    /// Requests per second per site.
    pub rate_per_second: f64,
    /// Burst per site.
    pub burst: f64,
    /// Delivery.
    pub delivery: DeliveryPolicy,
}

impl fmt::Debug for CollectConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CollectConfig")
            .field(
                "sites",
                &self.sites.iter().map(|s| &s.id).collect::<Vec<_>>(),
            )
            .field("meta", &self.meta)
            .field("ga4", &self.ga4)
            .field("rate_per_second", &self.rate_per_second)
            .field("burst", &self.burst)
            .field("delivery", &self.delivery)
            .finish()
    }
}

impl Default for CollectConfig {
    fn default() -> Self {
        Self {
            sites: Vec::new(),
            meta: None,
            ga4: None,
            rate_per_second: 20.0,
            burst: 40.0,
            delivery: DeliveryPolicy::default(),
        }
    }
}

const SITE_FLAG: &str = "--site";
const SITE_ENV: &str = "ALTEGIO_COMPANION_SITE";
const FILE_FLAG: &str = "--sites-file";
const FILE_ENV: &str = "ALTEGIO_COMPANION_SITES_FILE";

/// Checks a site's ID, key and origins; origins are normalised and de-duplicated.
fn check_site(mut site: Site, flag: &'static str, env: &'static str) -> Result<Site, ConfigError> {
    let id_ok = !site.id.is_empty()
        && site.id.len() <= 64
        && site
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !id_ok {
        return Err(err(
            flag,
            env,
            format!(
                "site id {:?}: expected 1–64 letters, digits, '_', '-' or '.'",
                site.id
            ),
        ));
    }
    let key_ok = (16..=128).contains(&site.key.len())
        && site
            .key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    if !key_ok {
        return Err(err(
            flag,
            env,
            format!(
                "site {}: the key must be 16–128 letters, digits, '_' or '-' \
                 (e.g. `openssl rand -hex 16`)",
                site.id
            ),
        ));
    }
    let mut origins = Vec::new();
    for raw in &site.origins {
        let o = parse_origin(raw, flag, env)?;
        if !origins.contains(&o) {
            origins.push(o);
        }
    }
    if origins.is_empty() {
        return Err(err(
            flag,
            env,
            format!("site {}: give at least one origin", site.id),
        ));
    }
    site.origins = origins;
    Ok(site)
}

/// Parses `id=<id>,key=<key>,origins=<origin>|<origin>`.
pub fn parse_site(raw: &str) -> Result<Site, ConfigError> {
    let (mut id, mut key, mut origins) = (None, None, None);
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').ok_or_else(|| {
            err(
                SITE_FLAG,
                SITE_ENV,
                format!("expected id=…,key=…,origins=…|…, got {raw:?}"),
            )
        })?;
        let slot = match name.trim() {
            "id" => &mut id,
            "key" => &mut key,
            "origins" => &mut origins,
            other => {
                return Err(err(
                    SITE_FLAG,
                    SITE_ENV,
                    format!("unknown part {other:?} in {raw:?}; expected id, key, origins"),
                ))
            }
        };
        if slot.replace(value.trim().to_owned()).is_some() {
            return Err(err(
                SITE_FLAG,
                SITE_ENV,
                format!("{name} given twice in {raw:?}"),
            ));
        }
    }
    let (Some(id), Some(key), Some(origins)) = (id, key, origins) else {
        return Err(err(
            SITE_FLAG,
            SITE_ENV,
            format!("expected id=…,key=…,origins=…|…, got {raw:?}"),
        ));
    };
    let origins = origins
        .split('|')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    check_site(Site { id, key, origins }, SITE_FLAG, SITE_ENV)
}

fn read_sites_file(path: &Path) -> Result<Vec<Site>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        err(
            FILE_FLAG,
            FILE_ENV,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let sites: Vec<Site> = serde_json::from_str(&text).map_err(|e| {
        err(
            FILE_FLAG,
            FILE_ENV,
            format!(
                "{}: expected [{{\"id\", \"key\", \"origins\": […]}}]: {e}",
                path.display()
            ),
        )
    })?;
    sites
        .into_iter()
        .map(|s| check_site(s, FILE_FLAG, FILE_ENV))
        .collect()
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn base_url(raw: &str, flag: &'static str, env: &'static str) -> Result<String, ConfigError> {
    let url =
        Url::parse(raw.trim()).map_err(|e| err(flag, env, format!("not a URL ({e}): {raw:?}")))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(err(
            flag,
            env,
            format!("expected an http(s) URL without query, got {raw:?}"),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn number<T>(raw: &str, flag: &'static str, env: &'static str, max: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + Default + fmt::Display + Copy,
{
    match raw.trim().parse::<T>() {
        Ok(v) if v > T::default() && v <= max => Ok(v),
        _ => Err(err(
            flag,
            env,
            format!("expected a positive number of at most {max}, got {raw:?}"),
        )),
    }
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

fn pair(
    a: Option<String>,
    b: Option<String>,
    flags: (&'static str, &'static str),
    envs: (&'static str, &'static str),
) -> Result<Option<(String, String)>, ConfigError> {
    match (nonempty(a), nonempty(b)) {
        (Some(a), Some(b)) => Ok(Some((a, b))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(err(
            flags.1,
            envs.1,
            format!("missing; required together with {}", flags.0),
        )),
        (None, Some(_)) => Err(err(
            flags.0,
            envs.0,
            format!("missing; required together with {}", flags.1),
        )),
    }
}

impl CollectConfig {
    /// Validates the flags. The first problem found is returned.
    pub fn from_cli(cli: CollectCli) -> Result<Self, ConfigError> {
        let mut sites: Vec<Site> = Vec::new();
        for raw in cli.sites.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            sites.push(parse_site(raw)?);
        }
        if let Some(path) = nonempty(cli.sites_file) {
            sites.extend(read_sites_file(Path::new(&path))?);
        }
        let mut seen = BTreeSet::new();
        for s in &sites {
            if !seen.insert(s.id.clone()) {
                return Err(err(
                    SITE_FLAG,
                    SITE_ENV,
                    format!("site {} is configured twice", s.id),
                ));
            }
        }

        let meta_api = base_url(&cli.meta_api, "--meta-api", "ALTEGIO_COMPANION_META_API")?;
        let meta = pair(
            cli.meta_pixel_id,
            cli.meta_access_token,
            ("--meta-pixel-id", "--meta-access-token"),
            (
                "ALTEGIO_COMPANION_META_PIXEL_ID",
                "ALTEGIO_COMPANION_META_ACCESS_TOKEN",
            ),
        )?;
        let meta = match meta {
            Some((pixel_id, token)) => {
                if !pixel_id.bytes().all(|b| b.is_ascii_digit()) || pixel_id.len() > 32 {
                    return Err(err(
                        "--meta-pixel-id",
                        "ALTEGIO_COMPANION_META_PIXEL_ID",
                        format!("expected digits, got {pixel_id:?}"),
                    ));
                }
                Some(MetaConfig {
                    api: meta_api,
                    pixel_id,
                    access_token: Secret::new(token),
                    test_event_code: nonempty(cli.meta_test_event_code),
                })
            }
            None => None,
        };

        let ga4_api = base_url(&cli.ga4_api, "--ga4-api", "ALTEGIO_COMPANION_GA4_API")?;
        let ga4 = pair(
            cli.ga4_measurement_id,
            cli.ga4_api_secret,
            ("--ga4-measurement-id", "--ga4-api-secret"),
            (
                "ALTEGIO_COMPANION_GA4_MEASUREMENT_ID",
                "ALTEGIO_COMPANION_GA4_API_SECRET",
            ),
        )?;
        let ga4 = match ga4 {
            Some((measurement_id, secret)) => {
                let ok = measurement_id.len() <= 32
                    && measurement_id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-');
                if !ok {
                    return Err(err(
                        "--ga4-measurement-id",
                        "ALTEGIO_COMPANION_GA4_MEASUREMENT_ID",
                        format!("expected an ID like G-XXXXXXX, got {measurement_id:?}"),
                    ));
                }
                Some(Ga4Config {
                    api: ga4_api,
                    measurement_id,
                    api_secret: Secret::new(secret),
                })
            }
            None => None,
        };

        let rate_per_second: f64 = number(
            &cli.collect_rate,
            "--collect-rate",
            "ALTEGIO_COMPANION_COLLECT_RATE",
            1_000_000.0,
        )?;
        let burst: u32 = number(
            &cli.collect_burst,
            "--collect-burst",
            "ALTEGIO_COMPANION_COLLECT_BURST",
            1_000_000,
        )?;
        let enabled = boolean(&cli.delivery, "--delivery", "ALTEGIO_COMPANION_DELIVERY")?;
        let timeout_ms: u64 = number(
            &cli.delivery_timeout_ms,
            "--delivery-timeout-ms",
            "ALTEGIO_COMPANION_DELIVERY_TIMEOUT_MS",
            600_000,
        )?;
        let attempts: u32 = number(
            &cli.delivery_attempts,
            "--delivery-attempts",
            "ALTEGIO_COMPANION_DELIVERY_ATTEMPTS",
            50,
        )?;
        let base_ms: u64 = number(
            &cli.delivery_retry_base_ms,
            "--delivery-retry-base-ms",
            "ALTEGIO_COMPANION_DELIVERY_RETRY_BASE_MS",
            3_600_000,
        )?;
        let max_ms: u64 = number(
            &cli.delivery_max_delay_ms,
            "--delivery-max-delay-ms",
            "ALTEGIO_COMPANION_DELIVERY_MAX_DELAY_MS",
            86_400_000,
        )?;
        let poll_ms: u64 = number(
            &cli.delivery_poll_ms,
            "--delivery-poll-ms",
            "ALTEGIO_COMPANION_DELIVERY_POLL_MS",
            3_600_000,
        )?;
        let concurrency: usize = number(
            &cli.delivery_concurrency,
            "--delivery-concurrency",
            "ALTEGIO_COMPANION_DELIVERY_CONCURRENCY",
            256,
        )?;
        let ga4_resend_after_timeout = boolean(
            &cli.ga4_resend_after_timeout,
            "--ga4-resend-after-timeout",
            "ALTEGIO_COMPANION_GA4_RESEND_AFTER_TIMEOUT",
        )?;
        let retention_days: u64 = number(
            &cli.collect_retention_days,
            "--collect-retention-days",
            "ALTEGIO_COMPANION_COLLECT_RETENTION_DAYS",
            3650,
        )?;
        Ok(Self {
            sites,
            meta,
            ga4,
            rate_per_second,
            burst: f64::from(burst),
            delivery: DeliveryPolicy {
                enabled,
                timeout: Duration::from_millis(timeout_ms),
                attempts,
                base_delay: Duration::from_millis(base_ms),
                max_delay: Duration::from_millis(max_ms.max(base_ms)),
                poll: Duration::from_millis(poll_ms),
                concurrency,
                ga4_resend_after_timeout,
                retention: Duration::from_secs(retention_days * 86_400),
            },
        })
    }

    /// The site with this ID.
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    /// Whether any site allows `origin` (for CORS answers before the body is read).
    pub fn any_site_allows(&self, origin: &str) -> bool {
        self.sites
            .iter()
            .any(|s| s.origins.iter().any(|o| o == origin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        c: CollectCli,
    }

    fn parse(args: &[&str]) -> Result<CollectConfig, String> {
        let mut v = vec!["t"];
        v.extend_from_slice(args);
        let t = T::try_parse_from(v).map_err(|e| e.to_string())?;
        CollectConfig::from_cli(t.c).map_err(|e| e.to_string())
    }

    const KEY: &str = "pk_0123456789abcdef";

    #[test]
    fn sites_parse_and_normalise() {
        let c = parse(&[
            "--site",
            &format!("id=salon-1,key={KEY},origins=https://a.example/|https://b.example:8443"),
            "--site",
            &format!("id=two, key={KEY}, origins=http://localhost:3000"),
        ])
        .unwrap();
        assert_eq!(c.sites.len(), 2);
        assert_eq!(
            c.sites[0].origins,
            ["https://a.example", "https://b.example:8443"]
        );
        assert_eq!(c.site("two").unwrap().origins, ["http://localhost:3000"]);
        assert!(c.any_site_allows("https://a.example"));
        assert!(!c.any_site_allows("https://c.example"));
        assert!(c.meta.is_none() && c.ga4.is_none());
        assert!(c.delivery.enabled);
    }

    #[test]
    fn bad_sites_are_refused() {
        for s in [
            "id=a,key=short,origins=https://a.example".to_owned(),
            format!("id=a,key={KEY}"),
            format!("id=a b,key={KEY},origins=https://a.example"),
            format!("id=a,key={KEY},origins=https://a.example/path"),
            format!("id=a,key={KEY},origins=*"),
            format!("id=a,key={KEY},origins=https://a.example,colour=red"),
        ] {
            let e = parse(&["--site", &s]).unwrap_err();
            assert!(e.contains("--site"), "{s}: {e}");
        }
        let twice = format!("id=a,key={KEY},origins=https://a.example");
        let e = parse(&["--site", &twice, "--site", &twice]).unwrap_err();
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn sites_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sites.json");
        std::fs::write(
            &path,
            format!(r#"[{{"id": "f", "key": "{KEY}", "origins": ["https://f.example"]}}]"#),
        )
        .unwrap();
        let c = parse(&["--sites-file", path.to_str().unwrap()]).unwrap();
        assert_eq!(c.site("f").unwrap().key, KEY);
        std::fs::write(&path, "{}").unwrap();
        let e = parse(&["--sites-file", path.to_str().unwrap()]).unwrap_err();
        assert!(e.contains("--sites-file"), "{e}");
    }

    #[test]
    fn credentials_come_in_pairs_and_stay_secret() {
        let e = parse(&["--meta-pixel-id", "123"]).unwrap_err();
        assert!(e.contains("--meta-access-token"), "{e}");
        let e = parse(&["--ga4-api-secret", "s"]).unwrap_err();
        assert!(e.contains("--ga4-measurement-id"), "{e}");
        let c = parse(&[
            "--meta-pixel-id",
            "123",
            "--meta-access-token",
            "EAAB-very-secret",
            "--ga4-measurement-id",
            "G-ABC123",
            "--ga4-api-secret",
            "mp-very-secret",
            "--meta-api",
            "http://127.0.0.1:9/v21.0/",
        ])
        .unwrap();
        assert_eq!(c.meta.as_ref().unwrap().api, "http://127.0.0.1:9/v21.0");
        assert_eq!(c.ga4.as_ref().unwrap().api, DEFAULT_GA4_API);
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("very-secret") && shown.contains("redacted"),
            "{shown}"
        );
    }

    #[test]
    fn numbers_are_checked() {
        for (flag, v) in [
            ("--collect-rate", "0"),
            ("--collect-burst=-1", ""),
            ("--delivery-attempts", "51"),
            ("--delivery-timeout-ms", "x"),
            ("--collect-retention-days", "0"),
            ("--delivery", "maybe"),
        ] {
            let args: Vec<&str> = if v.is_empty() {
                vec![flag]
            } else {
                vec![flag, v]
            };
            let e = parse(&args).unwrap_err();
            let name = flag.split('=').next().unwrap();
            assert!(e.contains(name), "{flag}: {e}");
        }
        let c = parse(&["--collect-rate", "0.5"]).unwrap();
        assert!((c.rate_per_second - 0.5).abs() < f64::EPSILON);
    }
}
