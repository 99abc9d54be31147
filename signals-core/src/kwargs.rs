//! The kwargs bag seen by name: a dynamic, read-only view of a signal's arguments.
//!
//! Every signal struct implements [`Kwargs`] (the `#[signal]` macro writes the impl), so a
//! subscriber that cannot depend on the declaring crate still reads its arguments by name.
//! [`DynKwargs`] is a bag built at run time, for signals that no struct declares.

use std::any::{type_name, Any, TypeId};
use std::borrow::Cow;
use std::fmt;

use crate::error::KwargError;

/// One keyword argument seen by name.
///
/// ```
/// use signals_core::Kwarg;
///
/// let bytes = 10u64;
/// let kwarg = Kwarg::new("bytes", &bytes);
/// assert_eq!(kwarg.value.downcast_ref::<u64>(), Some(&10));
/// assert_eq!(format!("{kwarg:?}"), "bytes: u64");
/// ```
#[derive(Clone, Copy)]
pub struct Kwarg<'a> {
    /// The argument's name (the struct field's name).
    pub name: &'a str,
    /// The value, to downcast.
    pub value: &'a (dyn Any + Send + Sync),
    /// The value's Rust type, as `std::any::type_name` spells it.
    pub type_name: &'static str,
}

impl<'a> Kwarg<'a> {
    /// Describes a field of a signal struct. Used by generated and hand-written impls.
    ///
    /// ```
    /// use signals_core::Kwarg;
    ///
    /// let user = String::from("alice");
    /// let kwarg = Kwarg::new("user", &user);
    /// assert_eq!(kwarg.name, "user");
    /// assert!(kwarg.type_name.ends_with("String")); // `type_name`'s spelling is not stable
    /// ```
    pub fn new<T: Any + Send + Sync>(name: &'a str, value: &'a T) -> Self {
        Kwarg {
            name,
            value,
            type_name: type_name::<T>(),
        }
    }
}

impl fmt::Debug for Kwarg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.type_name)
    }
}

/// Where a signal struct keeps one of its fields: what a by-name receiver of one kwarg
/// ([`Receiver::kwarg`](crate::Receiver::kwarg)) reads at a fixed offset when a send's bag is
/// that struct. `#[signal]` lists every field (`Signal::FIELDS`). Not public API.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub(crate) name: &'static str,
    pub(crate) offset: usize,
    /// `TypeId::of` the struct.
    pub(crate) owner: fn() -> TypeId,
    /// `TypeId::of` the field's type.
    pub(crate) value: fn() -> TypeId,
}

impl Field {
    /// The field `name` of the struct `S`, a `V` at `offset` bytes from the start of every
    /// `S` (what `core::mem::offset_of!` gives).
    ///
    /// # Safety
    ///
    /// Every `S` holds a `V` at `offset`: a receiver of the kwarg `name` reads a `V` there,
    /// through a pointer to an `S`.
    ///
    /// Not a matter of safety, but of agreement: `Kwargs::kwarg_value(name)` of an `S` should
    /// be that field, or a receiver of `name` reads one value in a typed send and another in
    /// a send of a bag built at run time.
    pub const unsafe fn new<S: 'static, V: 'static>(name: &'static str, offset: usize) -> Self {
        Field {
            name,
            offset,
            owner: TypeId::of::<S>,
            value: TypeId::of::<V>,
        }
    }

    /// The field's name (its kwarg's).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Where the field lies: bytes from the start of the struct.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Where the kwarg `name` lies in an `S` when it is a `V`: its offset, found in `S`'s
    /// fields (`fields`, which must be `S`'s own: fields of another struct give `None`).
    pub(crate) fn find(
        fields: &[Field],
        name: &str,
        owner: TypeId,
        value: TypeId,
    ) -> Option<usize> {
        fields
            .iter()
            .find(|field| field.name == name)
            .filter(|field| (field.owner)() == owner && (field.value)() == value)
            .map(|field| field.offset)
    }
}

