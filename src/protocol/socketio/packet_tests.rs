//! Table tests of the packet codec with literal wire texts.
use super::*;
