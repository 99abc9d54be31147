use signals_core::{plugin, signal, subscriber};

// A string is not a path.
#[signal(namespace = "ckanext", crate = "signals_core")]
struct UserCreated;

// A path that names no crate: one error per attribute, at the path.
#[signal(namespace = "ckanext", crate = no_such_crate)]
struct UserDeleted;

#[subscriber(crate = no_such_crate)]
fn audit(_sender: &str, _event: &UserCreated) {}

#[plugin(crate = 7)]
#[derive(Default)]
struct Audit;

fn main() {}
