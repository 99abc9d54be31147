//! `ckan.plugins.toolkit.signals`: the two namespaces and an alias per built-in signal.
//!
//! ```
//! use ckan_signals::toolkit::signals;
//!
//! // `assert register_blueprint is ckan_namespace.signal('register_blueprint')`
//! assert_eq!(signals::register_blueprint().named(), signals::ckan().signal("register_blueprint")?);
//! // The alias and the registered name differ for three signals.
//! assert_eq!(signals::action_succeeded().named(), signals::ckan().signal("action_succeed")?);
//! # Ok::<(), signals_core::Error>(())
//! ```

/// The aliases, as `ckan.plugins.toolkit.signals` (and `ckan.lib.signals`) offer them.
pub mod signals {
    use signals_core::{Namespace, Signal, TypedSignal};

    use crate::signals::*;

    /// The `ckan` namespace: CKAN's core signals.
    ///
    /// ```
    /// use ckan_signals::toolkit::signals;
    ///
    /// let ckan = signals::ckan();
    /// assert_eq!(ckan.name(), "ckan");
    /// // Listing shows declared signals only once any signal was looked up (which builds the
    /// // registry); before that, `ckan.signals()` may be empty.
    /// ckan.signal("user_created")?;
    /// assert!(ckan.signals().iter().any(|s| s.name() == "logged_in"));
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn ckan() -> Namespace {
        // A constant, valid name: the lookup cannot fail.
        Namespace::get("ckan").unwrap_or_else(|_| unreachable!("`ckan` is a valid name"))
    }

    /// The `ckanext` namespace: extensions' signals (datastore, datapusher, third parties).
    ///
    /// ```
    /// use ckan_signals::toolkit::signals;
    ///
    /// assert_eq!(signals::datastore_delete().named(), signals::ckanext().signal("datastore_delete")?);
    /// # Ok::<(), signals_core::Error>(())
    /// ```
    pub fn ckanext() -> Namespace {
        Namespace::get("ckanext").unwrap_or_else(|_| unreachable!("`ckanext` is a valid name"))
    }

    macro_rules! aliases {
        ($($alias:ident => $ty:ident),* $(,)?) => {$(
            #[doc = concat!("The `", stringify!($alias), "` signal: see [`", stringify!($ty), "`].")]
            #[doc = ""]
            #[doc = "```"]
            #[doc = concat!("use ckan_signals::{toolkit::signals, ", stringify!($ty), "};")]
            #[doc = "use signals_core::Signal;"]
            #[doc = ""]
            #[doc = concat!("assert_eq!(signals::", stringify!($alias), "().named(), ", stringify!($ty), "::named());")]
            #[doc = concat!("assert!(signals::", stringify!($alias), "().check().is_ok());")]
            #[doc = "```"]
            pub fn $alias() -> TypedSignal<$ty> {
                $ty::signal()
            }
        )*};
    }

    aliases! {
        request_started => RequestStarted,
        request_finished => RequestFinished,
        register_blueprint => RegisterBlueprint,
        resource_download => ResourceDownload,
        user_logged_in => UserLoggedIn,
        user_logged_out => UserLoggedOut,
        failed_login => FailedLogin,
        user_created => UserCreated,
        request_password_reset => RequestPasswordReset,
        perform_password_reset => PerformPasswordReset,
        action_succeeded => ActionSucceeded,
        datastore_upsert => DatastoreUpsert,
        datastore_delete => DatastoreDelete,
    }
}
