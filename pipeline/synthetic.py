"""Synthetic photo sets for testing and benchmarking the reconstruction without a camera.

`make_photos` ray-traces (in numpy) a small still life standing on a ground plane: a plinth with
a block and a ball on it, every surface covered with a random, non-repeating texture of coloured
noise and blobs, the kind of texture that feature matching needs. The cameras walk once around
the object on a circle, looking at it from slightly varying heights, the way staff photograph a
plant. The same seed always gives the same pixels.

The camera is a pinhole whose focal length is `FOCAL_FACTOR` times the longer image side, which is
exactly what the reconstruction assumes for photos without EXIF data, so no EXIF is written.

`make_noise_photos` and `copies_of_one_photo` make the sets that must fail: photos with nothing
in common, and one photo many times over (no two viewpoints, so no depth).
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

FOCAL_FACTOR = 1.2
JPEG_QUALITY = 92

# The scene, in metres-like units with z up; the object stands around the origin.
GROUND_HALF_SIZE = 4.0
PLINTH = ((-0.75, -0.75, 0.0), (0.75, 0.75, 0.3))
BLOCK = ((-0.55, -0.45, 0.3), (0.05, 0.25, 1.1))
BALL_CENTRE, BALL_RADIUS = np.array([0.35, 0.3, 0.72], dtype=np.float32), 0.42
LOOK_AT = np.array([0.0, 0.0, 0.5])
ORBIT_RADIUS = 3.6
ORBIT_ELEVATION_DEG = 35.0
LIGHT = (np.array([0.4, -0.5, 0.77]) / np.linalg.norm([0.4, -0.5, 0.77])).astype(np.float32)
SKY = np.array([200.0, 215.0, 235.0], dtype=np.float32)
TEXTURE_SIZE = 512
BALL_TEXTURE_SIZE = 1024
GROUND_TEXTURE_SIZE = 2048
# The ground is earth-coloured so that the colourful object stands out in the model.
GROUND_TINT = ((45, 35, 25), (235, 220, 190))
# Texture detail, in texels: noise octaves (feature size, weight), blob density and radii.
NOISE_OCTAVES = ((256, 0.5), (64, 0.5), (16, 0.5), (5, 0.35))
BLOBS_PER_TEXEL = 1 / 120
BLOB_RADII = (1.5, 20.0)


_SKY, _GROUND, _PLINTH, _BLOCK, _BALL = range(5)


@dataclass(frozen=True)
class _Scene:
    # Textures hold packed RGBA texels (uint32).
    ground: np.ndarray  # (S, S) over the ground square
    faces: np.ndarray  # (12, T, T): six faces of the plinth, then six of the block
    ball: np.ndarray  # (B, B): longitude/latitude texture of the ball


def make_photos(
    folder: Path,
    count: int = 12,
    size: tuple[int, int] = (640, 480),
    seed: int = 0,
    *,
    fmt: str = "JPEG",
) -> list[Path]:
    """Render `count` photos of the synthetic object from an orbit around it into `folder`.

    `size` is (width, height). `fmt` is a Pillow format name ("JPEG", "PNG"...); the file
    extension follows it. Returns the paths in the order they were taken.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    scene = _Scene(
        ground=_texture(rng, GROUND_TEXTURE_SIZE, tint=GROUND_TINT),
        faces=np.stack([_texture(rng, TEXTURE_SIZE) for _ in range(12)]),
        ball=_texture(rng, BALL_TEXTURE_SIZE),
    )
    extension = "jpg" if fmt.upper() == "JPEG" else fmt.lower()
    paths = [folder / f"photo_{index:03d}.{extension}" for index in range(count)]

    def shoot(index: int) -> None:
        pixels = _render(scene, camera_centre(index, count), size)
        _save(Image.fromarray(pixels), paths[index], fmt)

    # numpy and Pillow release the GIL, so views render in parallel on several cores.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        list(pool.map(shoot, range(count)))
    return paths


def camera_centre(index: int, count: int) -> np.ndarray:
    """Where photo `index` of `count` is taken: evenly around the object, the height varying."""
    azimuth = 2 * np.pi * index / count
    elevation = np.radians(ORBIT_ELEVATION_DEG + 7.0 * np.sin(2 * azimuth))
    return LOOK_AT + ORBIT_RADIUS * np.array(
        [
            np.cos(elevation) * np.cos(azimuth),
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
        ]
    )


