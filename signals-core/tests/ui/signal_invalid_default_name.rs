use signals_core::signal;

// The default name is the type's name in snake_case: not ASCII here.
#[signal(namespace = "ckanext")]
struct Créé;

fn main() {}
