//! A signal struct's JSON form, found where `#[signal]` declares the struct.
//!
//! A signal need not be `Serialize`, so `#[signal]` cannot require it; it asks instead, by
//! autoref specialization: in the code it generates, the struct's type is concrete, and
//! `(&WireProbe::<Struct>::new()).wire_codec()` resolves to [`ProbeSerde`] when the struct is
//! `Serialize + DeserializeOwned` (a method on `WireProbe<T>`, found first) and to
//! [`ProbeFallback`] otherwise (a method on `&WireProbe<T>`, found after autoref). The
//! answer goes in the signal's descriptor (`SignalDecl`), so a send pays nothing for it.

use std::any::type_name;
use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::kwargs::Kwargs;

/// How a signal struct goes to JSON and back, its type erased. Not public API. Used by
/// generated code.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Codec {
    /// The JSON of the bag when it is the struct (`None` for any other bag).
    pub(crate) encode: fn(&dyn Kwargs) -> Option<serde_json::Result<Value>>,
    /// The struct decoded from JSON, as a bag.
    pub(crate) decode: fn(Value) -> serde_json::Result<Box<dyn Kwargs>>,
    /// The struct's type name.
    pub(crate) type_name: fn() -> &'static str,
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Codec({})", (self.type_name)())
    }
}

fn encode<T: Kwargs + Serialize>(bag: &dyn Kwargs) -> Option<serde_json::Result<Value>> {
    bag.downcast_ref::<T>().map(serde_json::to_value)
}

fn decode<T: Kwargs + DeserializeOwned>(json: Value) -> serde_json::Result<Box<dyn Kwargs>> {
    Ok(Box::new(serde_json::from_value::<T>(json)?))
}

/// The probe whose `wire_codec` method finds `T`'s JSON form, if it has one (see the module
/// docs). Not public API. Used by generated code.
#[doc(hidden)]
pub struct WireProbe<T>(PhantomData<fn() -> T>);

impl<T> WireProbe<T> {
    /// A probe for `T`.
    pub const fn new() -> Self {
        WireProbe(PhantomData)
    }
}

impl<T> Default for WireProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for WireProbe<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WireProbe<{}>", type_name::<T>())
    }
}

/// The probe's answer for a `Serialize + DeserializeOwned` struct: its codec. Not public API.
/// Used by generated code.
#[doc(hidden)]
pub trait ProbeSerde {
    /// The codec.
    fn wire_codec(&self) -> Option<Codec>;
}

impl<T: Kwargs + Serialize + DeserializeOwned> ProbeSerde for WireProbe<T> {
    fn wire_codec(&self) -> Option<Codec> {
        Some(Codec {
            encode: encode::<T>,
            decode: decode::<T>,
            type_name: type_name::<T>,
        })
    }
}

/// The probe's answer for any other struct: none. Not public API. Used by generated code.
#[doc(hidden)]
pub trait ProbeFallback {
    /// No codec.
    fn wire_codec(&self) -> Option<Codec>;
}

impl<T> ProbeFallback for &WireProbe<T> {
    fn wire_codec(&self) -> Option<Codec> {
        None
    }
}
