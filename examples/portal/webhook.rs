//! The other end of the `notify` plugin's webhook: a small HTTP service on loopback that
//! records each POST and answers `202 Accepted`, standing for the site's chat or CI hook.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use tokio::net::TcpListener;

use crate::server::Serving;

type Calls = Arc<Mutex<Vec<String>>>;

/// A running webhook endpoint.
#[derive(Debug)]
pub struct WebhookSink {
    addr: SocketAddr,
    calls: Calls,
    serving: Serving,
}

impl WebhookSink {
    /// Starts the endpoint on a free loopback port, on the current tokio runtime.
    pub async fn start() -> io::Result<WebhookSink> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let calls = Calls::default();
        let app = Router::new()
            .route("/hooks/datasets", post(receive))
            .with_state(Arc::clone(&calls));
        Ok(WebhookSink {
            addr,
            calls,
            serving: Serving::spawn(listener, app),
        })
    }

    /// The URL to POST to.
    pub fn url(&self) -> String {
        format!("http://{}/hooks/datasets", self.addr)
    }

    /// The bodies received so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Stops the endpoint.
    pub async fn stop(self) -> io::Result<()> {
        self.serving.stop().await.map_err(io::Error::other)?
    }
}

async fn receive(State(calls): State<Calls>, body: Bytes) -> StatusCode {
    if let Ok(mut calls) = calls.lock() {
        calls.push(String::from_utf8_lossy(&body).into_owned());
    }
    StatusCode::ACCEPTED
}
