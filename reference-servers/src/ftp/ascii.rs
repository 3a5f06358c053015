//! TYPE A (RFC 959 §3.1.1.1): on the wire, lines end in CRLF ("NVT-ASCII");
//! on disk they end in LF. Sending turns every LF into CRLF (a CR already
//! before the LF is kept, not doubled); receiving turns CRLF back into LF.

/// Disk → wire. `prev_cr` carries state across chunks.
pub fn to_wire(data: &[u8], prev_cr: &mut bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for &b in data {
        if b == b'\n' && !*prev_cr {
            out.push(b'\r');
        }
        out.push(b);
        *prev_cr = b == b'\r';
    }
    out
}

/// Wire → disk. A CR is held back until the next byte shows whether it
/// starts a CRLF; `pending_cr` carries it across chunks.
pub fn from_wire(data: &[u8], pending_cr: &mut bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for &b in data {
        if *pending_cr {
            *pending_cr = false;
            if b != b'\n' {
                out.push(b'\r');
            }
        }
        if b == b'\r' {
            *pending_cr = true;
        } else {
            out.push(b);
        }
    }
    out
}

/// How many bytes `data` takes on the wire in TYPE A (for SIZE).
pub fn wire_len(data: &[u8]) -> u64 {
    let mut prev_cr = false;
    let mut n = 0u64;
    for &b in data {
        if b == b'\n' && !prev_cr {
            n += 1;
        }
        n += 1;
        prev_cr = b == b'\r';
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways_across_chunks() {
        let mut cr = false;
        let mut wire = to_wire(b"a\nb\r", &mut cr);
        wire.extend(to_wire(b"\nc\n", &mut cr));
        assert_eq!(wire, b"a\r\nb\r\nc\r\n");
        assert_eq!(wire_len(b"a\nb\r\nc\n"), wire.len() as u64);
        let mut p = false;
        let mut disk = from_wire(b"a\r\nb\r", &mut p);
        disk.extend(from_wire(b"\nc\rd", &mut p));
        assert_eq!(disk, b"a\nb\nc\rd");
    }
}
