//! Route tables. Each surface declares its routes once, as a `const` table of [`Route`]s
//! in a [`SurfaceDef`]; from that one table come the registered routes, the operation names
//! the journal, latency settings and fault rules use, `/_vlsim/about` and the OpenAPI
//! document.

use crate::surface::Surface;
use actix_web::{web, HttpResponse};
use std::collections::HashMap;

/// The HTTP method a route answers; `Any` is the path's fallback for other methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    Any,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
            Self::Any => "*",
        }
    }

    fn http(self) -> Option<actix_web::http::Method> {
        match self {
            Self::Get => Some(actix_web::http::Method::GET),
            Self::Post => Some(actix_web::http::Method::POST),
            Self::Put => Some(actix_web::http::Method::PUT),
            Self::Delete => Some(actix_web::http::Method::DELETE),
            Self::Any => None,
        }
    }

    fn of(method: &actix_web::http::Method) -> Self {
        match *method {
            actix_web::http::Method::GET => Self::Get,
            actix_web::http::Method::POST => Self::Post,
            actix_web::http::Method::PUT => Self::Put,
            actix_web::http::Method::DELETE => Self::Delete,
            _ => Self::Any,
        }
    }
}

/// One route: method, path pattern, what it is for, and its handler.
pub struct Route {
    pub method: Method,
    /// actix path pattern, e.g. `/api/jwt/refresh/{tokenId}`.
    pub path: &'static str,
    /// How calls of this route are named: `METHOD path`.
    pub operation: &'static str,
    pub summary: &'static str,
    /// Builds the actix route (its handler); the method guard is added from `method`.
    pub handler: fn() -> actix_web::Route,
    /// The OpenAPI schema of the request body, where the route documents one.
    pub body: Option<&'static str>,
    /// The success status the OpenAPI document states.
    pub status: u16,
}

/// Declares a [`Route`]: `route!(POST "/api/login" => login::login, "Log a user in")`, with
/// optional `body = "Schema"` and `status = 201` for the OpenAPI document. The operation
/// name `POST /api/login` is made at compile time.
#[macro_export]
macro_rules! route {
    (@make $method:ident, $name:literal, $path:literal, $handler:path, $summary:literal, $body:expr, $status:expr) => {
        $crate::control::routes::Route {
            method: $crate::control::routes::Method::$method,
            path: $path,
            operation: concat!($name, " ", $path),
            summary: $summary,
            handler: || ::actix_web::web::route().to($handler),
            body: $body,
            status: $status,
        }
    };
    (GET $path:literal => $handler:path, $summary:literal $(, body = $body:literal)? $(, status = $status:literal)?) => {
        $crate::route!(@make Get, "GET", $path, $handler, $summary, $crate::route!(@opt $($body)?), $crate::route!(@status $($status)?))
    };
    (POST $path:literal => $handler:path, $summary:literal $(, body = $body:literal)? $(, status = $status:literal)?) => {
        $crate::route!(@make Post, "POST", $path, $handler, $summary, $crate::route!(@opt $($body)?), $crate::route!(@status $($status)?))
    };
    (PUT $path:literal => $handler:path, $summary:literal $(, body = $body:literal)? $(, status = $status:literal)?) => {
        $crate::route!(@make Put, "PUT", $path, $handler, $summary, $crate::route!(@opt $($body)?), $crate::route!(@status $($status)?))
    };
    (DELETE $path:literal => $handler:path, $summary:literal $(, body = $body:literal)? $(, status = $status:literal)?) => {
        $crate::route!(@make Delete, "DELETE", $path, $handler, $summary, $crate::route!(@opt $($body)?), $crate::route!(@status $($status)?))
    };
    (ANY $path:literal => $handler:path, $summary:literal) => {
        $crate::route!(@make Any, "*", $path, $handler, $summary, None, 405)
    };
    (@opt) => { None };
    (@opt $body:literal) => { Some($body) };
    (@status) => { 200 };
    (@status $status:literal) => { $status };
}

/// What a fired `typed` fault rule asks a surface to answer.
#[derive(Debug, Clone)]
pub struct TypedFault<'a> {
    /// The fault's name in the surface's terms (a SOAP fault type, an error code), if given.
    pub fault: Option<&'a str>,
    pub message: String,
    pub status: Option<actix_web::http::StatusCode>,
}

