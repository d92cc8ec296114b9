"""Transforms: exact results on hand-made images, PyTorch's resampling maths, torchvision's
argument rules and reprs, determinism under ``manual_seed``, and batch == per image."""

from __future__ import annotations

import colorsys
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradschool as gs
import gradschool.data.transforms as T
import gradschool.data.transforms.functional as F
from gradschool.data.transforms._photometric import hsv_to_rgb, rgb_to_hsv

RNG = np.random.default_rng(0)


def img_u8(*shape: int) -> np.ndarray:
    return RNG.integers(0, 256, shape, dtype=np.uint8)


def img_f32(*shape: int) -> gs.Tensor:
    return gs.tensor(RNG.random(shape, dtype=np.float32))


def arr(x) -> np.ndarray:
    return x.numpy() if isinstance(x, gs.Tensor) else np.asarray(x)


# ----------------------------------------------------------------------- ToTensor / Normalize
def test_to_tensor_matches_torchvision_layout_and_scale():
    x = img_u8(5, 4, 3)
    t = T.ToTensor()(x)
    assert isinstance(t, gs.Tensor) and t.shape == (3, 5, 4) and t.dtype == gs.float32
    assert t.is_contiguous()
    ref = torch.from_numpy(x).permute(2, 0, 1).float().div(255)
    np.testing.assert_array_equal(t.numpy(), ref.numpy())  # bit for bit
    assert 0.0 <= t.numpy().min() and t.numpy().max() <= 1.0

    g = T.ToTensor()(img_u8(5, 4))  # grayscale (H, W) -> (1, H, W)
    assert g.shape == (1, 5, 4)
    u = T.ToTensor()(gs.tensor(x))  # a uint8 gradschool Tensor is read as (H, W, C)
    np.testing.assert_array_equal(u.numpy(), t.numpy())
    f = T.ToTensor()(np.ones((2, 3, 1), np.float64) * 7)  # not uint8: values kept, as torchvision
    assert f.shape == (1, 2, 3) and f.dtype == gs.float64 and f.numpy().max() == 7


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="ToTensor|to_tensor"):
        T.ToTensor()(img_f32(3, 4, 4))  # already a tensor image
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        T.ToTensor()(img_u8(2, 3, 4, 3))
    with pytest.raises(TypeError, match="list"):
        T.ToTensor()([[1, 2]])


