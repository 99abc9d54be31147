use signals_core::signal;

#[signal(namespace = ckanext, name = 5)]
struct UserCreated;

fn main() {}
