//! The floor for vlsim's hot paths on this machine: an actix-web server that does nothing
//! but read the request, the crypto and the shape of each answer, with vlsim's own key
//! code. No SOAP parsing, no sessions, no events, no store. `benches/floor.sh` sends it the
//! very requests it sends vlsim (same bodies, cookies and tokens), so the gap between the
//! two is what vlsim itself adds.
//!
//! - `POST /sign` (`/sign?alg=ES256`): a token with Generate's claims (fresh `iat`, a
//!   random UUID `jti`), in the envelope vlsim answers Generate with, byte for byte but
//!   the values (the floor of `JwtToken_Generate`, RS256 or ES256).
//! - `POST /keys`: the PEM public keys in GetPublicKeys' envelope (the floor of
//!   GetPublicKeys).
//! - `GET /verify`: checks the Bearer token with the fixture key its JWS header names and
//!   returns its claims as JSON (the floor of `/api/jwt/validate` and of a Horizon REST
//!   Bearer check, given the tokens vlsim issued).
//! - `POST /token`: an RS256 access token in an OAuth2 token response, both of the length
//!   vlsim's have (the floor of `/oauth2/token`'s refresh grant, less the refresh-token
//!   lookup).
//! - `POST /token?durable`: the same, with one record written to a sled database and
//!   flushed before the answer (the floor of a refresh grant with the durability vlsim
//!   promises: what a client was handed survives a crash).
//! - `POST /token?shared`: the same durable write, through vlsim's store, whose flushes
//!   are shared by the requests waiting at once (group commit): the floor of that
//!   durability done as cheaply as vlsim knows how.
//!
//!   cargo run --profile perf --example floor_server -- WORKERS [DB_DIR]

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use vlsim::core::keys::{KeyOps, KeyRing, SigningKey};

struct Floor {
    key: SigningKey,
    ec_key: SigningKey,
    /// Every fixture key: a Bearer token's header picks its key.
    ring: KeyRing,
    /// The public keys as GetPublicKeys lists them.
    public_pems: Vec<String>,
    clock: vlsim::clock::SharedClock,
    /// The `iss` of Generate's tokens and GetPublicKeys' `connectionServerName`.
    server_name: String,
    /// Generate's `domain` claim.
    domain: String,
    issued: AtomicU64,
    /// Where `/token?durable` writes (a temporary database).
    db: sled::Db,
    /// Where `/token?shared` writes (vlsim's store, in a temporary directory).
    store: vlsim::store::Store,
    tokens: vlsim::store::Table<String>,
}

/// The claims of the access token of a refresh grant, in vlsim's order and of its length
/// (the fixture's application, user and tenant).
fn token_claims(floor: &Floor, session: uuid::Uuid) -> String {
    let iat = floor.clock.now_secs();
    format!(
        r#"{{"applicationId":"{APP}","aud":"{APP}","auth_time":{iat},"authenticationType":"REFRESH_TOKEN","email":"admin@vlsim.test","email_verified":true,"exp":{},"iat":{iat},"iss":"http://127.0.0.1:00000","jti":"{}","roles":["admin"],"scope":"offline_access","sid":"{session}","sub":"{USER}","tid":"{TENANT}"}}"#,
        iat + 3600,
        uuid::Uuid::new_v4(),
    )
}
const APP: &str = "20000000-0000-4000-8000-000000000001";
const USER: &str = "30000000-0000-4000-8000-000000000001";
const TENANT: &str = "10000000-0000-4000-8000-000000000001";

/// The claims of a Generate token, in vlsim's order: a floor that signed fewer bytes than
/// vlsim must sign would be no floor (SHA-256 over the signing input is ~2% of an ES256
/// Generate).
fn generate_claims(floor: &Floor) -> String {
    let iat = floor.clock.now_secs();
    format!(
        r#"{{"domain":"{}","exp":{},"iat":{iat},"iss":"{}","jti":"{}","sub":"{}\\administrator","username":"administrator"}}"#,
        floor.domain,
        iat + 1800,
        floor.server_name,
        uuid::Uuid::new_v4(),
        floor.domain,
    )
}

/// In vlsim's own envelope, so that both send the same bytes.
fn soap(body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(vlsim::soap::CONTENT_TYPE)
        .body(vlsim::soap::envelope(body))
}

