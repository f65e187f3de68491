//! Generates the amc.v1 Rust code from `proto/` with protox (pure Rust, no system protoc) and writes the file
//! descriptor set that the reflection service serves.

use std::{env, fs, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "amc/v1/session.proto",
        "amc/v1/events.proto",
        "amc/v1/state_service.proto",
        "amc/v1/action_service.proto",
    ];
    let fds = protox::compile(files, ["proto"])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    // `compile_fds` never runs protoc, so it never writes the descriptor set: write it ourselves for reflection.
    fs::write(out.join("amc_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
