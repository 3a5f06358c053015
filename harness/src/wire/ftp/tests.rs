//! The FTP reply reader against well-formed and hostile servers: every case
//! ends in a value (a reply or an error) within its bound, never a hang.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::*;
use crate::transcript::Transcript;

/// A server that sends `script` and then, if `linger`, keeps the connection
/// open without sending more.
async fn serve(script: Vec<u8>, linger: bool) -> Conn {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let _ = s.write_all(&script).await;
        if linger {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    });
    Conn::connect(addr, "t", &Transcript::new(), Duration::from_millis(500))
        .await
        .unwrap()
}

#[tokio::test]
async fn single_and_multi_line_replies() {
    let mut c = serve(
        b"220 ready\r\n211-Features:\r\n EPSV\r\n211 not the end\r\n 211 not either\r\n211-nor this\r\n211 End\r\n226\r\n".to_vec(),
        true,
    )
    .await;
    let r = read_reply(&mut c).await.unwrap();
    assert_eq!((r.status.as_str(), r.lines.len()), ("220", 1));
    let r = read_reply(&mut c).await.unwrap();
    assert_eq!(r.status, "211");
    // "211 not the end" ends it: the first line with the code and a space.
    assert_eq!(r.lines.len(), 3);
    // The rest is garbage: " 211 not either" is not a reply.
    assert!(matches!(
        read_reply(&mut c).await,
        Err(WireError::Malformed { .. })
    ));
}

#[tokio::test]
async fn a_bare_code_is_a_reply() {
    let mut c = serve(b"226\r\n".to_vec(), true).await;
    assert_eq!(read_reply(&mut c).await.unwrap().status, "226");
}

