"""Photos in, a coloured 3D model out: the reconstruction core of the photo-to-3D pipeline.

`run` takes the photos staff took while walking around an object and goes through six stages:

- prepare: decode each photo (JPEG, PNG, WebP, HEIC), turn it upright from its EXIF orientation,
  scale it down and write it as `images/0001.jpg`, ... in the order given. Copies of a photo
  already seen are dropped: they add no viewpoint.
- features: SIFT features with pycolmap, on the CPU, one camera shared by all photos (one phone).
- matching: every pair of photos up to `Options.exhaustive_up_to` photos; above that each photo
  is paired with its next neighbours in the order taken, around the loop (a walk-around ends
  where it began), which closes the loop without a vocabulary tree (none is available offline).
- sparse: incremental structure from motion; the largest model is kept.
- mesh: Poisson surface reconstruction (open3d) of the points around the object, coloured from
  the points; a convex hull (trimesh) when open3d is missing or Poisson fails.
- export: a `.glb` (vertex colours) for `<model-viewer>`, a `.ply` of the points and a PNG
  preview drawn in software (no GPU or display needed).

The model is turned so that up (from the way the photos were held) is +Y, as glTF expects, and
the first photo was taken from +Z, where `<model-viewer>` starts; it is centred on the point the
photos look at and scaled to 1 unit across: photos alone cannot tell the real size.

Everything written lives in `workdir`: `images/`, `database.db`, `pairs.txt`, `sparse/`,
`model.glb`, `points.ply`, `preview.png`; these are replaced when `run` starts, anything else
is left alone.
This module does not use Django: progress and cancellation go through the callables given.
"""

import hashlib
import json
import logging
import math
import os
import shutil
import struct
import time

# pycolmap's extension exports its own copy of zlib's functions. If pycolmap is what first loads
# the system libz, libz's internal calls bind to that copy and Pillow's PNG encoder corrupts the
# heap (a crash or a hang). Loading libz first prevents it; numpy happens to load it too
# (through OpenBLAS), but nothing promises that.
import zlib  # noqa: F401
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import pillow_heif
import pycolmap
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

# open3d (meshing), and trimesh with scipy (the fallback mesh only), are imported when needed,
# after pycolmap's work: loaded from the start, they would add to pycolmap's peak memory.

logger = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

STAGES = ("prepare", "features", "matching", "sparse", "mesh", "export")

# Overall percent at the start and at the end of each stage, by the time stages typically take.
STAGE_PERCENT = {
    "prepare": (0, 2),
    "features": (2, 33),
    "matching": (33, 66),
    "sparse": (66, 95),
    "mesh": (95, 99),
    "export": (99, 100),
}

IMAGES_DIR = "images"
DATABASE = "database.db"
PAIRS_FILE = "pairs.txt"
SPARSE_DIR = "sparse"
MODEL_FILE = "model.glb"
POINTS_FILE = "points.ply"
PREVIEW_FILE = "preview.png"
PREVIEW_SIZE = (640, 480)
PREPARED_JPEG_QUALITY = 95

# Matching a large set pairs each photo with this many next ones, plus those 16, 32... away.
SEQUENTIAL_OVERLAP = 10
# Feature extraction (and matching of large sets) run in slices so that progress moves and
# cancelling is prompt.
FEATURE_SLICES = 10
MATCHING_SLICES = 10
MIN_PAIRS_PER_SLICE = 300
# The object is taken to be within this share of the cameras' horizontal distance from the
# point they look at; farther points are the room around it.
CROP_RADIUS_RATIO = 0.5
# Poisson extrapolates surface where there are no points; vertices supported by the fewest
# points (this share) are cut away. Sparse points cover an object unevenly, so the share is
# small: more would cut holes where a face was seen at a glancing angle.
DENSITY_QUANTILE = 0.03
NORMAL_NEIGHBOURS = 20


@dataclass(frozen=True)
class Options:
    """How a reconstruction is run; the defaults suit 20-100 phone photos."""

    max_side: int = 1600  # photos are downscaled so their longer side is at most this
    # Exhaustive matching up to this many photos, sequential (neighbours in the loop) above.
    exhaustive_up_to: int = 60
    min_registered: int = 3  # an absolute floor
    min_registered_ratio: float = 0.5  # fewer placed than this share of the photos fails
    min_points: int = 500
    poisson_depth: int = 8  # at most; fewer points get a coarser octree
    threads: int = -1  # pycolmap and open3d threads; -1 uses every core


