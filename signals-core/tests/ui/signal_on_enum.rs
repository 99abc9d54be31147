use signals_core::signal;

#[signal(namespace = "ckanext")]
enum UserCreated {
    Alice,
}

fn main() {}
