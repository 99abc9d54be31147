use signals_core::{signal, subscriber};

#[signal(namespace = "ckanext")]
struct UserCreated;

struct Auditor;

impl Auditor {
    #[subscriber]
    fn audit(&self, _event: &UserCreated) {}
}

fn main() {}
