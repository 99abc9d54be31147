use signals_core::plugin;

#[plugin]
#[derive(Default)]
struct Activity<T> {
    state: T,
}

fn main() {}
