// Every mistake of an attribute is reported in one compile.
use signals_core::signal;

#[signal(namespce = "ckanext", name = user_created, output = "u8", sender = str, sender = u8)]
struct UserCreated<T> {
    user: T,
}

fn main() {}
