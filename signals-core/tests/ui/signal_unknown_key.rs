use signals_core::signal;

#[signal(namespace = "ckanext", nmae = "user_created")]
struct UserCreated {
    user: String,
}

fn main() {}
