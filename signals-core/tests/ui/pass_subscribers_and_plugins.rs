//! Subscribers and plugins in a module with no implicit prelude: the generated code names
//! only `::signals_core::__private` paths (std included).
#![deny(warnings)]

mod plain {
    #![no_implicit_prelude]

    use ::signals_core::{plugin, signal, subscriber, Kwargs, SenderKey};

    #[signal(namespace = "pass_ns", sender = i64, output = u8)]
    pub struct Numbered {
        pub value: u8,
    }

    #[subscriber(sender = -5, plugin = "pass_plugin")]
    fn typed(_sender: &i64, event: &Numbered) -> ::std::result::Result<u8, ::std::string::String> {
        ::std::result::Result::Ok(event.value)
    }

    #[subscriber(namespace = "pass_ns", signal = "numbered", sender = None)]
    fn by_name(_sender: &SenderKey<'_>, _kwargs: &dyn Kwargs) {}

    #[subscriber(sender = 9, plugin = "pass_plugin")]
    async fn typed_async(sender: &i64, event: &Numbered) -> u8 {
        event.value + *sender as u8
    }

    #[subscriber(namespace = "pass_ns", signal = "numbered", sender = 9)]
    async fn by_name_async(
        _sender: &SenderKey<'_>,
        _kwargs: &dyn Kwargs,
    ) -> ::std::result::Result<(), ::std::string::String> {
        ::std::result::Result::Ok(())
    }

    #[plugin(name = "pass_plugin")]
    #[derive(Default)]
    pub struct PassPlugin;

    impl ::signals_core::plugins::Plugin for PassPlugin {}
}

fn main() {
    use signals_core::Signal;
    signals_core::plugins::load("pass_plugin").unwrap();
    let collected = plain::Numbered { value: 7 }.sending(&-5).collect().run();
    assert_eq!(collected.into_values(), [7]);
    let collected = futures::executor::block_on(
        plain::Numbered { value: 1 }
            .sending(&9)
            .collect()
            .run_async(),
    );
    assert_eq!(collected.report.receivers_called(), 2);
    assert_eq!(collected.into_values(), [10]);
}
