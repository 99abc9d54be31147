use signals_core::{signal, subscriber};

#[signal(namespace = "ckanext")]
struct UserCreated;

#[subscriber]
fn audit<S: ?Sized>(_sender: &S, _event: &UserCreated) {}

fn main() {}
