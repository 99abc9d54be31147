use signals_core::{signal, subscriber};

#[signal(namespace = "ckanext")]
struct UserCreated;

#[subscriber]
async fn audit(_sender: &str, _event: &UserCreated) {}

fn main() {}
