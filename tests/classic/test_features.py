"""HOG and colour-histogram features against loop references written the assignment's way
(and against the assignment's own code, SciPy's uniform filter and matplotlib's HSV, where
those are installed), plus shapes, batches and errors."""

import numpy as np
import pytest

from gradschool.classic.features import (
    color_histogram_hsv,
    color_histograms_hsv,
    extract_features,
    hog_feature,
    hog_features,
    rgb2gray,
    rgb_to_hsv,
)


# ----------------------------------------------------------------- references
def hog_reference(im, cell=8):
    """The assignment's hog_feature, step by step, with the uniform filter replaced by an
    explicit loop over cells (the filter sampled at a cell's centre is the cell's mean)."""
    if im.ndim == 3:
        image = np.zeros(im.shape[:2])
        for r in range(im.shape[0]):
            for c in range(im.shape[1]):
                image[r, c] = 0.299 * im[r, c, 0] + 0.587 * im[r, c, 1] + 0.144 * im[r, c, 2]
    else:
        image = im.astype(np.float64)
    sx, sy = image.shape
    orientations = 9
    gx = np.zeros(image.shape)
    gy = np.zeros(image.shape)
    for r in range(sx):
        for c in range(sy - 1):
            gx[r, c] = image[r, c + 1] - image[r, c]
    for r in range(sx - 1):
        for c in range(sy):
            gy[r, c] = image[r + 1, c] - image[r, c]
    grad_mag = np.sqrt(gx**2 + gy**2)
    grad_ori = np.arctan2(gy, gx + 1e-15) * (180 / np.pi) + 90
    n_cellsx, n_cellsy = sx // cell, sy // cell
    hist = np.zeros((n_cellsy, n_cellsx, orientations))
    for i in range(orientations):
        temp_ori = np.where(grad_ori < 180 / orientations * (i + 1), grad_ori, 0)
        temp_ori = np.where(grad_ori >= 180 / orientations * i, temp_ori, 0)
        temp_mag = np.where(temp_ori > 0, grad_mag, 0)
        for a in range(n_cellsx):  # cell rows
            for b in range(n_cellsy):  # cell columns
                block = temp_mag[a * cell : (a + 1) * cell, b * cell : (b + 1) * cell]
                hist[b, a, i] = block.sum() / cell**2
    return hist.ravel()


