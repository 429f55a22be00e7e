//! The controls: fault rules (with their counters), latency, the clock, snapshots and reset.
//! Each form does what the matching `/_vlsim/` endpoint does, through the same functions.

use super::layout::{self, Page};
use super::overview::clock_facts;
use super::{html, see_other, FormData, UiError, UiResult, UI};
use crate::admin::{snapshots, world};
use crate::control::faults::{FaultAction, NewRule, Rule};
use crate::control::latency::LatencySettings;
use crate::state::AppState;
use crate::surface::Surface;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html as markup, Markup};

const CONTROLS: &str = "/_vlsim/ui/controls";

fn action_text(a: &FaultAction) -> String {
    match a {
        FaultAction::Typed {
            fault,
            message,
            status,
        } => {
            let mut s = format!("typed {}", fault.as_deref().unwrap_or("(default)"));
            if let Some(status) = status {
                s.push_str(&format!(", HTTP {status}"));
            }
            if let Some(m) = message {
                s.push_str(&format!(": {m}"));
            }
            s
        }
        FaultAction::Status { status, .. } => format!("HTTP {status}"),
        FaultAction::Drop => "drop the connection".into(),
    }
}

fn rules_table(req: &HttpRequest, rules: &[Rule]) -> Markup {
    markup! {
        div.table-wrap {
            table #fault-rules {
                caption { "A call gets the first rule that matches it and fires." }
                thead {
                    tr {
                        th scope="col" { "Rule" }
                        th scope="col" { "Surface" }
                        th scope="col" { "Operation" }
                        th scope="col" { "User" }
                        th scope="col" { "Action" }
                        th.num scope="col" { "Probability" }
                        th.num scope="col" { "Max" }
                        th.num scope="col" { "Fired" }
                        th.num scope="col" { "Matched" }
                        th scope="col" { span.sr { "Actions" } }
                    }
                }
                tbody {
                    @for r in rules {
                        tr data-rule=(r.id) {
                            th scope="row" { code title=(r.id) { (super::journal::short(&r.id)) } }
                            td { (r.surface.map_or("any", Surface::name)) }
                            td { (r.operation.as_deref().unwrap_or("any")) }
                            td { (r.user.as_deref().unwrap_or("any")) }
                            td { (action_text(&r.action)) }
                            td.num { (r.probability) }
                            td.num { (r.max_count.map_or("—".to_string(), |m| m.to_string())) }
                            td.num.fired { (r.fired) }
                            td.num.matched { (r.matched) }
                            td {
                                form.inline method="post" action={ (UI) "/faults/" (r.id) "/delete" } {
                                    (layout::csrf(req))
                                    button.danger type="submit" aria-label={ "Delete rule " (super::journal::short(&r.id)) } { "Delete" }
                                }
                            }
                        }
                    }
                    @if rules.is_empty() {
                        tr { td colspan="10" .muted { "No fault rules: every call is answered normally." } }
                    }
                }
            }
        }
    }
}