def test_normalize_equals_torch_and_errors():
    x = img_f32(3, 6, 5)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = T.Normalize(mean, std)(x)
    xt = torch.from_numpy(x.numpy().copy())
    ref = xt.sub(torch.tensor(mean).view(-1, 1, 1)).div(torch.tensor(std).view(-1, 1, 1))
    np.testing.assert_array_equal(out.numpy(), ref.numpy())  # same ops, same float32 rounding
    assert out.data is not x.data and out.dtype == gs.float32

    same = T.Normalize((0.5,), (0.25,), inplace=True)(x)  # one value for every channel
    assert same is x
    np.testing.assert_allclose(x.numpy(), (xt.numpy() - 0.5) / 0.25, rtol=1e-6)

    with pytest.raises(ValueError, match=r"Normalize.*mean=.*std="):
        T.Normalize((0.5, 0.5), (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match=r"Normalize.*std.*0"):
        T.Normalize((0.5, 0.5, 0.5), (0.5, 0.0, 0.5))
    with pytest.raises(ValueError, match="3 channels"):
        T.Normalize((0.1, 0.2), (1.0, 1.0))(img_f32(3, 2, 2))
    with pytest.raises(ValueError, match="zero"):
        T.Normalize((0.0,), (1e-50,))(img_f32(1, 2, 2))  # 0 once cast to float32
    with pytest.raises(TypeError, match="float"):
        T.Normalize((0.5,), (0.5,))(gs.tensor(img_u8(1, 2, 2)))
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize((0.5,), (0.5,))(img_u8(2, 2, 3))
    with pytest.raises(TypeError, match="Normalize.*numbers"):
        T.Normalize(("a",), (1.0,))


# ----------------------------------------------------------------------- flips
IMG = np.arange(12, dtype=np.uint8).reshape(3, 4)  # a hand-made 3x4 grayscale image


@pytest.mark.parametrize("kind", ["hw", "hwc", "chw"])
def test_flips_exact(kind):
    base = np.stack([IMG, IMG + 100], axis=-1)  # (3, 4, 2)
    img = {"hw": IMG, "hwc": base, "chw": gs.tensor(base.transpose(2, 0, 1).copy())}[kind]
    h = T.RandomHorizontalFlip(p=1.0)(img)
    v = T.RandomVerticalFlip(p=1.0)(img)
    assert type(h) is type(img) and h.shape == img.shape and arr(h).dtype == arr(img).dtype
    w_ax, h_ax = {"hw": (1, 0), "hwc": (1, 0), "chw": (2, 1)}[kind]
    np.testing.assert_array_equal(arr(h), np.flip(arr(img), w_ax))
    np.testing.assert_array_equal(arr(v), np.flip(arr(img), h_ax))
    assert arr(h).flags.c_contiguous
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    np.testing.assert_array_equal(arr(T.RandomHorizontalFlip(1.0)(IMG))[0], [3, 2, 1, 0])


def test_flip_probability_and_errors():
    gs.manual_seed(0)
    flips = sum(T.RandomHorizontalFlip(0.3)(IMG)[0, 0] == 3 for _ in range(2000))
    assert 500 < flips < 700  # about 0.3 * 2000
    for cls in (T.RandomHorizontalFlip, T.RandomVerticalFlip, T.RandomGrayscale):
        with pytest.raises(ValueError, match=rf"{cls.__name__}.*\[0, 1\].*1.5"):
            cls(1.5)
        with pytest.raises(ValueError, match=cls.__name__):
            cls(-0.1)
    with pytest.raises(ValueError, match="RandomApply"):
        T.RandomApply([T.ToTensor()], p=2)


# ----------------------------------------------------------------------- pad / crop
def test_pad_modes_on_a_row():
    row = np.array([[1, 2, 3]], np.uint8)
    pad = lambda mode: T.Pad((2, 0), fill=9, padding_mode=mode)(row)[0].tolist()  # noqa: E731
    assert pad("constant") == [9, 9, 1, 2, 3, 9, 9]
    assert pad("edge") == [1, 1, 1, 2, 3, 3, 3]
    assert pad("reflect") == [3, 2, 1, 2, 3, 2, 1]
    assert pad("symmetric") == [2, 1, 1, 2, 3, 3, 2]
    x = img_u8(4, 5, 3)
    out = T.Pad((1, 2, 3, 4), fill=(10, 20, 30))(x)  # left, top, right, bottom; fill per channel
    assert out.shape == (4 + 2 + 4, 5 + 1 + 3, 3)
    np.testing.assert_array_equal(out[2:6, 1:6], x)
    np.testing.assert_array_equal(out[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(out[-1, -1], [10, 20, 30])
    t = T.Pad(1, padding_mode="reflect")(gs.tensor(x.transpose(2, 0, 1).copy()))
    ref = TF.pad(
        torch.from_numpy(x.transpose(2, 0, 1).astype(np.float32))[None], (1,) * 4, mode="reflect"
    )
    np.testing.assert_array_equal(t.numpy(), ref[0].numpy())


def test_random_crop_is_a_window_of_the_padded_image():
    x = img_u8(6, 7, 3)
    gs.manual_seed(1)
    crop = T.RandomCrop((4, 5), padding=2, fill=255)
    padded = np.pad(x, ((2, 2), (2, 2), (0, 0)), constant_values=255)
    seen = set()
    for _ in range(50):
        out = crop(x)
        assert out.shape == (4, 5, 3) and out.dtype == np.uint8
        hits = [
            (i, j)
            for i in range(10 - 4 + 1)
            for j in range(11 - 5 + 1)
            if np.array_equal(padded[i : i + 4, j : j + 5], out)
        ]
        assert hits
        seen.add(hits[0])
    assert len(seen) > 10  # positions vary


def test_random_crop_options_and_errors():
    x = img_u8(3, 3)
    out = T.RandomCrop(5, pad_if_needed=True)(x)  # torchvision pads the shortfall on both sides
    assert out.shape == (5, 5)
    assert T.RandomCrop(3)(x) is not None and np.array_equal(T.RandomCrop(3)(x), x)
    with pytest.raises(ValueError, match=r"RandomCrop.*\(4, 4\).*\(3, 3\)"):
        T.RandomCrop(4)(x)
    with pytest.raises(ValueError, match=r"RandomCrop.*non-negative.*-1"):
        T.RandomCrop(3, padding=-1)
    with pytest.raises(ValueError, match=r"RandomCrop.*positive.*0"):
        T.RandomCrop((0, 3))
    with pytest.raises(ValueError, match="RandomCrop.*padding_mode"):
        T.RandomCrop(3, padding=1, padding_mode="wrap")
    with pytest.raises(ValueError, match="RandomCrop.*1, 2 or 4"):
        T.RandomCrop(3, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="fill"):
        T.RandomCrop(3, padding=1, fill=(1, 2))(img_u8(3, 3, 3))


def test_functional_crop_outside_the_image_is_zeros():
    x = np.arange(1, 10, dtype=np.uint8).reshape(3, 3)
    out = F.crop(x, -1, 1, 3, 4)  # one row above, one column right of the image: zeros
    np.testing.assert_array_equal(out, [[0, 0, 0, 0], [2, 3, 0, 0], [5, 6, 0, 0]])
    assert F.crop(x, 5, 5, 2, 2).sum() == 0 and F.crop(x, 5, 5, 2, 2).shape == (2, 2)
    t = F.crop(gs.tensor(x[None].astype(np.float32)), 1, 0, 2, 2)
    np.testing.assert_array_equal(t.numpy()[0], x[1:3, 0:2])
    assert F.get_dimensions(x) == [1, 3, 3] and F.get_dimensions(img_u8(4, 5, 3)) == [3, 4, 5]


def test_center_crop_exact():
    x = np.arange(25, dtype=np.uint8).reshape(5, 5)
    np.testing.assert_array_equal(T.CenterCrop(3)(x), x[1:4, 1:4])
    y = np.arange(16, dtype=np.uint8).reshape(4, 4)
    np.testing.assert_array_equal(T.CenterCrop(3)(y), y[0:3, 0:3])  # round(0.5) == 0, as Python
    np.testing.assert_array_equal(T.CenterCrop((2, 4))(y), y[1:3])
    big = T.CenterCrop((4, 7))(np.ones((2, 2), np.uint8))  # smaller image: zero-padded around
    assert big.shape == (4, 7) and big.sum() == 4 and big[1:3, 2:4].all()
    t = T.CenterCrop(3)(gs.tensor(x[None].astype(np.float32)))
    assert t.shape == (1, 3, 3)
    with pytest.raises(ValueError, match="CenterCrop"):
        T.CenterCrop(-1)


# ----------------------------------------------------------------------- resampling
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize(
    ("shape", "size"), [((3, 7, 9), (4, 5)), ((2, 5, 6), (11, 8)), ((1, 16, 12), 5)]
)
def test_resize_bilinear_equals_torch_interpolate(shape, size, antialias):
    x = img_f32(*shape)
    out = T.Resize(size, antialias=antialias)(x)
    h, w = shape[1:]
    if isinstance(size, int):  # the shorter side becomes size, the other keeps the ratio
        size = (int(size * h / w), size) if w <= h else (size, int(size * w / h))
    ref = TF.interpolate(
        torch.from_numpy(x.numpy())[None],
        size=size,
        mode="bilinear",
        align_corners=False,
        antialias=antialias,
    )[0]
    assert out.shape == tuple(ref.shape) and out.dtype == gs.float32
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_resize_nearest_uint8_and_max_size():
    x = img_u8(7, 9, 3)
    ref = TF.interpolate(
        torch.from_numpy(x).permute(2, 0, 1)[None].float(), size=(4, 13), mode="nearest"
    )
    out = T.Resize((4, 13), interpolation="nearest")(x)
    assert out.shape == (4, 13, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, ref[0].permute(1, 2, 0).numpy())
    ex = TF.interpolate(
        torch.from_numpy(x).permute(2, 0, 1)[None].float(), size=(4, 13), mode="nearest-exact"
    )
    np.testing.assert_array_equal(
        T.Resize((4, 13), "nearest-exact")(x), ex[0].permute(1, 2, 0).numpy()
    )

    bil = T.Resize((5, 6), antialias=False)(x)  # uint8: computed in float, rounded back
    fref = TF.interpolate(
        torch.from_numpy(x).permute(2, 0, 1)[None].float(), size=(5, 6), mode="bilinear"
    )
    assert bil.dtype == np.uint8
    assert np.abs(bil.astype(int) - fref[0].permute(1, 2, 0).round().numpy()).max() <= 1

    assert T.Resize(4, max_size=5)(img_u8(10, 20)).shape == (2, 5)  # long side capped
    assert T.Resize([4])(img_u8(10, 20)).shape == (4, 8)
    x2 = img_u8(4, 4)
    assert T.Resize(4)(x2) is x2  # already that size
    with pytest.raises(ValueError, match="Resize.*max_size"):
        T.Resize((4, 4), max_size=10)
    with pytest.raises(ValueError, match="Resize.*size"):
        T.Resize(0)
    with pytest.raises(ValueError, match="interpolation"):
        T.Resize(4, interpolation="bicubic")


def test_random_resized_crop():
    x = img_f32(3, 20, 30)
    gs.manual_seed(3)
    rrc = T.RandomResizedCrop(8, scale=(0.2, 0.9))
    outs = [rrc(x) for _ in range(5)]
    assert all(o.shape == (3, 8, 8) for o in outs)
    gs.manual_seed(3)
    np.testing.assert_array_equal(rrc(x).numpy(), outs[0].numpy())
    for _ in range(20):
        i, j, h, w = T.RandomResizedCrop.get_params(x, (0.2, 0.9), (3 / 4, 4 / 3))
        assert 0 <= i <= 20 - h and 0 <= j <= 30 - w
        assert 0.2 * 600 * 0.8 <= h * w <= 0.9 * 600 * 1.2 and 0.7 <= w / h <= 1.4
    sq = img_f32(3, 12, 12)  # the whole image, just resized
    whole = T.RandomResizedCrop(6, scale=(1.0, 1.0), ratio=(1.0, 1.0))(sq)
    np.testing.assert_allclose(whole.numpy(), T.Resize(6)(sq).numpy())
    with pytest.warns(UserWarning, match="min, max"):
        T.RandomResizedCrop(8, scale=(0.9, 0.2))


def _torch_rotate(x: np.ndarray, angle: float, mode: str, fill) -> np.ndarray:
    """torchvision's tensor rotation written out in torch (grid + grid_sample + fill mask)."""
    c, h, w = x.shape
    rot = math.radians(-angle)
    theta = torch.tensor(
        [[math.cos(rot), math.sin(rot), 0.0], [-math.sin(rot), math.cos(rot), 0.0]],
        dtype=torch.float64,
    )
    base = torch.ones(1, h, w, 3, dtype=torch.float64)
    base[..., 0] = torch.linspace(-w * 0.5 + 0.5, w * 0.5 - 0.5, w, dtype=torch.float64)
    base[..., 1] = torch.linspace(-h * 0.5 + 0.5, h * 0.5 - 0.5, h, dtype=torch.float64)[:, None]
    scale = torch.tensor([0.5 * w, 0.5 * h], dtype=torch.float64)
    grid = base.view(1, h * w, 3).bmm(theta[None].transpose(1, 2) / scale).view(1, h, w, 2)
    img = torch.cat([torch.from_numpy(x)[None], torch.ones(1, 1, h, w, dtype=torch.float64)], 1)
    out = TF.grid_sample(img, grid, mode=mode, padding_mode="zeros", align_corners=False)[0]
    out, mask = out[:-1], out[-1:].expand(c, h, w)
    fill_img = torch.tensor(fill, dtype=torch.float64).view(-1, 1, 1).expand(c, h, w)
    if mode == "nearest":
        return torch.where(mask < 0.5, fill_img, out).numpy()
    return (out * mask + (1.0 - mask) * fill_img).numpy()


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_rotation_matches_torch_grid_sample(mode):
    x = RNG.random((2, 9, 12))
    gs.manual_seed(5)
    rot = T.RandomRotation((17.3, 17.3), interpolation=mode, fill=(0.25, 0.5))
    out = rot(gs.tensor(x))
    assert out.dtype == gs.float64 and out.shape == x.shape
    np.testing.assert_allclose(out.numpy(), _torch_rotate(x, 17.3, mode, [0.25, 0.5]), atol=1e-12)


def test_rotation_exact_cases():
    x = np.arange(20, dtype=np.uint8).reshape(4, 5)
    sq = x[:, :4]
    np.testing.assert_array_equal(F.rotate(sq, 90), np.rot90(sq))  # counter-clockwise
    np.testing.assert_array_equal(T.RandomRotation((180, 180))(x), x[::-1, ::-1])
    wide = np.arange(24, dtype=np.uint8).reshape(4, 6)
    big = F.rotate(wide, 90, expand=True)  # grows to hold the whole image
    np.testing.assert_array_equal(big, np.rot90(wide))
    # torchvision's (and PIL's) size rule: corners offset by the *input* half-size, so an odd
    # side gains a pixel
    assert F.rotate(x, 90, expand=True).shape == (6, 5)
    hwc = T.RandomRotation((90, 90))(np.stack([sq, sq + 1], -1))
    np.testing.assert_array_equal(hwc[..., 1], np.rot90(sq) + 1)
    gs.manual_seed(0)
    angles = [T.RandomRotation.get_params([-10.0, 30.0]) for _ in range(200)]
    assert -10 <= min(angles) and max(angles) <= 30 and np.std(angles) > 5
    with pytest.raises(ValueError, match="RandomRotation.*degrees.*-5"):
        T.RandomRotation(-5)


def test_gaussian_blur_equals_torch_conv():
    x = img_f32(3, 10, 11)
    kx, ky, sx, sy = 5, 3, 1.3, 0.7
    out = F.gaussian_blur(x, [kx, ky], [sx, sy])

    def k1d(k, s):
        t = torch.linspace(-(k - 1) / 2, (k - 1) / 2, k)
        p = torch.exp(-0.5 * (t / s) ** 2)
        return p / p.sum()

    kernel = (k1d(ky, sy)[:, None] * k1d(kx, sx)[None, :]).expand(3, 1, ky, kx)
    padded = TF.pad(
        torch.from_numpy(x.numpy())[None], (kx // 2, kx // 2, ky // 2, ky // 2), mode="reflect"
    )
    ref = TF.conv2d(padded, kernel, groups=3)[0]
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    gb = T.GaussianBlur(3, sigma=(0.1, 2.0))
    assert gb(img_u8(6, 6, 3)).dtype == np.uint8
    with pytest.raises(ValueError, match="GaussianBlur.*odd"):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="GaussianBlur.*sigma"):
        T.GaussianBlur(3, sigma=(2.0, 1.0))


# ----------------------------------------------------------------------- colour
def test_grayscale_weights():
    px = np.array([[[10, 200, 30]]], np.uint8)  # one pixel (1, 1, 3)
    g = T.RandomGrayscale(p=1.0)(px)
    expected = round(0.299 * 10 + 0.587 * 200 + 0.114 * 30)
    assert g.shape == (1, 1, 3) and g.dtype == np.uint8 and (g == expected).all()
    x = img_f32(3, 4, 5)
    one = T.Grayscale()(x)
    r, gg, b = x.numpy()
    np.testing.assert_allclose(one.numpy()[0], 0.299 * r + 0.587 * gg + 0.114 * b, rtol=1e-6)
    assert one.shape == (1, 4, 5)
    three = T.RandomGrayscale(p=1.0)(x)
    assert three.shape == (3, 4, 5) and (three.numpy() == one.numpy()).all()
    assert T.RandomGrayscale(p=0.0)(x) is x
    assert T.Grayscale(3)(img_u8(4, 4)).shape == (4, 4, 3)


def test_color_jitter_formulas():
    x = img_f32(3, 4, 5)
    xn = x.numpy().astype(np.float64)
    gray = 0.299 * xn[0] + 0.587 * xn[1] + 0.114 * xn[2]
    b = T.ColorJitter(brightness=(1.7, 1.7))(x)
    np.testing.assert_allclose(b.numpy(), np.clip(1.7 * xn, 0, 1), rtol=1e-6)
    c = T.ColorJitter(contrast=(0.4, 0.4))(x)
    np.testing.assert_allclose(c.numpy(), np.clip(0.4 * xn + 0.6 * gray.mean(), 0, 1), rtol=1e-5)
    s = T.ColorJitter(saturation=(1.5, 1.5))(x)
    np.testing.assert_allclose(
        s.numpy(), np.clip(1.5 * xn - 0.5 * gray, 0, 1), rtol=1e-5, atol=1e-6
    )
    h = T.ColorJitter(hue=(0.2, 0.2))(x)
    ref = np.empty_like(xn)
    for i in range(4):
        for j in range(5):
            hh, ss, vv = colorsys.rgb_to_hsv(*xn[:, i, j])
            ref[:, i, j] = colorsys.hsv_to_rgb((hh + 0.2) % 1.0, ss, vv)
    np.testing.assert_allclose(h.numpy(), ref, atol=1e-5)
    red = np.zeros((1, 1, 3), np.uint8)
    red[..., 0] = 255
    np.testing.assert_array_equal(F.adjust_hue(red, 0.5)[0, 0], [0, 255, 255])  # red -> cyan
    hsv = rgb_to_hsv(x.numpy())
    np.testing.assert_allclose(hsv_to_rgb(hsv), x.numpy(), atol=1e-6)


def test_color_jitter_random_and_checks():
    cj = T.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    assert cj.brightness == (0.6, 1.4) and cj.hue == (-0.1, 0.1)
    assert T.ColorJitter(brightness=2).brightness == (0.0, 3.0)  # low end clipped at 0
    assert T.ColorJitter().brightness is None
    x = img_u8(6, 7, 3)
    gs.manual_seed(7)
    a = cj(x)
    gs.manual_seed(7)
    np.testing.assert_array_equal(cj(x), a)
    assert a.dtype == np.uint8 and a.shape == x.shape
    for _ in range(20):
        order, b, c, s, h = T.ColorJitter.get_params((0.6, 1.4), None, (0.5, 0.7), (-0.1, 0.1))
        assert sorted(order) == [0, 1, 2, 3] and c is None
        assert 0.6 <= b <= 1.4 and 0.5 <= s <= 0.7 and -0.1 <= h <= 0.1
    with pytest.raises(ValueError, match="ColorJitter.*hue"):
        T.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match="ColorJitter.*brightness.*non-negative"):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match="channels"):
        T.ColorJitter(contrast=0.5)(img_u8(4, 4, 4))


# ----------------------------------------------------------------------- containers, repr
def test_compose_lambda_random_apply():
    c = T.Compose([T.Lambda(lambda v: v + 1), T.Lambda(lambda v: v * 2)])
    assert c(3) == 8
    assert not hasattr(c, "apply_batch")  # Lambda has no batch version
    assert hasattr(T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]), "apply_batch")
    with pytest.raises(TypeError, match="Lambda"):
        T.Lambda(3)
    with pytest.raises(TypeError, match="Compose"):
        T.Compose([T.ToTensor(), 3])
    gs.manual_seed(0)
    hits = sum(T.RandomApply([T.Lambda(lambda v: v + 1)], p=0.25)(0) for _ in range(1000))
    assert 180 < hits < 320


