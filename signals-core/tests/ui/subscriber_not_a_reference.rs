use signals_core::{signal, subscriber};

#[signal(namespace = "ckanext")]
struct UserCreated;

#[subscriber]
fn audit(_sender: String, _event: UserCreated) {}

#[subscriber]
fn mutate(_sender: &str, _event: &mut UserCreated) {}

fn main() {}
