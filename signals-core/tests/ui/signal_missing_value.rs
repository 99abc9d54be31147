use signals_core::signal;

#[signal(namespace)]
struct UserCreated;

fn main() {}