fn fault_form(state: &AppState, req: &HttpRequest) -> Markup {
    let registry = &state.control.registry;
    let defs: Vec<_> = registry
        .surfaces()
        .iter()
        .filter(|d| Surface::EMULATED.contains(&d.surface))
        .collect();
    markup! {
        form #fault-form .row method="post" action={ (UI) "/faults" } aria-label="Add a fault rule" {
            (layout::csrf(req))
            div {
                label for="fr-surface" { "Surface" }
                select #fr-surface name="surface" {
                    option value="" { "any" }
                    @for d in &defs { option value=(d.surface.name()) { (d.surface.name()) } }
                }
            }
            div {
                label for="fr-operation" { "Operation" }
                select #fr-operation name="operation" {
                    option value="" { "any" }
                    @for d in &defs {
                        optgroup label=(d.surface.name()) {
                            @for op in registry.operation_names(d.surface) { option value=(op) { (op) } }
                        }
                    }
                }
            }
            div {
                label for="fr-pattern" { "or a pattern (trailing *)" }
                input #fr-pattern name="pattern" placeholder="JwtToken_*";
            }
            div {
                label for="fr-user" { "User" }
                input #fr-user name="user" placeholder="any (VLSIM\\auditor)";
            }
            div {
                label for="fr-kind" { "Action" }
                select #fr-kind name="kind" {
                    option value="typed" { "typed fault of the surface" }
                    option value="status" { "bare HTTP status" }
                    option value="drop" { "drop the connection" }
                }
            }
            div {
                label for="fr-fault" { "Typed fault" }
                select #fr-fault name="fault" {
                    option value="" { "the surface's default" }
                    @for d in &defs {
                        optgroup label=(d.surface.name()) {
                            @for f in d.fault_names { option value=(f) { (f) } }
                        }
                    }
                }
            }
            div {
                label for="fr-message" { "Message" }
                input #fr-message name="message";
            }
            div {
                label for="fr-status" { "HTTP status" }
                input #fr-status name="status" inputmode="numeric" size="5" placeholder="503";
            }
            div {
                label for="fr-probability" { "Probability" }
                input #fr-probability name="probability" inputmode="decimal" size="5" placeholder="1";
            }
            div {
                label for="fr-max" { "Max count" }
                input #fr-max name="max_count" inputmode="numeric" size="5" placeholder="∞";
            }
            div { button type="submit" { "Add rule" } }
        }
    }
}