def test_reprs_match_torchvision():
    assert repr(T.ToTensor()) == "ToTensor()"
    assert repr(T.Normalize((0.5,), (0.2,))) == "Normalize(mean=(0.5,), std=(0.2,))"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomVerticalFlip(0.2)) == "RandomVerticalFlip(p=0.2)"
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(T.CenterCrop(5)) == "CenterCrop(size=(5, 5))"
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert (
        repr(T.Resize(32))
        == "Resize(size=32, interpolation=bilinear, max_size=None, antialias=True)"
    )
    assert repr(T.RandomResizedCrop(224)) == (
        "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
        "interpolation=bilinear, antialias=True)"
    )
    assert repr(T.ColorJitter(0.4, 0.4, 0.4, 0.1)) == (
        "ColorJitter(brightness=(0.6, 1.4), contrast=(0.6, 1.4), saturation=(0.6, 1.4), hue=(-0.1, 0.1))"
    )
    assert repr(T.RandomGrayscale()) == "RandomGrayscale(p=0.1)"
    assert repr(T.Grayscale(3)) == "Grayscale(num_output_channels=3)"
    assert (
        repr(T.RandomRotation(30))
        == "RandomRotation(degrees=[-30.0, 30.0], interpolation=nearest, expand=False, fill=0)"
    )
    assert repr(T.GaussianBlur(3)) == "GaussianBlur(kernel_size=(3, 3), sigma=(0.1, 2.0))"
    assert repr(T.Lambda(abs)) == "Lambda()"
    assert repr(T.Compose([T.ToTensor(), T.RandomHorizontalFlip()])) == (
        "Compose(\n    ToTensor()\n    RandomHorizontalFlip(p=0.5)\n)"
    )
    assert (
        repr(T.RandomApply([T.ToTensor()], p=0.3)) == "RandomApply(\n    p=0.3\n    ToTensor()\n)"
    )


