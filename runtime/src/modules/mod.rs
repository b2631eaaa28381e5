//! Native Python modules, one per host capability. Each calls
//! `toolshed-guest-sdk` only.

pub mod toolshed;
