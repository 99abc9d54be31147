use signals_core::{subscriber, Kwargs, SenderKey};

#[subscriber(namespace = "ckan ext", signal = "user/created", plugin = "")]
fn audit(_sender: &SenderKey<'_>, _kwargs: &dyn Kwargs) {}

fn main() {}
