use signals_core::{signal, subscriber};

// `pq.x` + `y` would be `pq.x.y`, as `pq` + `x.y` is: only a signal name may have dots.
#[signal(namespace = "pq.x", name = "y")]
struct Dotted;

#[signal(namespace = "pq", name = "x.y")]
struct Fine;

#[subscriber(namespace = "pq.x", signal = "y")]
fn on_dotted(_: &signals_core::SenderKey<'_>, _: &dyn signals_core::Kwargs) {}

fn main() {}
