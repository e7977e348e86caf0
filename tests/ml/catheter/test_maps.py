"""The prediction's raster layers: the shot's aspect ratio at a small size, transparent where nothing is."""
import numpy as np

from ml.catheter.maps import TYPE_COLOURS, defect_layer, layer_size, saliency_layer


def test_layer_size_keeps_the_aspect_and_never_upscales():
    assert layer_size((1024, 512)) == (256, 128)
    assert layer_size((300, 900)) == (85, 256)
    assert layer_size((100, 50)) == (100, 50)


def test_defect_layer_colours_the_strongest_type_and_hides_the_background():
    maps = np.zeros((4, 64, 64), np.float32)
    maps[2, 10:20, 30:40] = 0.9     # an inclusion
    maps[0, 40:50, 5:15] = 0.03     # below the floor
    rgba = defect_layer(maps, (512, 256))
    assert rgba.shape == (128, 256, 4) and rgba.dtype == np.uint8
    inside = rgba[30, 140]          # map cell (15, 35) scaled to the 256 x 128 layer
    assert tuple(inside[:3]) == tuple(TYPE_COLOURS[2]) and inside[3] > 180
    assert rgba[..., 3][90:100, 10:30].max() == 0   # the weak echo stays transparent


def test_saliency_layer_is_opaque_where_the_gradient_is():
    sal = np.zeros((64, 64), np.float32)
    sal[32, 32] = 5.0
    sal[33, 33] = 4.0
    rgba = saliency_layer(sal, (200, 200))
    assert rgba.shape == (200, 200, 4)
    assert rgba[100, 100, 3] > rgba[10, 10, 3] and rgba[10, 10, 3] == 0
