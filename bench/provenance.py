"""Signing and verifying inside the platform against raw c2pa-python calls, side by side.

    .venv/bin/python bench/provenance.py [--rounds 200] [--size 1024]

One 1024×1024 JPEG (and PNG). "Platform" is what the signing service runs once the
database facts are gathered: checked credentials (``usable_credentials``) and
``signing.sign_bytes`` with the same manifest definition; verification is
``verify.verify_bytes`` (format sniffing, trust anchors, failures in plain words, the
readable summary). "Raw" is a bare Builder.sign / Reader.json with the same settings
(thumbnails off, the same anchors). Nothing touches a database: Django is configured with
a throwaway folder under /tmp. Every figure is measured in this run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "platform"))
sys.path.insert(0, str(REPO))

_TMP = Path(tempfile.mkdtemp(prefix="assay-bench-provenance-"))
os.environ.update(ASSAY_VAR_DIR=str(_TMP), DJANGO_SETTINGS_MODULE="assay.settings",
                  DATABASE_URL=f"sqlite:///{_TMP / 'bench.sqlite3'}",
                  ASSAY_SIGNING_CERT="", ASSAY_SIGNING_KEY="", ASSAY_TSA_URL="")

import django  # noqa: E402

django.setup()

import c2pa  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from governance.provenance.credentials import (  # noqa: E402
    init_dev_credentials,
    trust_anchors_pem,
    usable_credentials,
)
from governance.provenance.labels import ASSERTION, TRAINED  # noqa: E402
from governance.provenance.signing import sign_bytes  # noqa: E402
from governance.provenance.verify import verify_bytes  # noqa: E402

DEFINITION = {
    "title": "bench.jpg", "claim_generator_info": [{"name": "Assay", "version": "bench"}],
    "assertions": [
        {"label": "c2pa.actions.v2", "data": {"actions": [{
            "action": "c2pa.created", "digitalSourceType": TRAINED,
            "softwareAgent": {"name": "image-diffusers", "version": "1.2",
                              "org.assay.model": {"id": "sd-turbo", "revision": "b261bac6"}}}]}},
        {"label": ASSERTION, "data": {
            "project": {"slug": "bench"}, "generation": {"seed": 7, "parameters": {"steps": 4}},
            "checks": [{"check_id": "image-size", "status": "pass", "severity": "medium"}],
            "approvals": [{"stage": "review", "reviewer_role": "reviewer",
                           "reviewer": "reviewer-0123456789abcdef",
                           "decided_at": "2026-01-01T00:00:00+00:00",
                           "content_sha256": "0" * 64}]}},
    ],
}


def image(size: int, fmt: str) -> bytes:
    pixels = np.random.default_rng(7).integers(0, 256, (size, size, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def timed(fn, rounds: int) -> float:
    """Median seconds per call after two warm-up calls."""
    fn(), fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()
    init_dev_credentials(_TMP / "signing")
    creds = usable_credentials()
    anchors = trust_anchors_pem()
    print(f"c2pa-python {metadata.version('c2pa-python')}, "
          f"{args.size}² images, median of {args.rounds} rounds, thumbnails off\n")
    print(f"{'':14} {'platform ms':>12} {'raw ms':>10} {'ratio':>7}")
    for fmt, media_type in (("JPEG", "image/jpeg"), ("PNG", "image/png")):
        data = image(args.size, fmt)

        def platform_sign(data=data, media_type=media_type) -> bytes:
            return sign_bytes(data, media_type, DEFINITION, usable_credentials()).data

        def raw_sign(data=data, media_type=media_type) -> bytes:
            info = c2pa.C2paSignerInfo(creds.alg, creds.chain_pem, creds.key_pem, None)
            ctx = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
            with ctx, c2pa.Signer.from_info(info) as signer, \
                    c2pa.Builder(DEFINITION, context=ctx) as builder:
                out = io.BytesIO()
                builder.sign(signer, media_type, io.BytesIO(data), out)
                return out.getvalue()

        signed = platform_sign()

        def platform_verify(signed=signed) -> str:
            return verify_bytes(signed, anchors=anchors).state

        def raw_verify(signed=signed, media_type=media_type) -> str:
            ctx = c2pa.Context.from_dict({"trust": {"user_anchors": anchors}})
            with ctx, c2pa.Reader(media_type, io.BytesIO(signed), context=ctx) as reader:
                return json.loads(reader.json())["validation_state"]

        assert platform_verify() == "trusted" and raw_verify() == "Trusted"
        for what, mine, raw in (("sign", platform_sign, raw_sign),
                                ("verify", platform_verify, raw_verify)):
            t_mine, t_raw = timed(mine, args.rounds), timed(raw, args.rounds)
            label = f"{fmt} {what}"
            print(f"{label:14} {t_mine * 1000:12.2f} {t_raw * 1000:10.2f} "
                  f"{t_mine / t_raw:6.2f}×")
        print(f"{'':14} ({len(data) / 1e6:.2f} MB in, {len(signed) - len(data):,} bytes of "
              "manifest added)")
    print("\nTarget: platform ≤ 1.5× raw for both.")


if __name__ == "__main__":
    main()
