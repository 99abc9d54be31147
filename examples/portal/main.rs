//! The portal demo: a CKAN-like host that sends every built-in signal while the plugins from
//! `examples/portal.ini` react.
//!
//! ```text
//! cargo run                          # the story
//! cargo run -- --list                # every signal, its kwargs, docs and subscribers
//! cargo run -- --list --json         # the same, as JSON
//! cargo run -- --plugins audit,stats # other plugins than the config's
//! cargo run -- --config other.ini
//! ```

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use ckan_portal::{connections_of_plugin, Portal};
use ckan_signals::config::{Config, PLUGINS_ENV_VAR};
use ckan_signals::host;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ckan_signals::model::{ActionContext, WebApp};
use ckan_signals::{RequestFinished, RequestStarted};
use serde_json::{json, Value};
use signals_core::text::quoted;
use signals_core::Signal;

const USAGE: &str = "usage: portal [--config FILE] [--plugins a,b,...] [--list [--json]]";

struct Options {
    config: PathBuf,
    plugins: Option<Vec<String>>,
    list: bool,
    json: bool,
}

/// Reads the arguments as the OS gives them: a path need not be UTF-8 (`--config` takes any),
/// and anything else that is not UTF-8 is reported as bad input, never a panic.
fn parse_args(args: impl Iterator<Item = OsString>) -> Result<Option<Options>, String> {
    let mut options = Options {
        config: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/portal.ini")),
        plugins: None,
        list: false,
        json: false,
    };
    let mut args = args;
    while let Some(arg) = args.next() {
        match arg.to_str().unwrap_or("") {
            "--list" => options.list = true,
            "--json" => options.json = true,
            "--config" => {
                options.config = args
                    .next()
                    .ok_or("--config needs a file: --config FILE")?
                    .into()
            }
            "--plugins" => {
                let list = args
                    .next()
                    .ok_or("--plugins needs a list: --plugins activity,audit")?;
                let list = list.into_string().map_err(|list| {
                    format!(
                        "--plugins got {}, which is not valid UTF-8; list plugin names in ASCII: \
                         --plugins activity,audit",
                        quoted(&list.to_string_lossy())
                    )
                })?;
                options.plugins = Some(
                    list.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                );
            }
            "-h" | "--help" => return Ok(None),
            _ => {
                let option = arg.to_string_lossy();
                return Err(format!("unknown option {}", quoted(&option)));
            }
        }
    }
    if options.json && !options.list {
        return Err("--json goes with --list".into());
    }
    Ok(Some(options))
}

/// Why the portal stopped early.
enum Stop {
    /// A problem to report: exit code 2.
    Problem(String),
    /// Writing to stdout failed.
    Output(io::Error),
}

impl From<String> for Stop {
    fn from(problem: String) -> Self {
        Stop::Problem(problem)
    }
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Self {
        Stop::Output(error)
    }
}