#[tokio::test]
async fn garbage_and_bad_separators_are_malformed() {
    // Codes outside RFC 959 §4.2.1: first digit 1-5, second 0-5.
    for bad in [
        &b"hello\r\n"[..],
        b"22 x\r\n",
        b"220x\r\n",
        b"\r\n",
        b"000 ok\r\n",
        b"999 ok\r\n",
        b"620 ok\r\n",
        b"260 ok\r\n",
        b"296-a\r\n296 b\r\n",
    ] {
        let mut c = serve(bad.to_vec(), true).await;
        assert!(
            matches!(read_reply(&mut c).await, Err(WireError::Malformed { .. })),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn a_line_that_never_ends_is_too_long() {
    let mut c = serve(vec![b'2'; MAX_LINE * 4], true).await;
    assert!(matches!(
        read_reply(&mut c).await,
        Err(WireError::TooLong { .. })
    ));
}

#[tokio::test]
async fn no_newline_then_close() {
    let mut c = serve(b"220 ready".to_vec(), false).await;
    assert!(matches!(
        read_reply(&mut c).await,
        Err(WireError::Closed { .. })
    ));
}

#[tokio::test]
async fn a_stall_times_out() {
    let mut c = serve(b"220-first\r\n".to_vec(), true).await;
    let started = std::time::Instant::now();
    assert!(matches!(
        read_reply(&mut c).await,
        Err(WireError::Timeout { .. })
    ));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_flood_of_continuation_lines_is_cut_off() {
    let mut script = b"220-flood\r\n".to_vec();
    for _ in 0..MAX_LINES + 10 {
        script.extend_from_slice(b"x\r\n");
    }
    let mut c = serve(script, true).await;
    let e = read_reply(&mut c).await.unwrap_err();
    assert!(matches!(e, WireError::TooMany { .. }), "{e}");
    assert!(e.to_string().contains(&format!("{MAX_LINES} lines")), "{e}");
}

#[tokio::test]
async fn a_reset_is_an_error_not_a_hang() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        #[allow(deprecated)] // an abortive close (RST) is the point here
        let _ = s.set_linger(Some(Duration::ZERO));
        drop(s);
    });
    let mut c = Conn::connect(addr, "t", &Transcript::new(), Duration::from_millis(500))
        .await
        .unwrap();
    assert!(read_reply(&mut c).await.is_err());
}

#[test]
fn parses_pasv_epsv_and_257() {
    assert_eq!(
        parse_pasv("227 Entering Passive Mode (127,0,0,1,4,1)."),
        Some("127.0.0.1:1025".parse().unwrap())
    );
    assert_eq!(
        parse_pasv("227 =127,0,0,1,200,10"),
        Some("127.0.0.1:51210".parse().unwrap())
    );
    assert_eq!(parse_pasv("227 Entering Passive Mode (127,0,0,1,4)"), None);
    assert_eq!(parse_pasv("227 (999,0,0,1,4,1)"), None);
    assert_eq!(
        parse_epsv("229 Entering Extended Passive Mode (|||6446|)"),
        Some(6446)
    );
    assert_eq!(parse_epsv("229 (!!!21!)"), Some(21));
    assert_eq!(parse_epsv("229 (|||x|)"), None);
    assert_eq!(parse_epsv("229 no"), None);
    assert_eq!(
        parse_257("257 \"/a\"\"b\" is current"),
        Some("/a\"b".into())
    );
    assert_eq!(parse_257("257 \"/unterminated"), None);
    assert_eq!(
        data::port_argument("127.0.0.1:1025".parse().unwrap()).as_deref(),
        Some("127,0,0,1,4,1")
    );
    assert_eq!(
        data::eprt_argument("[::1]:21".parse().unwrap()),
        "|2|::1|21|"
    );
}

#[tokio::test]
async fn an_active_listener_the_server_never_connects_to_times_out() {
    let t = Transcript::new();
    let (ch, _) = data::DataChannel::listen(
        "127.0.0.1".parse().unwrap(),
        "127.0.0.1".parse().unwrap(),
        &t,
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let r = ch.open(&t, Duration::from_millis(300)).await;
    assert!(matches!(r, Err(WireError::Timeout { .. })));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn an_active_connection_from_another_host_is_refused() {
    let t = Transcript::new();
    let (ch, addr) = data::DataChannel::listen(
        "127.0.0.1".parse().unwrap(),
        "127.0.0.1".parse().unwrap(),
        &t,
    )
    .await
    .unwrap();
    tokio::spawn(async move {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let _c = s.connect(addr).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let r = ch.open(&t, Duration::from_secs(1)).await;
    assert!(
        matches!(r, Err(WireError::Malformed { .. })),
        "{:?}",
        r.err()
    );
}

#[tokio::test]
async fn a_data_connection_that_stalls_or_floods_is_cut_off() {
    // Stalls: some data, then nothing and no close.
    let mut c = serve(b"partial file".to_vec(), true).await;
    assert!(matches!(
        c.read_to_close(1024, "the data").await,
        Err(WireError::Timeout { .. })
    ));
    // Floods: more than the bound.
    let mut c = serve(vec![b'x'; 64 * 1024], false).await;
    assert!(matches!(
        c.read_to_close(1024, "the data").await,
        Err(WireError::TooLong { .. })
    ));
}

mod decoder {
    use super::super::ReplyDecoder;
    use crate::wire::codec::{same_when_split, Decoded, Malformed};

    #[test]
    fn decodes_replies_however_split() {
        let feat = b"211-Features:\r\n EPSV\r\n211-still inside\r\n211 End\r\n220 next";
        match same_when_split(ReplyDecoder::default, feat) {
            Decoded::Complete(r, used) => {
                assert_eq!((r.status.as_str(), r.lines.len()), ("211", 4));
                assert_eq!(used, feat.len() - 8);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            same_when_split(ReplyDecoder::default, b"150 Opening\r\n"),
            Decoded::Complete(ref r, 13) if r.status == "150"
        ));
        assert_eq!(
            same_when_split(ReplyDecoder::default, b"211-a\r\nb\r\n"),
            Decoded::Incomplete
        );
    }

    #[test]
    fn malformed_replies_say_which_rule() {
        for bad in [&b"hello\r\n"[..], b"650 x\r\n", b"220x\r\n", b"22\r\n"] {
            match same_when_split(ReplyDecoder::default, bad) {
                Decoded::Malformed(Malformed::Syntax { expected, .. }) => {
                    assert!(expected.contains("RFC 959 §4.2"), "{expected}")
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn reply_limits_hold() {
        let many = [b"211-x\r\n".as_slice(), &b"x\r\n".repeat(5)].concat();
        assert!(matches!(
            same_when_split(|| ReplyDecoder::new(64, 4), &many),
            Decoded::Malformed(Malformed::TooMany { limit: 4, .. })
        ));
        let long = [b"211 ".as_slice(), &[b'a'; 100], b"\r\n"].concat();
        assert!(matches!(
            same_when_split(|| ReplyDecoder::new(64, 4), &long),
            Decoded::Malformed(Malformed::TooLong { limit: 64, .. })
        ));
    }
}
