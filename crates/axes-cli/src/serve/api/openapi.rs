//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the API,
//! generated from the handlers (see [`super::documented`]).

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};

/// The document's skeleton: title, version, the bearer scheme.
pub fn base() -> OpenApi {
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("axes service API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Brute-force login protection as a service. With `api_token` set, every call needs \
                     `Authorization: Bearer <api_token>`. Every error is JSON `{\"error\", \"detail\"}`.",
                ))
                .build(),
        )
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    doc
}

/// The whole document.
pub fn document_json() -> &'static str {
    static DOC: LazyLock<String> = LazyLock::new(|| {
        let (_, doc) = super::documented().split_for_parts();
        doc.to_json().unwrap_or_else(|e| {
            tracing::error!("axes serve: cannot render the OpenAPI document: {e}");
            String::from("{}")
        })
    });
    &DOC
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")),
)]
pub async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document_json(),
    )
}
