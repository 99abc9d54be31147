//! Small, real model types that CKAN's signals carry.

use serde::{Deserialize, Serialize};
use signals_core::{Sender, SenderKey};

/// A CKAN user account.
///
/// ```
/// use ckan_signals::model::User;
/// use ckan_signals::UserCreated;
/// use signals_core::Signal;
///
/// let user = User {
///     id: "u-1".into(),
///     name: "alice".into(),
///     email: "alice@example.org".into(),
///     fullname: None,
///     sysadmin: false,
/// };
/// let report = UserCreated { user: user.clone() }.send(&user.name);
/// assert!(report.is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: String,
    /// The login name.
    pub name: String,
    /// The e-mail address.
    pub email: String,
    /// The display name.
    pub fullname: Option<String>,
    /// Whether the user administers the site.
    pub sysadmin: bool,
}

/// The web application: the sender of the request and login signals.
///
/// Its sender key is its name, so a subscriber may listen to one application:
///
/// ```
/// use ckan_signals::model::WebApp;
/// use signals_core::{Sender, SenderKey};
///
/// assert_eq!(WebApp::new("ckan").sender_key(), SenderKey::from("ckan"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebApp {
    /// The application's name (`ckan` for CKAN's Flask app).
    pub name: String,
}

impl WebApp {
    /// An application called `name`.
    ///
    /// ```
    /// use ckan_signals::model::WebApp;
    ///
    /// assert_eq!(WebApp::new("ckan").name, "ckan");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        WebApp { name: name.into() }
    }
}

impl Sender for WebApp {
    fn sender_key(&self) -> SenderKey<'_> {
        SenderKey::from(self.name.as_str())
    }
}

/// An HTTP response about to be sent.
///
/// ```
/// use ckan_signals::model::{Response, WebApp};
/// use ckan_signals::RequestFinished;
/// use signals_core::Signal;
///
/// let response = Response { status: 200, content_type: "text/html".into(), content_length: 12 };
/// let report = RequestFinished { response }.send(&WebApp::new("ckan"));
/// assert!(report.is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The body's length in bytes.
    pub content_length: usize,
}

/// A Flask blueprint being registered for a dataset, resource, group or organization type.
///
/// ```
/// use ckan_signals::model::Blueprint;
/// use ckan_signals::RegisterBlueprint;
/// use signals_core::Signal;
///
/// let blueprint = Blueprint { name: "camel-photos".into(), url_prefix: "/camel-photos".into() };
/// assert!(RegisterBlueprint { blueprint }.send("dataset").is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blueprint {
    /// The blueprint's name (the plugin-defined type, such as `camel-photos`).
    pub name: String,
    /// Where its routes are mounted.
    pub url_prefix: String,
}

/// The context an action runs in (CKAN's `context` dict, the parts subscribers read).
///
/// ```
/// use ckan_signals::model::ActionContext;
///
/// let context = ActionContext { user: Some("alice".into()), ..ActionContext::default() };
/// assert!(!context.ignore_auth);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActionContext {
    /// The name of the user calling the action, if any.
    pub user: Option<String>,
    /// Whether authorization checks were skipped.
    pub ignore_auth: bool,
}
