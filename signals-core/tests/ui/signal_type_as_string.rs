use signals_core::signal;

#[signal(namespace = "ckanext", sender = "str")]
struct UserCreated;

fn main() {}
