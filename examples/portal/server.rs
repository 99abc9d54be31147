//! Starting and stopping the portal's HTTP server.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::portal::Portal;
use crate::store::PasswordCost;
use crate::web::{self, AppState};

/// How to start the portal.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where to listen; port 0 takes a free port.
    pub listen: SocketAddr,
    /// The SQLite database file; `None` keeps it in memory (gone when the server stops).
    pub database: Option<PathBuf>,
    /// The password hashes' cost.
    pub password_cost: PasswordCost,
    /// How long a request waits for the receivers of `request_started` and of
    /// `request_finished`, each.
    pub signal_timeout: Duration,
    /// The dataset types IDatasetForm plugins declare, and the group types (with whether each
    /// is an organization type) IGroupForm plugins declare: each registers its blueprints at
    /// start-up, sending `register_blueprint`.
    pub dataset_types: Vec<String>,
    /// See [`dataset_types`](Self::dataset_types).
    pub group_types: Vec<(String, bool)>,
}

impl Default for ServerOptions {
    /// Loopback on a free port, an in-memory database, default password hashing, a 5 s
    /// signal timeout, no plugin-defined types.
    fn default() -> Self {
        ServerOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: None,
            password_cost: PasswordCost::Default,
            signal_timeout: Duration::from_secs(5),
            dataset_types: Vec::new(),
            group_types: Vec::new(),
        }
    }
}

/// Why the server did not start or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database could not be opened or its schema created.
    #[error("cannot open the database: {0}; check the --database path is a writable file")]
    Database(#[from] rusqlite::Error),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}; pick a free port with --listen 127.0.0.1:PORT")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why not.
        source: io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("the server failed: {0}")]
    Serve(#[from] io::Error),
    /// The server's task panicked or was cancelled.
    #[error("the server's task ended abnormally: {0}")]
    Task(String),
}

/// A running portal: it serves until [`stop`](Self::stop).
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    portal: Arc<Portal>,
    serving: Serving,
}

/// An axum app served on its own task until [`stop`](Serving::stop): the portal's server and
/// the webhook endpoint each run one.
#[derive(Debug)]
pub(crate) struct Serving {
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl Serving {
    /// Serves `app` on `listener`, on the current tokio runtime.
    pub(crate) fn spawn(listener: TcpListener, app: axum::Router) -> Serving {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Serving { stop, task }
    }

    /// Stops accepting connections and waits for the requests in flight: the server's own
    /// result, or the task's failure (a panic, a cancellation).
    pub(crate) async fn stop(self) -> Result<io::Result<()>, tokio::task::JoinError> {
        let _ = self.stop.send(());
        self.task.await
    }
}

impl Server {
    /// Opens the database, runs the start-up (blueprints), binds the address and starts
    /// serving on the current tokio runtime.
    pub async fn start(options: ServerOptions) -> Result<Server, ServerError> {
        let mut portal = Portal::open(options.database.as_deref(), options.password_cost)?;
        let dataset_types: Vec<&str> = options.dataset_types.iter().map(String::as_str).collect();
        let group_types: Vec<(&str, bool)> = options
            .group_types
            .iter()
            .map(|(name, org)| (name.as_str(), *org))
            .collect();
        portal.start_up(&dataset_types, &group_types);
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|source| ServerError::Listen {
                    addr: options.listen,
                    source,
                })?;
        let addr = listener.local_addr()?;
        let portal = Arc::new(portal);
        let state = AppState {
            portal: Arc::clone(&portal),
            site_url: format!("http://{addr}"),
        };
        let app = web::router(state, options.signal_timeout).await;
        Ok(Server {
            addr,
            portal,
            serving: Serving::spawn(listener, app),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The application core, for what a test or the story reads directly (the mail the
    /// portal would have sent, the receiver failures).
    pub fn portal(&self) -> &Arc<Portal> {
        &self.portal
    }

    /// Stops accepting connections, lets the requests in flight finish, and returns.
    pub async fn stop(self) -> Result<(), ServerError> {
        match self.serving.stop().await {
            Ok(result) => Ok(result?),
            Err(error) => Err(ServerError::Task(error.to_string())),
        }
    }
}
