"""The reconstruction core on synthetic photos: a model from a good set, advice for bad sets.

No database: `reconstruct` knows nothing of Django. One reconstruction of twelve photos is shared
by the tests that inspect its results.
"""

import json
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
import trimesh
from PIL import Image

from pipeline import reconstruct, synthetic
from pipeline.reconstruct import Cancelled, FailureCode, Options, ReconstructionFailed

EXIF_ORIENTATION = 0x0112
EXIF_IFD = 0x8769
FOCAL_LENGTH_35MM = 0xA405
ROTATE_90_CLOCKWISE = 6  # the stored pixels must be turned 90 degrees clockwise to be upright


@dataclass
class Reconstruction:
    result: reconstruct.Result
    reports: list[tuple[str, int]]
    workdir: Path


@pytest.fixture(scope="module")
def reconstruction(tmp_path_factory) -> Reconstruction:
    """Twelve 640x480 photos of the synthetic object, reconstructed once for this module."""
    photos = synthetic.make_photos(tmp_path_factory.mktemp("orbit"), count=12, size=(640, 480))
    workdir = tmp_path_factory.mktemp("work")
    reports: list[tuple[str, int]] = []
    result = reconstruct.run(
        photos, workdir, progress=lambda stage, percent: reports.append((stage, percent))
    )
    return Reconstruction(result=result, reports=reports, workdir=workdir)


# --- A good set of photos ---------------------------------------------------------------------


def test_places_nearly_every_photo_and_finds_many_points(reconstruction):
    result = reconstruction.result

    assert result.photos == 12
    assert result.registered >= 10
    assert result.points >= 1_000
    assert 0 < result.mean_reprojection_error < 1.0


def test_model_is_a_mesh_with_vertex_colours(reconstruction):
    result = reconstruction.result

    mesh = trimesh.load(result.glb, force="mesh")

    assert result.glb.parent == reconstruction.workdir
    assert result.mesh_method == "poisson"
    assert len(mesh.faces) == result.triangles > 0
    # trimesh shows a material's colour rather than the vertex colours: read those from the file.
    document, binary = glb_chunks(result.glb)
    primitive = document["meshes"][0]["primitives"][0]
    accessor = document["accessors"][primitive["attributes"]["COLOR_0"]]
    view = document["bufferViews"][accessor["bufferView"]]
    colours = np.frombuffer(binary, np.uint8, view["byteLength"], view["byteOffset"]).reshape(-1, 4)
    assert len(colours) == accessor["count"] == len(mesh.vertices)
    assert len(np.unique(colours[:, :3], axis=0)) > 100
    material = document["materials"][primitive["material"]]
    assert material["pbrMetallicRoughness"]["metallicFactor"] == 0
    assert material["doubleSided"] is True


def glb_chunks(path: Path) -> tuple[dict, bytes]:
    """The JSON document and the binary buffer of a .glb file."""
    data = path.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + json_length])
    binary_length = struct.unpack_from("<I", data, 20 + json_length)[0]
    start = 28 + json_length
    return document, data[start : start + binary_length]


def test_without_open3d_the_model_is_the_convex_hull_of_the_points(tmp_path, monkeypatch):
    """open3d needs Debian's libusb; where it cannot load, a rougher model is still made."""
    monkeypatch.setitem(sys.modules, "open3d", None)  # makes `import open3d` fail
    photos = synthetic.make_photos(tmp_path / "photos", count=12, size=(320, 240))[:6]

    result = reconstruct.run(photos, tmp_path / "work", options=Options(min_points=50))

    mesh = trimesh.load(result.glb, force="mesh")
    assert result.mesh_method == "convex_hull"
    assert len(mesh.faces) == result.triangles > 0
    assert mesh.is_convex
    document, _ = glb_chunks(result.glb)
    colours = document["accessors"][document["meshes"][0]["primitives"][0]["attributes"]["COLOR_0"]]
    assert colours["count"] == len(mesh.vertices)


def test_model_stands_upright_with_the_object_in_the_middle(reconstruction):
    """+Y is up: the ground the object stands on is level, and the object rises from its middle."""
    mesh = trimesh.load(reconstruction.result.glb, force="mesh")
    vertices = np.asarray(mesh.vertices)

    height = vertices[:, 1].max() - vertices[:, 1].min()
    width = np.ptp(vertices[:, [0, 2]], axis=0).max()
    ground = vertices[vertices[:, 1] < np.quantile(vertices[:, 1], 0.3)]
    top = vertices[vertices[:, 1] > vertices[:, 1].max() - 0.2 * height]

    assert np.ptp(ground[:, 1]) < 0.15 * width
    assert height > 0.25 * width
    assert np.abs(top[:, [0, 2]]).max() < 0.35 * width