/// A signal's keyword arguments, readable by name.
///
/// Subscribers get a shared reference: they cannot modify the bag. Read a value with
/// [`read`](trait.Kwargs.html#method.read), which serves a signal's struct in this process and
/// a bag decoded from JSON in another; [`get`](trait.Kwargs.html#method.get) and
/// [`try_get`](trait.Kwargs.html#method.try_get) borrow a value of any type without decoding,
/// in this process only:
///
/// ```
/// use signals_core::{DynKwargs, Kwargs};
///
/// let bag = DynKwargs::new().with("user", "alice".to_string()).with("attempts", 3u32);
/// let view: &dyn Kwargs = &bag;
/// assert_eq!(view.get::<String>("user").map(String::as_str), Some("alice"));
/// assert_eq!(view.get::<u32>("attempts"), Some(&3));
/// assert_eq!(view.get::<u64>("attempts"), None); // wrong type: None, never a panic
/// assert_eq!(view.names(), ["user", "attempts"]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a kwargs bag",
    note = "`#[signal]` implements `Kwargs` for a signal struct; a by-name send may also carry a `DynKwargs`"
)]
pub trait Kwargs: Any + Send + Sync {
    /// The argument called `name`, if there is one.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs};
    ///
    /// let bag = DynKwargs::new().with("n", 3u32);
    /// assert_eq!(bag.kwarg("n").unwrap().type_name, "u32");
    /// assert!(bag.kwarg("m").is_none());
    /// ```
    fn kwarg(&self, name: &str) -> Option<Kwarg<'_>>;

    /// Every argument, in declaration order.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs};
    ///
    /// let bag = DynKwargs::new().with("a", 1u8).with("b", true);
    /// let names: Vec<&str> = bag.kwargs().iter().map(|k| k.name).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    fn kwargs(&self) -> Vec<Kwarg<'_>>;

    /// The value of the argument called `name`, if there is one: what `get` (on `dyn Kwargs`)
    /// reads. The default asks [`kwarg`](Self::kwarg); `#[signal]` structs answer directly,
    /// which keeps a by-name read to a name match and a type check.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs};
    ///
    /// let bag = DynKwargs::new().with("n", 3u32);
    /// assert_eq!(bag.kwarg_value("n").unwrap().downcast_ref::<u32>(), Some(&3));
    /// assert!(bag.kwarg_value("m").is_none());
    /// ```
    fn kwarg_value(&self, name: &str) -> Option<&(dyn Any + Send + Sync)> {
        self.kwarg(name).map(|kwarg| kwarg.value)
    }

    /// The bag's Rust type, for error messages (as `std::any::type_name` spells it: not a
    /// stable format).
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs};
    ///
    /// assert!(DynKwargs::new().bag_type_name().ends_with("DynKwargs"));
    /// ```
    fn bag_type_name(&self) -> &'static str {
        type_name::<Self>()
    }
}

/// A kwarg as [`Kwargs::read`](trait.Kwargs.html#method.read) finds it: in the bag, or
/// decoded from the JSON value the bag holds.
pub(crate) enum Read<'a, T> {
    Here(&'a T),
    Decoded(T),
}

