"""One reconstruction for bench.pipeline, in its own process: `raw` (pycolmap alone) or
`pipeline` (every stage of pipeline.reconstruct.run). Prints what it measured as JSON."""

import json
import sys
import time
from pathlib import Path


def raw(photos: Path, workdir: Path) -> dict:
    import pycolmap

    workdir.mkdir(parents=True)
    database = workdir / "database.db"
    started = time.perf_counter()
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = "SIMPLE_RADIAL"
    pycolmap.extract_features(
        database,
        photos,
        camera_mode=pycolmap.CameraMode.SINGLE,
        reader_options=reader,
        device=pycolmap.Device.cpu,
    )
    pycolmap.match_exhaustive(database, device=pycolmap.Device.cpu)
    models = pycolmap.incremental_mapping(database, photos, workdir / "sparse")
    seconds = time.perf_counter() - started
    best = max(models.values(), key=lambda model: model.num_reg_images(), default=None)
    return {
        "seconds": seconds,
        "registered": best.num_reg_images() if best else 0,
        "points": best.num_points3D() if best else 0,
    }


def pipeline(photos: Path, workdir: Path) -> dict:
    from pipeline import reconstruct

    paths = sorted(photos.iterdir())
    started = time.perf_counter()
    result = reconstruct.run(paths, workdir)
    return {
        "seconds": time.perf_counter() - started,
        "registered": result.registered,
        "points": result.points,
        "triangles": result.triangles,
        "timings": result.timings,
    }


if __name__ == "__main__":
    kind, photos, workdir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    measured = {"raw": raw, "pipeline": pipeline}[kind](photos, workdir)
    print(json.dumps(measured))
