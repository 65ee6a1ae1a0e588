"""A phone's 12-megapixel photo (4,000 × 3,000 JPEG with its EXIF: capture time, GPS, orientation)
processed as the server processes every photo handed in (``workflow.field.photos.process_photo``:
decode, pixel check, EXIF, re-encode at 1,600 px, thumbnail), against the floor of decoding it and
saving it once with Pillow (``Image.open(...).load()``, then ``save(JPEG)``), in the same run.

Each figure is the median of ``--runs``; each side runs in a fresh process of its own, so its peak
memory (ru_maxrss, imports included) is its own. The photo is made in a third: Linux carries a
process's peak across fork and exec, so a parent that had made it would lend the children its own.
Targets: median < 1 s, peak < 300 MB, and the last line the ratio processing / floor (≤ 2).

    .venv/bin/python benchmarks/photos.py [--runs 7]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def phone_photo() -> bytes:
    """A 12-megapixel JPEG with a camera's detail (noise over a gradient: it compresses like a
    photo, some 4–6 MB at quality 92) and a camera's EXIF."""
    from PIL import Image

    size = (4000, 3000)
    grain = Image.effect_noise(size, 40).convert("RGB")
    light = Image.linear_gradient("L").resize(size).convert("RGB")
    tint = Image.new("RGB", size, (150, 110, 70))
    image = Image.blend(Image.blend(light, tint, 0.5), grain, 0.35)
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2026:05:12 09:30:00", 0x9011: "+08:00"}
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    exif[0x0112] = 1
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def floor(data: bytes) -> None:
    """Decoding it and saving it once with Pillow, nothing more."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    image.save(io.BytesIO(), "JPEG", quality=85)


def processing(data: bytes) -> None:
    from workflow.field.photos import process_photo

    process_photo(data, keep_location=False, zone="Asia/Shanghai", name="IMG_0001.jpg")


def child(kind: str, path: str, runs: int) -> None:
    """One side, in this process: the median seconds and the peak memory, as JSON."""
    action = floor if kind == "floor" else processing
    data = Path(path).read_bytes()
    action(data)  # imports and first-call costs out of the figure
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action(data)
        times.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"median": statistics.median(times), "peak_mb": peak}))


def measure(kind: str, path: Path, runs: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", kind, "--photo", str(path), "--runs", str(runs)]
    answer = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", choices=("make", "floor", "processing"))
    parser.add_argument("--photo")
    args = parser.parse_args()
    if args.child == "make":
        Path(args.photo).write_bytes(phone_photo())
        return
    if args.child:
        child(args.child, args.photo, args.runs)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "IMG_0001.jpg"
        subprocess.run(
            [sys.executable, __file__, "--child", "make", "--photo", str(path)], check=True
        )
        print(f"photo: 4000 × 3000 JPEG, {path.stat().st_size / 1024 / 1024:.1f} MB")
        base = measure("floor", path, args.runs)
        ours = measure("processing", path, args.runs)
    print(
        f"floor (Pillow decode + save once): {base['median']:.3f} s, {base['peak_mb']:.0f} MB peak"
    )
    print(
        f"process_photo (decode, check, re-encode, thumbnail): {ours['median']:.3f} s, "
        f"{ours['peak_mb']:.0f} MB peak (targets: < 1 s, < 300 MB)"
    )
    print(f"ratio={ours['median'] / base['median']:.2f}")


if __name__ == "__main__":
    main()
