"""Push to a remote hub (``--to hf://ORG``) through huggingface_hub, against a loopback stand-in.

The stand-in is a small test-only write endpoint (the calls huggingface_hub 2.4.0 makes
to create a repo, pre-upload, upload LFS objects with the basic transfer, commit, tag,
branch and collect) in front of olah, which serves every read. It writes git repos in
the local hub's layout, so olah serves what was pushed. HF_HUB_DISABLE_XET=1 selects the
legacy LFS transfer.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
import torch

import vvshub
from vvshub.hub._git import LocalRepo, lfs_pointer
from vvshub.hub._serve import serve

REPO = Path(__file__).resolve().parents[2]


_WRITE_VERBS = ("preupload", "commit", "tag", "branch")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class WriteServer:
    """Writes go into git repos under ``root``; reads are forwarded to ``upstream`` (olah)."""

    def __init__(self, root: Path, upstream: str) -> None:
        self.root, self.upstream = root, upstream
        self.collections: dict[str, dict] = {}
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.opener = urllib.request.build_opener(_NoRedirect)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, payload=None, headers: dict | None = None) -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                server.calls.append(f"POST {self.path}")
                with server.lock:
                    server.post(self, unquote(self.path.split("?")[0]), self._body())

            def do_PUT(self) -> None:
                server.calls.append(f"PUT {self.path}")
                with server.lock:
                    server.put(self, unquote(self.path), self._body())

            def do_DELETE(self) -> None:
                server.calls.append(f"DELETE {self.path}")
                with server.lock:
                    server.delete(self, unquote(self.path))

            def do_GET(self) -> None:
                if self.path.startswith("/api/collections/"):
                    slug = unquote(self.path[len("/api/collections/") :])
                    c = server.collections.get(slug)
                    self._send(200 if c else 404, c or {"error": "not found"})
                    return
                server.forward(self, "GET")

            def do_HEAD(self) -> None:
                server.forward(self, "HEAD")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- reads: olah -----------------------------------------------------------------------------
    def forward(self, h, method: str, body: bytes | None = None) -> None:
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection")}
        req = urllib.request.Request(
            self.upstream + h.path, data=body, headers=headers, method=method
        )
        try:
            resp = self.opener.open(req, timeout=60)
            status, rheaders, body = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            status, rheaders, body = exc.code, exc.headers, exc.read()
        h.send_response(status)
        for k, v in rheaders.items():
            if k.lower() in ("transfer-encoding", "connection") or (
                k.lower() == "content-length" and method != "HEAD"
            ):
                continue
            if k.lower() == "location":
                v = v.replace(self.upstream, self.url)
            h.send_header(k, v)
        if method != "HEAD":
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(body)

    # -- writes ----------------------------------------------------------------------------------
    def repo(self, org: str, name: str) -> LocalRepo:
        return LocalRepo(self.root / "models" / org / name)

    def post(self, h, path: str, body: bytes) -> None:
        parts = path.strip("/").split("/")
        if path == "/api/repos/create":
            data = json.loads(body)
            repo = self.repo(data["organization"], data["name"])
            url = f"{self.url}/{data['organization']}/{data['name']}"
            if repo.exists():
                h._send(409, {"error": "You already created this model repo", "url": url})
                return
            repo.create()  # like the Hub: a new repo has an initial commit on main
            tree = repo.write_tree(
                {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"}
            )
            repo.force_ref("refs/heads/main", repo.commit_tree(tree, "initial commit", None))
            h._send(200, {"url": url})
            return
        if path == "/api/validate-yaml":
            h._send(200, {"errors": [], "warnings": []})
            return
        if path == "/api/collections":
            data = json.loads(body)
            slug = f"{data['namespace']}/{data['title'].lower().replace(' ', '-')}-0123abcd"
            if slug in self.collections:
                h._send(409, {"error": "exists", "slug": slug})
                return
            self.collections[slug] = {
                "slug": slug,
                "title": data["title"],
                "owner": {"name": data["namespace"]},
                "items": [],
                "lastUpdated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "position": 0,
                "private": bool(data.get("private")),
                "theme": "blue",
                "upvotes": 0,
                "description": data.get("description"),
            }
            h._send(200, self.collections[slug])
            return
        if parts[:2] == ["api", "collections"] and parts[-1] == "items":
            c = self.collections["/".join(parts[2:-1])]
            item = json.loads(body)["item"]
            if any(i["id"] == item["id"] for i in c["items"]):
                h._send(409, {"error": "exists"})
                return
            n = len(c["items"])
            c["items"].append(
                {"_id": f"item{n}", "id": item["id"], "type": item["type"], "position": n}
            )
            h._send(200, c)
            return
        if len(parts) == 6 and parts[:2] == ["api", "models"] and parts[4] in _WRITE_VERBS:
            org, name, verb, rev = parts[2], parts[3], parts[4], parts[5]
            repo = self.repo(org, name)
            if not repo.exists():
                h._send(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
                return
            if verb == "preupload":
                files = json.loads(body)["files"]
                h._send(200, {"files": [self._mode(f) for f in files]})
            elif verb == "commit":
                self.commit(h, repo, org, name, rev, body)
            elif verb == "tag":
                tag = json.loads(body)["tag"]
                target = repo.resolve(rev)
                if target is None:
                    h._send(404, {"error": "no rev"}, {"X-Error-Code": "RevisionNotFound"})
                elif repo.resolve(tag) is not None:
                    h._send(409, {"error": "Tag already exists"})
                else:
                    repo.force_ref(f"refs/tags/{tag}", target)
                    h._send(200, {})
            else:  # branch
                start = (json.loads(body) if body else {}).get("startingPoint") or "main"
                if repo.resolve(rev) is not None:
                    h._send(409, {"error": "Branch already exists"})
                else:
                    repo.force_ref(f"refs/heads/{rev}", repo.resolve(start))
                    h._send(200, {})
            return
        if path.endswith(".git/info/lfs/objects/batch"):
            org, name = parts[0], parts[1].removesuffix(".git")
            repo = self.repo(org, name)
            objects = []
            for obj in json.loads(body)["objects"]:
                entry = {"oid": obj["oid"], "size": obj["size"]}
                if not repo.lfs_path(obj["oid"]).is_file():
                    href = f"{self.url}/_lfs/{org}/{name}/{obj['oid']}"
                    entry["actions"] = {"upload": {"href": href}}
                objects.append(entry)
            h._send(200, {"transfer": "basic", "objects": objects})
            return
        self.forward(h, "POST", body)  # reads that POST (paths-info) go to olah

    @staticmethod
    def _mode(f: dict) -> dict:
        lfs = f["path"].endswith(".safetensors") or f["size"] >= 1 << 20
        return {"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}

    def put(self, h, path: str, body: bytes) -> None:
        _, org, name, oid = path.strip("/").split("/")
        repo = self.repo(org, name)
        if hashlib.sha256(body).hexdigest() != oid:
            h._send(400, {"error": "sha256 mismatch"})
            return
        tmp = self.root / f".{oid}.upload"
        tmp.write_bytes(body)
        repo.store_lfs(tmp, oid, len(body))
        tmp.unlink()
        h._send(200, {})

    def delete(self, h, path: str) -> None:
        parts = path.strip("/").split("/")
        org, name, verb, ref = parts[2], parts[3], parts[4], parts[5]
        repo = self.repo(org, name)
        full = f"refs/tags/{ref}" if verb == "tag" else f"refs/heads/{ref}"
        if repo.resolve(ref) is None:
            h._send(404, {"error": "no such ref"}, {"X-Error-Code": "RevisionNotFound"})
            return
        repo._git("update-ref", "-d", full)
        h._send(200, {})

    def commit(self, h, repo: LocalRepo, org: str, name: str, rev: str, body: bytes) -> None:
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        header = lines[0]["value"]
        tip = repo.resolve(rev)
        if header.get("parentCommit") and header["parentCommit"] != tip:
            h._send(412, {"error": "A commit has happened since"})
            return
        blobs = {}
        if tip is not None:
            blobs = {n: repo.read_blob(b) for n, b in repo.files(tip).items()}
        for line in lines[1:]:
            value = line["value"]
            if line["key"] == "file":
                blobs[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] == "lfsFile":
                if not repo.lfs_path(value["oid"]).is_file():
                    h._send(422, {"error": f"LFS object {value['oid']} missing"})
                    return
                blobs[value["path"]] = lfs_pointer(value["oid"], value["size"])
            elif line["key"] == "deletedFile":
                blobs.pop(value["path"], None)
        tree = repo.write_tree(blobs)
        new = repo.commit_tree(tree, header["summary"], tip)
        if not repo.set_ref(f"refs/heads/{rev}", new, tip):
            h._send(412, {"error": "concurrent commit"})
            return
        h._send(
            200,
            {
                "commitUrl": f"{self.url}/{org}/{name}/commit/{new}",
                "commitOid": new,
                "pullRequestUrl": None,
            },
        )


@pytest.fixture
def remote(tmp_path):
    root = tmp_path / "remote-hub"
    with serve(root=root) as olah:
        server = WriteServer(root, olah.url)
        yield server
        server.stop()


def _run(code: str, env: dict) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.slow
def test_push_to_remote_then_pull_back_verified(remote, tiny_model, tmp_path, vvshub_home, batch):
    m1, m2 = tiny_model(1), tiny_model(2)
    vvshub.push(m1, "resnet18_w0.125_d10_cifar10", epoch=1, benchmarked=False, record=False)
    vvshub.push(m2, "resnet18_w0.125_d10_cifar10", epoch=2, record=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")} | {
        "HF_ENDPOINT": remote.url,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_TOKEN": "hf_test_token",
        "HF_HUB_CACHE": str(tmp_path / "hf-cache"),
        "PYTHONPATH": str(REPO / "src"),
        "VVSHUB_NO_PROGRESS": "1",
    }
    push = (
        "from vvshub.cli import main\n"
        "main(['push', 'resnet18_w0.125_d10_cifar10', '--to', 'hf://lab', '--json'])\n"
    )
    out = _run(push + "", env)
    pushed = json.loads(out)
    assert [p["revision"] for p in pushed] == ["ep1", "ep2"]
    assert [p["main"] for p in pushed] == [False, True]
    assert all(p["destination"] == "hf://lab" for p in pushed)

    # the remote repo: one commit per push, tags ep1/ep2, main at ep2, no staging branch left
    repo = LocalRepo(tmp_path / "remote-hub" / "models" / "lab" / "resnet18_w0.125_d10_cifar10")
    refs = repo.refs()
    assert set(refs) == {"refs/heads/main", "refs/tags/ep1", "refs/tags/ep2"}
    assert refs["refs/heads/main"] == refs["refs/tags/ep2"] != refs["refs/tags/ep1"]
    assert sorted(repo.files(refs["refs/tags/ep1"])) == [
        ".gitattributes",
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    assert sum(c.startswith("POST /api/models/lab/") and "/commit/" in c for c in remote.calls) == 2
    # a Collection per family, holding the repo
    (collection,) = remote.collections.values()
    assert collection["title"] == "vvshub ResNetFlex"
    assert [i["id"] for i in collection["items"]] == ["lab/resnet18_w0.125_d10_cifar10"]

    # pull back through olah with vvshub (sha256-checked) into a fresh home, then offline
    pull = (
        "import hashlib, vvshub\n"
        "def d(m):\n"
        "    h = hashlib.sha256()\n"
        "    for k, v in sorted(m.state_dict().items()): h.update(k.encode()); h.update(v.numpy().tobytes())\n"
        "    return h.hexdigest()\n"
        "print(d(vvshub.pull('resnet18_w0.125_d10_cifar10', 'ep1', source='hf://lab')),"
        " d(vvshub.pull('resnet18_w0.125_d10_cifar10', source='hf://lab')))\n"
    )
    fresh = env | {"VVSHUB_HOME": str(tmp_path / "fresh")}
    online = _run(pull, fresh).split()

    def digest(m):
        h = hashlib.sha256()
        for k, v in sorted(m.state_dict().items()):
            h.update(k.encode())
            h.update(v.numpy().tobytes())
        return h.hexdigest()

    assert online == [digest(m1), digest(m2)]
    assert _run(pull, fresh | {"HF_HUB_OFFLINE": "1"}).split() == online
    assert torch.equal(vvshub.pull("resnet18_w0.125_d10_cifar10")(batch), m2(batch))
