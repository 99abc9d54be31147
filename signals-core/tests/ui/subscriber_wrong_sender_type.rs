use signals_core::{signal, subscriber};

#[signal(namespace = "ckanext", sender = i64)]
struct Numbered;

#[subscriber]
fn audit(_sender: &str, _event: &Numbered) {}

fn main() {}