def test_point_cloud_holds_every_point_with_its_colour(reconstruction):
    result = reconstruction.result

    cloud = trimesh.load(result.ply)

    assert isinstance(cloud, trimesh.PointCloud)
    assert len(cloud.vertices) == result.points
    assert len(np.unique(np.asarray(cloud.colors)[:, :3], axis=0)) > 100


def test_preview_is_a_picture_of_the_model(reconstruction):
    with Image.open(reconstruction.result.preview) as preview:
        assert preview.format == "PNG"
        assert preview.size == (640, 480)
        pixels = np.asarray(preview.convert("RGB"))

    background = pixels[0, 0]
    covered = np.any(pixels != background, axis=2).mean()
    assert 0.15 < covered < 0.95
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100


def test_every_stage_is_timed(reconstruction):
    timings = reconstruction.result.timings

    assert set(timings) == set(reconstruct.STAGES)
    assert all(seconds >= 0 for seconds in timings.values())


def test_progress_goes_through_the_stages_in_order_to_100(reconstruction):
    reports = reconstruction.reports

    stages = list(dict.fromkeys(stage for stage, _ in reports))
    percents = [percent for _, percent in reports]

    assert stages == list(reconstruct.STAGES)
    assert percents == sorted(percents)
    assert reports[0] == ("prepare", 0)
    assert reports[-1] == ("export", 100)


def test_synthetic_photos_depend_only_on_the_seed(tmp_path):
    def render(folder: str, seed: int) -> bytes:
        (photo,) = synthetic.make_photos(tmp_path / folder, count=1, size=(160, 120), seed=seed)
        return photo.read_bytes()

    first = render("first", seed=3)

    assert render("again", seed=3) == first
    assert render("other", seed=4) != first


# --- Preparing photos -------------------------------------------------------------------------


def test_prepare_turns_a_photo_upright_from_its_exif_orientation(tmp_path):
    # Stored sideways, 120 wide and 80 high, with a red mark in the stored top-left corner.
    stored = np.zeros((80, 120, 3), dtype=np.uint8)
    stored[:20, :20] = (255, 0, 0)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = ROTATE_90_CLOCKWISE
    Image.fromarray(stored).save(tmp_path / "sideways.jpg", exif=exif, quality=95)

    (prepared,) = reconstruct.prepare([tmp_path / "sideways.jpg"], tmp_path / "images", 1600)

    with Image.open(prepared) as upright:
        assert upright.size == (80, 120)
        assert upright.getexif().get(EXIF_ORIENTATION) in (None, 1)
        red, green, _ = upright.getpixel((70, 10))  # turned clockwise: now top right
    assert red > 200
    assert green < 60


def test_prepare_keeps_the_focal_length_pycolmap_starts_from(tmp_path):
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[FOCAL_LENGTH_35MM] = 26
    Image.new("RGB", (400, 300), "olive").save(tmp_path / "IMG_0001.jpg", exif=exif)

    (prepared,) = reconstruct.prepare([tmp_path / "IMG_0001.jpg"], tmp_path / "images", 200)

    with Image.open(prepared) as image:
        assert image.getexif().get_ifd(EXIF_IFD).get(FOCAL_LENGTH_35MM) == 26


def test_prepare_scales_down_to_max_side_and_keeps_the_order(tmp_path):
    paths = []
    for index, size in enumerate([(400, 300), (300, 400), (100, 80)]):
        paths.append(tmp_path / f"photo_{index}.png")
        pixels = np.random.default_rng(index).integers(0, 256, (size[1], size[0], 3), np.uint8)
        Image.fromarray(pixels).save(paths[-1])

    prepared = reconstruct.prepare(paths, tmp_path / "images", max_side=200)

    assert [path.name for path in prepared] == ["0001.jpg", "0002.jpg", "0003.jpg"]
    sizes = []
    for path in prepared:
        with Image.open(path) as image:
            sizes.append((image.format, image.size))
    assert sizes == [("JPEG", (200, 150)), ("JPEG", (150, 200)), ("JPEG", (100, 80))]


def test_prepare_accepts_heic(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    pillow_heif.from_pillow(Image.fromarray(pixels)).save(tmp_path / "IMG_0001.HEIC", quality=90)

    (prepared,) = reconstruct.prepare([tmp_path / "IMG_0001.HEIC"], tmp_path / "images", 1600)

    with Image.open(prepared) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (128, 96))


