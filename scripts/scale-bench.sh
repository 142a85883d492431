#!/usr/bin/env bash
# scripts/scale-bench.sh N: Portico at scale. Starts two portico-echo backends, a sidecar and a
# proxy on one fresh store (ephemeral loopback ports, a temporary directory), creates N routes
# with two targets each through the admin API (one client, sequential, keep-alive), then prints:
#   - route creates per second (overall, first and last 1,000)
#   - propagation: 50 `POST /endpoints/add` on random routes, each timed until the proxy sends
#     requests to the new target (p50 / p99 / max)
#   - sidecar and proxy CPU over 10 s with every target checked at `health.interval` (5s, tcp),
#     threads, and RSS over each process's baseline (per target)
#   - GET /endpoints/routes: size and time, whole and one page of 100
# BUILD=dir picks the binaries (default build/); SCALE_INTERVAL=1h takes the probe load away (to
# see the cost of writes and reloads alone). SCALE_HOSTS=H gives route i the host
# h<i mod H>.example.com and sends that Host with its requests (25,000 routes over 5,000 hosts:
# SCALE_HOSTS=5000 scripts/scale-bench.sh 25000). SCALE_CHECK=http probes with GET / instead of
# a connect, SCALE_KEEPALIVE=K sets health.keepalive_max (0: a new connection per probe; the
# backends hold a thread per kept connection, 1,024 each: keep N at 1,000 or below for http).
# Needs python3 (a test dependency already).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-}
if ! [[ "$N" =~ ^[0-9]+$ ]] || [ "$N" -lt 1 ]; then
  echo "usage: scripts/scale-bench.sh N   (N routes, 2N targets; e.g. 5000)" >&2
  exit 2
fi
BIN=${BUILD:-build}/bin
for b in portico-sidecar portico-proxy portico-echo; do
  [ -x "$BIN/$b" ] || { echo "scale-bench: $BIN/$b missing (build first: cmake --build build)" >&2; exit 1; }
done
exec python3 - "$N" "$BIN" <<'PY'
import http.client, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, time

N = int(sys.argv[1]); BIN = os.path.abspath(sys.argv[2])
HOSTS = int(os.environ.get("SCALE_HOSTS", "0"))  # 0: any-host routes, as before
def host(i): return "h%d.example.com" % (i % HOSTS) if HOSTS else None
def named(i, body):
    if HOSTS: body["host"] = host(i)
    return body
INTERVAL = os.environ.get("SCALE_INTERVAL", "5s")  # e.g. 1h: writes and reloads without probe load
CHECK = os.environ.get("SCALE_CHECK", "tcp")  # http: GET / (kept-alive connections, see below)
KEEPALIVE = os.environ.get("SCALE_KEEPALIVE", "")  # health.keepalive_max (0: a connection a probe)
work = tempfile.mkdtemp(prefix="portico-scale-")
procs = []

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def start(name, args):
    log = open(os.path.join(work, name + ".log"), "w")
    p = subprocess.Popen([os.path.join(BIN, args[0])] + args[1:], stdout=log, stderr=subprocess.STDOUT, cwd=work)
    procs.append(p)
    return p

def wait_port(port, proc, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None: sys.exit("scale-bench: a process exited early; logs in " + work)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); return
        except OSError: time.sleep(0.05)
    sys.exit("scale-bench: port %d never opened; logs in %s" % (port, work))

def cleanup(*_):
    for p in procs:
        if p.poll() is None: p.terminate()
    for p in procs:
        try: p.wait(5)
        except subprocess.TimeoutExpired: p.kill()
    shutil.rmtree(work, ignore_errors=True)
signal.signal(signal.SIGTERM, lambda *a: (cleanup(), sys.exit(1)))

def stat(pid):
    with open("/proc/%d/stat" % pid) as f: fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = threads = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"): rss = int(line.split()[1])
            if line.startswith("Threads:"): threads = int(line.split()[1])
    return cpu, rss, threads

class Client:
    def __init__(self, port): self.port = port; self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    def req(self, method, path, body=None, host=None):
        for attempt in (0, 1):
            try:
                headers = {"Content-Type": "application/json"} if body is not None else {}
                if host: headers["Host"] = host
                self.c.request(method, path, body=json.dumps(body) if body is not None else None,
                               headers=headers)
                r = self.c.getresponse(); data = r.read(); return r.status, data
            except (http.client.HTTPException, OSError):
                self.c.close(); self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt: raise

def pct(values, p):
    v = sorted(values); return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]

