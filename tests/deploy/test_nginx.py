"""The hand-written TLS proxy recipe agrees with the TLS variant of the config."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from atoll.config import load_config
from atoll.deploy import plan_qdrant, plan_vllm
from atoll.doctor.endpoints import configured_endpoints
from tests.conftest import REPO

NGINX = REPO / "deploy" / "nginx"


def test_proxy_ports_match_the_tls_config(tmp_path: Path) -> None:
    # Set-up descriptions are read as the user's own file (`atoll serve-config -w`).
    loaded = load_config(None, env={}, user_file=NGINX / "atoll.toml")
    assert loaded.issues == ()
    config = loaded.config
    conf = (NGINX / "atoll-gpu.conf").read_text()
    listens = {int(p) for p in re.findall(r"listen 10\.20\.0\.5:(\d+) ssl;", conf)}
    upstreams = {int(p) for p in re.findall(r"server 127\.0\.0\.1:(\d+);", conf)}
    # The laptops talk TLS to nginx's ports ...
    urls = [ep.base_url for ep in configured_endpoints(config)] + [config.indexing.qdrant_url]
    assert all(url.startswith("https://") for url in urls)
    assert {urlsplit(url).port for url in urls} == listens
    # ... and nginx forwards to where the generated launch lines listen: loopback only.
    plans = plan_vllm(config)
    qdrant = plan_qdrant(config)
    assert {p.host for p in plans} | {qdrant.host} == {"127.0.0.1"}
    assert {p.port for p in plans} | {qdrant.http_port} == upstreams
    # The LAN address is the plain-HTTP recipe's bind address.
    lan = load_config(None, env={}, user_file=REPO / "deploy" / "atoll.toml").config
    assert lan.deploy.bind_host == "10.20.0.5"
