use signals_core::signal;

#[signal(name = "user_created")]
struct UserCreated;

fn main() {}