fn main() -> ExitCode {
    // Everything the portal prints goes through this lock with `writeln!`, which returns write
    // errors where `println!` would panic. (The plugins print through `stdout()` too, and
    // ignore errors; the lock is reentrant, so they can while the portal holds it.)
    let mut out = io::stdout().lock();
    let result = match parse_args(std::env::args_os().skip(1)) {
        Ok(Some(options)) => run(options, &mut out),
        Ok(None) => writeln!(out, "{USAGE}").map_err(Stop::from),
        Err(problem) => {
            eprintln!("portal: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Flush here, so that a failed write is seen, not lost at exit.
    match result.and_then(|()| out.flush().map_err(Stop::from)) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader is gone (`portal --list | head -1`): it has read all it wanted.
        Err(Stop::Output(error)) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Stop::Output(error)) => {
            eprintln!("portal: cannot write to stdout: {error}");
            ExitCode::from(1)
        }
        Err(Stop::Problem(problem)) => {
            eprintln!("portal: {problem}");
            ExitCode::from(2)
        }
    }
}

fn enabled_plugins(options: &Options) -> Result<(Vec<String>, String), String> {
    if let Some(list) = &options.plugins {
        return Ok((list.clone(), "--plugins".into()));
    }
    let config = Config::from_file(&options.config).map_err(|e| e.to_string())?;
    let env = std::env::var_os(PLUGINS_ENV_VAR);
    let origin = match &env {
        Some(_) => PLUGINS_ENV_VAR.to_owned(),
        None => options.config.display().to_string(),
    };
    let names = host::enabled_plugins(&config, env.as_deref()).map_err(|e| e.to_string())?;
    Ok((names, origin))
}

fn run(options: Options, out: &mut impl Write) -> Result<(), Stop> {
    if let Err(error) = signals_core::registry().check() {
        for problem in error.problems() {
            eprintln!("portal: registry: {problem}");
        }
    }
    if options.list {
        // Load every linked plugin, so the subscriptions plugins make in code are listed too.
        // The configured plugins do not matter here: the config file is not even read.
        let all: Vec<&str> = signals_core::registry()
            .plugins()
            .iter()
            .map(|p| p.name)
            .collect();
        host::load_plugins(&all).map_err(|e| e.to_string())?;
        let listing = signals_core::listing();
        host::unload_all();
        if options.json {
            let text = serde_json::to_string_pretty(&listing).map_err(|e| e.to_string())?;
            writeln!(out, "{text}")?;
        } else {
            write!(out, "{listing}")?;
        }
        return Ok(());
    }
    let (plugins, origin) = enabled_plugins(&options)?;
    story(&plugins, &origin, out)
}

/// `POST /api/3/action/{name}`: one request calling one action.
fn api(
    portal: &mut Portal,
    name: &str,
    context: ActionContext,
    data_dict: Value,
) -> Result<Value, String> {
    portal.request(|p| {
        p.action(name, context, data_dict)
            .map_err(|e| e.to_string())
    })
}

fn chapter(out: &mut impl Write, title: &str) -> io::Result<()> {
    writeln!(out, "\n== {title}")
}

fn story(plugins: &[String], origin: &str, out: &mut impl Write) -> Result<(), Stop> {
    // Load first: a plugin that cannot be loaded stops the portal before the story starts.
    host::load_plugins(plugins).map_err(|e| e.to_string())?;
    writeln!(
        out,
        "A CKAN-like portal, in process. Plugins from {origin}: {}",
        plugins.join(" ")
    )?;
    for plugin in host::loaded() {
        let owned = connections_of_plugin(plugin);
        writeln!(out, "  loaded `{plugin}`: {} subscription(s)", owned.len())?;
        for line in owned {
            writeln!(out, "    {line}")?;
        }
    }

    // Every HTTP request of the story goes through `portal.request`: each sends
    // request_started and request_finished once. Counted here for the summary.
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let count = |n: &Arc<AtomicUsize>| {
        let n = Arc::clone(n);
        move || {
            n.fetch_add(1, Ordering::Relaxed);
        }
    };
    let on_start = count(&started);
    let _started = RequestStarted::signal()
        .connect(move |_: &WebApp, _: &RequestStarted| on_start())
        .scoped();
    let on_finish = count(&finished);
    let _finished = RequestFinished::signal()
        .connect(move |_: &WebApp, _: &RequestFinished| on_finish())
        .scoped();

    let mut portal = Portal::new();
    let admin = ActionContext {
        user: Some("admin".into()),
        ignore_auth: true,
    };

    chapter(
        out,
        "start-up: plugin-defined dataset, group and organization types register their blueprints",
    )?;
    portal.start_up(
        &["camel-photos"],
        &[("camel-clubs", false), ("camel-breeders", true)],
    );
    writeln!(
        out,
        "  registered (ckan.register_blueprint is sent for plugin-defined types only; no plugin listens):"
    )?;
    for (blueprint, sender) in portal.blueprints() {
        let how = match sender {
            Some(sender) => format!("sent from {sender:?}"),
            None => "core, not announced".to_owned(),
        };
        writeln!(
            out,
            "    {:<22} {:<30} {how}",
            blueprint.name, blueprint.url_prefix
        )?;
    }

    chapter(out, "POST /user/register: alice and bob sign up")?;
    for (name, email) in [("alice", "alice@example.org"), ("bob", "bob@example.org")] {
        portal.request(|p| {
            p.action(
                "user_create",
                ActionContext::default(),
                json!({ "name": name, "email": email, "password": "correct horse" }),
            )
            .map_err(|e| e.to_string())
        })?;
        writeln!(out, "  created user {name}")?;
    }

    chapter(out, "POST /user/login: two typos, then a good password")?;
    for password in ["hunter2", "Correct horse", "correct horse"] {
        let outcome = portal.request(|p| p.login("alice", password).map_err(|e| e.to_string()));
        match outcome {
            Ok(user) => writeln!(out, "  {} logged in", user.name)?,
            Err(e) => writeln!(out, "  {e}")?,
        }
    }

    chapter(out, "the action API: a dataset, a resource, an update")?;
    let dataset = api(
        &mut portal,
        "package_create",
        admin.clone(),
        json!({ "name": "camels", "title": "Camels of the world" }),
    )?;
    let dataset_id = dataset["id"].as_str().unwrap_or_default().to_owned();
    writeln!(out, "  package_create -> {dataset_id}")?;
    let resource = api(
        &mut portal,
        "resource_create",
        admin.clone(),
        json!({ "package_id": dataset_id, "upload": "id,name\n1,Humphrey\n" }),
    )?;
    let resource_id = resource["id"].as_str().unwrap_or_default().to_owned();
    writeln!(out, "  resource_create -> {resource_id}")?;
    api(
        &mut portal,
        "package_update",
        admin.clone(),
        json!({ "id": "camels", "title": "Camels, updated" }),
    )?;
    writeln!(out, "  package_update camels")?;
    api(
        &mut portal,
        "package_show",
        ActionContext::default(),
        json!({ "id": "camels" }),
    )?;
    writeln!(
        out,
        "  package_show camels (read actions send action_succeed too; no plugin listens)"
    )?;

    chapter(out, "downloads and the datastore")?;
    for _ in 0..2 {
        portal.request(|p| p.download(&resource_id).map_err(|e| e.to_string()))?;
    }
    writeln!(
        out,
        "  downloaded {resource_id} twice (each looks it up with resource_show and package_show)"
    )?;
    api(
        &mut portal,
        "datastore_upsert",
        admin.clone(),
        json!({ "resource_id": resource_id, "records": [{"name": "Humphrey"}, {"name": "Clyde"}] }),
    )?;
    api(
        &mut portal,
        "datastore_delete",
        admin.clone(),
        json!({ "resource_id": resource_id }),
    )?;

    chapter(out, "password reset for bob, then logout")?;
    let token = portal.request(|p| p.request_password_reset("bob").map_err(|e| e.to_string()))?;
    portal.request(|p| {
        p.perform_password_reset(&token, "battery staple", None)
            .map_err(|e| e.to_string())
    })?;
    portal.request(|p| {
        p.logout();
        Ok(())
    })?;
    writeln!(out, "  alice logged out")?;

    chapter(out, "summary")?;
    writeln!(
        out,
        "  HTTP requests: request_started sent {}, request_finished sent {}",
        started.load(Ordering::Relaxed),
        finished.load(Ordering::Relaxed)
    )?;
    writeln!(
        out,
        "  activity stream: {} entries",
        ckanext_activity::stream().len()
    )?;
    for a in ckanext_activity::stream() {
        writeln!(
            out,
            "    {} {} by {}",
            a.activity_type,
            a.object_id,
            a.user.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(out, "  audit log: {} entries", ckanext_audit::log().len())?;
    let stats = ckanext_stats::stats();
    writeln!(
        out,
        "  stats: downloads {:?}, records written {:?}, deletes {:?}",
        stats.downloads, stats.upserted_records, stats.deletes
    )?;
    writeln!(out, "  notifications: {}", ckanext_notify::outbox().len())?;
    writeln!(
        out,
        "  webhook calls: {}",
        ckanext_notify::webhook_calls().len()
    )?;
    writeln!(
        out,
        "  receiver failures: {}",
        portal.receiver_failures.len()
    )?;
    for failure in &portal.receiver_failures {
        writeln!(out, "    {failure}")?;
    }
    let loaded = host::loaded();
    host::unload_all();
    writeln!(
        out,
        "  unloaded {} (last loaded first); receivers left on action_succeed: {}",
        loaded.iter().rev().cloned().collect::<Vec<_>>().join(", "),
        ckan_signals::toolkit::signals::action_succeeded()
            .named()
            .connections()
            .len()
    )?;
    Ok(())
}
