//! The floor for vlsim's token paths on this machine: an actix-web server that does nothing
//! but the crypto, with vlsim's own key code. `POST /sign` returns an RS256 token with fresh
//! `iat`/`jti` claims; `GET /verify` checks the Bearer token and returns its claims. No
//! SOAP, no sessions, no events, no store. `benches/floor.sh` drives it with the same wrk
//! setup as `benches/run.sh`, so the gap between the two is what vlsim itself adds.
//!
//!   cargo run --release --example floor_server -- WORKERS

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use vlsim::core::keys::{KeyOps, SigningKey};

struct Floor {
    key: SigningKey,
    clock: vlsim::clock::SharedClock,
    issued: AtomicU64,
}

async fn sign(floor: web::Data<Arc<Floor>>) -> HttpResponse {
    let KeyOps::Asymmetric(key) = &floor.key.ops else {
        return HttpResponse::InternalServerError().finish();
    };
    let iat = floor.clock.now_secs();
    let jti = floor.issued.fetch_add(1, Ordering::Relaxed);
    let claims = format!(
        r#"{{"iss":"floor","sub":"VLSIM\\administrator","iat":{iat},"exp":{},"jti":"{jti}"}}"#,
        iat + 1800
    );
    match key.sign_jws(claims.as_bytes()) {
        Ok(token) => HttpResponse::Ok().body(token),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn verify(floor: web::Data<Arc<Floor>>, req: HttpRequest) -> HttpResponse {
    let KeyOps::Asymmetric(key) = &floor.key.ops else {
        return HttpResponse::InternalServerError().finish();
    };
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match key
        .verify_jws(token)
        .ok()
        .and_then(|payload| serde_json::from_slice::<serde_json::Value>(&payload).ok())
    {
        Some(claims) => HttpResponse::Ok().json(serde_json::json!({ "jwt": claims })),
        None => HttpResponse::Unauthorized().finish(),
    }
}

#[actix_web::main]
#[allow(clippy::expect_used)]
async fn main() -> std::io::Result<()> {
    let workers: usize = std::env::args()
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    vlsim::core::install_crypto_provider();
    let (world, keys) = vlsim::fixtures::embedded().expect("embedded fixtures");
    let material = keys
        .iter()
        .find(|k| k.id == world.horizon.signing_key)
        .expect("the Horizon signing key");
    let floor = Arc::new(Floor {
        key: SigningKey::from_material(material).expect("fixture key"),
        clock: vlsim::clock::Clock::new(),
        issued: AtomicU64::new(0),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(floor.clone()))
            .route("/sign", web::post().to(sign))
            .route("/verify", web::get().to(verify))
    })
    .workers(workers)
    .disable_signals()
    .bind("127.0.0.1:0")?;
    let addr = server.addrs().first().copied().expect("a bound address");
    println!("floor listening on http://{addr}");
    server.run().await
}
