//! The portal demo: a CKAN-like web application (axum, SQLite) that sends every built-in
//! signal while the plugins from `examples/portal.ini` react.
//!
//! ```text
//! cargo run                          # the story, over HTTP against a server on a free port
//! cargo run -- serve                 # serve on 127.0.0.1:5000 until Ctrl-C
//! cargo run -- --list                # every signal, its kwargs, docs and subscribers
//! cargo run -- --list --json         # the same, as JSON
//! cargo run -- --plugins audit,stats # other plugins than the config's
//! cargo run -- -c other.ini          # another config (also --config=FILE, or CKAN_INI)
//! cargo run -- --redis redis://127.0.0.1/ serve   # forward signals to Redis
//! cargo run -- --redis redis://127.0.0.1/ worker  # ... and handle them in another process
//! ```

use std::ffi::OsString;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use ckan_portal::cross::{self, Forwarded};
use ckan_portal::server::{Server, ServerOptions};
use ckan_portal::story::{self, StoryError, STORY_SIGNAL_TIMEOUT};
use ckan_portal::webhook::WebhookSink;
use ckan_signals::config::{Config, PLUGINS_ENV_VAR};
use ckan_signals::host;
use clap::builder::{PossibleValuesParser, ValueParser};
use clap::error::ErrorKind;
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};
use signals_core::text::quoted;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// The command line, with clap's builder (its derive macros would add a second `syn` to the
/// build).
fn command() -> Command {
    let default_config = concat!(env!("CARGO_MANIFEST_DIR"), "/portal.ini");
    Command::new("portal")
        .about(
            "A CKAN-like portal: an axum web application over SQLite that sends CKAN's 13 \
             built-in signals while its plugins react. Without a command it starts on a free \
             loopback port, makes each request of the story over HTTP, prints what happened \
             and exits.",
        )
        .arg(
            Arg::new("config")
                .short('c')
                .long("config")
                .value_name("FILE")
                .env("CKAN_INI")
                .default_value(default_config)
                .value_parser(ValueParser::os_string())
                .global(true)
                .help("The CKAN-style INI file whose ckan.plugins lists the plugins to load"),
        )
        .arg(
            Arg::new("plugins")
                .long("plugins")
                .value_name("LIST")
                .value_parser(ValueParser::os_string())
                .global(true)
                .help(
                    "Load these plugins (comma-separated, e.g. activity,audit) instead of the \
                     config's ckan.plugins and CKAN__PLUGINS",
                ),
        )
        .arg(
            Arg::new("list")
                .long("list")
                .action(ArgAction::SetTrue)
                .help(
                    "Print every signal with its kwargs, docs and subscribers (all linked \
                     plugins loaded), then exit",
                ),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .requires("list")
                .help("With --list: print it as JSON"),
        )
        .arg(
            Arg::new("database")
                .long("database")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .global(true)
                .help(
                    "The SQLite database file, created with its schema if absent (default: in \
                     memory, gone at exit)",
                ),
        )
        .arg(
            Arg::new("log")
                .long("log")
                .value_name("LEVEL")
                .default_value("info")
                .value_parser(PossibleValuesParser::new([
                    "off", "error", "warn", "info", "debug", "trace",
                ]))
                .global(true)
                .help(
                    "What to log on stderr: warn shows each failing or slow receiver, info adds \
                     the request (its id) they happened in, trace each send",
                ),
        )
        .arg(
            Arg::new("redis")
                .long("redis")
                .value_name("URL")
                .env("CKAN_REDIS_URL")
                .hide_env_values(true)
                .global(true)
                .help(
                    "Forward the signals ckan.signals.forward names to this Redis (default: \
                     the config's ckan.redis.url; none: signals stay in the process)",
                ),
        )
        .subcommand(
            Command::new("worker")
                .about(
                    "Consume the forwarded signals from Redis in this process, where the \
                     plugins' receivers run, until Ctrl-C",
                )
                .after_help(environment_help())
                .arg(
                    Arg::new("group")
                        .long("group")
                        .value_name("NAME")
                        .default_value("worker")
                        .help("The consumer group: each group receives every event"),
                ),
        )
        .subcommand(
            Command::new("dead-letters")
                .about("The events a worker could not handle: list, show, replay, purge")
                .subcommand_required(true)
                .subcommand(Command::new("list").about("The oldest 100 dead letters"))
                .subcommand(
                    Command::new("show")
                        .about("One dead letter with its fields")
                        .arg(Arg::new("id").required(true)),
                )
                .subcommand(
                    Command::new("replay")
                        .about("Write it back to its stream (every group gets it again)")
                        .arg(Arg::new("id").required(true)),
                )
                .subcommand(
                    Command::new("purge")
                        .about("Remove one dead letter, or all of them")
                        .arg(Arg::new("id")),
                ),
        )
        .subcommand(
            Command::new("serve")
                .about("Serve the portal until Ctrl-C, then shut down gracefully")
                .after_help(environment_help())
                .arg(
                    Arg::new("listen")
                        .long("listen")
                        .value_name("ADDR")
                        .default_value("127.0.0.1:5000")
                        .value_parser(value_parser!(SocketAddr))
                        .help("The address to listen on (port 0: a free port)"),
                ),
        )
        .after_help(environment_help())
}

