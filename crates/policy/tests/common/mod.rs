//! Builders shared by the integration tests.
#![allow(dead_code)]

use policy::{parse_principal, parse_resource, Principal, ResourceRef};

/// A principal from a case-file spec, e.g. `alice role=sales_rep team=west`.
pub fn person(spec: &str) -> Principal {
    parse_principal(spec).unwrap_or_else(|e| panic!("bad principal spec `{spec}`: {e}"))
}

/// A resource from a case-file spec, e.g. `customer c1 owner=alice`.
pub fn resource(spec: &str) -> ResourceRef {
    parse_resource(spec).unwrap_or_else(|e| panic!("bad resource spec `{spec}`: {e}"))
}
