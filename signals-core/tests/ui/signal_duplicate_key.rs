use signals_core::signal;

#[signal(namespace = "ckanext", name = "a", name = "b")]
struct UserCreated;

fn main() {}
