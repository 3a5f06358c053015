# DNSServer.py - an authoritative DNS server over UDP (RFC 1034, RFC 1035),
# the course's name server project.
#
#   python3 DNSServer.py PORT ZONEFILE
#
# Loads one zone in master-file format (RFC 1035 section 5) and answers
# queries for it: A, AAAA, NS, MX, CNAME, TXT, SOA. Names the zone does not
# have get an empty answer.
import socket
import struct
import sys

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
CLASS_IN = 1
NOERROR, FORMERR, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 3, 4, 5


def absolute(name, origin):
    if name == "@":
        return origin
    if name.endswith("."):
        return name.lower()
    return (name + "." + origin).lower()


def tokens(line):
    """Splits a master-file line; quoted strings stay one token (with quotes)."""
    out, cur, quoted = [], "", False
    for ch in line:
        if ch == '"':
            quoted = not quoted
            cur += ch
        elif ch == ";" and not quoted:
            break
        elif ch.isspace() and not quoted:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def load_zone(path):
    """Returns (origin, records): records maps name -> list of (type, ttl, rdata)."""
    origin, ttl, owner = ".", 3600, None
    records = {}
    pending = []
    for raw in open(path):
        if not pending:             # the first line of a record
            starts_blank = raw[:1] in (" ", "\t")
        pending += tokens(raw.replace("(", " ( ").replace(")", " ) "))
        if pending.count("(") > pending.count(")"):
            continue            # a record in parentheses goes on
        line = [t for t in pending if t not in "()"]
        pending = []
        if not line:
            continue
        if line[0] == "$ORIGIN":
            origin = absolute(line[1], ".")
            continue
        if line[0] == "$TTL":
            ttl = int(line[1])
            continue
        if not starts_blank:
            owner = absolute(line.pop(0), origin)
        rttl = ttl
        while line[0].isdigit() or line[0] == "IN":
            if line[0].isdigit():
                rttl = int(line[0])
            line.pop(0)
        rtype, rdata = line[0], line[1:]
        if rtype not in TYPES:
            continue
        records.setdefault(owner, []).append((rtype, rttl, encode_rdata(rtype, rdata, origin)))
    return origin, records


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def encode_rdata(rtype, data, origin):
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, data[0])
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, data[0])
    if rtype in ("NS", "CNAME"):
        return encode_name(absolute(data[0], origin))
    if rtype == "MX":
        return struct.pack("!H", int(data[0])) + encode_name(absolute(data[1], origin))
    if rtype == "TXT":
        out = b""
        for s in data:
            s = s.strip('"').encode()
            out += bytes([len(s)]) + s
        return out
    if rtype == "SOA":
        names = encode_name(absolute(data[0], origin)) + encode_name(absolute(data[1], origin))
        return names + struct.pack("!IIIII", *[int(x) for x in data[2:7]])


def read_question(msg):
    """The question's name (lower case), type, class, and where it ends."""
    labels, pos = [], 12
    while True:
        n = msg[pos]
        if n == 0:
            pos += 1
            break
        if n > 63:
            raise ValueError("compressed or bad label in the question")
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii").lower())
        pos += 1 + n
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return ".".join(labels) + ".", qtype, qclass, pos + 4


def rr(name, rtype, ttl, rdata):
    return encode_name(name) + struct.pack("!HHIH", TYPES[rtype], CLASS_IN, ttl, len(rdata)) + rdata


def answer(msg, origin, records):
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    opcode = (flags >> 11) & 0xF
    rd = flags & 0x0100
    if qdcount != 1:
        raise ValueError("not one question")
    qname, qtype, qclass, end = read_question(msg)
    question = msg[12:end]          # echoed byte for byte, case included
    answers, authority, additional = [], [], []
    rcode, aa = NOERROR, 0x0400
    if opcode != 0:
        rcode, aa = NOTIMP, 0
    elif not (qname == origin or qname.endswith("." + origin)):
        rcode, aa = REFUSED, 0      # not our zone, and we do not recurse
    else:
        name = qname
        for _ in range(8):          # follow a CNAME chain inside the zone
            rrs = records.get(name, [])
            cname = [r for r in rrs if r[0] == "CNAME"]
            if cname and qtype != TYPES["CNAME"]:
                answers.append(rr(name, "CNAME", cname[0][1], cname[0][2]))
                name = decode_name(cname[0][2])
                continue
            for rtype, ttl, rdata in rrs:
                if TYPES[rtype] == qtype:
                    answers.append(rr(name, rtype, ttl, rdata))
                    if rtype in ("MX", "NS"):
                        target = decode_name(rdata[2:] if rtype == "MX" else rdata)
                        for t2, ttl2, d2 in records.get(target, []):
                            if t2 in ("A", "AAAA"):
                                additional.append(rr(target, t2, ttl2, d2))
            break
        if not answers and name in records:
            soa = [r for r in records[origin] if r[0] == "SOA"][0]
            authority.append(rr(origin, "SOA", soa[1], soa[2]))
    flags = 0x8000 | (opcode << 11) | aa | rd | rcode
    header = struct.pack("!HHHHHH", qid, flags, 1, len(answers), len(authority), len(additional))
    return header + question + b"".join(answers + authority + additional)


def decode_name(data):
    labels, pos = [], 0
    while data[pos]:
        labels.append(data[pos + 1:pos + 1 + data[pos]].decode())
        pos += 1 + data[pos]
    return ".".join(labels) + "."


def main():
    port, zonefile = int(sys.argv[1]), sys.argv[2]
    origin, records = load_zone(zonefile)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    print("DNS server for %s on UDP port %d" % (origin, port))
    while True:
        msg, client = sock.recvfrom(512)
        try:
            reply = answer(msg, origin, records)
        except (ValueError, IndexError, struct.error, UnicodeDecodeError):
            if len(msg) < 12:
                continue
            # FORMERR: the header only, with the query's ID and QR set
            reply = msg[:2] + struct.pack("!HHHHH", 0x8001, 0, 0, 0, 0)
        sock.sendto(reply[:512], client)


if __name__ == "__main__":
    main()
