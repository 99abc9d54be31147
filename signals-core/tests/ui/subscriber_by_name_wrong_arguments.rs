use signals_core::subscriber;

#[subscriber(namespace = "ckanext", signal = "user_created")]
fn audit(_sender: &str, _kwargs: &String) {}

fn main() {}