class FailureCode(StrEnum):
    """Why a reconstruction failed, for programs (the message is for people)."""

    TOO_FEW_PHOTOS = "too_few_photos"
    UNREADABLE_PHOTO = "unreadable_photo"
    NOT_MATCHED = "not_matched"
    TOO_FEW_PLACED = "too_few_placed"
    TOO_FEW_POINTS = "too_few_points"
    NO_SURFACE = "no_surface"
    ENGINE_ERROR = "engine_error"


class ReconstructionFailed(Exception):
    """The photos cannot make a model. `message` is shown to staff, `code` is a FailureCode."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class Cancelled(Exception):
    """`should_stop` asked for the reconstruction to stop."""


@dataclass
class Result:
    photos: int  # distinct photos reconstructed from (copies of a photo are dropped)
    registered: int  # photos placed in the model
    points: int  # 3D points of the sparse model
    mean_reprojection_error: float  # pixels
    triangles: int
    glb: Path
    ply: Path
    preview: Path
    timings: dict[str, float]  # seconds per stage
    mesh_method: str  # "poisson" or "convex_hull"


@dataclass(frozen=True)
class _Mesh:
    vertices: np.ndarray  # (V, 3) float
    faces: np.ndarray  # (F, 3) int
    colours: np.ndarray  # (V, 3) uint8
    method: str


@dataclass(frozen=True)
class _Scene:
    """The sparse model in the output frame: +Y up, the first photo taken from +Z, centred on
    the point the photos look at, the object 1 unit across."""

    points: np.ndarray  # (N, 3) every 3D point
    colours: np.ndarray  # (N, 3) uint8
    towards_cameras: np.ndarray  # (N, 3) unit vectors from each point to the cameras seeing it
    object_mask: np.ndarray  # (N,) bool: the points that belong to the object


class _Progress:
    """Reports overall percent to the caller, once per change, and checks for cancellation."""

    def __init__(self, report: Callable[[str, int], None], should_stop: Callable[[], bool]):
        self._report = report
        self._should_stop = should_stop
        self._last: tuple[str, int] | None = None

    def at(self, stage: str, fraction: float) -> None:
        """Report that `stage` is `fraction` (0-1) done."""
        start, end = STAGE_PERCENT[stage]
        percent = round(start + (end - start) * min(max(fraction, 0.0), 1.0))
        if (stage, percent) != self._last:
            self._last = (stage, percent)
            self._report(stage, percent)

    def stop_requested(self) -> bool:
        return self._should_stop()

    def check(self) -> None:
        if self.stop_requested():
            raise Cancelled


def run(
    photos: list[Path],
    workdir: Path,
    *,
    options: Options = Options(),
    progress: Callable[[str, int], None] = lambda stage, percent: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Result:
    """Reconstruct a coloured model from `photos` (in the order they were taken) in `workdir`.

    Raises ReconstructionFailed with a message for staff when the photos cannot make a model,
    and Cancelled once `should_stop()` is True: it is asked between stages, between slices of
    feature extraction (and of matching a large set) and between photos placed. `progress(stage,
    percent)` is called when each stage starts and ends and in between, with the overall
    percent; the last call is ("export", 100). Both are called in the calling thread.
    """
    tracker = _Progress(progress, should_stop)
    timings: dict[str, float] = {}
    minimum = max(options.min_registered, 2)
    if len(photos) < minimum:
        raise ReconstructionFailed(
            f"A model needs at least {minimum} photos and {len(photos)} were given. Take 20 to "
            "100 photos all around the object, each overlapping the one before.",
            FailureCode.TOO_FEW_PHOTOS,
        )
    workdir.mkdir(parents=True, exist_ok=True)
    images = workdir / IMAGES_DIR
    if any(images.resolve() in photo.resolve().parents for photo in photos):
        raise ValueError(f"The photos must not be inside {images}: it is rebuilt by each run.")
    _clear_outputs(workdir)
    database = workdir / DATABASE

    with _stage("prepare", tracker, timings):
        prepared = prepare(photos, images, options.max_side)
        if len(prepared) < minimum:
            raise ReconstructionFailed(
                "The photos could not be matched to each other: "
                f"{len(photos) - len(prepared)} of the {len(photos)} photos are copies of "
                "another one, and a model needs photos taken from different places. Walk "
                "around the object and take a photo every step or two.",
                FailureCode.NOT_MATCHED,
            )
        logger.info("Prepared %d photos (%d given) in %s", len(prepared), len(photos), images)

    with _stage("features", tracker, timings), _engine_errors():
        _extract_features(database, images, [path.name for path in prepared], options, tracker)

    with _stage("matching", tracker, timings), _engine_errors():
        _match(database, [path.name for path in prepared], options, tracker)
        _require_matches(database, len(prepared))

    with _stage("sparse", tracker, timings):
        reconstruction = _map(database, images, workdir / SPARSE_DIR, options, tracker)
        registered = reconstruction.num_reg_images()
        points = reconstruction.num_points3D()
        error = reconstruction.compute_mean_reprojection_error()
        logger.info(
            "Placed %d of %d photos, %d points, mean reprojection error %.2f px",
            registered,
            len(prepared),
            points,
            error,
        )
        _require_enough(registered, points, len(prepared), options)

    with _stage("mesh", tracker, timings):
        scene = _scene(reconstruction)
        mesh = _mesh(scene, options)
        logger.info("Meshed %d triangles by %s", len(mesh.faces), mesh.method)

    with _stage("export", tracker, timings):
        glb, ply, preview = workdir / MODEL_FILE, workdir / POINTS_FILE, workdir / PREVIEW_FILE
        _export_glb(mesh, glb)
        _export_points(scene, ply)
        _render_preview(mesh.vertices, mesh.faces, mesh.colours, preview)

    return Result(
        photos=len(prepared),
        registered=registered,
        points=points,
        mean_reprojection_error=float(error),
        triangles=len(mesh.faces),
        glb=glb,
        ply=ply,
        preview=preview,
        timings=timings,
        mesh_method=mesh.method,
    )


@contextmanager
def _stage(name: str, tracker: _Progress, timings: dict[str, float]) -> Iterator[None]:
    tracker.check()
    tracker.at(name, 0.0)
    started = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - started
    logger.info("Stage %s took %.1f s", name, timings[name])
    tracker.at(name, 1.0)


@contextmanager
def _engine_errors() -> Iterator[None]:
    """Turn pycolmap's failures into ReconstructionFailed, and its cancellation into Cancelled.

    pycolmap raises RuntimeError or ValueError (from C++) when it fails. Other exceptions, such
    as those of the caller's callbacks or a worker's time limit, pass through unchanged.
    """
    try:
        yield
    except InterruptedError as interrupted:
        raise Cancelled from interrupted
    except (RuntimeError, ValueError) as error:
        logger.exception("pycolmap failed")
        raise ReconstructionFailed(
            f"The reconstruction engine failed ({error}). Try again; if it fails again, take "
            "the photos anew.",
            FailureCode.ENGINE_ERROR,
        ) from error


def _clear_outputs(workdir: Path) -> None:
    """Remove what an earlier run (a retried job) left, so that it cannot mix with this one."""
    for folder in (IMAGES_DIR, SPARSE_DIR):
        shutil.rmtree(workdir / folder, ignore_errors=True)
    for name in (DATABASE, PAIRS_FILE, MODEL_FILE, POINTS_FILE, PREVIEW_FILE):
        (workdir / name).unlink(missing_ok=True)


def prepare(photos: list[Path], folder: Path, max_side: int) -> list[Path]:
    """Write each photo upright, in RGB, at most `max_side` pixels long, as `folder/0001.jpg`...

    Names follow the order of `photos`, which sequential matching relies on. A photo whose
    pixels equal an earlier one's is skipped. EXIF (focal length, camera model) is kept because
    pycolmap reads its first guess of the focal length from it. Raises ReconstructionFailed
    naming the file when a photo cannot be decoded.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    seen: set[bytes] = set()
    for photo in photos:
        try:
            image = _load_upright(photo, max_side)
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError, SyntaxError) as e:
            raise ReconstructionFailed(
                f"The photo {photo.name} could not be read ({e}). Upload it again as a JPEG, "
                "PNG, WebP or HEIC photo, or leave it out.",
                FailureCode.UNREADABLE_PHOTO,
            ) from e
        fingerprint = hashlib.blake2b(image.tobytes(), digest_size=16).digest()
        if fingerprint in seen:
            logger.info("Skipped %s: a copy of an earlier photo", photo.name)
            continue
        seen.add(fingerprint)
        target = folder / f"{len(written) + 1:04d}.jpg"
        image.save(target, "JPEG", quality=PREPARED_JPEG_QUALITY, exif=image.getexif())
        written.append(target)
    return written