/// The environment variables `--help` explains, for the command and `serve` alike.
fn environment_help() -> String {
    format!(
        "Environment:\n  CKAN_INI        the config file, when -c/--config is not given\n  \
         {PLUGINS_ENV_VAR}   overrides the config's ckan.plugins (space-separated, as CKAN \
         reads it);\n                  --plugins overrides both\n  \
         CKAN_REDIS_URL  the Redis to forward signals to (as --redis; beats ckan.redis.url)"
    )
}

fn main() -> ExitCode {
    let matches = match command().try_get_matches_from(std::env::args_os()) {
        Ok(matches) => matches,
        // `--help` and bad options alike: clap's text and exit code (0 or 2), with control
        // characters from the arguments escaped, so a bad argument cannot drive the terminal.
        Err(error) => return clap_exit(&error),
    };
    if matches.get_flag("list") && matches.subcommand_name().is_some() {
        let error = command().error(
            ErrorKind::ArgumentConflict,
            "--list cannot be used with `serve`: list, or serve",
        );
        return clap_exit(&error);
    }
    install_logging(&matches);
    // Everything the portal prints goes through `writeln!`, which returns write errors where
    // `println!` would panic. Not a held lock: the plugins print from the server's threads.
    let mut out = io::stdout();
    let result = run(&matches, &mut out);
    match result.and_then(|()| out.flush().map_err(StoryError::from)) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader is gone (`portal --list | head -1`): it has read all it wanted.
        Err(StoryError::Output(error)) if error.kind() == io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(StoryError::Output(error)) => {
            eprintln!("portal: cannot write to stdout: {error}");
            ExitCode::from(1)
        }
        Err(StoryError::Problem(problem)) => {
            eprintln!("portal: {problem}");
            ExitCode::from(2)
        }
    }
}

/// Prints clap's message (help, version or error) with control characters escaped, and
/// gives its exit code.
fn clap_exit(error: &clap::Error) -> ExitCode {
    let text: String = error
        .render()
        .to_string()
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    let _ = if error.use_stderr() {
        io::stderr().write_all(text.as_bytes())
    } else {
        io::stdout().write_all(text.as_bytes())
    };
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
}