# ----------------------------------------------------------------------- determinism, batches
def test_pipeline_repeats_under_manual_seed():
    pipeline = T.Compose(
        [
            T.RandomResizedCrop(12, scale=(0.3, 1.0)),
            T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
            T.RandomGrayscale(0.2),
            T.RandomRotation(15),
            T.ToTensor(),
            T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25)),
        ]
    )
    x = img_u8(16, 20, 3)
    gs.manual_seed(11)
    first = [pipeline(x).numpy() for _ in range(4)]
    gs.manual_seed(11)
    again = [pipeline(x).numpy() for _ in range(4)]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize("layout", ["nhw", "nhwc", "nchw"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: T.RandomHorizontalFlip(),
        lambda: T.RandomVerticalFlip(0.7),
        lambda: T.RandomCrop((5, 4), padding=(1, 2), fill=3),
        lambda: T.RandomCrop(7, padding=2, padding_mode="reflect"),
        lambda: T.RandomCrop(9, pad_if_needed=True),
        lambda: T.CenterCrop(4),
        lambda: T.Pad((1, 2, 3, 4), padding_mode="edge"),
        lambda: T.Resize((4, 9)),
    ],
)
def test_apply_batch_equals_per_image_under_the_same_seed(make, layout):
    base = img_u8(16, 7, 6, 3)
    batch = {
        "nhw": base[..., 0],
        "nhwc": base,
        "nchw": gs.tensor(base.transpose(0, 3, 1, 2).astype(np.float32) / 255),
    }[layout]
    t = make()
    gs.manual_seed(2)
    out = t.apply_batch(batch)
    gs.manual_seed(2)
    items = [arr(t(batch[i])) for i in range(16)]
    assert type(out) is type(batch)
    np.testing.assert_array_equal(arr(out), np.stack(items))


