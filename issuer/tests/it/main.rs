//! The issuer: signing each paid deposit once, and the whole service started
//! in-process against a chain served over HTTP; each module is named as the sentence
//! it checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The API over a real store and the real ledger, shared with the api and client tests.
#[path = "../../../api/tests/it/support.rs"]
mod chain;

mod an_issuer_keeps_selling_across_key_epochs;
mod an_issuer_service_registers_when_its_registration_is_out_of_date_and_serves_its_gateway;
mod an_issuer_signs_each_paid_deposit_once_for_its_buyer;
mod every_credit_bundle_issues_end_to_end_through_the_issuer_service;
