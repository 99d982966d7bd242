//! A real DCSA transport document, embedded: what `ebl doc sample` prints for a first bill, and what
//! the demo, tests and benchmarks issue. Data from DCSA's eBL 3.0.4 specification (Apache-2.0; see
//! `sample/README.md`).

/// The `regularSTDExample` to-order transport document of the DCSA eBL 3.0.4 OpenAPI specification.
pub const DCSA_TO_ORDER_BOL: &str = include_str!("sample/dcsa-to-order-bol.json");