/// Logs go to stderr through `tracing-subscriber`, at the `--log` level.
fn install_logging(matches: &ArgMatches) {
    let level = matches
        .get_one::<String>("log")
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    // At TRACE, each send's span is printed when it closes, with its `receivers` count.
    let spans = if level == LevelFilter::TRACE {
        FmtSpan::CLOSE
    } else {
        FmtSpan::NONE
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_span_events(spans)
        .with_writer(io::stderr)
        .with_ansi(false)
        .init();
}

/// The plugins to load, and where the list came from.
fn enabled_plugins(matches: &ArgMatches) -> Result<(Vec<String>, String), String> {
    if let Some(list) = matches.get_one::<OsString>("plugins") {
        let list = list.to_str().ok_or_else(|| {
            format!(
                "--plugins got {}, which is not valid UTF-8; list plugin names in ASCII: \
                 --plugins activity,audit",
                quoted(&list.to_string_lossy())
            )
        })?;
        let names = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        return Ok((names, "--plugins".into()));
    }
    let path = PathBuf::from(
        matches
            .get_one::<OsString>("config")
            .cloned()
            .unwrap_or_default(),
    );
    let config = Config::from_file(&path).map_err(|e| e.to_string())?;
    let env = std::env::var_os(PLUGINS_ENV_VAR);
    let origin = match &env {
        Some(_) => PLUGINS_ENV_VAR.to_owned(),
        None => path.display().to_string(),
    };
    let names = host::enabled_plugins(&config, env.as_deref()).map_err(|e| e.to_string())?;
    Ok((names, origin))
}

fn runtime() -> Result<tokio::runtime::Runtime, StoryError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(StoryError::Output)
}

fn run(matches: &ArgMatches, out: &mut impl Write) -> Result<(), StoryError> {
    if let Err(error) = signals_core::registry().check() {
        for problem in error.problems() {
            eprintln!("portal: registry: {problem}");
        }
    }
    if matches.get_flag("list") {
        return list(matches.get_flag("json"), out);
    }
    let (plugins, origin) = enabled_plugins(matches)?;
    let redis = redis_settings(matches)?;
    if let Some(sub) = matches.subcommand_matches("dead-letters") {
        let (config, _) = redis.ok_or_else(needs_redis)?;
        return runtime()?.block_on(dead_letters(config, sub, out));
    }
    if let Some(worker) = matches.subcommand_matches("worker") {
        let (config, signals) = redis.ok_or_else(needs_redis)?;
        let group = worker
            .get_one::<String>("group")
            .cloned()
            .unwrap_or_default();
        return runtime()?.block_on(work(&plugins, &origin, config, signals, &group, out));
    }
    let database = matches.get_one::<PathBuf>("database").cloned();
    let options = ServerOptions {
        database,
        dataset_types: vec!["camel-photos".into()],
        group_types: vec![
            ("camel-clubs".into(), false),
            ("camel-breeders".into(), true),
        ],
        ..ServerOptions::default()
    };
    if let Some(serve) = matches.subcommand_matches("serve") {
        let listen = serve
            .get_one::<SocketAddr>("listen")
            .copied()
            .unwrap_or(options.listen);
        return runtime()?.block_on(serve_until_ctrl_c(
            &plugins,
            &origin,
            ServerOptions { listen, ..options },
            redis,
            out,
        ));
    }
    if let Some(path) = options.database.as_ref().filter(|path| path.exists()) {
        return Err(StoryError::Problem(format!(
            "the story needs a new database, and {} exists: remove it or name another file \
             (`serve` takes an existing one)",
            path.display()
        )));
    }
    let options = ServerOptions {
        signal_timeout: STORY_SIGNAL_TIMEOUT,
        ..options
    };
    runtime()?.block_on(async {
        let forwarded = match redis {
            Some((config, signals)) => Some(Forwarded::start(config, signals).await?),
            None => None,
        };
        story::run(&plugins, &origin, options, forwarded, out).await
    })
}

fn needs_redis() -> StoryError {
    StoryError::Problem(
        "this command needs Redis: give --redis URL, set CKAN_REDIS_URL, or set ckan.redis.url \
         in the config"
            .into(),
    )
}

/// The bridge's settings and the signals to forward or consume, when a Redis URL is given
/// (`--redis`, `CKAN_REDIS_URL`, or the config's `ckan.redis.url`).
fn redis_settings(
    matches: &ArgMatches,
) -> Result<Option<(signals_redis::BridgeConfig, Vec<signals_core::NamedSignal>)>, StoryError> {
    let url = matches.get_one::<String>("redis").map(String::as_str);
    let path = PathBuf::from(
        matches
            .get_one::<OsString>("config")
            .cloned()
            .unwrap_or_default(),
    );
    // The config matters here only for its Redis keys: with --redis and no readable config,
    // the defaults apply.
    let config = match Config::from_file(&path) {
        Ok(config) => Some(config),
        Err(_) if url.is_some() || matches.get_one::<OsString>("plugins").is_some() => None,
        Err(error) => return Err(StoryError::Problem(error.to_string())),
    };
    let Some(bridge) = cross::settings(url, config.as_ref())? else {
        return Ok(None);
    };
    let list = config
        .as_ref()
        .and_then(|c| c.get(cross::FORWARD_KEY))
        .unwrap_or(cross::DEFAULT_FORWARD)
        .to_owned();
    Ok(Some((bridge, cross::resolve(&list)?)))
}