def _load_upright(photo: Path, max_side: int) -> Image.Image:
    with Image.open(photo) as opened:
        # Let JPEG decode at a reduced scale when the photo is much larger than needed.
        scale = max_side / max(opened.size)
        if scale < 1:
            opened.draft("RGB", (math.ceil(opened.width * scale), math.ceil(opened.height * scale)))
        image = ImageOps.exif_transpose(opened)
        image.load()
    image = image.convert("RGB") if image.mode != "RGB" else image
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def _extract_features(
    database: Path, images: Path, names: list[str], options: Options, tracker: _Progress
) -> None:
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.num_threads = options.threads
    extraction.max_image_size = options.max_side
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = "SIMPLE_RADIAL"
    per_slice = max(8, 2 * (os.cpu_count() or 1), math.ceil(len(names) / FEATURE_SLICES))
    for start in range(0, len(names), per_slice):
        tracker.check()
        pycolmap.extract_features(
            database,
            images,
            image_names=names[start : start + per_slice],
            camera_mode=pycolmap.CameraMode.SINGLE,
            reader_options=reader,
            extraction_options=extraction,
            device=pycolmap.Device.cpu,
        )
        if start == 0:
            # Later slices join the camera the first one made: one phone, one camera.
            with _open_database(database) as db:
                reader.existing_camera_id = db.read_all_cameras()[0].camera_id
        tracker.at("features", (start + per_slice) / len(names))


