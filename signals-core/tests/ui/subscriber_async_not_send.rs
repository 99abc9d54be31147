use std::rc::Rc;

use signals_core::{signal, subscriber};

#[signal(namespace = "ckanext")]
struct UserCreated;

async fn call_the_service() {}

// The future holds an `Rc` across an `.await`: it is not `Send`, so an async send could not
// run on a multi-threaded executor.
#[subscriber]
async fn audit(_sender: &str, _event: &UserCreated) {
    let counter = Rc::new(1);
    call_the_service().await;
    drop(counter);
}

fn main() {}