/// `worker`: the plugins' receivers, fed from Redis, until Ctrl-C.
async fn work(
    plugins: &[String],
    origin: &str,
    config: signals_redis::BridgeConfig,
    signals: Vec<signals_core::NamedSignal>,
    group: &str,
    out: &mut impl Write,
) -> Result<(), StoryError> {
    let mut interrupts = Interrupts::listen()?;
    host::load_plugins(plugins).map_err(|e| e.to_string())?;
    let names: Vec<&str> = signals.iter().map(|s| s.qualified_name()).collect();
    writeln!(
        out,
        "Worker in group `{group}` on {} (plugins from {origin}: {}), consuming {}. Ctrl-C stops it.",
        config.url,
        plugins.join(" "),
        names.join(" ")
    )?;
    out.flush()?;
    let stats = cross::work(
        config,
        &signals,
        group,
        async move { interrupts.next().await },
    )
    .await?;
    host::unload_all();
    writeln!(
        out,
        "stopped: {} sent, {} acknowledged, {} failed, {} dead-lettered, {} reclaimed",
        stats.sent, stats.acked, stats.failed, stats.dead_lettered, stats.reclaimed
    )?;
    Ok(())
}

/// `dead-letters list|show|replay|purge`.
async fn dead_letters(
    config: signals_redis::BridgeConfig,
    sub: &ArgMatches,
    out: &mut impl Write,
) -> Result<(), StoryError> {
    let bridge = cross::bridge(config).await?;
    let letters = bridge.dead_letters();
    let id = |m: &ArgMatches| m.get_one::<String>("id").cloned();
    let failed = |e: signals_redis::BridgeError| StoryError::Problem(e.to_string());
    // What a dead letter holds came from an entry, untrusted: control characters escaped, so
    // that it cannot drive the terminal.
    let shown = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    match sub.subcommand() {
        Some(("list", _)) => {
            let list = letters.list(100).await.map_err(failed)?;
            writeln!(out, "{} dead letter(s)", list.len())?;
            for letter in list {
                writeln!(
                    out,
                    "{}  {} {}  after {} deliveries: {}",
                    letter.id,
                    shown(&letter.stream),
                    shown(&letter.entry_id),
                    letter.deliveries,
                    shown(&letter.reason)
                )?;
            }
        }
        Some(("show", m)) => {
            let letter = letters
                .show(&id(m).unwrap_or_default())
                .await
                .map_err(failed)?;
            writeln!(
                out,
                "id: {}\nstream: {}\nentry: {}\ngroup: {}\ndeliveries: {}\nreason: {}",
                letter.id,
                shown(&letter.stream),
                shown(&letter.entry_id),
                shown(&letter.group),
                letter.deliveries,
                shown(&letter.reason)
            )?;
            for (name, value) in letter.fields {
                writeln!(out, "  {}: {}", shown(&name), shown(&value))?;
            }
        }
        Some(("replay", m)) => {
            let entry = letters
                .replay(&id(m).unwrap_or_default())
                .await
                .map_err(failed)?;
            writeln!(out, "replayed as entry {entry}")?;
        }
        Some(("purge", m)) => {
            let removed = letters.purge(id(m).as_deref()).await.map_err(failed)?;
            writeln!(out, "purged {removed} dead letter(s)")?;
        }
        _ => {}
    }
    Ok(())
}