def loop_pairs(names: list[str]) -> list[tuple[str, str]]:
    """The photo pairs to match in a large walk-around, `names` in the order taken.

    Each photo is paired with the next SEQUENTIAL_OVERLAP photos and with those 16, 32, 64...
    places on, counting around the loop so that the last photos meet the first ones.
    """
    count = len(names)
    steps = set(range(1, SEQUENTIAL_OVERLAP + 1))
    steps |= {2**power for power in range(count.bit_length()) if 2**power < count}
    pairs = {
        tuple(sorted((first, (first + step) % count)))
        for first in range(count)
        for step in steps
        if step <= count // 2
    }
    return [(names[first], names[second]) for first, second in sorted(pairs)]


def _match(database: Path, names: list[str], options: Options, tracker: _Progress) -> None:
    """Every pair up to `exhaustive_up_to` photos (one pycolmap call), loop neighbours above
    (in slices, so that progress moves and cancelling is prompt)."""
    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = options.threads
    verification = pycolmap.TwoViewGeometryOptions()
    # Matches that do not move between two photos (a burst from one spot, a watermark) carry
    # no depth and would mislead the mapper.
    verification.filter_stationary_matches = True
    if len(names) <= options.exhaustive_up_to:
        logger.info("Matching all %d pairs of %d photos", math.comb(len(names), 2), len(names))
        pycolmap.match_exhaustive(
            database,
            matching_options=matching,
            verification_options=verification,
            device=pycolmap.Device.cpu,
        )
        return

    pairs = loop_pairs(names)
    logger.info("Matching %d pairs of neighbours among %d photos", len(pairs), len(names))
    pairing = pycolmap.ImportedPairingOptions()
    pairing.match_list_path = str(database.with_name(PAIRS_FILE))
    per_slice = max(MIN_PAIRS_PER_SLICE, math.ceil(len(pairs) / MATCHING_SLICES))
    for start in range(0, len(pairs), per_slice):
        tracker.check()
        Path(pairing.match_list_path).write_text(
            "".join(f"{first} {second}\n" for first, second in pairs[start : start + per_slice])
        )
        pycolmap.match_image_pairs(
            database,
            matching_options=matching,
            pairing_options=pairing,
            verification_options=verification,
            device=pycolmap.Device.cpu,
        )
        tracker.at("matching", (start + per_slice) / len(pairs))


