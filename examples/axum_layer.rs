//! The tower layer on an axum app: `request_started` and `request_finished` around each
//! request, their receivers awaited (at most 2 s) before the response goes out.
//!
//! ```text
//! cargo run --example axum_layer
//! ```
//!
//! It serves on a free loopback port, makes one request to itself and exits.

use std::time::Duration;

use axum::{routing::get, Router};
use ckan_signals::model::WebApp;
use ckan_signals::{RequestFinished, SignalsLayer};
use signals_core::Signal;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let _log = RequestFinished::signal()
            .connect(|app: &WebApp, ev: &RequestFinished| {
                println!("{} answered {}", app.name, ev.response.status)
            })
            .scoped();
        let app = Router::new()
            .route("/", get(|| async { "hello" }))
            .layer(SignalsLayer::new(WebApp::new("ckan")).timeout(Duration::from_secs(2)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });

        let body = reqwest::get(&url).await?.text().await?;
        println!("GET {url} -> {body}");
        Ok(())
    })
}
