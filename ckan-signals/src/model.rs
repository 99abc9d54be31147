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

/// Keyed by its name, and rebuilt from it: a by-name send, or a send from JSON in another
/// process (`NamedSignal::send_json`), reaches typed receivers with the application of that
/// name.
///
/// ```
/// use ckan_signals::model::WebApp;
/// use signals_core::{Sender, SenderKey};
///
/// let rebuilt = WebApp::owned_from_sender_key(&SenderKey::from("ckan"));
/// assert_eq!(rebuilt, Some(Box::new(WebApp::new("ckan"))));
/// assert_eq!(WebApp::owned_from_sender_key(&SenderKey::Int(1)), None);
/// ```
impl Sender for WebApp {
    fn sender_key(&self) -> SenderKey<'_> {
        SenderKey::from(self.name.as_str())
    }

    fn owned_from_sender_key(key: &SenderKey<'_>) -> Option<Box<Self>> {
        key.as_str().map(|name| Box::new(WebApp::new(name)))
    }
}

/// An HTTP response about to be sent.
///
/// ```
/// use ckan_signals::model::{Response, WebApp};
/// use ckan_signals::RequestFinished;
/// use signals_core::Signal;
///
/// let response = Response {
///     status: 200,
///     content_type: "text/html".into(),
///     content_length: 12,
///     headers: vec![("content-type".into(), "text/html".into())],
/// };
/// let report = RequestFinished { response }.send(&WebApp::new("ckan"));
/// assert!(report.is_ok());
/// ```
///
/// With the `tower` feature, `Response::from_http` builds one from an `http::Response`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header (empty when there is none).
    pub content_type: String,
    /// The body's length in bytes (`0` when unknown, as for a streamed body of no announced
    /// length).
    pub content_length: usize,
    /// The response's headers in order, a name as often as it occurs: the name in lowercase,
    /// the value as text (bytes that are not UTF-8 replaced by `U+FFFD`). Flask's
    /// `response.headers`. Absent from serialized data, it reads as empty.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// The first value of the header `name` (any case), if the response has it.
    ///
    /// ```
    /// use ckan_signals::model::Response;
    ///
    /// let response = Response {
    ///     status: 204,
    ///     content_type: String::new(),
    ///     content_length: 0,
    ///     headers: vec![("x-request-id".into(), "r-1".into())],
    /// };
    /// assert_eq!(response.header("X-Request-Id"), Some("r-1"));
    /// assert_eq!(response.header("etag"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(feature = "tower")]
impl Response {
    /// The model of `response`, as [`RequestFinished`](crate::RequestFinished) carries it:
    /// its status, its `Content-Type`, its length (the `Content-Length` header, else the
    /// body's exact [size hint](http_body::Body::size_hint), else `0`) and its headers. The
    /// body is not read. Available with the `tower` feature.
    ///
    /// ```
    /// use ckan_signals::model::Response;
    ///
    /// let response = http::Response::builder()
    ///     .status(201)
    ///     .header("Content-Type", "application/json")
    ///     .body(String::from("{}"))
    ///     .unwrap();
    /// let model = Response::from_http(&response);
    /// assert_eq!((model.status, model.content_length), (201, 2));
    /// assert_eq!(model.content_type, "application/json");
    /// assert_eq!(model.headers, [("content-type".to_string(), "application/json".to_string())]);
    /// ```
    pub fn from_http<B: http_body::Body>(response: &http::Response<B>) -> Self {
        let headers = response.headers();
        let text =
            |value: &http::HeaderValue| String::from_utf8_lossy(value.as_bytes()).into_owned();
        let content_length = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok())
            .or_else(|| {
                response
                    .body()
                    .size_hint()
                    .exact()
                    .and_then(|n| usize::try_from(n).ok())
            })
            .unwrap_or(0);
        Response {
            status: response.status().as_u16(),
            content_type: headers
                .get(http::header::CONTENT_TYPE)
                .map(text)
                .unwrap_or_default(),
            content_length,
            headers: headers
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), text(value)))
                .collect(),
        }
    }
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