def _require_matches(database: Path, photos: int) -> None:
    """Fail early, with advice, when no two photos share enough to be placed together."""
    with _open_database(database) as db:
        _, inliers = db.read_two_view_geometry_num_inliers()
    minimum = pycolmap.IncrementalPipelineOptions().min_num_matches
    matched = sum(1 for count in inliers if count >= minimum)
    logger.info("%d photo pairs share at least %d verified matches", matched, minimum)
    if not matched:
        raise ReconstructionFailed(
            f"The photos could not be matched to each other: none of the {photos} photos shares "
            "enough detail with another. Take the photos one step apart so that each overlaps "
            "the one before by about two thirds, in even light, with the object filling most "
            "of the frame.",
            FailureCode.NOT_MATCHED,
        )


@contextmanager
def _open_database(database: Path) -> Iterator[pycolmap.Database]:
    db = pycolmap.Database.open(database)
    try:
        yield db
    finally:
        db.close()


def _map(
    database: Path, images: Path, output: Path, options: Options, tracker: _Progress
) -> pycolmap.Reconstruction:
    """The largest model incremental mapping builds, or ReconstructionFailed if there is none."""
    output.mkdir(parents=True, exist_ok=True)
    with _open_database(database) as db:
        photos = db.num_images()
    mapping = pycolmap.IncrementalPipelineOptions()
    mapping.num_threads = options.threads
    mapping.min_model_size = options.min_registered
    mapping.random_seed = 0
    token = pycolmap.CancellationToken()
    attempts = 0

    def next_image() -> None:
        # Runs in this thread between images, so `should_stop` is called where it expects.
        nonlocal attempts
        attempts += 1
        tracker.at("sparse", attempts / photos)
        if tracker.stop_requested():
            token.cancel()

    with _engine_errors():
        models = pycolmap.incremental_mapping(
            database,
            images,
            output,
            options=mapping,
            next_image_callback=next_image,
            cancellation_token=token,
        )
    if not models:
        raise ReconstructionFailed(
            f"The photos could not be matched to each other: no two of the {photos} photos "
            "could be placed together. Photos taken from one spot cannot show depth: walk "
            "around the object, a step between photos, each overlapping the one before.",
            FailureCode.NOT_MATCHED,
        )
    return max(models.values(), key=lambda model: model.num_reg_images())


def _require_enough(registered: int, points: int, photos: int, options: Options) -> None:
    needed = max(options.min_registered, math.ceil(options.min_registered_ratio * photos))
    if registered < needed:
        raise ReconstructionFailed(
            f"Only {registered} of {photos} photos could be placed: take more overlapping "
            "photos with even light, one step apart, all around the object.",
            FailureCode.TOO_FEW_PLACED,
        )
    if points < options.min_points:
        raise ReconstructionFailed(
            f"Only {points} points of the object's surface were found ({options.min_points} "
            "are needed). Fill the frame with the object, use even light without glare, and "
            "place it in front of a background with some detail.",
            FailureCode.TOO_FEW_POINTS,
        )


