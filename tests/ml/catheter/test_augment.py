import numpy as np
import pytest

from ml.catheter.augment import (FORBIDDEN_OPS, MAX_SMALL_ROTATION, AugmentationPolicy, ForbiddenAugmentation,
                                 _rotate, check_angle)


def _axial_scene(size=64):
    img = np.full((size, size, 3), 90, np.uint8)
    img[28:36, 6:58] = 200                        # the balloon: a horizontal bar
    masks = np.zeros((4, size, size), np.uint8)
    masks[0, 31:33, 14:50] = 1                    # an axial scratch
    return img, masks


def test_policy_never_rotates_by_90_or_270():
    policy = AugmentationPolicy(hflip=0.5, vflip=0.5, rot180=0.5, small_rotation_deg=MAX_SMALL_ROTATION,
                                small_rotation_p=1.0)
    img, masks = _axial_scene()
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(600):
        out, m, ops = policy(img, masks, rng)
        names = {name for name, _ in ops}
        seen |= names
        assert not names & set(FORBIDDEN_OPS)
        total = sum(v for name, v in ops if name in ("rot180", "small_rotation"))
        a = total % 180
        assert min(a, 180 - a) <= MAX_SMALL_ROTATION + 1e-6
        # the physics: the axial scratch stays axial (wide, not tall) and the balloon stays horizontal
        ys, xs = np.nonzero(m[0])
        assert xs.max() - xs.min() > 2 * (ys.max() - ys.min() + 1)      # a 90-degree turn gives < 0.1
        g = out[..., 0].astype(float)
        ys, xs = np.nonzero(g > (np.median(g) + g.max()) / 2)
        assert xs.max() - xs.min() > 2 * (ys.max() - ys.min() + 1)
    assert {"hflip", "vflip", "rot180", "small_rotation", "brightness", "contrast", "gamma"} <= seen


def test_forbidden_angles_rejected():
    img, masks = _axial_scene()
    for angle in (90, 270, -90, 45, 100):
        with pytest.raises(ForbiddenAugmentation):
            check_angle(angle)
        with pytest.raises(ForbiddenAugmentation):
            _rotate(img, masks, angle, MAX_SMALL_ROTATION)
    for angle in (0, 180, 5, -7, 185, 360):
        check_angle(angle)
    with pytest.raises(ForbiddenAugmentation):
        AugmentationPolicy(small_rotation_deg=90)


def test_rot180_is_both_flips():
    img, masks = _axial_scene()
    masks[1, 5:9, 40:42] = 1
    r_img, r_masks = _rotate(img, masks, 180.0, MAX_SMALL_ROTATION)
    assert np.array_equal(r_img, img[::-1, ::-1]) and np.array_equal(r_masks, masks[:, ::-1, ::-1])
