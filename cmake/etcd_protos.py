#!/usr/bin/env python3
"""Copies etcd's gRPC protocol files (Debian's golang-etcd-server-dev) into
OUT/etcd/..., without the gogoproto and google.api annotations, which only
steer Go code generation and the HTTP gateway and are not shipped for C++.

usage: etcd_protos.py SRC_ROOT OUT_DIR   (SRC_ROOT: .../go.etcd.io/etcd)
"""
import os
import re
import sys

FILES = [
    "mvcc/mvccpb/kv.proto",
    "auth/authpb/auth.proto",
    "etcdserver/etcdserverpb/rpc.proto",
    "etcdserver/api/v3election/v3electionpb/v3election.proto",
]


def strip(text):
    out, i = [], 0
    # option (google.api.http) = { ... };  (braces may nest)
    for m in re.finditer(r"option \(google\.api\.http\) = \{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = text.index(";", j) + 1
    out.append(text[i:])
    text = "".join(out)
    text = re.sub(r'import "(gogoproto/gogo|google/api/annotations)\.proto";\n', "", text)
    text = re.sub(r"option \(gogoproto\.[a-z_]+\) = [a-z]+;\n", "", text)
    # field options: [(gogoproto.x) = y] or several in one bracket
    text = re.sub(r"\s*\[\(gogoproto\.[^\]]*\]", "", text)
    return text


def main():
    src, out = sys.argv[1], sys.argv[2]
    for f in FILES:
        with open(os.path.join(src, f)) as fh:
            text = strip(fh.read())
        if "gogoproto" in text or "google.api" in text:
            sys.exit(f"etcd_protos.py: could not strip every annotation from {f}")
        dst = os.path.join(out, "etcd", f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        # Rewrite only when changed, so the generated code is not rebuilt.
        old = open(dst).read() if os.path.exists(dst) else None
        if old != text:
            with open(dst, "w") as fh:
                fh.write(text)


if __name__ == "__main__":
    main()