/// A surface: its routes and how it answers an injected typed fault.
pub struct SurfaceDef {
    pub surface: Surface,
    /// The path prefixes whose unmatched requests count as this surface's (journal, logs).
    pub prefixes: &'static [&'static str],
    pub routes: &'static [Route],
    /// Operations dispatched inside a route (SOAP methods, vAPI JSON-RPC operations), as the
    /// journal and fault rules name them.
    pub operations: fn() -> Vec<&'static str>,
    /// Renders a typed fault for a route of this surface before its handler runs; `None`
    /// when the surface checks fault rules itself, once it knows the operation and caller.
    pub typed_fault: Option<fn(&Route, &TypedFault<'_>) -> HttpResponse>,
    /// The fault names a `typed` rule may give on this surface (the first is its default),
    /// as the dashboard's fault form offers them.
    pub fault_names: &'static [&'static str],
}

/// No operations beyond the routes.
pub fn no_operations() -> Vec<&'static str> {
    Vec::new()
}

/// Tags each registered resource with its surface and path, so the control layer can tell
/// after routing which route answered (without a second route lookup).
#[derive(Clone, Copy)]
pub struct RouteTag {
    pub def: &'static SurfaceDef,
    pub path: &'static str,
}

impl RouteTag {
    /// The route of this path that serves `method` (or the path's fallback).
    pub fn route(&self, method: &actix_web::http::Method) -> Option<&'static Route> {
        route_for(self.def, self.path, Method::of(method))
    }
}

fn route_for(def: &'static SurfaceDef, path: &str, method: Method) -> Option<&'static Route> {
    let on_path = || def.routes.iter().filter(move |r| r.path == path);
    on_path()
        .find(|r| r.method == method)
        .or_else(|| on_path().find(|r| r.method == Method::Any))
}

/// One actix resource per path of `def` that `keep` accepts, in table order, with `prefix`
/// cut from the paths (for routes registered inside a scope).
pub fn resources(
    def: &'static SurfaceDef,
    prefix: &str,
    keep: impl Fn(&str) -> bool,
) -> Vec<actix_web::Resource> {
    let mut paths: Vec<&'static str> = Vec::new();
    for route in def.routes {
        if !paths.contains(&route.path) && keep(route.path) {
            paths.push(route.path);
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(prefix).unwrap_or(path);
            let mut resource = web::resource(relative).app_data(RouteTag { def, path });
            for route in def.routes.iter().filter(|r| r.path == path) {
                resource = match route.method.http() {
                    Some(method) => resource.route((route.handler)().method(method)),
                    None => resource.default_service((route.handler)()),
                };
            }
            resource
        })
        .collect()
}

/// Registers every route of `def`.
pub fn configure(cfg: &mut web::ServiceConfig, def: &'static SurfaceDef) {
    for resource in resources(def, "", |_| true) {
        cfg.service(resource);
    }
}

/// Every surface's table, for lookups by route and by path.
pub struct Registry {
    surfaces: Vec<&'static SurfaceDef>,
    by_route: HashMap<(Method, &'static str), (&'static SurfaceDef, &'static Route)>,
}

impl Registry {
    pub fn new(surfaces: &[&'static SurfaceDef]) -> Self {
        let mut by_route = HashMap::new();
        for def in surfaces {
            for route in def.routes {
                by_route.insert((route.method, route.path), (*def, route));
            }
        }
        Self {
            surfaces: surfaces.to_vec(),
            by_route,
        }
    }

    pub fn surfaces(&self) -> &[&'static SurfaceDef] {
        &self.surfaces
    }

    /// The route registered for `method` on the path pattern `pattern`.
    pub fn route(
        &self,
        method: &actix_web::http::Method,
        pattern: &str,
    ) -> Option<(&'static SurfaceDef, &'static Route)> {
        let method = Method::of(method);
        self.by_route
            .get(&(method, pattern))
            .or_else(|| self.by_route.get(&(Method::Any, pattern)))
            .copied()
    }

    /// The surface whose namespace `path` is in (the longest matching prefix).
    pub fn surface_of_path(&self, path: &str) -> Surface {
        self.surfaces
            .iter()
            .flat_map(|def| def.prefixes.iter().map(move |p| (def.surface, *p)))
            .filter(|(_, prefix)| path.starts_with(prefix))
            .max_by_key(|(_, prefix)| prefix.len())
            .map_or(Surface::Other, |(surface, _)| surface)
    }

    /// Every operation name of `surface`: its routes' and those dispatched inside them.
    pub fn operation_names(&self, surface: Surface) -> Vec<&'static str> {
        self.surfaces
            .iter()
            .filter(|d| d.surface == surface)
            .flat_map(|d| {
                d.routes
                    .iter()
                    .filter(|r| r.method != Method::Any)
                    .map(|r| r.operation)
                    .chain((d.operations)())
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}