impl dyn Kwargs {
    /// The argument `name` as a `T`; `None` when it is missing or holds another type (use
    /// [`try_get`](#method.try_get) to know which). `T` must be the exact type: no
    /// conversion is tried (`u32` is not found as `u64`, `String` not as `str`).
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs};
    ///
    /// let bag = DynKwargs::new().with("n", 3u32);
    /// let view: &dyn Kwargs = &bag;
    /// assert_eq!(view.get::<u32>("n"), Some(&3));
    /// assert_eq!(view.get::<u64>("n"), None);
    /// assert_eq!(view.get::<u32>("m"), None);
    /// ```
    pub fn get<T: Any>(&self, name: &str) -> Option<&T> {
        self.kwarg_value(name)?.downcast_ref::<T>()
    }

    /// The argument `name` as a `T`, or an error that says whether it is missing (and which
    /// names exist) or holds another type (and which).
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs};
    ///
    /// let bag = DynKwargs::new().with("records", vec![1, 2]);
    /// let view: &dyn Kwargs = &bag;
    /// let err = view.try_get::<String>("record").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "no keyword argument named `record`; the arguments are: records"
    /// );
    /// ```
    pub fn try_get<T: Any>(&self, name: &str) -> Result<&T, KwargError> {
        let Some(kwarg) = self.kwarg(name) else {
            return Err(self.missing(name));
        };
        kwarg
            .value
            .downcast_ref::<T>()
            .ok_or_else(|| KwargError::WrongType {
                name: name.to_owned(),
                requested: type_name::<T>(),
                actual: kwarg.type_name,
            })
    }

    /// Reads the argument `name` as a `T`, wherever the bag came from: borrowed from a
    /// signal's struct or a [`DynKwargs`] that holds a `T`, or decoded from a JSON value (a
    /// bag that crossed a process boundary holds `serde_json::Value`s). The same call serves
    /// both, so a by-name subscriber works in the sending process and in another one. Errors
    /// say which argument was missing, of another type, or did not decode; nothing panics.
    ///
    /// ```
    /// use signals_core::{signal, DynKwargs, Kwargs};
    ///
    /// #[signal(namespace = "doc_kwargs_read")]
    /// struct Upserted { resource_id: String, records: Option<Vec<i64>> }
    ///
    /// let here = Upserted { resource_id: "r1".into(), records: Some(vec![1, 2]) };
    /// let from_json = DynKwargs::new()
    ///     .with("resource_id", serde_json::json!("r1"))
    ///     .with("records", serde_json::json!([1, 2]));
    /// for bag in [&here as &dyn Kwargs, &from_json] {
    ///     assert_eq!(*bag.read::<String>("resource_id")?, "r1");
    ///     assert_eq!(*bag.read::<Option<Vec<i64>>>("records")?, Some(vec![1, 2]));
    ///     assert!(bag.read::<u32>("resource_id").is_err());
    /// }
    /// # Ok::<(), signals_core::KwargError>(())
    /// ```
    pub fn read<T>(&self, name: &str) -> Result<Cow<'_, T>, KwargError>
    where
        T: serde::de::DeserializeOwned + Clone + Any,
    {
        Ok(match self.read_value::<T>(name)? {
            Read::Here(value) => Cow::Borrowed(value),
            Read::Decoded(value) => Cow::Owned(value),
        })
    }

    /// What [`read`](Self::read) reads, for a `T` that need not be `Clone`
    /// (`Receiver::kwarg`'s read by name).
    pub(crate) fn read_value<T>(&self, name: &str) -> Result<Read<'_, T>, KwargError>
    where
        T: serde::de::DeserializeOwned + Any,
    {
        let kwarg = self.kwarg(name).ok_or_else(|| self.missing(name))?;
        if let Some(value) = kwarg.value.downcast_ref::<T>() {
            return Ok(Read::Here(value));
        }
        match kwarg.value.downcast_ref::<serde_json::Value>() {
            Some(json) => {
                T::deserialize(json)
                    .map(Read::Decoded)
                    .map_err(|error| KwargError::Undecodable {
                        name: name.to_owned(),
                        requested: type_name::<T>(),
                        reason: error.to_string(),
                    })
            }
            None => Err(KwargError::WrongType {
                name: name.to_owned(),
                requested: type_name::<T>(),
                actual: kwarg.type_name,
            }),
        }
    }

    fn missing(&self, name: &str) -> KwargError {
        let names = self.names();
        KwargError::Missing {
            name: name.to_owned(),
            available: if names.is_empty() {
                "(none)".to_owned()
            } else {
                names.join(", ")
            },
        }
    }

    /// Whether an argument called `name` exists.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs};
    ///
    /// let bag = DynKwargs::new().with("n", 3u32);
    /// let view: &dyn Kwargs = &bag;
    /// assert!(view.contains("n") && !view.contains("m"));
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.kwarg(name).is_some()
    }

    /// The arguments' names, in declaration order.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs};
    ///
    /// let bag = DynKwargs::new().with("b", 1u8).with("a", 2u8);
    /// let view: &dyn Kwargs = &bag;
    /// assert_eq!(view.names(), ["b", "a"]);
    /// ```
    pub fn names(&self) -> Vec<&str> {
        self.kwargs().into_iter().map(|k| k.name).collect()
    }

    /// The whole bag as its concrete type, when it is one: a by-name subscriber that does
    /// depend on the declaring crate can get the struct back.
    ///
    /// ```
    /// use signals_core::{signal, DynKwargs, Kwargs};
    ///
    /// #[signal(namespace = "doc_kwargs_downcast")]
    /// struct Saved { id: u32 }
    ///
    /// let bag: &dyn Kwargs = &Saved { id: 7 };
    /// assert_eq!(bag.downcast_ref::<Saved>().map(|s| s.id), Some(7));
    /// assert!(bag.downcast_ref::<DynKwargs>().is_none());
    /// ```
    pub fn downcast_ref<T: Kwargs>(&self) -> Option<&T> {
        (self as &dyn Any).downcast_ref::<T>()
    }
}

impl fmt::Debug for dyn Kwargs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.kwargs()).finish()
    }
}

/// A signal without arguments has an empty bag.
impl Kwargs for () {
    fn kwarg(&self, _name: &str) -> Option<Kwarg<'_>> {
        None
    }
    fn kwargs(&self) -> Vec<Kwarg<'_>> {
        Vec::new()
    }
}

type BoxedValue = Box<dyn Any + Send + Sync>;

