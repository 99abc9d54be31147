use signals_core::{signal, subscriber};

#[signal(namespace = "ckanext")]
struct UserCreated;

#[subscriber(sender = 1.5, plugin = activity, priority = 1)]
fn audit(_sender: &str, _event: &UserCreated) {}

#[subscriber(sender = Some("x"))]
fn some(_sender: &str, _event: &UserCreated) {}

fn main() {}
