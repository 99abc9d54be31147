use signals_core::{signal, subscriber, Kwargs, SenderKey};

#[signal(namespace = "ckanext")]
struct UserCreated;

struct Auditor;

impl Auditor {
    #[subscriber]
    fn audit(_sender: &str, _event: &UserCreated) {}

    #[subscriber(namespace = "ckanext", signal = "user_deleted")]
    async fn by_name(_sender: &SenderKey<'_>, _kwargs: &dyn Kwargs) {}
}

fn main() {}
