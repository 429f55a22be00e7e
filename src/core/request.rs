//! The request being served, as the core sees it: which journal entry it is and which user
//! it acts as, so events can name the request that caused them and the journal the user.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

/// What the request being served has done so far, for the journal. The control layer opens
/// one around each request it journals ([`within_request`]); events recorded inside carry
/// its id, and the first user the core authenticates (a session's principal) or names in an
/// event is remembered. Outside a request (or with the journal off) nothing is kept and
/// nothing is paid but a failed task-local lookup.
#[derive(Debug)]
pub struct RequestContext {
    /// The journal's run and the request's entry id: the request id is `{run:08x}-{id}`,
    /// written out only when an event needs it.
    run: u32,
    id: u64,
    user: RefCell<Option<String>>,
}

/// The id events carry for journal entry `id` of run `run`.
pub fn request_id(run: u32, id: u64) -> String {
    format!("{run:08x}-{id}")
}

impl RequestContext {
    pub fn new(run: u32, id: u64) -> Rc<Self> {
        Rc::new(Self {
            run,
            id,
            user: RefCell::new(None),
        })
    }

    /// The user the request acted as, if the core learnt one.
    pub fn user(&self) -> Option<String> {
        self.user.borrow().clone()
    }
}

tokio::task_local! {
    static REQUEST: Rc<RequestContext>;
}

/// Runs `f` (a request's handler) with `context` as the current request.
pub async fn within_request<F: Future>(context: Rc<RequestContext>, f: F) -> F::Output {
    REQUEST.scope(context, f).await
}

/// Remembers `user` as who the current request acts as, unless one is known already.
pub fn note_user(user: &str) {
    let _ = REQUEST.try_with(|c| {
        if let Ok(mut known) = c.user.try_borrow_mut() {
            if known.is_none() {
                *known = Some(user.to_string());
            }
        }
    });
}

pub(crate) fn current_request_id() -> Option<String> {
    REQUEST.try_with(|c| request_id(c.run, c.id)).ok()
}