def hog_assignment(im, cell=8):
    """The assignment's code itself (with SciPy's uniform filter), for square images."""
    uniform_filter = pytest.importorskip("scipy.ndimage").uniform_filter
    image = rgb2gray(im) if im.ndim == 3 else np.atleast_2d(im).astype(float)
    sx, sy = image.shape
    gx = np.zeros(image.shape)
    gy = np.zeros(image.shape)
    gx[:, :-1] = np.diff(image, n=1, axis=1)
    gy[:-1, :] = np.diff(image, n=1, axis=0)
    grad_mag = np.sqrt(gx**2 + gy**2)
    grad_ori = np.arctan2(gy, (gx + 1e-15)) * (180 / np.pi) + 90
    hist = np.zeros((sx // cell, sy // cell, 9))
    for i in range(9):
        temp_ori = np.where(grad_ori < 180 / 9 * (i + 1), grad_ori, 0)
        temp_ori = np.where(grad_ori >= 180 / 9 * i, temp_ori, 0)
        temp_mag = np.where(temp_ori > 0, grad_mag, 0)
        hist[:, :, i] = uniform_filter(temp_mag, size=(cell, cell))[
            round(cell / 2) :: cell, round(cell / 2) :: cell
        ].T
    return hist.ravel()


def color_hist_reference(im, nbin=10, xmin=0, xmax=255, normalized=True):
    """The assignment's color_histogram_hsv (matplotlib's rgb_to_hsv, NumPy's histogram)."""
    colors = pytest.importorskip("matplotlib.colors")
    bins = np.linspace(xmin, xmax, nbin + 1)
    hsv = colors.rgb_to_hsv(im / xmax) * xmax
    imhist, bin_edges = np.histogram(hsv[:, :, 0], bins=bins, density=normalized)
    return imhist * np.diff(bin_edges)


def _images(rng, shape, n=None):
    full = shape if n is None else (n, *shape)
    x = rng.integers(0, 256, full).astype(np.float64)
    if len(shape) == 3:  # some grey pixels and channel ties, the cases HSV special-cases
        x[..., :2, :2, :] = 77
        x[..., 2:4, :2, 1] = x[..., 2:4, :2, 0]
    return x


# ----------------------------------------------------------------- HOG
@pytest.mark.parametrize(
    "shape,cell", [((16, 16, 3), 8), ((28, 28), 4), ((20, 27), 4), ((19, 13, 3), 5), ((9, 9), 3)]
)
def test_hog_equals_loop_reference(shape, cell):
    im = _images(np.random.default_rng(0), shape)
    got = hog_feature(im, cell_size=cell)
    want = hog_reference(im, cell)
    assert got.shape == ((shape[0] // cell) * (shape[1] // cell) * 9,)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "shape,cell", [((32, 32, 3), 8), ((28, 28), 4), ((28, 28), 8), ((30, 30), 6)]
)
def test_hog_equals_the_assignments_code(shape, cell):
    im = _images(np.random.default_rng(1), shape)
    np.testing.assert_allclose(hog_feature(im, cell), hog_assignment(im, cell), atol=1e-10)


def test_hog_batch_equals_one_at_a_time_and_takes_uint8():
    rng = np.random.default_rng(2)
    ims = rng.integers(0, 256, (5, 16, 24, 3)).astype(np.uint8)
    batch = hog_features(ims, cell_size=4)
    assert batch.shape == (5, 4 * 6 * 9) and batch.dtype == np.float64
    for i in range(5):
        np.testing.assert_allclose(batch[i], hog_feature(ims[i], 4), atol=1e-12)
        # uint8 must not wrap around in the differences
        np.testing.assert_allclose(batch[i], hog_reference(ims[i].astype(float), 4), atol=1e-10)
    grey = ims[..., 0]
    np.testing.assert_allclose(hog_features(grey, 8)[1], hog_reference(grey[1], 8), atol=1e-10)


def test_hog_of_a_flat_image_is_zero_and_an_edge_votes_in_one_bin():
    assert not hog_feature(np.full((16, 16), 9.0)).any()
    im = np.zeros((8, 8))
    im[4:, :] = 100  # a horizontal edge: gradient straight down, orientation 180 -> no vote
    assert not hog_feature(im).any()
    im = np.zeros((8, 8))
    im[:, 4:] = 100  # a vertical edge, gradient pointing right: 90 degrees -> bin 4
    h = hog_feature(im)
    assert h.shape == (9,) and h[4] == pytest.approx(100 * 8 / 64) and h.sum() == h[4]


def test_hog_errors():
    with pytest.raises(ValueError, match="hog_feature: expected one grey"):
        hog_feature(np.zeros((4, 8, 8)))
    with pytest.raises(ValueError, match="hog_features: expected a batch"):
        hog_features(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="no whole 8x8 cell"):
        hog_feature(np.zeros((6, 6)))
    with pytest.raises(ValueError, match="cell_size must be a positive integer"):
        hog_feature(np.zeros((8, 8)), cell_size=0)


# ----------------------------------------------------------------- colour
def test_rgb_to_hsv_equals_matplotlib():
    colors = pytest.importorskip("matplotlib.colors")
    rng = np.random.default_rng(3)
    x = rng.random((500, 3))
    x[:50] = x[:50, :1]  # greys
    x[50:100, 1] = x[50:100, 0]  # ties red/green
    x[100:150, 2] = x[100:150, 1]  # ties green/blue
    x[150:200] = 0.0
    x[200:250, 0] = 1.0
    np.testing.assert_allclose(rgb_to_hsv(x), colors.rgb_to_hsv(x), atol=1e-15)
    np.testing.assert_allclose(
        rgb_to_hsv(x.reshape(10, 50, 3).astype(np.float32)),
        colors.rgb_to_hsv(x.reshape(10, 50, 3).astype(np.float32)),
        atol=1e-6,
    )
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        rgb_to_hsv(x * 255)


@pytest.mark.parametrize("nbin,normalized", [(10, True), (10, False), (7, True), (25, False)])
def test_color_histogram_equals_the_assignments_code(nbin, normalized):
    rng = np.random.default_rng(4)
    for _ in range(3):
        im = _images(rng, (12, 10, 3)).astype(np.uint8)
        got = color_histogram_hsv(im, nbin=nbin, normalized=normalized)
        np.testing.assert_allclose(got, color_hist_reference(im, nbin, normalized=normalized))
    ims = _images(rng, (12, 10, 3), n=4)
    batch = color_histograms_hsv(ims, nbin=nbin, normalized=normalized)
    want = [color_hist_reference(im, nbin, normalized=normalized) for im in ims]
    np.testing.assert_allclose(batch, want, atol=1e-15)


def test_color_histogram_of_grey_images_counts_grey_levels():
    im = np.array([[0, 0, 255, 255], [30, 60, 128, 200]], np.uint8)
    h = color_histogram_hsv(im, nbin=4)
    want = np.histogram(im, bins=np.linspace(0, 255, 5))[0] / im.size
    np.testing.assert_allclose(h, want)
    assert h.sum() == pytest.approx(1.0)
    # a grey RGB image has no hue: everything in the first bin
    assert color_histogram_hsv(np.stack([im] * 3, -1), nbin=4).tolist() == [1, 0, 0, 0]
    with pytest.raises(ValueError, match="must lie in"):
        color_histogram_hsv(np.full((4, 4), 300.0))
    with pytest.raises(ValueError, match="expected one RGB"):
        color_histogram_hsv(np.zeros((4, 4, 4)))


# ----------------------------------------------------------------- extract_features
def test_extract_features_one_at_a_time_and_in_batches_agree():
    rng = np.random.default_rng(5)
    ims = _images(rng, (16, 16, 3), n=7)
    one = extract_features(ims, [hog_feature, lambda im: color_histogram_hsv(im, nbin=6)])
    assert one.shape == (7, 4 * 9 + 6)
    batched = extract_features(
        ims, [hog_features, lambda b: color_histograms_hsv(b, nbin=6)], batch_size=3
    )
    np.testing.assert_allclose(one, batched, atol=1e-12)
    np.testing.assert_allclose(one[:, :36], [hog_reference(im) for im in ims], atol=1e-10)
    # (N, H, W, 1) images are squeezed to grey, as the assignment does
    grey = ims[..., :1]
    assert extract_features(grey, [hog_feature]).shape == (7, 36)


def test_extract_features_errors_and_verbose(capsys):
    ims = np.zeros((3, 8, 8))
    with pytest.raises(ValueError, match="1-D vector"):
        extract_features(ims, [lambda im: im])
    with pytest.raises(ValueError, match=r"must return \(2, F\)"):
        extract_features(ims, [lambda b: b.sum(axis=(1, 2))], batch_size=2)
    with pytest.raises(ValueError, match="feature_fns is empty"):
        extract_features(ims, [])
    assert extract_features(np.zeros((0, 8, 8)), [hog_feature]).shape == (0, 0)
    extract_features(ims, [hog_features], batch_size=2, verbose=True)
    assert "3 / 3 images" in capsys.readouterr().out