/// `--list`: loads every linked plugin, so the subscriptions plugins make in code are listed
/// too. The configured plugins do not matter here: the config file is not even read.
fn list(json: bool, out: &mut impl Write) -> Result<(), StoryError> {
    let all: Vec<&str> = signals_core::registry()
        .plugins()
        .iter()
        .map(|p| p.name)
        .collect();
    host::load_plugins(&all).map_err(|e| e.to_string())?;
    let listing = signals_core::listing();
    host::unload_all();
    if json {
        let text = serde_json::to_string_pretty(&listing).map_err(|e| e.to_string())?;
        writeln!(out, "{text}")?;
    } else {
        write!(out, "{listing}")?;
    }
    Ok(())
}

/// How long `serve` lets the requests in flight finish after Ctrl-C.
const GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// `serve`: the portal and its webhook endpoint until Ctrl-C; then the requests in flight
/// finish, for at most [`GRACE`]; a second Ctrl-C stops at once (exit code 130).
async fn serve_until_ctrl_c(
    plugins: &[String],
    origin: &str,
    options: ServerOptions,
    redis: Option<(signals_redis::BridgeConfig, Vec<signals_core::NamedSignal>)>,
    out: &mut impl Write,
) -> Result<(), StoryError> {
    // Listen for Ctrl-C before the banner says it stops the server.
    let mut interrupts = Interrupts::listen()?;
    host::load_plugins(plugins).map_err(|e| e.to_string())?;
    let forwarded = match redis {
        Some((config, signals)) => Some(Forwarded::start(config, signals).await?),
        None => None,
    };
    let sink = WebhookSink::start().await?;
    ckanext_notify::set_webhook_url(Some(sink.url()));
    let server = Server::start(options).await.map_err(|e| e.to_string())?;
    let admin = server
        .portal()
        .add_sysadmin("admin")
        .map_err(|e| e.to_string())?;
    let token = admin.token;
    writeln!(
        out,
        "Serving the portal at {} (plugins from {origin}: {}). Ctrl-C stops it.",
        server.url(),
        plugins.join(" ")
    )?;
    writeln!(out, "  sysadmin `admin`, API token {token}")?;
    match admin.password {
        Some(password) => writeln!(out, "  its password, shown once: {password}")?,
        None => writeln!(out, "  (an existing user: its password is unchanged)")?,
    }
    writeln!(out, "  the notify webhook posts to {}", sink.url())?;
    writeln!(
        out,
        "  try: curl -H 'Authorization: {token}' -d '{{\"name\": \"camels\"}}' {}/api/3/action/package_create",
        server.url()
    )?;
    out.flush()?;
    interrupts.next().await;
    writeln!(
        out,
        "stopping: the requests in flight may finish (at most {} s; Ctrl-C again stops at once)",
        GRACE.as_secs()
    )?;
    out.flush()?;
    tokio::spawn(async move {
        interrupts.next().await;
        eprintln!("portal: stopped at once (second Ctrl-C)");
        std::process::exit(130);
    });
    let stopped = match tokio::time::timeout(GRACE, server.stop()).await {
        Ok(stopped) => {
            writeln!(out, "stopped: the requests in flight finished")?;
            stopped.map_err(|e| StoryError::Problem(e.to_string()))
        }
        Err(_) => {
            writeln!(
                out,
                "stopped: {} s passed; the requests still in flight were dropped",
                GRACE.as_secs()
            )?;
            Ok(())
        }
    };
    if let Some(forwarded) = forwarded {
        let stats = forwarded.finish().await;
        writeln!(
            out,
            "forwarded to Redis: {} event(s) written, {} failed",
            stats.written, stats.failed
        )?;
    }
    host::unload_all();
    sink.stop().await?;
    stopped
}

/// Ctrl-C (SIGINT), its handler installed when this is made: a SIGINT before would kill the
/// process outright.
struct Interrupts {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupts {
    fn listen() -> Result<Interrupts, StoryError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signal = signal(SignalKind::interrupt())
                .map_err(|e| StoryError::Problem(format!("cannot listen for Ctrl-C: {e}")))?;
            Ok(Interrupts { signal })
        }
        #[cfg(not(unix))]
        Ok(Interrupts {})
    }

    /// The next Ctrl-C.
    async fn next(&mut self) {
        #[cfg(unix)]
        self.signal.recv().await;
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
