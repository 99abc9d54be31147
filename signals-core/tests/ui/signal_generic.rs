use signals_core::signal;

#[signal(namespace = "ckanext")]
struct UserCreated<'a> {
    user: &'a str,
}

fn main() {}