def _scene(reconstruction: pycolmap.Reconstruction) -> _Scene:
    """The sparse model turned into the output frame, with the object's points picked out."""
    image_ids = sorted(reconstruction.reg_image_ids(), key=lambda i: reconstruction.images[i].name)
    camera_index = {image_id: index for index, image_id in enumerate(image_ids)}
    centres, downs, axes = [], [], []
    for image_id in image_ids:
        image = reconstruction.images[image_id]
        rotation = image.cam_from_world().rotation.matrix()
        centres.append(image.projection_center())
        downs.append(rotation[1])  # the camera's y axis points down the photo
        axes.append(rotation[2])  # its z axis is the viewing direction
    camera_centres = np.array(centres)
    target = _looked_at(camera_centres, np.array(axes))
    up = _up_direction(camera_centres, -np.mean(downs, axis=0))
    rotation = _rotation_to_y_up(up)
    # Then about +Y, to put the first photo's camera on +Z, where a glTF viewer starts from.
    first = rotation @ (camera_centres[0] - target)
    azimuth = math.atan2(first[0], first[2])
    cosine, sine = math.cos(azimuth), math.sin(azimuth)
    rotation = np.array([[cosine, 0.0, -sine], [0.0, 1.0, 0.0], [sine, 0.0, cosine]]) @ rotation

    count = reconstruction.num_points3D()
    points = np.empty((count, 3))
    colours = np.empty((count, 3), dtype=np.uint8)
    observer_rows: list[int] = []
    observers: list[int] = []
    for row, point in enumerate(reconstruction.points3D.values()):
        points[row], colours[row] = point.xyz, point.color
        for element in point.track.elements:
            observer_rows.append(row)
            observers.append(camera_index[element.image_id])
    rays = camera_centres[observers] - points[observer_rows]
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    towards = np.zeros((count, 3))
    np.add.at(towards, observer_rows, rays)
    towards = towards @ rotation.T
    towards /= np.maximum(np.linalg.norm(towards, axis=1, keepdims=True), 1e-12)

    points = (points - target) @ rotation.T
    cameras = (camera_centres - target) @ rotation.T
    horizontal = np.linalg.norm(cameras[:, [0, 2]], axis=1)
    radius = CROP_RADIUS_RATIO * float(np.median(horizontal))
    object_mask = np.linalg.norm(points[:, [0, 2]], axis=1) <= radius
    if object_mask.sum() < 0.2 * len(points):
        # The cameras do not circle one spot (a sweep along a shelf, say): keep every point.
        logger.info("The photos do not circle one object: the model keeps every point")
        object_mask[:] = True

    kept = points[object_mask]
    low, high = np.percentile(kept, 2, axis=0), np.percentile(kept, 98, axis=0)
    scale = 1.0 / max(float((high - low).max()), 1e-9)
    return _Scene(
        points=points * scale,
        colours=colours,
        towards_cameras=towards,
        object_mask=object_mask,
    )


def _looked_at(centres: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """The point nearest to every camera's line of sight (least squares)."""
    projectors = np.eye(3) - axes[:, :, None] * axes[:, None, :]
    matrix = projectors.sum(axis=0)
    if np.linalg.cond(matrix) > 1e6:  # all lines of sight parallel
        return centres.mean(axis=0) + axes.mean(axis=0)
    return np.linalg.solve(matrix, np.einsum("nij,nj->i", projectors, centres))


def _up_direction(centres: np.ndarray, mean_up: np.ndarray) -> np.ndarray:
    """Up, from the cameras: the normal of the circle they were carried around when they make
    one, otherwise the average of the photos' own up directions."""
    mean_up = mean_up / np.linalg.norm(mean_up)
    if len(centres) >= 4:
        spread = centres - centres.mean(axis=0)
        _, singular, directions = np.linalg.svd(spread, full_matrices=False)
        if singular[2] < 0.35 * singular[1]:
            normal = directions[2]
            return normal if normal @ mean_up >= 0 else -normal
    return mean_up


def _rotation_to_y_up(up: np.ndarray) -> np.ndarray:
    """The rotation taking `up` to +Y (the shortest one)."""
    target = np.array([0.0, 1.0, 0.0])
    axis = np.cross(up, target)
    sine, cosine = np.linalg.norm(axis), float(up @ target)
    if sine < 1e-9:
        return np.eye(3) if cosine > 0 else np.diag([1.0, -1.0, -1.0])
    axis /= sine
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + sine * cross + (1 - cosine) * cross @ cross


def _mesh(scene: _Scene, options: Options) -> _Mesh:
    points = scene.points[scene.object_mask]
    colours = scene.colours[scene.object_mask]
    towards = scene.towards_cameras[scene.object_mask]
    try:
        mesh = _poisson(points, colours, towards, options)
    except ImportError as error:
        logger.warning("open3d is not available (%s): the model is a convex hull", error)
    else:
        if mesh is not None:
            return mesh
        logger.warning("Poisson reconstruction made no surface: the model is a convex hull")
    return _convex_hull(points, colours)


def _poisson(
    points: np.ndarray, colours: np.ndarray, towards: np.ndarray, options: Options
) -> _Mesh | None:
    """Screened Poisson surface of the points, trimmed to where points support it; None if it
    leaves no surface. Raises ImportError when open3d (or its libusb) is missing."""
    try:
        import open3d as o3d
    except OSError as error:  # a missing shared library
        raise ImportError(str(error)) from error

    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    cloud.colors = o3d.utility.Vector3dVector(colours / 255.0)
    cloud, kept = cloud.remove_statistical_outlier(nb_neighbors=NORMAL_NEIGHBOURS, std_ratio=2.5)
    cloud.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(NORMAL_NEIGHBOURS))
    # A surface faces the cameras that saw it: that orients normals without a costly search.
    normals = np.array(cloud.normals)
    facing = np.sign(np.einsum("ij,ij->i", normals, towards[kept]))
    cloud.normals = o3d.utility.Vector3dVector(normals * np.where(facing == 0, 1, facing)[:, None])

    # A surface of N points has about sqrt(N) of them across: an octree much finer than that
    # adds time, not detail.
    depth = min(options.poisson_depth, math.ceil(math.log2(max(len(cloud.points), 2)) / 2) + 1)
    try:
        mesh, densities = o3d.geometry.TriangleMesh.create_from_point_cloud_poisson(
            cloud, depth=depth, n_threads=options.threads
        )
    except RuntimeError:
        logger.exception("Poisson reconstruction failed")
        return None
    densities = np.array(densities)
    if not len(densities):
        return None
    mesh.remove_vertices_by_mask(densities < np.quantile(densities, DENSITY_QUANTILE))
    bounds = cloud.get_axis_aligned_bounding_box()
    mesh = mesh.crop(bounds.scale(1.05, bounds.get_center()))
    mesh.remove_unreferenced_vertices()
    if len(mesh.triangles) == 0:
        return None
    # np.array copies: the arrays outlive the open3d mesh they come from.
    return _Mesh(
        vertices=np.array(mesh.vertices, dtype=np.float64),
        faces=np.array(mesh.triangles, dtype=np.int64),
        colours=(np.clip(np.array(mesh.vertex_colors), 0, 1) * 255).round().astype(np.uint8),
        method="poisson",
    )


