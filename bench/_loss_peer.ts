/**
 * bench:loss helpers: the kernel-side peers (python3 scripts run in a namespace) and their
 * result lines.
 *
 * @module
 */

/**
 * The kernel-side server (python3, one per server namespace; connections one after another).
 * A client's first line says what to do:
 * - `recv`: read to EOF, print `{"bytes":N,"seconds":S}` (S from the end of the command line to
 *   EOF), close;
 * - `send N CC SECS`: set TCP_CONGESTION to CC, send N bytes (or until SECS seconds passed),
 *   half-close, wait for the client's EOF, print `{"bytes":N,"cc":CC,"info":{...}}` (the
 *   sender's struct tcp_info at the end: retransmissions, reordering, D-SACKs, limits), close.
 * Exits when its stdin closes.
 */
export const PY_SERVER = String.raw`
import json, os, socket, sys, threading, time
def watch():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
def tcpinfo(c):
    # struct tcp_info (linux/tcp.h): the sender's loss and reordering view at the end.
    try:
        b = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    except OSError:
        return {}
    u32 = lambda o: int.from_bytes(b[o:o + 4], "little") if len(b) >= o + 4 else -1
    u64 = lambda o: int.from_bytes(b[o:o + 8], "little") if len(b) >= o + 8 else -1
    u16 = lambda o: int.from_bytes(b[o:o + 2], "little") if len(b) >= o + 2 else -1
    return {"retrans": u32(100), "reordering": u32(88), "cwnd": u32(80), "ssthresh": u32(76),
            "rttUs": u32(68), "minRttUs": u32(148), "segsOut": u32(136), "dataSegsOut": u32(156),
            "busyUs": u64(168), "rwndLimitedUs": u64(176), "sndbufLimitedUs": u64(184),
            "dsackDups": u32(216), "reordSeen": u32(220), "rtos": u16(240)}
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(4)
print("listening", flush=True)
block = memoryview(bytearray(os.urandom(1 << 20)))
buf = bytearray(1 << 20)
while True:
    c, _ = ls.accept()
    line = b""
    while not line.endswith(b"\n"):
        b = c.recv(1)
        if not b:
            break
        line += b
    parts = line.decode().split()
    out = {"error": "bad command %r" % line}
    try:
        if parts and parts[0] == "recv":
            t0 = time.monotonic()
            n = 0
            while True:
                k = c.recv_into(buf)
                if not k:
                    break
                n += k
            out = {"bytes": n, "seconds": time.monotonic() - t0}
        elif len(parts) == 4 and parts[0] == "send":
            total, cc, secs = int(parts[1]), parts[2], float(parts[3])
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
            got = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
            end = time.monotonic() + secs
            n = 0
            while n < total and time.monotonic() < end:
                k = min(len(block), total - n)
                c.sendall(block[:k])
                n += k
            c.shutdown(socket.SHUT_WR)
            while c.recv(65536):
                pass
            out = {"bytes": n, "cc": got.rstrip(b"\0").decode(), "info": tcpinfo(c)}
    except OSError as e:
        out = {"error": str(e)}
    print(json.dumps(out), flush=True)
    c.close()
`;

/**
 * The Linux sender (python3, one process per transfer): `HOST PORT N CC SECS [SAMPLE]` connects
 * with TCP_CONGESTION CC, sends `recv`, then N bytes (or until SECS seconds passed), half-closes
 * and waits for the server's close; prints `{"bytes":N,"cc":CC,"info":{...}}` (as the server's).
 * SAMPLE `1` adds `"samples"`: cwnd, packets in flight and SRTT (µs) read from tcp_info every
 * 2 ms while sending, and how many samples found the sender in Recovery or Loss.
 */
export const PY_CLIENT = String.raw`
import json, os, socket, sys, time
host, port, total, cc, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
def tcpinfo(c):
    # struct tcp_info (linux/tcp.h): the sender's loss and reordering view at the end.
    try:
        b = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    except OSError:
        return {}
    u32 = lambda o: int.from_bytes(b[o:o + 4], "little") if len(b) >= o + 4 else -1
    u64 = lambda o: int.from_bytes(b[o:o + 8], "little") if len(b) >= o + 8 else -1
    u16 = lambda o: int.from_bytes(b[o:o + 2], "little") if len(b) >= o + 2 else -1
    return {"retrans": u32(100), "reordering": u32(88), "cwnd": u32(80), "ssthresh": u32(76),
            "rttUs": u32(68), "minRttUs": u32(148), "segsOut": u32(136), "dataSegsOut": u32(156),
            "busyUs": u64(168), "rwndLimitedUs": u64(176), "sndbufLimitedUs": u64(184),
            "dsackDups": u32(216), "reordSeen": u32(220), "rtos": u16(240)}
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
got = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
c.connect((host, port))
c.sendall(b"recv\n")
samples = {"cwnd": [], "flight": [], "rttUs": [], "recovering": 0}
sampling = sys.argv[6:7] == ["1"]
def sample():
    # Every 2 ms while sending: cwnd, packets in flight (unacked - sacked - lost + retrans),
    # smoothed RTT and whether the sender is in Recovery or Loss (tcpi_ca_state 3, 4).
    while sampling:
        try:
            b = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        except OSError:
            return
        u32 = lambda o: int.from_bytes(b[o:o + 4], "little")
        samples["cwnd"].append(u32(80))
        samples["flight"].append(u32(24) - u32(28) - u32(32) + u32(36))
        samples["rttUs"].append(u32(68))
        if b[1] >= 3:
            samples["recovering"] += 1
        time.sleep(0.002)
if sampling:
    import threading
    threading.Thread(target=sample, daemon=True).start()
block = memoryview(bytearray(os.urandom(1 << 20)))
end = time.monotonic() + secs
n = 0
while n < total and time.monotonic() < end:
    k = min(len(block), total - n)
    c.sendall(block[:k])
    n += k
c.shutdown(socket.SHUT_WR)
while c.recv(65536):
    pass
sampling = False
info = tcpinfo(c)
c.close()
out = {"bytes": n, "cc": got, "info": info}
if samples["cwnd"]:
    out["samples"] = samples
print(json.dumps(out), flush=True)
`;

/** Parses a JSON result line of a peer; throws with the peer's error text. */
export function parseResult<T>(line: string, what: string): T {
  let r: T & { error?: string };
  try {
    r = JSON.parse(line);
  } catch {
    throw new Error(`${what}: not a result line: ${line}`);
  }
  if (r.error !== undefined) throw new Error(`${what}: ${r.error}`);
  return r;
}
