//! The request `evpnd decode` carries out.

use std::path::PathBuf;

/// What `evpnd decode` was asked to do: plain data, no clap. The shell
/// (`src/cli.rs`) converts its command-line `DecodeArgs` into this, so the
/// dependency arrow goes Shell -> Decode only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeRequest {
    /// BGP messages in hex, or one FILE (`-` for stdin) read as `file` is.
    pub hex: Vec<String>,
    /// Read messages from a file (`-` for stdin), told apart by content.
    pub file: Option<PathBuf>,
    /// Read BGP messages from TCP port 179 in a pcap or pcapng capture.
    pub pcap: Option<PathBuf>,
    /// Print one JSON object per message (JSON lines) instead of text.
    pub json: bool,
    /// Decode AS numbers as 2 octets when no OPEN says otherwise.
    pub two_octet_as: bool,
}
