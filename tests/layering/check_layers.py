#!/usr/bin/env python3
"""Fails on an include edge the layering forbids (docs/ARCHITECTURE.md, "Folders").

Every quoted include names its folder below a component root (shared/, proxy/, sidecar/); a
file may include its own folder and the folders its layer lists below, nothing else. Run with
the repository root as the only argument; prints each forbidden edge and exits 1 if any.
"""
import os
import re
import sys

# folder -> the folders its files may include (its own is always allowed).
BASE = ["shared/base"]
SHARED_LOW = BASE + ["shared/net", "shared/http", "shared/metrics", "shared/model"]
PROXY_CORE = SHARED_LOW + ["shared/store", "shared/config", "proxy/observe", "proxy/balance",
                           "proxy/routing", "proxy/forward", "proxy/runtime"]
ALLOWED = {
    "shared/base": [],
    "shared/net": BASE,
    "shared/metrics": BASE,
    "shared/model": BASE,
    "shared/http": BASE + ["shared/net"],
    "shared/http/server": BASE + ["shared/net", "shared/http"],
    "shared/store": BASE + ["shared/model"],
    "shared/store/sqlite": BASE + ["shared/model", "shared/store"],
    "shared/store/postgres": BASE + ["shared/model", "shared/store"],
    "shared/store/factory": BASE + ["shared/model", "shared/store", "shared/store/sqlite",
                                    "shared/store/postgres"],
    "shared/config": BASE + ["shared/model", "shared/store"],
    "shared/app": BASE + ["shared/config", "shared/store", "shared/store/factory",
                          "shared/model"],
    "proxy/observe": BASE + ["shared/metrics", "shared/model"],
    "proxy/balance": BASE + ["shared/net", "shared/model", "proxy/observe"],
    "proxy/routing": BASE + ["shared/net", "shared/metrics", "shared/model", "shared/store", "proxy/observe",
                             "proxy/balance"],
    "proxy/forward": SHARED_LOW + ["proxy/observe", "proxy/balance", "proxy/routing"],
    "proxy/runtime": SHARED_LOW + ["shared/store", "shared/store/factory", "shared/config",
                                   "proxy/observe", "proxy/balance", "proxy/routing",
                                   "proxy/forward"],
    # The two data planes share everything below them and never each other.
    "proxy/loop": PROXY_CORE,
    "proxy/module": PROXY_CORE,
    "proxy/app": PROXY_CORE + ["shared/app", "proxy/loop"],
    "proxy": PROXY_CORE + ["shared/app", "proxy/loop", "proxy/app"],
    "sidecar/observe": BASE + ["shared/metrics", "shared/model", "shared/store"],
    "sidecar/health": SHARED_LOW + ["shared/store", "sidecar/observe"],
    "sidecar/admin": SHARED_LOW + ["shared/http/server", "shared/store", "sidecar/observe"],
    "sidecar/app": SHARED_LOW + ["shared/http/server", "shared/store", "shared/store/factory",
                                 "shared/config", "shared/app", "sidecar/observe",
                                 "sidecar/health", "sidecar/admin"],
    # portico-ctl speaks HTTP to a sidecar and links neither the store nor the admin code, nor
    # portico_shared at all: at most the plain helpers of base/ and model/ could be compiled in.
    "sidecar/ctl": BASE + ["shared/model"],
    "sidecar": ["sidecar/app"],
}
COMPONENTS = ["shared", "proxy", "sidecar"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def resolve(root, component, name):
    """The folder (relative to root) of the header `name` as the compiler finds it."""
    for comp in (component, "shared"):
        path = os.path.join(root, comp, name)
        if os.path.isfile(path):
            return os.path.dirname(os.path.join(comp, name))
    return None


def main(root):
    bad = []
    for component in COMPONENTS:
        for dirpath, _, files in os.walk(os.path.join(root, component)):
            folder = os.path.relpath(dirpath, root)
            for f in files:
                if not f.endswith((".h", ".cpp")):
                    continue
                text = open(os.path.join(dirpath, f), encoding="utf-8").read()
                for name in INCLUDE.findall(text):
                    where = f"{folder}/{f}"
                    if "/" not in name:
                        bad.append(f"{where}: bare include \"{name}\" (name its folder)")
                        continue
                    target = resolve(root, component, name)
                    if target is None:
                        continue  # generated or system header
                    if folder not in ALLOWED:
                        bad.append(f"{where}: folder {folder} has no layer (add it to ALLOWED)")
                    elif target != folder and target not in ALLOWED[folder]:
                        bad.append(f"{where}: {folder} may not include {target} (\"{name}\")")
    for line in bad:
        print(line)
    print(f"layering: {len(bad)} forbidden edge(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