/// A kwargs bag built at run time, for by-name sends of signals that no struct declares.
///
/// ```
/// use signals_core::{DynKwargs, Kwargs};
///
/// let mut bag = DynKwargs::new();
/// bag.insert("resource_id", "r-1".to_string());
/// bag.insert("resource_id", "r-2".to_string()); // replaces, keeping the position
/// let view: &dyn Kwargs = &bag;
/// assert_eq!(view.get::<String>("resource_id").unwrap(), "r-2");
/// assert_eq!(view.names().len(), 1);
/// ```
#[derive(Default)]
pub struct DynKwargs {
    entries: Vec<(Cow<'static, str>, BoxedValue, &'static str)>,
}

impl DynKwargs {
    /// An empty bag.
    ///
    /// ```
    /// use signals_core::DynKwargs;
    ///
    /// assert!(DynKwargs::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the argument `name` and returns the bag.
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs};
    ///
    /// let bag = DynKwargs::new().with("n", 1u32).with("n", 2u32);
    /// assert_eq!(bag.len(), 1);
    /// assert_eq!((&bag as &dyn Kwargs).get::<u32>("n"), Some(&2));
    /// ```
    #[must_use = "`with` returns the bag with the argument added"]
    pub fn with<T: Any + Send + Sync>(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: T,
    ) -> Self {
        self.insert(name, value);
        self
    }

    /// Adds the argument `name`, replacing an earlier value of that name in place (the
    /// replacement may have another type).
    ///
    /// ```
    /// use signals_core::{DynKwargs, Kwargs};
    ///
    /// let mut bag = DynKwargs::new();
    /// bag.insert("id", 1u32);
    /// bag.insert("id", "r-1".to_string());
    /// assert_eq!((&bag as &dyn Kwargs).get::<String>("id").unwrap(), "r-1");
    /// ```
    pub fn insert<T: Any + Send + Sync>(&mut self, name: impl Into<Cow<'static, str>>, value: T) {
        let name = name.into();
        let entry = (name, Box::new(value) as BoxedValue, type_name::<T>());
        match self.entries.iter_mut().find(|(n, _, _)| *n == entry.0) {
            Some(slot) => *slot = entry,
            None => self.entries.push(entry),
        }
    }

    /// Appends `name` without looking for an earlier argument of that name: for names already
    /// known to be distinct (a JSON object's keys), so that a bag of many arguments is built in
    /// linear time.
    pub(crate) fn push_distinct<T: Any + Send + Sync>(&mut self, name: String, value: T) {
        self.entries.push((
            Cow::Owned(name),
            Box::new(value) as BoxedValue,
            type_name::<T>(),
        ));
    }

    /// The number of arguments.
    ///
    /// ```
    /// use signals_core::DynKwargs;
    ///
    /// assert_eq!(DynKwargs::new().with("a", 1u8).with("b", 2u8).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the bag has no argument.
    ///
    /// ```
    /// use signals_core::DynKwargs;
    ///
    /// assert!(!DynKwargs::new().with("a", 1u8).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Kwargs for DynKwargs {
    fn kwarg(&self, name: &str) -> Option<Kwarg<'_>> {
        self.entries
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(n, v, t)| Kwarg {
                name: n,
                value: &**v,
                type_name: t,
            })
    }

    fn kwargs(&self) -> Vec<Kwarg<'_>> {
        self.entries
            .iter()
            .map(|(n, v, t)| Kwarg {
                name: n,
                value: &**v,
                type_name: t,
            })
            .collect()
    }

    fn kwarg_value(&self, name: &str) -> Option<&(dyn Any + Send + Sync)> {
        let (_, value, _) = self.entries.iter().find(|(n, _, _)| n == name)?;
        Some(&**value)
    }
}

impl fmt::Debug for DynKwargs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self as &dyn Kwargs).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_type_names_both_types() {
        let bag = DynKwargs::new().with("n", 1u8);
        let view: &dyn Kwargs = &bag;
        assert_eq!(
            view.try_get::<String>("n").unwrap_err().to_string(),
            "keyword argument `n` is a `u8`, not a `alloc::string::String`; read it as `u8`"
        );
        assert_eq!(
            (&() as &dyn Kwargs)
                .try_get::<u8>("n")
                .unwrap_err()
                .to_string(),
            "no keyword argument named `n`; the arguments are: (none)"
        );
    }

    #[test]
    fn downcasts_the_whole_bag() {
        let bag = DynKwargs::new();
        let view: &dyn Kwargs = &bag;
        assert!(view.downcast_ref::<DynKwargs>().is_some());
        assert!(view.downcast_ref::<()>().is_none());
    }
}