// Each POST handler takes the body, as vlsim's do, so the request is read alike.
async fn sign(floor: web::Data<Arc<Floor>>, req: HttpRequest, _body: web::Bytes) -> HttpResponse {
    let key = if req.query_string() == "alg=ES256" {
        &floor.ec_key
    } else {
        &floor.key
    };
    let KeyOps::Asymmetric(key) = &key.ops else {
        return HttpResponse::InternalServerError().finish();
    };
    match key.sign_jws(generate_claims(&floor).as_bytes()) {
        Ok(token) => soap(&format!(
            r#"<JwtToken_GenerateResponse xmlns="urn:vdi"><returnval><token>{token}</token><expiryTime>{}</expiryTime></returnval></JwtToken_GenerateResponse>"#,
            vlsim::clock::rfc3339_secs(floor.clock.now_secs() + 1800)
        )),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn public_keys(floor: web::Data<Arc<Floor>>, _body: web::Bytes) -> HttpResponse {
    let mut body = format!(
        r#"<JwtToken_GetPublicKeysResponse xmlns="urn:vdi"><returnval><connectionServerName>{}</connectionServerName>"#,
        floor.server_name
    );
    for pem in &floor.public_pems {
        body.push_str("<keys>");
        body.push_str(pem);
        body.push_str("</keys>");
    }
    body.push_str("</returnval></JwtToken_GetPublicKeysResponse>");
    soap(&body)
}

async fn token(floor: web::Data<Arc<Floor>>, req: HttpRequest, _body: web::Bytes) -> HttpResponse {
    let KeyOps::Asymmetric(key) = &floor.key.ops else {
        return HttpResponse::InternalServerError().finish();
    };
    let session = uuid::Uuid::new_v4();
    let signed = key.sign_jws(token_claims(&floor, session).as_bytes());
    if let (Ok(token), "shared") = (&signed, req.query_string()) {
        let id = floor.issued.fetch_add(1, Ordering::Relaxed);
        let written = floor.tokens.put(id.to_be_bytes(), token);
        if written.is_err() || floor.store.flush().await.is_err() {
            return HttpResponse::InternalServerError().finish();
        }
    }
    if let (Ok(token), "durable") = (&signed, req.query_string()) {
        let db = floor.db.clone();
        let record = token.clone();
        let written = web::block(move || {
            let id = db.generate_id()?;
            db.insert(id.to_be_bytes(), record.as_bytes())?;
            db.flush()
        })
        .await;
        if !matches!(written, Ok(Ok(_))) {
            return HttpResponse::InternalServerError().finish();
        }
    }
    match signed {
        Ok(token) => HttpResponse::Ok().json(serde_json::json!({
            "access_token": token, "expires_in": 3600,
            "refresh_token": format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()),
            "refresh_token_id": session, "scope": "offline_access", "token_type": "Bearer",
            "userId": USER,
        })),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn verify(floor: web::Data<Arc<Floor>>, req: HttpRequest) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let key = token
        .split_once('.')
        .and_then(|(header, _)| floor.ring.signing_with_header(header));
    let Some(KeyOps::Asymmetric(key)) = key.as_ref().map(|k| &k.ops) else {
        return HttpResponse::Unauthorized().finish();
    };
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
    let db_path = std::env::args().nth(2).map_or_else(
        || std::env::temp_dir().join(format!("vlsim-floor-{}", std::process::id())),
        std::path::PathBuf::from,
    );
    vlsim::core::install_crypto_provider();
    let (world, keys) = vlsim::fixtures::embedded().expect("embedded fixtures");
    let material = keys
        .iter()
        .find(|k| k.id == world.horizon.signing_key)
        .expect("the Horizon signing key");
    let ec = keys
        .iter()
        .find(|k| k.algorithm == "ES256")
        .expect("the EC fixture key");
    let ring: Vec<SigningKey> = keys
        .iter()
        .map(|k| SigningKey::from_material(k).expect("fixture key"))
        .collect();
    let store = vlsim::store::Store::open(&db_path.with_extension("store")).expect("a store");
    let tokens = store.table("floor_tokens").expect("a table");
    let floor = Arc::new(Floor {
        key: SigningKey::from_material(material).expect("fixture key"),
        ec_key: SigningKey::from_material(ec).expect("fixture key"),
        public_pems: ring.iter().filter_map(|k| k.public_pem.clone()).collect(),
        ring: KeyRing::new(ring),
        clock: vlsim::clock::Clock::new(),
        server_name: world.horizon.connection_server_name.clone(),
        domain: world.horizon.domain.clone(),
        issued: AtomicU64::new(0),
        // Where benches/floor.sh says, beside vlsim's data dir (sled alone would put a
        // temporary database in /dev/shm, which never touches a disk).
        db: sled::Config::new()
            .path(db_path)
            .mode(sled::Mode::HighThroughput)
            .open()
            .expect("a temporary sled database"),
        store,
        tokens,
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(floor.clone()))
            .route("/sign", web::post().to(sign))
            .route("/keys", web::post().to(public_keys))
            .route("/verify", web::get().to(verify))
            .route("/token", web::post().to(token))
    })
    .workers(workers)
    .disable_signals()
    .bind("127.0.0.1:0")?;
    let addr = server.addrs().first().copied().expect("a bound address");
    println!("floor listening on http://{addr}");
    server.run().await
}
