//! Generated amc.v1 code (protox + tonic-prost-build in `build.rs`) and the descriptor set for reflection.
//! Nothing here is hand-written.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

tonic::include_proto!("amc.v1");

/// The encoded `FileDescriptorSet` of every amc.v1 proto file (with imports), served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("amc_descriptor");