def make_noise_photos(
    folder: Path, count: int, size: tuple[int, int] = (640, 480), seed: int = 0
) -> list[Path]:
    """Photos of independent random noise: plenty of features, none shared between photos."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    width, height = size
    paths = []
    for index in range(count):
        pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        path = folder / f"noise_{index:03d}.jpg"
        _save(Image.fromarray(pixels), path, "JPEG")
        paths.append(path)
    return paths


def copies_of_one_photo(folder: Path, count: int) -> list[Path]:
    """The same synthetic photo saved `count` times under different names."""
    folder.mkdir(parents=True, exist_ok=True)
    (original,) = make_photos(folder / "original", count=1)
    content = original.read_bytes()
    paths = []
    for index in range(count):
        path = folder / f"copy_{index:03d}.jpg"
        path.write_bytes(content)
        paths.append(path)
    return paths


def _save(image: Image.Image, path: Path, fmt: str) -> None:
    if fmt.upper() == "JPEG":
        image.save(path, "JPEG", quality=JPEG_QUALITY)
    else:
        image.save(path, fmt)


def _texture(
    rng: np.random.Generator,
    size: int,
    tint: tuple[tuple[int, int, int], tuple[int, int, int]] | None = None,
) -> np.ndarray:
    """Colourful noise at several scales with random blobs and strokes on top.

    Features are found at every scale and a descriptor must be unique to its place, so the
    texture mixes octaves of noise (no period anywhere) with sharp-edged shapes. Sizes are in
    texels, so every texture has the same density of detail. A `tint` (darkest, lightest colour)
    recolours the texture in one hue, keeping its brightness detail (what features are made of).
    """
    base = np.full((size, size, 3), 128.0, dtype=np.float32)
    for feature_texels, weight in NOISE_OCTAVES:
        cells = max(2, size // feature_texels)
        grid = rng.integers(0, 256, (cells, cells, 3), dtype=np.uint8)
        layer = np.asarray(Image.fromarray(grid).resize((size, size), Image.Resampling.BICUBIC))
        base += weight * layer.astype(np.float32)
        base -= weight * 127.5
    base = np.clip(base, 0, 255).astype(np.uint8)
    blobs = int(BLOBS_PER_TEXEL * size * size)
    image = Image.fromarray(base)
    draw = ImageDraw.Draw(image)
    radii = np.exp(rng.uniform(np.log(BLOB_RADII[0]), np.log(BLOB_RADII[1]), blobs))
    x, y = rng.uniform(0, size, (2, blobs))
    end_x, end_y = (x, y) + rng.uniform(-3, 3, (2, blobs)) * radii
    colours = [tuple(colour) for colour in rng.integers(0, 256, (blobs, 3)).tolist()]
    shapes = rng.integers(0, 3, blobs).tolist()
    for x0, y0, x1, y1, radius, colour, shape in zip(
        x.tolist(),
        y.tolist(),
        end_x.tolist(),
        end_y.tolist(),
        radii.tolist(),
        colours,
        shapes,
        strict=True,
    ):
        if shape == 0:
            draw.ellipse((x0 - radius, y0 - radius, x0 + radius, y0 + radius), fill=colour)
        elif shape == 1:
            draw.rectangle((x0 - radius, y0 - radius / 2, x0 + radius, y0 + radius / 2), colour)
        else:
            draw.line(((x0, y0), (x1, y1)), fill=colour, width=max(1, int(radius / 3)))
    # A slight blur keeps the texture smooth enough to look alike from nearby viewpoints.
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    if tint is not None:
        image = ImageOps.colorize(ImageOps.autocontrast(image.convert("L")), *tint)
    rgba = image.convert("RGBA")
    # One 32-bit word per texel: a lookup gathers one number instead of three.
    return np.asarray(rgba).view(np.uint32)[..., 0]


def _render(scene: _Scene, centre: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Ray-trace one view from camera `centre` looking at `LOOK_AT`; (H, W, 3) uint8.

    Every surface is intersected first; each pixel is then textured and shaded once, by the
    nearest surface only.
    """
    width, height = size
    focal = FOCAL_FACTOR * max(width, height)
    forward = LOOK_AT - centre
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)

    u = ((np.arange(width) + 0.5 - width / 2) / focal).astype(np.float32)
    v = ((np.arange(height) + 0.5 - height / 2) / focal).astype(np.float32)
    uu, vv = np.meshgrid(u, v)
    rotation = np.stack([right, down, forward]).astype(np.float32)
    directions = np.stack([uu.ravel(), vv.ravel(), np.ones(uu.size, np.float32)], axis=1)
    directions = directions @ rotation
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    origin = centre.astype(np.float32)

    with np.errstate(divide="ignore", invalid="ignore"):
        t_ground = -origin[2] / directions[:, 2]
    nearest = np.where(directions[:, 2] < 0, t_ground, np.inf).astype(np.float32)
    surface = np.where(np.isfinite(nearest), _GROUND, _SKY)
    box_face = np.zeros(len(directions), dtype=np.int64)

    # Only rays through a shape's bounding sphere can hit it.
    for kind, (low, high) in ((_PLINTH, PLINTH), (_BLOCK, BLOCK)):
        low, high = np.array(low, dtype=np.float32), np.array(high, dtype=np.float32)
        bounds = _intersect_sphere(
            origin, directions, (low + high) / 2, float(np.linalg.norm(high - low)) / 2
        )
        rays = np.flatnonzero(np.isfinite(bounds))
        t_box, face = _intersect_box(origin, directions[rays], low, high)
        closer = t_box < nearest[rays]
        nearest[rays[closer]], surface[rays[closer]] = t_box[closer], kind
        box_face[rays[closer]] = face[closer]
    t_ball = _intersect_sphere(origin, directions, BALL_CENTRE, BALL_RADIUS)
    closer = t_ball < nearest
    nearest[closer], surface[closer] = t_ball[closer], _BALL

    colour = np.empty((len(directions), 3), dtype=np.float32)
    colour[:] = SKY
    for kind in (_GROUND, _PLINTH, _BLOCK, _BALL):
        mine = surface == kind
        points = origin + nearest[mine, None] * directions[mine]
        if kind == _GROUND:
            uv = (points[:, :2] + GROUND_HALF_SIZE) / (2 * GROUND_HALF_SIZE)
            inside = np.all((uv > 0) & (uv < 1), axis=1)
            texel = np.where(inside[:, None], _sample(scene.ground, 0, uv), SKY)
            normal = np.array([0.0, 0.0, 1.0], dtype=np.float32)
        elif kind == _BALL:
            normal = (points - BALL_CENTRE) / BALL_RADIUS
            uv = np.stack(
                [
                    (np.arctan2(normal[:, 1], normal[:, 0]) / (2 * np.pi)) % 1.0,
                    np.arccos(np.clip(normal[:, 2], -1, 1)) / np.pi,
                ],
                axis=1,
            )
            texel = _sample(scene.ball, 0, uv)
        else:
            index = kind - _PLINTH
            low, high = (np.array(corner) for corner in (PLINTH, BLOCK)[index])
            face = box_face[mine]
            uv, normal = _box_face_uv(points, face, low, high)
            texel = _sample(scene.faces, index * 6 + face, uv)
        shade = 0.55 + 0.45 * np.clip(np.atleast_2d(normal) @ LIGHT, 0.0, 1.0)
        colour[mine] = texel * shade.reshape(-1, 1)
    return np.clip(colour, 0, 255).astype(np.uint8).reshape(height, width, 3)