def _convex_hull(points: np.ndarray, colours: np.ndarray) -> _Mesh:
    """The convex hull of the points, each corner coloured like the point nearest to it."""
    import trimesh
    from scipy.spatial import QhullError, cKDTree

    try:
        hull = trimesh.PointCloud(points).convex_hull
    except (QhullError, ValueError) as error:  # flat, or fewer than four points
        raise ReconstructionFailed(
            "No surface could be built from the points found: they lie flat or are too few. "
            "Take photos all around the object, from a little above and below as well.",
            FailureCode.NO_SURFACE,
        ) from error
    _, nearest = cKDTree(points).query(hull.vertices)
    return _Mesh(
        vertices=np.asarray(hull.vertices),
        faces=np.asarray(hull.faces),
        colours=colours[nearest],
        method="convex_hull",
    )


def _export_glb(mesh: _Mesh, path: Path) -> None:
    """Write the mesh as binary glTF: positions, RGBA vertex colours (COLOR_0), indices and a
    matte material.

    Written directly rather than through trimesh: importing trimesh (and the scipy and networkx
    it pulls in) costs more memory and time than the whole export.
    """
    positions = mesh.vertices.astype("<f4")
    colours = np.hstack([mesh.colours, np.full((len(mesh.colours), 1), 255, np.uint8)])
    indices = mesh.faces.astype("<u4")
    blobs = [positions.tobytes(), colours.tobytes(), indices.tobytes()]
    offsets = np.cumsum([0] + [len(blob) for blob in blobs])  # each a multiple of 4
    views = [
        {"buffer": 0, "byteOffset": int(offset), "byteLength": len(blob), "target": target}
        for offset, blob, target in zip(offsets[:-1], blobs, (34962, 34962, 34963), strict=True)
    ]
    document = {
        "asset": {"version": "2.0", "generator": "pipeline.reconstruct"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [
            {
                "primitives": [
                    {
                        "attributes": {"POSITION": 0, "COLOR_0": 1},
                        "indices": 2,
                        "material": 0,
                        "mode": 4,
                    }
                ]
            }
        ],
        # Without a material, viewers use glTF's default: fully metallic, which shows the
        # colours dark. A matte, two-sided surface looks like the object photographed.
        "materials": [
            {
                "pbrMetallicRoughness": {
                    "baseColorFactor": [1.0, 1.0, 1.0, 1.0],
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.9,
                },
                "doubleSided": True,
            }
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,  # float
                "count": len(positions),
                "type": "VEC3",
                "min": positions.min(axis=0).tolist(),
                "max": positions.max(axis=0).tolist(),
            },
            {
                "bufferView": 1,
                "componentType": 5121,  # unsigned byte
                "normalized": True,
                "count": len(colours),
                "type": "VEC4",
            },
            {
                "bufferView": 2,
                "componentType": 5125,  # unsigned int
                "count": indices.size,
                "type": "SCALAR",
            },
        ],
        "bufferViews": views,
        "buffers": [{"byteLength": int(offsets[-1])}],
    }
    text = json.dumps(document, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    binary = b"".join(blobs)
    chunks = [
        struct.pack("<II", len(text), 0x4E4F534A) + text,  # "JSON"
        struct.pack("<II", len(binary), 0x004E4942) + binary,  # "BIN\0"
    ]
    total = 12 + sum(len(chunk) for chunk in chunks)
    path.write_bytes(struct.pack("<III", 0x46546C67, 2, total) + b"".join(chunks))  # "glTF"


def _export_points(scene: _Scene, path: Path) -> None:
    """Write every point with its colour as a binary PLY."""
    vertex = np.dtype([("xyz", "<f4", 3), ("rgb", "u1", 3)])
    rows = np.empty(len(scene.points), dtype=vertex)
    rows["xyz"], rows["rgb"] = scene.points, scene.colours
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {len(rows)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\n"
        "end_header\n"
    )
    path.write_bytes(header.encode() + rows.tobytes())


def _render_preview(
    vertices: np.ndarray,
    faces: np.ndarray,
    colours: np.ndarray,
    path: Path,
    size: tuple[int, int] = PREVIEW_SIZE,
) -> None:
    """Draw the coloured mesh (+Y up) seen from the front (+Z) turned 35 degrees, from 25
    degrees above, as a PNG, in software.

    Triangles are painted back to front (painter's algorithm), each flat-shaded with its
    corners' mean colour and a light from the viewer's upper left.
    """
    width, height = size
    centre = (vertices.min(axis=0) + vertices.max(axis=0)) / 2
    radius = max(float(np.linalg.norm(vertices - centre, axis=1).max()), 1e-9)
    azimuth = math.radians(35)
    elevation = math.radians(25)
    direction = np.array(
        [
            math.cos(elevation) * math.sin(azimuth),
            math.sin(elevation),
            math.cos(elevation) * math.cos(azimuth),
        ]
    )
    eye = centre + 3 * radius * direction
    backward = direction
    right = np.cross([0.0, 1.0, 0.0], backward)
    right /= np.linalg.norm(right)
    upward = np.cross(backward, right)

    relative = vertices - eye
    depth = -(relative @ backward)  # distance in front of the eye
    projected = np.stack([relative @ right, relative @ upward], axis=1) / depth[:, None]
    low, high = projected.min(axis=0), projected.max(axis=0)
    fit = 0.9 * min(width / max(high[0] - low[0], 1e-9), height / max(high[1] - low[1], 1e-9))
    middle = (low + high) / 2
    screen = np.empty_like(projected)
    screen[:, 0] = width / 2 + (projected[:, 0] - middle[0]) * fit
    screen[:, 1] = height / 2 - (projected[:, 1] - middle[1]) * fit

    corners = vertices[faces]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    light = backward + 0.6 * upward - 0.5 * right
    light /= np.linalg.norm(light)
    # Open meshes show both sides of a surface: light either side alike.
    shade = 0.45 + 0.55 * np.abs(normals @ light)
    face_colours = (colours[faces].mean(axis=1) * shade[:, None]).clip(0, 255).astype(np.uint8)
    order = np.argsort(-depth[faces].mean(axis=1))

    image = Image.new("RGB", size, (236, 238, 240))
    draw = ImageDraw.Draw(image)
    triangles = screen[faces]
    for index in order:
        draw.polygon(
            [tuple(corner) for corner in triangles[index]], fill=tuple(face_colours[index])
        )
    image.save(path, "PNG")
