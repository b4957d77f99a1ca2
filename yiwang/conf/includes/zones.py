"""Network zones: the public listener (政务外网) and the internal one (政务内网)."""

from __future__ import annotations

from yiwang.conf.env import env

YIWANG_ZONE = env(
    "YIWANG_ZONE", "all", group="Zones and serving", choices=("public", "internal", "all"),
    doc="Which zone this process serves: `public` (portal, public APIs), `internal` "
        "(workbench, admin, metrics) or `all` (both, each on its own port).",
)
YIWANG_BIND = env("YIWANG_BIND", "127.0.0.1", group="Zones and serving",
                  doc="Address the listeners bind to.")
YIWANG_PUBLIC_PORT = env("YIWANG_PUBLIC_PORT", 8000, group="Zones and serving",
                         doc="Port of the public listener (portal).")
YIWANG_INTERNAL_PORT = env("YIWANG_INTERNAL_PORT", 8001, group="Zones and serving",
                           doc="Port of the internal listener (workbench).")
YIWANG_PUBLIC_URL = env("YIWANG_PUBLIC_URL", f"http://localhost:{YIWANG_PUBLIC_PORT}",
                        group="Zones and serving",
                        show_default="http://localhost:(YIWANG_PUBLIC_PORT)",
                        doc="How people reach the portal (used in links, printed URLs and as "
                            "the OpenID Connect issuer). A host name, not an IP address: "
                            "browsers allow passkeys only on a domain or `localhost`.")
YIWANG_INTERNAL_URL = env("YIWANG_INTERNAL_URL", f"http://localhost:{YIWANG_INTERNAL_PORT}",
                          group="Zones and serving",
                          show_default="http://localhost:(YIWANG_INTERNAL_PORT)",
                          doc="How officials reach the workbench.")
YIWANG_WEB_WORKERS = env("YIWANG_WEB_WORKERS", 4, group="Zones and serving",
                         doc="Web server processes per listener set: about two per core "
                             "(the default suits 2 cores). Processes, not threads, are what "
                             "use the cores: Python runs one thread of a process at a time.")
YIWANG_WEB_THREADS = env("YIWANG_WEB_THREADS", 1, group="Zones and serving",
                         doc="Threads per web server process. One suits CPU-bound work on few "
                             "cores: a second thread of a process mostly waits for Python's "
                             "interpreter lock, and a thread holding the database's write turn "
                             "while it waits holds up every writer (on 2 cores, 4×1 ran "
                             "10–15 % more application lifecycles per second than 4×2, in "
                             "interleaved runs of benchmarks/applications.py; the inbox's p99 "
                             "at 16 users was 51 ms against 42 ms). Raise it when requests "
                             "wait on slow disks or services, or serve slow clients without a "
                             "buffering reverse proxy: a process answers one request at a "
                             "time per thread, and the connections it has accepted wait "
                             "behind a long one (OCR of an upload, the audit log's CSV "
                             "export).")