def _intersect_box(
    origin: np.ndarray, directions: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance to an axis-aligned box (inf on a miss) and the face hit, 0-5 for the faces
    facing -x, +x, -y, +y, -z, +z."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = 1.0 / directions
        t_low = (low - origin).astype(np.float32) * inverse
        t_high = (high - origin).astype(np.float32) * inverse
    t_near = np.minimum(t_low, t_high)
    t_far = np.maximum(t_low, t_high)
    entry_axis = np.argmax(t_near, axis=1)
    t_enter = t_near.max(axis=1)
    t_exit = t_far.min(axis=1)
    hit = (t_enter <= t_exit) & (t_enter > 0)
    distance = np.where(hit, t_enter, np.inf)
    entered_from_high = np.take_along_axis(directions, entry_axis[:, None], axis=1)[:, 0] < 0
    face = 2 * entry_axis + entered_from_high
    return distance, face


def _box_face_uv(
    points: np.ndarray, face: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Texture coordinates of points on a box's faces, and the faces' outward normals."""
    # One scale for all faces so that texture detail has the same size everywhere.
    relative = (points - low) / (high - low).max()
    axis = face // 2
    # The two coordinates spanning each face: x -> (y, z), y -> (x, z), z -> (x, y).
    first = np.where(axis == 0, 1, 0)
    second = np.where(axis == 2, 1, 2)
    rows = np.arange(len(points))
    uv = np.stack([relative[rows, first], relative[rows, second]], axis=1)
    normals = np.zeros_like(points)
    normals[rows, axis] = np.where(face % 2 == 1, 1.0, -1.0)
    return np.clip(uv, 0.0, 1.0), normals


def _intersect_sphere(
    origin: np.ndarray, directions: np.ndarray, centre: np.ndarray, radius: float
) -> np.ndarray:
    offset = origin - centre
    b = directions @ offset
    c = offset @ offset - radius**2
    discriminant = b**2 - c
    with np.errstate(invalid="ignore"):
        t = -b - np.sqrt(discriminant)
    return np.where((discriminant >= 0) & (t > 0), t, np.inf)


def _sample(textures: np.ndarray, layer: np.ndarray | int, uv: np.ndarray) -> np.ndarray:
    """Bilinear lookup of (u, v) in [0, 1] in layer `layer` of a stack of (S, S) packed RGBA
    textures (or in the texture itself when `textures` is one (S, S) texture and `layer` 0)."""
    size = textures.shape[-1]
    flat = textures.reshape(-1)
    x = np.clip(uv[:, 0] * (size - 1), 0, size - 1.001).astype(np.float32)
    y = np.clip(uv[:, 1] * (size - 1), 0, size - 1.001).astype(np.float32)
    x0, y0 = x.astype(np.int64), y.astype(np.int64)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    corner = (np.asarray(layer) * size + y0) * size + x0

    def texel(index: np.ndarray) -> np.ndarray:
        return flat[index].view(np.uint8).reshape(-1, 4)[:, :3].astype(np.float32)

    top = texel(corner) * (1 - fx) + texel(corner + 1) * fx
    bottom = texel(corner + size) * (1 - fx) + texel(corner + size + 1) * fx
    return top * (1 - fy) + bottom * fy
