use signals_core::signal;

#[signal(namespace = "ckanext")]
struct UserCreated(String, u32);

fn main() {}
