"""Binary morphology with the 3 x 3 square and the plus-shaped cross, by shifted boolean
operations on whole arrays.

scipy.ndimage's binary_erosion visits every pixel with its structuring element and took
a quarter of a detection's CPU time (1.3 of 5.5 s at 36 Mpx); these give the same
arrays (tests compare them) with a handful of vectorised ANDs and ORs. Other elements
(a larger disk) fall back to scipy.
"""

from __future__ import annotations

import numpy as np


def _shifted(mask: np.ndarray, border: bool) -> np.ndarray:
    """``mask`` padded by one pixel of ``border``."""
    return np.pad(mask, 1, constant_values=border)


def erode(mask: np.ndarray, square: bool = True, border: bool = False) -> np.ndarray:
    """Erosion by the 3 x 3 square (or the cross); outside the array counts as ``border``
    (scipy's ``border_value``)."""
    p = _shifted(mask, border)
    if square:  # separable: rows, then columns
        rows = p[:, :-2] & p[:, 1:-1] & p[:, 2:]
        return rows[:-2] & rows[1:-1] & rows[2:]
    return p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]


def dilate(mask: np.ndarray, square: bool = True) -> np.ndarray:
    """Dilation by the 3 x 3 square (or the cross); outside the array counts as empty."""
    p = _shifted(mask, False)
    if square:
        rows = p[:, :-2] | p[:, 1:-1] | p[:, 2:]
        return rows[:-2] | rows[1:-1] | rows[2:]
    return p[1:-1, 1:-1] | p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]


def opening(mask: np.ndarray) -> np.ndarray:
    """scipy's ``binary_opening`` with a 3 x 3 square: erosion (outside empty), dilation."""
    return dilate(erode(mask))


def geodesic_dilation(mask: np.ndarray, within: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` dilations by the 3 x 3 square, each kept inside ``within | mask`` (scipy's
    ``binary_dilation(mask, iterations=steps, mask=within)`` for a mask inside
    ``within``); stops early once nothing grows."""
    allowed = within | mask
    grown = mask
    for _ in range(steps):
        bigger = dilate(grown) & allowed
        if np.array_equal(bigger, grown):
            break
        grown = bigger
    return grown
