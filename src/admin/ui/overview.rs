//! The overview: where each surface is, a first call to copy, how much the world holds,
//! uptime and the clock.

use super::layout::{self, Page};
use super::{html, UiResult};
use crate::state::AppState;
use crate::surface::Surface;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::{html as markup, Markup};

/// A copy-paste snippet: its label and text.
struct Snippet {
    label: &'static str,
    text: String,
}

/// Where a surface is (the path clients start from) and first calls for it, against the
/// default world's users and keys.
fn surface_intro(
    surface: Surface,
    base: &str,
) -> Option<(&'static str, &'static str, Vec<Snippet>)> {
    let soap_login = r#"<AuthenticationManager_Login xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this><username>administrator</username><password><utf8String>dm13YXJl</utf8String></password><domain>VLSIM</domain></AuthenticationManager_Login>"#;
    Some(match surface {
        Surface::Vlsi => (
            "Horizon View API (VLSI) SOAP",
            "/view-vlsi/sdk",
            vec![
                Snippet {
                    label: "Python, zeep",
                    text: format!(
                        r#"import requests, zeep
from zeep.transports import Transport

client = zeep.Client("{base}/view-vlsi/sdk?wsdl", transport=Transport(session=requests.Session()))
auth = {{"_value_1": "AuthenticationManager", "type": "AuthenticationManager"}}
client.service.AuthenticationManager_Login(auth, "administrator", {{"utf8String": b"vmware"}}, "VLSIM")
info = client.service.JwtToken_Generate({{"_value_1": "JwtToken", "type": "JwtToken"}})
print(info.token, info.expiryTime)"#
                    ),
                },
                Snippet {
                    label: "curl",
                    text: format!(
                        r#"curl -s -c /tmp/vlsim.jar {base}/view-vlsi/sdk -H 'Content-Type: text/xml' \
  -d '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>{soap_login}</soapenv:Body></soapenv:Envelope>'"#
                    ),
                },
            ],
        ),
        Surface::FusionAuth => (
            "FusionAuth-style REST",
            "/api",
            vec![
                Snippet {
                    label: "Python, fusionauth-client",
                    text: format!(
                        r#"from fusionauth.fusionauth_client import FusionAuthClient

client = FusionAuthClient("vlsim-api-key", "{base}")
r = client.login({{"loginId": "admin@vlsim.test", "password": "password",
                  "applicationId": "20000000-0000-4000-8000-000000000001"}})
print(r.success_response["token"], r.success_response["refreshToken"])"#
                    ),
                },
                Snippet {
                    label: "curl",
                    text: format!(
                        r#"curl -s {base}/api/login -H 'Authorization: vlsim-api-key' -H 'Content-Type: application/json' \
  -d '{{"loginId":"admin@vlsim.test","password":"password","applicationId":"20000000-0000-4000-8000-000000000001"}}'"#
                    ),
                },
                Snippet {
                    label: "curl, OAuth2 password grant",
                    text: format!(
                        r#"curl -s {base}/oauth2/token -u 20000000-0000-4000-8000-000000000001:vlsim-client-secret \
  -d grant_type=password -d username=admin@vlsim.test -d password=password -d 'scope=openid offline_access'"#
                    ),
                },
            ],
        ),
        Surface::HorizonRest => (
            "Horizon REST API",
            "/rest",
            vec![
                Snippet {
                    label: "Python, omnissa-horizon",
                    text: format!(
                        r#"from omnissa_horizon import HorizonClient

client = HorizonClient("{base}")
client.login("administrator", "vmware", "VLSIM")
print(client.monitor.list_connection_server_monitors())
client.logout()"#
                    ),
                },
                Snippet {
                    label: "curl",
                    text: format!(
                        r#"curl -s {base}/rest/login -H 'Content-Type: application/json' \
  -d '{{"domain":"VLSIM","username":"administrator","password":"vmware"}}'"#
                    ),
                },
            ],
        ),
        Surface::Vcenter => (
            "vCenter sessions and token exchange",
            "/api/session",
            vec![
                Snippet {
                    label: "Python, vSphere Automation SDK",
                    text: format!(
                        r#"import requests
from com.vmware.cis_client import Session
from vmware.vapi.lib.connect import get_requests_connector
from vmware.vapi.security.client.security_context_filter import LegacySecurityContextFilter
from vmware.vapi.security.user_password import create_user_password_security_context
from vmware.vapi.stdlib.client.factories import StubConfigurationFactory

ctx = create_user_password_security_context("administrator@vsphere.local", "VMware1!")
connector = get_requests_connector(session=requests.Session(), msg_protocol="json", url="{base}/api",
    provider_filter_chain=[LegacySecurityContextFilter(security_context=ctx)])
print(Session(StubConfigurationFactory.new_std_configuration(connector)).create())"#
                    ),
                },
                Snippet {
                    label: "curl",
                    text: format!(
                        r#"curl -s -X POST -u 'administrator@vsphere.local:VMware1!' {base}/api/session"#
                    ),
                },
            ],
        ),
        _ => return None,
    })
}

