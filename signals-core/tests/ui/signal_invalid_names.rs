use signals_core::signal;

#[signal(namespace = "", name = "user created")]
struct UserCreated;

fn main() {}
