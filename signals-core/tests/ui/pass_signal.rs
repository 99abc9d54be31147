//! A crate that declares signals and nothing else compiles without a warning.
#![deny(warnings)]
#![deny(missing_docs)]
#![no_implicit_prelude]

extern crate signals_core;

use signals_core::signal;

/// Declared with every key.
#[signal(
    namespace = "ckanext",
    name = "resource.downloaded",
    sender = ::std::string::String,
    output = ::std::option::Option<u64>,
    schema = 3,
)]
pub struct ResourceDownloaded {
    /// How many bytes.
    pub bytes: u64,
    /// Raw identifiers are plain names by name.
    pub r#type: ::std::vec::Vec<::std::string::String>,
}

/// A unit signal.
#[signal(namespace = "ckanext")]
pub struct Ping;

/// A signal that can cross processes as itself.
#[signal(namespace = "ckanext")]
#[derive(::serde::Serialize, ::serde::Deserialize)]
pub struct Saved {
    /// The id.
    pub id: u64,
}

fn main() {
    use ::signals_core::Signal;
    ::std::assert_eq!(ResourceDownloaded::NAME, "resource.downloaded");
    ::std::assert_eq!(Ping::NAME, "ping");
    ::std::assert_eq!((ResourceDownloaded::SCHEMA, Ping::SCHEMA), (3, 1));
    ::std::assert!(Saved::named().is_serializable());
    ::std::assert!(!Ping::named().is_serializable());
}