def test_prepare_names_a_file_it_cannot_read(tmp_path):
    good = synthetic.make_noise_photos(tmp_path / "good", count=1, size=(64, 48))
    broken = tmp_path / "IMG_0002.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")

    with pytest.raises(ReconstructionFailed) as failure:
        reconstruct.prepare([*good, broken], tmp_path / "images", 1600)

    assert failure.value.code == FailureCode.UNREADABLE_PHOTO
    assert "IMG_0002.jpg" in failure.value.message


def test_prepare_drops_copies_of_a_photo(tmp_path):
    first, second = synthetic.make_noise_photos(tmp_path, count=2, size=(64, 48))
    copy = tmp_path / "copy_of_first.jpg"
    copy.write_bytes(first.read_bytes())

    prepared = reconstruct.prepare([first, copy, second], tmp_path / "images", 1600)

    assert [path.name for path in prepared] == ["0001.jpg", "0002.jpg"]
    assert prepared[1].read_bytes() != prepared[0].read_bytes()


# --- Pairs to match ---------------------------------------------------------------------------


def test_large_sets_match_neighbours_around_the_loop():
    names = [f"{index:04d}.jpg" for index in range(1, 101)]

    pairs = reconstruct.loop_pairs(names)

    assert len(pairs) == len(set(pairs)) < 100 * 99 // 2 // 3
    assert {("0001.jpg", "0002.jpg"), ("0050.jpg", "0060.jpg")} <= set(pairs)
    assert ("0001.jpg", "0100.jpg") in pairs  # the walk-around ends where it began
    assert ("0001.jpg", "0033.jpg") in pairs  # 32 photos on: a quarter of the way round
    assert ("0001.jpg", "0030.jpg") not in pairs


# --- Sets that cannot make a model ------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "code", "words"),
    [
        pytest.param(
            lambda folder: synthetic.make_photos(folder, count=2, size=(320, 240)),
            FailureCode.TOO_FEW_PHOTOS,
            ["at least 3 photos"],
            id="two photos",
        ),
        pytest.param(
            lambda folder: synthetic.make_noise_photos(folder, count=12, size=(320, 240)),
            FailureCode.NOT_MATCHED,
            ["could not be matched"],
            id="noise",
        ),
        pytest.param(
            lambda folder: synthetic.copies_of_one_photo(folder, count=12),
            FailureCode.NOT_MATCHED,
            ["could not be matched", "copies"],
            id="copies of one photo",
        ),
    ],
)
def test_a_set_that_cannot_make_a_model_fails_with_advice(tmp_path, make, code, words):
    photos = make(tmp_path / "photos")

    with pytest.raises(ReconstructionFailed) as failure:
        reconstruct.run(photos, tmp_path / "work")

    assert failure.value.code == code
    for word in words:
        assert word in failure.value.message


def test_too_few_placed_photos_fail_with_advice(tmp_path):
    # Five neighbouring views of the object can be placed; eight noise pictures cannot.
    orbit = synthetic.make_photos(tmp_path / "orbit", count=12, size=(480, 360))[:5]
    noise = synthetic.make_noise_photos(tmp_path / "noise", count=8, size=(480, 360))

    with pytest.raises(ReconstructionFailed) as failure:
        reconstruct.run([*orbit, *noise], tmp_path / "work", options=Options(min_points=50))

    assert failure.value.code == FailureCode.TOO_FEW_PLACED
    assert failure.value.message.startswith("Only 5 of 13 photos could be placed")


# --- Cancelling -------------------------------------------------------------------------------


def test_stops_after_the_stage_during_which_it_was_cancelled(tmp_path):
    photos = synthetic.make_photos(tmp_path / "photos", count=4, size=(320, 240))
    reports: list[tuple[str, int]] = []
    features_done = ("features", reconstruct.STAGE_PERCENT["features"][1])

    with pytest.raises(Cancelled):
        reconstruct.run(
            photos,
            tmp_path / "work",
            progress=lambda stage, percent: reports.append((stage, percent)),
            should_stop=lambda: features_done in reports,
        )

    assert reports[-1] == features_done
    assert not (tmp_path / "work" / reconstruct.MODEL_FILE).exists()


# --- Loading the libraries --------------------------------------------------------------------


def test_png_files_can_be_written_after_importing_the_module_first():
    """pycolmap exports its own zlib; loaded before libz, it breaks Pillow's PNG encoder (a
    crash or a hang), so the module must load libz first, whatever a process imported before."""
    script = (
        "import pipeline.reconstruct\n"
        "import io, numpy\n"
        "from PIL import Image\n"
        "pixels = numpy.random.default_rng(0).integers(0, 256, (480, 640, 3), numpy.uint8)\n"
        "for _ in range(3): Image.fromarray(pixels).save(io.BytesIO(), 'PNG')\n"
    )

    finished = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
