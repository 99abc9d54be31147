use signals_core::{signal, subscriber};

#[signal(namespace = "ckanext", output = u64)]
struct Numbered;

#[subscriber]
async fn audit(_sender: &str, _event: &Numbered) -> String {
    String::new()
}

fn main() {}
