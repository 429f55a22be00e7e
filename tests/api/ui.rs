//! The web dashboard at `/_vlsim/ui`: every page answers HTML with the dashboard's security
//! headers; every form does what its admin endpoint does and is refused without its CSRF
//! token or from another origin; `--admin-token` asks for a login once and keeps it in an
//! HttpOnly SameSite=Strict cookie; `--no-admin` removes it all.

use crate::helpers::{fa, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const UI: &str = "/_vlsim/ui";

/// The dashboard's GET pages.
const PAGES: &[&str] = &[
    "",
    "/",
    "/journal",
    "/events",
    "/sessions",
    "/inspect",
    "/controls",
];

/// A client that shows redirects instead of following them, keeps no cookies, no proxy.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The CSRF token of the page's forms.
    fn csrf(&self) -> String {
        let at = self
            .text
            .find(r#"name="csrf" value=""#)
            .unwrap_or_else(|| panic!("no CSRF field: {}", self.text));
        let rest = &self.text[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    fn assert_html(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.header("content-type"), "text/html; charset=utf-8");
        assert!(self.text.starts_with("<!DOCTYPE html>"), "{}", self.text);
    }
}

async fn fetch(rb: reqwest::RequestBuilder) -> Page {
    let res = rb.send().await.unwrap();
    Page {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        text: res.text().await.unwrap(),
    }
}

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Page {
    let mut rb = browser().get(app.at(&format!("{UI}{path}")));
    if let Some(c) = cookie {
        rb = rb.header("Cookie", c);
    }
    fetch(rb).await
}

/// A form POST as a browser on the dashboard sends it: same Origin, the page's CSRF token.
async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Page {
    let csrf = get(app, "/controls", None).await.csrf();
    post_with(app, path, fields, Some(&csrf), Some(app.url()), None).await
}

async fn post_with(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    csrf: Option<&str>,
    origin: Option<&str>,
    cookie: Option<&str>,
) -> Page {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    if let Some(csrf) = csrf {
        form.push(("csrf", csrf));
    }
    let mut rb = browser().post(app.at(&format!("{UI}{path}"))).form(&form);
    if let Some(o) = origin {
        rb = rb.header("Origin", o);
    }
    if let Some(c) = cookie {
        rb = rb.header("Cookie", c);
    }
    fetch(rb).await
}

/// Asserts a form answered 303 back to `to` with notice `done`.
fn assert_done(page: &Page, to: &str, done: &str) {
    assert_eq!(page.status, 303, "{}", page.text);
    assert_eq!(page.header("location"), format!("{UI}{to}?done={done}"));
}

/// Every visible input, select and textarea has an id that a `<label for>` names.
fn assert_labelled(path: &str, html: &str) {
    for tag in ["<input ", "<select ", "<textarea "] {
        for (at, _) in html.match_indices(tag) {
            let element = &html[at..at + html[at..].find('>').unwrap()];
            if element.contains(r#"type="hidden""#) {
                continue;
            }
            let wrapped = html[..at]
                .rfind("<label>")
                .is_some_and(|l| !html[l..at].contains("</label>"));
            let labelled = wrapped || {
                let id = element
                    .split(r#"id=""#)
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_else(|| panic!("{path}: {element} has no id"));
                html.contains(&format!(r#"<label for="{id}">"#))
            };
            assert!(labelled, "{path}: {element} has no label");
        }
    }
}

/// Whether a journal page's table has a row for `operation`.
fn has_row(html: &str, operation: &str) -> bool {
    html.contains(&format!(">{operation}</a></td>"))
}

#[actix_web::test]
async fn every_page_answers_html_with_its_security_headers() {
    let app = TestApp::start().await;
    for path in PAGES {
        let page = get(&app, path, None).await;
        page.assert_html(200);
        let csp = page.header("content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(page.header("x-frame-options"), "DENY");
        assert_eq!(page.header("x-content-type-options"), "nosniff");
        // Nothing from elsewhere: every script and stylesheet is the dashboard's own.
        for foreign in [
            r#"src="http"#,
            r#"src="//"#,
            r#"rel="stylesheet" href="http"#,
        ] {
            assert!(!page.text.contains(foreign), "{path}: {foreign}");
        }
        assert!(page
            .text
            .contains(r#"<script src="/_vlsim/ui/assets/vlsim.js" defer>"#));
        assert_labelled(path, &page.text);
    }
    let css = get(&app, "/assets/vlsim.css", None).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert!(css.text.contains("@media"), "responsive rules");
    let js = get(&app, "/assets/vlsim.js", None).await;
    assert_eq!(js.header("content-type"), "text/javascript; charset=utf-8");
    assert!(js.text.contains("data-live"));
    let missing = get(&app, "/nope", None).await;
    missing.assert_html(404);
    let not_numbered = get(&app, "/journal/abc", None).await;
    not_numbered.assert_html(404);
    let gone = get(&app, "/journal/999999", None).await;
    gone.assert_html(404);
    assert!(gone.text.contains("not kept"), "{}", gone.text);
    // Dashboard pages are not journaled (only the emulated surfaces are).
    assert_eq!(app.journal("").await["size"], 0);
}

#[actix_web::test]
async fn overview_shows_surfaces_snippets_counts_and_clock() {
    let app = TestApp::start().await;
    app.horizon_token(None).await;
    app.advance_clock(3600).await;
    let page = get(&app, "", None).await;
    page.assert_html(200);
    let base = app.url();
    for want in [
        format!("{base}/view-vlsi/sdk"),
        format!("{base}/api/session"),
        format!("zeep.Client(&quot;{base}/view-vlsi/sdk?wsdl&quot;"),
        format!("FusionAuthClient(&quot;vlsim-api-key&quot;, &quot;{base}&quot;)"),
        "create_user_password_security_context".to_string(),
        "curl -s".to_string(),
        "Refresh tokens".to_string(),
        "60 min ahead of real time".to_string(),
    ] {
        assert!(page.text.contains(&want), "overview lacks {want}");
    }
}

#[actix_web::test]
async fn journal_lists_filters_and_shows_an_entry_with_its_token_decoded() {
    let app = TestApp::start().await;
    let token = app.horizon_token(None).await;
    app.fusionauth_login("admin@vlsim.test", fa::APP).await;
    let list = get(&app, "/journal", None).await;
    list.assert_html(200);
    assert!(has_row(&list.text, "JwtToken_Generate"));
    assert!(
        list.text.contains(r"VLSIM\administrator"),
        "the caller is named"
    );
    assert!(list.text.contains("POST /api/login"));
    let only_fa = get(&app, "/journal?surface=fusionauth", None).await;
    assert!(
        has_row(&only_fa.text, "POST /api/login") && !has_row(&only_fa.text, "JwtToken_Generate")
    );
    let errors = get(&app, "/journal?status=5xx", None).await;
    assert!(!has_row(&errors.text, "JwtToken_Generate") && errors.text.contains("0 shown"));
    let by_op = get(&app, "/journal?operation=jwttoken_generate", None).await;
    assert!(by_op.text.contains("1 shown"), "{}", by_op.text);
    let by_text = get(&app, "/journal?q=admin%40vlsim.test", None).await;
    assert!(
        has_row(&by_text.text, "POST /api/login") && !has_row(&by_text.text, "JwtToken_Generate")
    );
    // A search never tells whether a secret was sent: the password is redacted, so no hit.
    let secret = get(&app, "/journal?q=%22password%22%3A%22password", None).await;
    assert!(secret.text.contains("0 shown"), "{}", secret.text);
    get(&app, "/journal?surface=mars", None)
        .await
        .assert_html(400);
    get(&app, "/journal?status=9xx", None)
        .await
        .assert_html(400);

    // The API names the same entries, with the user and the request id events carry.
    let entries = app.journal("operation=JwtToken_Generate").await;
    let entry = &entries["entries"][0];
    assert_eq!(entry["user"], r"VLSIM\administrator");
    let id = entry["id"].as_u64().unwrap();
    let detail = get(&app, &format!("/journal/{id}"), None).await;
    detail.assert_html(200);
    for want in [
        "JwtToken_GenerateResponse",
        "soapenv:Envelope",
        "&lt;token&gt;[redacted]&lt;/token&gt;",
        "JWT in the response body",
        "&quot;username&quot;: &quot;administrator&quot;",
        "[signature redacted]",
        "VLSI_JWT_TOKEN_GENERATED",
        "by vlsim's clock",
    ] {
        assert!(
            detail.text.contains(want),
            "detail lacks {want}: {}",
            detail.text
        );
    }
    let signature = token.rsplit('.').next().unwrap();
    assert!(!detail.text.contains(signature), "the signature stays out");
    assert!(!detail.text.contains(&token), "the token stays out");
    // XML indented: the envelope's children on lines of their own.
    assert!(
        detail.text.contains("\n  &lt;soapenv:Body&gt;"),
        "{}",
        detail.text
    );
}

#[actix_web::test]
async fn events_link_to_the_journal_entry_that_caused_them() {
    let app = TestApp::start().await;
    app.horizon_token(None).await;
    let entries = app.journal("operation=JwtToken_Generate").await;
    let id = entries["entries"][0]["id"].as_u64().unwrap();
    let events = app.events("type=VLSI_JWT_TOKEN_GENERATED").await;
    let request_id = events[0]["request_id"].as_str().unwrap().to_string();
    assert!(request_id.ends_with(&format!("-{id}")), "{request_id}");
    let page = get(&app, "/events", None).await;
    page.assert_html(200);
    assert!(page.text.contains("VLSI_JWT_TOKEN_GENERATED"));
    assert!(
        page.text
            .contains(&format!(r#"href="/_vlsim/ui/journal/{id}">#{id}</a>"#)),
        "{}",
        page.text
    );
    let of_request = get(&app, &format!("/events?request={request_id}"), None).await;
    assert!(of_request.text.contains("VLSI_JWT_TOKEN_GENERATED"));
    // The login before it caused its own event, not this request's.
    assert!(page.text.contains("<code>VLSI_USERLOGGEDIN</code>"));
    assert!(!of_request.text.contains("<code>VLSI_USERLOGGEDIN</code>"));
    let filtered = get(&app, "/events?surface=fusionauth", None).await;
    assert!(
        filtered.text.contains("No events match"),
        "{}",
        filtered.text
    );
    let by_user = get(&app, "/events?user=administrator&type=VLSI_JWT", None).await;
    assert!(by_user.text.contains("VLSI_JWT_TOKEN_GENERATED"));
    // Without the journal, events carry no request id.
    let quiet = TestApp::start_configured(|c| c.journal_size = 0).await;
    quiet.horizon_token(None).await;
    let events = quiet.events("type=VLSI_JWT_TOKEN_GENERATED").await;
    assert!(events[0].get("request_id").is_none(), "{}", events[0]);
    let off = get(&quiet, "/journal", None).await;
    assert!(off.text.contains("The journal is off"));
}

#[actix_web::test]
async fn forms_are_refused_without_their_csrf_token_or_from_another_origin() {
    let app = TestApp::start().await;
    let rule = [("surface", "vlsi"), ("kind", "drop")];
    let csrf = get(&app, "/controls", None).await.csrf();
    let cases: [(Option<&str>, Option<&str>, &str); 4] = [
        (None, Some(app.url()), "no token"),
        (Some("AAAA"), Some(app.url()), "a wrong token"),
        (Some(&csrf), Some("http://evil.test"), "another origin"),
        (Some(&csrf[1..]), None, "a cut token"),
    ];
    for (token, origin, what) in cases {
        let page = post_with(&app, "/faults", &rule, token, origin, None).await;
        page.assert_html(403);
        assert!(page.text.contains("CSRF"), "{what}");
    }
    let referer = browser()
        .post(app.at("/_vlsim/ui/faults"))
        .header("Referer", "http://evil.test/page")
        .form(&[
            ("surface", "vlsi"),
            ("kind", "drop"),
            ("csrf", csrf.as_str()),
        ]);
    fetch(referer).await.assert_html(403);
    let cross_site = browser()
        .post(app.at("/_vlsim/ui/faults"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[
            ("surface", "vlsi"),
            ("kind", "drop"),
            ("csrf", csrf.as_str()),
        ]);
    fetch(cross_site).await.assert_html(403);
    let json_body = browser()
        .post(app.at("/_vlsim/ui/faults"))
        .json(&json!({"csrf": csrf}));
    fetch(json_body).await.assert_html(415);
    let (_, rules) = app.get_json("/_vlsim/faults").await;
    assert_eq!(rules["rules"], json!([]), "nothing was added");
    // The same form, from the dashboard itself (with or without an Origin header).
    let ok = post_with(&app, "/faults", &rule, Some(&csrf), None, None).await;
    assert_done(&ok, "/controls", "fault-added");
    // GET never changes anything.
    let get_form = get(&app, "/faults", None).await;
    assert_eq!(get_form.status, 404);
}

#[actix_web::test]
async fn fault_rule_forms_add_count_and_delete() {
    let app = TestApp::start().await;
    let page = get(&app, "/controls", None).await;
    // The form offers each surface's operations and typed faults.
    for want in [
        "JwtToken_Generate",
        "POST /api/jwt/refresh",
        "com.vmware.cis.session.create",
        "UnexpectedFault",
        "[ServiceUnavailable]",
        "invalid_grant",
    ] {
        assert!(page.text.contains(want), "the fault form lacks {want}");
    }
    let added = post(
        &app,
        "/faults",
        &[
            ("surface", "vlsi"),
            ("operation", "JwtToken_Generate"),
            ("kind", "typed"),
            ("fault", "UnexpectedFault"),
            ("message", "disk on fire"),
        ],
    )
    .await;
    assert_done(&added, "/controls", "fault-added");
    let admin = app.logged_in("administrator").await;
    let reply = app.soap(&admin, &crate::helpers::generate_xml(None)).await;
    assert_eq!(reply.fault_type(), "UnexpectedFault", "{}", reply.text);
    let (_, rules) = app.get_json("/_vlsim/faults").await;
    let id = rules["rules"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(rules["rules"][0]["fired"], 1);
    let controls = get(&app, "/controls?done=fault-added", None).await;
    assert!(controls.text.contains("Fault rule added."));
    assert!(
        controls.text.contains(r#"<td class="num fired">1</td>"#),
        "{}",
        controls.text
    );
    // Bad input is a 400 page saying why, not a new rule.
    for (fields, why) in [
        (vec![("kind", "status")], "needs the HTTP status"),
        (vec![("kind", "typed"), ("probability", "2")], "probability"),
        (
            vec![("kind", "typed"), ("max_count", "lots")],
            "must be a number",
        ),
        (
            vec![("surface", "admin"), ("kind", "drop")],
            "surface must be one of",
        ),
        (vec![("kind", "teleport")], "no action"),
    ] {
        let page = post(&app, "/faults", &fields).await;
        page.assert_html(400);
        assert!(page.text.contains(why), "{why}: {}", page.text);
    }
    let status_rule = post(
        &app,
        "/faults",
        &[
            ("surface", "fusionauth"),
            ("pattern", "POST /api/jwt/*"),
            ("kind", "status"),
            ("status", "418"),
            ("max_count", "1"),
        ],
    )
    .await;
    assert_done(&status_rule, "/controls", "fault-added");
    let (_, rules) = app.get_json("/_vlsim/faults").await;
    assert_eq!(rules["rules"][1]["operation"], "POST /api/jwt/*");
    assert_eq!(
        rules["rules"][1]["action"],
        json!({"kind": "status", "status": 418, "body": ""})
    );
    let deleted = post(&app, &format!("/faults/{id}/delete"), &[]).await;
    assert_done(&deleted, "/controls", "fault-deleted");
    post(&app, &format!("/faults/{id}/delete"), &[])
        .await
        .assert_html(404);
    let (_, rules) = app.get_json("/_vlsim/faults").await;
    assert_eq!(rules["rules"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn latency_clock_snapshot_reset_and_journal_forms_do_what_the_api_does() {
    let app = TestApp::start().await;
    let set = post(
        &app,
        "/latency",
        &[
            ("global_ms", "5"),
            ("jitter_ms", "0"),
            ("operations", "JwtToken_Generate = 7\n"),
        ],
    )
    .await;
    assert_done(&set, "/controls", "latency-set");
    let (_, latency) = app.get_json("/_vlsim/latency").await;
    assert_eq!(
        latency,
        json!({"global_ms": 5, "jitter_ms": 0, "operations": {"JwtToken_Generate": 7}})
    );
    post(&app, "/latency", &[("global_ms", "999999")])
        .await
        .assert_html(400);
    post(&app, "/latency", &[("operations", "no delay here")])
        .await
        .assert_html(400);
    post(&app, "/latency", &[("global_ms", "0")]).await;

    let before = app.clock().now_secs();
    assert_done(
        &post(&app, "/clock/advance", &[("seconds", "3600")]).await,
        "/controls",
        "clock-advanced",
    );
    assert!(app.clock().now_secs() >= before + 3600);
    post(&app, "/clock/advance", &[("seconds", "1e99")])
        .await
        .assert_html(400);
    post(&app, "/clock/advance", &[("seconds", "999999999999")])
        .await
        .assert_html(400);
    assert_done(
        &post(
            &app,
            "/clock/set",
            &[("now", "2030-01-01T00:00:00Z"), ("freeze", "true")],
        )
        .await,
        "/controls",
        "clock-set",
    );
    assert_eq!(app.clock().now_secs(), 1_893_456_000);
    assert!(app.clock().is_frozen());
    post(&app, "/clock/set", &[("now", "tomorrow")])
        .await
        .assert_html(400);
    assert_done(
        &post(&app, "/clock/real", &[]).await,
        "/controls",
        "clock-real",
    );
    assert!(!app.clock().is_frozen() && app.clock().offset_ms() == 0);
    assert_done(
        &post(&app, "/clock/freeze", &[]).await,
        "/controls",
        "clock-frozen",
    );
    assert!(app.clock().is_frozen());
    let controls = get(&app, "/controls", None).await;
    assert!(
        controls.text.contains(r#"<dd id="clock-mode">frozen</dd>"#),
        "{}",
        controls.text
    );
    post(&app, "/clock/real", &[]).await;

    // A snapshot brings back a refresh token revoked after it.
    let login = app.fusionauth_login("admin@vlsim.test", fa::APP).await;
    let refresh = login["refreshToken"].as_str().unwrap();
    assert_done(
        &post(&app, "/snapshots", &[("name", "before")]).await,
        "/controls",
        "snapshot-saved",
    );
    post(&app, "/snapshots", &[("name", "../escape")])
        .await
        .assert_html(400);
    assert!(get(&app, "/controls", None)
        .await
        .text
        .contains("<th scope=\"row\">before</th>"));
    let r = app
        .fusionauth_revoke(&[("token", refresh)], Some(fa::API_KEY))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_ne!(app.fusionauth_refresh(refresh).await.status, 200);
    assert_done(
        &post(&app, "/snapshots/before/restore", &[]).await,
        "/controls",
        "snapshot-restored",
    );
    assert_eq!(app.fusionauth_refresh(refresh).await.status, 200);
    post(&app, "/snapshots/nothing/restore", &[])
        .await
        .assert_html(404);
    assert_done(
        &post(&app, "/snapshots/before/delete", &[]).await,
        "/controls",
        "snapshot-deleted",
    );
    let (_, names) = app.get_json("/_vlsim/snapshots").await;
    assert_eq!(names["snapshots"], json!([]));

    // Reset: back to the fixtures (the refresh token goes), journal emptied.
    assert_done(&post(&app, "/reset", &[]).await, "/controls", "reset");
    assert_ne!(app.fusionauth_refresh(refresh).await.status, 200);
    assert!(app.journal("").await["size"].as_u64().unwrap() <= 1);
    app.horizon_token(None).await;
    assert_done(
        &post(&app, "/journal/clear", &[]).await,
        "/journal",
        "journal-cleared",
    );
    assert_eq!(app.journal("").await["size"], 0);
}

#[actix_web::test]
async fn sessions_page_lists_each_kind_and_revokes_through_the_core() {
    let app = TestApp::start().await;
    let vlsi_cookie = app.soap_login_cookie("administrator").await;
    let vc_session = app.vcenter_session().await;
    let login = app.fusionauth_login("user@vlsim.test", fa::APP).await;
    let refresh = login["refreshToken"].as_str().unwrap().to_string();
    let page = get(&app, "/sessions", None).await;
    page.assert_html(200);
    for want in [
        r"VLSIM\administrator",
        "Administrator@vsphere.local",
        "user@vlsim.test",
        "data-provider=\"vlsi-sessions\"",
        "data-provider=\"vcenter-sessions\"",
        "data-provider=\"fusionauth-refresh-tokens\"",
    ] {
        assert!(page.text.contains(want), "sessions page lacks {want}");
    }
    let state = app.state().await;
    let sessions = state["sessions"].as_array().unwrap();
    let id_of = |surface: &str| {
        sessions.iter().find(|s| s["surface"] == surface).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let vlsi_id = id_of("vlsi");
    assert!(vlsi_cookie.contains(&vlsi_id));
    let revoked = post(
        &app,
        "/sessions/revoke",
        &[("provider", "vlsi-sessions"), ("id", &vlsi_id)],
    )
    .await;
    assert_done(&revoked, "/sessions", "revoked");
    let reply = app
        .soap_as(&vlsi_cookie, &crate::helpers::generate_xml(None))
        .await;
    assert!(reply.is_fault(), "the VLSI session is gone");
    assert!(
        app.stored_events("VLSI_USERLOGGEDOUT", 10).len() == 1,
        "logged out like the API does"
    );
    post(
        &app,
        "/sessions/revoke",
        &[("provider", "vlsi-sessions"), ("id", &vlsi_id)],
    )
    .await
    .assert_html(404);

    let revoked = post(
        &app,
        "/sessions/revoke",
        &[("provider", "vcenter-sessions"), ("id", &vc_session)],
    )
    .await;
    assert_done(&revoked, "/sessions", "revoked");
    assert_eq!(
        app.vcenter(Method::GET, "/api/session", &vc_session)
            .await
            .status,
        401
    );

    let token_id = app.refresh_tokens(fa::USER_ID).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoked = post(
        &app,
        "/sessions/revoke",
        &[("provider", "fusionauth-refresh-tokens"), ("id", &token_id)],
    )
    .await;
    assert_done(&revoked, "/sessions", "revoked");
    assert_eq!(app.fusionauth_refresh(&refresh).await.status, 400);
    let events = app.events("type=jwt.refresh-token.revoke").await;
    assert_eq!(events.len(), 1);

    post(
        &app,
        "/sessions/revoke",
        &[("provider", "nope"), ("id", "x")],
    )
    .await
    .assert_html(400);
    post(&app, "/sessions/revoke", &[("provider", "vlsi-sessions")])
        .await
        .assert_html(400);
}

#[actix_web::test]
async fn sessions_page_ends_horizon_rest_logins_and_sso_sessions_like_their_logouts() {
    let app = TestApp::start().await;
    let (access, refresh) = app.rest_login("administrator").await;
    let b = crate::oauth2::browser();
    crate::oauth2::login_for_code(&app, &b, &[]).await;
    let page = get(&app, "/sessions", None).await;
    page.assert_html(200);
    for want in [
        "data-provider=\"horizon-rest-logins\"",
        "data-provider=\"oauth-sso-sessions\"",
        "admin@vlsim.test",
    ] {
        assert!(page.text.contains(want), "sessions page lacks {want}");
    }

    // The REST login: its id is the tokens' `sid`; revoking is /rest/logout.
    let sid = crate::helpers::claims(&access)["sid"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(page.text.contains(&sid));
    let revoked = post(
        &app,
        "/sessions/revoke",
        &[("provider", "horizon-rest-logins"), ("id", &sid)],
    )
    .await;
    assert_done(&revoked, "/sessions", "revoked");
    assert_eq!(
        app.rest_get("/rest/monitor/connection-servers", &access)
            .await
            .status,
        401
    );
    assert_eq!(app.rest_refresh(&refresh).await.status, 400);
    assert_eq!(app.stored_events("REST_AUTH_LOGOUT_SUCCESS", 10).len(), 1);

    // The SSO session: revoking is what /oauth2/logout does, so authorize shows the form again.
    let sso = &app.state().await["fusionauth"]["sso_sessions"];
    let sso_id = sso[0]["id"].as_str().unwrap().to_string();
    let revoked = post(
        &app,
        "/sessions/revoke",
        &[("provider", "oauth-sso-sessions"), ("id", &sso_id)],
    )
    .await;
    assert_done(&revoked, "/sessions", "revoked");
    assert!(
        crate::oauth2::get(&b, &crate::oauth2::authorize_url(&app, &[]))
            .await
            .is_login_form(),
        "the SSO cookie no longer skips the form"
    );
    assert!(app
        .event_types("fusionauth")
        .await
        .contains(&"oauth2.logout".to_string()));
    post(
        &app,
        "/sessions/revoke",
        &[("provider", "oauth-sso-sessions"), ("id", &sso_id)],
    )
    .await
    .assert_html(404);
}

#[actix_web::test]
async fn inspector_reports_key_claims_and_expiry_by_the_server_clock() {
    let app = TestApp::start().await;
    let token = app.horizon_token(None).await;
    let inspect = |t: String| {
        let app = app.clone();
        async move { post(&app, "/inspect", &[("token", &t)]).await }
    };
    let page = get(&app, "/inspect", None).await;
    page.assert_html(200);
    assert!(page.text.contains("<textarea id=\"token\" name=\"token\""));
    let valid = inspect(token.clone()).await;
    valid.assert_html(200);
    assert!(
        valid
            .text
            .contains("<span class=\"badge good\">valid</span>"),
        "{}",
        valid.text
    );
    assert!(
        valid.text.contains(&format!(
            "verified</span> by vlsim key <code>{}</code>",
            crate::helpers::RSA_KID
        )),
        "{}",
        valid.text
    );
    assert!(valid
        .text
        .contains("&quot;iss&quot;: &quot;cs1.vlsim.test&quot;"));
    app.advance_clock(3600).await;
    let expired = inspect(format!("Bearer {token}")).await;
    assert!(
        expired
            .text
            .contains("<span class=\"badge bad\">expired</span>"),
        "{}",
        expired.text
    );
    assert!(
        expired.text.contains("verified</span>"),
        "still vlsim's signature"
    );
    // A token no key of vlsim's signed, and why.
    let foreign = crate::helpers::sign_hs256(
        b"0123456789abcdef0123456789abcdef",
        &json!({"alg": "HS256", "kid": "elsewhere"}),
        &json!({"sub": "x"}),
    );
    let not_ours = inspect(foreign).await;
    assert!(not_ours.text.contains("not verified</span> No vlsim key verifies it: the token was signed by an unknown key [elsewhere]"), "{}", not_ours.text);
    assert!(not_ours.text.contains("it states no expiry"));
    let garbage = inspect("a.b.c".into()).await;
    assert!(
        garbage.text.contains("This is not a JWT"),
        "{}",
        garbage.text
    );
    // A SAML assertion from the token exchange.
    let session = app.vcenter_session().await;
    let saml = app.saml_token(&session).await;
    let page = inspect(saml.clone()).await;
    assert!(
        page.text.contains("SAML 2.0 assertion")
            && page
                .text
                .contains("verified</span> by the vCenter signing key"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("Administrator@vsphere.local")
            || page.text.contains("administrator@vsphere.local")
    );
    app.advance_clock(86_400).await;
    let later = inspect(saml).await;
    assert!(
        later
            .text
            .contains("<span class=\"badge bad\">expired</span>"),
        "{}",
        later.text
    );
    let not_saml = inspect("<x/>".into()).await;
    assert!(
        not_saml.text.contains("not a SAML 2.0 Assertion"),
        "{}",
        not_saml.text
    );
    // Nothing the inspector reads is journaled.
    let journal = app.journal("limit=1000").await.to_string();
    assert!(!journal.contains("/_vlsim/ui"));
}

#[actix_web::test]
async fn admin_token_asks_once_and_keeps_a_cookie() {
    let app = TestApp::start_configured(|c| c.admin_token = Some("s3cret".into())).await;
    for path in PAGES {
        let page = get(&app, path, None).await;
        page.assert_html(401);
        assert!(
            page.text.contains("Admin token") && page.text.contains("action=\"/_vlsim/ui/login\""),
            "{path}"
        );
    }
    // The assets and the login page are reachable without it.
    assert_eq!(get(&app, "/assets/vlsim.css", None).await.status, 200);
    let login = get(&app, "/login?next=/_vlsim/ui/journal", None).await;
    login.assert_html(200);
    let csrf = login.csrf();
    let wrong = post_with(
        &app,
        "/login",
        &[("token", "guess"), ("next", "/_vlsim/ui/journal")],
        Some(&csrf),
        Some(app.url()),
        None,
    )
    .await;
    wrong.assert_html(401);
    assert!(wrong.text.contains("not the admin token"));
    let no_csrf = post_with(
        &app,
        "/login",
        &[("token", "s3cret")],
        None,
        Some(app.url()),
        None,
    )
    .await;
    no_csrf.assert_html(403);
    let ok = post_with(
        &app,
        "/login",
        &[("token", "s3cret"), ("next", "/_vlsim/ui/journal")],
        Some(&csrf),
        Some(app.url()),
        None,
    )
    .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(ok.header("location"), "/_vlsim/ui/journal");
    let set_cookie = ok.header("set-cookie").to_string();
    for attr in [
        "vlsim_ui=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/_vlsim/ui",
    ] {
        assert!(set_cookie.contains(attr), "{set_cookie} lacks {attr}");
    }
    assert!(
        !set_cookie.contains("s3cret"),
        "the cookie is not the token"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    for path in PAGES {
        get(&app, path, Some(&cookie)).await.assert_html(200);
    }
    let page = get(&app, "/controls", Some(&cookie)).await;
    assert!(page.text.contains("Sign out"));
    // Forms need the CSRF token bound to this cookie: the anonymous one does not do.
    let stale = post_with(
        &app,
        "/clock/freeze",
        &[],
        Some(&csrf),
        Some(app.url()),
        Some(&cookie),
    )
    .await;
    stale.assert_html(403);
    let fresh = post_with(
        &app,
        "/clock/freeze",
        &[],
        Some(&page.csrf()),
        Some(app.url()),
        Some(&cookie),
    )
    .await;
    assert_done(&fresh, "/controls", "clock-frozen");
    // Without the cookie a form is the login form again.
    let anonymous = post_with(
        &app,
        "/clock/real",
        &[],
        Some(&page.csrf()),
        Some(app.url()),
        None,
    )
    .await;
    anonymous.assert_html(401);
    // A bearer header works too (scripts); a wrong cookie does not.
    let bearer = fetch(
        browser()
            .get(app.at("/_vlsim/ui/journal"))
            .bearer_auth("s3cret"),
    )
    .await;
    bearer.assert_html(200);
    get(&app, "/journal", Some("vlsim_ui=forged"))
        .await
        .assert_html(401);
    // The JSON API still wants the header: the cookie is the dashboard's only.
    let api = fetch(
        browser()
            .get(app.at("/_vlsim/state"))
            .header("Cookie", &cookie),
    )
    .await;
    assert_eq!(api.status, 401);
    // A login never sends the browser off the dashboard.
    let away = post_with(
        &app,
        "/login",
        &[("token", "s3cret"), ("next", "https://evil.test/")],
        Some(&csrf),
        Some(app.url()),
        None,
    )
    .await;
    assert_eq!(away.header("location"), "/_vlsim/ui");
    let out = post_with(
        &app,
        "/logout",
        &[],
        Some(&page.csrf()),
        Some(app.url()),
        Some(&cookie),
    )
    .await;
    assert_eq!(out.status, 303);
    assert!(
        out.header("set-cookie").contains("vlsim_ui=;")
            || out.header("set-cookie").contains("Max-Age=0"),
        "{}",
        out.header("set-cookie")
    );
}

#[actix_web::test]
async fn no_admin_leaves_no_dashboard() {
    let app = TestApp::start_configured(|c| c.no_admin = true).await;
    for path in PAGES.iter().chain(&["/assets/vlsim.css", "/login"]) {
        let page = get(&app, path, None).await;
        assert_eq!(page.status, 404, "{path}: {}", page.text);
    }
    let form = post_with(&app, "/reset", &[], Some("x"), Some(app.url()), None).await;
    assert_eq!(form.status, 404);
    let health: Value = app.get("/_vlsim/health", None).await.json();
    assert_eq!(health["status"], "ok");
}