try:
    echo = [free_port(), free_port()]
    for i, port in enumerate(echo):
        p = start("echo%d" % i, ["portico-echo", "--port=%d" % port, "--name=e%d" % i, "--threads=1024"]); wait_port(port, p)
    admin, proxy_port = free_port(), free_port()
    common = ["--define=store.path=" + os.path.join(work, "p.db"), "--define=log.level=warn"]
    sidecar = start("sidecar", ["portico-sidecar", "--define=admin.port=%d" % admin,
                                "--define=health.interval=" + INTERVAL, "--define=health.timeout=3s",
                                "--define=health.type=" + CHECK] +
                                (["--define=health.keepalive_max=" + KEEPALIVE] if KEEPALIVE else []) + common)
    wait_port(admin, sidecar)
    proxy = start("proxy", ["portico-proxy", "--define=proxy.host=127.0.0.1", "--define=proxy.port=%d" % proxy_port,
                            "--define=proxy.status_port=%d" % free_port(),
                            "--define=proxy.access_log=off", "--define=proxy.reload_interval=100ms"] + common)
    wait_port(proxy_port, proxy)
    time.sleep(1)
    base = {"sidecar": stat(sidecar.pid)[1], "proxy": stat(proxy.pid)[1]}

    api = Client(admin)
    times = []; took = []
    during = {"sidecar": stat(sidecar.pid)[0], "proxy": stat(proxy.pid)[0]}
    t0 = time.time()
    for i in range(N):
        started = time.time()
        s, data = api.req("POST", "/endpoints/routes", named(i, {"prefixPath": "/r%d/" % i, "targets": [
            "http://127.0.0.1:%d/r%d" % (echo[0], i), "http://127.0.0.1:%d/r%d" % (echo[1], i)]}))
        if s != 201: sys.exit("scale-bench: create /r%d/ answered %d %s" % (i, s, data[:200]))
        times.append(time.time()); took.append((times[-1] - started) * 1000)
    total = time.time() - t0
    during = {n: (stat(p.pid)[0] - during[n]) * 1000.0 / N for n, p in (("sidecar", sidecar), ("proxy", proxy))}
    def rate(a, b): return (b - a) / (times[b - 1] - (times[a - 1] if a else t0))
    k = min(1000, N)
    created = (N / total, rate(0, k), rate(N - k, N))

    pc = Client(proxy_port)
    end = time.time() + 120
    while pc.req("GET", "/r%d/" % (N - 1), host=host(N - 1))[0] != 200:
        if time.time() > end: sys.exit("scale-bench: the proxy never served /r%d/" % (N - 1))
        time.sleep(0.01)

    rng = random.Random(1)
    lags = []
    for j in range(50):
        r = rng.randrange(N); marker = "/added%d" % j
        t = time.time()
        s, data = api.req("POST", "/endpoints/add", named(r, {"prefixPath": "/r%d/" % r,
                                                      "targets": ["http://127.0.0.1:%d%s" % (echo[j % 2], marker)]}))
        if s != 200: sys.exit("scale-bench: add answered %d %s" % (s, data[:200]))
        added = time.time()
        deadline = t + 30
        while True:
            s, data = pc.req("GET", "/r%d/x" % r, host=host(r))
            if marker.encode() in data: break
            if time.time() > deadline: sys.exit("scale-bench: change %d never served" % j)
        lags.append((time.time() - t) * 1000)
        if os.environ.get("SCALE_DEBUG"): print("change", j, "route", r, "%.0f ms (add %.0f ms)" % (lags[-1], (added - t) * 1000), file=sys.stderr)
        time.sleep(0.05)

    # Every target is checked at least once per interval from here on; measure a steady 10 s.
    time.sleep(6)
    if os.environ.get("SCALE_HOLD"):  # time to attach a profiler
        print("sidecar pid %d, proxy pid %d" % (sidecar.pid, proxy.pid), file=sys.stderr, flush=True)
        time.sleep(float(os.environ["SCALE_HOLD"]))
    before = {n: stat(p.pid) for n, p in (("sidecar", sidecar), ("proxy", proxy))}
    time.sleep(10)
    after = {n: stat(p.pid) for n, p in (("sidecar", sidecar), ("proxy", proxy))}

    t = time.time(); s, whole = api.req("GET", "/endpoints/routes"); list_all = time.time() - t
    t = time.time(); s2, page = api.req("GET", "/endpoints/routes?limit=100&after=/r5000/"); list_page = time.time() - t

    targets = 2 * N + 50
    print("## scale-bench: %d routes / %d targets%s (health.interval=%s %s%s, two live backends)\n" % (N, targets, " over %d hosts" % HOSTS if HOSTS else "", INTERVAL, CHECK, ", keepalive_max=" + KEEPALIVE if KEEPALIVE else ""))
    print("| figure | value |\n|---|---|")
    print("| route creates/s, one client (overall / first %d / last %d) | %.0f / %.0f / %.0f |" % ((k, k) + created))
    print("| one create, p50 / p99 / max (ms); creates over 10 ms | %.2f / %.2f / %.0f; %d |" % (pct(took, 50), pct(took, 99), max(took), sum(1 for v in took if v > 10)))
    print("| CPU per create, sidecar / proxy (ms; probes and reloads included) | %.2f / %.2f |" % (during["sidecar"], during["proxy"]))
    print("| change -> served by the proxy, p50 / p99 / max over 50 (ms) | %.0f / %.0f / %.0f |" % (pct(lags, 50), pct(lags, 99), max(lags)))
    for name in ("sidecar", "proxy"):
        cpu = (after[name][0] - before[name][0]) / 10.0 * 100
        rss = after[name][1]
        print("| %s CPU over 10 s (%% of a core) / threads | %.1f %% / %d |" % (name, cpu, after[name][2]))
        print("| %s RSS / over baseline per target | %.1f MB / %.0f B |" % (name, rss / 1024.0, (rss - base[name]) * 1024.0 / targets))
    print("| GET /endpoints/routes (whole) | %.1f MB in %.2f s |" % (len(whole) / 1e6, list_all))
    print("| GET /endpoints/routes?limit=100 | %s |" % ("%d B in %.3f s" % (len(page), list_page) if s2 == 200 else "HTTP %d (not supported)" % s2))
except BaseException:
    # Say what the processes said before their logs go.
    for name in ("sidecar", "proxy", "echo0", "echo1"):
        try:
            with open(os.path.join(work, name + ".log")) as f: tail = f.readlines()[-5:]
            sys.stderr.write("--- %s.log (last lines)\n%s" % (name, "".join(tail)))
        except OSError: pass
    sys.stderr.write("--- exit codes: %s\n" % [p.poll() for p in procs])
    raise
finally:
    cleanup()
PY
