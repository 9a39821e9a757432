//! The stdio transport, tolerant of bad input.
//!
//! `lsp-server`'s own stdio reader stops at the first malformed message,
//! which ends the server; an editor sending one bad payload must not lose
//! its diagnostics. This reader logs the bad message and reads on; only the
//! end of input (or a broken header it cannot resynchronise from) ends it.

use std::io::{self, BufRead, Write};
use std::thread;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use lsp_server::{Connection, Message};

/// What the reader could not use, for the server to log.
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    Malformed(String),
}

/// Largest message accepted (a bigger one is skipped, not buffered).
const MAX_MESSAGE: usize = 64 << 20;

/// Read one framed payload: `Ok(None)` at the end of input.
pub fn read_payload(r: &mut impl BufRead) -> io::Result<Option<Result<Vec<u8>, String>>> {
    let mut length: Option<usize> = None;
    let mut bad_header: Option<String> = None;
    let mut saw_header = false;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            if saw_header {
                break;
            }
            // Blank lines between messages are skipped.
            continue;
        }
        saw_header = true;
        match trimmed.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_header = Some(format!("bad Content-Length `{}`", value.trim())),
                }
            }
            Some(_) => {}
            None => bad_header = Some(format!("malformed header line {trimmed:?}")),
        }
    }
    let Some(n) = length else {
        return Ok(Some(Err(
            bad_header.unwrap_or_else(|| "a message without Content-Length".into())
        )));
    };
    if n > MAX_MESSAGE {
        io::copy(&mut io::Read::take(&mut *r, n as u64), &mut io::sink())?;
        return Ok(Some(Err(format!(
            "a message of {n} bytes skipped (too large)"
        ))));
    }
    let mut buf = vec![0; n];
    r.read_exact(&mut buf)?;
    Ok(Some(Ok(buf)))
}

/// Parse a payload as a JSON-RPC message.
pub fn parse(payload: &[u8]) -> Incoming {
    match serde_json::from_slice::<Message>(payload) {
        Ok(m) => Incoming::Message(m),
        Err(e) => Incoming::Malformed(format!(
            "malformed message ignored ({e}): {}",
            String::from_utf8_lossy(&payload[..payload.len().min(200)])
        )),
    }
}

/// A connection over stdin/stdout. Messages go out through `Connection`;
/// incoming ones (and what could not be read) arrive on the returned receiver.
pub fn stdio() -> (Connection, Receiver<Incoming>) {
    let (out_tx, out_rx) = unbounded::<Message>();
    let (in_tx, in_rx) = bounded::<Incoming>(64);
    thread::Builder::new()
        .name("lsp-writer".into())
        .spawn(move || {
            let stdout = io::stdout();
            let mut w = stdout.lock();
            for m in out_rx {
                if m.write(&mut w).and_then(|()| w.flush()).is_err() {
                    break;
                }
            }
        })
        .expect("spawning the writer thread");
    let reader_tx: Sender<Incoming> = in_tx;
    thread::Builder::new()
        .name("lsp-reader".into())
        .spawn(move || {
            let stdin = io::stdin();
            let mut r = stdin.lock();
            loop {
                match read_payload(&mut r) {
                    Ok(Some(Ok(payload))) => {
                        let m = parse(&payload);
                        let exit = matches!(&m, Incoming::Message(Message::Notification(n)) if n.method == "exit");
                        if reader_tx.send(m).is_err() || exit {
                            break;
                        }
                    }
                    Ok(Some(Err(problem))) => {
                        if reader_tx.send(Incoming::Malformed(problem)).is_err() {
                            break;
                        }
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        })
        .expect("spawning the reader thread");
    // The server reads `Incoming`, not the connection's receiver.
    let (_unused_tx, unused_rx) = bounded::<Message>(0);
    (
        Connection {
            sender: out_tx,
            receiver: unused_rx,
        },
        in_rx,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_garbage() {
        let input = b"Content-Length: 5\r\n\r\nnot{}\r\nX-Junk\r\n\r\nContent-Length: 41\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"exit\",\"x\":1}  ";
        let mut r = io::BufReader::new(&input[..]);
        let first = read_payload(&mut r).unwrap().unwrap().unwrap();
        assert!(matches!(parse(&first), Incoming::Malformed(_)));
        // A header block without Content-Length is reported, then reading goes on.
        assert!(read_payload(&mut r).unwrap().unwrap().is_err());
        let third = read_payload(&mut r).unwrap().unwrap().unwrap();
        assert!(
            matches!(parse(&third), Incoming::Message(Message::Notification(n)) if n.method == "exit")
        );
        assert!(read_payload(&mut r).unwrap().is_none());
    }
}
