use signals_core::{signal, subscriber};

#[signal(namespace = "ckanext")]
struct UserCreated;

#[subscriber]
fn only_one(_event: &UserCreated) {}

#[subscriber]
fn three(_sender: &str, _event: &UserCreated, _extra: u8) {}

fn main() {}