fn latency_form(state: &AppState, req: &HttpRequest) -> Markup {
    let l = state.control.latency.get();
    let per_op: Vec<String> = l
        .operations
        .iter()
        .map(|(op, ms)| format!("{op} = {ms}"))
        .collect();
    markup! {
        form.row method="post" action={ (UI) "/latency" } aria-label="Latency" {
            (layout::csrf(req))
            div { label for="lat-global" { "Every call (ms)" } input #lat-global name="global_ms" inputmode="numeric" size="6" value=(l.global_ms); }
            div { label for="lat-jitter" { "Jitter up to (ms)" } input #lat-jitter name="jitter_ms" inputmode="numeric" size="6" value=(l.jitter_ms); }
            div {
                label for="lat-ops" { "Per operation (one \"operation = ms\" a line)" }
                textarea #lat-ops name="operations" rows="3" cols="40" { (per_op.join("\n")) }
            }
            div { button type="submit" { "Set latency" } }
        }
    }
}

fn clock_forms(state: &AppState, req: &HttpRequest) -> Markup {
    markup! {
        (clock_facts(state))
        div.actions {
            form.row method="post" action={ (UI) "/clock/advance" } aria-label="Move the clock" {
                (layout::csrf(req))
                div { label for="clk-seconds" { "Move by (seconds, negative for back)" } input #clk-seconds name="seconds" inputmode="numeric" size="8" value="3600"; }
                div { button type="submit" { "Move the clock" } }
            }
            form.row method="post" action={ (UI) "/clock/set" } aria-label="Set the clock" {
                (layout::csrf(req))
                div { label for="clk-now" { "Set to (RFC 3339)" } input #clk-now name="now" size="24" placeholder="2030-01-01T00:00:00Z"; }
                div { label { input type="checkbox" name="freeze" value="true"; " frozen" } }
                div { button type="submit" { "Set" } }
            }
        }
        div.actions {
            form.inline method="post" action={ (UI) "/clock/freeze" } { (layout::csrf(req)) button.quiet type="submit" { "Freeze here" } }
            form.inline method="post" action={ (UI) "/clock/real" } { (layout::csrf(req)) button.quiet type="submit" { "Back to real time" } }
        }
    }
}

fn snapshot_forms(state: &AppState, req: &HttpRequest) -> Markup {
    let names = snapshots::names(state);
    markup! {
        form.row method="post" action={ (UI) "/snapshots" } aria-label="Save a snapshot" {
            (layout::csrf(req))
            div { label for="snap-name" { "Name" } input #snap-name name="name" required pattern="[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}" placeholder="before-test"; }
            div { button type="submit" { "Save a snapshot" } }
        }
        div.table-wrap {
            table #snapshots {
                caption { "Kept in the data dir; they survive restarts." }
                thead { tr { th scope="col" { "Snapshot" } th scope="col" { span.sr { "Actions" } } } }
                tbody {
                    @for name in &names {
                        tr {
                            th scope="row" { (name) }
                            td.actions {
                                form.inline method="post" action={ (UI) "/snapshots/" (name) "/restore" } {
                                    (layout::csrf(req))
                                    button type="submit" aria-label={ "Restore " (name) } { "Restore" }
                                }
                                form.inline method="post" action={ (UI) "/snapshots/" (name) "/delete" } {
                                    (layout::csrf(req))
                                    button.danger type="submit" aria-label={ "Delete " (name) } { "Delete" }
                                }
                            }
                        }
                    }
                    @if names.is_empty() { tr { td colspan="2" .muted { "No snapshots." } } }
                }
            }
        }
    }
}

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> UiResult {
    let body = markup! {
        section.panel aria-labelledby="faults" {
            h2 #faults { "Fault rules" }
            (rules_table(&req, &state.control.faults.list()))
            h3 { "Add a rule" }
            (fault_form(&state, &req))
        }
        section.panel aria-labelledby="latency" {
            h2 #latency { "Latency" }
            (latency_form(&state, &req))
        }
        section.panel aria-labelledby="clock-h" {
            h2 #clock-h { "Clock" }
            (clock_forms(&state, &req))
        }
        section.panel aria-labelledby="snapshots-h" {
            h2 #snapshots-h { "Snapshots" }
            (snapshot_forms(&state, &req))
        }
        section.panel aria-labelledby="reset-h" {
            h2 #reset-h { "Reset" }
            p { "Back to the fixtures: sessions, tokens and events go and the journal is emptied; fault rules, latency and the clock stay." }
            form method="post" action={ (UI) "/reset" } {
                (layout::csrf(&req))
                button.danger type="submit" { "Reset to the fixtures" }
            }
        }
    };
    let page = Page {
        title: "Controls",
        nav: Some("/controls"),
        notice: None,
    };
    Ok(html(StatusCode::OK, layout::render(&req, &page, body)))
}

fn number<T: std::str::FromStr>(
    form: &FormData,
    name: &str,
    what: &str,
) -> Result<Option<T>, UiError> {
    form.text(name)
        .map(|v| {
            v.parse()
                .map_err(|_| UiError::bad_request(format!("{what} must be a number, not {v}.")))
        })
        .transpose()
}

pub async fn fault_add(state: web::Data<AppState>, form: FormData) -> UiResult {
    let surface = match form.text("surface") {
        Some(name) => Some(
            Surface::parse(name)
                .ok_or_else(|| UiError::bad_request(format!("There is no surface {name}.")))?,
        ),
        None => None,
    };
    let status: Option<u16> = number(&form, "status", "The HTTP status")?;
    let action = match form.text("kind").unwrap_or("typed") {
        "typed" => FaultAction::Typed {
            fault: form.text("fault").map(str::to_string),
            message: form.text("message").map(str::to_string),
            status,
        },
        "status" => FaultAction::Status {
            status: status
                .ok_or_else(|| UiError::bad_request("A bare status rule needs the HTTP status."))?,
            body: form.get("message").unwrap_or_default().to_string(),
        },
        "drop" => FaultAction::Drop,
        other => return Err(UiError::bad_request(format!("There is no action {other}."))),
    };
    let rule = NewRule {
        surface,
        operation: form
            .text("pattern")
            .or_else(|| form.text("operation"))
            .map(str::to_string),
        user: form.text("user").map(str::to_string),
        probability: number(&form, "probability", "The probability")?,
        max_count: number(&form, "max_count", "The max count")?,
        action,
    };
    state
        .control
        .faults
        .add(rule)
        .map_err(|e| UiError::bad_request(e.to_string()))?;
    Ok(see_other(CONTROLS, "fault-added"))
}

pub async fn fault_delete(
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: FormData,
) -> UiResult {
    if state.control.faults.remove(&id) {
        Ok(see_other(CONTROLS, "fault-deleted"))
    } else {
        Err(UiError::not_found(format!("There is no fault rule {id}.")))
    }
}

pub async fn latency_set(state: web::Data<AppState>, form: FormData) -> UiResult {
    let mut operations = std::collections::BTreeMap::new();
    for line in form.get("operations").unwrap_or_default().lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (op, ms) = line
            .rsplit_once('=')
            .and_then(|(op, ms)| Some((op.trim(), ms.trim().parse::<u64>().ok()?)))
            .filter(|(op, _)| !op.is_empty())
            .ok_or_else(|| {
                UiError::bad_request(format!(
                    "Write each per-operation delay as \"operation = ms\", not \"{line}\"."
                ))
            })?;
        operations.insert(op.to_string(), ms);
    }
    let settings = LatencySettings {
        global_ms: number(&form, "global_ms", "The delay")?.unwrap_or(0),
        jitter_ms: number(&form, "jitter_ms", "The jitter")?.unwrap_or(0),
        operations,
    };
    state
        .control
        .latency
        .set(settings)
        .map_err(UiError::bad_request)?;
    Ok(see_other(CONTROLS, "latency-set"))
}

pub async fn clock_advance(state: web::Data<AppState>, form: FormData) -> UiResult {
    const TEN_YEARS: i64 = 10 * 366 * 86_400;
    let seconds: i64 = number(&form, "seconds", "The seconds")?
        .ok_or_else(|| UiError::bad_request("By how many seconds?"))?;
    if seconds.abs() > TEN_YEARS {
        return Err(UiError::bad_request("Move the clock by at most ±10 years."));
    }
    state.core.clock().advance(seconds);
    Ok(see_other(CONTROLS, "clock-advanced"))
}

pub async fn clock_set(state: web::Data<AppState>, form: FormData) -> UiResult {
    let now = form.text("now").unwrap_or_default();
    let at = time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            UiError::bad_request(format!(
                "Give an RFC 3339 instant such as 2030-01-01T00:00:00Z, not \"{now}\"."
            ))
        })?;
    let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    state.core.clock().set(ms, form.text("freeze").is_some());
    Ok(see_other(CONTROLS, "clock-set"))
}

pub async fn clock_freeze(state: web::Data<AppState>, _form: FormData) -> HttpResponse {
    let clock = state.core.clock();
    clock.set(clock.now_ms(), true);
    see_other(CONTROLS, "clock-frozen")
}

pub async fn clock_real(state: web::Data<AppState>, _form: FormData) -> HttpResponse {
    state.core.clock().reset();
    see_other(CONTROLS, "clock-real")
}

pub async fn snapshot_save(state: web::Data<AppState>, form: FormData) -> UiResult {
    let name = form.text("name").unwrap_or_default();
    snapshots::take_named(&state, name)?;
    Ok(see_other(CONTROLS, "snapshot-saved"))
}

pub async fn snapshot_restore(
    state: web::Data<AppState>,
    name: web::Path<String>,
    _form: FormData,
) -> UiResult {
    snapshots::restore_world(&state, &name)?;
    Ok(see_other(CONTROLS, "snapshot-restored"))
}

pub async fn snapshot_delete(
    state: web::Data<AppState>,
    name: web::Path<String>,
    _form: FormData,
) -> UiResult {
    snapshots::delete_named(&state, &name)?;
    Ok(see_other(CONTROLS, "snapshot-deleted"))
}

pub async fn reset(state: web::Data<AppState>, _form: FormData) -> UiResult {
    world::reset_to_fixtures(&state).await?;
    Ok(see_other(CONTROLS, "reset"))
}
