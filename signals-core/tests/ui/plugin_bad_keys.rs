use signals_core::plugin;

#[plugin(name = "activity", version = "1")]
#[derive(Default)]
struct Activity;

impl signals_core::plugins::Plugin for Activity {}

fn main() {}