def test_apply_batch_of_to_tensor_normalize_and_compose():
    x = img_u8(8, 5, 6, 3)
    tt, nm = T.ToTensor(), T.Normalize((0.4, 0.5, 0.6), (0.2, 0.3, 0.4))
    out = T.Compose([tt, nm]).apply_batch(x)
    assert out.shape == (8, 3, 5, 6) and out.dtype == gs.float32 and out.is_contiguous()
    np.testing.assert_array_equal(out.numpy(), np.stack([nm(tt(v)).numpy() for v in x]))
    assert tt.apply_batch(x[..., 0]).shape == (8, 1, 5, 6)
    np.testing.assert_array_equal(tt.apply_batch(gs.tensor(x)).numpy(), tt.apply_batch(x).numpy())
    with pytest.raises(ValueError, match=r"apply_batch.*\(N, C, H, W\)"):
        nm.apply_batch(img_f32(3, 5, 6))

    # a CIFAR-style pipeline: each output is a flip or not of a window of the padded input
    pipe = T.Compose([T.RandomCrop(6, padding=1), T.RandomHorizontalFlip(), T.ToTensor()])
    gs.manual_seed(4)
    batch = pipe.apply_batch(x).numpy()
    assert batch.shape == (8, 3, 6, 6)
    for img, got in zip(x, batch, strict=True):
        padded = np.pad(img, ((1, 1), (1, 1), (0, 0))).transpose(2, 0, 1) / np.float32(255)
        windows = [padded[:, i : i + 6, j : j + 6] for i in range(2) for j in range(3)]
        assert any(np.allclose(got, w) or np.allclose(got, w[..., ::-1]) for w in windows)
    flips = T.RandomHorizontalFlip(0.5)
    gs.manual_seed(0)
    many = flips.apply_batch(np.repeat(IMG[None], 2000, axis=0))
    assert 900 < (many[:, 0, 0] == 3).sum() < 1100  # per-image draws, p = 0.5


def test_leading_dims_share_one_draw_and_import_is_lean():
    x = img_f32(4, 3, 6, 6)
    out = T.RandomHorizontalFlip(p=1.0)(x)  # (..., C, H, W): torchvision flips the whole stack
    np.testing.assert_array_equal(out.numpy(), x.numpy()[..., ::-1])
    code = (
        "import sys, gradschool.data.transforms; "
        "print(','.join(m for m in ('torch', 'scipy', 'PIL', 'tqdm') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == ""
