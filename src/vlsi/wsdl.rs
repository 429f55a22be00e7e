//! Serves the WSDL and XSD from `wsdl/`, with `soap:address` pointing back at the URL the
//! client fetched them from (so zeep, suds and SoapUI call the right host and port).

use crate::http::external_base_url;
use crate::vlsi::SDK_PATH;
use actix_web::{HttpRequest, HttpResponse};

const WSDL: &str = include_str!("../../wsdl/vdi.wsdl");
const XSD: &str = include_str!("../../wsdl/vdi.xsd");
const ADDRESS_PLACEHOLDER: &str = "https://vlsim.invalid/view-vlsi/sdk";

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(body)
}

pub async fn wsdl(req: HttpRequest) -> HttpResponse {
    let address = format!("{}{SDK_PATH}", external_base_url(&req));
    xml(WSDL.replace(ADDRESS_PLACEHOLDER, &address))
}

pub async fn xsd() -> HttpResponse {
    xml(XSD.to_string())
}

/// `GET /view-vlsi/sdk?wsdl` (any case) or `?xsd`.
pub async fn sdk_get(req: HttpRequest) -> HttpResponse {
    let query = req.query_string().to_ascii_lowercase();
    match query.split('&').next().unwrap_or("") {
        "wsdl" | "wsdl=" | "singlewsdl" => wsdl(req).await,
        "xsd" | "xsd=" | "xsd=1" => xsd().await,
        _ => HttpResponse::MethodNotAllowed()
            .insert_header(("Allow", "GET, POST"))
            .content_type("text/plain; charset=utf-8")
            .body("POST SOAP 1.1 envelopes here; GET /view-vlsi/sdk?wsdl for the WSDL.\n"),
    }
}
