use signals_core::{subscriber, Kwargs, SenderKey};

#[subscriber(namespace = "ckanext")]
fn no_signal(_sender: &SenderKey<'_>, _kwargs: &dyn Kwargs) {}

#[subscriber(signal = "user_created")]
fn no_namespace(_sender: &SenderKey<'_>, _kwargs: &dyn Kwargs) {}

fn main() {}
