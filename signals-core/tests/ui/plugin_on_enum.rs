use signals_core::plugin;

#[plugin(name = "activity")]
enum Activity {
    On,
}

fn main() {}