fn clock_mode(state: &AppState) -> String {
    let clock = state.core.clock();
    let offset = clock.offset_ms() / 1000;
    if clock.is_frozen() {
        "frozen".to_string()
    } else if offset == 0 {
        "real time".to_string()
    } else if offset > 0 {
        format!("{} ahead of real time", layout::duration(offset))
    } else {
        format!("{} behind real time", layout::duration(offset))
    }
}

/// The clock as a small block (the overview and the controls show it).
pub fn clock_facts(state: &AppState) -> Markup {
    let clock = state.core.clock();
    markup! {
        dl.facts #clock {
            dt { "Now (vlsim)" } dd { time { (crate::clock::rfc3339_ms(clock.now_ms())) } }
            dt { "Mode" } dd #clock-mode { (clock_mode(state)) }
            dt { "Offset" } dd { (clock.offset_ms() / 1000) " s" }
        }
    }
}

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> UiResult {
    let base = crate::http::external_base_url(&req);
    let core = &state.core;
    let fa = core.fusionauth();
    let journal = &state.control.journal;
    let counts: [(&str, String); 9] = [
        ("Horizon users", core.horizon().user_count().to_string()),
        ("FusionAuth users", fa.user_count().to_string()),
        ("Refresh tokens", fa.refresh_token_count().to_string()),
        ("vCenter users", core.vcenter().user_count().to_string()),
        ("Sessions", core.sessions().count().to_string()),
        ("Events", core.events().count().to_string()),
        (
            "Journal",
            format!("{} / {}", journal.len(), journal.capacity()),
        ),
        ("Fault rules", state.control.faults.list().len().to_string()),
        ("Keys", core.key_ring().all().len().to_string()),
    ];
    let registry = &state.control.registry;
    let surfaces: Vec<_> = super::super::emulated(&state).collect();
    let body = markup! {
        section aria-labelledby="counts" {
            h2 #counts { "The world" }
            div.cards {
                @for (label, n) in &counts {
                    div.card { span.n { (n) } span.muted { (label) } }
                }
            }
            dl.facts {
                dt { "Version" } dd { (env!("CARGO_PKG_VERSION")) }
                dt { "Uptime" } dd { (layout::duration(i64::try_from(state.started.elapsed().as_secs()).unwrap_or(i64::MAX))) }
                dt { "Data dir" } dd { code { (state.config.data_dir.display()) } }
                dt { "Fixtures" } dd { (core.fixtures_origin()?.unwrap_or_default()) }
            }
            h3 { "Clock" }
            (clock_facts(&state))
        }
        section aria-labelledby="surfaces" {
            h2 #surfaces { "Surfaces" }
            div.table-wrap {
                table {
                    caption { "Where each surface is; its routes and operations are listed at " a href="/_vlsim/about" { "/_vlsim/about" } "." }
                    thead { tr { th scope="col" { "Surface" } th scope="col" { "Base URL" } th scope="col" { "Path prefixes" } th.num scope="col" { "Operations" } } }
                    tbody {
                        @for def in &surfaces {
                            @let intro = surface_intro(def.surface, &base);
                            tr {
                                th scope="row" { (intro.as_ref().map_or(def.surface.name(), |i| i.0)) }
                                td { code { (base) (intro.as_ref().map_or("", |i| i.1)) } }
                                td { (def.prefixes.join(", ")) }
                                td.num { (registry.operation_names(def.surface).len()) }
                            }
                        }
                        tr {
                            th scope="row" { "Emulator control" }
                            td { code { (base) "/_vlsim" } }
                            td { "/_vlsim" }
                            td.num { (super::super::SURFACE.routes.len()) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="first-calls" {
            h2 #first-calls { "First calls" }
            p.muted { "Copy and run; they use the default world's users and keys." }
            @for def in &surfaces {
                @if let Some((title, _, snippets)) = surface_intro(def.surface, &base) {
                    h3 { (title) }
                    @for s in &snippets {
                        details open[s.label != "curl"] {
                            summary { (s.label) }
                            pre { code { (s.text) } }
                        }
                    }
                }
            }
            h3 { "The emulator itself" }
            pre { code { "curl -s '" (base) "/_vlsim/journal?limit=2'" } }
        }
    };
    let page = Page {
        title: "Overview",
        nav: Some(""),
        notice: None,
    };
    Ok(html(StatusCode::OK, layout::render(&req, &page, body)))
}
