use signals_core::{subscriber, Kwargs, SenderKey};

#[subscriber]
fn audit(_sender: &SenderKey<'_>, _kwargs: &dyn Kwargs) {}

fn main() {}
