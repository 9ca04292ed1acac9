//! Tests of the namespace split, form decoding, re-encoding and auth mapping.
use super::*;
